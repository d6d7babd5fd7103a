#!/usr/bin/env bash
# check_equals_start.sh - `loadctl check` runs exactly the validation `loadctl start` and `loadctl master`
# run: for each broken scenario (a bad threshold, an unknown profile source, an unknown option, no task,
# a syntax error) all three exit 1 with the same "file:line: why" message, and start/master send no load
# (no run directory). A valid scenario with a k6-style threshold table passes check.
# ctest: light - little CPU and no timing-sensitive assertion: may run beside another light test
set -u
LOADCTL=${LOADCTL:?}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

bad() { # NAME LINE TEXT: a scenario file NAME.lua; check must name NAME.lua:LINE
  printf '%b' "$3" > "$T/$1.lua"
  local msgs=() cmd rc out
  for cmd in check start master; do
    local extra=(--out "$T/run-$cmd")
    [ "$cmd" = check ] && extra=()
    out=$(cd "$T" && timeout 30 "$LOADCTL" "$cmd" "$1.lua" "${extra[@]}" 2>&1 >/dev/null)
    rc=$?
    [ $rc -eq 1 ] || fail "$cmd $1.lua exited $rc, want 1 ($out)"
    [ -e "$T/run-$cmd" ] && fail "$cmd $1.lua created a run directory: load would have started"
    msgs+=("${out#loadctl $cmd: }")
  done
  echo "$1: ${msgs[0]}"
  [[ "${msgs[0]}" == "$1.lua:$2: "* ]] || fail "check's message does not start with $1.lua:$2: (${msgs[0]})"
  [ "${msgs[0]}" = "${msgs[1]}" ] || fail "start says '${msgs[1]}', check says '${msgs[0]}'"
  [ "${msgs[0]}" = "${msgs[2]}" ] || fail "master says '${msgs[2]}', check says '${msgs[0]}'"
}

bad threshold 4 'options = {\n  duration = "1s",\n  thresholds = {\n    bogus = "< 1",\n  },\n}\ntask(1, function() end)\n'
bad k6list 3 'options = {\n  thresholds = {\n    http_req_duration = { "p(95) < 200", "p(99) < soon" },\n  },\n}\ntask(1, function() end)\n'
bad source 4 'options = {\n  profile = {\n    { source = "pprof", url = "http://127.0.0.1:1/debug/pprof/profile" },\n    { source = "pyroscope", url = "http://127.0.0.1:4040" },\n  },\n}\ntask(1, function() end)\n'
bad option 2 'options = {\n  user = 3,\n}\ntask(1, function() end)\n'
bad notask 1 'options = { users = 1 }\n'
bad syntax 4 'options = { users = 1 }\ntask(1, function(vu)\n  http.get("/"\nend)\n'

cat > "$T/good.lua" <<'LUA'
options = { duration = "1s", thresholds = {
  checks = "rate > 0.9", requests = "count > 0",
  http_req_duration = { { threshold = "p(95) < 200", abortOnFail = true, delayAbortEval = "10s" } } } }
task(1, function() end)
LUA
out=$("$LOADCTL" check "$T/good.lua") || fail "check refused a valid scenario: $out"
echo "$out" | grep 'threshold:  http_req_duration p(95) < 200 (abort on fail, not before 10s)' >/dev/null ||
  fail "check does not show abortOnFail/delayAbortEval: $out"
echo "check_equals_start: ok"
