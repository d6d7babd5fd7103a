#!/usr/bin/env bash
# scenario_api.sh - the scenario API through `loadctl start` with 2 workers (docs/scenario-api.md):
# data.csv():for_vu() gives each of 20 VUs over two workers its own row of 20 (VU ids 1..N across workers).
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

echo "scenario_api: ok"
