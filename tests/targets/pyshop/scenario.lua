-- pyshop (fault corpus): the scenario a user would write for the Python shop (tests/targets/pyshop) with
-- loadctl_agent on its admin port: browse, product pages, checkouts (Flask and Django), shipping quotes;
-- the CPU and wall-clock profiles docs/profiling.md recommends for Python, at loadctl's default windows.
-- Every tests/targets/faults/pyshop_* variant runs it (bench/accuracy rewrites the two addresses).
options = {
  name = "pyshop",
  target = "http://127.0.0.1:8080",
  users = 12, spawn_rate = 12, duration = "20s",
  profile = {
    { source = "pprof", url = "http://127.0.0.1:6060/debug/pprof/profile" },
    { source = "pprof", type = "wall", url = "http://127.0.0.1:6060/debug/pprof/wall" },
  },
}

local function checkout(path, name)
  local items = {}
  for i = 1, math.random(1, 4) do items[i] = { sku = math.random(400), qty = math.random(3) } end
  local body = { items = items }
  if math.random() < 0.1 then body.coupon = "SAVE" .. math.random(100) end
  local r = http.post(path, { json = body, name = name })
  check(r, { ["order created"] = function(res) return res.status == 201 end })
end

task(3, function(vu)
  http.get("/api/products?page=" .. math.random(16), { name = "GET /api/products" })
  think(0.02, 0.08)
end)
task(4, function(vu)
  http.get("/api/products/" .. math.random(400), { name = "GET /api/products/{id}" })
  think(0.02, 0.08)
end)
task(3, function(vu)
  checkout("/api/checkout", "POST /api/checkout")
  think(0.02, 0.08)
end)
task(1, function(vu)
  checkout("/dj/api/checkout", "POST /dj/api/checkout")
  think(0.02, 0.08)
end)
task(2, function(vu)
  http.get(string.format("/api/shipping?zip=%05d", math.random(0, 99999)), { name = "GET /api/shipping" })
  think(0.02, 0.08)
end)
