-- pyshop.lua - bench/pyagent's load on the Python demo shop (faults off): product pages, checkouts and
-- shipping quotes. BENCH_RATE set: open model at that rate (latency); unset: closed model, BENCH_USERS
-- users without think time (throughput). BENCH_PROFILE=1 pulls the agent's CPU and wall profiles back to
-- back, as a run against an instrumented service does (the agent samples only while a profile is pulled).
local getenv = (os and os.getenv) or function() return nil end
local RATE = tonumber(getenv("BENCH_RATE") or "")
local PPROF = getenv("PYSHOP_PPROF_ADDR") or "127.0.0.1:6061"

options = {
  target = "http://" .. (getenv("PYSHOP_ADDR") or "127.0.0.1:8081"),
  duration = "10s",
}
if RATE then
  options.rate, options.max_vus, options.pre_allocated_vus = RATE, 200, 20
else
  options.users, options.spawn_rate = tonumber(getenv("BENCH_USERS") or "") or 16, 100
end
if getenv("BENCH_PROFILE") == "1" then
  options.profile = {
    { source = "pprof", url = "http://" .. PPROF .. "/debug/pprof/profile", window = "2s" },
    { source = "pprof", type = "wall", url = "http://" .. PPROF .. "/debug/pprof/wall", window = "2s" },
  }
end

task(4, function(vu)
  http.get("/api/products/" .. math.random(400), { name = "GET /api/products/{id}" })
end)
task(2, function(vu)
  http.get("/api/products?page=" .. math.random(16), { name = "GET /api/products" })
end)
task(2, function(vu)
  http.post("/api/checkout", { json = { items = { { sku = math.random(400), qty = 1 } } }, name = "POST /api/checkout" })
end)
task(2, function(vu)
  http.get(string.format("/api/shipping?zip=%05d", math.random(0, 99999)), { name = "GET /api/shipping" })
end)
