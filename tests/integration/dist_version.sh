#!/usr/bin/env bash
# dist_version.sh - a worker of another loadctl version is refused with a clear error on both sides.
# ctest: light - little CPU and no timing-sensitive assertion: may run beside another light test
source "$(dirname "$0")/dist_lib.bash"
start_testserver 60
need_engine
scenario "$T/s.lua" 1 2s
P=$(free_port)
"$LOADCTL" master "$T/s.lua" --listen "tcp://127.0.0.1:$P" --expect-workers 1 --expect-timeout 5s \
  --quiet --out "$T/run" >"$T/master.log" 2>&1 &
M=$!; PIDS+=($M)
LOADCTL_TEST_VERSION=0.0.1 "$LOADCTL" worker --once --master "tcp://127.0.0.1:$P" --id old \
  >"$T/worker.log" 2>&1 &
W=$!; PIDS+=($W)
bwait $W 60; wrc=$?
bwait $M 90; mrc=$?
[ $wrc -eq 2 ] || fail "old worker exited $wrc, want 2"
grep -q "version mismatch.*0.0.1" "$T/worker.log" || fail "worker log does not explain the version mismatch"
grep -q "version mismatch.*0.0.1" "$T/master.log" || fail "master log does not explain the version mismatch"
[ $mrc -eq 2 ] || fail "master exited $mrc, want 2"
echo "dist_version: ok"
