-- soak.lua - a soak test: a modest constant load for a long time, to find what only time shows (memory
-- growth, connection leaks, slow drift of p99, periodic jobs). Think time makes users behave like people.
-- Shorten it for a try: `loadctl start scenarios/soak.lua --duration 1m`. SHOP_ADDR / SHOP_PPROF_ADDR
-- move the demo shop; the heap profile every 30 s shows growth over the run in the report.
local getenv = (os and os.getenv) or function() return nil end
local SHOP = getenv("SHOP_ADDR") or "127.0.0.1:8080"
local PPROF = getenv("SHOP_PPROF_ADDR") or "127.0.0.1:6060"

options = {
  target = "http://" .. SHOP,
  users = 30,
  spawn_rate = 5,
  duration = "2h",
  thresholds = {
    ["p95"] = "< 100ms",
    ["p99{name=POST /api/cart}"] = "< 250ms",
    errors = "rate < 0.1%",
  },
  profile = {
    { source = "pprof", url = "http://" .. PPROF .. "/debug/pprof/profile", window = "30s" },
    { source = "pprof", type = "heap", url = "http://" .. PPROF .. "/debug/pprof/heap", window = "30s" },
  },
}

function on_start(vu)
  local r = http.post("/api/session", { json = { user = "soak-" .. vu.id }, name = "POST /api/session" })
  vu.token = r.status == 200 and r.json().token or ""
end

local function auth(vu) return { Authorization = "Bearer " .. vu.token } end

task(6, function(vu)
  http.get("/api/books?page=" .. math.random(25), { name = "GET /api/books", headers = auth(vu) })
  think(1, 3)
end)

task(3, function(vu)
  local r = http.get("/api/books/" .. math.random(500), { name = "GET /api/books/{id}", headers = auth(vu) })
  check(r, { ["status is 200"] = function(res) return res.status == 200 end })
  think(1, 3)
end)

task(1, function(vu)
  local r = http.post("/api/cart", { json = { book_id = math.random(500), qty = 1 }, headers = auth(vu),
                                     name = "POST /api/cart" })
  check(r, { ["status is 200"] = function(res) return res.status == 200 end })
  think(2, 5)
end)
