options = { target = "http://127.0.0.1:8080", users = 10, spawn_rate = 5, duration = "30s",
  thresholds = { ["p99"] = "< 250ms", errors = "rate < 1%" } }
task(1, function(vu) http.get("/") end)
