-- open.lua - bench/run's open-model accuracy probe: GET / at a fixed arrival rate (bench/run passes
-- --rate); the achieved rate and dropped iterations are compared with the asked rate.
local getenv = (os and os.getenv) or function() return nil end

options = {
  target = getenv("BENCH_TARGET") or "http://127.0.0.1:8080",
  http = getenv("BENCH_HTTP") or "h1",
  rate = 1000,
  max_vus = tonumber(getenv("BENCH_MAX_VUS") or "") or 200,
  pre_allocated_vus = tonumber(getenv("BENCH_PRE_VUS") or ""), -- nil: 10 ms of the rate
  duration = "10s",
}

task(1, function(vu)
  http.get("/", { name = "GET /" })
end)
