#!/usr/bin/env bash
# tsan_smoke.sh BUILD_DIR - run `loadctl start` with 2 local workers x 2 engine threads under ThreadSanitizer
# against the testserver for 3 s, once in the closed model and once in the open model (arrival clock,
# pre-allocated VUs, stages of rates); fail on any ThreadSanitizer report or a wrong request count.
set -euo pipefail
BUILD=${1:?usage: tsan_smoke.sh BUILD_DIR}
WORK=$(mktemp -d)
SERVER_PID=
cleanup() { [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null; [ -n "${KEEP:-}" ] || rm -rf "$WORK"; true; }
trap cleanup EXIT

# run_case NAME: start a fresh testserver, run $WORK/NAME.lua (PORT substituted) under TSan, check.
run_case() {
  local name=$1 served reqs
  "$BUILD/testserver" --port 0 --duration-s 120 >"$WORK/$name-server.out" 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 100); do grep -q '^PORT' "$WORK/$name-server.out" 2>/dev/null && break; sleep 0.1; done
  PORT=$(awk '/^PORT/{print $2}' "$WORK/$name-server.out")
  sed "s/@PORT@/$PORT/" "$WORK/$name.lua.in" >"$WORK/$name.lua"
  TSAN_OPTIONS="halt_on_error=0 exitcode=66" timeout 120 "$BUILD/loadctl" start "$WORK/$name.lua" --threads 2 \
    --workers 2 --quiet --out "$WORK/run-$name" >"$WORK/$name.log" 2>&1 || true
  if grep -q "WARNING: ThreadSanitizer" "$WORK/$name.log"; then
    grep -A40 "WARNING: ThreadSanitizer" "$WORK/$name.log" | head -120
    echo "tsan_smoke: ThreadSanitizer reports ($name model)"
    exit 1
  fi
  served=$(curl -fsS "http://127.0.0.1:$PORT/count")
  reqs=$(python3 -c "import json; print(json.load(open('$WORK/run-$name/summary.json'))['totals']['requests'])")
  echo "tsan_smoke: $name model: loadctl requests=$reqs server served=$served"
  [ "$reqs" -gt 0 ] && [ "$reqs" -eq "$served" ] || { echo "tsan_smoke: count mismatch ($name model)"; exit 1; }
  kill "$SERVER_PID" 2>/dev/null || true
  wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=
}

cat >"$WORK/closed.lua.in" <<'LUA'
options = { target = "http://127.0.0.1:@PORT@", users = 20, duration = "3s" }
task(3, function(vu) http.get("/ok") end)
task(1, function(vu) http.get("/delay/5", { name = "GET /delay" }); sleep(0.01) end)
LUA
cat >"$WORK/open.lua.in" <<'LUA'
options = { target = "http://127.0.0.1:@PORT@", rate = 400, max_vus = 40, pre_allocated_vus = 8, start_rate = 400,
            stages = { { duration = "1s", rate = 400 }, { duration = "2s", rate = 800 } } }
task(3, function(vu) http.get("/ok") end)
task(1, function(vu) http.get("/delay/5", { name = "GET /delay" }) end)
LUA
run_case closed
run_case open
echo "tsan_smoke: 2 passed, 0 failed"
