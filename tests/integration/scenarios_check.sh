#!/usr/bin/env bash
# scenarios_check.sh - every scenarios/*.lua passes `loadctl check`; then, when `loadctl start` works,
# each one runs for 2 s against a local nginx (plain HTTP standing in for the demo shop, HTTPS + HTTP/2
# with a self-signed certificate for http2_tls.lua) and must send requests with zero transport errors.
# Skipped (77) while `loadctl check` is not built.
# ctest: light - little CPU and no timing-sensitive assertion: may run beside another light test
set -uo pipefail
LOADCTL=${LOADCTL:?}
SRC=${LOADCTL_SRC:?}
TMP=$(mktemp -d)
NGINX_PID=""
cleanup() {
  [ -n "$NGINX_PID" ] && kill "$NGINX_PID" 2>/dev/null && wait "$NGINX_PID" 2>/dev/null
  rm -rf "$TMP"
}
trap cleanup EXIT

out=$("$LOADCTL" check "$SRC/scenarios/checkout.lua" 2>&1)
if echo "$out" | grep "not built" >/dev/null; then echo "SKIP: loadctl check: $out"; exit 77; fi

fail=0
n=0
for f in "$SRC"/scenarios/*.lua "$SRC"/bench/get.lua "$SRC"/bench/idle.lua "$SRC"/bench/open.lua \
         "$SRC"/deploy/k8s/scenario.lua; do
  case "$f" in "$SRC"/scenarios/*) n=$((n + 1)) ;; esac
  if out=$("$LOADCTL" check "$f" 2>&1); then
    echo "ok   check ${f#"$SRC"/}"
  else
    echo "FAIL check ${f#"$SRC"/}: $out"; fail=1
  fi
done
[ "$n" -ge 5 ] || { echo "FAIL: expected at least 5 scenarios, found $n"; fail=1; }
# a broken scenario must fail check with file:line
printf 'options = { users = 1 }\ntask(1, function(vu)\n  http.get("/"\nend)\n' > "$TMP/broken.lua"
if out=$("$LOADCTL" check "$TMP/broken.lua" 2>&1); then
  echo "FAIL: check accepted a syntax error"; fail=1
elif ! echo "$out" | grep "broken.lua:[0-9]" >/dev/null; then
  echo "FAIL: check's message names no file:line: $out"; fail=1
fi
[ $fail -eq 0 ] || exit 1

# --- short runs against nginx
command -v nginx >/dev/null && command -v openssl >/dev/null || { echo "SKIP runs: nginx or openssl missing"; exit 77; }
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
HTTP_PORT=$(port); TLS_PORT=$(port); PPROF_PORT=$(port)
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 -keyout "$TMP/key.pem" -out "$TMP/cert.pem" \
  >/dev/null 2>&1 || { echo "FAIL: openssl could not make a certificate"; exit 1; }
mkdir -p "$TMP/logs"
cat > "$TMP/nginx.conf" <<CONF
worker_processes 1;
master_process off;
daemon off;
pid $TMP/nginx.pid;
error_log $TMP/logs/error.log warn;
$( [ "$(id -u)" = 0 ] && echo "user nobody nogroup;" )
events { worker_connections 1024; }
http {
  log_format proto '\$server_protocol \$status \$request_method \$uri';
  access_log $TMP/logs/access.log proto;
  client_body_temp_path $TMP/body;
  proxy_temp_path $TMP/proxy;
  fastcgi_temp_path $TMP/fastcgi;
  uwsgi_temp_path $TMP/uwsgi;
  scgi_temp_path $TMP/scgi;
  server {
    listen 127.0.0.1:$HTTP_PORT;
    listen 127.0.0.1:$TLS_PORT ssl http2;
    ssl_certificate $TMP/cert.pem;
    ssl_certificate_key $TMP/key.pem;
    default_type application/json;
    location = /api/orders { return 201 '{"id":1}'; }
    location / { return 200 '{"token":"t0k3n","ok":true}'; }
  }
}
CONF
nginx -p "$TMP" -c "$TMP/nginx.conf" -e "$TMP/logs/error.log" &
NGINX_PID=$!
for _ in $(seq 50); do curl -fs "http://127.0.0.1:$HTTP_PORT/" >/dev/null 2>&1 && break; sleep 0.1; done

# does `loadctl start` run load in this build? (the engine lands after `check`)
printf 'options = { target = "http://127.0.0.1:%s", users = 1, duration = "1s" }\ntask(1, function() http.get("/") end)\n' \
  "$HTTP_PORT" > "$TMP/probe.lua"
timeout 60 "$LOADCTL" start "$TMP/probe.lua" --quiet --out "$TMP/probe" > "$TMP/probe.out" 2>&1
if grep -qi "not built\|not implemented" "$TMP/probe.out"; then
  echo "SKIP runs: loadctl start does not run load yet: $(grep -m1 -i "not built\\|not implemented" "$TMP/probe.out")"; exit 77
fi

run() { # scenario, extra flags...
  local name=$1; shift
  local dir="$TMP/run-$name" rc
  SHOP_ADDR=127.0.0.1:$HTTP_PORT SHOP_PPROF_ADDR=127.0.0.1:$PPROF_PORT TLS_TARGET=https://127.0.0.1:$TLS_PORT \
    TLS_INSECURE=1 timeout 60 "$LOADCTL" start "$SRC/scenarios/$name.lua" --duration 2s --quiet --out "$dir" "$@" \
    > "$TMP/$name.out" 2>&1
  rc=$?
  # 99 = a threshold failed (nginx is not the shop): still a run; anything else is not
  if [ $rc -ne 0 ] && [ $rc -ne 99 ]; then echo "FAIL run $name: exit $rc"; tail -5 "$TMP/$name.out"; fail=1; return; fi
  python3 - "$dir/summary.json" "$name" <<'PY' || fail=1
import json, sys
s = json.load(open(sys.argv[1])); t = s["totals"]
if t["requests"] <= 0 or t["errors"] != 0:
    print("FAIL run %s: requests=%s errors=%s" % (sys.argv[2], t["requests"], t["errors"])); sys.exit(1)
print("ok   run %s: %d requests, 0 errors, %.0f rps" % (sys.argv[2], t["requests"], t["rps"]))
PY
}
run checkout --users 5
run soak --users 5
run login_csv --users 5
run spike --rate 50
run http2_tls --users 2
# http2_tls.lua really spoke HTTP/2 over TLS
h2=$(grep -c '^HTTP/2.0 ' "$TMP/logs/access.log" || true)
[ "${h2:-0}" -gt 0 ] || { echo "FAIL: no HTTP/2.0 request in nginx's access log"; fail=1; }
echo "HTTP/2 requests seen by nginx: $h2"
exit $fail
