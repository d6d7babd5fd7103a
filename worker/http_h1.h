/* http_h1.h - the lean HTTP/1.1 backend behind worker/http: one kept-alive uv_tcp connection per conn,
 * request bytes built once per request shape, responses parsed with libhttp-parser, https:// through
 * worker/tls (ALPN http/1.1). worker/http picks it (or http_curl) per request. */
#ifndef LOADCTL_HTTP_H1_H
#define LOADCTL_HTTP_H1_H

#include "worker/http.h"
#include "worker/tls.h"

typedef struct http_h1 http_h1;           /* one per loop; owns its conns and a shared read buffer */
typedef struct http_h1_conn http_h1_conn; /* one connection + cookie jar */

/* Called exactly once per accepted request; res and what it points to are valid only during the call. */
typedef void (*http_h1_done_cb)(void *ud, const http_response *res);

/* Create the backend on loop, with tls (not owned, must outlive the backend; NULL: no https://) for
 * https:// URLs; caller owns it and closes it with http_h1_close. 0 or -ENOMEM. */
int http_h1_create(uv_loop_t *loop, tls_ctx *tls, http_h1 **out);
/* Release every conn (pending requests cancelled, callbacks not called) and free the backend once all
 * handles are closed; close_cb(ud) runs then, from the loop. */
void http_h1_close(http_h1 *h, void (*close_cb)(void *ud), void *ud);

/* New conn owned by h; released with http_h1_conn_release (safe inside a done callback). */
int http_h1_conn_create(http_h1 *h, http_h1_conn **out);
void http_h1_conn_release(http_h1_conn *c);

/* Open c's connection to url's host and port ahead of its first request (the open model's pre-allocated
 * VUs), so that request carries no connect time. Nothing is reported: if it fails, the first request
 * connects again and reports that. 0, or -EINVAL for a conn in use or a URL h1 cannot take. */
int http_h1_conn_preconnect(http_h1_conn *c, const char *url);
/* Start req (strings copied). 0, -EBUSY (request in flight), -EINVAL (bad URL or method),
 * -EPROTONOSUPPORT (not http:// or https://). Failures after return arrive as res->error (enum stats_err):
 * a failed handshake or certificate check as STATS_ERR_TLS with OpenSSL's reason. */
int http_h1_conn_send(http_h1_conn *c, const http_request *req, http_h1_done_cb done, void *ud);

/* TCP connections h has established since it was created. */
int64_t http_h1_conns_opened(const http_h1 *h);

/* Nonzero when url is an http:// or https:// URL this backend can send. */
int http_h1_supports(const char *url);

#endif
