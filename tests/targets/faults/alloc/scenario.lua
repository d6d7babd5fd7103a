-- alloc: a catalogue with reports and exports (tests/targets/faults/README.md).
options = {
  name = "alloc",
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

task(40, function(vu)
  http.get("/api/items?id=" .. math.random(1, 5000), { name = "GET /api/items" })
end)

task(5, function(vu)
  http.get("/api/report?month=" .. math.random(12), { name = "GET /api/report" })
end)

task(1, function(vu)
  local fmt = math.random(2) == 1 and "xml" or "json"
  http.post("/api/export?format=" .. fmt, { body = string.rep("row,", 200), name = "POST /api/export" })
end)
