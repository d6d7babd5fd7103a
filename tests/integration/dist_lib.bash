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
