#!/usr/bin/env bash
# k6_scenarios.sh - several scenarios in one run (options.scenarios, docs/scenario-api.md): a
# shared-iterations scenario of 300 and a constant-arrival-rate one of 50/s for 4 s starting at 2 s run
# side by side on 3 workers x 2 threads: exactly 300 and exactly 200 requests (arrivals dealt over every
# thread of every worker), each exec function called only by its own scenario with its own env, the
# arrivals only from 2 s on, per-scenario counts in summary.json, the report and {scenario=...}
# thresholds, and the run over when the last scenario is; then all six executors in one
# run (per-vu-iterations 3 x 5 exact, the weighted tasks for a scenario without exec), and mistakes
# refused with file:line.
# ctest: light - no timing-sensitive assertion (exact counts): may run beside other light tests
source "$(dirname "$0")/dist_lib.bash"
start_testserver 120

cat >"$T/two.lua" <<LUA
options = {
  target = "http://127.0.0.1:$PORT",
  scenarios = {
    buy = { executor = "shared-iterations", vus = 10, iterations = 300, exec = "buy",
            env = { STEP = "pay" }, tags = { flow = "checkout" } },
    browse = { executor = "constant-arrival-rate", rate = 50, timeUnit = "1s", duration = "4s",
               startTime = "2s", preAllocatedVUs = 5, maxVUs = 50, exec = "browse" },
  },
  thresholds = { ["requests{scenario=buy, flow=checkout}"] = "== 300", ["requests{scenario=browse}"] = "> 150",
                 ["p99{scenario=buy}"] = "< 10s" },
}
function buy(vu, data)
  if vu.scenario ~= "buy" or env("STEP") ~= "pay" then error("buy() ran for " .. tostring(vu.scenario)) end
  http.get("/ok?buy", { name = "GET /buy" })
end
function browse(vu, data)
  if vu.scenario ~= "browse" or env("STEP") ~= nil then error("browse() ran for " .. tostring(vu.scenario)) end
  http.get("/ok?browse", { name = "GET /browse" })
end
LUA
"$LOADCTL" check "$T/two.lua" >"$T/check.out" 2>&1 || fail "check refused two.lua: $(cat "$T/check.out")"
grep -q "scenario:   buy: shared-iterations, 10 vus, 300 iterations shared" "$T/check.out" ||
  fail "check does not print scenario buy: $(cat "$T/check.out")"
grep -q "scenario:   browse: constant-arrival-rate, up to 50.00 iterations/s, max_vus 50, from 2s for 4s, exec browse" \
  "$T/check.out" || fail "check does not print scenario browse: $(cat "$T/check.out")"

before=$(count)
t0=$(date +%s.%N)
timeout 90 "$LOADCTL" start "$T/two.lua" --workers 3 --threads 2 --quiet --out "$T/two" >"$T/two.log" 2>&1 ||
  fail "the run exited $?"
secs=$(python3 -c "import time; print(round(time.time() - $t0, 1))")
served=$(($(count) - before))
S="$T/two/summary.json"
buy=$(json "$S" '[r["count"] for r in d["requests"] if r["name"] == "GET /buy"][0]')
browse=$(json "$S" '[r["count"] for r in d["requests"] if r["name"] == "GET /browse"][0]')
errors=$(json "$S" 'd["totals"]["errors"]')
echo "two scenarios, 3 workers x 2 threads: GET /buy $buy, GET /browse $browse, errors $errors, testserver served $served, ${secs}s"
[ "$buy" = 300 ] || fail "shared-iterations 300 ran $buy"
[ "$browse" = 200 ] || fail "50/s for 4 s sent $browse, not 200"
[ "$served" = $((buy + browse)) ] || fail "the testserver served $served, loadctl counted $((buy + browse))"
[ "$errors" = 0 ] || fail "$errors errors: an exec function ran for the wrong scenario or env leaked ($(grep -h ran "$T/two/failures.csv" | head -2))"
python3 -c "import sys; sys.exit(0 if $secs < 20 else 1)" || fail "the run took ${secs}s: it ends with its last scenario (6 s), not at buy's maxDuration"

per=$(json "$S" '" ".join("%s:%s:%d:%d:%d:%d" % (s["name"], s["executor"], s["iterations"], s["requests"], s["errors"], s["iteration_duration"]["count"]) for s in d["scenarios"])')
echo "summary.json scenarios (name:executor:iterations:requests:errors:iteration_duration count): $per"
[ "$per" = "browse:constant-arrival-rate:$browse:$browse:0:$browse buy:shared-iterations:300:300:0:300" ] ||
  fail "per-scenario counts: $per"
grep -q '<section id="scenarios">' "$T/two/report.html" || fail "report.html has no Scenarios section"
# the scenario's tags (scenario=NAME and its own) on its requests: threshold selectors read them
ths=$(json "$S" '" | ".join("%s = %d %s" % (t["expr"].split("}")[0] + "}", t["value"], t["ok"]) for t in sorted(d["thresholds"], key=lambda t: t["expr"]) if "requests" in t["expr"])')
echo "thresholds on scenario tags: $ths"
[ "$ths" = "requests{scenario=browse} = $browse True | requests{scenario=buy, flow=checkout} = 300 True" ] ||
  fail "thresholds on {scenario=...} selectors: $ths"

# browse starts at 2 s: none of its arrivals in the first two intervals; buy's are in intervals too
first=$(python3 - "$T/two/intervals.jsonl" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
alls = [r for r in rows if r.get("name") == "(all)"]
t0 = min(r["t"] for r in alls)
def count(r, name):
    return sum(m["count"] for m in r.get("metrics", []) if m["name"] == name)
early = sum(count(r, "iteration_duration{scenario=browse}") for r in alls if r["t"] - t0 < 2000)
total_buy = sum(count(r, "iteration_duration{scenario=buy}") for r in alls)
print(early, total_buy)
PY
)
echo "browse iterations in the first 2 s, buy iterations over all intervals: $first"
set -- $first
# one arrival per worker is due at exactly 2 s and may start up to 0.5 ms early (runner.c), ending in the
# interval before
[ "$1" -le 3 ] || fail "browse (startTime 2s) ran $1 iterations before 2 s"
[ "$2" = 300 ] || fail "intervals.jsonl counts $2 buy iterations"

# all six executors side by side, one of them on the weighted tasks (no exec)
cat >"$T/six.lua" <<LUA
options = {
  target = "http://127.0.0.1:$PORT",
  scenarios = {
    a_const = { executor = "constant-vus", vus = 2, duration = "2s", exec = "paced" },
    b_ramp = { executor = "ramping-vus", startVUs = 0, stages = { {duration = "1s", target = 3}, {duration = "1s", target = 0} }, exec = "paced" },
    c_rate = { executor = "constant-arrival-rate", rate = 20, duration = "2s", exec = "paced" },
    d_ramprate = { executor = "ramping-arrival-rate", startRate = 10, stages = { {duration = "2s", target = 30} }, exec = "paced" },
    e_shared = { executor = "shared-iterations", vus = 4, iterations = 40, startTime = "500ms" },
    f_pervu = { executor = "per-vu-iterations", vus = 3, iterations = 5, exec = "paced" },
  },
}
task(1, function(vu) http.get("/ok", { name = "task " .. vu.scenario }) end)
function paced(vu) http.get("/ok", { name = "exec " .. vu.scenario }); sleep(0.05) end
LUA
timeout 60 "$LOADCTL" start "$T/six.lua" --workers 2 --threads 2 --quiet --out "$T/six" >"$T/six.log" 2>&1 ||
  fail "the six-executor run exited $?"
six=$(json "$T/six/summary.json" '" ".join("%s=%d" % (s["name"], s["requests"]) for s in d["scenarios"])')
names=$(json "$T/six/summary.json" '" ".join(sorted(r["name"] for r in d["requests"]))')
echo "six executors: $six; request names: $names"
for s in a_const b_ramp c_rate d_ramprate; do
  n=$(json "$T/six/summary.json" "[s['requests'] for s in d['scenarios'] if s['name'] == '$s'][0]")
  [ "$n" -gt 0 ] || fail "scenario $s sent nothing"
done
[ "$(json "$T/six/summary.json" '[s["requests"] for s in d["scenarios"] if s["name"] == "e_shared"][0]')" = 40 ] ||
  fail "shared-iterations 40: $six"
[ "$(json "$T/six/summary.json" '[s["requests"] for s in d["scenarios"] if s["name"] == "f_pervu"][0]')" = 15 ] ||
  fail "per-vu-iterations 3 x 5: $six"
[ "$names" = "exec a_const exec b_ramp exec c_rate exec d_ramprate exec f_pervu task e_shared" ] ||
  fail "each scenario should call its exec (e_shared the tasks): $names"

# mistakes, refused by check with file:line
refuse() { # WANT TEXT-OF-SCENARIOS [EXTRA-OPTIONS]
  printf 'options = { target = "http://127.0.0.1:1",%s\n  scenarios = {\n    %s\n  },\n}\nfunction f(vu) end\n' \
    "${3:-}" "$2" >"$T/bad.lua"
  if "$LOADCTL" check "$T/bad.lua" >"$T/bad.out" 2>&1; then fail "check accepted: $2"; fi
  grep -q "$1" "$T/bad.out" || fail "for '$2' check said: $(cat "$T/bad.out") (wanted $1)"
  echo "refused: $(head -1 "$T/bad.out")"
}
refuse 'bad.lua:3: .*executor must be one of' 'x = { executor = "constant-users", exec = "f" },'
refuse "bad.lua:3: .*executor constant-vus takes no 'rate'" 'x = { executor = "constant-vus", duration = "1s", rate = 5, exec = "f" },'
refuse "bad.lua:3: .*exec = \"nope\" names no global function" 'x = { executor = "constant-vus", duration = "1s", exec = "nope" },'
refuse "bad.lua:1: option 'users' is the single-scenario shorthand" 'x = { executor = "constant-vus", duration = "1s", exec = "f" },' ' users = 3,'
refuse "bad.lua:3: .*has no exec function and the file declares no task" 'x = { executor = "constant-vus", duration = "1s" },'
echo "1 passed, 0 failed"
