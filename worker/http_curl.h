/* http_curl.h - the libcurl backend behind worker/http: curl_multi_socket_action on the thread's uv
 * loop, for https, HTTP/2, redirects, proxies and anything http_h1 does not do. No curl types leak. */
#ifndef LOADCTL_HTTP_CURL_H
#define LOADCTL_HTTP_CURL_H

#include "worker/http.h"
#include "worker/tls.h"

typedef struct http_curl http_curl;           /* one CURLM + share + timer per loop */
typedef struct http_curl_conn http_curl_conn; /* one reused easy handle: connection + cookie jar */

/* Called exactly once per accepted request; res and what it points to are valid only during the call. */
typedef void (*http_curl_done_cb)(void *ud, const http_response *res);

/* Create on loop; tls (may be NULL, strings copied) says how certificates are checked and which client
 * certificate is sent, as for the h1 backend. Caller owns it: http_curl_close.
 * 0, -ENOMEM or -EIO (curl init failed). */
int http_curl_create(uv_loop_t *loop, const tls_options *tls, http_curl **out);
/* Cancel everything, close all handles; close_cb(ud) runs from the loop once all is freed. */
void http_curl_close(http_curl *h, void (*close_cb)(void *ud), void *ud);

/* New connections h's transfers made since it was created. */
int64_t http_curl_conns_opened(const http_curl *h);

int http_curl_conn_create(http_curl *h, http_curl_conn **out);
/* Release (pending request cancelled, callback not called); safe inside a done callback. */
void http_curl_conn_release(http_curl_conn *c);

/* Start req (strings copied). 0, -EBUSY, -EINVAL, -ENOMEM. Failures after return arrive as
 * res->error (enum stats_err), with curl's message in res->error_message. */
int http_curl_conn_send(http_curl_conn *c, const http_request *req, http_curl_done_cb done, void *ud);

/* The stats_err category of a CURLcode (exposed for tests). */
int http_curl_error_kind(int curl_code);

#endif
