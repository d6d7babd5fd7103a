-- http2_tls.lua - HTTPS with HTTP/2: the h2 backend negotiates h2 by ALPN and the VUs of a thread send
-- their requests as streams on one shared connection (h2_connections), as a browser does per origin.
-- TLS_TARGET points it at your server; tests run nginx with a self-signed certificate, hence
-- insecure_tls (never in production).
local getenv = (os and os.getenv) or function() return nil end

options = {
  target = getenv("TLS_TARGET") or "https://127.0.0.1:8443",
  http = "h2",
  h2_connections = 1,
  insecure_tls = getenv("TLS_INSECURE") == "1",
  users = 10,
  spawn_rate = 10,
  duration = "30s",
  timeout = "5s",
  thresholds = {
    ["p99"] = "< 200ms",
    errors = "rate < 1%",
  },
}

task(3, function(vu)
  local r = http.get("/", { name = "GET /" })
  check(r, { ["status is 200"] = function(res) return res.status == 200 end })
end)

task(1, function(vu)
  local r = http.post("/api/echo", { json = { vu = vu.id, iteration = vu.iteration }, name = "POST /api/echo" })
  check(r, { ["status is 2xx"] = function(res) return res.status >= 200 and res.status < 300 end })
end)
