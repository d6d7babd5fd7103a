-- desk_bulk, desk_rules, desk_scan: a helpdesk API (Flask under gunicorn, tests/targets/faults/desk) with
-- loadctl_agent's CPU and wall-clock profiles as docs/profiling.md shows for Python, at loadctl's default
-- windows: agents reading tickets and commenting, customers opening tickets and attaching files (a
-- screenshot, or now and then the zipped logs support asked for), and the odd bulk action on a queue.
options = {
  name = env("FAULTS_VARIANT", "desk"),
  target = "http://127.0.0.1:8080",
  rate = 80, max_vus = 200, duration = "20s",
  profile = {
    { source = "pprof", url = "http://127.0.0.1:6060/debug/pprof/profile" },
    { source = "pprof", type = "wall", url = "http://127.0.0.1:6060/debug/pprof/wall" },
  },
}

local QUEUES = { "billing", "login", "shipping", "returns", "api", "mobile", "sso", "general" }
local SUBJECTS = { "Refund for invoice 2231", "Cannot log in after 2FA reset", "Parcel tracking stuck",
                   "Webhook returns 429", "Exchange a broken item", "SSO with Okta fails", "Backup export is empty" }
local PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
-- the zipped application logs support asks for: 24 small files
local LOGS_ZIP = [[
UEsDBBQAAAAIADB5h125ot1tMgAAAGEAAAAKAAAAYXBwLTAwLmxvZzM00jUwVDA0sDIwUPD0c/NXKE4tKktNUcjMUzBQyC3mMoTLG6LLm6PKG6HL
G5qAFAAAUEsDBBQAAAAIADB5h13eJu95MQAAAGEAAAAKAAAAYXBwLTAxLmxvZzM00jUwUjA0sDIwUPD0c/NXKE4tKktNUcjMUzBUyC3mMoTLG6LL
W6DKG2HoNwUpAABQSwMEFAAAAAgAMHmHXVNnaRcyAAAAYQAAAAoAAABhcHAtMDIubG9nMzTSNTBWMDSwMjBQ8PRz81coTi0qS01RyMxTMFLILeYy
hMsbostbosobocsbmoEUAABQSwMEFAAAAAgAMHmHXfkn53QyAAAAYgAAAAoAAABhcHAtMDMubG9nMzTSNTBRMDSwMjBQ8PRz81coTi0qS01RyMxT
MFbILeYyhMsbossbGqAqMMJQYA5SAABQSwMEFAAAAAgAMHmHXR8AJ6EyAAAAYgAAAAoAAABhcHAtMDQubG9nMzTSNTBVMDSwMjBQ8PRz81coTi0q
S01RyMxTMFHILeYyhMsbossbGqIqMMJQYAFSAABQSwMEFAAAAAgAMHmHXfMRjQMyAAAAYgAAAAoAAABhcHAtMDUubG9nMzTSNTBTMDSwMjBQ8PRz
81coTi0qS01RyMxTMFXILeYyhMsbossbGqEqMMJQYAlSAABQSwMEFAAAAAgAMHmHXTnGnAEzAAAAYgAAAAoAAABhcHAtMDYubG9nMzTSNTBXMDSw
MjBQ8PRz81coTi0qS01RyMxTMFPILeYyhMsbossbGqMqMEJXYGQAUgAAUEsDBBQAAAAIADB5h13rAargMwAAAGIAAAAKAAAAYXBwLTA3LmxvZzM0
0jUwVDA0sDIwUPD0c/NXKE4tKktNUcjMUzBXyC3mMoTLG6LLG5qgKjBCV2BkCFIAAFBLAwQUAAAACAAweYddVJrcLjMAAABiAAAACgAAAGFwcC0w
OC5sb2czNNI1MFIwNLAyMFDw9HPzVyhOLSpLTVHIzFOwUMgt5jKEyxuiyxuaoiowQldgZARSAABQSwMEFAAAAAgAMHmHXeUySzUzAAAAYgAAAAoA
AABhcHAtMDkubG9nMzTSNTBWMDSwMjBQ8PRz81coTi0qS01RyMxTsFTILeYyhMsbossbmqEqMEJXYGQMUgAAUEsDBBQAAAAIADB5h13yYBM0MgAA
AGMAAAAKAAAAYXBwLTEwLmxvZzM00jUwUTA0sDIwUPD0c/NXKE4tKktNUcjMAwoq5BZzGcIVGGIoMEdVYISuwMgEpAAAUEsDBBQAAAAIADB5h13o
qA3BMwAAAGMAAAAKAAAAYXBwLTExLmxvZzM00jUwVTA0sDIwUPD0c/NXKE4tKktNUcjMUzA0VMgt5jKEKzDEUGCBqsAIXYGRKUgBAFBLAwQUAAAA
CAAweYdd6gXtsDMAAABjAAAACgAAAGFwcC0xMi5sb2czNNI1MFMwNLAyMFDw9HPzVyhOLSpLTVHIzFMwNFLILeYyhCswxFBgiarACF2BkRlIAQBQ
SwMEFAAAAAgAMHmHXcXRuA0zAAAAYwAAAAoAAABhcHAtMTMubG9nMzTSNTBXMDSwMjBQ8PRz81coTi0qS01RyMxTMDRWyC3mMoQrMERXYGSAqsAI
Q4E5SAEAUEsDBBQAAAAIADB5h10/N7h0MwAAAGMAAAAKAAAAYXBwLTE0LmxvZzM00jUwVDA0sDIwUPD0c/NXKE4tKktNUcjMUzA0Ucgt5jKEKzBE
V2BkiKrACEOBBUgBAFBLAwQUAAAACAAweYddSY/60DMAAABjAAAACgAAAGFwcC0xNS5sb2czNNI1MFIwNLAyMFDw9HPzVyhOLSpLTVHIzFMwNFXI
LeYyhCswRFdgZISqwAhDgSVIAQBQSwMEFAAAAAgAMHmHXf6ee500AAAAYwAAAAoAAABhcHAtMTYubG9nMzTSNTBWMDSwMjBQ8PRz81coTi0qS01R
yMxTMDRTyC3mMoQrMERXYGSMqsAIXYGxAUgBAFBLAwQUAAAACAAweYdd4DLiwjQAAABjAAAACgAAAGFwcC0xNy5sb2czNNI1MFEwNLAyMFDw9HPz
VyhOLSpLTVHIzFMwNFfILeYyhCswRFdgZIKqwAhdgbEhSAEAUEsDBBQAAAAIADB5h110d/G3NAAAAGMAAAAKAAAAYXBwLTE4LmxvZzM00jUwVTA0
sDIwUPD0c/NXKE4tKktNUcjMUzC0UMgt5jKEKzBEV2BkiqrACF2BsRFIAQBQSwMEFAAAAAgAMHmHXQLPsxM0AAAAYwAAAAoAAABhcHAtMTkubG9n
MzTSNTBTMDSwMjBQ8PRz81coTi0qS01RyMxTMLRUyC3mMoQrMERXYGSGqsAIXYGxMUgBAFBLAwQUAAAACAAweYddGBJLCzMAAABjAAAACgAAAGFw
cC0yMC5sb2czNNI1MFcwNLAyMFDw9HPzVyhOLSpLTVHIzFMwMlDILeYyhCswxFBgjqrACF2BsQlIAQBQSwMEFAAAAAgAMHmHXWh8zVAzAAAAYwAA
AAoAAABhcHAtMjEubG9nMzTSNTBUMDSwMjBQ8PRz81coTi0qS01RyMxTMDJUyC3mMoQrMMRQYIGqwAhdgbEpSAEAUEsDBBQAAAAIADB5h11q0S0h
MwAAAGMAAAAKAAAAYXBwLTIyLmxvZzM00jUwUjA0sDIwUPD0c/NXKE4tKktNUcjMUzAyUsgt5jKEKzDEUGCJqsAIXYGxGUgBAFBLAwQUAAAACAAw
eYddFxJqATMAAABjAAAACgAAAGFwcC0yMy5sb2czNNI1MFYwNLAyMFDw9HPzVyhOLSpLTVHIzFMwMlbILeYyhCswRFdgbICqwAhDgTlIAQBQSwEC
FAMUAAAACAAweYdduaLdbTIAAABhAAAACgAAAAAAAAAAAAAAgAEAAAAAYXBwLTAwLmxvZ1BLAQIUAxQAAAAIADB5h13eJu95MQAAAGEAAAAKAAAA
AAAAAAAAAACAAVoAAABhcHAtMDEubG9nUEsBAhQDFAAAAAgAMHmHXVNnaRcyAAAAYQAAAAoAAAAAAAAAAAAAAIABswAAAGFwcC0wMi5sb2dQSwEC
FAMUAAAACAAweYdd+SfndDIAAABiAAAACgAAAAAAAAAAAAAAgAENAQAAYXBwLTAzLmxvZ1BLAQIUAxQAAAAIADB5h10fACehMgAAAGIAAAAKAAAA
AAAAAAAAAACAAWcBAABhcHAtMDQubG9nUEsBAhQDFAAAAAgAMHmHXfMRjQMyAAAAYgAAAAoAAAAAAAAAAAAAAIABwQEAAGFwcC0wNS5sb2dQSwEC
FAMUAAAACAAweYddOcacATMAAABiAAAACgAAAAAAAAAAAAAAgAEbAgAAYXBwLTA2LmxvZ1BLAQIUAxQAAAAIADB5h13rAargMwAAAGIAAAAKAAAA
AAAAAAAAAACAAXYCAABhcHAtMDcubG9nUEsBAhQDFAAAAAgAMHmHXVSa3C4zAAAAYgAAAAoAAAAAAAAAAAAAAIAB0QIAAGFwcC0wOC5sb2dQSwEC
FAMUAAAACAAweYdd5TJLNTMAAABiAAAACgAAAAAAAAAAAAAAgAEsAwAAYXBwLTA5LmxvZ1BLAQIUAxQAAAAIADB5h13yYBM0MgAAAGMAAAAKAAAA
AAAAAAAAAACAAYcDAABhcHAtMTAubG9nUEsBAhQDFAAAAAgAMHmHXeioDcEzAAAAYwAAAAoAAAAAAAAAAAAAAIAB4QMAAGFwcC0xMS5sb2dQSwEC
FAMUAAAACAAweYdd6gXtsDMAAABjAAAACgAAAAAAAAAAAAAAgAE8BAAAYXBwLTEyLmxvZ1BLAQIUAxQAAAAIADB5h13F0bgNMwAAAGMAAAAKAAAA
AAAAAAAAAACAAZcEAABhcHAtMTMubG9nUEsBAhQDFAAAAAgAMHmHXT83uHQzAAAAYwAAAAoAAAAAAAAAAAAAAIAB8gQAAGFwcC0xNC5sb2dQSwEC
FAMUAAAACAAweYddSY/60DMAAABjAAAACgAAAAAAAAAAAAAAgAFNBQAAYXBwLTE1LmxvZ1BLAQIUAxQAAAAIADB5h13+nnudNAAAAGMAAAAKAAAA
AAAAAAAAAACAAagFAABhcHAtMTYubG9nUEsBAhQDFAAAAAgAMHmHXeAy4sI0AAAAYwAAAAoAAAAAAAAAAAAAAIABBAYAAGFwcC0xNy5sb2dQSwEC
FAMUAAAACAAweYdddHfxtzQAAABjAAAACgAAAAAAAAAAAAAAgAFgBgAAYXBwLTE4LmxvZ1BLAQIUAxQAAAAIADB5h10Cz7MTNAAAAGMAAAAKAAAA
AAAAAAAAAACAAbwGAABhcHAtMTkubG9nUEsBAhQDFAAAAAgAMHmHXRgSSwszAAAAYwAAAAoAAAAAAAAAAAAAAIABGAcAAGFwcC0yMC5sb2dQSwEC
FAMUAAAACAAweYddaHzNUDMAAABjAAAACgAAAAAAAAAAAAAAgAFzBwAAYXBwLTIxLmxvZ1BLAQIUAxQAAAAIADB5h11q0S0hMwAAAGMAAAAKAAAA
AAAAAAAAAACAAc4HAABhcHAtMjIubG9nUEsBAhQDFAAAAAgAMHmHXRcSagEzAAAAYwAAAAoAAAAAAAAAAAAAAIABKQgAAGFwcC0yMy5sb2dQSwUG
AAAAABgAGABABQAAhAgAAAAA]]

local function ticket_id() return math.random(1, 24000) end

task(35, function(vu)
  local r = http.get("/api/tickets/" .. ticket_id(), { name = "GET /api/tickets/{id}" })
  check(r, { ["ticket"] = function(res) return res.status == 200 end })
end)

task(20, function(vu)
  local r = http.post("/api/tickets/" .. ticket_id() .. "/comments",
                      { json = { author = "agent" .. vu.id, body = "Thanks, looking into it." },
                        name = "POST /api/tickets/{id}/comments" })
  check(r, { ["commented"] = function(res) return res.status == 201 end })
end)

task(25, function(vu)
  local r = http.post("/api/tickets", { json = { workspace = math.random(0, 199), subject = SUBJECTS[math.random(#SUBJECTS)],
                                                 body = "Hello, since this morning it does not work. Order " .. math.random(1e6) },
                                        name = "POST /api/tickets" })
  check(r, { ["created"] = function(res) return res.status == 201 end })
end)

task(17, function(vu)
  local zip = math.random(10) == 1
  local r = http.post("/api/tickets/" .. ticket_id() .. "/attachments",
                      { json = { filename = zip and "logs.zip" or "screenshot.png", content_base64 = zip and LOGS_ZIP or PNG },
                        name = "POST /api/tickets/{id}/attachments" })
  check(r, { ["attached"] = function(res) return res.status == 201 end })
end)

task(3, function(vu)
  local r = http.post("/api/tickets/bulk", { json = { queue = QUEUES[math.random(#QUEUES)],
                                                      status = math.random(2) == 1 and "resolved" or "open" },
                                             name = "POST /api/tickets/bulk" })
  check(r, { ["bulk"] = function(res) return res.status == 200 end })
end)
