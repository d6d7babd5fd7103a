#!/usr/bin/env bash
# dist_netns.sh - a multi-host run in three network namespaces this test creates, joined by veth pairs on
# 10.77.x addresses: the master in one, two workers in another, the testserver in a third. The merged
# totals equal the testserver's count. Needs root and `ip netns` (else exit 77, saying so); the
# namespaces are removed whatever happens.
source "$(dirname "$0")/dist_lib.bash"
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root to create network namespaces"; exit 77; }
command -v ip >/dev/null || { echo "SKIP: no ip command"; exit 77; }
start_testserver 30 # only for the engine probe on 127.0.0.1
need_engine
NM=lcm$$ NW=lcw$$ NT=lct$$
netns_cleanup() {
  for n in $NM $NW $NT; do
    for p in $(ip netns pids "$n" 2>/dev/null); do kill -9 "$p" 2>/dev/null; done
    ip netns del "$n" 2>/dev/null
  done
  cleanup
}
trap netns_cleanup EXIT
ip netns add $NM 2>/dev/null || { echo "SKIP: cannot create network namespaces here (ip netns add failed)"; exit 77; }
ip netns add $NW && ip netns add $NT || fail "ip netns add"
ip link add lm$$ netns $NM type veth peer name lw$$ netns $NW || fail "veth master-worker"
ip link add lx$$ netns $NW type veth peer name lt$$ netns $NT || fail "veth worker-target"
ip -n $NM addr add 10.77.1.1/24 dev lm$$ && ip -n $NW addr add 10.77.1.2/24 dev lw$$ || fail "addresses"
ip -n $NW addr add 10.77.2.1/24 dev lx$$ && ip -n $NT addr add 10.77.2.2/24 dev lt$$ || fail "addresses"
for l in "$NM lm$$" "$NW lw$$" "$NW lx$$" "$NT lt$$"; do set -- $l; ip -n "$1" link set "$2" up; ip -n "$1" link set lo up; done

ip netns exec $NT "$LOADCTL_BUILD/testserver" --host 10.77.2.2 --port 0 --duration-s 120 >"$T/ts.out" 2>"$T/ts.log" &
PIDS+=($!)
PORT=
for _ in $(seq 1 100); do PORT=$(awk '/^PORT/ {print $2; exit}' "$T/ts.out"); [ -n "$PORT" ] && break; sleep 0.05; done
[ -n "$PORT" ] || fail "testserver did not start"
tcount() { ip netns exec $NT curl -fsS "http://10.77.2.2:$PORT/count"; }
ip netns exec $NW curl -fsS -o /dev/null "http://10.77.2.2:$PORT/ok" || fail "workers' namespace cannot reach the target"
base=$(tcount)

"$LOADCTL" keygen "$T/key" >/dev/null
# Workers run from the installed Debian package when deploy_package.sh has built one (it runs first):
# the .deb is unpacked into a fresh root and its /usr/bin/loadctl is the worker binary.
WORKER_BIN=$LOADCTL
deb=$(ls "$LOADCTL_BUILD"/package/loadctl_*.deb 2>/dev/null | head -1 || true)
if [ -n "$deb" ]; then
  dpkg -x "$deb" "$T/root" && WORKER_BIN=$T/root/usr/bin/loadctl
fi
echo "workers run $WORKER_BIN ($("$WORKER_BIN" --version))"
cat >"$T/s.lua" <<LUA
options = { target = "http://10.77.2.2:$PORT", users = 4, duration = "4s" }
task(1, function(vu) http.get("/ok", {name = "GET ok"}) end)
LUA
ip netns exec $NM "$LOADCTL" master "$T/s.lua" --listen tcp://10.77.1.1:5557 --expect-workers 2 \
  --expect-timeout 20s --key-file "$T/key" --quiet --out "$T/run" >"$T/master.log" 2>&1 &
M=$!; PIDS+=($M)
for i in 1 2; do
  ip netns exec $NW "$WORKER_BIN" worker --master tcp://10.77.1.1:5557 --key-file "$T/key" --threads 1 --id "ns$i" \
    >"$T/w$i.log" 2>&1 &
  PIDS+=($!)
done
bwait $M 90; rc=$?
[ $rc -eq 0 ] || fail "master exited $rc"
served=$(( $(tcount) - base ))
total=$(json "$T/run/summary.json" 'd["totals"]["requests"]')
echo "netns: summary requests $total, target served $served"
[ "$total" -gt 0 ] && [ "$total" = "$served" ] || fail "summary $total != served $served"
echo "dist_netns: ok"
