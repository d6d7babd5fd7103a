-- inn_*: a hotel booking API (a plain WSGI app under gunicorn, tests/targets/faults/inn) with
-- loadctl_agent's CPU and wall-clock profiles as docs/profiling.md shows for Python, at loadctl's default
-- windows: guests searching a city and opening hotels' availability, booking, the odd invoice download,
-- and front-desk agents cancelling bookings (now and then waiving a late-cancellation penalty).
local agent = "http://127.0.0.1:6060/debug/pprof/"
options = {
  name = env("FAULTS_VARIANT", "inn"), target = "http://127.0.0.1:8080",
  rate = 80, max_vus = 200, duration = "20s",
  profile = { { source = "pprof", url = agent .. "profile" }, { source = "pprof", type = "wall", url = agent .. "wall" } },
}

local ROOMS = { "standard", "double", "family", "suite" }
local function booking_id() return math.random(1, 20000) end

task(25, function(vu)
  local r = http.get("/api/search?city=" .. math.random(0, 19) .. "&nights=" .. math.random(1, 4),
                     { name = "GET /api/search" })
  check(r, { ["offers"] = function(res) return res.status == 200 end })
end)

task(25, function(vu)
  local r = http.get("/api/hotels/" .. math.random(0, 399) .. "/availability?night=2027-03-0" .. math.random(1, 9),
                     { name = "GET /api/hotels/{id}/availability" })
  check(r, { ["availability"] = function(res) return res.status == 200 end })
end)

task(13, function(vu)
  local r = http.post("/api/bookings", { json = { hotel = math.random(0, 399), room = ROOMS[math.random(#ROOMS)],
                                                  nights = math.random(1, 5), account = math.random(0, 1999),
                                                  days_ahead = math.random(1, 60) },
                                         name = "POST /api/bookings" })
  check(r, { ["booked"] = function(res) return res.status == 201 end })
end)

task(10, function(vu)
  local r = http.get("/api/bookings/" .. booking_id(), { name = "GET /api/bookings/{id}" })
  check(r, { ["booking"] = function(res) return res.status == 200 end })
end)

task(15, function(vu)
  local r = http.get("/api/bookings/" .. booking_id() .. "/invoice", { name = "GET /api/bookings/{id}/invoice" })
  check(r, { ["invoice"] = function(res) return res.status == 200 end })
end)

task(12, function(vu)
  local r = http.post("/api/bookings/" .. booking_id() .. "/cancel",
                      { json = { agent = "desk" .. (vu.id % 12), waive_penalty = math.random(5) <= 2 },
                        name = "POST /api/bookings/{id}/cancel" })
  check(r, { ["cancelled"] = function(res) return res.status == 200 or res.status == 409 end })
end)
