#!/usr/bin/env bash
# report_cli.sh - the CLI around reports: thresholds exit codes 0/99 and --junit; compare verdicts and
# --fail-on-regression 99; history lists runs and the p99 trend; bad input says what is wrong.
# ctest: light - little CPU and no timing-sensitive assertion: may run beside another light test
set -u
BUILD=${LOADCTL_BUILD:?}
LOADCTL=${LOADCTL:?}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
runs="$work/runs"
mkdir -p "$runs"

"$BUILD/mkrun" "$runs/a" --intervals 10 >/dev/null; rc=$?
[ $rc -eq 0 ] || fail "passing thresholds gave $rc"
"$BUILD/mkrun" "$runs/b" --intervals 10 --slowdown 3 --threshold 'p99{name=POST /api/orders} < 250ms' >/dev/null; rc=$?
[ $rc -eq 99 ] || fail "failing threshold gave $rc, want 99"
"$LOADCTL" report "$runs/a" --quiet --fail-on-thresholds --junit "$work/a.xml"; rc=$?
[ $rc -eq 0 ] || fail "report a gave $rc"
grep -q 'tests="3" failures="0"' "$work/a.xml" || fail "junit a"
"$LOADCTL" report "$runs/b" --quiet --fail-on-thresholds --junit "$work/b.xml"; rc=$?
[ $rc -eq 99 ] || fail "report b --fail-on-thresholds gave $rc"
grep -q '<failure message="p99{name=POST /api/orders} &lt; 250ms (value' "$work/b.xml" || fail "junit b"

"$LOADCTL" compare "$runs/a" "$runs/a" > "$work/same.txt"; rc=$?
[ $rc -eq 0 ] || fail "compare a a gave $rc"
grep -q '^0 regression(s), 0 improvement(s)' "$work/same.txt" || fail "a vs a not same: $(cat "$work/same.txt")"
"$LOADCTL" compare "$runs/a" "$runs/b" --fail-on-regression > "$work/cmp.txt"; rc=$?
cat "$work/cmp.txt"
[ $rc -eq 99 ] || fail "compare --fail-on-regression gave $rc"
grep -q '^POST /api/orders  *regression' "$work/cmp.txt" || fail "no regression verdict"
grep -q 'data-status' "$runs/b/compare.html" || fail "compare.html"
"$LOADCTL" compare "$runs/b" "$runs/a" > "$work/imp.txt"; rc=$?
[ $rc -eq 0 ] || fail "compare without --fail-on-regression gave $rc"
grep -q '^GET /api/books  *improvement' "$work/imp.txt" || fail "no improvement verdict"
# errors x5 at the same latencies (same seed): POST /api/orders 3 % -> ~15 % is a regression on its
# error rate alone; GET /health (no errors) stays "same"
"$BUILD/mkrun" "$runs/e" --intervals 10 --errors 5 >/dev/null
"$LOADCTL" compare "$runs/a" "$runs/e" --fail-on-regression > "$work/err.txt"; rc=$?
cat "$work/err.txt"
[ $rc -eq 99 ] || fail "compare of an error-rate jump gave $rc, want 99"
grep -q '^POST /api/orders  *regression' "$work/err.txt" || fail "error-rate jump is not a regression"
grep -q '^GET /health  *same' "$work/err.txt" || fail "GET /health should be same"
python3 - "$runs/e/compare.html" <<'PY' || fail "compare.html lacks the error-rate columns"
import sys; t = open(sys.argv[1]).read(); sys.exit(0 if "errors % A" in t and " pts" in t else 1)
PY
"$LOADCTL" compare "$runs/a" "$runs/e" --margin-errors 100 > "$work/err2.txt"; rc=$?
grep -q '^POST /api/orders  *regression' "$work/err2.txt" && fail "--margin-errors 100 still calls it a regression"

"$LOADCTL" history --runs "$runs" > "$work/hist.txt" || fail "history"
cat "$work/hist.txt"
[ "$(grep -c "$runs/" "$work/hist.txt")" -eq 2 ] || fail "history does not list 2 runs (a and b; e was not reported)"
grep -q '(thresholds failed)' "$work/hist.txt" || fail "history does not flag b"
"$LOADCTL" history --runs "$runs" --name 'POST /api/orders' > "$work/trend.txt" || fail "history --name"
[ "$(grep -c ' ms  #' "$work/trend.txt")" -eq 2 ] || fail "trend: $(cat "$work/trend.txt")"
"$LOADCTL" history --runs "$work/nowhere" 2> "$work/err.txt" && fail "history without index succeeded"
grep -q 'index.jsonl' "$work/err.txt" || fail "history error unclear"
"$LOADCTL" compare "$runs/a" 2>/dev/null; [ $? -eq 1 ] || fail "compare with one dir is not a usage error"
echo ok
