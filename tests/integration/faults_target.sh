#!/usr/bin/env bash
# faults_target.sh - issue 9's target faults against the testserver, on both HTTP backends: connection
# refused, reset mid-response, stall, slow body, keep-alive closed by the server, 5xx, malformed HTTP,
# redirect loop, DNS failure. Each case asserts that loadctl keeps running (exit 0 or 99), that
# summary.json counts the requests the server saw, which error kind they got, and that
# `loadctl report` rebuilds the same numbers from the run directory. One line per case:
#   case: <name> backend=<b> result=<pass|FAIL> errors=<kind:count,...> <details>
# The whole test runs in a private network namespace when it can (nothing but loopback exists there, so
# the DNS case cannot send a query off the machine); without one the DNS case is skipped. The two
# backends' cases run side by side, each against its own testserver; their lines are printed per backend.
# ctest: pair cost=50 - generous bounds (a 300 ms timeout, >= 500 requests in 1 s, p50 < 50 ms) and little CPU: may run beside one other such test
set -u

if [ -z "${FAULTS_NETNS:-}" ]; then
  for ns in "unshare -n" "unshare -rn"; do
    if $ns sh -c 'ip link set lo up' 2>/dev/null; then
      FAULTS_NETNS=1 exec $ns bash "$0" "$@"
    fi
  done
  FAULTS_NETNS=none
fi
if [ "$FAULTS_NETNS" = 1 ]; then ip link set lo up || { echo "FAIL: cannot bring lo up in the namespace"; exit 1; }; fi

. "$(dirname "$0")/dist_lib.bash"

BACKENDS="h1 curl"
START=$(date +%s)

# one testserver per backend: the two backends' cases run side by side (each run mostly waits on its
# timeouts and the run's start), each counting what its own server saw
declare -A BPORT
for b in $BACKENDS; do
  start_testserver 300
  mv "$T/testserver.out" "$T/testserver-$b.out"
  BPORT[$b]=$PORT
done

# probe: the server's request and connection counters, over one connection (which /conns counts)
probe() {
  local out
  out=$(curl -fsS "$BASE/count" "$BASE/conns") || fail "testserver does not answer"
  P_COUNT=$(echo "$out" | sed -n 1p)
  P_CONNS=$(echo "$out" | sed -n 2p)
}

# fcmp A OP B: floating-point comparison
fcmp() { awk -v a="$1" -v b="$3" "BEGIN { exit !(a $2 b) }"; }

cat >"$T/sj.py" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
t = d["totals"]
print(f"T_REQUESTS={t['requests']} T_ERRORS={t['errors']}")
for i, name in enumerate(sys.argv[2:]):
    r = [x for x in d["requests"] if x["name"] == name]
    r = r[0] if r else {"count": 0, "errors": 0, "errors_by_kind": {}, "p50_ms": 0, "max_ms": 0, "min_ms": 0}
    kinds = ",".join(f"{k}:{v}" for k, v in sorted(r["errors_by_kind"].items())) or "none"
    print(f"N{i}_COUNT={r['count']} N{i}_ERRORS={r['errors']} N{i}_KINDS={kinds} "
          f"N{i}_MIN={r.get('min_ms', 0)} N{i}_P50={r['p50_ms']} N{i}_MAX={r['max_ms']}")
checks = {c["name"]: c for c in d.get("checks", [])}
for c in checks.values():
    key = "".join(ch if ch.isalnum() else "_" for ch in c["name"])
    print(f"C_{key}_PASS={c['passes']} C_{key}_FAIL={c['fails']}")
th = d.get("thresholds", [])
print(f"TH_N={len(th)} TH_FAILED={sum(1 for x in th if not x['ok'])}")
PY

# What `loadctl report` rebuilds must equal what the run wrote: totals and, per name, count, errors, kinds.
cat >"$T/same.py" <<'PY'
import json, sys
def key(f):
    d = json.load(open(f))
    return (d["totals"]["requests"], d["totals"]["errors"],
            sorted((r["name"], r["count"], r["errors"], sorted(r["errors_by_kind"].items())) for r in d["requests"]))
a, b = key(sys.argv[1]), key(sys.argv[2])
if a != b:
    print(f"run wrote {a}\nreport rebuilt {b}")
    sys.exit(1)
PY

CASE= BACKEND= RC= DIR= SERVED= CONNS= CASE_FAILED=

# run_load CASE BACKEND LUA_BODY: write the scenario (options line + tasks), run it bounded in time, count
# what the server saw (SERVED requests, CONNS new connections), check the exit code and the rebuild.
run_load() {
  CASE=$1 BACKEND=$2 CASE_FAILED=
  DIR="$T/run-$CASE-$BACKEND"
  printf '%s\n' "$3" >"$T/$CASE-$BACKEND.lua"
  probe
  local c0=$P_COUNT n0=$P_CONNS
  "$LOADCTL" start "$T/$CASE-$BACKEND.lua" --quiet --out "$DIR" >"$T/$CASE-$BACKEND.log" 2>&1 &
  local pid=$!
  PIDS+=("$pid")
  bwait "$pid" 40
  RC=$?
  probe
  SERVED=$((P_COUNT - c0))
  CONNS=$((P_CONNS - n0 - 1)) # the second probe's own connection
  case "$RC" in 0 | 99) ;; *) bad "loadctl exited $RC (0 or 99 expected)"; report_case; fail "$CASE/$BACKEND: exit $RC" ;; esac
  [ -s "$DIR/summary.json" ] || { bad "no summary.json"; report_case; fail "$CASE/$BACKEND: no summary.json"; }
  cp "$DIR/summary.json" "$DIR/summary.run.json"
  if ! "$LOADCTL" report "$DIR" --no-index --quiet >"$T/$CASE-$BACKEND.report.log" 2>&1; then
    bad "loadctl report failed: $(tail -3 "$T/$CASE-$BACKEND.report.log")"
  elif ! python3 "$T/same.py" "$DIR/summary.run.json" "$DIR/summary.json" >"$T/$CASE-$BACKEND.same.log"; then
    bad "loadctl report rebuilt other numbers: $(cat "$T/$CASE-$BACKEND.same.log")"
  fi
}

# names N...: load the totals and per-name numbers of the last run (N0_COUNT for the first name ...)
names() { eval "$(python3 "$T/sj.py" "$DIR/summary.json" "$@")"; }

bad() { CASE_FAILED="${CASE_FAILED:+$CASE_FAILED; }$*"; }
want() { # want WHAT ACTUAL OP EXPECTED
  fcmp "$2" "$3" "$4" || bad "$1 = $2, expected $3 $4"
}

FAILED=0
report_case() { # report_case ERRORS DETAILS
  local result=pass
  [ -n "$CASE_FAILED" ] && result=FAIL
  echo "case: $CASE backend=$BACKEND result=$result errors=${1:-?} exit=$RC ${2:-}"
  if [ -n "$CASE_FAILED" ]; then
    echo "  FAIL: $CASE_FAILED" >&2
    tail -5 "$T/$CASE-$BACKEND.log" >&2
    FAILED=$((FAILED + 1))
  fi
}

# every request failed with one kind: count > min, errors == count, kinds == kind:count
all_failed_with() { # all_failed_with KIND MIN_COUNT
  want "requests" "$N0_COUNT" ">=" "$2"
  want "errors" "$N0_ERRORS" "==" "$N0_COUNT"
  [ "$N0_KINDS" = "$1:$N0_COUNT" ] || bad "error kinds $N0_KINDS, expected $1:$N0_COUNT"
}

FREE=$(free_port)

# backend_cases B: every case on backend B against its own testserver
backend_cases() {
  local b=$1
  BASE="http://127.0.0.1:${BPORT[$b]}"
  # connection refused: nothing listens on FREE; every attempt is a connect error, none reaches the server
  run_load refused "$b" "options = { target = \"http://127.0.0.1:$FREE\", users = 2, duration = \"500ms\", http = \"$b\" }
task(1, function(vu) http.get(\"/ok\", {name = \"refused\"}) end)"
  names refused
  all_failed_with connect 100
  want "exit code" "$RC" "==" 0
  want "server requests" "$SERVED" "==" 0
  report_case "$N0_KINDS" "requests=$N0_COUNT served=$SERVED"

  # reset mid-response: headers and 10 of 1000 body bytes, then RST; the VU reconnects for each request
  run_load reset "$b" "options = { target = \"$BASE\", users = 2, duration = \"500ms\", http = \"$b\" }
task(1, function(vu) http.get(\"/reset\", {name = \"reset\"}) end)"
  names reset
  all_failed_with reset 100
  want "served" "$SERVED" "==" "$N0_COUNT"
  want "new connections" "$CONNS" "==" "$N0_COUNT"
  report_case "$N0_KINDS" "requests=$N0_COUNT served=$SERVED new_conns=$CONNS"

  # stall: VUs 1-2 wait on /delay/60000 with a 300 ms timeout; VUs 3-4 keep getting /ok meanwhile
  run_load stall "$b" "options = { target = \"$BASE\", users = 4, duration = \"1s\", http = \"$b\", timeout = \"300ms\" }
task(1, function(vu)
  if vu.id <= 2 then http.get(\"/delay/60000\", {name = \"stall\"}) else http.get(\"/ok\", {name = \"ok\"}) end
end)"
  names stall ok
  all_failed_with timeout 4
  want "stall min latency ms" "$N0_MIN" ">=" 297 # HDR buckets are 0.256 ms wide here
  want "stall max latency ms" "$N0_MAX" "<" 1000
  want "ok requests (other VUs)" "$N1_COUNT" ">=" 500
  want "ok errors" "$N1_ERRORS" "==" 0
  want "ok p50 ms" "$N1_P50" "<" 50
  want "served" "$SERVED" "==" "$T_REQUESTS"
  report_case "$N0_KINDS" "requests=$N0_COUNT served=$SERVED latency_ms=$N0_MIN..$N0_MAX ok_requests=$N1_COUNT ok_p50_ms=$N1_P50"

  # slow body: 50 bytes at one per 100 ms, timeout 400 ms; the latency recorded is the time to the timeout
  run_load slow "$b" "options = { target = \"$BASE\", users = 2, duration = \"1s\", http = \"$b\", timeout = \"400ms\" }
task(1, function(vu) http.get(\"/slow\", {name = \"slow\"}) end)"
  names slow
  all_failed_with timeout 2
  want "min latency ms" "$N0_MIN" ">=" 396
  want "max latency ms" "$N0_MAX" "<" 1000
  want "served" "$SERVED" "==" "$N0_COUNT"
  report_case "$N0_KINDS" "requests=$N0_COUNT served=$SERVED latency_ms=$N0_MIN..$N0_MAX"

  # keep-alive closed by the server, announced (/close: Connection: close) or silent (/drop): every request
  # gets a fresh connection, none is an error, and each is served exactly once (a resend on a dead
  # kept-alive connection never reached the server)
  for path in close drop; do
    run_load "$path" "$b" "options = { target = \"$BASE\", users = 2, duration = \"500ms\", http = \"$b\" }
task(1, function(vu) http.get(\"/$path\", {name = \"$path\"}) end)"
    names "$path"
    want "requests" "$N0_COUNT" ">=" 100
    want "errors" "$N0_ERRORS" "==" 0
    want "served" "$SERVED" "==" "$N0_COUNT"
    want "new connections" "$CONNS" "==" "$N0_COUNT"
    report_case "$N0_KINDS" "requests=$N0_COUNT served=$SERVED new_conns=$CONNS"
  done

  # 5xx: counted as http5xx per name; the errors threshold sees them (exit 99)
  run_load 5xx "$b" "options = { target = \"$BASE\", users = 2, duration = \"500ms\", http = \"$b\",
  thresholds = { errors = \"rate < 1%\" } }
task(1, function(vu) http.get(\"/status/500\", {name = \"GET 500\"}) end)
task(1, function(vu) http.get(\"/status/503\", {name = \"GET 503\"}) end)"
  names "GET 500" "GET 503"
  all_failed_with http5xx 50
  want "503 requests" "$N1_COUNT" ">=" 50
  want "503 errors" "$N1_ERRORS" "==" "$N1_COUNT"
  [ "$N1_KINDS" = "http5xx:$N1_COUNT" ] || bad "503 error kinds $N1_KINDS"
  want "served" "$SERVED" "==" "$T_REQUESTS"
  want "exit code" "$RC" "==" 99
  want "failed thresholds" "$TH_FAILED" "==" 1
  report_case "GET 500=$N0_KINDS;GET 503=$N1_KINDS" "requests=$T_REQUESTS served=$SERVED thresholds_failed=$TH_FAILED"

  # malformed HTTP: a non-HTTP reply, then close
  run_load malformed "$b" "options = { target = \"$BASE\", users = 2, duration = \"500ms\", http = \"$b\" }
task(1, function(vu) http.get(\"/malformed\", {name = \"malformed\"}) end)"
  names malformed
  all_failed_with protocol 100
  want "served" "$SERVED" "==" "$N0_COUNT"
  want "new connections" "$CONNS" "==" "$N0_COUNT"
  report_case "$N0_KINDS" "requests=$N0_COUNT served=$SERVED new_conns=$CONNS"

  # redirect loop, followed: options.max_redirects = 3 (requests that follow redirects go through curl
  # whatever the backend): 1 + 3 requests reach the server, then the request fails with kind protocol
  run_load redirect_follow "$b" "options = { target = \"$BASE\", users = 2, duration = \"500ms\", http = \"$b\",
  max_redirects = 3 }
task(1, function(vu) http.get(\"/redirect\", {name = \"redirect\"}) end)"
  names redirect
  all_failed_with protocol 10
  want "exit code" "$RC" "==" 0
  want "served (1 + 3 redirects per request)" "$SERVED" "==" "$((N0_COUNT * 4))"
  report_case "$N0_KINDS" "requests=$N0_COUNT served=$SERVED max_redirects=3"

  # redirect loop, not followed (the default, max_redirects = 0): each request is one 302 handed to the
  # script, not an error
  run_load redirect "$b" "options = { target = \"$BASE\", users = 2, duration = \"500ms\", http = \"$b\" }
task(1, function(vu)
  local r = http.get(\"/redirect\", {name = \"redirect\"})
  check(r, {[\"status is 302\"] = function(r) return r.status == 302 end})
end)"
  names redirect
  want "requests" "$N0_COUNT" ">=" 100
  want "errors" "$N0_ERRORS" "==" 0
  want "served (one per request: not followed)" "$SERVED" "==" "$N0_COUNT"
  want "302 checks passed" "${C_status_is_302_PASS:-0}" "==" "$N0_COUNT"
  want "302 checks failed" "${C_status_is_302_FAIL:-0}" "==" 0
  report_case "$N0_KINDS" "requests=$N0_COUNT served=$SERVED status=302 not_followed"

  # DNS failure: .invalid never resolves (RFC 6761); in the namespace no query can leave the machine
  CASE=dns BACKEND=$b RC=-
  if [ "$FAULTS_NETNS" != 1 ]; then
    echo "case: dns backend=$b result=skipped errors=- (no network namespace: a lookup could leave the machine)"
    return 0
  fi
  run_load dns "$b" "options = { target = \"http://nonexistent.invalid:80\", users = 2, duration = \"500ms\", http = \"$b\",
  timeout = \"2s\" }
task(1, function(vu) http.get(\"/ok\", {name = \"dns\"}) end)"
  names dns
  all_failed_with dns 10
  want "exit code" "$RC" "==" 0
  want "server requests" "$SERVED" "==" 0
  report_case "$N0_KINDS" "requests=$N0_COUNT served=$SERVED"
}

# both backends at once, each in a subshell writing its own log and its count of failed cases
bpids=()
for b in $BACKENDS; do
  (backend_cases "$b" && echo "$FAILED" >"$T/failed-$b") >"$T/cases-$b.out" 2>&1 &
  bpids+=($!)
done
for p in "${bpids[@]}"; do wait "$p" || true; done
for b in $BACKENDS; do
  cat "$T/cases-$b.out"
  [ -s "$T/failed-$b" ] || fail "backend $b: its cases stopped early (log above)"
  FAILED=$((FAILED + $(cat "$T/failed-$b")))
done

echo "faults_target: $(($(date +%s) - START)) s, network namespace: $FAULTS_NETNS"
[ "$FAILED" -eq 0 ] || fail "$FAILED case(s) failed"
echo "1 passed, 0 failed"
