#!/usr/bin/env bash
# dist_netns.sh - a multi-host run in three network namespaces this test creates, joined by veth pairs on
# 10.77.x addresses: the master in one, two workers in another, the testserver in a third. The merged
# totals equal the testserver's count. Needs root and `ip netns` (else exit 77, saying so); the
# namespaces are removed whatever happens.
# ctest: light - little CPU and no timing-sensitive assertion: may run beside another light test
source "$(dirname "$0")/dist_lib.bash"
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root to create network namespaces"; exit 77; }
command -v ip >/dev/null || { echo "SKIP: no ip command"; exit 77; }
start_testserver 30 # only for the engine probe on 127.0.0.1
need_engine
netns_hosts lc 77
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
  ip netns exec $NW "$WORKER_BIN" worker --once --master tcp://10.77.1.1:5557 --key-file "$T/key" --threads 1 --id "ns$i" \
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
