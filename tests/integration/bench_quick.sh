#!/usr/bin/env bash
# bench_quick.sh - bench/run --quick works end to end on a short budget: nginx pinned to a core, wrk and
# loadctl (both backends) for 1 s each, the table printed with figures parsed from each tool, and a
# loadctl row per backend with numbers (or, while the engine is not built, a row saying so).
set -uo pipefail
LOADCTL=${LOADCTL:?}
SRC=${LOADCTL_SRC:?}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
for tool in nginx wrk taskset python3; do
  command -v $tool >/dev/null || { echo "SKIP: $tool not installed"; exit 77; }
done
LOADCTL=$LOADCTL BENCH_DURATION=1 BENCH_JSON=$TMP/bench.jsonl timeout 300 "$SRC/bench/run" --quick \
  --only wrk,loadctl-h1,loadctl-curl > "$TMP/out" 2> "$TMP/err"
rc=$?
cat "$TMP/out"
[ $rc -eq 0 ] || { echo "FAIL: bench/run exited $rc"; tail -20 "$TMP/err"; exit 1; }
grep -q '^tool .*h1/tool' "$TMP/out" || { echo "FAIL: no table header"; exit 1; }
python3 - "$TMP/bench.jsonl" "$LOADCTL" <<'PY'
import json, subprocess, sys
rows = {r["tool"]: r for r in map(json.loads, open(sys.argv[1])) if "tool" in r}
fail = []
wrk = rows.get("wrk")
if not wrk or not wrk["rps"] or wrk["rps"] < 1000 or not (0 < (wrk["p50_ms"] or 0) <= (wrk["p99_ms"] or 0)):
    fail.append("wrk row without sane figures: %s" % wrk)
for name in ("loadctl h1", "loadctl curl"):
    r = rows.get(name)
    if r is None:
        fail.append("no row for %s" % name)
    elif r["rps"] is None and "not built" not in r["note"]:
        fail.append("%s has no figures: %s" % (name, r["note"] or "and no reason"))
    elif r["rps"] is not None and r["rps"] <= 0:
        fail.append("%s rps %s" % (name, r["rps"]))
    else:
        print("ok   %s: %s" % (name, ("%.0f rps" % r["rps"]) if r["rps"] else r["note"]))
for f in fail: print("FAIL:", f)
sys.exit(1 if fail else 0)
PY
