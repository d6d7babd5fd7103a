#!/usr/bin/env bash
# dist_kill_master.sh - kill -9 of the master mid-run: the worker stops sending load within 5 s (the
# testserver's count stops growing) and exits after its --orphan-timeout.
# ctest: light - little CPU and no timing-sensitive assertion: may run beside another light test
source "$(dirname "$0")/dist_lib.bash"
start_testserver 120
need_engine
scenario "$T/s.lua" 2 60s /delay/10
P=$(free_port)
"$LOADCTL" master "$T/s.lua" --listen "tcp://127.0.0.1:$P" --expect-workers 1 --quiet --out "$T/run" \
  >"$T/master.log" 2>&1 &
M=$!; PIDS+=($M)
"$LOADCTL" worker --once --master "tcp://127.0.0.1:$P" --threads 1 --id w1 --orphan-timeout 12s \
  >"$T/w1.log" 2>&1 &
W=$!; PIDS+=($W)
for _ in $(seq 1 100); do grep -q "load starts" "$T/w1.log" 2>/dev/null && break; sleep 0.1; done
sleep 3
c0=$(count)
kill -9 $M
sleep 6
c1=$(count)
sleep 3
c2=$(count)
echo "count at kill $c0, +6 s $c1, +9 s $c2"
[ "$c1" -gt "$c0" ] || fail "no load before the kill? ($c0 -> $c1)"
[ "$c2" = "$c1" ] || fail "load still flowing 6 s after the master died ($c1 -> $c2)"
grep -q "stopping load" "$T/w1.log" || fail "worker did not say it stopped the load"
bwait $W 60; rc=$?
[ $rc -eq 2 ] || fail "orphaned worker exited $rc, want 2"
grep -q "orphan-timeout" "$T/w1.log" || fail "worker did not say why it left"
echo "dist_kill_master: ok"
