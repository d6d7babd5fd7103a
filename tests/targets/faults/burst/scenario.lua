-- burst: a document search service (tests/targets/faults/README.md); search and fetch documents.
options = {
  name = "burst",
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

local words = { "lorem", "ipsum", "dolor", "sit", "amet", "doc" }

task(2, function(vu)
  http.get("/search?q=" .. words[math.random(#words)] .. "+" .. words[math.random(#words)], { name = "GET /search" })
end)

task(3, function(vu)
  http.get("/doc/" .. math.random(0, 399), { name = "GET /doc/{id}" })
end)
