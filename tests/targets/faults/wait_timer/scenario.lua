-- wait_timer: a currency quote service (tests/targets/faults/README.md).
options = {
  name = "wait_timer",
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

local majors = { "EURUSD", "USDJPY", "GBPUSD", "USDCHF", "AUDUSD", "USDCAD", "NZDUSD", "EURGBP", "EURJPY" }

task(3, function(vu)
  local pair = math.random(10) == 1 and ("XAU" .. math.random(100)) or majors[math.random(#majors)]
  http.get("/api/quote?pair=" .. pair, { name = "GET /api/quote" })
end)

task(1, function(vu)
  http.post("/api/alerts?tenant=" .. math.random(1, 500), { json = { pair = "EURUSD", above = 1.1 } ,
            name = "POST /api/alerts" })
end)
