#!/usr/bin/env bash
# accuracy_short.sh - a short subset of bench/accuracy (tests/targets/faults/), each target run once:
# the shared-helper fault seen through percent-encoded baggage labels (labels_encoded: the helper
# variant's service and fault, so one run asserts both the helper rule and the decoding), one background
# window fault and the busier no-fault control (control_busy: a shared helper every request and a
# background job keep busy, and a natural tail), 15 s each. Asserts: each planted fault named at rank 1
# and no finding on the control.
# First, always: the scorer (bench/accuracy.py) on fixed findings (a window outside the planted spans and
# a shared helper are false; a manifest naming a shared helper is refused; a window fault's signal from
# the intervals its spans fall in; --repeat's hits, median rank and recall range over fixed runs), so the
# test checks its own yardstick, and `loadctl check` on every variant's scenario with its manifest's target.env.
# ACCURACY_STRICT=1 makes a missed fault a failure. Unset, a missed fault prints the table and skips
# (77): on this shared 2-core machine the window variant (periodic) misses when the host itself is so
# overloaded that the target gets little CPU (at load average >= 14: 1 of 7 corpus runs, and a 15 s subset
# run), which is not a fault of the change under test; the other three met it in every run (issue 14).
set -euo pipefail
: "${LOADCTL:?}" "${LOADCTL_SRC:?}" "${LOADCTL_BUILD:?}"
command -v go >/dev/null || { echo "skip: no go toolchain for the corpus targets"; exit 77; }
command -v python3 >/dev/null || { echo "skip: no python3 for bench/accuracy"; exit 77; }
command -v curl >/dev/null || { echo "skip: no curl"; exit 77; }
WORK=$(mktemp -d /tmp/loadctl-accuracy-short-XXXXXX)
trap 'rm -rf "$WORK"' EXIT
SCORE=$LOADCTL_SRC/bench/accuracy.py
CORPUS=$LOADCTL_SRC/tests/targets/faults
fail() { echo "FAIL: $*"; exit 1; }

# --- the scorer on fixed findings: helper (true at rank 2 under one false), periodic (window in ms
# overlapping the planted span), control (one false finding)
mkdir -p "$WORK/fix/helper" "$WORK/fix/periodic" "$WORK/fix/control"
cat >"$WORK/fix/helper/findings.json" <<'J'
[{"kind":"tail","request":"POST /api/orders","function":"main.mix","window":null},
 {"kind":"endpoint","request":"POST /api/orders","function":"main.fraudCheck","window":null},
 {"kind":"tail","request":"GET /api/products","function":"main.fraudCheck","window":null}]
J
cat >"$WORK/fix/periodic/findings.json" <<'J'
[{"kind":"window","request":null,"function":"main.(*searchSvc).compactIndex","window":[[1000,1001],[1700005000,1700006000]]},
 {"kind":"window","request":null,"function":"main.(*searchSvc).compactIndex","window":[1700009000000,1700010000000]}]
J
echo '{"spans":[[1700009500.5,1700009502.5]]}' >"$WORK/fix/periodic/faults.json"
echo '{"spans":[],"faulty_requests":12}' >"$WORK/fix/helper/faults.json"
echo '[{"kind":"window","request":null,"function":"main.mix","window":[1,2]}]' >"$WORK/fix/control/findings.json"
python3 "$SCORE" score "$CORPUS" "$WORK/fix" --json "$WORK/fix.json" helper periodic control >"$WORK/fix.txt"
got=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); v={r["variant"]: r for r in d["variants"]}; s=d["summary"]
print(v["helper"]["rank"], v["helper"]["false_above"], v["periodic"]["rank"], v["periodic"]["true"], s["rank1"], s["true_findings"], s["findings"], s["control_findings"])' "$WORK/fix.json")
[ "$got" = "2 1 2 1 0 2 6 1" ] || { cat "$WORK/fix.txt"; fail "scorer on fixed findings: got '$got', want '2 1 2 1 0 2 6 1'"; }
mkdir -p "$WORK/fix2/wait_dep" && echo '[]' >"$WORK/fix2/wait_dep/findings.json" # no faults.json
if python3 "$SCORE" score "$CORPUS" "$WORK/fix2" wait_dep >"$WORK/fix2.txt"; then
  cat "$WORK/fix2.txt"; fail "a variant whose planted fault never ran was scored as a run"
fi
grep -q 'planted fault did not run' "$WORK/fix2.txt" || { cat "$WORK/fix2.txt"; fail "no 'did not run' row"; }
# a finding whose window lies outside the planted spans is false, whatever it names; so is a helper
mkdir -p "$WORK/fix3/gcjob"
echo '{"spans":[[1700009500.5,1700009502.5]]}' >"$WORK/fix3/gcjob/faults.json"
cat >"$WORK/fix3/gcjob/findings.json" <<'J'
[{"kind":"window","request":null,"function":"main.(*sessionStore).exportSnapshot","window":[[1700009100,1700009102]]},
 {"kind":"alloc","request":null,"function":"main.(*sessionStore).exportSnapshot","window":[1700009200,1700009201]},
 {"kind":"window","request":null,"function":"main.mix","window":[1700009500,1700009502]},
 {"kind":"alloc","request":null,"function":"main.(*sessionStore).exportSnapshot","window":[1700009501,1700009503]}]
J
python3 "$SCORE" score "$CORPUS" "$WORK/fix3" --json "$WORK/fix3.json" gcjob >"$WORK/fix3.txt"
got=$(python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["variants"][0]; print(r["rank"], r["false_above"], r["true"])' "$WORK/fix3.json")
[ "$got" = "4 3 1" ] || { cat "$WORK/fix3.txt"; fail "scorer on windows outside the spans: got '$got', want '4 3 1'"; }
grep -q '^at rank 4: gcjob' "$WORK/fix3.txt" || { cat "$WORK/fix3.txt"; fail "no line for the variant not named at rank 1"; }
# a window fault's signal: an interval's t is its start, so a 0.4 s stall at 500.2 s is the interval
# [500, 501] (p99 100 ms against 10 elsewhere: 10x); read as its end, the stall's interval looks clean (1x)
mkdir -p "$WORK/fix4/cache_evict/run"
echo '{"spans":[[1700009500.2,1700009500.6]]}' >"$WORK/fix4/cache_evict/faults.json"
echo '[]' >"$WORK/fix4/cache_evict/findings.json"
for t in $(seq 1700009495 1700009505); do
  p99=10 && [ "$t" = 1700009500 ] && p99=100
  echo "{\"t\":${t}000,\"interval_ms\":1000,\"name\":\"(all)\",\"count\":80,\"p50_ms\":1,\"p99_ms\":$p99}"
done >"$WORK/fix4/cache_evict/run/intervals.jsonl"
python3 "$SCORE" score "$CORPUS" "$WORK/fix4" --json "$WORK/fix4.json" cache_evict >"$WORK/fix4.txt"
got=$(python3 -c 'import json,sys; s=json.load(open(sys.argv[1]))["variants"][0]["signal"]; print(s[0].replace(" ", "_"), round(s[1], 1))' "$WORK/fix4.json")
[ "$got" = "spans_p99 10.0" ] || { cat "$WORK/fix4.txt"; fail "window signal of a stall in one interval: got '$got', want 'spans_p99 10.0'"; }
# --repeat's summary over three runs of helper: rank 2, rank 1, not run (a miss): 1/3 hits, median rank 2,
# recall 0 %, 100 %, 0 % (mean 33 %)
mkdir -p "$WORK/rep/run1" "$WORK/rep/run2/helper" "$WORK/rep/run3/helper"
cp -a "$WORK/fix/helper" "$WORK/rep/run1/"
cp "$WORK/fix/helper/faults.json" "$WORK/rep/run2/helper/"
echo '[{"kind":"tail","request":"POST /api/orders","function":"main.fraudCheck","window":null}]' \
  >"$WORK/rep/run2/helper/findings.json"
python3 "$SCORE" repeat "$CORPUS" --json "$WORK/rep.json" "$WORK"/rep/run{1,2,3} -- helper >"$WORK/rep.txt" &&
  fail "repeat: a run that did not run the variant was not reported"
got=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); v=d["variants"]["helper"]; s=d["summary"]
print(v["hits"], v["runs"], v["median_rank"], round(s["recall_mean"], 2), s["recall_min"], s["recall_max"], s["errors"])' "$WORK/rep.json")
[ "$got" = "1 3 2 0.33 0.0 1.0 1" ] || { cat "$WORK/rep.txt"; fail "repeat over fixed runs: got '$got', want '1 3 2 0.33 0.0 1.0 1'"; }
grep -q '^recall over 3 runs: mean 33% (range 0%-100%' "$WORK/rep.txt" || { cat "$WORK/rep.txt"; fail "no recall line over the runs"; }
mkdir -p "$WORK/badcorpus/helper"
sed 's/"main.fraudCheck"/"main.mix"/' "$CORPUS/helper/manifest.json" >"$WORK/badcorpus/helper/manifest.json"
if python3 "$SCORE" manifest "$WORK/badcorpus" helper >"$WORK/bad.txt" 2>&1; then
  fail "a manifest whose answer names the shared helper main.mix was accepted"
fi
grep -q 'shared helper main.mix' "$WORK/bad.txt" || { cat "$WORK/bad.txt"; fail "no message naming the shared helper"; }
echo "ok: the scorer ranks fixed findings as expected and refuses a run without its fault"

# --- every variant's scenario, with its manifest's parameters (target.env), passes loadctl check
nvar=0
python3 "$SCORE" scenarios "$CORPUS" >"$WORK/scenarios.tsv" || fail "accuracy.py scenarios $CORPUS failed"
while IFS=$'\t' read -r -a launch; do
  v=${launch[0]}
  scen=$LOADCTL_SRC/${launch[1]} envs=(--env "FAULTS_VARIANT=$v")
  [ "${launch[1]}" = scenario.lua ] && scen=$CORPUS/$v/scenario.lua
  for kv in "${launch[@]:2}"; do envs+=(--env "$kv"); done
  out=$("$LOADCTL" check "$scen" "${envs[@]}" 2>&1) || fail "$v: loadctl check ${scen#"$LOADCTL_SRC"/} ${envs[*]}: $out"
  nvar=$((nvar + 1))
done <"$WORK/scenarios.tsv"
[ "$nvar" -ge 41 ] || fail "only $nvar corpus variants found under $CORPUS (want 41)"
echo "ok: the scenarios of all $nvar corpus variants pass loadctl check with their parameters"

# --- the short corpus run
rc=0
LOADCTL_BUILD=$LOADCTL_BUILD LOADCTL=$LOADCTL "$LOADCTL_SRC/bench/accuracy" --duration "${ACCURACY_DURATION:-15s}" \
  --keep "$WORK/runs" --json "$WORK/acc.json" labels_encoded periodic control_busy || rc=$?
[ "$rc" -eq 0 ] || { for f in "$WORK"/runs/*/error.json; do [ -f "$f" ] && echo "$f: $(cat "$f")"; done; \
  for f in "$WORK"/runs/*/target.log; do tail -3 "$f"; done; fail "bench/accuracy exited $rc (a variant did not run)"; }
bad=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1]))
for r in d["variants"]:
    v, n, rank = r["variant"], r["findings"], r["rank"]
    if r["control"] and n: print("%s: %d findings on the control" % (v, n))
    if not r["control"] and rank != 1: print("%s: planted fault %s" % (v, "at rank %d" % rank if rank else "missed"))' \
  "$WORK/acc.json")
if [ -z "$bad" ]; then
  echo "ok: every planted fault named at rank 1, no finding on the control"
  exit 0
fi
echo "$bad"
if [ -n "${ACCURACY_STRICT:-}" ]; then fail "the corpus subset is not met (ACCURACY_STRICT is set)"; fi
echo "skip: a planted fault was missed (table above); on a loaded shared machine the window variant can miss" \
  "when the host starves the target (issue 14, docs/profiling.md); set ACCURACY_STRICT=1 to make this a failure"
exit 77
