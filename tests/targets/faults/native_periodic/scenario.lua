-- native_periodic: a thumbnail service in C (tests/targets/faults/README.md), profiled with perf as
-- docs/profiling.md shows for native services (DWARF call graphs: with frame pointers alone perf loses the
-- caller of a frameless leaf such as blend); its admin port tells its pid. Windows at loadctl's default.
options = {
  name = "native_periodic",
  target = "http://127.0.0.1:8080",
  rate = 80, max_vus = 200, duration = "20s",
  profile = {
    { source = "command",
      url = "F=$LOADCTL_PROFILES_DIR/perf.data; perf record -k CLOCK_MONOTONIC -F 99 --call-graph dwarf -p $(curl -fsS http://127.0.0.1:6060/debug/pid) -o $F -- sleep $LOADCTL_WINDOW_S >/dev/null 2>&1 && perf script --no-inline -i $F 2>/dev/null" },
  },
}

task(2, function(vu)
  http.get("/api/thumb?id=" .. math.random(1, 5000), { name = "GET /api/thumb" })
end)

task(3, function(vu)
  http.get("/api/meta?id=" .. math.random(1, 5000), { name = "GET /api/meta" })
end)
