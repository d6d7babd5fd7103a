/* http.c - the dispatcher behind worker/http.h: one client per engine thread owning the backends and the
 * thread's TLS context, picking per request h2 (https:// origins that pick h2 by ALPN, or forced), h1
 * (http:// and the other https:// origins, no proxy in the environment) or curl (proxies, redirects). */
#include "worker/http.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/stats.h"
#include "worker/cookiejar.h"
#include "worker/h1req.h"
#include "worker/http_curl.h"
#include "worker/http_h1.h"
#include "worker/http_h2.h"
#include "worker/tls.h"

struct http_client {
  uv_loop_t *loop;
  http_client_options opt; /* its strings are tls's copies */
  tls_options tls_opt;
  tls_ctx *tls;
  int proxy_env; /* a proxy variable is set: AUTO sends everything through curl */
  http_h1 *h1;
  http_curl *curl; /* created on first use */
  http_h2 *h2;     /* created on first use */
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
  http_h2_conn *h2;
  h1req_buf copy;      /* the request while h2 may hand it back (an origin not known to speak h2 yet) */
  http_header *copy_h; /* its headers, pointing into copy */
  size_t copy_cap;
  http_request again;      /* the request as copied */
  cookiejar *jar;          /* owned; one per VU, shared by h1, h2 and curl */
  const http_conn *jar_of; /* http_conn_share_jar: use this conn's jar instead (NULL = own) */
  int last;                /* backend of the last request, HTTP_AUTO before the first */
  int busy;
  http_done_cb done;
  void *ud;
};

static int proxy_in_env(void) {
  static const char *const vars[] = {"http_proxy",  "HTTP_PROXY", "https_proxy",
                                     "HTTPS_PROXY", "all_proxy",  "ALL_PROXY"};
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
  if (c->opt.backend < HTTP_AUTO || c->opt.backend > HTTP_H2) c->opt.backend = HTTP_AUTO;
  c->proxy_env = proxy_in_env();
  c->tls_opt = (tls_options){.insecure = c->opt.insecure_tls,
                             .ca_file = c->opt.tls_ca_file,
                             .cert_file = c->opt.tls_cert_file,
                             .key_file = c->opt.tls_key_file};
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
  c->pending_closes = 1 + (c->curl != NULL) + (c->h2 != NULL);
  if (c->curl) http_curl_close(c->curl, backend_closed, c);
  if (c->h2) http_h2_close(c->h2, backend_closed, c);
  http_h1_close(c->h1, backend_closed, c);
}

int http_conn_create(http_client *c, http_conn **out) {
  if (!c || !out || c->closing) return -EINVAL;
  http_conn *conn = calloc(1, sizeof *conn);
  if (!conn || cookiejar_create(&conn->jar) < 0) {
    free(conn);
    return -ENOMEM;
  }
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
  if (conn->h2) http_h2_conn_release(conn->h2);
  free(conn->copy.data);
  free(conn->copy_h);
  cookiejar_free(conn->jar);
  if (conn->prev)
    conn->prev->next = conn->next;
  else
    c->conns = conn->next;
  if (conn->next) conn->next->prev = conn->prev;
  free(conn);
}

void http_conn_share_jar(http_conn *conn, const http_conn *owner) {
  conn->jar_of = owner;
}

static int is_https(const char *url) {
  return strncasecmp(url, "https://", 8) == 0;
}

/* The backend for req: curl for redirects and proxies; h2 when forced or for an https:// origin not
 * known to answer without h2; h1 for the rest. */
static int pick(const http_client *c, const http_request *req) {
  int b = c->opt.backend;
  if (b == HTTP_CURL || req->max_redirects > 0 || req->auth_digest || (b == HTTP_AUTO && c->proxy_env))
    return HTTP_CURL;
  if (b == HTTP_H2 && http_h2_supports(req->url)) return HTTP_H2;
  if (b == HTTP_AUTO && is_https(req->url) && !(c->h2 && http_h2_origin_is_h1(c->h2, req->url)))
    return HTTP_H2;
  return http_h1_supports(req->url) ? HTTP_H1 : HTTP_CURL;
}

static void on_done(void *ud, const http_response *res) {
  http_conn *conn = ud;
  conn->busy = 0;
  conn->done(conn, res, conn->ud);
}

static int send_h1(http_conn *conn, const http_request *req);
static int send_curl(http_conn *conn, const http_request *req);

/* h2 handed the request back (the origin picked http/1.1 by ALPN): send the copy over HTTP/1.1. */
static void on_done_h2(void *ud, const http_response *res, int fallback) {
  http_conn *conn = ud;
  if (!fallback) {
    on_done(ud, res);
    return;
  }
  http_request *r = &conn->again;
  int backend = http_h1_supports(r->url) ? HTTP_H1 : HTTP_CURL;
  int rc = backend == HTTP_H1 ? send_h1(conn, r) : send_curl(conn, r);
  if (rc == 0) {
    conn->last = backend;
    return;
  }
  http_response err = {.error = STATS_ERR_OTHER, .sent_ns = res->sent_ns, .done_ns = res->done_ns};
  snprintf(err.error_message, sizeof err.error_message, "HTTP/1.1 after ALPN: %s", strerror(-rc));
  on_done(ud, &err);
}

/* Keep a copy of req in conn (strings included) for on_done_h2. 0 or -ENOMEM. */
static int copy_request(http_conn *conn, const http_request *req) {
  h1req_buf *b = &conn->copy;
  size_t off[2 * 64 + 3], n = 0;
  if (req->nheaders > 64) return -ENOMEM;
  if (req->nheaders > conn->copy_cap) {
    http_header *hs = realloc(conn->copy_h, req->nheaders * sizeof *hs);
    if (!hs) return -ENOMEM;
    conn->copy_h = hs;
    conn->copy_cap = req->nheaders;
  }
  b->len = 0;
  const char *strs[2 * 64 + 2] = {req->method, req->url};
  for (size_t i = 0; i < req->nheaders; i++)
    strs[2 + 2 * i] = req->headers[i].name, strs[3 + 2 * i] = req->headers[i].value;
  for (n = 0; n < 2 + 2 * req->nheaders; n++) {
    off[n] = b->len;
    if (h1req_buf_add(b, strs[n], strlen(strs[n]) + 1)) return -ENOMEM;
  }
  off[n] = b->len;
  if (req->body_len && h1req_buf_add(b, req->body, req->body_len)) return -ENOMEM;
  conn->again = *req;
  conn->again.method = b->data + off[0];
  conn->again.url = b->data + off[1];
  for (size_t i = 0; i < req->nheaders; i++)
    conn->copy_h[i] = (http_header){b->data + off[2 + 2 * i], b->data + off[3 + 2 * i]};
  conn->again.headers = conn->copy_h;
  conn->again.body = req->body_len ? b->data + off[n] : NULL;
  return 0;
}

/* The thread's h2 backend, created on first use. 0 or -errno. */
static int h2_backend(http_client *c) {
  http_h2_options o = {.connections = c->opt.h2_connections, .tls = c->tls};
  return c->h2 ? 0 : http_h2_create(c->loop, &o, &c->h2);
}

static int send_h2(http_conn *conn, const http_request *req) {
  http_client *c = conn->c;
  int rc = h2_backend(c), forced = c->opt.backend == HTTP_H2;
  if (rc == 0 && !conn->h2) rc = http_h2_conn_create(c->h2, &conn->h2);
  if (rc == 0 && !forced && is_https(req->url)) rc = copy_request(conn, req);
  return rc < 0 ? rc : http_h2_conn_send(conn->h2, req, forced, on_done_h2, conn);
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
  int backend = pick(conn->c, &probe), rc;
  if (backend == HTTP_H2) /* the origin's shared connections, not one of the VU's own */
    return (rc = h2_backend(conn->c)) < 0 ? rc : http_h2_preconnect(conn->c->h2, url);
  if (backend != HTTP_H1) return -ENOTSUP;
  rc = conn->h1 ? 0 : http_h1_conn_create(conn->c->h1, &conn->h1);
  return rc < 0 ? rc : http_h1_conn_preconnect(conn->h1, url);
}

int http_conn_send(http_conn *conn, const http_request *req, http_done_cb done, void *ud) {
  if (!conn || !req || !req->url || !done) return -EINVAL;
  if (conn->busy) return -EBUSY;
  http_request r = *req;
  if (r.timeout_ms <= 0) r.timeout_ms = conn->c->opt.default_timeout_ms;
  r.jar = conn->jar_of ? conn->jar_of->jar : conn->jar;
  int backend = pick(conn->c, &r);
  conn->done = done;
  conn->ud = ud;
  int rc = backend == HTTP_H1   ? send_h1(conn, &r)
           : backend == HTTP_H2 ? send_h2(conn, &r)
                                : send_curl(conn, &r);
  if (rc == 0) conn->last = backend, conn->busy = 1;
  return rc;
}

static int64_t non_negative(int64_t v) {
  return v > 0 ? v : 0;
}

void http_response_settle(http_response *r) {
  r->connect_ns = non_negative(r->connect_ns);
  r->tls_ns = non_negative(r->tls_ns);
  r->sending_ns = non_negative(r->sending_ns);
  r->waiting_ns = non_negative(r->waiting_ns);
  r->receiving_ns = non_negative(r->receiving_ns);
  r->blocked_ns = non_negative(r->done_ns - r->sent_ns - r->connect_ns - r->tls_ns - r->sending_ns -
                               r->waiting_ns - r->receiving_ns);
}

int64_t http_client_conns_opened(const http_client *c) {
  int64_t n = http_h1_conns_opened(c->h1);
  if (c->h2) n += http_h2_conns_opened(c->h2);
  if (c->curl) n += http_curl_conns_opened(c->curl);
  return n;
}

const char *http_backend_name(const http_conn *conn) {
  int b = conn ? conn->last : HTTP_AUTO;
  if (b == HTTP_AUTO && conn)
    b = conn->c->opt.backend == HTTP_CURL || conn->c->proxy_env ? HTTP_CURL : HTTP_H1;
  return b == HTTP_CURL ? "curl" : b == HTTP_H2 ? "h2" : "h1";
}
