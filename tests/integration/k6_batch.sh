#!/usr/bin/env bash
# k6_batch.sh - http.batch (docs/scenario-api.md): the requests of a batch go out at once on connections
# of their own and come back in the order given; each is counted under its own name (6 batches of 4 ->
# 6 of each name, the 404s as http4xx errors); the VU's cookies go with them; the slowest response of a
# batch of four 400 ms requests arrives well before the 1600 ms that one after the other would take.
# ctest: pair - the one timing bound (4 x 400 ms in parallel well under 1600 ms) is generous: may run beside one other such test
source "$(dirname "$0")/dist_lib.bash"
start_testserver 120

cat >"$T/b.lua" <<LUA
options = { target = "http://127.0.0.1:$PORT", executor = "per-vu-iterations", vus = 2, iterations = 3 }
local slowest = metrics.trend("batch_ms")
function on_start(vu) http.get("/setcookie") end
task(1, function(vu)
  local rs = http.batch({
    "/delay/400",
    { "GET", "/delay/400", nil, { name = "slow 2" } },
    { method = "POST", url = "/echo", body = "hi", params = { name = "echo" } },
    { "GET", "/delay/400", nil, { name = "slow 3" } },
    { "GET", "/needcookie", nil, { name = "cookie" } },
    { "GET", "/delay/400", nil, { name = "slow 4" } },
    "/status/404",
  })
  check(rs, {
    ["seven in order"] = function(r) return #r == 7 and r[1].status == 200 and r[3].body:find("POST /echo", 1, true)
      and r[3].body:sub(-2) == "hi" and r[7].status == 404 end,
    ["cookie sent"] = function(r) return r[5].status == 200 end,
  })
  local worst = 0
  for _, i in ipairs({ 1, 2, 4, 6 }) do if rs[i].time > worst then worst = rs[i].time end end
  slowest:add(worst)
end)
LUA
timeout 60 "$LOADCTL" start "$T/b.lua" --workers 1 --threads 1 --quiet --out "$T/run" >"$T/run.log" 2>&1
rc=$?
[ $rc -eq 0 ] || fail "run exited $rc"
counts=$(json "$T/run/summary.json" '",".join("%s=%d/%d" % (r["name"], r["count"], r["errors"]) for r in sorted(d["requests"], key=lambda r: r["name"]))')
echo "per name (count/errors): $counts"
[ "$counts" = "GET /delay/400=6/0,GET /setcookie=2/0,GET /status/404=6/6,cookie=6/0,echo=6/0,slow 2=6/0,slow 3=6/0,slow 4=6/0" ] ||
  fail "batch requests counted as $counts"
checks=$(json "$T/run/summary.json" '",".join("%s=%d/%d" % (c["name"], c["passes"], c["fails"]) for c in sorted(d["checks"], key=lambda c: c["name"]))')
echo "checks: $checks"
[ "$checks" = "cookie sent=6/0,seven in order=6/0" ] || fail "checks $checks"
worst=$(json "$T/run/summary.json" '[m for m in d["metrics"] if m["name"] == "batch_ms"][0]["max"]')
echo "slowest of four 400 ms requests in one batch, worst batch: $worst ms (one after another: >= 1600 ms)"
python3 -c "import sys; w = float(sys.argv[1]); sys.exit(0 if 400 <= w < 1200 else 1)" "$worst" ||
  fail "the batch's four 400 ms requests took $worst ms: not sent at once"
echo "PASS"
