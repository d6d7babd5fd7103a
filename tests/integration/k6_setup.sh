#!/usr/bin/env bash
# k6_setup.sh - setup() and teardown() run once per run, not per worker or VU (docs/scenario-api.md):
# with 3 local workers and 6 VUs, setup() and teardown() each run exactly once (a line in a file and one
# request each on the testserver), every VU on every worker receives setup()'s table as `data`, and
# teardown() receives it too; a setup() that raises stops the run before any load with file:line.
# ctest: light - little CPU and no timing-sensitive assertion: may run beside another light test
source "$(dirname "$0")/dist_lib.bash"
start_testserver 120

cat >"$T/hooks.lua" <<LUA
options = { target = "http://127.0.0.1:$PORT", users = 6, duration = "2s" }
local function note(line) local f = assert(io.open("$T/hooks.txt", "a")); f:write(line, "\n"); f:close() end
function setup()
  local r = http.get("/ok")
  note("setup " .. r.status)
  return { token = "tok-42", items = { 3, 5 } }
end
function on_start(vu, data) vu.seen = data.token end
task(1, function(vu, data)
  http.get("/ok", { name = "vu " .. vu.id .. " " .. vu.seen .. " " .. data.token .. " " .. data.items[2] })
  sleep(0.2)
end)
function teardown(data)
  http.get("/ok")
  note("teardown " .. data.token .. " " .. #data.items)
end
LUA
before=$(count)
timeout 60 "$LOADCTL" start "$T/hooks.lua" --workers 3 --threads 3 --allow-exec --quiet --out "$T/run" >"$T/run.log" 2>&1
rc=$?
[ $rc -eq 0 ] || fail "run exited $rc"
after=$(count)
cat "$T/hooks.txt"
[ "$(cat "$T/hooks.txt")" = "$(printf 'setup 200\nteardown tok-42 2')" ] || fail "hooks ran: $(cat "$T/hooks.txt")"
total=$(json "$T/run/summary.json" 'd["totals"]["requests"]')
extra=$(( after - before - total ))
echo "testserver served $((after - before)), the run counted $total: setup + teardown sent $extra"
[ "$extra" = 2 ] || fail "setup and teardown sent $extra requests, want 2 (one each, once per run)"
names=$(json "$T/run/summary.json" '",".join(sorted(r["name"] for r in d["requests"]))')
want=$(for i in 1 2 3 4 5 6; do echo "vu $i tok-42 tok-42 5"; done | paste -sd,)
echo "names: $names"
[ "$names" = "$want" ] || fail "every VU should see data: got $names"
workers=$(json "$T/run/summary.json" 'len(d["run"]["workers"])')
[ "$workers" = 3 ] || fail "the run had $workers workers, want 3"

# --- a setup() that raises: no load, exit 2, the message names file:line
cat >"$T/bad.lua" <<LUA
options = { target = "http://127.0.0.1:$PORT", users = 2, duration = "2s" }
function setup()
  error("no token")
end
task(1, function(vu) http.get("/ok") end)
LUA
before=$(count)
timeout 60 "$LOADCTL" start "$T/bad.lua" --workers 2 --quiet --out "$T/bad" >"$T/bad.log" 2>&1
rc=$?
[ $rc -eq 2 ] || fail "a failing setup() should exit 2, got $rc"
grep -q "bad.lua:3: no token" "$T/bad.log" || fail "the setup() error does not name bad.lua:3"
[ "$(count)" = "$before" ] || fail "load was sent after setup() failed"
echo "PASS"
