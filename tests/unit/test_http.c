/* test_http.c - one conformance suite run against the HTTP backends (h1, curl, and h1 over TLS: the
 * testserver's TLS mode with its certificate as the CA file) with the testserver as the peer: same
 * responses, same timing semantics, same error categories, keep-alive, cookies. */
#include <check.h>
#include <curl/curl.h>
#include <errno.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <uv.h>

#include "common/clock.h"
#include "common/stats.h"
#include "tests/support/checkrun.h"
#include "worker/http.h"
#include "worker/http_curl.h"

static pid_t server_pid, nginx_pid;
static int tls_port; /* nginx with a self-signed certificate, HTTP/2; 0 when nginx or openssl is missing */
static char tls_dir[] = "/tmp/test_http_tls.XXXXXX";
static int tls_dir_made;
static int server_port;
static char server_path[4096];
static pid_t tls_server_pid;
static int tls_server_port; /* the testserver in TLS mode */
static char tls_server_dir[] = "/tmp/test_http_tlssrv.XXXXXX";
static char tls_ca[256]; /* its certificate */
static int tls_col;      /* this test runs the h1-over-TLS column */

typedef struct result {
  int done_calls;
  int status, error;
  char message[256];
  char *headers, *body;
  size_t body_len;
  uint64_t bytes_in, bytes_out;
  int64_t sent_ns, ttfb_ns, done_ns, connect_ns, tls_ns;
  int64_t blocked_ns, sending_ns, waiting_ns, receiving_ns;
} result;

typedef struct run {
  http_conn *conn;
  const http_request *reqs;
  size_t n, next;
  result *out;
  int closed;
} run;

/* Enter column i (0 h1, 1 curl, 2 h1 over TLS) before anything else in a test: url(), origin(),
 * client_opt() and counter() follow it. Its backend. */
static int column(int i) {
  tls_col = i == 2;
  return i == 1 ? HTTP_CURL : HTTP_H1;
}

/* The column's server as "scheme://host:port" for host. */
static void origin(char *buf, size_t size, const char *host) {
  snprintf(buf, size, "%s://%s:%d", tls_col ? "https" : "http", host,
           tls_col ? tls_server_port : server_port);
}

static void url(char *buf, size_t size, const char *path) {
  char o[128];
  origin(o, sizeof o, "127.0.0.1");
  snprintf(buf, size, "%s%s", o, path);
}

static http_client_options client_opt(int backend) {
  http_client_options opt = {
      .backend = backend, .default_timeout_ms = 5000, .tls_ca_file = tls_col ? tls_ca : NULL};
  return opt;
}

static void on_closed_flag(void *ud) {
  *(int *)ud = 1;
}

static void on_closed(void *ud) {
  ((run *)ud)->closed = 1;
}

static void on_done(http_conn *conn, const http_response *res, void *ud) {
  run *r = ud;
  result *o = &r->out[r->next++];
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

/* Send reqs one after another on one conn of a fresh client (the next from inside the callback). */
static void run_seq(int backend, const http_request *reqs, size_t n, result *out) {
  uv_loop_t loop;
  http_client *c;
  run r = {.reqs = reqs, .n = n, .out = out};
  http_client_options opt = client_opt(backend);
  memset(out, 0, n * sizeof *out);
  ck_assert_int_eq(uv_loop_init(&loop), 0);
  ck_assert_int_eq(http_client_create(&loop, &opt, &c), 0);
  ck_assert_int_eq(http_conn_create(c, &r.conn), 0);
  ck_assert_int_eq(http_conn_send(r.conn, &reqs[0], on_done, &r), 0);
  ck_assert_int_eq(http_conn_send(r.conn, &reqs[0], on_done, &r), -EBUSY);
  while (r.next < n) uv_run(&loop, UV_RUN_ONCE);
  const http_request *last = &reqs[n - 1];
  int https = strncmp(last->url, "https", 5) == 0;
  int h2 =
      last->max_redirects == 0 && (backend == HTTP_H2 || (backend == HTTP_AUTO && https)); /* h2 by ALPN */
  int curl = !h2 && (backend == HTTP_CURL || last->max_redirects > 0);
  ck_assert_str_eq(http_backend_name(r.conn), curl ? "curl" : h2 ? "h2" : "h1");
  http_conn_release(r.conn);
  http_client_close(c, on_closed, &r);
  uv_run(&loop, UV_RUN_DEFAULT);
  ck_assert_int_eq(r.closed, 1);
  ck_assert_int_eq(uv_loop_close(&loop), 0);
  for (size_t i = 0; i < n; i++) ck_assert_int_eq(out[i].done_calls, 1);
}

static void run_get(int backend, const char *path, int64_t timeout_ms, size_t max_body, result *out) {
  char u[256];
  url(u, sizeof u, path);
  http_request req = {.method = "GET", .url = u, .timeout_ms = timeout_ms, .max_body = max_body};
  run_seq(backend, &req, 1, out);
}

static void result_free(result *o, size_t n) {
  for (size_t i = 0; i < n; i++) free(o[i].headers), free(o[i].body);
}

static void assert_timing(const result *o) {
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

/* A small counter route (/count or /conns) read on its own connection. */
static long counter(const char *path) {
  result o;
  run_get(HTTP_H1, path, 0, 64, &o);
  ck_assert_int_eq(o.status, 200);
  long v = strtol(o.body, NULL, 10);
  result_free(&o, 1);
  return v;
}

START_TEST(test_ok) {
  int backend = column(_i);
  result o;
  run_get(backend, "/ok", 0, 1024, &o);
  ck_assert_int_eq(o.error, 0);
  ck_assert_int_eq(o.status, 200);
  ck_assert_str_eq(o.body, "ok\n");
  ck_assert_ptr_nonnull(strstr(o.headers, "Content-Length: 3\r\n"));
  ck_assert_ptr_nonnull(strstr(o.headers, "Content-Type: text/plain\r\n"));
  ck_assert_int_ge(o.bytes_in, 3);
  ck_assert_int_gt(o.bytes_out, 20);
  ck_assert_int_gt(o.ttfb_ns, 0);
  assert_timing(&o);
  result_free(&o, 1);
}
END_TEST

START_TEST(test_echo) {
  int backend = column(_i);
  char u[256];
  url(u, sizeof u, "/echo?q=1");
  http_header h[] = {{"X-Test", "42"}, {"Content-Type", "text/plain"}};
  http_request req = {.method = "POST",
                      .url = u,
                      .headers = h,
                      .nheaders = 2,
                      .body = "hello",
                      .body_len = 5,
                      .max_body = 4096};
  result o;
  run_seq(backend, &req, 1, &o);
  ck_assert_int_eq(o.status, 200);
  ck_assert_msg(strncmp(o.body, "POST /echo?q=1\r\n", 16) == 0, "echo: %s", o.body);
  ck_assert_ptr_nonnull(strstr(o.body, "\r\nX-Test: 42\r\n"));
  ck_assert_ptr_nonnull(strstr(o.body, "\r\nContent-Length: 5\r\n"));
  ck_assert_ptr_nonnull(strstr(o.body, "\r\nUser-Agent: loadctl/"));
  ck_assert_ptr_null(strstr(o.body, "Expect"));
  ck_assert_int_ge(o.body_len, 5);
  ck_assert_int_ge(o.bytes_out, 120); /* request line, 6 headers, body: 152 bytes with a 5-digit port */
  ck_assert_int_le(o.bytes_out, 160);
  ck_assert_str_eq(o.body + o.body_len - 9, "\r\n\r\nhello");
  result_free(&o, 1);
}
END_TEST

START_TEST(test_changing_headers) {
  int backend = column(_i);
  char u[256];
  url(u, sizeof u, "/echo");
  http_header h1[] = {{"traceparent", "00-aaaa-01"}, {"X-Name", "one"}};
  http_header h2[] = {{"traceparent", "00-bbbb-01"}, {"X-Name", "one"}};
  http_header h3[] = {{"traceparent", "00-cccc-01"}, {"X-Name", "three"}};
  http_header h4[] = {{"traceparent", "00-dddd-01"}};
  http_request reqs[] = {{.method = "GET", .url = u, .headers = h1, .nheaders = 2, .max_body = 1024},
                         {.method = "GET", .url = u, .headers = h2, .nheaders = 2, .max_body = 1024},
                         {.method = "GET", .url = u, .headers = h3, .nheaders = 2, .max_body = 1024},
                         {.method = "GET", .url = u, .headers = h4, .nheaders = 1, .max_body = 1024},
                         {.method = "GET", .url = u, .headers = h1, .nheaders = 2, .max_body = 1024}};
  const char *want[][2] = {{"traceparent: 00-aaaa-01\r\n", "X-Name: one\r\n"},
                           {"traceparent: 00-bbbb-01\r\n", "X-Name: one\r\n"},
                           {"traceparent: 00-cccc-01\r\n", "X-Name: three\r\n"},
                           {"traceparent: 00-dddd-01\r\n", NULL},
                           {"traceparent: 00-aaaa-01\r\n", "X-Name: one\r\n"}};
  result o[5];
  run_seq(backend, reqs, 5, o);
  for (int i = 0; i < 5; i++) {
    ck_assert_int_eq(o[i].status, 200);
    ck_assert_msg(strstr(o[i].body, want[i][0]) != NULL, "req %d: %s", i, o[i].body);
    if (want[i][1])
      ck_assert_msg(strstr(o[i].body, want[i][1]) != NULL, "req %d: %s", i, o[i].body);
    else
      ck_assert_ptr_null(strstr(o[i].body, "X-Name"));
    ck_assert_ptr_null(strstr(o[i].body, "X-Name: one\r\nX-Name"));
  }
  result_free(o, 5);
}
END_TEST

START_TEST(test_status_and_head) {
  int backend = column(_i);
  char u1[256], u2[256];
  url(u1, sizeof u1, "/status/503");
  url(u2, sizeof u2, "/ok");
  http_request reqs[] = {{.method = "GET", .url = u1, .max_body = 100},
                         {.method = "HEAD", .url = u2, .max_body = 100},
                         {.method = "DELETE", .url = u1, .max_body = 100}};
  result o[3];
  run_seq(backend, reqs, 3, o);
  ck_assert_int_eq(o[0].error, 0);
  ck_assert_int_eq(o[0].status, 503);
  ck_assert_str_eq(o[0].body, "status 503\n");
  ck_assert_int_eq(o[1].status, 200);
  ck_assert_int_eq(o[1].body_len, 0);
  ck_assert_int_eq(o[2].status, 503);
  result_free(o, 3);
}
END_TEST

START_TEST(test_delay) {
  int backend = column(_i);
  result o;
  run_get(backend, "/delay/200", 0, 100, &o);
  ck_assert_int_eq(o.status, 200);
  ck_assert_int_ge(o.done_ns - o.sent_ns, 200000000);
  ck_assert_int_lt(o.done_ns - o.sent_ns, 2000000000);
  ck_assert_int_ge(o.ttfb_ns, 200000000);
  ck_assert_int_ge(o.waiting_ns, 190000000); /* the server's delay is waiting, not connecting */
  ck_assert_int_lt(o.connect_ns + o.tls_ns + o.blocked_ns, 190000000);
  ck_assert_int_eq(o.tls_ns > 0, tls_col); /* a fresh connection: a handshake when TLS */
  assert_timing(&o);
  result_free(&o, 1);
}
END_TEST

/* A port that was just free on 127.0.0.1 (bind, read it, close): connecting to it is refused. */
static int closed_port(void) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(0x7f000001)};
  socklen_t al = sizeof a;
  ck_assert_int_eq(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
  ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&a, &al), 0);
  close(fd);
  return ntohs(a.sin_port);
}

START_TEST(test_refused) {
  int backend = column(_i);
  char u[256];
  snprintf(u, sizeof u, "http://127.0.0.1:%d/ok", closed_port());
  http_request req = {.method = "GET", .url = u};
  result o;
  run_seq(backend, &req, 1, &o);
  ck_assert_int_eq(o.status, 0);
  ck_assert_msg(o.error == STATS_ERR_CONNECT, "error %d (%s)", o.error, o.message);
  ck_assert_int_gt(strlen(o.message), 0);
  assert_timing(&o);
  result_free(&o, 1);
}
END_TEST

START_TEST(test_dns_failure) {
  int backend = column(_i);
  /* "a..b" has an empty label: the resolver rejects it locally, no query leaves the machine */
  http_request req = {.method = "GET", .url = "http://a..b:8080/ok", .timeout_ms = 3000};
  result o;
  run_seq(backend, &req, 1, &o);
  ck_assert_int_eq(o.status, 0);
  ck_assert_msg(o.error == STATS_ERR_DNS, "error %d (%s)", o.error, o.message);
  result_free(&o, 1);
}
END_TEST

START_TEST(test_reset) {
  int backend = column(_i);
  result o;
  run_get(backend, "/reset", 0, 100, &o);
  ck_assert_int_eq(o.status, 0);
  ck_assert_msg(o.error == STATS_ERR_RESET, "error %d (%s)", o.error, o.message);
  result_free(&o, 1);
}
END_TEST

START_TEST(test_timeout) {
  int backend = column(_i);
  char u1[256], u2[256];
  url(u1, sizeof u1, "/slow");
  url(u2, sizeof u2, "/delay/3000");
  http_request reqs[] = {{.method = "GET", .url = u1, .timeout_ms = 300},
                         {.method = "GET", .url = u2, .timeout_ms = 200}};
  result o[2];
  run_seq(backend, reqs, 2, o);
  for (int i = 0; i < 2; i++) {
    ck_assert_msg(o[i].error == STATS_ERR_TIMEOUT, "req %d error %d (%s)", i, o[i].error, o[i].message);
    ck_assert_int_eq(o[i].status, 0);
  }
  ck_assert_int_ge(o[0].done_ns - o[0].sent_ns, 290000000);
  ck_assert_int_lt(o[0].done_ns - o[0].sent_ns, 1500000000);
  ck_assert_int_ge(o[1].done_ns - o[1].sent_ns, 190000000);
  ck_assert_int_lt(o[1].done_ns - o[1].sent_ns, 1500000000);
  result_free(o, 2);
}
END_TEST

START_TEST(test_malformed) {
  int backend = column(_i);
  result o;
  run_get(backend, "/malformed", 0, 100, &o);
  ck_assert_int_eq(o.status, 0);
  ck_assert_msg(o.error == STATS_ERR_PROTOCOL, "error %d (%s)", o.error, o.message);
  result_free(&o, 1);
}
END_TEST

/* Found by fuzz_h1resp: trailer lines end in CRLF like the others; a two-digit status is malformed. */
START_TEST(test_trailer_and_short_status) {
  int backend = column(_i);
  result o[2];
  run_get(backend, "/trailer", 0, 64, &o[0]);
  run_get(backend, "/status21", 0, 64, &o[1]);
  ck_assert_int_eq(o[0].status, 200);
  ck_assert_str_eq(o[0].body, "ok");
  size_t n = strlen(o[0].headers);
  ck_assert_msg(n >= 2 && strcmp(o[0].headers + n - 2, "\r\n") == 0, "headers: %s", o[0].headers);
  ck_assert_int_eq(o[1].status, 0);
  ck_assert_msg(o[1].error != 0, "a 2-digit status was taken");
  result_free(o, 2);
}
END_TEST

START_TEST(test_keepalive_30) {
  int backend = column(_i);
  enum { N = 30 };
  char u[256];
  url(u, sizeof u, "/ok");
  http_request reqs[N];
  for (int i = 0; i < N; i++) reqs[i] = (http_request){.method = "GET", .url = u, .max_body = 16};
  long conns0 = counter("/conns"), count0 = counter("/count");
  result o[N];
  run_seq(backend, reqs, N, o);
  for (int i = 0; i < N; i++) {
    ck_assert_int_eq(o[i].status, 200);
    ck_assert_str_eq(o[i].body, "ok\n");
    assert_timing(&o[i]);
  }
  /* exactly N requests served on one connection; each probe after the first /conns opened one more */
  ck_assert_int_eq(counter("/count") - count0, N);
  ck_assert_int_eq(counter("/conns") - conns0, 1 + 1 + 1 + 1);
  result_free(o, N);
}
END_TEST

START_TEST(test_close_reconnects) {
  int backend = column(_i);
  char u1[256], u2[256];
  url(u1, sizeof u1, "/close");
  url(u2, sizeof u2, "/ok");
  http_request reqs[] = {{.method = "GET", .url = u1, .max_body = 16},
                         {.method = "GET", .url = u2, .max_body = 16},
                         {.method = "GET", .url = u2, .max_body = 16}};
  long conns0 = counter("/conns");
  result o[3];
  run_seq(backend, reqs, 3, o);
  for (int i = 0; i < 3; i++) ck_assert_int_eq(o[i].status, 200);
  /* two connections for the run (close forces a new one), one for the second /conns probe */
  ck_assert_int_eq(counter("/conns") - conns0, 2 + 1);
  result_free(o, 3);
}
END_TEST

START_TEST(test_dropped_keepalive_resent) {
  int backend = column(_i);
  char u1[256], u2[256];
  url(u1, sizeof u1, "/drop");
  url(u2, sizeof u2, "/ok");
  http_request reqs[] = {{.method = "GET", .url = u1, .max_body = 16},
                         {.method = "GET", .url = u2, .max_body = 16},
                         {.method = "GET", .url = u1, .max_body = 16},
                         {.method = "GET", .url = u2, .max_body = 16}};
  long count0 = counter("/count");
  result o[4];
  run_seq(backend, reqs, 4, o);
  for (int i = 0; i < 4; i++)
    ck_assert_msg(o[i].status == 200, "req %d: %d %s", i, o[i].status, o[i].message);
  ck_assert_int_eq(counter("/count") - count0, 4); /* each served exactly once */
  result_free(o, 4);
}
END_TEST

/* Pre-connect (the open model's pre-allocated VUs): h1 opens the connection ahead, so the first request
 * pays no connect and the server sees one connection; a request right behind the pre-connect waits for
 * it; a failed pre-connect is reported by the first request; curl declines. */
static void preconnected_get(const char *host_url, const char *path, int wait_ms, result *o) {
  uv_loop_t loop;
  http_client *c;
  char u[256];
  run r = {.n = 1, .out = o};
  http_client_options opt = client_opt(HTTP_H1);
  snprintf(u, sizeof u, "%s%s", host_url, path);
  http_request req = {.method = "GET", .url = u, .max_body = 16};
  r.reqs = &req;
  memset(o, 0, sizeof *o);
  ck_assert_int_eq(uv_loop_init(&loop), 0);
  ck_assert_int_eq(http_client_create(&loop, &opt, &c), 0);
  ck_assert_int_eq(http_conn_create(c, &r.conn), 0);
  ck_assert_int_eq(http_conn_preconnect(r.conn, host_url), 0);
  for (int64_t until = clock_mono_ns() + wait_ms * 1000000LL; clock_mono_ns() < until;) {
    uv_run(&loop, UV_RUN_NOWAIT);
    usleep(1000);
  }
  ck_assert_int_eq(http_conn_send(r.conn, &req, on_done, &r), 0);
  while (r.next < 1) uv_run(&loop, UV_RUN_ONCE);
  http_conn_release(r.conn);
  http_client_close(c, on_closed, &r);
  uv_run(&loop, UV_RUN_DEFAULT);
  ck_assert_int_eq(uv_loop_close(&loop), 0);
  ck_assert_int_eq(o->done_calls, 1);
}

START_TEST(test_preconnect) {
  char base[128], local[128];
  result o;
  column(_i ? 2 : 0); /* h1, plain and TLS */
  origin(base, sizeof base, "127.0.0.1");
  origin(local, sizeof local, "localhost");
  long conns0 = counter("/conns");
  preconnected_get(base, "/ok", 100, &o); /* connected (and TLS handshaken) well before the request */
  ck_assert_int_eq(o.status, 200);
  ck_assert_int_eq(o.connect_ns, 0);
  ck_assert_int_eq(o.tls_ns, 0);
  ck_assert_int_eq(counter("/conns") - conns0, 1 + 1); /* ours, then the probe's */
  result_free(&o, 1);
  preconnected_get(base, "/ok", 0, &o); /* the request right behind the connect */
  ck_assert_int_eq(o.status, 200);
  result_free(&o, 1);
  preconnected_get(local, "/ok", 100, &o); /* through the resolver */
  ck_assert_int_eq(o.status, 200);
  ck_assert_int_eq(o.connect_ns, 0);
  result_free(&o, 1);
  /* a refused pre-connect: the request connects again and reports it */
  snprintf(base, sizeof base, "%s://127.0.0.1:%d", tls_col ? "https" : "http", closed_port());
  preconnected_get(base, "/ok", 50, &o);
  ck_assert_int_eq(o.status, 0);
  ck_assert_msg(o.error == STATS_ERR_CONNECT, "error %d (%s)", o.error, o.message);
  result_free(&o, 1);
}
END_TEST

START_TEST(test_preconnect_curl_declines) {
  uv_loop_t loop;
  http_client *c;
  http_conn *conn;
  int closed = 0;
  http_client_options opt = {.backend = HTTP_CURL};
  ck_assert_int_eq(uv_loop_init(&loop), 0);
  ck_assert_int_eq(http_client_create(&loop, &opt, &c), 0);
  ck_assert_int_eq(http_conn_create(c, &conn), 0);
  ck_assert_int_eq(http_conn_preconnect(conn, "http://127.0.0.1:9"), -ENOTSUP);
  http_conn_release(conn);
  http_client_close(c, on_closed_flag, &closed);
  uv_run(&loop, UV_RUN_DEFAULT);
  ck_assert_int_eq(closed, 1);
  ck_assert_int_eq(uv_loop_close(&loop), 0);
}
END_TEST

START_TEST(test_localhost_resolved) {
  int backend = column(_i);
  char u[256];
  char o0[128];
  origin(o0, sizeof o0, "localhost");
  snprintf(u, sizeof u, "%s/echo", o0);
  http_request reqs[] = {{.method = "GET", .url = u, .max_body = 512},
                         {.method = "GET", .url = u, .max_body = 512}};
  result o[2];
  run_seq(backend, reqs, 2, o);
  for (int i = 0; i < 2; i++) {
    ck_assert_int_eq(o[i].status, 200);
    ck_assert_msg(strstr(o[i].body, "\r\nHost: localhost:") != NULL, "echo: %s", o[i].body);
  }
  result_free(o, 2);
}
END_TEST

START_TEST(test_eof_and_interim) {
  int backend = column(_i);
  char u1[256], u2[256];
  url(u1, sizeof u1, "/eof");
  url(u2, sizeof u2, "/continue");
  http_request reqs[] = {{.method = "GET", .url = u1, .max_body = 64},
                         {.method = "GET", .url = u2, .max_body = 64},
                         {.method = "GET", .url = u1, .max_body = 64}};
  result o[3];
  run_seq(backend, reqs, 3, o);
  ck_assert_int_eq(o[0].status, 200);
  ck_assert_str_eq(o[0].body, "until-close\n");
  ck_assert_int_eq(o[1].status, 200);
  ck_assert_str_eq(o[1].body, "ok\n");
  ck_assert_ptr_nonnull(strstr(o[1].headers, "Content-Length: 3"));
  ck_assert_int_eq(o[2].status, 200);
  result_free(o, 3);
}
END_TEST

START_TEST(test_big_post) {
  int backend = column(_i);
  enum { BODY = 4 << 20 };
  char u[256];
  url(u, sizeof u, "/echo");
  char *body = malloc(BODY);
  for (size_t i = 0; i < BODY; i++) body[i] = (char)('a' + i % 26);
  http_request req = {.method = "PUT", .url = u, .body = body, .body_len = BODY, .max_body = 2 * BODY};
  result o;
  run_seq(backend, &req, 1, &o);
  ck_assert_int_eq(o.status, 200);
  ck_assert_msg(strncmp(o.body, "PUT /echo\r\n", 11) == 0, "echo: %.40s", o.body);
  ck_assert_int_gt(o.body_len, BODY);
  ck_assert_int_eq(memcmp(o.body + o.body_len - BODY, body, BODY), 0);
  ck_assert_int_ge(o.bytes_out, BODY);
  free(body);
  result_free(&o, 1);
}
END_TEST

START_TEST(test_chunked) {
  int backend = column(_i);
  result o;
  run_get(backend, "/chunked", 0, 1024, &o);
  ck_assert_int_eq(o.status, 200);
  ck_assert_str_eq(o.body, "chunk-one|chunk-two|chunk-three");
  ck_assert_ptr_nonnull(strstr(o.headers, "Transfer-Encoding: chunked"));
  result_free(&o, 1);
}
END_TEST

START_TEST(test_big_discarded) {
  int backend = column(_i);
  result o;
  run_get(backend, "/big/5000000", 0, 1000, &o);
  ck_assert_int_eq(o.status, 200);
  ck_assert_int_eq(o.body_len, 1000);
  ck_assert_int_eq(o.body[0], 'b');
  ck_assert_int_ge(o.bytes_in, 5000000);
  ck_assert_int_lt(o.bytes_in, 5001000);
  result_free(&o, 1);
}
END_TEST

START_TEST(test_cookies) {
  int backend = column(_i);
  char u1[256], u2[256];
  url(u1, sizeof u1, "/needcookie");
  url(u2, sizeof u2, "/setcookie");
  http_request reqs[] = {{.method = "GET", .url = u1, .max_body = 64},
                         {.method = "GET", .url = u2, .max_body = 64},
                         {.method = "GET", .url = u1, .max_body = 64},
                         {.method = "GET", .url = u1, .max_body = 64}};
  result o[4];
  run_seq(backend, reqs, 4, o);
  ck_assert_int_eq(o[0].status, 401);
  ck_assert_int_eq(o[1].status, 200);
  ck_assert_ptr_nonnull(strstr(o[1].headers, "Set-Cookie: session=abc123"));
  ck_assert_int_eq(o[2].status, 200);
  ck_assert_str_eq(o[2].body, "cookie ok\n");
  ck_assert_int_eq(o[3].status, 200);
  result_free(o, 4);
}
END_TEST

/* One jar per VU, shared by both backends (a request with redirects goes through curl), kept when the
 * VU talks to another host in between; cookies are per host (host-only: localhost does not get them). */
START_TEST(test_cookies_shared_by_backends) {
  char set_u[256], need_u[256], other_u[256];
  url(set_u, sizeof set_u, "/setcookie");
  url(need_u, sizeof need_u, "/needcookie");
  snprintf(other_u, sizeof other_u, "http://localhost:%d/needcookie", server_port);
  int set_curl = _i == 1; /* 0: set by h1, read by curl; 1: set by curl, read by h1 */
  http_request reqs[] = {
      {.method = "GET", .url = set_u, .max_body = 64, .max_redirects = set_curl},
      {.method = "GET", .url = need_u, .max_body = 64, .max_redirects = !set_curl},
      {.method = "GET", .url = other_u, .max_body = 64},
      {.method = "GET", .url = need_u, .max_body = 64},
  };
  result o[4];
  run_seq(HTTP_AUTO, reqs, 4, o);
  ck_assert_int_eq(o[0].status, 200);
  ck_assert_msg(o[1].status == 200 && !strcmp(o[1].body, "cookie ok\n"), "set by %s, read by %s: %d %s",
                set_curl ? "curl" : "h1", set_curl ? "h1" : "curl", o[1].status, o[1].body);
  ck_assert_int_eq(o[2].status, 401); /* another host: no cookie */
  ck_assert_int_eq(o[3].status, 200); /* back: the jar kept it */
  result_free(o, 4);
}
END_TEST

/* The h2 backend shares the VU's jar too: a Secure cookie set over h2 goes with the next request through
 * curl (redirects), and one set through curl with the next h2 request; plain http:// does not get it. */
START_TEST(test_cookies_h2) {
  if (!tls_port) {
    fprintf(stderr, "test_cookies_h2: skipped (no nginx or openssl)\n");
    return;
  }
  char set_u[256], need_u[256], plain_u[256];
  snprintf(set_u, sizeof set_u, "https://127.0.0.1:%d/setcookie", tls_port);
  snprintf(need_u, sizeof need_u, "https://127.0.0.1:%d/needcookie", tls_port);
  url(plain_u, sizeof plain_u, "/needcookie");
  http_request reqs[] = {
      {.method = "GET", .url = set_u, .max_body = 64, .max_redirects = _i},
      {.method = "GET", .url = need_u, .max_body = 64, .max_redirects = !_i},
      {.method = "GET", .url = plain_u, .max_body = 64},
  };
  result o[3];
  uv_loop_t loop;
  http_client *c;
  run r = {.reqs = reqs, .n = 3, .out = o};
  http_client_options opt = {.backend = HTTP_AUTO, .insecure_tls = 1};
  memset(o, 0, sizeof o);
  ck_assert_int_eq(uv_loop_init(&loop), 0);
  ck_assert_int_eq(http_client_create(&loop, &opt, &c), 0);
  ck_assert_int_eq(http_conn_create(c, &r.conn), 0);
  ck_assert_int_eq(http_conn_send(r.conn, &reqs[0], on_done, &r), 0);
  while (r.next < 3) uv_run(&loop, UV_RUN_ONCE);
  http_client_close(c, on_closed, &r);
  uv_run(&loop, UV_RUN_DEFAULT);
  ck_assert_int_eq(uv_loop_close(&loop), 0);
  ck_assert_msg(o[0].status == 200, "set: %d %s", o[0].status, o[0].message);
  ck_assert_msg(o[1].status == 200 && !strcmp(o[1].body, "cookie ok\n"), "set by %s, read by %s: %d %s",
                _i ? "curl" : "h2", _i ? "h2" : "curl", o[1].status, o[1].message);
  ck_assert_int_eq(o[2].status, 401); /* Secure: not over http:// */
  result_free(o, 3);
}
END_TEST

START_TEST(test_redirect) {
  char u[256];
  url(u, sizeof u, "/redirect");
  http_request reqs[] = {{.method = "GET", .url = u}, {.method = "GET", .url = u, .max_redirects = 3}};
  result o[2];
  run_seq(column(_i), reqs, 2, o);
  ck_assert_int_eq(o[0].status, 302);
  ck_assert_ptr_nonnull(strstr(o[0].headers, "Location: /redirect"));
  ck_assert_msg(o[1].error == STATS_ERR_PROTOCOL, "error %d (%s)", o[1].error, o[1].message);
  result_free(o, 2);
}
END_TEST

START_TEST(test_https_to_plain_server) {
  char u[256];
  snprintf(u, sizeof u, "https://127.0.0.1:%d/ok", server_port);
  http_request req = {.method = "GET", .url = u, .timeout_ms = 2000};
  result o;
  run_seq(column(_i), &req, 1, &o); /* h1 carries https:// too (asserted by run_seq) */
  ck_assert_msg(o.error == STATS_ERR_TLS, "error %d (%s)", o.error,
                o.message); /* TLS hello to a plain server */
  ck_assert_int_eq(o.status, 0);
  result_free(&o, 1);
}
END_TEST

static int cancelled_calls;

static void never(http_conn *conn, const http_response *res, void *ud) {
  (void)conn, (void)res, (void)ud;
  cancelled_calls++;
}

START_TEST(test_release_in_flight) {
  int backend = column(_i);
  uv_loop_t loop;
  http_client *c;
  http_conn *conn;
  run r = {0};
  char u[256];
  url(u, sizeof u, "/delay/300");
  http_request req = {.method = "GET", .url = u};
  http_client_options opt = client_opt(backend);
  ck_assert_int_eq(uv_loop_init(&loop), 0);
  ck_assert_int_eq(http_client_create(&loop, &opt, &c), 0);
  ck_assert_int_eq(http_conn_create(c, &conn), 0);
  ck_assert_int_eq(http_conn_send(conn, &req, never, NULL), 0);
  for (int i = 0; i < 5; i++) uv_run(&loop, UV_RUN_NOWAIT);
  http_conn_release(conn);
  ck_assert_int_eq(http_conn_create(c, &conn), 0); /* left for http_client_close to release */
  ck_assert_int_eq(http_conn_send(conn, &req, never, NULL), 0);
  http_client_close(c, on_closed, &r);
  uv_run(&loop, UV_RUN_DEFAULT);
  ck_assert_int_eq(r.closed, 1);
  ck_assert_int_eq(cancelled_calls, 0);
  ck_assert_int_eq(uv_loop_close(&loop), 0);
}
END_TEST

START_TEST(test_https_http2) {
  if (!tls_port) {
    fprintf(stderr, "test_https_http2: skipped (no nginx or openssl)\n");
    return;
  }
  char u[256];
  snprintf(u, sizeof u, "https://127.0.0.1:%d/", tls_port);
  http_request reqs[] = {{.method = "GET", .url = u, .max_body = 64},
                         {.method = "GET", .url = u, .max_body = 64}};
  result o[2];
  uv_loop_t loop;
  http_client *c;
  run r = {.reqs = reqs, .n = 2, .out = o};
  /* curl speaks HTTP/2 to nginx; h1 offers only http/1.1 by ALPN and nginx answers in HTTP/1.1; auto
   * offers h2 and goes to the h2 backend */
  static const int backends[] = {HTTP_CURL, HTTP_H1, HTTP_AUTO};
  http_client_options opt = {.backend = backends[_i], .insecure_tls = 1};
  memset(o, 0, sizeof o);
  ck_assert_int_eq(uv_loop_init(&loop), 0);
  ck_assert_int_eq(http_client_create(&loop, &opt, &c), 0);
  ck_assert_int_eq(http_conn_create(c, &r.conn), 0);
  ck_assert_int_eq(http_conn_send(r.conn, &reqs[0], on_done, &r), 0);
  while (r.next < 2) uv_run(&loop, UV_RUN_ONCE);
  ck_assert_str_eq(http_backend_name(r.conn), _i == 2 ? "h2" : _i ? "h1" : "curl");
  http_client_close(c, on_closed, &r);
  uv_run(&loop, UV_RUN_DEFAULT);
  ck_assert_int_eq(uv_loop_close(&loop), 0);
  for (int i = 0; i < 2; i++) {
    ck_assert_msg(o[i].status == 200, "req %d: %d %s", i, o[i].status, o[i].message);
    ck_assert_str_eq(o[i].body, _i == 1 ? "HTTP/1.1\n" : "HTTP/2.0\n"); /* nginx's $server_protocol */
  }
  result_free(o, 2);
}
END_TEST

START_TEST(test_curl_error_kinds) {
  ck_assert_int_eq(http_curl_error_kind(CURLE_COULDNT_RESOLVE_HOST), STATS_ERR_DNS);
  ck_assert_int_eq(http_curl_error_kind(CURLE_COULDNT_CONNECT), STATS_ERR_CONNECT);
  ck_assert_int_eq(http_curl_error_kind(CURLE_SSL_CONNECT_ERROR), STATS_ERR_TLS);
  ck_assert_int_eq(http_curl_error_kind(CURLE_PEER_FAILED_VERIFICATION), STATS_ERR_TLS);
  ck_assert_int_eq(http_curl_error_kind(CURLE_OPERATION_TIMEDOUT), STATS_ERR_TIMEOUT);
  ck_assert_int_eq(http_curl_error_kind(CURLE_RECV_ERROR), STATS_ERR_RESET);
  ck_assert_int_eq(http_curl_error_kind(CURLE_GOT_NOTHING), STATS_ERR_RESET);
  ck_assert_int_eq(http_curl_error_kind(CURLE_WEIRD_SERVER_REPLY), STATS_ERR_PROTOCOL);
  ck_assert_int_eq(http_curl_error_kind(CURLE_TOO_MANY_REDIRECTS), STATS_ERR_PROTOCOL);
  ck_assert_int_eq(http_curl_error_kind(CURLE_OUT_OF_MEMORY), STATS_ERR_OTHER);
}
END_TEST

typedef struct rr {
  http_conn *conns[8];
  http_request req;
  int sent, done, ok;
  http_client *client;
  int close_in_cb, closed;
} rr;

static void rr_done(http_conn *conn, const http_response *res, void *ud) {
  rr *r = ud;
  (void)conn;
  r->done++;
  r->ok += res->status == 200;
  if (r->close_in_cb) {
    http_client_close(r->client, on_closed_flag, &r->closed); /* releases every conn, this one too */
    return;
  }
  if (r->sent < 24) ck_assert_int_eq(http_conn_send(r->conns[r->sent++ % 8], &r->req, rr_done, r), 0);
}

/* 8 VUs used one at a time (as with think time): h1 keeps one connection per VU alive; curl pools the
 * connections of a client, so one idle connection serves them all. Neither reconnects. */
START_TEST(test_idle_conns_kept) {
  int backend = column(_i);
  uv_loop_t loop;
  char u[256];
  url(u, sizeof u, "/ok");
  rr r = {.req = {.method = "GET", .url = u, .max_body = 16}};
  http_client_options opt = client_opt(backend);
  ck_assert_int_eq(uv_loop_init(&loop), 0);
  ck_assert_int_eq(http_client_create(&loop, &opt, &r.client), 0);
  for (int i = 0; i < 8; i++) ck_assert_int_eq(http_conn_create(r.client, &r.conns[i]), 0);
  long conns0 = counter("/conns");
  ck_assert_int_eq(http_conn_send(r.conns[r.sent++], &r.req, rr_done, &r), 0);
  while (r.done < 24) uv_run(&loop, UV_RUN_ONCE);
  ck_assert_int_eq(r.ok, 24);
  ck_assert_int_eq(counter("/conns") - conns0, (backend == HTTP_H1 ? 8 : 1) + 1);
  ck_assert_int_eq(http_client_conns_opened(r.client), backend == HTTP_H1 ? 8 : 1); /* intervals' new_conns */
  http_client_close(r.client, on_closed_flag, &r.closed);
  uv_run(&loop, UV_RUN_DEFAULT);
  ck_assert_int_eq(r.closed, 1);
  ck_assert_int_eq(uv_loop_close(&loop), 0);
}
END_TEST

START_TEST(test_close_inside_callback) {
  int backend = column(_i);
  uv_loop_t loop;
  char u[256];
  url(u, sizeof u, "/ok");
  rr r = {.req = {.method = "GET", .url = u, .max_body = 16}, .close_in_cb = 1};
  http_client_options opt = client_opt(backend);
  ck_assert_int_eq(uv_loop_init(&loop), 0);
  ck_assert_int_eq(http_client_create(&loop, &opt, &r.client), 0);
  for (int i = 0; i < 3; i++) {
    ck_assert_int_eq(http_conn_create(r.client, &r.conns[i]), 0);
    ck_assert_int_eq(http_conn_send(r.conns[i], &r.req, rr_done, &r), 0);
  }
  uv_run(&loop, UV_RUN_DEFAULT);
  ck_assert_int_eq(r.done, 1); /* the other two were cancelled by the close */
  ck_assert_int_eq(r.ok, 1);
  ck_assert_int_eq(uv_loop_close(&loop), 0);
}
END_TEST

/* The testserver (in TLS mode with its certificates in tls_mode_dir, when not NULL); its pid, *port set. */
static pid_t start_server(const char *argv0, const char *tls_mode_dir, int *port) {
  const char *b = getenv("LOADCTL_BUILD");
  char tmp[4096];
  snprintf(tmp, sizeof tmp, "%s", argv0);
  snprintf(server_path, sizeof server_path, "%s/testserver", b && *b ? b : dirname(tmp));
  int fds[2];
  if (pipe(fds) != 0) exit(1);
  pid_t pid = fork();
  if (pid == 0) {
    dup2(fds[1], 1);
    close(fds[0]);
    if (tls_mode_dir)
      execl(server_path, "testserver", "--port", "0", "--duration-s", "120", "--tls-dir", tls_mode_dir,
            (char *)NULL);
    else
      execl(server_path, "testserver", "--port", "0", "--duration-s", "120", (char *)NULL);
    _exit(127);
  }
  close(fds[1]);
  FILE *f = fdopen(fds[0], "r");
  if (!f || fscanf(f, "PORT %d", port) != 1) {
    fprintf(stderr, "test_http: cannot start %s\n", server_path);
    exit(1);
  }
  fclose(f);
  return pid;
}

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

/* nginx on a free port with a fresh self-signed EC certificate; leaves tls_port 0 when not possible. */
static void start_tls(void) {
  char cmd[2048], conf[1024];
  if (access("/usr/sbin/nginx", X_OK) != 0 || access("/usr/bin/openssl", X_OK) != 0 || !mkdtemp(tls_dir))
    return;
  tls_dir_made = 1;
  snprintf(
      cmd, sizeof cmd,
      "openssl req -x509 -nodes -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -days 1 -subj /CN=127.0.0.1 "
      "-keyout %s/key.pem -out %s/cert.pem >/dev/null 2>&1",
      tls_dir, tls_dir);
  int port = free_port();
  if (system(cmd) != 0 || !port) return;
  snprintf(conf, sizeof conf, "%s/nginx.conf", tls_dir);
  FILE *f = fopen(conf, "w");
  if (!f) return;
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
          tls_dir, tls_dir, tls_dir, tls_dir, tls_dir, tls_dir, tls_dir, port, tls_dir, tls_dir);
  fclose(f);
  nginx_pid = fork();
  if (nginx_pid == 0) {
    execl("/usr/sbin/nginx", "nginx", "-p", tls_dir, "-c", conf, "-e", "stderr", (char *)NULL);
    _exit(127);
  }
  for (int i = 0; i < 50; i++) { /* up to 5 s for nginx to listen */
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {
        .sin_family = AF_INET, .sin_port = htons((uint16_t)port), .sin_addr.s_addr = htonl(0x7f000001)};
    int ok = connect(fd, (struct sockaddr *)&a, sizeof a) == 0;
    close(fd);
    if (ok) {
      tls_port = port;
      return;
    }
    usleep(100000);
  }
}

static void stop_tls(void) {
  char cmd[256];
  if (nginx_pid > 0) {
    kill(nginx_pid, SIGTERM);
    waitpid(nginx_pid, NULL, 0);
  }
  if (tls_dir_made) {
    snprintf(cmd, sizeof cmd, "rm -rf %s", tls_dir);
    if (system(cmd) != 0) fprintf(stderr, "test_http: could not remove %s\n", tls_dir);
  }
}

static Suite *suite(void) {
  Suite *s = suite_create("http");
  TCase *tc = tcase_create("conformance");
  tcase_set_timeout(tc, 30);
  tcase_add_loop_test(tc, test_ok, 0, 3);
  tcase_add_loop_test(tc, test_echo, 0, 3);
  tcase_add_loop_test(tc, test_changing_headers, 0, 3);
  tcase_add_loop_test(tc, test_status_and_head, 0, 3);
  tcase_add_loop_test(tc, test_delay, 0, 3);
  tcase_add_loop_test(tc, test_refused, 0, 3);
  tcase_add_loop_test(tc, test_dns_failure, 0, 3);
  tcase_add_loop_test(tc, test_reset, 0, 3);
  tcase_add_loop_test(tc, test_timeout, 0, 3);
  tcase_add_loop_test(tc, test_malformed, 0, 3);
  tcase_add_loop_test(tc, test_trailer_and_short_status, 0, 3);
  tcase_add_loop_test(tc, test_keepalive_30, 0, 3);
  tcase_add_loop_test(tc, test_close_reconnects, 0, 3);
  tcase_add_loop_test(tc, test_dropped_keepalive_resent, 0, 3);
  tcase_add_loop_test(tc, test_localhost_resolved, 0, 3);
  tcase_add_loop_test(tc, test_preconnect, 0, 2);
  tcase_add_test(tc, test_preconnect_curl_declines);
  tcase_add_loop_test(tc, test_eof_and_interim, 0, 3);
  tcase_add_loop_test(tc, test_big_post, 0, 3);
  tcase_add_loop_test(tc, test_chunked, 0, 3);
  tcase_add_loop_test(tc, test_big_discarded, 0, 3);
  tcase_add_loop_test(tc, test_cookies, 0, 3);
  tcase_add_loop_test(tc, test_cookies_shared_by_backends, 0, 2);
  tcase_add_loop_test(tc, test_cookies_h2, 0, 2);
  tcase_add_loop_test(tc, test_redirect, 0, 2);
  tcase_add_loop_test(tc, test_https_to_plain_server, 0, 2);
  tcase_add_loop_test(tc, test_release_in_flight, 0, 3);
  tcase_add_loop_test(tc, test_idle_conns_kept, 0, 3);
  tcase_add_loop_test(tc, test_close_inside_callback, 0, 3);
  tcase_add_test(tc, test_curl_error_kinds);
  tcase_add_loop_test(tc, test_https_http2, 0, 3);
  suite_add_tcase(s, tc);
  return s;
}

int main(int argc, char **argv) {
  (void)argc;
  signal(SIGPIPE, SIG_IGN);
  server_pid = start_server(argv[0], NULL, &server_port);
  if (!mkdtemp(tls_server_dir)) return EXIT_FAILURE;
  snprintf(tls_ca, sizeof tls_ca, "%s/server.pem", tls_server_dir);
  tls_server_pid = start_server(argv[0], tls_server_dir, &tls_server_port);
  start_tls();
  int rc = check_run(suite());
  kill(server_pid, SIGTERM);
  waitpid(server_pid, NULL, 0);
  kill(tls_server_pid, SIGTERM);
  waitpid(tls_server_pid, NULL, 0);
  char pem[300];
  snprintf(pem, sizeof pem, "%s/client.pem", tls_server_dir);
  unlink(pem);
  unlink(tls_ca);
  rmdir(tls_server_dir);
  stop_tls();
  return rc;
}
