-- login_csv.lua - a CSV-fed login test: each VU takes its own row of scenarios/data/users.csv (the file
-- is read once and sliced per VU, so 20 users log in as 20 different accounts), logs in once in
-- on_start, then browses with its token. SHOP_ADDR moves the demo shop.
local getenv = (os and os.getenv) or function() return nil end
local SHOP = getenv("SHOP_ADDR") or "127.0.0.1:8080"

options = {
  target = "http://" .. SHOP,
  users = 20,
  spawn_rate = 10,
  duration = "30s",
  thresholds = {
    ["p99{name=POST /api/session}"] = "< 200ms",
    errors = "rate < 1%",
  },
}

-- rows as tables keyed by the header line: { username = "alice", password = "..." }; the path is
-- relative to this file
local users = data.csv("data/users.csv")

function on_start(vu)
  local row = users:for_vu(vu)
  local r = http.post("/api/session", {
    json = { user = row.username, password = row.password },
    name = "POST /api/session",
  })
  check(r, { ["login ok"] = function(res) return res.status == 200 end })
  vu.token = r.status == 200 and r.json().token or ""
  vu.user = row.username
end

task(1, function(vu)
  local r = http.get("/api/books?page=" .. math.random(25), {
    name = "GET /api/books",
    headers = { Authorization = "Bearer " .. vu.token },
  })
  check(r, { ["status is 200"] = function(res) return res.status == 200 end })
  think(0.1, 0.5)
end)
