#!/usr/bin/env bash
# dist_master_restart.sh - kill -9 of the master, then a new master on the same address: the worker (which
# stopped its load) reconnects, joins the new run, and the new run's totals equal what the target served.
# ctest: light - little CPU and no timing-sensitive assertion: may run beside another light test
source "$(dirname "$0")/dist_lib.bash"
start_testserver 120
need_engine
scenario "$T/long.lua" 2 60s /delay/10
scenario "$T/short.lua" 2 3s
P=$(free_port)
"$LOADCTL" master "$T/long.lua" --listen "tcp://127.0.0.1:$P" --expect-workers 1 --quiet --out "$T/run1" \
  >"$T/master1.log" 2>&1 &
M=$!; PIDS+=($M)
"$LOADCTL" worker --once --master "tcp://127.0.0.1:$P" --threads 1 --id w1 --orphan-timeout 40s >"$T/w1.log" 2>&1 &
W=$!; PIDS+=($W)
for _ in $(seq 1 100); do grep -q "load starts" "$T/w1.log" 2>/dev/null && break; sleep 0.1; done
sleep 2
kill -9 $M
for _ in $(seq 1 100); do grep -q "stopping load" "$T/w1.log" 2>/dev/null && break; sleep 0.1; done
grep -q "stopping load" "$T/w1.log" || fail "worker did not stop its load"
sleep 1
base=$(count)
"$LOADCTL" master "$T/short.lua" --listen "tcp://127.0.0.1:$P" --expect-workers 1 --expect-timeout 20s --quiet \
  --out "$T/run2" >"$T/master2.log" 2>&1 &
M2=$!; PIDS+=($M2)
bwait $M2 60; rc=$?
[ $rc -eq 0 ] || fail "the new master exited $rc"
bwait $W 30; wrc=$?
[ $wrc -eq 0 ] || fail "worker exited $wrc after the new run"
grep -q "new master" "$T/w1.log" || fail "worker log does not show it joined the new master"
served=$(( $(count) - base ))
total=$(json "$T/run2/summary.json" 'd["totals"]["requests"]')
echo "new run: summary requests $total, server served $served"
[ "$total" -gt 0 ] && [ "$total" = "$served" ] || fail "summary $total != served $served"
echo "dist_master_restart: ok"
