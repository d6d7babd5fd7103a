-- ats_*: an applicant tracking API (Flask under gunicorn, tests/targets/faults/ats) with loadctl_agent's
-- CPU and wall-clock profiles as docs/profiling.md shows for Python, at loadctl's default windows:
-- recruiters paging jobs' pipelines (newest or best match first), reading applications and writing notes,
-- candidates applying from the careers site (from everywhere: names as people write them) and uploading CVs.
local pprof = "http://127.0.0.1:6060/debug/pprof/"
options = { name = env("FAULTS_VARIANT", "ats"), target = "http://127.0.0.1:8080", rate = 80, max_vus = 200,
            duration = "20s", profile = { { source = "pprof", url = pprof .. "profile" },
                                          { source = "pprof", type = "wall", url = pprof .. "wall" } } }

-- a check that the response has this status
local function status(want) return function(res) return res.status == want end end
local function pick(list) return list[math.random(#list)] end
local function open_application() return math.random(1, 74000) end

local NAMES = { "James Smith", "Mary Johnson", "Robert Williams", "Patricia Brown", "Michael Jones", "Linda Garcia",
  "David Miller", "Elizabeth Davis", "William Rodriguez", "Jennifer Martinez", "Richard Hernandez", "Susan Lopez",
  "Joseph Wilson", "Jessica Anderson", "Thomas Taylor", "Sarah Thomas", "Christopher Moore", "Karen Jackson",
  "Daniel White", "Nancy Harris", "Priya Sharma", "Wei Zhang", "Aisha Bello", "Kenji Tanaka", "Mary-Jane O'Neil",
  "Liam O'Connor", "Emma Clarke-Wood", "Noah Schmidt", "Olivia Rossi", "Lucas Silva" }
local INTERNATIONAL = { "José García", "Zoë Adams", "Renée Dubois", "Søren Kierkegaard", "François Hollande",
  "Anna Katharina Schmidt-Bäcker", "Maximilian Alexander Müller", "Jean Christophe Lefèvre", "Marie Claire Hélène",
  "Friedrich Wilhelm Jäger", "Hans Peter Schröder", "Isabella Fernanda Muñoz", "Katarzyna Wiśniewska",
  "Christopher James Núñez", "Alexandra Rodriguez-Peña", "Sebastian Gonzalez-Ibáñez", "Nguyễn Văn An",
  "Olga Petrovna Sørensen", "Jonathan Michael Böhm", "Zoë Ångström" }
local COUNTRIES = { "US", "US", "US", "GB", "CA", "IN", "DE", "FR", "ES", "BR" }
local SKILLS = { "python", "go", "java", "sql", "react", "aws", "docker", "kubernetes", "figma", "excel", "sales", "ml" }
local CV = string.rep("JVBERi0xLjQKJcfsj6IKNSAwIG9iago8PC9MZW5ndGggNiAwIFI+PgpzdHJlYW0K", 400)

task(30, function(vu)
  local sort = math.random(2) == 1 and "match" or "recent"
  check(http.get("/api/jobs/" .. math.random(0, 399) .. "/pipeline?sort=" .. sort .. "&page=" .. math.random(0, 1),
                 { name = "GET /api/jobs/{id}/pipeline" }), { pipeline = status(200) })
end)

task(22, function(vu)
  check(http.get("/api/applications/" .. open_application(), { name = "GET /api/applications/{id}" }),
        { application = status(200) })
end)

task(18, function(vu)
  local form = { name = math.random(4) == 1 and pick(INTERNATIONAL) or pick(NAMES), country = pick(COUNTRIES),
                 email = "cand" .. math.random(1, 1e6) .. "@mail.example", phone = "+1 555 01" .. math.random(10, 99),
                 skills = { pick(SKILLS), pick(SKILLS) }, years = math.random(0, 20), headline = "Engineer" }
  check(http.post("/api/jobs/" .. math.random(0, 399) .. "/applications",
                  { json = form, name = "POST /api/jobs/{id}/applications" }), { applied = status(201) })
end)

task(18, function(vu)
  local note = { author = "recruiter" .. (vu.id % 9), body = "Phone screen went well; schedule onsite." }
  check(http.post("/api/applications/" .. open_application() .. "/notes",
                  { json = note, name = "POST /api/applications/{id}/notes" }), { noted = status(201) })
end)

task(12, function(vu)
  check(http.put("/api/candidates/" .. math.random(0, 11999) .. "/resume",
                 { json = { filename = "cv.pdf", content_base64 = CV }, name = "PUT /api/candidates/{id}/resume" }),
        { uploaded = status(200) })
end)
