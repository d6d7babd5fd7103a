-- idle.lua - bench/run's memory probe: users that start, send nothing and think for longer than the
-- run, so RSS / users is the cost of an idle VU (coroutine, state, histogram share). With
-- BENCH_IDLE_GET=1 each user first sends one GET / on the BENCH_HTTP backend and then idles, holding
-- its kept-alive connection: the cost of a VU with its connection on that backend.
local getenv = (os and os.getenv) or function() return nil end
local get_first = getenv("BENCH_IDLE_GET") == "1"

options = {
  target = getenv("BENCH_TARGET") or "http://127.0.0.1:8080",
  http = getenv("BENCH_HTTP") or "h1",
  tls_ca_file = getenv("BENCH_CA"), -- the bench's self-signed certificate, for https:// targets
  users = 10000,
  duration = "10s",
}

task(1, function(vu)
  if get_first then http.get("/", { name = "GET /" }) end
  sleep(3600)
end)
