#!/usr/bin/env bash
# dist_kill_worker.sh - kill -9 of one of two workers mid-run: the run finishes (exit 0), the master marks it
# missing and gives its users to the other worker within 5 s, and the survivor's requests are all counted.
# ctest: light - little CPU and no timing-sensitive assertion: may run beside another light test
source "$(dirname "$0")/dist_lib.bash"
start_testserver 120
need_engine
base=$(count)
scenario "$T/s.lua" 4 12s /delay/20
P=$(free_port)
"$LOADCTL" master "$T/s.lua" --listen "tcp://127.0.0.1:$P" --expect-workers 2 --quiet --out "$T/run" \
  >"$T/master.log" 2>&1 &
M=$!; PIDS+=($M)
for i in 1 2; do
  "$LOADCTL" worker --once --master "tcp://127.0.0.1:$P" --threads 1 --id "w$i" >"$T/w$i.log" 2>&1 &
  W[$i]=$!; PIDS+=(${W[$i]})
done
for _ in $(seq 1 100); do grep -q "load starts" "$T/w2.log" 2>/dev/null && break; sleep 0.1; done
sleep 4
kill -9 "${W[2]}"
killed_ms=$(date +%s%3N)
bwait $M 90; rc=$?
[ $rc -eq 0 ] || fail "master exited $rc after losing a worker"
bwait "${W[1]}" 30 || fail "surviving worker failed"
grep -q "marked missing" "$T/master.log" || fail "master did not mark the worker missing"
# the "(all)" lines: users back at 4 (all on w1) within 5 s of the kill
python3 - "$T/run/intervals.jsonl" "$killed_ms" <<'PY' || fail "share not redistributed within 5 s"
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
alls = [l for l in lines if l["name"] == "(all)"]
killed = int(sys.argv[2])
after = [l for l in alls if l["t"] >= killed + 5000 and l["t"] + 1000 <= alls[-1]["t"]]
print("users after the kill:", [(l["t"] - killed, l["users"]) for l in alls if l["t"] >= killed - 2000])
sys.exit(0 if after and all(l["users"] == 4 for l in after) else 1)
PY
total=$(json "$T/run/summary.json" 'd["totals"]["requests"]')
served=$(( $(count) - base ))
echo "summary requests $total, server served $served"
# what w2 had not reported yet is lost with it; everything else is counted
[ "$total" -le "$served" ] && [ "$total" -ge $(( served * 8 / 10 )) ] || fail "totals $total vs served $served"
echo "dist_kill_worker: ok"
