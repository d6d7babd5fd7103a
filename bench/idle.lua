-- idle.lua - bench/run's memory probe: users that start, send nothing and think for longer than the
-- run, so RSS / users is the cost of an idle VU (coroutine, state, histogram share).
local getenv = (os and os.getenv) or function() return nil end

options = {
  target = getenv("BENCH_TARGET") or "http://127.0.0.1:8080",
  users = 10000,
  duration = "10s",
}

task(1, function(vu)
  sleep(3600)
end)
