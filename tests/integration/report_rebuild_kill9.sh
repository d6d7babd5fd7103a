#!/usr/bin/env bash
# report_rebuild_kill9.sh - a run killed with kill -9 leaves a directory `loadctl report` rebuilds up to
# its last full interval: summary.json, CSVs and report.html, with counts equal to the complete
# intervals on disk. Uses mkrun (the real rundir writer, one interval per 100 ms); with a working
# `loadctl start` and the demo target it would be the same directory layout.
# ctest: light - little CPU and no timing-sensitive assertion: may run beside another light test
set -u
BUILD=${LOADCTL_BUILD:?}
LOADCTL=${LOADCTL:?}
work=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill -9 $pid 2>/dev/null; rm -rf "$work"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

"$BUILD/mkrun" "$work/run" --intervals 200 --slow > "$work/out.txt" &
pid=$!
for _ in $(seq 50); do [ "$(grep -c interval "$work/out.txt")" -ge 8 ] && break; sleep 0.1; done
kill -9 $pid
wait $pid 2>/dev/null
pid=
[ ! -e "$work/run/summary.json" ] || fail "summary.json exists before the rebuild"
# also cut the last line in half, as a crash mid-write would
size=$(stat -c %s "$work/run/intervals.jsonl")
truncate -s $((size - 30)) "$work/run/intervals.jsonl"
"$LOADCTL" report "$work/run" --no-index > "$work/report.out" 2> "$work/report.err" || fail "loadctl report: $(cat "$work/report.err")"
grep -q "truncated" "$work/report.err" || fail "did not say the last line was truncated: $(cat "$work/report.err")"
for f in summary.json stats.csv failures.csv stats_history.csv report.html; do [ -s "$work/run/$f" ] || fail "$f missing"; done
python3 - "$work/run" <<'PY' || fail "numbers"
import json, sys
d = sys.argv[1]
full = []
for line in open(d + "/intervals.jsonl"):
    try: o = json.loads(line)
    except ValueError: continue
    if o["name"] == "(all)": full.append(o)
s = json.load(open(d + "/summary.json"))
want = sum(o["count"] for o in full)
got = s["totals"]["requests"]
assert len(full) >= 7, "only %d full intervals" % len(full)
assert got == want, "summary says %d requests, complete intervals hold %d" % (got, want)
assert abs(s["totals"]["duration_s"] - len(full)) < 1e-9, s["totals"]["duration_s"]
assert [r["name"] for r in s["requests"]] == ["GET /api/books", "POST /api/orders", "GET /health"]
print("ok: %d intervals, %d requests rebuilt" % (len(full), got))
PY
# a directory that is not a run
mkdir "$work/empty"
"$LOADCTL" report "$work/empty" 2> "$work/err2" && fail "report on a non-run dir succeeded"
grep -q "not a run directory" "$work/err2" || fail "no clear message: $(cat "$work/err2")"
echo ok
