-- kb_nplus1: a help-centre knowledge base (Django under gunicorn, tests/targets/faults/kb) with
-- loadctl_agent's CPU and wall-clock profiles as docs/profiling.md shows for Python, at loadctl's default
-- windows: readers browsing topics, opening articles and voting on them.
options = {
  name = env("FAULTS_VARIANT", "kb_nplus1"),
  target = "http://127.0.0.1:8080",
  rate = 80, max_vus = 200, duration = "20s",
  profile = {
    { source = "pprof", url = "http://127.0.0.1:6060/debug/pprof/profile" },
    { source = "pprof", type = "wall", url = "http://127.0.0.1:6060/debug/pprof/wall" },
  },
}

local TAGS = { "billing", "sso", "login", "shipping", "returns", "api", "mobile", "exports", "imports", "backup",
               "invoices", "vat", "2fa", "okta", "saml", "webhooks", "rate-limits", "android", "ios", "storage",
               "quota", "outages", "status", "privacy", "gdpr", "accounts", "teams", "roles", "audit", "search" }

task(45, function(vu)
  local r = http.get("/api/articles?tag=" .. TAGS[math.random(#TAGS)], { name = "GET /api/articles" })
  check(r, { ["topic"] = function(res) return res.status == 200 end })
end)

task(40, function(vu)
  local r = http.get("/api/articles/" .. math.random(1, 300), { name = "GET /api/articles/{id}" })
  check(r, { ["article"] = function(res) return res.status == 200 end })
end)

task(15, function(vu)
  local r = http.post("/api/articles/" .. math.random(1, 300) .. "/feedback",
                      { json = { helpful = math.random(4) > 1 }, name = "POST /api/articles/{id}/feedback" })
  check(r, { ["voted"] = function(res) return res.status == 201 end })
end)
