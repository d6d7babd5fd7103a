/* testhttp.c - the HTTP backend suites' harness: the peers, the columns and one connection's requests in
 * sequence (testhttp.h). */
#include "tests/support/testhttp.h"

#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <uv.h>

#include "common/clock.h"
#include "tests/support/checkrun.h"
#include "tests/support/testspawn.h"

static testspawn server, tls_server; /* the testserver, plain and in TLS mode */
static pid_t nginx_pid;
static char tls_server_dir[] = "/tmp/test_http_tlssrv.XXXXXX";
static char tls_ca[256]; /* its certificate */
static int nginx_port; /* nginx with a self-signed certificate, HTTP/2; 0 when nginx or openssl is missing */
static char nginx_dir[] = "/tmp/test_http_tls.XXXXXX";
static int nginx_dir_made;
static int tls_col; /* this test runs the h1-over-TLS column */

typedef struct run {
  http_conn *conn;
  const http_request *reqs;
  size_t n, next;
  testhttp_result *out;
  int closed;
} run;

int testhttp_port(void) {
  return server.port;
}

int testhttp_nginx_port(void) {
  return nginx_port;
}

void testhttp_add(TCase *tc, const TTest *const *tests, size_t n, int ncolumns) {
  for (size_t k = 0; k < n; k++) tcase_add_loop_test(tc, tests[k], 0, ncolumns);
}

int testhttp_column(int i) {
  tls_col = i == 2;
  return i == 1 ? HTTP_CURL : HTTP_H1;
}

int testhttp_tls_column(void) {
  return tls_col;
}

void testhttp_origin(char *buf, size_t size, const char *host) {
  snprintf(buf, size, "%s://%s:%d", tls_col ? "https" : "http", host,
           tls_col ? tls_server.port : server.port);
}

void testhttp_url(char *buf, size_t size, const char *path) {
  char o[128];
  testhttp_origin(o, sizeof o, "127.0.0.1");
  snprintf(buf, size, "%s%s", o, path);
}

http_client_options testhttp_client_opt(int backend) {
  http_client_options opt = {
      .backend = backend, .default_timeout_ms = 5000, .tls_ca_file = tls_col ? tls_ca : NULL};
  return opt;
}

void testhttp_on_closed(void *ud) {
  *(int *)ud = 1;
}

static void on_done(http_conn *conn, const http_response *res, void *ud) {
  run *r = ud;
  testhttp_result *o = &r->out[r->next++];
  o->done_calls++;
  o->status = res->status;
  o->error = res->error;
  snprintf(o->message, sizeof o->message, "%s", res->error_message);
  o->headers = strndup(res->headers_raw ? res->headers_raw : "", res->headers_len);
  o->body = malloc(res->body_len + 1);
  if (res->body_len) memcpy(o->body, res->body, res->body_len);
  o->body[res->body_len] = 0;
  o->body_len = res->body_len;
  o->bytes_in = res->bytes_in;
  o->bytes_out = res->bytes_out;
  o->sent_ns = res->sent_ns;
  o->ttfb_ns = res->ttfb_ns;
  o->done_ns = res->done_ns;
  o->connect_ns = res->connect_ns;
  o->tls_ns = res->tls_ns;
  o->blocked_ns = res->blocked_ns;
  o->sending_ns = res->sending_ns;
  o->waiting_ns = res->waiting_ns;
  o->receiving_ns = res->receiving_ns;
  if (r->next < r->n) ck_assert_int_eq(http_conn_send(conn, &r->reqs[r->next], on_done, r), 0);
}

const char *testhttp_run(const http_client_options *opt, const char *preconnect, int wait_ms,
                         const http_request *reqs, size_t n, testhttp_result *out) {
  uv_loop_t loop;
  http_client *c;
  run r = {.reqs = reqs, .n = n, .out = out};
  memset(out, 0, n * sizeof *out);
  ck_assert_int_eq(uv_loop_init(&loop), 0);
  ck_assert_int_eq(http_client_create(&loop, opt, &c), 0);
  ck_assert_int_eq(http_conn_create(c, &r.conn), 0);
  if (preconnect) {
    ck_assert_int_eq(http_conn_preconnect(r.conn, preconnect), 0);
    for (int64_t until = clock_mono_ns() + clock_ms_to_ns(wait_ms); clock_mono_ns() < until;) {
      uv_run(&loop, UV_RUN_NOWAIT);
      usleep(1000);
    }
  }
  ck_assert_int_eq(http_conn_send(r.conn, &reqs[0], on_done, &r), 0);
  ck_assert_int_eq(http_conn_send(r.conn, &reqs[0], on_done, &r), -EBUSY);
  while (r.next < n) uv_run(&loop, UV_RUN_ONCE);
  const char *backend = http_backend_name(r.conn);
  http_conn_release(r.conn);
  http_client_close(c, testhttp_on_closed, &r.closed);
  uv_run(&loop, UV_RUN_DEFAULT);
  ck_assert_int_eq(r.closed, 1);
  ck_assert_int_eq(uv_loop_close(&loop), 0);
  for (size_t i = 0; i < n; i++) ck_assert_int_eq(out[i].done_calls, 1);
  return backend;
}

void testhttp_run_seq(int backend, const http_request *reqs, size_t n, testhttp_result *out) {
  http_client_options opt = testhttp_client_opt(backend);
  const char *name = testhttp_run(&opt, NULL, 0, reqs, n, out);
  const http_request *last = &reqs[n - 1];
  int https = strncmp(last->url, "https", 5) == 0;
  int h2 =
      last->max_redirects == 0 && (backend == HTTP_H2 || (backend == HTTP_AUTO && https)); /* h2 by ALPN */
  int curl = !h2 && (backend == HTTP_CURL || last->max_redirects > 0);
  ck_assert_str_eq(name, curl ? "curl" : h2 ? "h2" : "h1");
}

void testhttp_run_lines(int backend, const char *const *lines, size_t n, size_t max_body,
                        testhttp_result *out) {
  enum { MAX = 32 };
  char methods[MAX][16], urls[MAX][256];
  http_request reqs[MAX];
  ck_assert_uint_le(n, MAX);
  for (size_t i = 0; i < n; i++) {
    const char *sp = strchr(lines[i], ' ');
    ck_assert_msg(sp && sp - lines[i] < 16, "not \"METHOD /path\": %s", lines[i]);
    snprintf(methods[i], sizeof methods[i], "%.*s", (int)(sp - lines[i]), lines[i]);
    testhttp_url(urls[i], sizeof urls[i], sp + 1);
    reqs[i] = (http_request){.method = methods[i], .url = urls[i], .max_body = max_body};
  }
  testhttp_run_seq(backend, reqs, n, out);
}

void testhttp_get(int backend, const char *path, int64_t timeout_ms, size_t max_body, testhttp_result *out) {
  char u[256];
  testhttp_url(u, sizeof u, path);
  http_request req = {.method = "GET", .url = u, .timeout_ms = timeout_ms, .max_body = max_body};
  testhttp_run_seq(backend, &req, 1, out);
}

void testhttp_free(testhttp_result *o, size_t n) {
  for (size_t i = 0; i < n; i++) free(o[i].headers), free(o[i].body);
}

void testhttp_assert_timing(const testhttp_result *o) {
  ck_assert_int_gt(o->sent_ns, 0);
  ck_assert_int_ge(o->ttfb_ns, 0);
  ck_assert_int_le(o->sent_ns + o->ttfb_ns, o->done_ns);
  /* k6's six phases, none negative, add up to the whole */
  const int64_t phase[] = {o->blocked_ns, o->connect_ns, o->tls_ns,
                           o->sending_ns, o->waiting_ns, o->receiving_ns};
  int64_t sum = 0;
  for (int k = 0; k < 6; k++) {
    ck_assert_int_ge(phase[k], 0);
    sum += phase[k];
  }
  ck_assert_int_eq(sum, o->done_ns - o->sent_ns);
}

long testhttp_counter(const char *path) {
  testhttp_result o;
  testhttp_get(HTTP_H1, path, 0, 64, &o);
  ck_assert_int_eq(o.status, 200);
  long v = strtol(o.body, NULL, 10);
  testhttp_free(&o, 1);
  return v;
}

/* A port on 127.0.0.1 that was free a moment ago (bind port 0, read it, close); 0 when none. */
static int free_port(void) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(0x7f000001)};
  socklen_t al = sizeof a;
  int port = 0;
  if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
      getsockname(fd, (struct sockaddr *)&a, &al) == 0)
    port = ntohs(a.sin_port);
  if (fd >= 0) close(fd);
  return port;
}

int testhttp_closed_port(void) {
  int port = free_port();
  ck_assert_int_gt(port, 0);
  return port;
}

/* Write nginx's configuration for port into nginx_dir/nginx.conf (its path into conf); 0 on success. */
static int nginx_conf(int port, char *conf, size_t size) {
  const char *d = nginx_dir;
  snprintf(conf, size, "%s/nginx.conf", d);
  FILE *f = fopen(conf, "w");
  if (!f) return -1;
  fprintf(f,
          "worker_processes 1; master_process off; daemon off; pid %s/nginx.pid; error_log %s/error.log;\n"
          "events { worker_connections 64; }\n"
          "http { access_log off; client_body_temp_path %s; proxy_temp_path %s; fastcgi_temp_path %s;\n"
          "  uwsgi_temp_path %s; scgi_temp_path %s;\n"
          "  server { listen 127.0.0.1:%d ssl http2; ssl_certificate %s/cert.pem; ssl_certificate_key "
          "%s/key.pem;\n"
          "    location / { return 200 \"$server_protocol\\n\"; }\n"
          "    location = /setcookie { add_header Set-Cookie \"session=h2; Path=/; Secure\" always; return "
          "200; }\n"
          "    location = /needcookie { if ($cookie_session = h2) { return 200 \"cookie ok\\n\"; } return "
          "401; } } }\n",
          d, d, d, d, d, d, d, port, d, d);
  return fclose(f) == 0 ? 0 : -1;
}

/* nginx on a free port with a fresh self-signed EC certificate; leaves nginx_port 0 when not possible. */
static void start_nginx(void) {
  char cmd[2048], conf[1024];
  if (access("/usr/sbin/nginx", X_OK) != 0 || access("/usr/bin/openssl", X_OK) != 0 || !mkdtemp(nginx_dir))
    return;
  nginx_dir_made = 1;
  snprintf(
      cmd, sizeof cmd,
      "openssl req -x509 -nodes -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -days 1 -subj /CN=127.0.0.1 "
      "-keyout %s/key.pem -out %s/cert.pem >/dev/null 2>&1",
      nginx_dir, nginx_dir);
  int port = free_port();
  if (system(cmd) != 0 || !port || nginx_conf(port, conf, sizeof conf) != 0) return;
  nginx_pid = fork();
  if (nginx_pid == 0) {
    execl("/usr/sbin/nginx", "nginx", "-p", nginx_dir, "-c", conf, "-e", "stderr", (char *)NULL);
    _exit(127);
  }
  for (int i = 0; i < 50; i++) { /* up to 5 s for nginx to listen */
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {
        .sin_family = AF_INET, .sin_port = htons((uint16_t)port), .sin_addr.s_addr = htonl(0x7f000001)};
    int ok = connect(fd, (struct sockaddr *)&a, sizeof a) == 0;
    close(fd);
    if (ok) {
      nginx_port = port;
      return;
    }
    usleep(100000);
  }
}

void testhttp_start(int nginx) {
  signal(SIGPIPE, SIG_IGN);
  if (testspawn_start(&server, 120, NULL) != 0) exit(1);
  if (!mkdtemp(tls_server_dir)) {
    fprintf(stderr, "testhttp: cannot make %s\n", tls_server_dir);
    exit(1);
  }
  snprintf(tls_ca, sizeof tls_ca, "%s/server.pem", tls_server_dir);
  if (testspawn_start(&tls_server, 120, "--tls-dir", tls_server_dir, NULL) != 0) exit(1);
  if (nginx) start_nginx();
}

void testhttp_stop(void) {
  char path[300];
  testspawn_stop(&server);
  testspawn_stop(&tls_server);
  if (nginx_pid > 0) {
    kill(nginx_pid, SIGTERM);
    waitpid(nginx_pid, NULL, 0);
  }
  snprintf(path, sizeof path, "%s/client.pem", tls_server_dir);
  unlink(path);
  unlink(tls_ca);
  rmdir(tls_server_dir);
  if (nginx_dir_made) {
    snprintf(path, sizeof path, "rm -rf %s", nginx_dir);
    if (system(path) != 0) fprintf(stderr, "testhttp: could not remove %s\n", nginx_dir);
  }
}

int testhttp_main(int nginx, const char *name, TCase *tc) {
  tcase_set_timeout(tc, 30);
  testhttp_start(nginx);
  int rc = check_run(check_suite_of(name, tc));
  testhttp_stop();
  return rc;
}
