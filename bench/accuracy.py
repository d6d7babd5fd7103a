#!/usr/bin/env python3
"""accuracy.py - scores loadctl's findings against the fault corpus's manifests (bench/accuracy runs it).

  accuracy.py manifest CORPUS VARIANT          print the target's flags (one a line), check the manifest
  accuracy.py launch CORPUS VARIANT            print the target's command (a path from the repo root, or
      "faultsvc"), its scenario (a path from the repo root, or "scenario.lua" of the variant's folder) and
      the server that has /debug/faults ("admin" or "addr"), one a line, then one NAME=VALUE line per
      target.env entry (the scenario's parameters, passed as --env; {addr} and {admin} in a value stand
      for the target's two addresses): target.command, target.scenario, target.faults_on, target.env
  accuracy.py scenarios CORPUS                  every variant with a manifest, one a line: its name, its
      scenario (as launch prints it) and its target.env NAME=VALUE entries, tab-separated (one process
      for the whole corpus: tests/integration/accuracy_short.sh checks every scenario with it)
  accuracy.py score CORPUS WORK [--json FILE] VARIANT...
      WORK/<variant>/findings.json (loadctl's findings array) and WORK/<variant>/faults.json (the
      target's /debug/faults: planted spans) against CORPUS/<variant>/manifest.json; prints the table.
      Exits 1 when a variant did not run (no findings, or its planted fault never ran).
  accuracy.py repeat CORPUS [--json FILE] WORK1 WORK2 ... -- VARIANT...
      the same variants run N times (bench/accuracy --repeat N: one WORK folder per run, each scored as
      above): per variant how many runs named its fault at rank 1 (k/N), its median rank (a miss counts
      as worse than any rank; for even N the worse middle one) and its false findings above the true one per run; then the mean recall
      over the runs with its range (the lowest and highest run). A run that did not run a variant counts
      as a miss of it, never as a hit. Exits 1 when some variant did not run in some run.

A finding names the planted fault when it matches one of the manifest's answers (alternatives: each
variant plants one fault): its function is in answer.functions, its kind in answer.kinds, its request
equals answer.request when given, and, when answer.window is true or the finding has a window and the
target recorded planted spans, one of its window spans overlaps a planted span (a finding whose window
lies outside the fault's seconds is false, whatever it names). Windows may be [t0, t1] or [[t0, t1], ...], in
unix seconds or milliseconds. A manifest whose answers name one of the corpus's shared helpers
(SHARED_HELPERS) is refused: a finding that names a helper every request calls is never the answer.
"""
import json
import os
import sys


# the helpers the corpus's services share between their faulty and their typical paths (hash.go,
# inventory.go, faultnative.c, the pyshop's pricing): never an answer on their own
SHARED_HELPERS = {"main.mix", "main.checksum", "main.rowDigest", "blend", "pyshop.pricing.digest"}


def die(msg):
    print("accuracy: " + msg, file=sys.stderr)
    sys.exit(2)


def load_manifest(corpus, variant):
    path = os.path.join(corpus, variant, "manifest.json")
    try:
        with open(path) as f:
            m = json.load(f)
    except OSError as e:
        die(f"{path}: {e.strerror}")
    except json.JSONDecodeError as e:
        die(f"{path}:{e.lineno}: {e.msg}")
    need = {"name": str, "description": str, "control": bool, "answers": list, "target": dict}
    for k, t in need.items():
        if not isinstance(m.get(k), t):
            die(f"{path}: '{k}' missing or not a {t.__name__}")
    if m["name"] != variant:
        die(f"{path}: name '{m['name']}' is not the folder's name '{variant}'")
    if m["control"] != (not m["answers"]):
        die(f"{path}: a control has no answers; a fault variant has at least one")
    for i, a in enumerate(m["answers"]):
        if not a.get("functions") or not a.get("kinds"):
            die(f"{path}: answers[{i}] needs non-empty 'functions' and 'kinds'")
        shared = SHARED_HELPERS.intersection(a["functions"])
        if shared:
            die(f"{path}: answers[{i}] names the shared helper {sorted(shared)[0]}, which is never the answer")
    if not isinstance(m["target"].get("args"), list):
        die(f"{path}: target.args must be a list of flags")
    for k in ("command", "scenario"):
        if k in m["target"] and not isinstance(m["target"][k], str):
            die(f"{path}: target.{k} must be a path from the repository root")
    env = m["target"].get("env", {})
    if not isinstance(env, dict) or not all(isinstance(k, str) and k.isidentifier() and isinstance(v, str)
                                            for k, v in env.items()):
        die(f"{path}: target.env must map NAME to a string VALUE (passed to the scenario as --env NAME=VALUE)")
    if m["target"].get("faults_on", "admin") not in ("admin", "addr"):
        die(f"{path}: target.faults_on must be \"admin\" or \"addr\"")
    return m


def seconds(t):
    return t / 1000.0 if t > 1e11 else float(t)


def spans(window):
    """A finding's window as a list of (t0, t1) in seconds."""
    if not window:
        return []
    if isinstance(window[0], (int, float)):
        window = [window]
    return [(seconds(w[0]), seconds(w[1])) for w in window if len(w) == 2]


def matches(f, answers, planted):
    for a in answers:
        if f.get("function") not in a["functions"] or f.get("kind") not in a["kinds"]:
            continue
        if a.get("request") is not None and f.get("request") != a["request"]:
            continue
        if a.get("window") or (spans(f.get("window")) and planted):
            if not any(f0 <= p1 and p0 <= f1 for f0, f1 in spans(f.get("window")) for p0, p1 in planted):
                continue
        return True
    return False


def read_json(path, default=None):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, json.JSONDecodeError):
        return default


def median(xs):
    xs = sorted(xs)
    return xs[len(xs) // 2] if xs else None


def signal(run, answers, planted):
    """How plainly the fault shows in latency, whatever the profiles say: for a request fault that
    request's p99/p50; for a window fault the median per-second p99 (all requests) in the seconds
    that overlap a planted span over the median in the others, or the same of the p50 when that is
    larger (on a saturated host every second's p99 is the host's stalls, while a fault that slows every
    request still lifts the p50). None when it cannot be computed."""
    a = answers[0] if answers else {}
    if a.get("request"):
        for r in (read_json(os.path.join(run, "summary.json"), {}) or {}).get("requests", []):
            if r.get("name") == a["request"] and r.get("p50_ms"):
                return ("p99/p50", r["p99_ms"] / r["p50_ms"])
        return None
    if not a.get("window") or not planted:
        return None
    inside, outside = {"p99": [], "p50": []}, {"p99": [], "p50": []}
    try:
        with open(os.path.join(run, "intervals.jsonl")) as f:
            for line in f:
                i = json.loads(line)
                if i.get("name") != "(all)" or not i.get("count"):
                    continue
                t0 = i["t"] / 1000.0  # an interval's t is its start (common/rundir.c)
                t1 = t0 + i.get("interval_ms", 1000) / 1000.0
                hit = any(t0 < p1 and p0 < t1 for p0, p1 in planted)
                for q in ("p99", "p50"):
                    (inside if hit else outside)[q].append(i[q + "_ms"])
    except (OSError, json.JSONDecodeError, KeyError, TypeError):
        return None
    best = None
    for q in ("p99", "p50"):
        m_in, m_out = median(inside[q]), median(outside[q])
        if m_in is not None and m_out and (best is None or m_in / m_out > best[1]):
            best = ("spans " + q, m_in / m_out)
    return best


def score_variant(corpus, work, v):
    m = load_manifest(corpus, v)
    row = {"variant": v, "fault": m["description"], "control": m["control"], "rank": None,
           "false_above": 0, "findings": 0, "true": 0, "top": "", "error": None}
    findings = read_json(os.path.join(work, v, "findings.json"))
    if not isinstance(findings, list):
        row["error"] = (read_json(os.path.join(work, v, "error.json"), {}) or {}).get("error", "no findings.json")
        return row
    faults = read_json(os.path.join(work, v, "faults.json"), {}) or {}
    planted = [(s[0], s[1]) for s in faults.get("spans", [])]
    if not m["control"] and not planted and not faults.get("faulty_requests"):
        row["error"] = "the planted fault did not run (faults.json: no span, no faulty request)"
        return row
    row["planted_spans"] = planted
    row["signal"] = signal(os.path.join(work, v, "run"), m["answers"], planted)
    row["findings"] = len(findings)
    if findings:
        f = findings[0]
        row["top"] = f"{f.get('kind')} {f.get('function')}" + (f" [{f['request']}]" if f.get("request") else "")
    row["scored"] = []  # for --json: each finding, short, with whether it names the fault
    for i, f in enumerate(findings):
        ok = matches(f, m["answers"], planted)
        row["scored"].append({"kind": f.get("kind"), "function": f.get("function"),
                              "request": f.get("request"), "window": f.get("window"), "names_fault": ok})
        if ok:
            row["true"] += 1
            if row["rank"] is None:
                row["rank"] = i + 1
                row["false_above"] = i
    if row["rank"] is None:
        row["false_above"] = len(findings)
    return row


def table(rows):
    out = [f"{'variant':<19} {'planted fault':<44} {'signal':>16} {'rank':>6} {'false>':>6} {'found':>5}  top finding"]
    for r in rows:
        fault = r["fault"] if len(r["fault"]) <= 44 else r["fault"][:43] + "~"
        if r["error"]:
            rank = "error"
        elif r["control"]:
            rank = "-"
        else:
            rank = str(r["rank"]) if r["rank"] else "missed"
        above = "-" if r["control"] or r["error"] else str(r["false_above"])
        top = r["error"] if r["error"] else r["top"]
        sig = f"{r['signal'][0]} {r['signal'][1]:.1f}x" if r.get("signal") else "-"
        out.append(f"{r['variant']:<19} {fault:<44} {sig:>16} {rank:>6} {above:>6} {r['findings']:>5}  {top}")
    faults = [r for r in rows if not r["control"]]
    controls = [r for r in rows if r["control"]]
    at1 = sum(1 for r in faults if r["rank"] == 1)
    total = sum(r["findings"] for r in rows)
    true = sum(r["true"] for r in rows)
    summary = {
        "faults": len(faults), "rank1": at1, "recall": at1 / len(faults) if faults else None,
        "findings": total, "true_findings": true, "precision": true / total if total else None,
        "false_above_true": sum(1 for r in faults if r["rank"] and r["false_above"] > 0),
        "control_findings": sum(r["findings"] for r in controls) if controls else None,
        "errors": sum(1 for r in rows if r["error"]),
    }
    pct = lambda x: "n/a" if x is None else f"{100 * x:.0f}%"
    out.append("")
    out.append(f"recall: {at1}/{len(faults)} planted faults named at rank 1 ({pct(summary['recall'])})")
    out.append(f"precision: {true}/{total} findings name a planted fault ({pct(summary['precision'])})")
    out.append(f"variants with a false finding above the true one: {summary['false_above_true']}")
    out.append("findings on the control: " +
               ("not run" if summary["control_findings"] is None else str(summary["control_findings"])))
    for r in faults:
        if not r["error"] and r["rank"] != 1:
            sig = f"{r['signal'][0]} {r['signal'][1]:.1f}x" if r.get("signal") else "no signal"
            where = f"at rank {r['rank']}" if r["rank"] else "missed"
            out.append(f"{where}: {r['variant']} ({sig}); top finding: {r['top'] or 'none'}")
    if summary["errors"]:
        out.append(f"variants that did not run: {summary['errors']}")
    return "\n".join(out), summary


def median_rank(ranks):
    """The median of a variant's ranks over N runs, a miss (None) counting as worse than any rank; for
    even N the worse of the two middle ranks, so one hit in two runs is a median of "missed" (rank 1 and 2:
    2). None when the median run missed."""
    ordered = sorted(ranks, key=lambda r: float("inf") if r is None else r)
    return ordered[len(ordered) // 2] if ordered else None


def repeat(corpus, works, variants):
    """Per variant over the runs in works: hits at rank 1, median rank, false findings above; the
    recall of each run. Returns (text, summary)."""
    runs = [[score_variant(corpus, w, v) for v in variants] for w in works]
    n = len(works)
    out = [f"{'variant':<19} {'rank 1':>7} {'median rank':>11} {'ranks per run':<24} false findings above per run"]
    per = {}
    for i, v in enumerate(variants):
        rows = [run[i] for run in runs]
        if rows[0]["control"]:
            found = [r["findings"] if not r["error"] else None for r in rows]
            per[v] = {"control": True, "findings": found}
            out.append(f"{v:<19} {'-':>7} {'-':>11} {'(control)':<24} findings per run: "
                       + " ".join("err" if f is None else str(f) for f in found))
            continue
        ranks = [None if r["error"] else r["rank"] for r in rows]
        hits = sum(1 for r in ranks if r == 1)
        med = median_rank(ranks)
        above = [None if r["error"] else r["false_above"] for r in rows]
        per[v] = {"control": False, "hits": hits, "runs": n, "ranks": ranks, "median_rank": med,
                  "false_above": above, "errors": sum(1 for r in rows if r["error"])}
        shown = " ".join("err" if r["error"] else (str(r["rank"]) if r["rank"] else "-") for r in rows)
        out.append(f"{v:<19} {f'{hits}/{n}':>7} {str(med) if med else 'missed':>11} {shown:<24} "
                   + " ".join("err" if a is None else str(a) for a in above))
    faults = [v for v in variants if not per[v]["control"]]
    recalls = [sum(1 for i, v in enumerate(variants) if not per[v]["control"] and run[i]["rank"] == 1 and
                   not run[i]["error"]) / len(faults) for run in runs] if faults else []
    summary = {"runs": n, "faults": len(faults), "recall_per_run": recalls,
               "recall_mean": sum(recalls) / len(recalls) if recalls else None,
               "recall_min": min(recalls) if recalls else None, "recall_max": max(recalls) if recalls else None,
               "all_runs_hit": sum(1 for v in faults if per[v]["hits"] == n),
               "no_run_hit": sum(1 for v in faults if per[v]["hits"] == 0),
               "errors": sum(1 for run in runs for r in run if r["error"])}
    out.append("")
    if recalls:
        out.append(f"recall over {n} runs: mean {100 * summary['recall_mean']:.0f}% (range "
                   f"{100 * summary['recall_min']:.0f}%-{100 * summary['recall_max']:.0f}%; per run: "
                   + " ".join(f"{100 * r:.0f}%" for r in recalls) + ")")
        out.append(f"named at rank 1 in every run: {summary['all_runs_hit']}/{len(faults)}; "
                   f"in no run: {summary['no_run_hit']}/{len(faults)}")
    if summary["errors"]:
        out.append(f"variant runs that did not run: {summary['errors']} (counted as misses)")
    return "\n".join(out), {"variants": per, "summary": summary}


def main(argv):
    if len(argv) >= 3 and argv[0] == "manifest":
        m = load_manifest(argv[1], argv[2])
        for arg in m["target"]["args"]:
            print(arg)
        return 0
    if len(argv) >= 3 and argv[0] == "launch":
        t = load_manifest(argv[1], argv[2])["target"]
        print(t.get("command", "faultsvc"), t.get("scenario", "scenario.lua"), t.get("faults_on", "admin"), sep="\n")
        for k, v in sorted(t.get("env", {}).items()):
            print(f"{k}={v}")
        return 0
    if len(argv) == 2 and argv[0] == "scenarios":
        for v in sorted(os.listdir(argv[1])):
            if os.path.isfile(os.path.join(argv[1], v, "manifest.json")):
                t = load_manifest(argv[1], v)["target"]
                env = [f"{k}={x}" for k, x in sorted(t.get("env", {}).items())]
                print("\t".join([v, t.get("scenario", "scenario.lua")] + env))
        return 0
    if len(argv) >= 3 and argv[0] == "score":
        corpus, work, rest = argv[1], argv[2], argv[3:]
        jpath = None
        if rest[:1] == ["--json"]:
            if len(rest) < 2:
                die("--json needs a file")
            jpath, rest = rest[1], rest[2:]
        rows = [score_variant(corpus, work, v) for v in rest]
        text, summary = table(rows)
        print(text)
        if jpath:
            with open(jpath, "w") as f:
                json.dump({"variants": rows, "summary": summary}, f, indent=1)
        return 1 if summary["errors"] else 0
    if len(argv) >= 2 and argv[0] == "repeat":
        corpus, rest, jpath = argv[1], argv[2:], None
        if rest[:1] == ["--json"]:
            if len(rest) < 2:
                die("--json needs a file")
            jpath, rest = rest[1], rest[2:]
        if "--" not in rest:
            die("repeat: want WORK... -- VARIANT...")
        works, variants = rest[:rest.index("--")], rest[rest.index("--") + 1:]
        if not works or not variants:
            die("repeat: want at least one WORK folder and one variant")
        text, result = repeat(corpus, works, variants)
        print(text)
        if jpath:
            with open(jpath, "w") as f:
                json.dump(result, f, indent=1)
        return 1 if result["summary"]["errors"] else 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
