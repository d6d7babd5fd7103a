-- get.lua - bench/run's loadctl scenario: 50 users, each sending GET / with one header as fast as the
-- target answers (no think time), like wrk_get.lua and locust_get.py. BENCH_TARGET and BENCH_HTTP
-- ("h1", "curl" or "h2", with BENCH_H2_CONNS) come from bench/run, and BENCH_CA for https://; BENCH_PROFILE_URL, when set, adds a pprof CPU source (2 s windows)
-- for the profiling on/off comparison.
local getenv = (os and os.getenv) or function() return nil end
local profile_url = getenv("BENCH_PROFILE_URL")

options = {
  target = getenv("BENCH_TARGET") or "http://127.0.0.1:8080",
  http = getenv("BENCH_HTTP") or "h1",
  h2_connections = tonumber(getenv("BENCH_H2_CONNS") or "1"), -- HTTP/2 connections shared by the thread's VUs
  tls_ca_file = getenv("BENCH_CA"), -- the bench's self-signed certificate, for https:// targets
  users = 50,
  duration = "10s",
  profile = profile_url and { { source = "pprof", url = profile_url, window = "2s" } } or nil,
}

local headers = { ["X-Bench"] = "1" }

task(1, function(vu)
  http.get("/", { headers = headers, name = "GET /" })
end)
