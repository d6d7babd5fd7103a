# h2_lib.bash - sourced by the HTTP/2 tests: nginx (one worker) on free 127.0.0.1 ports with a
# self-signed certificate made here by `openssl req`: H2_TLS_PORT (TLS, ALPN h2 and http/1.1),
# H2C_PORT (h2c by prior knowledge), H1_TLS_PORT (TLS without h2: ALPN offers http/1.1 only), H2C_TIGHT_PORT
# (h2c allowing 2 concurrent streams and 50 requests per connection, then GOAWAY). /slow is proxied to a
# listener that never answers. The access log has one line per request: "port status uri protocol".

h2_need() { # skip loudly (exit 77) without a tool the test needs
  for t in "$@"; do
    command -v "$t" >/dev/null 2>&1 || { echo "SKIP: $t not installed (scripts/bootstrap installs it)"; exit 77; }
  done
}

h2_free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# h2_nginx DIR [extra server directives]: start nginx under DIR; sets H2_TLS_PORT H2C_PORT H1_TLS_PORT
# NGINX_PID and H2_LOG (the access log).
h2_nginx() {
  local dir=$1 extra=${2:-}
  mkdir -p "$dir/logs"
  openssl req -x509 -newkey rsa:2048 -nodes -keyout "$dir/key.pem" -out "$dir/cert.pem" -days 2 \
    -subj /CN=localhost -addext subjectAltName=IP:127.0.0.1,DNS:localhost >/dev/null 2>&1 ||
    { echo "FAIL: openssl req could not make a certificate"; exit 1; }
  H2_TLS_PORT=$(h2_free_port) H2C_PORT=$(h2_free_port) H1_TLS_PORT=$(h2_free_port) H2C_TIGHT_PORT=$(h2_free_port)
  H2_LOG=$dir/logs/access.log
  local hole
  hole=$(h2_free_port)
  python3 -c 'import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(64); held = []
while True: held.append(s.accept()[0])' "$hole" &
  HOLE_PID=$!
  # nginx answers /slow with 502 until the listener is up (python starts slowly on a busy machine)
  local i up=
  for i in $(seq 1 200); do
    (exec 3<>"/dev/tcp/127.0.0.1/$hole") 2>/dev/null && { up=1; break; }
    sleep 0.05
  done
  [ -n "$up" ] || { echo "FAIL: the never-answering listener on $hole did not start in 10 s"; exit 1; }
  local routes="
    location = /hello { default_type text/plain; return 200 \"hello world\\n\"; }
    location = /empty { return 204; }
    location = /cookie/set { add_header Set-Cookie \"sid=abc123; Path=/\"; return 200 \"set\\n\"; }
    location = /cookie/echo { default_type text/plain; return 200 \"cookie=\$http_cookie\\n\"; }
    location = /headers { add_header X-Answer 42; default_type text/plain; return 200 \"ok\\n\"; }
    location = /redirect { return 302 /hello; }
    location = /reset { return 444; }
    location = /status/404 { return 404; }
    location = /status/503 { return 503; }
    location /files/ { alias $dir/files/; }
    location = /slow { proxy_pass http://127.0.0.1:$hole; proxy_read_timeout 60s; }
    location = /stream { gzip on; gzip_min_length 0; gzip_types text/plain; default_type text/plain;
                         alias $dir/files/text.txt; }
    $extra"
  mkdir -p "$dir/files"
  head -c 1048576 /dev/urandom >"$dir/files/big.bin"
  seq 1 20000 >"$dir/files/text.txt"
  cat >"$dir/nginx.conf" <<CONF
worker_processes 1;
master_process off;
daemon off;
pid $dir/nginx.pid;
error_log $dir/logs/error.log warn;
$( [ "$(id -u)" = 0 ] && echo "user nobody nogroup;" )
events { worker_connections 8192; }
http {
  log_format h2t '\$server_port \$status \$uri \$server_protocol';
  access_log $H2_LOG h2t;
  keepalive_requests 100000000;
  client_body_temp_path $dir/body;
  proxy_temp_path $dir/proxy;
  fastcgi_temp_path $dir/fastcgi;
  uwsgi_temp_path $dir/uwsgi;
  scgi_temp_path $dir/scgi;
  ssl_certificate $dir/cert.pem;
  ssl_certificate_key $dir/key.pem;
  server { listen 127.0.0.1:$H2_TLS_PORT ssl http2; $routes }
  server { listen 127.0.0.1:$H2C_PORT http2; $routes }
  server { listen 127.0.0.1:$H1_TLS_PORT ssl; $routes }
  server { listen 127.0.0.1:$H2C_TIGHT_PORT http2; http2_max_concurrent_streams 2; keepalive_requests 50; $routes }
}
CONF
  chmod -R a+rX "$dir"
  nginx -p "$dir" -c "$dir/nginx.conf" -e "$dir/logs/error.log" &
  NGINX_PID=$!
  for _ in $(seq 100); do
    kill -0 "$NGINX_PID" 2>/dev/null || break
    curl -fsk "https://127.0.0.1:$H2_TLS_PORT/hello" >/dev/null 2>&1 && { : >"$H2_LOG"; return 0; }
    sleep 0.1
  done
  echo "FAIL: nginx did not start:"; cat "$dir/logs/error.log"; exit 1
}

# h2_served PORT [URI]: requests nginx logged on PORT (for URI when given).
h2_served() { awk -v p="$1" -v u="${2:-}" '$1 == p && (u == "" || $3 == u)' "$H2_LOG" | wc -l; }

# h2_stop: stop what h2_nginx started.
h2_stop() {
  [ -n "${NGINX_PID:-}" ] && kill "$NGINX_PID" 2>/dev/null
  [ -n "${HOLE_PID:-}" ] && kill "$HOLE_PID" 2>/dev/null
  wait 2>/dev/null
  true
}
