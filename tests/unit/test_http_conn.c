/* test_http_conn.c - the HTTP backends' connections, cookies, redirects and TLS peers, in the columns of
 * test_http.c (h1, curl, h1 over TLS) against the testserver and nginx (HTTP/2 over TLS): keep-alive and
 * reconnects counted by the server, pre-connect, idle connections kept, release and close while requests
 * are in flight, one cookie jar per VU across backends, redirects, h1/curl/h2 chosen by ALPN. The harness
 * is tests/support/testhttp. */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include "common/stats.h"
#include "tests/support/testhttp.h"
#include "worker/http.h"

START_TEST(test_keepalive_30) {
  int backend = testhttp_column(_i);
  enum { N = 30 };
  const char *lines[N];
  for (int i = 0; i < N; i++) lines[i] = "GET /ok";
  long conns0 = testhttp_counter("/conns"), count0 = testhttp_counter("/count");
  testhttp_result o[N];
  testhttp_run_lines(backend, lines, N, 16, o);
  for (int i = 0; i < N; i++) {
    ck_assert_int_eq(o[i].status, 200);
    ck_assert_str_eq(o[i].body, "ok\n");
    testhttp_assert_timing(&o[i]);
  }
  /* exactly N requests served on one connection; each probe after the first /conns opened one more */
  ck_assert_int_eq(testhttp_counter("/count") - count0, N);
  ck_assert_int_eq(testhttp_counter("/conns") - conns0, 1 + 1 + 1 + 1);
  testhttp_free(o, N);
}
END_TEST

START_TEST(test_close_reconnects) {
  int backend = testhttp_column(_i);
  static const char *const lines[] = {"GET /close", "GET /ok", "GET /ok"};
  long conns0 = testhttp_counter("/conns");
  testhttp_result o[3];
  testhttp_run_lines(backend, lines, 3, 16, o);
  for (int i = 0; i < 3; i++) ck_assert_int_eq(o[i].status, 200);
  /* two connections for the run (close forces a new one), one for the second /conns probe */
  ck_assert_int_eq(testhttp_counter("/conns") - conns0, 2 + 1);
  testhttp_free(o, 3);
}
END_TEST

START_TEST(test_dropped_keepalive_resent) {
  int backend = testhttp_column(_i);
  static const char *const lines[] = {"GET /drop", "GET /ok", "GET /drop", "GET /ok"};
  long count0 = testhttp_counter("/count");
  testhttp_result o[4];
  testhttp_run_lines(backend, lines, 4, 16, o);
  for (int i = 0; i < 4; i++)
    ck_assert_msg(o[i].status == 200, "req %d: %d %s", i, o[i].status, o[i].message);
  ck_assert_int_eq(testhttp_counter("/count") - count0, 4); /* each served exactly once */
  testhttp_free(o, 4);
}
END_TEST

START_TEST(test_localhost_resolved) {
  int backend = testhttp_column(_i);
  char u[256];
  char o0[128];
  testhttp_origin(o0, sizeof o0, "localhost");
  snprintf(u, sizeof u, "%s/echo", o0);
  http_request reqs[] = {{.method = "GET", .url = u, .max_body = 512},
                         {.method = "GET", .url = u, .max_body = 512}};
  testhttp_result o[2];
  testhttp_run_seq(backend, reqs, 2, o);
  for (int i = 0; i < 2; i++) {
    ck_assert_int_eq(o[i].status, 200);
    ck_assert_msg(strstr(o[i].body, "\r\nHost: localhost:") != NULL, "echo: %s", o[i].body);
  }
  testhttp_free(o, 2);
}
END_TEST

/* Pre-connect (the open model's pre-allocated VUs): h1 opens the connection ahead, so the first request
 * pays no connect and the server sees one connection; a request right behind the pre-connect waits for
 * it; a failed pre-connect is reported by the first request; curl declines. */
static void preconnected_get(const char *host_url, const char *path, int wait_ms, testhttp_result *o) {
  char u[256];
  http_client_options opt = testhttp_client_opt(HTTP_H1);
  snprintf(u, sizeof u, "%s%s", host_url, path);
  http_request req = {.method = "GET", .url = u, .max_body = 16};
  ck_assert_str_eq(testhttp_run(&opt, host_url, wait_ms, &req, 1, o), "h1");
}

START_TEST(test_preconnect) {
  char base[128], local[128];
  testhttp_result o;
  testhttp_column(_i ? 2 : 0); /* h1, plain and TLS */
  testhttp_origin(base, sizeof base, "127.0.0.1");
  testhttp_origin(local, sizeof local, "localhost");
  long conns0 = testhttp_counter("/conns");
  preconnected_get(base, "/ok", 100, &o); /* connected (and TLS handshaken) well before the request */
  ck_assert_msg(o.status == 200, "status %d, error %d (%s)", o.status, o.error, o.message);
  ck_assert_int_eq(o.connect_ns, 0);
  ck_assert_int_eq(o.tls_ns, 0);
  ck_assert_int_eq(testhttp_counter("/conns") - conns0, 1 + 1); /* ours, then the probe's */
  testhttp_free(&o, 1);
  preconnected_get(base, "/ok", 0, &o); /* the request right behind the connect */
  ck_assert_msg(o.status == 200, "status %d, error %d (%s)", o.status, o.error, o.message);
  testhttp_free(&o, 1);
  preconnected_get(local, "/ok", 100, &o); /* through the resolver */
  ck_assert_msg(o.status == 200, "status %d, error %d (%s)", o.status, o.error, o.message);
  ck_assert_int_eq(o.connect_ns, 0);
  testhttp_free(&o, 1);
  /* a refused pre-connect: the request connects again and reports it */
  snprintf(base, sizeof base, "%s://127.0.0.1:%d", testhttp_tls_column() ? "https" : "http",
           testhttp_closed_port());
  preconnected_get(base, "/ok", 50, &o);
  ck_assert_int_eq(o.status, 0);
  ck_assert_msg(o.error == STATS_ERR_CONNECT, "error %d (%s)", o.error, o.message);
  testhttp_free(&o, 1);
}
END_TEST

/* A request sent while the pre-connect's TLS handshake is still going waits for the handshake (it was
 * written into the handshake and failed as "TLS error 2", SSL_ERROR_WANT_READ, when a loaded machine
 * had not finished a handshake in time): here a listener that never answers keeps the handshake going,
 * so the request ends as a TLS handshake timeout. */
START_TEST(test_request_waits_for_handshake) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t alen = sizeof a;
  ck_assert_int_ge(fd, 0);
  ck_assert_int_eq(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
  ck_assert_int_eq(listen(fd, 4), 0); /* the kernel completes the TCP handshake; nobody reads the hello */
  ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&a, &alen), 0);
  char base[64], u[96];
  snprintf(base, sizeof base, "https://127.0.0.1:%d", ntohs(a.sin_port));
  snprintf(u, sizeof u, "%s/ok", base);
  testhttp_column(2);
  http_client_options opt = testhttp_client_opt(HTTP_H1);
  http_request req = {.method = "GET", .url = u, .timeout_ms = 300, .max_body = 16};
  testhttp_result o;
  ck_assert_str_eq(testhttp_run(&opt, base, 100, &req, 1, &o), "h1");
  ck_assert_msg(o.error == STATS_ERR_TIMEOUT && strstr(o.message, "TLS handshake"), "error %d (%s)", o.error,
                o.message);
  testhttp_free(&o, 1);
  close(fd);
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
  http_client_close(c, testhttp_on_closed, &closed);
  uv_run(&loop, UV_RUN_DEFAULT);
  ck_assert_int_eq(closed, 1);
  ck_assert_int_eq(uv_loop_close(&loop), 0);
}
END_TEST

static int cancelled_calls;

static void never(http_conn *conn, const http_response *res, void *ud) {
  (void)conn, (void)res, (void)ud;
  cancelled_calls++;
}

START_TEST(test_release_in_flight) {
  int backend = testhttp_column(_i);
  uv_loop_t loop;
  http_client *c;
  http_conn *conn;
  int closed = 0;
  char u[256];
  testhttp_url(u, sizeof u, "/delay/300");
  http_request req = {.method = "GET", .url = u};
  http_client_options opt = testhttp_client_opt(backend);
  ck_assert_int_eq(uv_loop_init(&loop), 0);
  ck_assert_int_eq(http_client_create(&loop, &opt, &c), 0);
  ck_assert_int_eq(http_conn_create(c, &conn), 0);
  ck_assert_int_eq(http_conn_send(conn, &req, never, NULL), 0);
  for (int i = 0; i < 5; i++) uv_run(&loop, UV_RUN_NOWAIT);
  http_conn_release(conn);
  ck_assert_int_eq(http_conn_create(c, &conn), 0); /* left for http_client_close to release */
  ck_assert_int_eq(http_conn_send(conn, &req, never, NULL), 0);
  http_client_close(c, testhttp_on_closed, &closed);
  uv_run(&loop, UV_RUN_DEFAULT);
  ck_assert_int_eq(closed, 1);
  ck_assert_int_eq(cancelled_calls, 0);
  ck_assert_int_eq(uv_loop_close(&loop), 0);
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
    http_client_close(r->client, testhttp_on_closed, &r->closed); /* releases every conn, this one too */
    return;
  }
  if (r->sent < 24) ck_assert_int_eq(http_conn_send(r->conns[r->sent++ % 8], &r->req, rr_done, r), 0);
}

/* 8 VUs used one at a time (as with think time): h1 keeps one connection per VU alive; curl pools the
 * connections of a client, so one idle connection serves them all. Neither reconnects. */
START_TEST(test_idle_conns_kept) {
  int backend = testhttp_column(_i);
  uv_loop_t loop;
  char u[256];
  testhttp_url(u, sizeof u, "/ok");
  rr r = {.req = {.method = "GET", .url = u, .max_body = 16}};
  http_client_options opt = testhttp_client_opt(backend);
  ck_assert_int_eq(uv_loop_init(&loop), 0);
  ck_assert_int_eq(http_client_create(&loop, &opt, &r.client), 0);
  for (int i = 0; i < 8; i++) ck_assert_int_eq(http_conn_create(r.client, &r.conns[i]), 0);
  long conns0 = testhttp_counter("/conns");
  ck_assert_int_eq(http_conn_send(r.conns[r.sent++], &r.req, rr_done, &r), 0);
  while (r.done < 24) uv_run(&loop, UV_RUN_ONCE);
  ck_assert_int_eq(r.ok, 24);
  ck_assert_int_eq(testhttp_counter("/conns") - conns0, (backend == HTTP_H1 ? 8 : 1) + 1);
  ck_assert_int_eq(http_client_conns_opened(r.client), backend == HTTP_H1 ? 8 : 1); /* intervals' new_conns */
  http_client_close(r.client, testhttp_on_closed, &r.closed);
  uv_run(&loop, UV_RUN_DEFAULT);
  ck_assert_int_eq(r.closed, 1);
  ck_assert_int_eq(uv_loop_close(&loop), 0);
}
END_TEST

START_TEST(test_close_inside_callback) {
  int backend = testhttp_column(_i);
  uv_loop_t loop;
  char u[256];
  testhttp_url(u, sizeof u, "/ok");
  rr r = {.req = {.method = "GET", .url = u, .max_body = 16}, .close_in_cb = 1};
  http_client_options opt = testhttp_client_opt(backend);
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

START_TEST(test_cookies) {
  int backend = testhttp_column(_i);
  static const char *const lines[] = {"GET /needcookie", "GET /setcookie", "GET /needcookie",
                                      "GET /needcookie"};
  testhttp_result o[4];
  testhttp_run_lines(backend, lines, 4, 64, o);
  ck_assert_int_eq(o[0].status, 401);
  ck_assert_int_eq(o[1].status, 200);
  ck_assert_ptr_nonnull(strstr(o[1].headers, "Set-Cookie: session=abc123"));
  ck_assert_int_eq(o[2].status, 200);
  ck_assert_str_eq(o[2].body, "cookie ok\n");
  ck_assert_int_eq(o[3].status, 200);
  testhttp_free(o, 4);
}
END_TEST

/* One jar per VU, shared by both backends (a request with redirects goes through curl), kept when the
 * VU talks to another host in between; cookies are per host (host-only: localhost does not get them). */
START_TEST(test_cookies_shared_by_backends) {
  char set_u[256], need_u[256], other_u[256];
  testhttp_url(set_u, sizeof set_u, "/setcookie");
  testhttp_url(need_u, sizeof need_u, "/needcookie");
  snprintf(other_u, sizeof other_u, "http://localhost:%d/needcookie", testhttp_port());
  int set_curl = _i == 1; /* 0: set by h1, read by curl; 1: set by curl, read by h1 */
  http_request reqs[] = {
      {.method = "GET", .url = set_u, .max_body = 64, .max_redirects = set_curl},
      {.method = "GET", .url = need_u, .max_body = 64, .max_redirects = !set_curl},
      {.method = "GET", .url = other_u, .max_body = 64},
      {.method = "GET", .url = need_u, .max_body = 64},
  };
  testhttp_result o[4];
  testhttp_run_seq(HTTP_AUTO, reqs, 4, o);
  ck_assert_int_eq(o[0].status, 200);
  ck_assert_msg(o[1].status == 200 && !strcmp(o[1].body, "cookie ok\n"), "set by %s, read by %s: %d %s",
                set_curl ? "curl" : "h1", set_curl ? "h1" : "curl", o[1].status, o[1].body);
  ck_assert_int_eq(o[2].status, 401); /* another host: no cookie */
  ck_assert_int_eq(o[3].status, 200); /* back: the jar kept it */
  testhttp_free(o, 4);
}
END_TEST

/* The h2 backend shares the VU's jar too: a Secure cookie set over h2 goes with the next request through
 * curl (redirects), and one set through curl with the next h2 request; plain http:// does not get it. */
START_TEST(test_cookies_h2) {
  if (!testhttp_nginx_port()) {
    fprintf(stderr, "test_cookies_h2: skipped (no nginx or openssl)\n");
    return;
  }
  char set_u[256], need_u[256], plain_u[256];
  snprintf(set_u, sizeof set_u, "https://127.0.0.1:%d/setcookie", testhttp_nginx_port());
  snprintf(need_u, sizeof need_u, "https://127.0.0.1:%d/needcookie", testhttp_nginx_port());
  testhttp_url(plain_u, sizeof plain_u, "/needcookie");
  http_request reqs[] = {
      {.method = "GET", .url = set_u, .max_body = 64, .max_redirects = _i},
      {.method = "GET", .url = need_u, .max_body = 64, .max_redirects = !_i},
      {.method = "GET", .url = plain_u, .max_body = 64},
  };
  testhttp_result o[3];
  http_client_options opt = {.backend = HTTP_AUTO, .insecure_tls = 1};
  testhttp_run(&opt, NULL, 0, reqs, 3, o);
  ck_assert_msg(o[0].status == 200, "set: %d %s", o[0].status, o[0].message);
  ck_assert_msg(o[1].status == 200 && !strcmp(o[1].body, "cookie ok\n"), "set by %s, read by %s: %d %s",
                _i ? "curl" : "h2", _i ? "h2" : "curl", o[1].status, o[1].message);
  ck_assert_int_eq(o[2].status, 401); /* Secure: not over http:// */
  testhttp_free(o, 3);
}
END_TEST

START_TEST(test_redirect) {
  char u[256];
  testhttp_url(u, sizeof u, "/redirect");
  http_request reqs[] = {{.method = "GET", .url = u}, {.method = "GET", .url = u, .max_redirects = 3}};
  testhttp_result o[2];
  testhttp_run_seq(testhttp_column(_i), reqs, 2, o);
  ck_assert_int_eq(o[0].status, 302);
  ck_assert_ptr_nonnull(strstr(o[0].headers, "Location: /redirect"));
  ck_assert_msg(o[1].error == STATS_ERR_PROTOCOL, "error %d (%s)", o[1].error, o[1].message);
  testhttp_free(o, 2);
}
END_TEST

START_TEST(test_https_to_plain_server) {
  char u[256];
  snprintf(u, sizeof u, "https://127.0.0.1:%d/ok", testhttp_port());
  http_request req = {.method = "GET", .url = u, .timeout_ms = 2000};
  testhttp_result o;
  /* h1 carries https:// too (asserted by testhttp_run_seq); its TLS hello goes to a plain server */
  testhttp_run_seq(testhttp_column(_i), &req, 1, &o);
  ck_assert_msg(o.error == STATS_ERR_TLS, "error %d (%s)", o.error, o.message);
  ck_assert_int_eq(o.status, 0);
  testhttp_free(&o, 1);
}
END_TEST

START_TEST(test_https_http2) {
  if (!testhttp_nginx_port()) {
    fprintf(stderr, "test_https_http2: skipped (no nginx or openssl)\n");
    return;
  }
  char u[256];
  snprintf(u, sizeof u, "https://127.0.0.1:%d/", testhttp_nginx_port());
  http_request reqs[] = {{.method = "GET", .url = u, .max_body = 64},
                         {.method = "GET", .url = u, .max_body = 64}};
  testhttp_result o[2];
  /* curl speaks HTTP/2 to nginx; h1 offers only http/1.1 by ALPN and nginx answers in HTTP/1.1; auto
   * offers h2 and goes to the h2 backend */
  static const int backends[] = {HTTP_CURL, HTTP_H1, HTTP_AUTO};
  http_client_options opt = {.backend = backends[_i], .insecure_tls = 1};
  ck_assert_str_eq(testhttp_run(&opt, NULL, 0, reqs, 2, o), _i == 2 ? "h2" : _i ? "h1" : "curl");
  for (int i = 0; i < 2; i++) {
    ck_assert_msg(o[i].status == 200, "req %d: %d %s", i, o[i].status, o[i].message);
    ck_assert_str_eq(o[i].body, _i == 1 ? "HTTP/1.1\n" : "HTTP/2.0\n"); /* nginx's $server_protocol */
  }
  testhttp_free(o, 2);
}
END_TEST

int main(void) {
  const TTest *every[] = {
      test_keepalive_30, test_close_reconnects,  test_dropped_keepalive_resent, test_localhost_resolved,
      test_cookies,      test_release_in_flight, test_idle_conns_kept,          test_close_inside_callback,
      test_https_http2};
  const TTest *twice[] = {test_preconnect, test_cookies_shared_by_backends, test_cookies_h2, test_redirect,
                          test_https_to_plain_server}; /* _i 0 and 1, as each test says */
  TCase *tc = tcase_create("connections");
  testhttp_add(tc, every, sizeof every / sizeof every[0], TESTHTTP_COLUMNS);
  testhttp_add(tc, twice, sizeof twice / sizeof twice[0], 2);
  tcase_add_test(tc, test_preconnect_curl_declines);
  tcase_add_test(tc, test_request_waits_for_handshake);
  return testhttp_main(1, "http_conn", tc);
}
