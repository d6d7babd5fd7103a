#!/usr/bin/env bash
# dist_wrongkey.sh - a worker with the wrong key is refused: the master logs the failed authentication
# naming the worker, the worker exits 2 saying so, and no request reaches the target.
# ctest: light - little CPU and no timing-sensitive assertion: may run beside another light test
source "$(dirname "$0")/dist_lib.bash"
start_testserver 60
need_engine
"$LOADCTL" keygen "$T/key" >/dev/null
"$LOADCTL" keygen "$T/other" >/dev/null
base=$(count)
scenario "$T/s.lua" 2 2s
P=$(free_port)
"$LOADCTL" master "$T/s.lua" --listen "tcp://127.0.0.1:$P" --expect-workers 1 --expect-timeout 6s \
  --key-file "$T/key" --quiet --out "$T/run" >"$T/master.log" 2>&1 &
M=$!; PIDS+=($M)
"$LOADCTL" worker --once --master "tcp://127.0.0.1:$P" --key-file "$T/other" --id intruder \
  --orphan-timeout 20s >"$T/worker.log" 2>&1 &
W=$!; PIDS+=($W)
bwait $W 60; wrc=$?
bwait $M 90; mrc=$?
[ $wrc -eq 2 ] || fail "wrong-key worker exited $wrc, want 2"
grep -q "wrong key" "$T/worker.log" || fail "worker does not say its key is wrong"
grep -q "peer 'intruder'.*authentication failed" "$T/master.log" || fail "master does not log the refused worker"
[ $mrc -eq 2 ] || fail "master exited $mrc, want 2 (no worker joined)"
grep -q "only 0 of 1" "$T/master.log" || fail "master does not say no worker joined"
grep -q "assigned" "$T/worker.log" && fail "the wrong-key worker got an assignment"
[ "$(count)" = "$base" ] || fail "load was sent"
echo "dist_wrongkey: ok"
