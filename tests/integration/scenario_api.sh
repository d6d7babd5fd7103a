#!/usr/bin/env bash
# scenario_api.sh - the scenario API through `loadctl start` with 2 workers (docs/scenario-api.md):
# data.csv():for_vu() gives each of 20 VUs over two workers its own row of 20 (VU ids 1..N across workers);
# group() names requests "group::name" and the groups reach summary.json, stats.csv, report.html and
# {group=...} thresholds; log() lines show under `loadctl start`.
# ctest: light - little CPU and no timing-sensitive assertion: may run beside another light test
source "$(dirname "$0")/dist_lib.bash"
start_testserver 120

# --- VU ids dense across workers: 20 users, 2 workers, 20 rows -> 20 distinct rows used
{ echo "id,user"; for i in $(seq 1 20); do echo "$i,user$i"; done; } >"$T/users.csv"
cat >"$T/csv.lua" <<LUA
options = { target = "http://127.0.0.1:$PORT", users = 20, duration = "2s" }
local rows = data.csv("users.csv")
function on_start(vu) vu.row = rows:for_vu(vu) end
task(1, function(vu) http.get("/ok", { name = "row " .. vu.row.id }); sleep(0.2) end)
LUA
timeout 60 "$LOADCTL" start "$T/csv.lua" --workers 2 --threads 2 --quiet --out "$T/csvrun" >"$T/csv.log" 2>&1
rc=$?
[ $rc -eq 0 ] || fail "csv run exited $rc"
rows=$(json "$T/csvrun/summary.json" 'len({r["name"] for r in d["requests"] if r["name"].startswith("row ")})')
echo "distinct CSV rows used by 20 VUs on 2 workers: $rows"
[ "$rows" = 20 ] || fail "20 VUs used $rows distinct rows of 20, want 20"

# --- groups: names, summary.json, stats.csv, report.html, thresholds; log() shown at info
cat >"$T/groups.lua" <<LUA
options = { target = "http://127.0.0.1:$PORT", users = 2, duration = "2s",
  thresholds = { ["requests{group=checkout::pay}"] = "> 0", ["max{group=checkout}"] = "< 1us" } }
task(1, function(vu)
  if vu.iteration == 0 then log("hello from the scenario") end
  group("checkout", function()
    http.get("/ok", { name = "cart" })
    group("pay", function() http.get("/status/503", { name = "pay" }) end)
  end)
  http.get("/ok", { name = "home" })
  sleep(0.1)
end)
LUA
timeout 60 "$LOADCTL" start "$T/groups.lua" --workers 2 --quiet --out "$T/grun" >"$T/groups.log" 2>&1
rc=$?
[ $rc -eq 99 ] || fail "the failing group threshold should exit 99, got $rc"
grep -q "scenario: vu [0-9]*: hello from the scenario" "$T/groups.log" || fail "log() output is not shown under loadctl start"
names=$(json "$T/grun/summary.json" '",".join(sorted(r["name"] for r in d["requests"]))')
[ "$names" = "checkout::cart,checkout::pay::pay,home" ] || fail "request names $names"
groups=$(json "$T/grun/summary.json" '";".join("%s=%d/%d/%d" % (g["name"], g["requests"], g["count"], g["errors"]) for g in d["groups"])')
echo "groups: $groups"
n=$(json "$T/grun/summary.json" '[r["count"] for r in d["requests"] if r["name"] == "home"][0]')
[ "$groups" = "checkout=2/$((2 * n))/$n;checkout::pay=1/$n/$n" ] || fail "groups in summary.json: $groups (home count $n)"
grep -q '^group,checkout,' "$T/grun/stats.csv" || fail "stats.csv has no group row"
grep -q '^group,checkout::pay,' "$T/grun/stats.csv" || fail "stats.csv has no nested group row"
grep -q '<section id="groups">.*' "$T/grun/report.html" || fail "report.html has no Groups section"
grep -q '<td class="l">checkout::pay</td>' "$T/grun/report.html" || fail "report.html does not list checkout::pay"
th=$(json "$T/grun/summary.json" '";".join("%s:%s" % (t["expr"], t["ok"]) for t in d["thresholds"])')
echo "thresholds: $th"
case "$th" in *"requests{group=checkout::pay} > 0:True"*) ;; *) fail "group threshold on checkout::pay did not pass: $th" ;; esac
case "$th" in *"max{group=checkout} < 1us:False"*) ;; *) fail "group threshold on checkout did not fail: $th" ;; esac

# --- loadctl history --html charts all requests and the first 9 request names (as its help and report.md say)
mkdir -p "$T/hruns"
python3 - "$T/hruns/index.jsonl" <<'PY'
import json, sys
names = {"n%02d" % i: 10.0 + i for i in range(12)}
line = {"dir": "r1", "scenario": "s", "status": "ok", "start_ms": 1700000000000, "duration_s": 1, "requests": 12,
        "errors": 0, "rps": 12, "p99_all_ms": 21, "thresholds_ok": True, "p50_ms": names, "p99_ms": names,
        "rps_by_name": {}}
open(sys.argv[1], "w").write(json.dumps(line) + "\n")
PY
"$LOADCTL" history --runs "$T/hruns" --html "$T/history.html" >"$T/history.log" 2>&1 || fail "history --html failed"
charted=$(python3 - "$T/history.html" <<'PY'
import json, re, sys
data = json.loads(re.search(r'id="loadctl-data">(.*?)</script>', open(sys.argv[1]).read(), re.S).group(1))
print(",".join(s["name"] for s in data["trend"]["series"]))
PY
)
[ "$charted" = "all requests,n00,n01,n02,n03,n04,n05,n06,n07,n08" ] || fail "history --html charts: $charted"

echo "scenario_api: ok"
