/* testhttp.h - the HTTP backend suites' harness (test_http, test_http_conn): the peers (tests/targets/
 * testserver plain and in TLS mode, whose certificate is the CA file; optionally nginx with TLS and HTTP/2),
 * the columns a conformance test runs in (h1, curl, h1 over TLS) and one connection's requests sent in
 * sequence with every response field kept. Test-only code (CMakeLists.txt: loadctl_testsupport). */
#ifndef LOADCTL_TESTHTTP_H
#define LOADCTL_TESTHTTP_H

#include <check.h>
#include <stddef.h>
#include <stdint.h>

#include "worker/http.h"

/* What one response gave, copied out of the callback (headers and body owned: testhttp_free). */
typedef struct testhttp_result {
  int done_calls;
  int status, error;
  char message[256];
  char *headers, *body;
  size_t body_len;
  uint64_t bytes_in, bytes_out;
  int64_t sent_ns, ttfb_ns, done_ns, connect_ns, tls_ns;
  int64_t blocked_ns, sending_ns, waiting_ns, receiving_ns;
} testhttp_result;

/* Start the testserver twice (testspawn: plain, and in TLS mode with its certificates in a fresh
 * directory), and when nginx is 1 nginx with a fresh self-signed certificate (left out, testhttp_nginx_port()
 * 0, when nginx or openssl is missing). Exits the process naming what failed. */
void testhttp_start(int nginx);
/* Stop what testhttp_start started and remove its directories. */
void testhttp_stop(void);
/* The whole main() of an HTTP suite: testhttp_start(nginx), the suite called name of the one test case tc
 * (30 s per test) run with check_run, testhttp_stop(); the exit status. */
int testhttp_main(int nginx, const char *name, TCase *tc);

/* The plain testserver's port; nginx's (HTTP/2 over TLS, self-signed), 0 when it is not running. */
int testhttp_port(void);
int testhttp_nginx_port(void);

/* The columns: h1, curl, h1 over TLS. */
#define TESTHTTP_COLUMNS 3

/* Add each of the n tests to tc as a loop test over the first ncolumns columns (its _i: the column). */
void testhttp_add(TCase *tc, const TTest *const *tests, size_t n, int ncolumns);

/* Enter column i (0 h1, 1 curl, 2 h1 over TLS) before anything else in a test: testhttp_url(),
 * testhttp_origin(), testhttp_client_opt() and testhttp_run_seq() follow it. Returns its backend. */
int testhttp_column(int i);
/* 1 in the h1-over-TLS column. */
int testhttp_tls_column(void);
/* The column's server as "scheme://host:port" for host; its URL for path. */
void testhttp_origin(char *buf, size_t size, const char *host);
void testhttp_url(char *buf, size_t size, const char *path);
/* The column's client options for backend: 5 s default timeout, the TLS column's CA file. */
http_client_options testhttp_client_opt(int backend);

/* Send reqs one after another on one conn of a fresh client made with opt (the next from inside the
 * callback), into out[0..n); when preconnect is not NULL the conn pre-connects to it and the loop runs
 * wait_ms before the first request. Asserts each request completed once and the loop closed clean; returns
 * the conn's backend name after the last request ("h1", "curl", "h2"). */
const char *testhttp_run(const http_client_options *opt, const char *preconnect, int wait_ms,
                         const http_request *reqs, size_t n, testhttp_result *out);
/* testhttp_run with the column's options for backend; asserts that a second send while busy is refused
 * (-EBUSY) and which backend carried the last request (curl with redirects, h2 by ALPN under auto). */
void testhttp_run_seq(int backend, const http_request *reqs, size_t n, testhttp_result *out);
/* testhttp_run_seq of the column's requests given as "METHOD /path" lines (at most 32), each with max_body.
 */
void testhttp_run_lines(int backend, const char *const *lines, size_t n, size_t max_body,
                        testhttp_result *out);
/* One GET of the column's path. */
void testhttp_get(int backend, const char *path, int64_t timeout_ms, size_t max_body, testhttp_result *out);
void testhttp_free(testhttp_result *o, size_t n);

/* sent, ttfb and done in order, and k6's six phases none negative and adding up to done - sent. */
void testhttp_assert_timing(const testhttp_result *o);
/* A small counter route of the column's testserver (/count or /conns) read on its own h1 connection. */
long testhttp_counter(const char *path);
/* A port that was just free on 127.0.0.1 (bind, read it, close): connecting to it is refused. */
int testhttp_closed_port(void);
/* An http_client_close callback setting *(int *)ud to 1. */
void testhttp_on_closed(void *ud);

#endif
