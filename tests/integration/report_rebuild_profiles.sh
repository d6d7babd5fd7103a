#!/usr/bin/env bash
# report_rebuild_profiles.sh - one end-of-run path for profiles: `loadctl report RUN_DIR` re-runs the same
# correlation as the live run. (1) A finished run against the demo shop (faults on, CPU + mutex profiles):
# the rebuilt summary.json has exactly the live findings, and the profile section is written again.
# (2) A run killed with kill -9 half way (no summary.json): the rebuild writes findings (the same as
# correlate_tool computes on the directory) and the profile section from the windows on disk.
# ctest: light cost=50 - CPU for the shop, but asserts only equal findings and files, no timing: may run beside light tests
set -euo pipefail
: "${LOADCTL:?}" "${LOADCTL_SRC:?}" "${LOADCTL_BUILD:?}"
command -v go >/dev/null || { echo "skip: no go toolchain for the demo shop"; exit 77; }
command -v jq >/dev/null || { echo "skip: no jq"; exit 77; }
TOOL=$LOADCTL_BUILD/correlate_tool
[ -x "$TOOL" ] || { echo "skip: $TOOL not built"; exit 77; }
WORK=$(mktemp -d /tmp/loadctl-rebuild-prof-XXXXXX)
port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
export SHOP_BIN=$LOADCTL_BUILD/shop SHOP_PIDFILE=$WORK/shop.pid SHOP_LOG=$WORK/shop.log SHOP_DURATION=120s
export SHOP_ADDR=127.0.0.1:$(port) SHOP_PPROF_ADDR=127.0.0.1:$(port)
pid=
cleanup() {
  [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null
  "$LOADCTL_SRC/scripts/shop" stop >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }
# same A B: the same findings, numbers equal to 9 significant digits (summary.json keeps 10)
same() {
  python3 - "$1" "$2" <<'PY'
import json, math, sys
def eq(a, b):
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=0)
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(eq(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(eq(x, y) for x, y in zip(a, b))
    return a == b
sys.exit(0 if eq(json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))) else 1)
PY
}
"$LOADCTL_SRC/scripts/shop" start --reindex-every=6s --reindex-for=2s >/dev/null

# (1) live vs rebuilt
set +e
timeout 120 "$LOADCTL" start "$LOADCTL_SRC/scenarios/checkout.lua" --duration 12s --users 20 --out "$WORK/live" \
  >"$WORK/live.out" 2>&1
rc=$?
set -e
[ "$rc" -eq 0 ] || [ "$rc" -eq 99 ] || { tail -20 "$WORK/live.out"; fail "loadctl start exited $rc"; }
jq -S '.findings' "$WORK/live/summary.json" >"$WORK/live-findings.json"
n=$(jq 'length' "$WORK/live-findings.json")
[ -s "$WORK/live/sections/50-profile.html" ] || fail "live run wrote no profile section"
rm "$WORK/live/sections/50-profile.html"
"$LOADCTL" report "$WORK/live" --no-index >/dev/null 2>"$WORK/report1.err" || fail "loadctl report: $(cat "$WORK/report1.err")"
jq -S '.findings' "$WORK/live/summary.json" >"$WORK/rebuilt-findings.json"
same "$WORK/live-findings.json" "$WORK/rebuilt-findings.json" ||
  { diff "$WORK/live-findings.json" "$WORK/rebuilt-findings.json" | head -40; fail "rebuilt findings differ from the live run's"; }
[ -s "$WORK/live/sections/50-profile.html" ] || fail "rebuild wrote no profile section"
grep -q 'id="profile"' "$WORK/live/report.html" || fail "rebuilt report.html has no profile section"
echo "finished run: $n finding(s), identical after loadctl report"

# (2) kill -9 half way, then rebuild
"$LOADCTL" start "$LOADCTL_SRC/scenarios/checkout.lua" --duration 60s --users 20 --out "$WORK/killed" \
  >"$WORK/killed.out" 2>&1 &
pid=$!
for _ in $(seq 150); do
  ok=$(grep -c '"status":"ok"' "$WORK/killed/profiles/index.jsonl" 2>/dev/null || true)
  [ "${ok:-0}" -ge 12 ] && break
  sleep 0.2
done
kill -9 "$pid"
wait "$pid" 2>/dev/null || true
pid=
[ ! -e "$WORK/killed/summary.json" ] || fail "summary.json exists before the rebuild"
windows=$(grep -c '"status":"ok"' "$WORK/killed/profiles/index.jsonl" || true)
[ "$windows" -ge 4 ] || fail "only $windows profile windows on disk after the kill"
"$LOADCTL" report "$WORK/killed" --no-index >/dev/null 2>"$WORK/report2.err" || fail "loadctl report: $(cat "$WORK/report2.err")"
jq -e '.findings | type == "array"' "$WORK/killed/summary.json" >/dev/null || fail "rebuilt summary.json has no findings array"
[ -s "$WORK/killed/sections/50-profile.html" ] || fail "no profile section after rebuilding the killed run"
"$TOOL" "$WORK/killed" | jq -S '.' >"$WORK/tool.json"
jq -S '.findings' "$WORK/killed/summary.json" >"$WORK/killed-findings.json"
same "$WORK/tool.json" "$WORK/killed-findings.json" ||
  { diff "$WORK/tool.json" "$WORK/killed-findings.json" | head -40; cat "$WORK/report2.err"; fail "rebuilt findings differ from correlate_tool's on the same directory"; }
echo "ok: killed run ($windows profile windows) rebuilt with $(jq 'length' "$WORK/killed-findings.json") finding(s) and its profile section"
