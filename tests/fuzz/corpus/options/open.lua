options = { rate = 200, max_vus = 50, stages = { {duration="5s", rate=100}, {duration="10s", rate=500} },
  http = "h1", timeout = "2s" }
task(2, function(vu) http.get("/a") end)
task(1, function(vu) http.post("/b", {json={x=1}}) end)
