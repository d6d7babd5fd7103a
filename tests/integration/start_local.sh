#!/usr/bin/env bash
# start_local.sh - `loadctl start` with 2 in-process workers over ipc:// against the testserver: the merged
# totals in summary.json equal the server's own count; a scenario error exits 1 with file:line before any
# load; unknown flags exit 1.
# ctest: light - no timing-sensitive assertion (exact counts): may run beside other light tests
source "$(dirname "$0")/dist_lib.bash"
start_testserver 120

# usage errors first (no engine needed)
"$LOADCTL" start --bogus x.lua >"$T/u.log" 2>&1; [ $? -eq 1 ] || fail "unknown flag should exit 1"
"$LOADCTL" start >"$T/u.log" 2>&1; [ $? -eq 1 ] || fail "missing scenario should exit 1"
"$LOADCTL" start --help | grep -- "--workers" >/dev/null || fail "--help does not document --workers"

need_engine
base=$(count)

# a scenario error: exit 1, file:line, no request sent
printf 'options = { target = "http://127.0.0.1:%s", users = 1, duration = "1s" }\ntask(1, function(vu)\n  http.get("/ok"\nend)\n' "$PORT" >"$T/bad.lua"
timeout 30 "$LOADCTL" start "$T/bad.lua" --quiet --out "$T/badrun" >"$T/bad.log" 2>&1
rc=$?
[ $rc -eq 1 ] || fail "scenario error exited $rc, want 1"
grep -q "bad.lua:[0-9]" "$T/bad.log" || fail "scenario error does not name file:line"
[ "$(count)" = "$base" ] || fail "a scenario error sent load"

scenario "$T/s.lua" 4 3s
timeout 60 "$LOADCTL" start "$T/s.lua" --workers 2 --threads 2 --quiet --out "$T/run" >"$T/start.log" 2>&1
rc=$?
[ $rc -eq 0 ] || fail "loadctl start exited $rc"
served=$(( $(count) - base ))
total=$(json "$T/run/summary.json" 'd["totals"]["requests"]')
echo "summary requests $total, server served $served"
[ "$total" -gt 0 ] || fail "no requests measured"
[ "$total" = "$served" ] || fail "summary says $total requests, the server served $served"
workers=$(json "$T/run/run.json" 'len(d["workers"])')
[ "$workers" = 2 ] || fail "run.json lists $workers workers, want 2"
grep -q "report: $T/run/report.html" "$T/start.log" || fail "start does not print where the report is"
[ -f "$T/run/report.html" ] || fail "no report.html"
# thresholds: one fails -> exit 99, JUnit lists the failure
cat >"$T/th.lua" <<LUA
options = { target = "http://127.0.0.1:$PORT", users = 2, duration = "1s",
            thresholds = { p99 = "< 1us", errors = "rate < 1%" } }
task(1, function(vu) http.get("/ok", {name = "GET ok"}) end)
LUA
timeout 60 "$LOADCTL" start "$T/th.lua" --quiet --junit "$T/junit.xml" --out "$T/thrun" >"$T/th.log" 2>&1
rc=$?
[ $rc -eq 99 ] || fail "failed threshold exited $rc, want 99"
[ "$(grep -c '<failure' "$T/junit.xml")" = 1 ] || fail "JUnit should list exactly one failure"
echo "start_local: ok"
