#!/usr/bin/env bash
# profile_leak.sh - the `leak` finding on the fault corpus's service: faultsvc --variant control
# --leak-kb 128 keeps 128 KiB per GET /api/products in main.rememberPage; a run pulling 1 s heap windows
# must name main.rememberPage with kind "leak" (and `loadctl report` gives it again); the same service
# without --leak-kb must get no leak finding. The heap-growth series (summary.json profile_timeline, the report's
# memory chart) must rise by the planted amount in the leaky run and stay well under it in the clean one.
# ctest: pair - heap growth at a tenth of the planted amount, no timing bound: may run beside one other such test
set -euo pipefail
: "${LOADCTL:?}" "${LOADCTL_SRC:?}" "${LOADCTL_BUILD:?}"
command -v go >/dev/null || { echo "skip: no go toolchain for faultsvc"; exit 77; }
command -v jq >/dev/null || { echo "skip: no jq"; exit 77; }
WORK=$(mktemp -d /tmp/loadctl-profile-leak-XXXXXX)
SVC=$LOADCTL_BUILD/faultsvc
PID=
cleanup() { [ -z "$PID" ] || kill "$PID" 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }
(cd "$LOADCTL_SRC/tests/targets/faults/svc" && GOFLAGS=-mod=mod GOPROXY=off \
  GOCACHE=${GOCACHE:-${HOME:-/tmp}/.cache/go-build} go build -o "$SVC" .) || fail "building faultsvc"

# run NAME [faultsvc flags]: 8 s of GET /api/products at 40/s with heap windows of 1 s
run() {
  local name=$1 app admin rc line
  shift
  # GOGC=20: Go updates its heap profile at each GC; collect often enough that most 1 s windows show one.
  # Ports: the service binds port 0 and says which it got once it serves ("variant ... on ADDR, admin on ADDR");
  # ports picked here and bound later could be taken meanwhile by the other test of the pair
  GOGC=20 "$SVC" --variant control --addr 127.0.0.1:0 --admin-addr 127.0.0.1:0 --duration 60s "$@" >"$WORK/svc-$name.log" 2>&1 &
  PID=$!
  for _ in $(seq 1 300); do
    line=$(grep -m1 ', admin on ' "$WORK/svc-$name.log" || true)
    [ -z "$line" ] && kill -0 "$PID" 2>/dev/null || break
    sleep 0.1
  done
  [ -n "$line" ] || { cat "$WORK/svc-$name.log"; fail "$name: faultsvc did not start (its log above)"; }
  app=$(sed 's/.* on \([0-9.:]*\), admin on .*/\1/' <<<"$line") admin=${line##* admin on }
  curl -fsS -o /dev/null "http://$admin/debug/pprof/" || fail "$name: faultsvc's admin $admin does not answer"
  cat >"$WORK/$name.lua" <<LUA
options = {
  target = "http://$app", rate = 40, max_vus = 20, duration = "8s",
  profile = { { source = "pprof", type = "heap", url = "http://$admin/debug/pprof/heap", window = "1s" } },
}
task(1, function(vu) http.get("/api/products?page=" .. math.random(0, 24), { name = "GET /api/products" }) end)
LUA
  set +e
  timeout 60 "$LOADCTL" start "$WORK/$name.lua" --out "$WORK/run-$name" >"$WORK/out-$name.txt" 2>&1
  rc=$?
  set -e
  kill "$PID" 2>/dev/null || true
  wait "$PID" 2>/dev/null || true
  PID=
  [ "$rc" -eq 0 ] || [ "$rc" -eq 99 ] || { tail -20 "$WORK/out-$name.txt"; fail "$name: loadctl start exited $rc"; }
  echo "$name: heap windows ok: $(jq -s '[.[] | select(.type=="heap" and .status=="ok")] | length' \
    "$WORK/run-$name/profiles/index.jsonl")"
  jq -c '.findings[] | select(.kind=="leak") | {function, growth_bytes, bytes_per_s, samples, steadiness}' \
    "$WORK/run-$name/summary.json"
}
leaks() { jq --arg f "$2" '[.findings[] | select(.kind=="leak" and ($f == "" or .function==$f))] | length' "$WORK/run-$1/summary.json"; }

run leak --leak-kb 128
# why heap windows failed, when they did: each window's status and error, and the service's last lines
why() { jq -c 'select(.type=="heap") | {status, error}' "$WORK/run-$1/profiles/index.jsonl" | sort | uniq -c
  tail -5 "$WORK/svc-$1.log"; tail -5 "$WORK/out-$1.txt"; }
[ "$(leaks leak main.rememberPage)" -eq 1 ] || { why leak; fail "no leak finding naming main.rememberPage"; }
[ "$(jq '[.findings[] | select(.kind=="leak")][0].growth_bytes >= 4*1048576' "$WORK/run-leak/summary.json")" = true ] ||
  fail "leak growth under 4 MiB (320 requests x 128 KiB planted)"
# the heap-growth series next to latency (summary.json profile_timeline, report.html's memory section)
growth() { jq '.profile_timeline.heap.bytes[-1] // 0' "$WORK/run-$1/summary.json"; }
rises() { jq '.profile_timeline.heap.bytes as $b | [range(1; $b|length) | select($b[.] > $b[. - 1])] | length' \
  "$WORK/run-$1/summary.json"; }
echo "leak: heap growth $(growth leak) B over $(jq '.profile_timeline.heap.bytes|length' "$WORK/run-leak/summary.json") windows, rising in $(rises leak)"
[ "$(jq '.profile_timeline.heap.kind' "$WORK/run-leak/summary.json")" = '"growth"' ] || fail "heap series kind"
[ "$(jq "$(growth leak) >= 4*1048576" -n)" = true ] || fail "heap series grew under 4 MiB"
[ "$(jq -n "$(rises leak) >= 3")" = true ] || fail "heap series rose in fewer than 3 windows"
grep -q 'data-chart=\"heap\"' "$WORK/run-leak/report.html" || fail "report.html has no heap chart"
"$LOADCTL" report "$WORK/run-leak" --quiet --no-index >/dev/null 2>&1 || fail "loadctl report"
[ "$(jq '.profile_timeline.heap.bytes|length' "$WORK/run-leak/summary.json")" -ge 4 ] || fail "loadctl report lost the heap series"
[ "$(leaks leak main.rememberPage)" -eq 1 ] || fail "loadctl report lost or doubled the leak finding"
run clean
[ "$(leaks clean "")" -eq 0 ] || fail "a leak finding without the planted leak"
echo "clean: heap growth $(growth clean) B"
[ "$(jq -n "$(growth clean) < $(growth leak) / 4")" = true ] || fail "the clean run's heap grew as much as the leaky one's"
echo "ok: leak named with --leak-kb, none without"
