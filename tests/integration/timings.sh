#!/usr/bin/env bash
# timings.sh - k6's timing breakdown per request name in summary.json (issue 16): over plain http with
# the testserver's /delay/40, waiting p50 is the delay and TLS reads 0; over https (nginx, h1 TLS) the
# first request after a `Connection: close` pays connecting and tls_handshaking, the kept-alive ones pay
# neither (p99 0), and the names on new connections match the connections the run opened. Two local
# workers (phases merged on the master), and `loadctl report` rebuilds the same figures from the run dir.
# Over h2, the open model's pre-allocated VUs open the thread's h2_connections before the start: no request
# pays a connect or handshake (the closed model, which has no pre-connect, shows them).
set -euo pipefail
LOADCTL=${LOADCTL:?} BUILD=${LOADCTL_BUILD:?} SRC=${LOADCTL_SRC:?}
source "$SRC/tests/integration/h2_lib.bash"
h2_need nginx openssl curl python3
WORK=$(mktemp -d)
NGINX_PID= SERVER_PID=
cleanup() { [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null; h2_stop; rm -rf "$WORK"; true; }
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }

"$BUILD/testserver" --port 0 --duration-s 120 >"$WORK/server.out" 2>&1 &
SERVER_PID=$!
for _ in $(seq 50); do grep -q '^PORT' "$WORK/server.out" 2>/dev/null && break; sleep 0.1; done
PORT=$(awk '/^PORT/{print $2}' "$WORK/server.out")
h2_nginx "$WORK/nginx"

# rebuilt DIR: `loadctl report` from the run dir gives the live run's timings, name by name
rebuilt() {
  cp "$1/summary.json" "$WORK/live.json"
  "$LOADCTL" report "$1" --quiet >/dev/null 2>&1 || fail "loadctl report $1"
  python3 - "$WORK/live.json" "$1/summary.json" <<'PY' || fail "rebuilt timings differ from the live run's"
import json, sys
live, back = (json.load(open(p)) for p in sys.argv[1:3])
t = lambda d: {r["name"]: r.get("timings") for r in d["requests"]}
sys.exit(0 if t(live) == t(back) and all(t(live).values()) else 1)
PY
}

echo "== plain http, /delay/40 and /ok, 2 workers"
cat >"$WORK/plain.lua" <<LUA
options = { target = "http://127.0.0.1:$PORT", users = 6, duration = "2s", http = "h1" }
task(1, function(vu) http.get("/delay/40", { name = "slow" }) end)
task(1, function(vu) http.get("/ok", { name = "fast" }) end)
LUA
"$LOADCTL" start "$WORK/plain.lua" --workers 2 --threads 2 --out "$WORK/plain" --quiet >"$WORK/plain.log" 2>&1 ||
  { cat "$WORK/plain.log"; fail "plain run failed"; }
python3 - "$WORK/plain/summary.json" <<'PY' || fail "plain http timings"
import json, sys
req = {r["name"]: r for r in json.load(open(sys.argv[1]))["requests"]}
slow, fast = req["slow"]["timings"], req["fast"]["timings"]
print("slow:", json.dumps(slow["waiting"]), "tls max", slow["tls_handshaking"]["max_ms"])
assert set(slow) == {"blocked", "connecting", "tls_handshaking", "sending", "waiting", "receiving"}, slow.keys()
assert 40 <= slow["waiting"]["p50_ms"] <= 60, slow["waiting"]      # the server's delay, read at 0.8 %
assert slow["waiting"]["p50_ms"] <= slow["waiting"]["p95_ms"] <= slow["waiting"]["p99_ms"]
assert fast["waiting"]["p50_ms"] < 20, fast["waiting"]
for t in (slow, fast):
    assert t["tls_handshaking"]["max_ms"] == 0, t["tls_handshaking"]  # plain http: no TLS at all
    assert t["connecting"]["p50_ms"] == 0, t["connecting"]            # kept alive: 0, not 1 us
# the phases add up to no more than the request's service time
assert sum(slow[p]["p50_ms"] for p in slow) <= req["slow"]["service"]["p99_ms"] + 1
PY
rebuilt "$WORK/plain"

echo "== https (h1 TLS): a new connection each iteration"
cat >"$WORK/tls.lua" <<LUA
options = { target = "https://127.0.0.1:$H1_TLS_PORT", users = 3, duration = "2s", insecure_tls = true,
            http = "h1" }
task(1, function(vu)
  http.get("/hello", { name = "first" })
  http.get("/hello", { name = "again" })
  http.get("/hello", { name = "bye", headers = { Connection = "close" } })
end)
LUA
"$LOADCTL" start "$WORK/tls.lua" --threads 1 --out "$WORK/tls" --quiet >"$WORK/tls.log" 2>&1 ||
  { cat "$WORK/tls.log"; fail "tls run failed"; }
python3 - "$WORK/tls/summary.json" "$WORK/tls/intervals.jsonl" <<'PY' || fail "tls timings"
import json, sys
d = json.load(open(sys.argv[1]))
req = {r["name"]: r for r in d["requests"]}
first, again, bye = (req[n]["timings"] for n in ("first", "again", "bye"))
print("first tls", json.dumps(first["tls_handshaking"]), "connecting", json.dumps(first["connecting"]))
print("again tls", json.dumps(again["tls_handshaking"]), "count first", req["first"]["count"])
assert req["first"]["count"] > 20 and req["first"]["errors"] == 0, req["first"]
assert first["tls_handshaking"]["p50_ms"] > 0 and first["connecting"]["p50_ms"] > 0, first
for t in (again, bye):
    assert t["tls_handshaking"]["p99_ms"] == 0 and t["tls_handshaking"]["max_ms"] == 0, t
    assert t["connecting"]["max_ms"] == 0, t
PY
# every "first" opened a connection and nothing else did (intervals.jsonl's new_conns; a VU stopped while
# connecting for its next "first" opened one that completed no request: at most one per user)
python3 - "$WORK/tls/summary.json" "$WORK/tls/intervals.jsonl" <<'PY' || fail "new connections != first requests"
import json, sys
first = [r for r in json.load(open(sys.argv[1]))["requests"] if r["name"] == "first"][0]["count"]
lines = [json.loads(l) for l in open(sys.argv[2])]
opened = sum(l["new_conns"] for l in lines if "new_conns" in l)
print("first requests", first, "connections opened", opened)
sys.exit(0 if first <= opened <= first + 3 else 1)
PY
rebuilt "$WORK/tls"

echo "== h2 open model: pre-allocated VUs open the thread's h2_connections before the start"
for model in open closed; do
  load='rate = 200, pre_allocated_vus = 20, max_vus = 50'
  [ $model = closed ] && load='users = 20'
  cat >"$WORK/h2.lua" <<LUA
options = { target = "https://127.0.0.1:$H2_TLS_PORT", http = "h2", h2_connections = 3, insecure_tls = true,
            duration = "2s", $load }
task(1, function(vu) http.get("/hello", { name = "GET /hello" }) end)
LUA
  "$LOADCTL" start "$WORK/h2.lua" --threads 1 --out "$WORK/h2-$model" --quiet >"$WORK/h2.log" 2>&1 ||
    { cat "$WORK/h2.log"; fail "h2 $model run failed"; }
  python3 - "$WORK/h2-$model" "$model" <<'PY' || fail "h2 $model: pre-connect"
import json, sys
d, model = sys.argv[1], sys.argv[2]
r = json.load(open(d + "/summary.json"))["requests"][0]
t = r["timings"]
opened = sum(json.loads(l).get("new_conns", 0) for l in open(d + "/intervals.jsonl"))
handshake = t["tls_handshaking"]["max_ms"] + t["connecting"]["max_ms"]
print(model, "requests", r["count"], "errors", r["errors"], "connections", opened, "connect+tls max ms", handshake)
assert r["count"] > 100 and r["errors"] == 0 and opened == 3, (r["count"], r["errors"], opened)
# open: every request found its connection ready; closed (no pre-connect): the first ones waited for it
assert (handshake == 0) if model == "open" else (t["tls_handshaking"]["max_ms"] > 0), t
PY
done
echo ok
