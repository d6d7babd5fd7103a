-- get.lua - bench/run's loadctl scenario: 50 users, each sending GET / with one header as fast as the
-- target answers (no think time), like wrk_get.lua and locust_get.py. BENCH_TARGET and BENCH_HTTP
-- ("h1" or "curl") come from bench/run.
local getenv = (os and os.getenv) or function() return nil end

options = {
  target = getenv("BENCH_TARGET") or "http://127.0.0.1:8080",
  http = getenv("BENCH_HTTP") or "h1",
  users = 50,
  duration = "10s",
}

local headers = { ["X-Bench"] = "1" }

task(1, function(vu)
  http.get("/", { headers = headers, name = "GET /" })
end)
