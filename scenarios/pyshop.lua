-- pyshop.lua - shoppers against the Python demo shop (tests/targets/pyshop, started by scripts/pyshop):
-- catalogue pages, product pages, checkouts (Flask and the Django variant) and shipping quotes, while
-- loadctl pulls the shop's CPU and wall-clock profiles from loadctl_agent (agents/python).
--
-- Planted faults for the report to find (tests/targets/pyshop/README.md): checkouts with a coupon (about
-- 10 % here) run pyshop.faults.apply_coupon_rules (~40 ms of CPU inside the shared pricing.digest helper);
-- a background job, pyshop.faults.rebuild_search_index, holds the GIL for 2 s every 8 s; shipping quotes
-- for zip codes ending in 9 wait ~60 ms on the carrier service (pyshop.faults.quote_carrier, off-CPU: the
-- wall profile shows it); catalogue pages run N+1 sqlite queries (pyshop.store.product_page ->
-- review_count). `scripts/pyshop start --no-faults` turns them all off.

-- Tests run the shop on other ports: PYSHOP_ADDR / PYSHOP_PPROF_ADDR (as scripts/pyshop uses them), from
-- --env or the environment. The fault corpus (tests/targets/faults/pyshop_*) runs this scenario too, with
-- PYSHOP_PROFILE_WINDOW=1s (loadctl's default pprof window) in its manifests' target.env.
local SHOP = env("PYSHOP_ADDR", "127.0.0.1:8081")
local PPROF = env("PYSHOP_PPROF_ADDR", "127.0.0.1:6061")
local WINDOW = env("PYSHOP_PROFILE_WINDOW", "2s")

-- 6 users keep the shop (one gunicorn worker: one GIL) below saturation on a small machine; saturated, every
-- request's latency is its wait in the queue, and no request's own cost shows in it.
options = {
  target = "http://" .. SHOP,
  users = 6,
  spawn_rate = 6,
  duration = "40s",
  thresholds = {
    ["p99{name=POST /api/checkout}"] = "< 250ms",
    errors = "rate < 1%",
  },
  profile = {
    { source = "pprof", url = "http://" .. PPROF .. "/debug/pprof/profile", window = WINDOW },
    { source = "pprof", type = "wall", url = "http://" .. PPROF .. "/debug/pprof/wall", window = WINDOW },
  },
}

local PRODUCTS = 400
local COUPON_SHARE = 0.10 -- share of checkouts with a coupon (the slow path)

local function cart()
  local items = {}
  for i = 1, math.random(1, 4) do
    items[i] = { sku = math.random(PRODUCTS), qty = math.random(3) }
  end
  return items
end

local function checkout(path, name)
  local body = { items = cart() }
  if math.random() < COUPON_SHARE then body.coupon = "SAVE" .. math.random(100) end
  local r = http.post(path, { json = body, name = name })
  check(r, { ["status is 201"] = function(res) return res.status == 201 end })
end

-- catalogue page (N+1 queries when faulty)
task(3, function(vu)
  http.get("/api/products?page=" .. math.random(16), { name = "GET /api/products" })
  think(0.02, 0.08)
end)

-- product page (fast: the control endpoint)
task(4, function(vu)
  local r = http.get("/api/products/" .. math.random(PRODUCTS), { name = "GET /api/products/{id}" })
  check(r, { ["status is 200"] = function(res) return res.status == 200 end })
  think(0.02, 0.08)
end)

-- checkout, Flask
task(3, function(vu)
  checkout("/api/checkout", "POST /api/checkout")
  think(0.02, 0.08)
end)

-- checkout, the Django variant (loadctl_agent.django.Middleware)
task(1, function(vu)
  checkout("/dj/api/checkout", "POST /dj/api/checkout")
  think(0.02, 0.08)
end)

-- shipping quote: zip codes ending in 9 are not cached (the carrier wait)
task(2, function(vu)
  http.get(string.format("/api/shipping?zip=%05d", math.random(0, 99999)), { name = "GET /api/shipping" })
  think(0.02, 0.08)
end)
