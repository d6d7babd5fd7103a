# dist_lib.bash - helpers for the distribution tests (dist_*.sh, start_*.sh): a bounded testserver on
# 127.0.0.1, scenarios pointing at it, cleanup of every process a test started. Sourced, not a test.
set -u
: "${LOADCTL:?set LOADCTL to the loadctl binary}"
: "${LOADCTL_BUILD:?set LOADCTL_BUILD to the build directory}"
T=$(mktemp -d /tmp/loadctl-dist-XXXXXX)
PIDS=()

cleanup() {
  for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$T"
}
trap cleanup EXIT

fail() { echo "FAIL: $*" >&2; for f in "$T"/*.log; do [ -f "$f" ] && { echo "--- $f" >&2; tail -20 "$f" >&2; }; done; exit 1; }

# testserver on a free port; sets PORT
start_testserver() {
  "$LOADCTL_BUILD/testserver" --port 0 --duration-s "${1:-120}" >"$T/testserver.out" 2>"$T/testserver.log" &
  PIDS+=($!)
  for _ in $(seq 1 100); do
    PORT=$(awk '/^PORT/ {print $2; exit}' "$T/testserver.out" 2>/dev/null)
    [ -n "${PORT:-}" ] && return 0
    sleep 0.05
  done
  fail "testserver did not start"
}

count() { curl -fsS "http://127.0.0.1:$PORT/count"; }

# scenario FILE USERS DURATION [PATH]: closed model hitting PATH (default /ok)
scenario() {
  cat >"$1" <<LUA
options = { target = "http://127.0.0.1:$PORT", users = $2, duration = "$3" }
task(1, function(vu) http.get("${4:-/ok}", {name = "GET ok"}) end)
LUA
}

json() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))" "$@"; }

# Skip (77) while this build has no load engine: the distribution code needs it to send load.
need_engine() {
  scenario "$T/probe.lua" 1 1s
  if "$LOADCTL" start "$T/probe.lua" --quiet --out "$T/probe" >"$T/probe.log" 2>&1; then return 0; fi
  if grep -q "not built in this version" "$T/probe.log"; then
    echo "SKIP: the load engine is not built in this version"; exit 77
  fi
  cat "$T/probe.log" >&2
  fail "a 1 s probe run failed"
}

# free TCP port on 127.0.0.1
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# bwait PID SECS: wait for PID at most SECS seconds (then kill -9 it); returns its exit code (124 on timeout)
bwait() {
  local end=$(( $(date +%s) + $2 ))
  while kill -0 "$1" 2>/dev/null; do
    if [ "$(date +%s)" -ge "$end" ]; then kill -9 "$1" 2>/dev/null; wait "$1" 2>/dev/null; return 124; fi
    sleep 0.1
  done
  wait "$1"
}

# netns_hosts TAG NET: three network namespaces made by the test itself, master (NM) -- worker (NW) --
# target (NT), joined by veth pairs: master 10.NET.1.1, worker 10.NET.1.2 and 10.NET.2.1, target
# 10.NET.2.2 running a testserver (PORT; tcount reads its count). MLINK is the master's end of the
# master-worker link. The namespaces are removed on exit, whatever happens. Skips (77) where they cannot
# be made.
netns_hosts() {
  local tag=$1 net=$2
  NM=${tag}m$$ NW=${tag}w$$ NT=${tag}t$$ MLINK=${tag}M$$ TNET=10.$net
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
  ip link add $MLINK netns $NM type veth peer name ${tag}W$$ netns $NW || fail "veth master-worker"
  ip link add ${tag}X$$ netns $NW type veth peer name ${tag}T$$ netns $NT || fail "veth worker-target"
  ip -n $NM addr add $TNET.1.1/24 dev $MLINK && ip -n $NW addr add $TNET.1.2/24 dev ${tag}W$$ || fail "addresses"
  ip -n $NW addr add $TNET.2.1/24 dev ${tag}X$$ && ip -n $NT addr add $TNET.2.2/24 dev ${tag}T$$ || fail "addresses"
  for l in "$NM $MLINK" "$NW ${tag}W$$" "$NW ${tag}X$$" "$NT ${tag}T$$"; do
    set -- $l; ip -n "$1" link set "$2" up; ip -n "$1" link set lo up
  done
  ip netns exec $NT "$LOADCTL_BUILD/testserver" --host $TNET.2.2 --port 0 --duration-s 120 >"$T/ts.out" 2>"$T/ts.log" &
  PIDS+=($!)
  PORT=
  for _ in $(seq 1 100); do PORT=$(awk '/^PORT/ {print $2; exit}' "$T/ts.out"); [ -n "$PORT" ] && break; sleep 0.05; done
  [ -n "$PORT" ] || fail "testserver did not start"
  ip netns exec $NW curl -fsS -o /dev/null "http://$TNET.2.2:$PORT/ok" || fail "the worker's namespace cannot reach the target"
}
tcount() { ip netns exec $NT curl -fsS "http://$TNET.2.2:$PORT/count"; }
