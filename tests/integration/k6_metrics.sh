#!/usr/bin/env bash
# k6_metrics.sh - custom metrics (k6's Counter, Gauge, Rate, Trend) merged exactly across 2 workers
# (docs/scenario-api.md): 4 VUs send the values 1..1000 to a Trend between them, and the merged p50/p95/p99
# equal the exact percentiles of those values (nearest rank); counter, rate and gauge figures are exact;
# thresholds on them pass and fail as they should; Prometheus, `loadctl report` and report.html show them.
# ctest: light - little CPU and no timing-sensitive assertion: may run beside another light test
source "$(dirname "$0")/dist_lib.bash"
start_testserver 120
MPORT=$(free_port)

cat >"$T/m.lua" <<LUA
options = { target = "http://127.0.0.1:$PORT", users = 4, duration = "3s",
  thresholds = { cart_size = { "p(95) == 950", "max < 10" }, orders = "count == 4", ["orders value"] = "== 10",
                 ok_rate = "rate == 75%", depth = "max == 40" } }
local cart, orders, ok_rate, depth = metrics.trend("cart_size"), metrics.counter("orders"),
  metrics.rate("ok_rate"), metrics.gauge("depth")
task(1, function(vu)
  if vu.iteration == 0 then
    for v = 1, 1000 do if v % 4 == vu.id % 4 then cart:add(v) end end
    orders:add(vu.id)
    ok_rate:add(true); ok_rate:add(1); ok_rate:add(false); ok_rate:add(vu.id > 0)
    depth:set(vu.id * 10)
  end
  http.get("/ok")
  sleep(0.2)
end)
LUA
timeout 60 "$LOADCTL" start "$T/m.lua" --workers 2 --threads 2 --quiet --metrics-listen "127.0.0.1:$MPORT" \
  --out "$T/run" >"$T/run.log" 2>&1 &
RUN=$!
PIDS+=($RUN)
for _ in $(seq 1 50); do
  curl -fsS "http://127.0.0.1:$MPORT/metrics" >"$T/prom.txt" 2>/dev/null && grep -q '^loadctl_script_cart_size_count 1000$' "$T/prom.txt" && break
  sleep 0.1
done
bwait $RUN 60
rc=$?
[ $rc -eq 99 ] || fail "the run should exit 99 (the threshold max < 10 fails), got $rc"
grep -q '^loadctl_script_cart_size{quantile="0.95"} 950$' "$T/prom.txt" || fail "Prometheus: no merged p95 950: $(grep script "$T/prom.txt")"
grep -q '^loadctl_script_orders_total 10$' "$T/prom.txt" || fail "Prometheus: orders_total is not 10"
want=$(python3 -c 'import math; v=sorted(range(1,1001)); print(",".join(str(v[math.ceil(p/100*len(v))-1]) for p in (50,95,99)))')
got=$(json "$T/run/summary.json" '",".join("%g" % [m for m in d["metrics"] if m["name"]=="cart_size"][0][k] for k in ("p50","p95","p99"))')
echo "Trend cart_size over 2 workers: p50,p95,p99 = $got (exact: $want)"
[ "$got" = "$want" ] || fail "merged percentiles $got, exact $want"
figs=$(json "$T/run/summary.json" '";".join("%s:%s" % (m["name"], ",".join("%g" % m[k] for k in ("count","sum","passes","rate","min","max") if k in m)) for m in sorted(d["metrics"], key=lambda m: m["name"]) if m["name"] != "iteration_duration")')
echo "metrics: $figs"
[ "$figs" = "cart_size:1000,500500,1,1000;depth:4,10,40;ok_rate:16,12,0.75;orders:4,10" ] || fail "metric figures: $figs"
th=$(json "$T/run/summary.json" '";".join("%s:%s" % (t["expr"], t["ok"]) for t in d["thresholds"])')
echo "thresholds: $th"
for want in "cart_size p(95) == 950:True" "cart_size max < 10:False" "orders count == 4:True" \
            "orders value == 10:True" "ok_rate rate == 75%:True" "depth max == 40:True"; do
  case ";$th;" in *";$want;"*) ;; *) fail "threshold '$want' missing from $th" ;; esac
done
grep -q '<section id="metrics">' "$T/run/report.html" || fail "report.html has no Custom metrics section"
cp "$T/run/summary.json" "$T/live.json"
"$LOADCTL" report "$T/run" >"$T/report.log" 2>&1
re=$(json "$T/run/summary.json" 'json.dumps(d["metrics"], sort_keys=True)')
live=$(json "$T/live.json" 'json.dumps(d["metrics"], sort_keys=True)')
[ "$re" = "$live" ] || fail "loadctl report rebuilt other metrics: $re vs $live"
echo "PASS"
