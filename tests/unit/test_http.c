/* test_http.c - the HTTP backends' conformance on responses and errors, each test run in three columns (h1,
 * curl, and h1 over TLS: the testserver's TLS mode with its certificate as the CA file) against the
 * testserver: same responses and bodies, same timing semantics, same error categories.
 * Connections, cookies, redirects and HTTP/2 are test_http_conn.c; the harness is tests/support/testhttp. */
#include <check.h>
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/stats.h"
#include "tests/support/testhttp.h"
#include "worker/http.h"
#include "worker/http_curl.h"

START_TEST(test_ok) {
  int backend = testhttp_column(_i);
  testhttp_result o;
  testhttp_get(backend, "/ok", 0, 1024, &o);
  ck_assert_int_eq(o.error, 0);
  ck_assert_int_eq(o.status, 200);
  ck_assert_str_eq(o.body, "ok\n");
  ck_assert_ptr_nonnull(strstr(o.headers, "Content-Length: 3\r\n"));
  ck_assert_ptr_nonnull(strstr(o.headers, "Content-Type: text/plain\r\n"));
  ck_assert_int_ge(o.bytes_in, 3);
  ck_assert_int_gt(o.bytes_out, 20);
  ck_assert_int_gt(o.ttfb_ns, 0);
  testhttp_assert_timing(&o);
  testhttp_free(&o, 1);
}
END_TEST

START_TEST(test_echo) {
  int backend = testhttp_column(_i);
  char u[256];
  testhttp_url(u, sizeof u, "/echo?q=1");
  http_header h[] = {{"X-Test", "42"}, {"Content-Type", "text/plain"}};
  http_request req = {.method = "POST",
                      .url = u,
                      .headers = h,
                      .nheaders = 2,
                      .body = "hello",
                      .body_len = 5,
                      .max_body = 4096};
  testhttp_result o;
  testhttp_run_seq(backend, &req, 1, &o);
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
  testhttp_free(&o, 1);
}
END_TEST

START_TEST(test_changing_headers) {
  int backend = testhttp_column(_i);
  char u[256];
  testhttp_url(u, sizeof u, "/echo");
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
  testhttp_result o[5];
  testhttp_run_seq(backend, reqs, 5, o);
  for (int i = 0; i < 5; i++) {
    ck_assert_int_eq(o[i].status, 200);
    ck_assert_msg(strstr(o[i].body, want[i][0]) != NULL, "req %d: %s", i, o[i].body);
    if (want[i][1])
      ck_assert_msg(strstr(o[i].body, want[i][1]) != NULL, "req %d: %s", i, o[i].body);
    else
      ck_assert_ptr_null(strstr(o[i].body, "X-Name"));
    ck_assert_ptr_null(strstr(o[i].body, "X-Name: one\r\nX-Name"));
  }
  testhttp_free(o, 5);
}
END_TEST

START_TEST(test_status_and_head) {
  int backend = testhttp_column(_i);
  static const char *const lines[] = {"GET /status/503", "HEAD /ok", "DELETE /status/503"};
  testhttp_result o[3];
  testhttp_run_lines(backend, lines, 3, 100, o);
  ck_assert_int_eq(o[0].error, 0);
  ck_assert_int_eq(o[0].status, 503);
  ck_assert_str_eq(o[0].body, "status 503\n");
  ck_assert_int_eq(o[1].status, 200);
  ck_assert_int_eq(o[1].body_len, 0);
  ck_assert_int_eq(o[2].status, 503);
  testhttp_free(o, 3);
}
END_TEST

START_TEST(test_delay) {
  int backend = testhttp_column(_i);
  testhttp_result o;
  testhttp_get(backend, "/delay/200", 0, 100, &o);
  ck_assert_int_eq(o.status, 200);
  ck_assert_int_ge(o.done_ns - o.sent_ns, 200000000);
  ck_assert_int_lt(o.done_ns - o.sent_ns, 2000000000);
  ck_assert_int_ge(o.ttfb_ns, 200000000);
  ck_assert_int_ge(o.waiting_ns, 190000000); /* the server's delay is waiting, not connecting */
  ck_assert_int_lt(o.connect_ns + o.tls_ns + o.blocked_ns, 190000000);
  ck_assert_int_eq(o.tls_ns > 0, testhttp_tls_column()); /* a fresh connection: a handshake when TLS */
  testhttp_assert_timing(&o);
  testhttp_free(&o, 1);
}
END_TEST

START_TEST(test_refused) {
  int backend = testhttp_column(_i);
  char u[256];
  snprintf(u, sizeof u, "http://127.0.0.1:%d/ok", testhttp_closed_port());
  http_request req = {.method = "GET", .url = u};
  testhttp_result o;
  testhttp_run_seq(backend, &req, 1, &o);
  ck_assert_int_eq(o.status, 0);
  ck_assert_msg(o.error == STATS_ERR_CONNECT, "error %d (%s)", o.error, o.message);
  ck_assert_int_gt(strlen(o.message), 0);
  testhttp_assert_timing(&o);
  testhttp_free(&o, 1);
}
END_TEST

START_TEST(test_dns_failure) {
  int backend = testhttp_column(_i);
  /* "a..b" has an empty label: the resolver rejects it locally, no query leaves the machine */
  http_request req = {.method = "GET", .url = "http://a..b:8080/ok", .timeout_ms = 3000};
  testhttp_result o;
  testhttp_run_seq(backend, &req, 1, &o);
  ck_assert_int_eq(o.status, 0);
  ck_assert_msg(o.error == STATS_ERR_DNS, "error %d (%s)", o.error, o.message);
  testhttp_free(&o, 1);
}
END_TEST

/* Responses the server breaks, and the error kind every backend reports for each. */
static const struct {
  const char *path;
  int kind;
} broken[] = {{"/reset", STATS_ERR_RESET}, {"/malformed", STATS_ERR_PROTOCOL}};

/* _i: the column + TESTHTTP_COLUMNS x the entry of broken[]. */
START_TEST(test_broken_response) {
  int backend = testhttp_column(_i % TESTHTTP_COLUMNS);
  const char *path = broken[_i / TESTHTTP_COLUMNS].path;
  testhttp_result o;
  testhttp_get(backend, path, 0, 100, &o);
  ck_assert_int_eq(o.status, 0);
  ck_assert_msg(o.error == broken[_i / TESTHTTP_COLUMNS].kind, "%s: error %d (%s)", path, o.error, o.message);
  testhttp_free(&o, 1);
}
END_TEST

START_TEST(test_timeout) {
  int backend = testhttp_column(_i);
  char u1[256], u2[256];
  testhttp_url(u1, sizeof u1, "/slow");
  testhttp_url(u2, sizeof u2, "/delay/3000");
  http_request reqs[] = {{.method = "GET", .url = u1, .timeout_ms = 300},
                         {.method = "GET", .url = u2, .timeout_ms = 200}};
  testhttp_result o[2];
  testhttp_run_seq(backend, reqs, 2, o);
  for (int i = 0; i < 2; i++) {
    ck_assert_msg(o[i].error == STATS_ERR_TIMEOUT, "req %d error %d (%s)", i, o[i].error, o[i].message);
    ck_assert_int_eq(o[i].status, 0);
  }
  ck_assert_int_ge(o[0].done_ns - o[0].sent_ns, 290000000);
  ck_assert_int_lt(o[0].done_ns - o[0].sent_ns, 1500000000);
  ck_assert_int_ge(o[1].done_ns - o[1].sent_ns, 190000000);
  ck_assert_int_lt(o[1].done_ns - o[1].sent_ns, 1500000000);
  testhttp_free(o, 2);
}
END_TEST

/* Found by fuzz_h1resp: trailer lines end in CRLF like the others; a two-digit status is malformed. */
START_TEST(test_trailer_and_short_status) {
  int backend = testhttp_column(_i);
  testhttp_result o[2];
  testhttp_get(backend, "/trailer", 0, 64, &o[0]);
  testhttp_get(backend, "/status21", 0, 64, &o[1]);
  ck_assert_int_eq(o[0].status, 200);
  ck_assert_str_eq(o[0].body, "ok");
  size_t n = strlen(o[0].headers);
  ck_assert_msg(n >= 2 && strcmp(o[0].headers + n - 2, "\r\n") == 0, "headers: %s", o[0].headers);
  ck_assert_int_eq(o[1].status, 0);
  ck_assert_msg(o[1].error != 0, "a 2-digit status was taken");
  testhttp_free(o, 2);
}
END_TEST

START_TEST(test_eof_and_interim) {
  int backend = testhttp_column(_i);
  static const char *const lines[] = {"GET /eof", "GET /continue", "GET /eof"};
  testhttp_result o[3];
  testhttp_run_lines(backend, lines, 3, 64, o);
  ck_assert_int_eq(o[0].status, 200);
  ck_assert_str_eq(o[0].body, "until-close\n");
  ck_assert_int_eq(o[1].status, 200);
  ck_assert_str_eq(o[1].body, "ok\n");
  ck_assert_ptr_nonnull(strstr(o[1].headers, "Content-Length: 3"));
  ck_assert_int_eq(o[2].status, 200);
  testhttp_free(o, 3);
}
END_TEST

START_TEST(test_big_post) {
  int backend = testhttp_column(_i);
  enum { BODY = 4 << 20 };
  char u[256];
  testhttp_url(u, sizeof u, "/echo");
  char *body = malloc(BODY);
  for (size_t i = 0; i < BODY; i++) body[i] = (char)('a' + i % 26);
  http_request req = {.method = "PUT", .url = u, .body = body, .body_len = BODY, .max_body = 2 * BODY};
  testhttp_result o;
  testhttp_run_seq(backend, &req, 1, &o);
  ck_assert_int_eq(o.status, 200);
  ck_assert_msg(strncmp(o.body, "PUT /echo\r\n", 11) == 0, "echo: %.40s", o.body);
  ck_assert_int_gt(o.body_len, BODY);
  ck_assert_int_eq(memcmp(o.body + o.body_len - BODY, body, BODY), 0);
  ck_assert_int_ge(o.bytes_out, BODY);
  free(body);
  testhttp_free(&o, 1);
}
END_TEST

START_TEST(test_chunked) {
  int backend = testhttp_column(_i);
  testhttp_result o;
  testhttp_get(backend, "/chunked", 0, 1024, &o);
  ck_assert_int_eq(o.status, 200);
  ck_assert_str_eq(o.body, "chunk-one|chunk-two|chunk-three");
  ck_assert_ptr_nonnull(strstr(o.headers, "Transfer-Encoding: chunked"));
  testhttp_free(&o, 1);
}
END_TEST

START_TEST(test_big_discarded) {
  int backend = testhttp_column(_i);
  testhttp_result o;
  testhttp_get(backend, "/big/5000000", 0, 1000, &o);
  ck_assert_int_eq(o.status, 200);
  ck_assert_int_eq(o.body_len, 1000);
  ck_assert_int_eq(o.body[0], 'b');
  ck_assert_int_ge(o.bytes_in, 5000000);
  ck_assert_int_lt(o.bytes_in, 5001000);
  testhttp_free(&o, 1);
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

int main(void) {
  const TTest *every[] = {test_ok,
                          test_echo,
                          test_changing_headers,
                          test_status_and_head,
                          test_delay,
                          test_refused,
                          test_dns_failure,
                          test_timeout,
                          test_trailer_and_short_status,
                          test_eof_and_interim,
                          test_big_post,
                          test_chunked,
                          test_big_discarded};
  TCase *tc = tcase_create("conformance");
  testhttp_add(tc, every, sizeof every / sizeof every[0], TESTHTTP_COLUMNS);
  tcase_add_loop_test(tc, test_broken_response, 0, TESTHTTP_COLUMNS * sizeof broken / sizeof broken[0]);
  tcase_add_test(tc, test_curl_error_kinds);
  return testhttp_main(0, "http", tc);
}
