#!/usr/bin/env bash
# dist_worker_runs.sh - a `loadctl worker` serves run after run: one worker process joins two masters
# started one after the other on the same address, each run's totals equal what the target served, and
# SIGTERM ends it with exit 0; `--once` exits 0 after one run. The first run also proves --env: the
# variable named with --env reaches env() on the worker, the master's other variables do not, and the
# worker's own environment is still read (checks gated by `checks{name=...} rate == 1` thresholds).
# ctest: light - little CPU and no timing-sensitive assertion: may run beside another light test
source "$(dirname "$0")/dist_lib.bash"
start_testserver 120
need_engine
cat >"$T/env.lua" <<LUA
options = { target = "http://127.0.0.1:$PORT", users = 2, duration = "2s",
  thresholds = { ["checks{name=shipped}"] = "rate == 1", ["checks{name=not shipped}"] = "rate == 1",
                 ["checks{name=worker env}"] = "rate == 1" } }
task(1, function(vu)
  local r = http.get("/ok", { name = "GET ok" })
  check(r, { ["shipped"] = function() return env("SHIPPED") == "from \"master\"" end,
             ["not shipped"] = function() return env("MASTER_ONLY") == nil end,
             ["worker env"] = function() return env("WORKER_ONLY") == "w" end })
end)
LUA
scenario "$T/plain.lua" 2 2s
P=$(free_port)
WORKER_ONLY=w SHIPPED=worker-value "$LOADCTL" worker --master "tcp://127.0.0.1:$P" --threads 1 --id stay \
  --orphan-timeout 60s >"$T/stay.log" 2>&1 &
W=$!; PIDS+=($W)

# run_master N SCENARIO [FLAGS...]: one master run on $P; its totals must equal what the target served
run_master() {
  local n=$1 sc=$2 base rc total served
  shift 2
  base=$(count)
  MASTER_ONLY=secret "$LOADCTL" master "$sc" --listen "tcp://127.0.0.1:$P" --expect-workers 1 \
    --expect-timeout 20s --quiet --out "$T/run$n" "$@" >"$T/master$n.log" 2>&1 &
  local M=$!; PIDS+=($M)
  bwait $M 60; rc=$?
  [ $rc -eq 0 ] || fail "master of run $n exited $rc"
  served=$(( $(count) - base ))
  total=$(json "$T/run$n/summary.json" 'd["totals"]["requests"]')
  echo "run $n: summary requests $total, server served $served"
  [ "$total" -gt 0 ] && [ "$total" = "$served" ] || fail "run $n: summary $total != served $served"
}

run_master 1 "$T/env.lua" --env 'SHIPPED=from "master"'
checks=$(json "$T/run1/summary.json" 'sorted((c["name"], c["fails"]) for c in d["checks"])')
echo "run 1 checks (name, fails): $checks"
[ "$checks" = "[('not shipped', 0), ('shipped', 0), ('worker env', 0)]" ] || fail "env checks: $checks"
kill -0 $W 2>/dev/null || fail "the worker left after run 1 (it should wait for the next run)"
run_master 2 "$T/plain.lua"
kill -0 $W 2>/dev/null || fail "the worker left after run 2"
[ "$(grep -c "waiting for the next run" "$T/stay.log")" -ge 2 ] || fail "worker log lacks 'waiting for the next run' twice"
kill -TERM $W
bwait $W 15; wrc=$?
[ $wrc -eq 0 ] || fail "worker exited $wrc on SIGTERM, want 0"

"$LOADCTL" worker --once --master "tcp://127.0.0.1:$P" --threads 1 --id once >"$T/once.log" 2>&1 &
W1=$!; PIDS+=($W1)
run_master 3 "$T/plain.lua"
bwait $W1 30; wrc=$?
[ $wrc -eq 0 ] || fail "--once worker exited $wrc after its run, want 0 (and promptly)"
echo "dist_worker_runs: ok"
