#!/usr/bin/env bash
# k6_iterations.sh - executors that end by count, exact across workers (docs/scenario-api.md): k6's
# shared-iterations (1000 over 10 VUs on 3 workers) sends exactly 1000 requests to the testserver and ends
# long before its duration; per-vu-iterations runs vus x iterations; `--iterations N` (locust's) on a plain
# users scenario runs N; summary.json's scenarios entry counts the iterations and their iteration_duration
# trend (each iteration sleeps 50 ms: none is shorter); k6's other executor names are accepted where they fit and refused where not.
# ctest: light - little CPU and no timing-sensitive assertion: may run beside another light test
source "$(dirname "$0")/dist_lib.bash"
start_testserver 120

run() { # NAME FILE ARGS...: run it, check the exit code 0, echo served requests
  local name=$1 file=$2 before after rc
  shift 2
  before=$(count)
  timeout 90 "$LOADCTL" start "$file" --quiet --out "$T/$name" "$@" >"$T/$name.log" 2>&1
  rc=$?
  [ $rc -eq 0 ] || fail "$name exited $rc"
  after=$(count)
  echo $((after - before))
}

cat >"$T/shared.lua" <<LUA
options = { target = "http://127.0.0.1:$PORT", executor = "shared-iterations", vus = 10, iterations = 1000,
            duration = "60s" }
task(1, function(vu) http.get("/ok") end)
LUA
t0=$(date +%s)
served=$(run shared "$T/shared.lua" --workers 3 --threads 3)
secs=$(( $(date +%s) - t0 ))
iters=$(json "$T/shared/summary.json" 'd["totals"]["requests"]')
echo "shared-iterations 1000 over 10 VUs, 3 workers: testserver served $served, summary $iters requests, ${secs}s"
[ "$served" = 1000 ] || fail "shared-iterations 1000 sent $served requests"
[ "$iters" = 1000 ] || fail "summary counts $iters requests"
[ "$secs" -lt 45 ] || fail "the run took ${secs}s: it should end when the iterations are done, not at duration 60s"

cat >"$T/pervu.lua" <<LUA
options = { target = "http://127.0.0.1:$PORT", executor = "per-vu-iterations", vus = 7, iterations = 13 }
task(1, function(vu) http.get("/ok", { name = "vu " .. vu.id }); sleep(0.05) end)
LUA
served=$(run pervu "$T/pervu.lua" --workers 2 --threads 2)
scen=$(json "$T/pervu/summary.json" '"%s %d %d %d" % ((lambda s: (s["name"], s["iterations"], s["iteration_duration"]["count"], s["iteration_duration"]["min"]))(d["scenarios"][0]))')
echo "summary.json scenarios[0]: name, iterations, iteration_duration count and min (ms): $scen"
set -- $scen
[ "$1 $2 $3" = "pervu 91 91" ] || fail "scenarios[0] should count 91 iterations of pervu: $scen"
[ "$4" -ge 45 ] || fail "iteration_duration min $4 ms, but every iteration sleeps 50 ms (a uv timer may fire 1 ms early)"
per=$(json "$T/pervu/summary.json" '",".join(sorted(set(str(r["count"]) for r in d["requests"])))')
echo "per-vu-iterations 7 x 13 on 2 workers: served $served, per VU counts {$per}"
[ "$served" = 91 ] || fail "per-vu-iterations 7 x 13 sent $served"
[ "$per" = 13 ] || fail "each VU should run 13 iterations: $per"

cat >"$T/plain.lua" <<LUA
options = { target = "http://127.0.0.1:$PORT", users = 5, duration = "60s" }
task(1, function(vu) http.get("/ok") end)
LUA
served=$(run plain "$T/plain.lua" --workers 2 --iterations 77)
echo "--iterations 77 with 5 users on 2 workers: served $served"
[ "$served" = 77 ] || fail "--iterations 77 sent $served"

# k6's names of the existing models: accepted where they fit, refused (with file:line) where not
for ok in 'executor = "constant-vus", vus = 2, duration = "1s"' \
          'executor = "ramping-vus", stages = { {duration = "1s", users = 2} }' \
          'executor = "constant-arrival-rate", rate = 5, duration = "1s"' \
          'executor = "ramping-arrival-rate", stages = { {duration = "1s", rate = 5} }'; do
  printf 'options = { %s }\ntask(1, function(vu) end)\n' "$ok" >"$T/ok.lua"
  "$LOADCTL" check "$T/ok.lua" >"$T/check.log" 2>&1 || fail "check refused: $ok: $(cat "$T/check.log")"
done
printf 'options = {\n  rate = 5, duration = "1s",\n  executor = "constant-vus",\n}\ntask(1, function(vu) end)\n' >"$T/bad.lua"
"$LOADCTL" check "$T/bad.lua" >"$T/check.log" 2>&1 && fail "check accepted constant-vus with a rate"
grep -q "bad.lua:3: executor 'constant-vus' takes users" "$T/check.log" || fail "message: $(cat "$T/check.log")"
echo "PASS"
