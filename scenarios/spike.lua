-- spike.lua - an open-model spike test: arrivals at a steady rate, a sudden 10x spike, and back, against
-- the demo shop (scripts/shop start). Open model = iterations start on a schedule whatever the latency,
-- so a target that stalls shows up in p99 (no coordinated omission) and iterations with no free VU are
-- counted as dropped. SHOP_ADDR moves the target (tests run the shop on another port).
local getenv = (os and os.getenv) or function() return nil end
local SHOP = getenv("SHOP_ADDR") or "127.0.0.1:8080"

options = {
  target = "http://" .. SHOP,
  start_rate = 50, -- iterations/s at the start (k6's startRate): the first stage holds 50/s, no ramp from 0
  max_vus = 400,   -- VU pool: at 500/s and up to 0.8 s per iteration, 400 are enough
  stages = {
    { duration = "20s", rate = 50 },   -- steady at 50/s from the first second
    { duration = "5s", rate = 500 },   -- ramp to 10x in 5 s
    { duration = "20s", rate = 500 },  -- hold the spike
    { duration = "5s", rate = 50 },    -- back down
    { duration = "20s", rate = 50 },   -- recovery: does latency come back?
  },
  thresholds = {
    ["p99{name=GET /api/books}"] = "< 500ms",
    errors = "rate < 1%",
    dropped = "== 0",
  },
}

-- one iteration = a catalogue page and a product page, no think time (the arrival rate paces it)
task(1, function(vu)
  http.get("/api/books?page=" .. math.random(25), { name = "GET /api/books" })
  local r = http.get("/api/books/" .. math.random(500), { name = "GET /api/books/{id}" })
  check(r, { ["status is 200"] = function(res) return res.status == 200 end })
end)
