#!/usr/bin/env bash
# tsan_smoke.sh BUILD_DIR - run `loadctl start` with 2 local workers x 2 engine threads under ThreadSanitizer
# against the testserver for 3 s; fail on any ThreadSanitizer report or a wrong request count.
set -euo pipefail
BUILD=${1:?usage: tsan_smoke.sh BUILD_DIR}
WORK=$(mktemp -d)
SERVER_PID=
cleanup() { [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null; [ -n "${KEEP:-}" ] || rm -rf "$WORK"; true; }
trap cleanup EXIT
"$BUILD/testserver" --port 0 --duration-s 120 >"$WORK/server.out" 2>&1 &
SERVER_PID=$!
for _ in $(seq 100); do grep -q '^PORT' "$WORK/server.out" 2>/dev/null && break; sleep 0.1; done
PORT=$(awk '/^PORT/{print $2}' "$WORK/server.out")
cat >"$WORK/s.lua" <<LUA
options = { target = "http://127.0.0.1:$PORT", users = 20, duration = "3s" }
task(3, function(vu) http.get("/ok") end)
task(1, function(vu) http.get("/delay/5", { name = "GET /delay" }); sleep(0.01) end)
LUA
TSAN_OPTIONS="halt_on_error=0 exitcode=66" timeout 120 "$BUILD/loadctl" start "$WORK/s.lua" --threads 2 --workers 2 \
  --quiet --out "$WORK/run" >"$WORK/log" 2>&1 || true
if grep -q "WARNING: ThreadSanitizer" "$WORK/log"; then
  grep -A40 "WARNING: ThreadSanitizer" "$WORK/log" | head -120
  echo "tsan_smoke: ThreadSanitizer reports"
  exit 1
fi
served=$(curl -fsS "http://127.0.0.1:$PORT/count")
reqs=$(python3 -c "import json; print(json.load(open('$WORK/run/summary.json'))['totals']['requests'])")
echo "tsan_smoke: loadctl requests=$reqs server served=$served"
[ "$reqs" -gt 0 ] && [ "$reqs" -eq "$served" ] || { echo "tsan_smoke: count mismatch"; exit 1; }
echo "tsan_smoke: 1 passed, 0 failed"
