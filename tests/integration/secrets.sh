#!/usr/bin/env bash
# secrets.sh - planted secrets never reach a file of the run directory, the runs index, a log line, the
# terminal, the rebuilt report or the web UI (issue 21 item 3): a user:password in options.target, a
# `--secret` value used in a URL, a check name and a log() line, a user:password in a request's absolute
# URL (also in a connect error's message), and Authorization/Cookie request headers (sent to the target,
# which must receive them: hiding is for our outputs, not the wire).
# ctest: light - little CPU and no timing-sensitive assertion: may run beside another light test
source "$(dirname "$0")/dist_lib.bash"
start_testserver 60
need_engine
WEB=$(free_port)
cat >"$T/s.lua" <<LUA
options = { target = "http://alice:PlantedTargetPw1@127.0.0.1:$PORT", users = 2, duration = "3s" }
task(1, function(vu)
  local r = http.get("/echo?key=" .. env("API_KEY"),
    {name = "echo " .. env("API_KEY"), headers = {Authorization = "Bearer PlantedBearer2", Cookie = "sid=PlantedCookie3"}})
  check(r, {["key " .. env("API_KEY") .. " echoed"] = function(r) return r.body:find(env("API_KEY"), 1, true) ~= nil end,
            ["auth sent"] = function(r) return r.body:find("PlantedBearer2", 1, true) ~= nil end})
  log("calling with " .. env("API_KEY"))
  http.get("http://bob:PlantedUrlPw5@127.0.0.1:$PORT/status/500")
  http.get("http://carol:PlantedRefusedPw6@127.0.0.1:1/never", {name = "refused"})
  sleep(0.05)
end)
LUA
cd "$T"
"$LOADCTL" start s.lua --secret API_KEY=PlantedEnvSecret4 --web "127.0.0.1:$WEB" >"$T/out.txt" 2>"$T/err.log" &
S=$!; PIDS+=($S)
: >"$T/web.txt"
for _ in $(seq 1 40); do
  curl -fsS "http://127.0.0.1:$WEB/api/run" >>"$T/web.txt" 2>/dev/null && echo >>"$T/web.txt"
  curl -fsS "http://127.0.0.1:$WEB/api/stats" >>"$T/web.txt" 2>/dev/null && echo >>"$T/web.txt"
  kill -0 $S 2>/dev/null || break
  sleep 0.1
done
bwait $S 60 || fail "loadctl start failed"
RUN=$(ls -d "$T"/runs/*/ | head -1)
[ -n "$RUN" ] || fail "no run directory under $T/runs"
"$LOADCTL" report "$RUN" >"$T/report.out" 2>"$T/report.err" || fail "loadctl report failed"
grep -q '"api/run"\|"target"' "$T/web.txt" || grep -q "users" "$T/web.txt" || fail "the web UI answered nothing to check"
python3 - "$RUN" <<'PY' || fail "the checks that prove the values were used did not pass"
import json, sys
d = json.load(open(sys.argv[1] + "/summary.json"))
checks = {c["name"]: c for c in d["checks"]}
assert checks["key *** echoed"]["passes"] > 0, checks   # the target got the real value, the name hides it
assert checks["auth sent"]["passes"] > 0, checks
assert any(r["name"] == "echo ***" for r in d["requests"]), [r["name"] for r in d["requests"]]
print("secret values reached the target: %d echo checks passed" % checks["key *** echoed"]["passes"])
PY
found=$(grep -rIl -e PlantedTargetPw1 -e PlantedEnvSecret4 -e PlantedUrlPw5 -e PlantedRefusedPw6 \
  -e PlantedBearer2 -e PlantedCookie3 "$T/runs" "$T/out.txt" "$T/err.log" "$T/web.txt" "$T/report.out" \
  "$T/report.err" || true)
[ -z "$found" ] || { grep -rIo -e 'Planted[A-Za-z]*[0-9]' $found | sort | uniq -c; fail "secrets found in: $found"; }
files=$(find "$T/runs" -type f | wc -l)
grep -q '\*\*\*' "$T/err.log" || fail "the scenario's log() line with the secret was not shown hidden"
echo "secrets: none of 6 planted secrets in $files files of the run directory and index, the logs, the terminal or $(wc -l <"$T/web.txt") web answers"
