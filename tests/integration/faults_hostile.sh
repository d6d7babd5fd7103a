#!/usr/bin/env bash
# faults_hostile.sh - a hostile target (tests/targets/hostile.c, issue 21 item 5): an endless header
# block, an endless chunked body, a slowloris trickle, invalid HTTP/2 frames, and a TLS server whose
# certificate changes mid-run. Each gets a classified error (protocol, timeout, tls), loadctl's memory
# stays bounded (peak RSS), the run ends on time, and the VUs that talk to a healthy server at the same
# time see no error and keep their pace.
source "$(dirname "$0")/dist_lib.bash"
HOSTILE=$LOADCTL_BUILD/hostile
[ -x "$HOSTILE" ] || { echo "SKIP: $HOSTILE not built"; exit 77; }
start_testserver 60
need_engine
"$HOSTILE" --duration-s 60 >"$T/hostile.out" 2>"$T/hostile.log" &
PIDS+=($!)
for _ in $(seq 1 100); do grep -q '^H2PORT' "$T/hostile.out" 2>/dev/null && break; sleep 0.05; done
HP=$(awk '/^PORT/ {print $2}' "$T/hostile.out"); H2P=$(awk '/^H2PORT/ {print $2}' "$T/hostile.out")
[ -n "$HP" ] && [ -n "$H2P" ] || fail "hostile did not start"
# tls_server DIR PORT: a TLS testserver with a fresh certificate (DIR/server.pem) on PORT (0 = free)
tls_server() {
  mkdir -p "$1"
  "$LOADCTL_BUILD/testserver" --port "$2" --duration-s 60 --tls-dir "$1" >"$1/out" 2>"$1/log" &
  TLS_PID=$!; PIDS+=($TLS_PID)
  for _ in $(seq 1 100); do grep -q '^PORT' "$1/out" 2>/dev/null && break; sleep 0.05; done
  TP=$(awk '/^PORT/ {print $2}' "$1/out")
  [ -n "$TP" ] || fail "TLS testserver did not start: $(cat "$1/log")"
}
tls_server "$T/cert1" 0

cat >"$T/h1.lua" <<LUA
options = { target = "http://127.0.0.1:$PORT", users = 12, duration = "6s", timeout = "1500ms",
            tls_ca_file = "$T/cert1/server.pem" }
local hostile = "http://127.0.0.1:$HP"
task(1, function(vu)
  if vu.id <= 4 then http.get("/ok", {name = "healthy"})
  elseif vu.id <= 6 then http.get(hostile .. "/headers", {name = "headers"})
  elseif vu.id <= 8 then http.get(hostile .. "/endless", {name = "endless"})
  elseif vu.id <= 10 then http.get(hostile .. "/trickle", {name = "trickle"})
  else http.get("https://127.0.0.1:$TP/ok", {name = "tls"}); sleep(0.05) end
end)
LUA
"$LOADCTL" start "$T/h1.lua" --threads 1 --quiet --out "$T/run-h1" >"$T/h1.out" 2>"$T/h1.log" &
S=$!; PIDS+=($S)
t0=$(date +%s%N)
peak=0
swapped=0
while kill -0 $S 2>/dev/null; do
  rss=$(awk '/^VmHWM/ {print $2}' /proc/$S/status 2>/dev/null || echo 0)
  [ "${rss:-0}" -gt "$peak" ] && peak=$rss
  if [ $swapped = 0 ] && [ $(( ($(date +%s%N) - t0) / 1000000 )) -ge 2500 ]; then
    kill -9 $TLS_PID; wait $TLS_PID 2>/dev/null; tls_server "$T/cert2" "$TP"; swapped=1 # same port, new certificate
  fi
  sleep 0.1
done
wait $S; rc=$?
took=$(( ($(date +%s%N) - t0) / 1000000 ))
[ $rc -eq 0 ] || fail "loadctl start (h1) exited $rc"
python3 - "$T/run-h1/summary.json" "$peak" "$took" <<'PY' || fail "h1 run: see above"
import json, sys
d = json.load(open(sys.argv[1])); peak_kb, took_ms = int(sys.argv[2]), int(sys.argv[3])
req = {r["name"]: r for r in d["requests"]}
bad = []
def kinds(name):
    r = req.get(name, {})
    return {k: v for k, v in r.get("err", r.get("errors_by_kind", {})).items() if v}
for name in ("healthy", "headers", "endless", "trickle", "tls"):
    r = req.get(name)
    print("%-8s count %6d errors %6d kinds %s p99 %.1f ms" % (name, r["count"] if r else 0, r["errors"] if r else 0,
          kinds(name), r["p99_ms"] if r else 0))
h = req["healthy"]
if h["errors"] != 0: bad.append("healthy VUs saw %d errors" % h["errors"])
if h["count"] < 500: bad.append("healthy VUs sent only %d requests in 6 s" % h["count"])
want = {"headers": "protocol", "endless": "timeout", "trickle": "timeout", "tls": "tls"}
for name, kind in want.items():
    k = kinds(name)
    if not k.get(kind): bad.append("%s: no '%s' error (kinds %s)" % (name, kind, k))
    if name != "tls" and req[name]["count"] != req[name]["errors"]: bad.append("%s: a success counted" % name)
if req["tls"]["count"] - req["tls"]["errors"] < 1: bad.append("tls: nothing succeeded before the certificate changed")
print("peak RSS %d KB, run took %d ms" % (peak_kb, took_ms))
if peak_kb > 200 * 1024: bad.append("peak RSS %d KB over 200 MB" % peak_kb)
if took_ms > 15000: bad.append("the run took %d ms (6 s asked)" % took_ms)
for b in bad: print("FAIL:", b)
sys.exit(1 if bad else 0)
PY

cat >"$T/h2.lua" <<LUA
options = { target = "http://127.0.0.1:$H2P", users = 4, duration = "3s", timeout = "1s", http = "h2" }
task(1, function(vu) http.get("/", {name = "badframes"}); sleep(0.05) end)
LUA
t0=$(date +%s%N)
"$LOADCTL" start "$T/h2.lua" --threads 1 --quiet --out "$T/run-h2" >"$T/h2.out" 2>"$T/h2.log"; rc=$?
took=$(( ($(date +%s%N) - t0) / 1000000 ))
[ $rc -eq 0 ] || fail "loadctl start (h2) exited $rc"
python3 - "$T/run-h2/summary.json" "$took" <<'PY' || fail "h2 run: see above"
import json, sys
d = json.load(open(sys.argv[1])); took_ms = int(sys.argv[2])
r = [x for x in d["requests"] if x["name"] == "badframes"][0]
k = {a: b for a, b in r.get("err", r.get("errors_by_kind", {})).items() if b}
print("badframes count %d errors %d kinds %s, run took %d ms" % (r["count"], r["errors"], k, took_ms))
# every request fails, classified; nearly all fast (protocol/reset) rather than by waiting for the timeout
fast = k.get("protocol", 0) + k.get("reset", 0)
ok = (r["count"] > 0 and r["errors"] == r["count"] and set(k) <= {"protocol", "reset", "timeout"}
      and fast >= 0.9 * r["count"] and took_ms < 10000)
sys.exit(0 if ok else 1)
PY
echo "faults_hostile: ok"
