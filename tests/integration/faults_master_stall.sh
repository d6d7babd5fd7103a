#!/usr/bin/env bash
# faults_master_stall.sh - nothing measured is lost when the master stalls or judges a worker missing:
# requests loadctl counts (summary.json) = requests the testserver served, with run.stats_lost 0,
# run.workers_lost [] and exit 0, in four cases:
#   master_sigstop  `loadctl master` + a `loadctl worker` process; the master SIGSTOPped 3 s mid-run while
#                   the worker's stats are big (1,000 request names). nanomsg's bus drops, without a word,
#                   a frame sent while the pipe to a master that is not reading is busy: the master asks for
#                   the missing stats again (MSG_RESEND). Before: 79,927 of 128,148 counted, exit 0.
#   worker_missing  per-vu-iterations with the worker SIGSTOPped 4 s mid-run: the master marks it missing
#                   (silent 3 s) and must wait for it. Before: the run ended at once, 33,949 of 57,776.
#   start_stall     `loadctl start` (in-process worker) with the master's own loop standing still 3 s
#                   (LOADCTL_TEST_MASTER_STALL, tests only) while the worker threads go on.
#   start_resume    per-vu-iterations under `loadctl start` with the master standing still 6 s: silent 5 s,
#                   the worker stops its load (the requests under way finish and are counted) and resumes
#                   when the master is back; each VU goes on from the iterations it did, so iterations =
#                   requests served = VUs × iterations exactly. Before: the requests in flight at the stop
#                   were served and not counted, and the resumed VUs began their iterations again (a
#                   starved run served 27,595 requests for 20,000 iterations).
source "$(dirname "$0")/dist_lib.bash"
START=$(date +%s)
VUS=4
start_testserver 150
need_engine
FAILED=0

# names_scenario FILE DURATION OPTIONS SLEEP_S: on /ok under 1,000 rotating request names (VUS VUs ×
# 250), SLEEP_S seconds of sleep() after each request
names_scenario() {
  cat >"$1" <<LUA
options = { target = "http://127.0.0.1:$PORT", $3 duration = "$2" }
task(1, function(vu)
  vu.n = (vu.n or 0) + 1
  http.get("/ok", {name = "n" .. vu.id .. "-" .. (vu.n % 250)})
  if $4 > 0 then sleep($4) end
end)
LUA
}

# check_case NAME RC SERVED RUN_DIR WORKER_LOG [WANT]: counted = served, nothing lost, exit 0; with WANT,
# served = iterations = WANT too
check_case() {
  local name=$1 rc=$2 served=$3 dir=$4 wlog=$5 want=${6:-} counted lost wlost iters why="" took=$(($(date +%s) - CASE_T0))
  if [ ! -s "$dir/summary.json" ]; then
    echo "case: $name FAIL: no summary.json (exit $rc)" >&2; FAILED=$((FAILED + 1)); return
  fi
  counted=$(json "$dir/summary.json" 'd["totals"]["requests"]')
  lost=$(json "$dir/summary.json" 'd["run"].get("stats_lost", "absent")')
  wlost=$(json "$dir/summary.json" 'len(d["run"].get("workers_lost", []))')
  iters=$(json "$dir/summary.json" 'd["totals"]["iterations"]')
  if grep -q "stopping load" "$wlog" 2>/dev/null; then why=" (the worker stopped its load for master silence)"; fi
  echo "case: $name served=$served counted=$counted iterations=$iters stats_lost=$lost workers_lost=$wlost exit=$rc time=${took}s$why"
  if [ "$rc" -ne 0 ] || [ "$lost" != 0 ] || [ "$wlost" != 0 ] || [ "$counted" -ne "$served" ] ||
    [ "$served" -lt 1000 ]; then
    echo "  FAIL: $name: want exit 0, stats_lost 0, no worker lost, counted = served" >&2
    FAILED=$((FAILED + 1))
  fi
  if [ -n "$want" ] && { [ "$served" -ne "$want" ] || [ "$iters" -ne "$want" ]; }; then
    echo "  FAIL: $name: want served = iterations = $want" >&2
    FAILED=$((FAILED + 1))
  fi
}

# master_and_worker NAME SCENARIO VICTIM AT_S STOP_S: master + one worker process over tcp; SIGSTOP
# VICTIM (master|worker) AT_S seconds after the load starts, for STOP_S seconds
master_and_worker() {
  local name=$1 P c0 M W V rc
  CASE_T0=$(date +%s)
  P=$(free_port)
  c0=$(count)
  "$LOADCTL" master "$2" --listen "tcp://127.0.0.1:$P" --quiet --out "$T/run-$name" >"$T/$name-master.log" 2>&1 &
  M=$!; PIDS+=($M)
  "$LOADCTL" worker --once --master "tcp://127.0.0.1:$P" --threads 1 --id w1 >"$T/$name-worker.log" 2>&1 &
  W=$!; PIDS+=($W)
  for _ in $(seq 1 150); do grep -q "load starts" "$T/$name-worker.log" 2>/dev/null && break; sleep 0.1; done
  sleep "$4"
  V=$M; [ "$3" = worker ] && V=$W
  kill -STOP "$V"; sleep "$5"; kill -CONT "$V"
  bwait "$M" 90; rc=$?
  bwait "$W" 30 >/dev/null
  check_case "$name" "$rc" $(($(count) - c0)) "$T/run-$name" "$T/$name-worker.log"
}

names_scenario "$T/names.lua" 5s "users = $VUS," 0
master_and_worker master_sigstop "$T/names.lua" master 1.5 3
grep -q "stalled for" "$T/master_sigstop-master.log" || { echo "  FAIL: the master did not notice its stall" >&2; FAILED=$((FAILED + 1)); }

# 2,000 iterations a VU, 2 ms apart: at least 4 s on any machine, so the stop lands mid-run
names_scenario "$T/iter.lua" 40s "executor = \"per-vu-iterations\", vus = $VUS, iterations = 2000," 0.002
master_and_worker worker_missing "$T/iter.lua" worker 1 4
grep -q "marked missing" "$T/worker_missing-master.log" || { echo "  FAIL: the master did not mark the stopped worker missing" >&2; FAILED=$((FAILED + 1)); }

c0=$(count)
CASE_T0=$(date +%s)
LOADCTL_TEST_MASTER_STALL=1.5:3 "$LOADCTL" start "$T/names.lua" --threads 1 --quiet --out "$T/run-start" \
  >"$T/start.log" 2>&1 &
S=$!; PIDS+=($S)
bwait "$S" 90; rc=$?
check_case start_stall "$rc" $(($(count) - c0)) "$T/run-start" "$T/start.log"
grep -q "stands still for 3.0 s" "$T/start.log" || { echo "  FAIL: the test stall did not happen" >&2; FAILED=$((FAILED + 1)); }

# 2,000 iterations a VU of one /delay/4 request: at least 8 s, so the silence stop (5 s into the 6 s stall
# from 1 s) lands mid-run on any machine, and mostly while every VU has a request in flight
cat >"$T/resume.lua" <<LUA
options = { target = "http://127.0.0.1:$PORT", executor = "per-vu-iterations", vus = $VUS, iterations = 2000,
            duration = "60s" }
task(1, function(vu) http.get("/delay/4", {name = "GET /delay/4"}) end)
LUA
c0=$(count)
CASE_T0=$(date +%s)
LOADCTL_LOG=info LOADCTL_TEST_MASTER_STALL=1:6 "$LOADCTL" start "$T/resume.lua" --threads 1 --quiet \
  --out "$T/run-resume" >"$T/resume.log" 2>&1 & # info: the worker says it resumes
S=$!; PIDS+=($S)
bwait "$S" 90; rc=$?
check_case start_resume "$rc" $(($(count) - c0)) "$T/run-resume" "$T/resume.log" $((VUS * 2000))
for line in "stopping load" "resuming the load"; do
  grep -q "$line" "$T/resume.log" || { echo "  FAIL: start_resume: the worker did not log '$line'" >&2; FAILED=$((FAILED + 1)); }
done

echo "faults_master_stall: $(($(date +%s) - START)) s"
[ "$FAILED" -eq 0 ] || fail "$FAILED check(s) failed"
echo "1 passed, 0 failed"
