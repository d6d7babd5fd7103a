-- checkout.lua - the README's example: shoppers log in, browse the catalogue, open product pages, add to
-- cart and check out against the demo shop (tests/targets/shop, started by scripts/shop or scripts/demo),
-- while loadctl pulls the shop's CPU and mutex profiles to explain the slow requests.
--
-- The shop has three planted faults for the report to find: POST /api/orders is slow for large carts
-- (main.fraudScore; about 10 % of checkouts here carry 30-40 items), a background job burns every CPU for
-- ~3 s every ~15 s (main.reindexCatalog), and add-to-cart serialises on a global lock
-- (main.inventoryReserve, visible in the mutex profile). `scripts/shop start --no-faults` turns them off.

-- Tests run the shop on other ports: SHOP_ADDR / SHOP_PPROF_ADDR (as scripts/shop uses them) move it.
local getenv = (os and os.getenv) or function() return nil end
local SHOP = getenv("SHOP_ADDR") or "127.0.0.1:8080"
local PPROF = getenv("SHOP_PPROF_ADDR") or "127.0.0.1:6060"

options = {
  target = "http://" .. SHOP,
  users = 50,
  spawn_rate = 25,
  duration = "1m",
  thresholds = {
    ["p99{name=POST /api/orders}"] = "< 250ms",
    ["p95{name=GET /api/books}"] = "< 50ms",
    errors = "rate < 1%",
  },
  profile = {
    -- 2 s CPU windows: the reindex burns ~3 s, and a 5 s window would mix its seconds with quiet ones
    { source = "pprof", url = "http://" .. PPROF .. "/debug/pprof/profile", window = "2s" },
    { source = "pprof", type = "mutex", url = "http://" .. PPROF .. "/debug/pprof/mutex", window = "5s" },
  },
}

local CATALOGUE = 500 -- books in the shop
local LARGE_CART_SHARE = 0.10 -- share of checkouts with a large cart (fraudScore's slow path > 20 items)

local function auth(vu)
  return { Authorization = "Bearer " .. (vu.token or "") }
end

function on_start(vu)
  local r = http.post("/api/session", { json = { user = "shopper-" .. vu.id }, name = "POST /api/session" })
  if r.status == 200 then
    vu.token = r.json().token
  else
    log("login failed for vu " .. vu.id .. ": status " .. tostring(r.status))
  end
end

-- browse: a catalogue page
task(5, function(vu)
  http.get("/api/books?page=" .. math.random(25), { name = "GET /api/books", headers = auth(vu) })
  think(0.05, 0.15)
end)

-- product page
task(3, function(vu)
  local r = http.get("/api/books/" .. math.random(CATALOGUE), { name = "GET /api/books/{id}", headers = auth(vu) })
  check(r, { ["status is 200"] = function(res) return res.status == 200 end })
  think(0.05, 0.15)
end)

-- add to cart (takes the shop's inventory lock)
task(2, function(vu)
  local r = http.post("/api/cart", {
    json = { book_id = math.random(CATALOGUE), qty = math.random(3) },
    headers = auth(vu),
    name = "POST /api/cart",
  })
  check(r, { ["status is 200"] = function(res) return res.status == 200 end })
  think(0.05, 0.15)
end)

-- checkout: most carts are small, LARGE_CART_SHARE of them are large
task(1, function(vu)
  local n = math.random() < LARGE_CART_SHARE and math.random(30, 40) or math.random(1, 4)
  local items = {}
  for i = 1, n do
    items[i] = { book_id = math.random(CATALOGUE), qty = 1 }
  end
  local r = http.post("/api/orders", { json = { items = items }, headers = auth(vu), name = "POST /api/orders" })
  check(r, { ["status is 201"] = function(res) return res.status == 201 end })
  think(0.05, 0.15)
end)

function on_stop(vu) end
