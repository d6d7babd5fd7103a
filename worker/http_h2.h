/* http_h2.h - the HTTP/2 backend behind worker/http, on nghttp2: the VUs of a thread share up to
 * `connections` HTTP/2 connections per origin and multiplex their requests as streams, one stream per
 * VU at a time. https:// negotiates h2 by ALPN, http:// speaks h2c with prior knowledge. A VU beyond the
 * server's SETTINGS_MAX_CONCURRENT_STREAMS waits for a stream, and the wait counts in its latency. */
#ifndef LOADCTL_HTTP_H2_H
#define LOADCTL_HTTP_H2_H

#include "worker/http.h"
#include "worker/tls.h"

typedef struct http_h2 http_h2;           /* one per loop; owns its origins, connections and conns */
typedef struct http_h2_conn http_h2_conn; /* one VU's stream slot and cookie jar */

/* Called exactly once per accepted request; res and what it points to are valid only during the call.
 * fallback is nonzero (and res carries nothing) when the origin answered TLS without h2 by ALPN and the
 * request was not forced to h2: the caller sends it again over HTTP/1.1. */
typedef void (*http_h2_done_cb)(void *ud, const http_response *res, int fallback);

typedef struct http_h2_options {
  int connections; /* HTTP/2 connections per origin (h2_connections); 0 = 1 */
  tls_ctx *tls;    /* for https:// origins; not owned; NULL = https:// fails with a tls error */
} http_h2_options;

/* Create the backend on loop; caller owns it and closes it with http_h2_close. 0 or -ENOMEM. */
int http_h2_create(uv_loop_t *loop, const http_h2_options *opt, http_h2 **out);
/* Connections h has established since it was created. */
int64_t http_h2_conns_opened(const http_h2 *h);
/* Release every conn (pending requests cancelled, callbacks not called), close every connection, and
 * free the backend once all handles are closed; close_cb(ud) runs then, from the loop. */
void http_h2_close(http_h2 *h, void (*close_cb)(void *ud), void *ud);

/* New conn owned by h; released with http_h2_conn_release (safe inside a done callback). */
int http_h2_conn_create(http_h2 *h, http_h2_conn **out);
void http_h2_conn_release(http_h2_conn *c);

/* Start req (strings copied). forced: the origin must speak h2 (no fallback; an https:// server that
 * does not pick h2 by ALPN fails the request as a protocol error). 0, -EBUSY (a request in flight),
 * -EINVAL (bad URL, method or header). Failures after return arrive as res->error (enum stats_err). */
/* Open the h2_connections connections to url's origin ahead of the first request (the open model's
 * pre-allocated VUs), so that no request waits for a connect or handshake. Idempotent: slots already
 * holding a connection keep it. 0, -ENOTSUP when the origin is known to refuse h2 (h1 carries it) or
 * https:// has no TLS context, -EINVAL for a URL h2 cannot take, -ENOMEM, -EIO. */
int http_h2_preconnect(http_h2 *h, const char *url);
int http_h2_conn_send(http_h2_conn *c, const http_request *req, int forced, http_h2_done_cb done, void *ud);

/* 1 when url's https:// origin is known to answer without h2 (its requests go to HTTP/1.1 at once), else
 * 0 (h2, or not known yet). */
int http_h2_origin_is_h1(http_h2 *h, const char *url);

/* Nonzero for an http:// or https:// URL. */
int http_h2_supports(const char *url);

#endif
