-- scenario.lua - the scenario the k8s ConfigMap ships to the master; replace with your own
-- (cp scenarios/spike.lua deploy/k8s/scenario.lua). The target must be reachable from the pods.
options = {
  target = "http://shop.default.svc.cluster.local:8080",
  users = 200, spawn_rate = 50, duration = "5m",
  thresholds = { ["p99"] = "< 500ms", errors = "rate < 1%" },
}

task(1, function(vu)
  http.get("/api/books?page=" .. math.random(20), { name = "GET /api/books" })
end)
