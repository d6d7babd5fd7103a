#!/usr/bin/env bash
# profile_views.sh - the report's line-level, sunburst and memory/GC views on real targets.
# Go: faultsvc --variant control --leak-kb 64 (each GET /api/products keeps 64 KiB in main.rememberPage)
# for 14 s with cpu, heap, allocs, mutex, block and goroutine windows and a live page (--web):
#   - while the run goes, the live page's /api/timeline has heap points and the page draws its heap chart;
#   - summary.json's heap series (profile_timeline) rises by megabytes; a GC-share series in [0, 1] with each
#     window's p99; at least the 64 KiB kept per request allocated per request;
#   - the heap type's line view names main.rememberPage at leak.go's line of its make(); the cpu type's
#     top table names main.mix's hottest line inside mix() in hash.go;
#   - in headless Chromium every type of the selector draws a sunburst, file:line cells and the Lines view
#     (the goroutine windows, re-encoded by loadctl per function, say they have no line numbers) and the
#     heap chart is drawn; screenshots go to $PROFILE_SHOTS when set.
# Python: a wsgiref app wrapped by loadctl_agent, burning CPU in burn(): the cpu line view and the wall type's
# (in the selector too) name burn's loop lines in app.py (the agent's profiles carry lines).
# Needs go, python3, node + playwright-core (npm) and chromium; else skips (77) saying which.
# ctest: pair - generous bounds (2 of ~6 heap points, 5 of ~14 GC windows, 4 of ~35 MiB) and little CPU: may run beside one other such test
set -euo pipefail
: "${LOADCTL:?}" "${LOADCTL_SRC:?}" "${LOADCTL_BUILD:?}"
command -v go >/dev/null || { echo "SKIP: no go toolchain for faultsvc"; exit 77; }
command -v jq >/dev/null || { echo "SKIP: no jq"; exit 77; }
source "$(dirname "$0")/web_lib.bash"
need_chromium
WORK=$(mktemp -d /tmp/loadctl-profile-views-XXXXXX)
SVC=$LOADCTL_BUILD/faultsvc
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$WORK"; }
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }
(cd "$LOADCTL_SRC/tests/targets/faults/svc" && GOFLAGS=-mod=mod GOPROXY=off \
  GOCACHE=${GOCACHE:-${HOME:-/tmp}/.cache/go-build} go build -o "$SVC" .) || fail "building faultsvc"
# the profile data report.html embeds (#lc-prof-data)
profdata() { python3 -c 'import re,sys; print(re.search(r"id=\"lc-prof-data\">(.*?)</script>", open(sys.argv[1]).read(), re.S).group(1).replace("\\/", "/"))' "$1"; }

# ---- Go ----
# ports: the service binds port 0 and says which it got once it serves ("variant ... on ADDR, admin on ADDR")
GOGC=20 "$SVC" --variant control --addr 127.0.0.1:0 --admin-addr 127.0.0.1:0 --duration 60s --leak-kb 64 >"$WORK/svc.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 1 300); do
  line=$(grep -m1 ', admin on ' "$WORK/svc.log" || true)
  [ -z "$line" ] && kill -0 "${PIDS[-1]}" 2>/dev/null || break
  sleep 0.1
done
[ -n "$line" ] || fail "faultsvc did not start: $(cat "$WORK/svc.log")"
app=$(sed 's/.* on \([0-9.:]*\), admin on .*/\1/' <<<"$line") admin=${line##* admin on }
curl -fsS -o /dev/null "http://$admin/debug/pprof/" || fail "faultsvc's admin $admin does not answer"
pp=http://$admin/debug/pprof
cat >"$WORK/go.lua" <<LUA
options = {
  target = "http://$app", rate = 40, max_vus = 20, duration = "14s",
  profile = {
    { source = "pprof", url = "$pp/profile", window = "1s" },
    { source = "pprof", type = "heap", url = "$pp/heap", window = "1s" },
    { source = "pprof", type = "allocs", url = "$pp/allocs", window = "2s" },
    { source = "pprof", type = "mutex", url = "$pp/mutex", window = "2s" },
    { source = "pprof", type = "block", url = "$pp/block", window = "2s" },
    { source = "pprof", type = "goroutine", url = "$pp/goroutine", window = "2s" },
  },
}
task(1, function(vu) http.get("/api/products?page=" .. math.random(0, 24), { name = "GET /api/products" }) end)
LUA
timeout 90 "$LOADCTL" start "$WORK/go.lua" --quiet --web 127.0.0.1:0 --out "$WORK/go" >"$WORK/go.out" 2>&1 &
LP=$!
PIDS+=($LP)
wait_url "$WORK/go.out"
# the browser starts at once: the live page must see its points while the 14 s run lasts, and Chromium's own
# start took more than the 8 s left after the check below on a loaded machine (load 21: 'Timeout 30000ms')
mkdir -p "$WORK/shots"
NODE_PATH="$NPM_DIR/node_modules" timeout 60 node "$LOADCTL_SRC/tests/integration/web/profile_views.js" --live \
  "$URL" "$WORK/shots" >"$WORK/live.out" 2>"$WORK/live.log" &
NODE=$!
PIDS+=($NODE)
sleep 6
curl -fsS "${URL%/}/api/timeline" >"$WORK/live.json" || fail "GET /api/timeline"
live=$(jq '.heap.t | length' "$WORK/live.json")
echo "live /api/timeline after 6 s: $live heap points, $(jq '.gc.t | length' "$WORK/live.json") gc points"
[ "$live" -ge 2 ] || fail "the live page's timeline has $live heap points after 6 s"
wait "$NODE" || fail "live page: $(tail -5 "$WORK/live.log")"
cat "$WORK/live.out"
grep -q '^live_heap_paths [1-9]' "$WORK/live.out" || fail "the live page does not draw the heap chart"
grep -q '^errors \[\]' "$WORK/live.out" || fail "live page errors"
rc=0
wait "$LP" || rc=$?
[ "$rc" -eq 0 ] || [ "$rc" -eq 99 ] || fail "loadctl start exited $rc: $(tail -5 "$WORK/go.out")"
S=$WORK/go/summary.json
echo "heap growth $(jq '.profile_timeline.heap.bytes[-1]' "$S") B over $(jq '.profile_timeline.heap.bytes|length' "$S") windows; gc shares $(jq -c '[.profile_timeline.gc.share[] * 100 | floor]' "$S") %"
[ "$(jq '.profile_timeline.heap.bytes[-1] >= 4*1048576' "$S")" = true ] || fail "heap series grew under 4 MiB (~560 requests x 64 KiB kept)"
[ "$(jq '[.profile_timeline.gc.share[] | select(. >= 0 and . <= 1)] | length >= 5' "$S")" = true ] || fail "GC share series"
echo "allocated per request: $(jq '.profile_timeline.alloc.run_bytes_per_req' "$S") B; gc windows with a p99: $(jq '[.profile_timeline.gc.p99_ms[] | select(. != null)] | length' "$S")"
[ "$(jq '.profile_timeline.alloc.run_bytes_per_req >= 65536' "$S")" = true ] || fail "under 64 KiB allocated per request (each keeps 64 KiB)"
[ "$(jq '[.profile_timeline.gc.p99_ms[] | select(. != null and . > 0)] | length >= 5' "$S")" = true ] || fail "GC windows not joined to latency"
profdata "$WORK/go/report.html" >"$WORK/go-data.json"
want=$(grep -n 'b := make(\[\]byte, kb<<10)' "$LOADCTL_SRC/tests/targets/faults/svc/leak.go" | cut -d: -f1)
got=$(jq -r '.types.heap.lines.functions["main.rememberPage"] | "\(.file):\(.line)"' "$WORK/go-data.json")
echo "heap: main.rememberPage at $got (its make() is leak.go:$want)"
[[ "$got" == */tests/targets/faults/svc/leak.go:"$want" ]] || fail "heap line view: main.rememberPage at $got"
mix=$(grep -n '^func mix(' "$LOADCTL_SRC/tests/targets/faults/svc/hash.go" | cut -d: -f1)
got=$(jq -r '.lines.functions["main.mix"] | "\(.file):\(.line)"' "$WORK/go-data.json")
echo "cpu: main.mix's hottest line $got (func mix at hash.go:$mix)"
line=${got##*:}
[[ "$got" == */hash.go:* ]] && [ "$line" -gt "$mix" ] && [ "$line" -le $((mix + 8)) ] || fail "cpu line view: main.mix at $got"
mkdir -p "$WORK/shots"
NODE_PATH="$NPM_DIR/node_modules" timeout 120 node "$LOADCTL_SRC/tests/integration/web/profile_views.js" \
  "file://$WORK/go/report.html" "$WORK/shots" >"$WORK/browser.out" 2>"$WORK/browser.log" || fail "browser: $(tail -5 "$WORK/browser.log")"
cat "$WORK/browser.out"
for t in cpu heap allocs mutex block goroutine; do
  arcs= locs= lines=
  read -r arcs locs lines < <(awk -v t="$t" '$1 == "type" && $2 == t {print $4, $6, $8}' "$WORK/browser.out") || true
  if [ -z "$arcs" ] && { [ "$t" = mutex ] || [ "$t" = block ]; }; then
    echo "type $t: no window with contention (a quiet service), not in the selector"
    continue
  fi
  [ -n "$arcs" ] || fail "type $t is not in the selector"
  # mutex and block: a quiet service may record a window with no delay at all (nothing to draw)
  [ "$t" = mutex ] || [ "$t" = block ] || [ "$arcs" -ge 3 ] || fail "type $t: $arcs sunburst arcs"
  if [ "$t" = goroutine ]; then
    [ "$lines" -eq 0 ] || fail "goroutine windows have no line numbers, yet the Lines view lists $lines"
  elif [ "$t" != mutex ] && [ "$t" != block ]; then # a quiet service may not contend at all
    [ "$locs" -ge 3 ] && [ "$lines" -ge 1 ] || fail "type $t: $locs file:line cells, $lines lines"
  fi
done
grep -q '^heap_paths [1-9]' "$WORK/browser.out" || fail "the heap chart is not drawn"
grep -q '^status ok' "$WORK/browser.out" && grep -q '^errors \[\]' "$WORK/browser.out" || fail "page errors"
[ -n "${PROFILE_SHOTS:-}" ] && mkdir -p "$PROFILE_SHOTS" && cp "$WORK"/shots/*.png "$PROFILE_SHOTS/"

# ---- Python ----
cat >"$WORK/app.py" <<'PY'
import sys
from wsgiref.simple_server import WSGIRequestHandler, make_server
import loadctl_agent


def burn(n):
    x = 0
    for i in range(n):  # burn-loop
        x += i * i
    return x


def app(environ, start_response):
    burn(100000)
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"ok"]


class Quiet(WSGIRequestHandler):
    def log_message(self, *args):
        pass


agent = loadctl_agent.start(listen="127.0.0.1:0")
srv = make_server("127.0.0.1", 0, loadctl_agent.wsgi(app), handler_class=Quiet)
print("PORTS", srv.server_port, agent.address[1], flush=True)
srv.serve_forever()
PY
# the agent's sampler process at the normal scheduling class, not its default SCHED_IDLE: this test is about the
# report's views of its profiles, and beside another test (both cores busy) a SCHED_IDLE sampler can take no
# tick in a 2 s window (measured at load 27: 3 of 4 CPU profiles empty; normal: 4 of 4 with samples)
LOADCTL_AGENT_SAMPLER_SCHED=normal PYTHONPATH=$LOADCTL_SRC/agents/python timeout 60 python3 "$WORK/app.py" >"$WORK/py.out" 2>"$WORK/py.log" &
PIDS+=($!)
for _ in $(seq 1 100); do grep -q '^PORTS' "$WORK/py.out" 2>/dev/null && break; sleep 0.1; done
read -r _ ap pp < <(grep '^PORTS' "$WORK/py.out") || fail "the Python app did not start: $(cat "$WORK/py.log")"
cat >"$WORK/py.lua" <<LUA
options = {
  target = "http://127.0.0.1:$ap", users = 2, duration = "6s",
  profile = { { source = "pprof", url = "http://127.0.0.1:$pp/debug/pprof/profile", window = "2s" },
              { source = "pprof", type = "wall", url = "http://127.0.0.1:$pp/debug/pprof/wall", window = "2s" } },
}
task(1, function(vu) http.get("/", { name = "GET /" }) end)
LUA
rc=0
timeout 60 "$LOADCTL" start "$WORK/py.lua" --quiet --out "$WORK/py" >"$WORK/pyrun.out" 2>&1 || rc=$?
[ "$rc" -eq 0 ] || [ "$rc" -eq 99 ] || fail "loadctl start (Python) exited $rc: $(tail -5 "$WORK/pyrun.out")"
profdata "$WORK/py/report.html" >"$WORK/py-data.json"
loop=$(grep -n '# burn-loop' "$WORK/app.py" | cut -d: -f1)
jq -c '.lines.lines[:3][] | {f, file, line, flat}' "$WORK/py-data.json"
[ "$(jq '.lines.has_lines' "$WORK/py-data.json")" = true ] || fail "the Python agent's CPU profile has no lines"
n=$(jq --argjson a "$loop" '[.lines.lines[] | select((.f | endswith("burn")) and (.file | endswith("app.py"))
  and .line >= $a and .line <= $a + 1)] | length' "$WORK/py-data.json")
[ "$n" -ge 1 ] || fail "no hot line of burn() at app.py:$loop..$((loop + 1))"
wall=$(jq -r '.types.wall.lines.functions | to_entries[] | select(.key | endswith("burn")) | "\(.value.file):\(.value.line)"' "$WORK/py-data.json")
echo "wall: burn() at $wall"
[[ "$wall" == */app.py:* ]] && [ "${wall##*:}" -ge "$loop" ] && [ "${wall##*:}" -le $((loop + 1)) ] ||
  fail "the wall type's lines do not name burn()'s loop: $wall"
echo "ok: heap series rises, GC share, live timeline, lines (Go heap/cpu, Python cpu), sunburst in every type"
