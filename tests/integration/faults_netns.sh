#!/usr/bin/env bash
# faults_netns.sh - a network partition between master and worker (docs/faults.md "network partition"):
# master, worker and target each in a network namespace this test creates, joined by veth pairs on
# 10.78.x. Mid-run the master's veth goes down for PART_S seconds, then up again. The worker stops its load
# once the master is silent for 5 s (the target's count stops growing), the master marks it missing, after
# the heal the worker rejoins and the load resumes, the run finishes and its directory is consistent.
# Needs root and `ip netns` (else exit 77, saying so); the namespaces are removed whatever happens.
# ctest: light - little CPU and no timing-sensitive assertion: may run beside another light test
source "$(dirname "$0")/dist_lib.bash"
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root to create network namespaces"; exit 77; }
command -v ip >/dev/null || { echo "SKIP: no ip command"; exit 77; }
PART_S=8
start_testserver 30 # only for the engine probe on 127.0.0.1
need_engine
netns_hosts lf 78

"$LOADCTL" keygen "$T/key" >/dev/null
cat >"$T/s.lua" <<LUA
options = { target = "http://10.78.2.2:$PORT", users = 2, duration = "28s" }
task(1, function(vu) http.get("/delay/10", {name = "GET delay"}) end)
LUA
t0=$(date +%s)
ip netns exec $NM "$LOADCTL" master "$T/s.lua" --listen tcp://10.78.1.1:5557 --expect-workers 1 \
  --expect-timeout 20s --key-file "$T/key" --quiet --out "$T/run" >"$T/master.log" 2>&1 &
M=$!; PIDS+=($M)
ip netns exec $NW "$LOADCTL" worker --once --master tcp://10.78.1.1:5557 --key-file "$T/key" --threads 1 --id part1 \
  --orphan-timeout 60s >"$T/w1.log" 2>&1 &
W=$!; PIDS+=($W)
for _ in $(seq 1 150); do grep -q "load starts" "$T/w1.log" 2>/dev/null && break; sleep 0.1; done
grep -q "load starts" "$T/w1.log" || fail "the worker never started its load"
sleep 3
c_before=$(tcount)
ip -n $NM link set $MLINK down || fail "link down"
down_at=$(date +%s%3N)
sleep 6
c_silent1=$(tcount)
sleep $((PART_S - 6))
c_silent2=$(tcount)
ip -n $NM link set $MLINK up || fail "link up"
echo "partition: $PART_S s; count at cut $c_before, +6 s $c_silent1, +$PART_S s $c_silent2"
# the load resumes after the heal (TCP retransmission backoff may delay the reconnect a few seconds)
c_resumed=$c_silent2
for _ in $(seq 1 150); do
  c_resumed=$(tcount)
  [ "$c_resumed" -gt $((c_silent2 + 20)) ] && break
  sleep 0.1
done
heal_s=$(( ($(date +%s%3N) - down_at) / 1000 - PART_S ))

r_stop=pass; [ "$c_silent1" -gt "$c_before" ] && [ "$c_silent2" = "$c_silent1" ] && grep -q "stopping load" "$T/w1.log" || r_stop=fail
echo "case: worker stops load while the master is silent result=$r_stop (count $c_before -> $c_silent1 -> $c_silent2)"
r_missing=pass; grep -q "marked missing" "$T/master.log" || r_missing=fail
echo "case: master marks the worker missing result=$r_missing"
r_resume=pass; [ "$c_resumed" -gt $((c_silent2 + 20)) ] || r_resume=fail
echo "case: load resumes after the heal result=$r_resume (count $c_silent2 -> $c_resumed, ~$heal_s s after the heal)"

bwait $M 60; mrc=$?
bwait $W 30; wrc=$?
echo "master exit $mrc, worker exit $wrc, $(( $(date +%s) - t0 )) s"
r_rejoin=pass; grep -q "missing worker is back\|rejoined" "$T/master.log" || r_rejoin=fail
echo "case: master sees the worker back result=$r_rejoin"
r_finish=pass; [ $mrc -eq 0 ] && [ $wrc -eq 0 ] || r_finish=fail
echo "case: run finishes result=$r_finish (master $mrc, worker $wrc)"
r_dir=pass
"$LOADCTL" report "$T/run" --no-index >"$T/report.out" 2>"$T/report.log" || r_dir=fail
python3 - "$T/run/intervals.jsonl" "$T/run/summary.json" "$down_at" <<'PY' || r_dir=fail
import json, sys
raw = open(sys.argv[1]).read()
assert raw.endswith("\n"), "intervals.jsonl ends mid-line"
lines = [json.loads(l) for l in raw.splitlines()]
alls = [l for l in lines if l["name"] == "(all)"]
s = json.load(open(sys.argv[2]))
assert s["totals"]["requests"] == sum(l["count"] for l in alls), "summary != sum of intervals"
down = int(sys.argv[3])
print("requests per interval around the cut:", [(round((l["t"] - down) / 1000), l["count"]) for l in alls])
PY
echo "case: run directory consistent after the partition result=$r_dir"
served=$(tcount)
total=$(json "$T/run/summary.json" 'd["totals"]["requests"]' 2>/dev/null || echo "?")
echo "summary requests $total, target served $served (incl. 1 probe)"
for r in $r_stop $r_missing $r_resume $r_rejoin $r_finish $r_dir; do [ $r = pass ] || fail "a case failed (see above)"; done
echo "faults_netns: ok"
