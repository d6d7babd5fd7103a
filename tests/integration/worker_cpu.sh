#!/usr/bin/env bash
# worker_cpu.sh - each worker reports its engine threads' CPU: a scenario that only burns CPU in Lua
# shows a far higher figure than one that only sleeps, on the live lines (cpu=N%) and in run.json's
# workers (cpu_mean_pct, cpu_max_pct, cpu_hot_s), and report.html shows the worker CPU card. Figures are
# compared with each other, not with tight bounds, so a loaded machine does not fail it. (The warning
# after 5 s above 90 % is tested in test_registry and test_report, where the figures are given.)
# ctest: pair - relative bounds made for a loaded machine (busy > 3x idle); one core for 5 s: may run beside one other such test
set -u
LOADCTL=${LOADCTL:?}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; for f in "$T"/*.txt; do echo "--- $f"; tail -5 "$f"; done; exit 1; }

cat > "$T/busy.lua" <<'LUA'
options = { target = "http://127.0.0.1:9", users = 1, duration = "5s" }
task(1, function(vu) local t0 = os.clock(); while os.clock() - t0 < 0.05 do end end) -- 50 ms of CPU each
LUA
cat > "$T/idle.lua" <<'LUA'
options = { target = "http://127.0.0.1:9", users = 1, duration = "5s" }
task(1, function(vu) sleep(0.2) end)
LUA
for s in busy idle; do
  timeout 60 "$LOADCTL" start "$T/$s.lua" --threads 1 --out "$T/$s" > "$T/$s.txt" 2>&1
  rc=$?
  [ $rc -eq 0 ] || fail "$s run exited $rc"
done
grep -q '^\[[0-9.ms]*\] users=1 .* cpu=[0-9]*%' "$T/busy.txt" || fail "no cpu=N% on the plain live lines"
python3 - "$T/busy/run.json" "$T/idle/run.json" <<'PY' || fail "CPU figures do not tell a busy worker from an idle one"
import json, sys
busy, idle = (json.load(open(p))["workers"][0] for p in sys.argv[1:3])
for w in (busy, idle):
    for k in ("cpu_mean_pct", "cpu_max_pct", "cpu_hot_s"):
        assert k in w, f"run.json worker lacks {k}: {w}"
print(f"busy worker: mean {busy['cpu_mean_pct']:.0f}%, max {busy['cpu_max_pct']:.0f}%; "
      f"idle worker: mean {idle['cpu_mean_pct']:.0f}%, max {idle['cpu_max_pct']:.0f}%")
# CPU time over wall time: on a machine this loaded a busy thread may get a fraction of a core, so the
# bounds are relative; an idle VU (sleeping) costs next to nothing
assert busy["cpu_max_pct"] > 10 and busy["cpu_max_pct"] > 3 * idle["cpu_max_pct"], "busy is not clearly busier"
assert 0 <= idle["cpu_max_pct"] < 10 and busy["cpu_max_pct"] <= 110
PY
grep -q 'worker CPU max %' "$T/busy/report.html" || fail "report.html has no worker CPU card"
echo "worker_cpu: ok"
