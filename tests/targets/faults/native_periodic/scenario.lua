-- native_periodic: a thumbnail service in C (tests/targets/faults/README.md), profiled with perf as
-- docs/profiling.md shows for native services: one `perf record` for the whole run, switching to a new
-- file every second, each file run through `perf script` as it is done (no gaps; loadctl cuts the output
-- into 1 s windows by sample time as it comes), DWARF call graphs (with frame pointers alone perf loses the
-- caller of a frameless leaf such as blend); its admin port tells its pid. With the sched:sched_switch
-- tracepoint (and --switch-events) it also records where threads wait off CPU (docs/profiling.md, perf);
-- without the tracepoint it records CPU samples only and says so. native_purge runs it with
-- NATIVE_EDITORS=1: the photo editors' album purges join the readers' requests.
options = {
  name = env("FAULTS_VARIANT", "native_periodic"),
  target = "http://127.0.0.1:8080",
  rate = 80, max_vus = 200, duration = "20s",
  profile = {
    { source = "command",
      url = "D=$LOADCTL_PROFILES_DIR/perf; mkdir -p $D; W='-e sched:sched_switch --filter prev_state&3 --switch-events'; perf record -e sched:sched_switch -o $D/probe -- true >/dev/null 2>&1 || { W=; echo 'no sched:sched_switch tracepoint: CPU samples only' >&2; }; rm -f $D/probe; perf record -k CLOCK_MONOTONIC -e cpu-clock/freq=99/ $W --call-graph dwarf -p $(curl -fsS http://127.0.0.1:6060/debug/pid) --switch-output=1s -o $D/p.data >/dev/null 2>&1 & while sleep 0.5; do for f in $D/p.data.2*; do [ -f $f ] && perf script --no-inline --show-switch-events -i $f 2>/dev/null; rm -f $f; done; done" },
  },
}

task(2, function(vu)
  http.get("/api/thumb?id=" .. math.random(1, 5000), { name = "GET /api/thumb" })
end)

task(3, function(vu)
  http.get("/api/meta?id=" .. math.random(1, 5000), { name = "GET /api/meta" })
end)

if env("NATIVE_EDITORS", "") ~= "" then
  task(0.02, function(vu)
    http.post("/api/albums/" .. math.random(0, 7800) .. "/purge", { name = "POST /api/albums/{id}/purge" })
  end)
end
