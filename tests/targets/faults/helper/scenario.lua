-- helper: a checkout service (tests/targets/faults/README.md); browse products, place orders.
options = {
  name = "helper",
  target = "http://127.0.0.1:8080",
  rate = 80, max_vus = 200, duration = "20s",
  -- the sources docs/profiling.md recommends for a Go service; windows at loadctl's default
  profile = {
    { source = "pprof", url = "http://127.0.0.1:6060/debug/pprof/profile" },
    { source = "pprof", type = "mutex", url = "http://127.0.0.1:6060/debug/pprof/mutex" },
    { source = "pprof", type = "block", url = "http://127.0.0.1:6060/debug/pprof/block" },
    { source = "pprof", type = "goroutine", url = "http://127.0.0.1:6060/debug/pprof/goroutine" },
    { source = "pprof", type = "allocs", url = "http://127.0.0.1:6060/debug/pprof/allocs" },
  },
}

task(3, function(vu)
  http.get("/api/products?page=" .. math.random(0, 24), { name = "GET /api/products" })
end)

task(2, function(vu)
  local items = {}
  for i = 1, math.random(1, 6) do items[i] = { id = math.random(0, 499), qty = math.random(1, 3) } end
  local r = http.post("/api/orders", { json = { customer = math.random(1, 1000), items = items } })
  check(r, { ["order created"] = function(res) return res.status == 201 end })
end)
