options = { users = 1, duration = "1s", interval = "500ms", think = {0.1, 0.2}, max_body = 4096,
  profile = { { source = "pprof", url = "http://127.0.0.1:6060/debug/pprof/profile", window = "5s" } } }
function on_start(vu) end
task(1, function(vu) http.get("/") end)
function on_stop(vu) end
