-- asgi_block (and asgi_refresh): a forecast API written as a plain ASGI app under uvicorn (tests/targets/faults/asgi), with
-- loadctl_agent's CPU and wall-clock profiles as docs/profiling.md shows for Python, at loadctl's default
-- windows: forecasts by city name or postcode, city lookups and subscriptions.
options = {
  name = env("FAULTS_VARIANT", "asgi_block"),
  target = "http://127.0.0.1:8080",
  rate = 60, max_vus = 200, duration = "20s",
  profile = {
    { source = "pprof", url = "http://127.0.0.1:6060/debug/pprof/profile" },
    { source = "pprof", type = "wall", url = "http://127.0.0.1:6060/debug/pprof/wall" },
  },
}

local CITIES = { "paris", "lyon", "berlin", "hamburg", "madrid", "sevilla", "rome", "milan", "vienna", "prague",
                 "warsaw", "krakow", "lisbon", "porto", "dublin", "oslo", "bergen", "helsinki", "tallinn", "riga" }

task(3, function(vu)
  local q = math.random(10) == 1 and tostring(math.random(10000, 99999)) or CITIES[math.random(#CITIES)]
  local r = http.get("/api/forecast?q=" .. q, { name = "GET /api/forecast" })
  check(r, { ["forecast"] = function(res) return res.status == 200 end })
end)

task(1, function(vu)
  http.get("/api/cities?prefix=" .. string.char(math.random(97, 122)), { name = "GET /api/cities" })
end)

task(1, function(vu)
  local r = http.post("/api/subscriptions", { json = { place = CITIES[math.random(#CITIES)], email = "u" .. vu.id .. "@example.com" },
                      name = "POST /api/subscriptions" })
  check(r, { ["subscribed"] = function(res) return res.status == 201 end })
end)
