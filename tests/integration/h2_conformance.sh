#!/usr/bin/env bash
# h2_conformance.sh - the h2 backend's column of the conformance suite, against nginx over h2c (prior
# knowledge) and h2 over TLS: status, headers, bodies (empty, 1 MiB, streamed without content-length,
# a 256 KiB upload through nginx's 64 KiB flow-control window), cookies, a redirect as a response,
# per-stream timeout, RST_STREAM, and the connection still serving after both; then 20 VUs on a server
# allowing 2 concurrent streams and sending GOAWAY every 50 requests (no errors, counts exact); ALPN
# mismatch (forced h2: kind protocol; auto: served over HTTP/1.1); a self-signed certificate without
# insecure_tls (kind tls).
# ctest: light - little CPU and no timing-sensitive assertion: may run beside another light test
set -euo pipefail
LOADCTL=${LOADCTL:?} SRC=${LOADCTL_SRC:?}
source "$SRC/tests/integration/h2_lib.bash"
h2_need nginx openssl curl python3
WORK=$(mktemp -d)
cleanup() { h2_stop; rm -rf "$WORK"; true; }
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }
h2_nginx "$WORK/nginx"
passed=0

summary() { # dir python-expression
  python3 -c "import json,sys; d=json.load(open(sys.argv[1]+'/summary.json')); print(eval(sys.argv[2]))" "$1" "$2"
}

conformance() { # base-url label
  cat >"$WORK/c.lua" <<LUA
options = { target = "$1", users = 1, duration = "3s", http = "h2", insecure_tls = true }
local function eq(name, got, want)
  check(got, { [name] = function() return got == want end })
  if got ~= want then log("MISMATCH " .. name .. ": got " .. tostring(got) .. ", want " .. tostring(want)) end
end
task(1, function(vu)
  if vu.iteration > 1 then sleep(0.2) return end
  local r = http.get("/hello")
  eq("200 status", r.status, 200); eq("200 body", r.body, "hello world\n"); eq("200 ok", r.ok, true)
  r = http.get("/status/404"); eq("404 status", r.status, 404); eq("404 kind", r.error, "http4xx")
  r = http.get("/status/503"); eq("503 kind", r.error, "http5xx")
  r = http.get("/headers"); eq("header", r.headers["x-answer"], "42")
  r = http.get("/empty"); eq("empty status", r.status, 204); eq("empty body", r.body, "")
  r = http.get("/files/big.bin"); eq("large body", #r.body, 1048576)
  r = http.get("/stream", { headers = { ["Accept-Encoding"] = "gzip" } })
  eq("streamed gzip", r.headers["content-encoding"], "gzip"); eq("streamed no length", r.headers["content-length"], nil)
  eq("streamed body", #r.body > 1000, true)
  r = http.post("/hello", { body = string.rep("x", 262144) }); eq("upload 256 KiB", r.status, 200)
  r = http.get("/cookie/set"); eq("set-cookie", r.status, 200)
  r = http.get("/cookie/echo"); eq("cookie sent", r.body, "cookie=sid=abc123\n")
  r = http.get("/redirect"); eq("redirect status", r.status, 302); eq("redirect location", r.headers["location"] ~= nil, true)
  r = http.get("/slow", { timeout = "300ms" }); eq("timeout kind", r.error, "timeout")
  eq("timeout time", r.time >= 250 and r.time < 3000, true)
  r = http.get("/reset"); eq("reset kind", r.error, "reset")
  eq("reset message", (r.error_message or ""):find("RST_STREAM", 1, true) ~= nil, true)
  r = http.get("/hello"); eq("after reset", r.status, 200)
end)
LUA
  timeout 60 "$LOADCTL" start "$WORK/c.lua" --threads 1 --out "$WORK/c-$2" >"$WORK/c.log" 2>&1 || true
  python3 - "$WORK/c-$2" "$2" <<'PY' || { grep MISMATCH "$WORK/c.log"; fail "$2: conformance"; }
import json, sys
d = json.load(open(sys.argv[1] + "/summary.json"))
checks = {c["name"]: c for c in d["checks"]}
want = 23
bad = [n for n, c in checks.items() if c["fails"] or not c["passes"]]
print(f"{sys.argv[2]}: {len(checks)} checks, failing: {bad or 'none'}")
sys.exit(1 if bad or len(checks) != want else 0)
PY
  passed=$((passed + 1))
}

conformance "http://127.0.0.1:$H2C_PORT" h2c
conformance "https://127.0.0.1:$H2_TLS_PORT" h2-tls
grep -q "^$H2C_PORT 200 /hello HTTP/2.0\$" "$H2_LOG" || fail "nginx saw no HTTP/2.0 request on the h2c port"

echo "== 20 VUs, 2 concurrent streams allowed, GOAWAY every 50 requests"
cat >"$WORK/g.lua" <<LUA
options = { target = "http://127.0.0.1:$H2C_TIGHT_PORT", users = 20, spawn_rate = 1000, duration = "2s", http = "h2" }
task(1, function(vu) http.get("/hello") end)
LUA
timeout 60 "$LOADCTL" start "$WORK/g.lua" --threads 1 --out "$WORK/g" >"$WORK/g.log" 2>&1 || { cat "$WORK/g.log"; fail "goaway run"; }
reqs=$(summary "$WORK/g" "d['totals']['requests']") errs=$(summary "$WORK/g" "d['totals']['errors']")
served=$(h2_served "$H2C_TIGHT_PORT")
echo "requests=$reqs errors=$errs served=$served (a new connection every 50)"
[ "$errs" -eq 0 ] || { cat "$WORK/g/failures.csv"; fail "errors with GOAWAY and a 2-stream limit"; }
[ "$reqs" -eq "$served" ] && [ "$reqs" -ge 200 ] || fail "count: loadctl $reqs, nginx $served"
passed=$((passed + 1))

echo "== ALPN mismatch and a certificate nobody vouches for"
alpn_run() { # http-mode insecure name
  cat >"$WORK/a.lua" <<LUA
options = { target = "https://127.0.0.1:$4", users = 2, duration = "1s", http = "$1", insecure_tls = $2 }
task(1, function(vu) http.get("/hello") end)
LUA
  timeout 60 "$LOADCTL" start "$WORK/a.lua" --threads 1 --out "$WORK/a-$3" >"$WORK/a.log" 2>&1 || true
}
before=$(h2_served "$H1_TLS_PORT")
alpn_run h2 true forced "$H1_TLS_PORT"
n=$(summary "$WORK/a-forced" "d['totals']['requests']")
e=$(summary "$WORK/a-forced" "d['requests'][0].get('err', {}).get('protocol', d['totals']['errors'])")
grep -q 'did not pick h2 by ALPN' "$WORK/a-forced/failures.csv" || fail "forced h2 at an http/1.1 server: no ALPN message"
[ "$n" -gt 0 ] && [ "$(summary "$WORK/a-forced" "d['totals']['errors']")" -eq "$n" ] || fail "forced h2: $n requests must all fail"
[ "$(h2_served "$H1_TLS_PORT")" -eq "$before" ] || fail "forced h2 sent requests over HTTP/1.1"
alpn_run auto true auto "$H1_TLS_PORT"
n=$(summary "$WORK/a-auto" "d['totals']['requests']") e=$(summary "$WORK/a-auto" "d['totals']['errors']")
h1=$(awk -v p="$H1_TLS_PORT" '$1 == p && $4 == "HTTP/1.1"' "$H2_LOG" | wc -l)
echo "auto at an http/1.1-only TLS server: requests=$n errors=$e served over HTTP/1.1=$h1"
[ "$e" -eq 0 ] && [ "$n" -gt 0 ] && [ "$h1" -eq "$n" ] || fail "auto must fall back to HTTP/1.1"
alpn_run h2 false badcert "$H2_TLS_PORT"
grep -q 'tls,.*certificate verify failed\|certificate verify failed' "$WORK/a-badcert/failures.csv" || {
  cat "$WORK/a-badcert/failures.csv"; fail "self-signed certificate: no tls error"; }
passed=$((passed + 3))
echo "$passed passed, 0 failed"
