#!/usr/bin/env bash
# dist_tcp.sh - `loadctl master` on tcp://127.0.0.1 with a key from `loadctl keygen`, two `loadctl worker`
# processes: both join, the merged totals equal the testserver's count, workers exit 0 when the run ends.
# ctest: light - little CPU and no timing-sensitive assertion: may run beside another light test
source "$(dirname "$0")/dist_lib.bash"
start_testserver 120
need_engine
"$LOADCTL" keygen "$T/key" >/dev/null || fail "keygen failed"
[ "$(stat -c %a "$T/key")" = 600 ] || fail "key file mode is $(stat -c %a "$T/key"), want 600"
"$LOADCTL" keygen "$T/key" >/dev/null 2>&1 && fail "keygen overwrote an existing key"
# a key-less master refuses a non-loopback address
"$LOADCTL" master "$T/probe.lua" --listen tcp://0.0.0.0:1 >"$T/nokey.log" 2>&1
[ $? -eq 1 ] || fail "key-less master on 0.0.0.0 should exit 1"
grep -q "without a key" "$T/nokey.log" || fail "no clear message for a key-less non-loopback listen"

base=$(count)
scenario "$T/s.lua" 4 4s
P=$(free_port)
"$LOADCTL" master "$T/s.lua" --listen "tcp://127.0.0.1:$P" --expect-workers 2 --key-file "$T/key" \
  --quiet --out "$T/run" >"$T/master.log" 2>&1 &
M=$!; PIDS+=($M)
for i in 1 2; do
  "$LOADCTL" worker --once --master "tcp://127.0.0.1:$P" --key-file "$T/key" --threads 1 --id "w$i" \
    >"$T/w$i.log" 2>&1 &
  W[$i]=$!; PIDS+=(${W[$i]})
done
bwait $M 90; rc=$?
[ $rc -eq 0 ] || fail "master exited $rc"
for i in 1 2; do bwait "${W[$i]}" 30; r=$?; [ $r -eq 0 ] || fail "worker w$i exited $r"; done
served=$(( $(count) - base ))
total=$(json "$T/run/summary.json" 'd["totals"]["requests"]')
echo "summary requests $total, server served $served"
[ "$total" -gt 0 ] && [ "$total" = "$served" ] || fail "summary $total != served $served"
[ "$(json "$T/run/run.json" 'sorted(w["id"] for w in d["workers"])')" = "['w1', 'w2']" ] || fail "workers in run.json"
echo "dist_tcp: ok"
