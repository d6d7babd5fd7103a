/* http.c - the dispatcher behind worker/http.h: one client per engine thread owning both backends and
 * the thread's TLS context, picking h1 (http:// and https://, no proxy in the environment) or curl
 * (everything else) per request. */
#include "worker/http.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "worker/http_curl.h"
#include "worker/http_h1.h"
#include "worker/tls.h"

struct http_client {
  uv_loop_t *loop;
  http_client_options opt; /* its strings are tls's copies */
  tls_options tls_opt;
  tls_ctx *tls;
  int proxy_env; /* a proxy variable is set: AUTO sends everything through curl */
  http_h1 *h1;
  http_curl *curl; /* created on first use */
  http_conn *conns;
  int closing, pending_closes;
  void (*close_cb)(void *ud);
  void *close_ud;
};

struct http_conn {
  http_client *c;
  http_conn *prev, *next;
  http_h1_conn *h1;
  http_curl_conn *curl;
  int last; /* backend of the last request, HTTP_AUTO before the first */
  int busy;
  http_done_cb done;
  void *ud;
};

static int proxy_in_env(void) {
  static const char *const vars[] = {"http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY",
                                     "all_proxy",  "ALL_PROXY"};
  for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++) {
    const char *v = getenv(vars[i]);
    if (v && *v) return 1;
  }
  return 0;
}

/* Writing to a socket the peer reset raises SIGPIPE through libuv's write(); a load generator must
 * count that as a reset, not die. Only a default disposition is changed. */
static void ignore_sigpipe(void) {
  struct sigaction old;
  if (sigaction(SIGPIPE, NULL, &old) == 0 && old.sa_handler == SIG_DFL) signal(SIGPIPE, SIG_IGN);
}

int http_client_create(uv_loop_t *loop, const http_client_options *opt, http_client **out) {
  if (!loop || !out) return -EINVAL;
  http_client *c = calloc(1, sizeof *c);
  if (!c) return -ENOMEM;
  c->loop = loop;
  if (opt) c->opt = *opt;
  if (c->opt.backend < HTTP_AUTO || c->opt.backend > HTTP_CURL) c->opt.backend = HTTP_AUTO;
  c->proxy_env = proxy_in_env();
  c->tls_opt = (tls_options){.insecure = c->opt.insecure_tls, .ca_file = c->opt.tls_ca_file,
                             .cert_file = c->opt.tls_cert_file, .key_file = c->opt.tls_key_file};
  int rc = tls_ctx_create(&c->tls_opt, &c->tls);
  if (rc == 0) rc = http_h1_create(loop, c->tls, &c->h1);
  if (rc < 0) {
    tls_ctx_free(c->tls);
    free(c);
    return rc;
  }
  ignore_sigpipe();
  *out = c;
  return 0;
}

static void backend_closed(void *ud) {
  http_client *c = ud;
  if (--c->pending_closes > 0) return;
  void (*cb)(void *) = c->close_cb;
  void *cud = c->close_ud;
  tls_ctx_free(c->tls);
  free(c);
  if (cb) cb(cud);
}

void http_client_close(http_client *c, void (*close_cb)(void *ud), void *ud) {
  if (!c || c->closing) return;
  c->closing = 1;
  c->close_cb = close_cb;
  c->close_ud = ud;
  while (c->conns) http_conn_release(c->conns);
  c->pending_closes = 1 + (c->curl != NULL);
  if (c->curl) http_curl_close(c->curl, backend_closed, c);
  http_h1_close(c->h1, backend_closed, c);
}

int http_conn_create(http_client *c, http_conn **out) {
  if (!c || !out || c->closing) return -EINVAL;
  http_conn *conn = calloc(1, sizeof *conn);
  if (!conn) return -ENOMEM;
  conn->c = c;
  conn->next = c->conns;
  if (c->conns) c->conns->prev = conn;
  c->conns = conn;
  *out = conn;
  return 0;
}

void http_conn_release(http_conn *conn) {
  if (!conn) return;
  http_client *c = conn->c;
  if (conn->h1) http_h1_conn_release(conn->h1);
  if (conn->curl) http_curl_conn_release(conn->curl);
  if (conn->prev) conn->prev->next = conn->next;
  else c->conns = conn->next;
  if (conn->next) conn->next->prev = conn->prev;
  free(conn);
}

static int pick(const http_client *c, const http_request *req) {
  if (c->opt.backend == HTTP_CURL || req->max_redirects > 0 || !http_h1_supports(req->url)) return HTTP_CURL;
  if (c->opt.backend == HTTP_AUTO && c->proxy_env) return HTTP_CURL;
  return HTTP_H1;
}

static void on_done(void *ud, const http_response *res) {
  http_conn *conn = ud;
  conn->busy = 0;
  conn->done(conn, res, conn->ud);
}

static int send_curl(http_conn *conn, const http_request *req) {
  http_client *c = conn->c;
  int rc = 0;
  if (!c->curl) rc = http_curl_create(c->loop, &c->tls_opt, &c->curl);
  if (rc == 0 && !conn->curl) rc = http_curl_conn_create(c->curl, &conn->curl);
  return rc < 0 ? rc : http_curl_conn_send(conn->curl, req, on_done, conn);
}

static int send_h1(http_conn *conn, const http_request *req) {
  int rc = conn->h1 ? 0 : http_h1_conn_create(conn->c->h1, &conn->h1);
  return rc < 0 ? rc : http_h1_conn_send(conn->h1, req, on_done, conn);
}

int http_conn_preconnect(http_conn *conn, const char *url) {
  http_request probe = {.method = "GET", .url = url};
  if (!conn || !url || conn->busy) return -EINVAL;
  if (pick(conn->c, &probe) != HTTP_H1) return -ENOTSUP;
  int rc = conn->h1 ? 0 : http_h1_conn_create(conn->c->h1, &conn->h1);
  return rc < 0 ? rc : http_h1_conn_preconnect(conn->h1, url);
}

int http_conn_send(http_conn *conn, const http_request *req, http_done_cb done, void *ud) {
  if (!conn || !req || !req->url || !done) return -EINVAL;
  if (conn->busy) return -EBUSY;
  http_request r = *req;
  if (r.timeout_ms <= 0) r.timeout_ms = conn->c->opt.default_timeout_ms;
  int backend = pick(conn->c, &r);
  conn->done = done;
  conn->ud = ud;
  int rc = backend == HTTP_H1 ? send_h1(conn, &r) : send_curl(conn, &r);
  if (rc == 0) conn->last = backend, conn->busy = 1;
  return rc;
}

const char *http_backend_name(const http_conn *conn) {
  int b = conn ? conn->last : HTTP_AUTO;
  if (b == HTTP_AUTO && conn) b = conn->c->opt.backend == HTTP_CURL || conn->c->proxy_env ? HTTP_CURL : HTTP_H1;
  return b == HTTP_CURL ? "curl" : "h1";
}
