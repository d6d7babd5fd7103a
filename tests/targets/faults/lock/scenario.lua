-- lock: a payments ledger (tests/targets/faults/README.md).
options = {
  name = "lock",
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
  local r = http.post("/api/transfer?from=" .. math.random(100) .. "&to=" .. math.random(100) ..
                      "&amount=" .. math.random(1, 10000), { name = "POST /api/transfer" })
  check(r, { ["transfer booked"] = function(res) return res.status == 200 end })
end)

task(2, function(vu)
  http.get("/api/balance?account=" .. math.random(100), { name = "GET /api/balance" })
end)
