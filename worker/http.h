/* http.h - the narrow HTTP client interface the VUs use: one request in, status/headers/body/timings
 * out by callback, on the calling thread's uv loop. Three backends live behind it: http_curl (libcurl on
 * curl_multi_socket_action, for everything), http_h1 (our lean HTTP/1.1 client, http:// and https://)
 * and http_h2 (nghttp2; VUs multiplexed as streams). No curl, nghttp2 or http-parser types cross this
 * header. */
#ifndef LOADCTL_HTTP_H
#define LOADCTL_HTTP_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

typedef struct http_client http_client; /* one per engine thread; owns its backends */
typedef struct http_conn http_conn;     /* one per VU: its kept-alive connection(s) and its cookie jar, which
                                         * every backend the VU's requests go through shares */

enum http_backend { HTTP_AUTO = 0, HTTP_H1, HTTP_CURL, HTTP_H2 };

typedef struct http_header {
  const char *name;
  const char *value;
} http_header;

typedef struct http_request {
  const char *method; /* "GET" */
  const char *url;    /* absolute, "http://127.0.0.1:8080/api/books?page=2" */
  const http_header *headers;
  size_t nheaders;
  const char *body; /* may be NULL */
  size_t body_len;
  int64_t timeout_ms;         /* whole request; 0 = default 30 s */
  int64_t connect_timeout_ms; /* 0 = default 10 s */
  size_t max_body;            /* bytes of body kept for the script; 0 = discard (still counted) */
  int64_t now_ns;             /* clock_mono_ns of the call when the caller has it (one clock read fewer); 0 */
  int max_redirects;          /* follow up to this many redirects (curl only: AUTO then picks curl);
                                 0 = don't follow, the 3xx is the response (like wrk) */
  const char *auth_user; /* with auth_digest: HTTP digest authentication (RFC 7616) by curl, which answers
                            the server's 401 challenge (AUTO then picks curl); NULL = none */
  const char *auth_password;
  int auth_digest;
  struct cookiejar *jar; /* the VU's cookies (worker/cookiejar.h): sent with the request, Set-Cookie kept
                            in it; http_conn_send sets it to the conn's own jar; NULL = no cookies */
} http_request;

typedef struct http_response {
  int status; /* 0 when no HTTP response arrived */
  int error;  /* enum stats_err kind of a transport failure, STATS_ERR_NONE (0) when none; a failure has
               * error != 0 (curl may fail after the status line, e.g. a reset body) */
  char error_message[256];
  const char *headers_raw; /* "Name: value\r\n" lines, valid only during the callback */
  size_t headers_len;
  const char *body; /* first max_body bytes, valid only during the callback */
  size_t body_len;
  uint64_t bytes_in, bytes_out;
  int64_t sent_ns; /* clock_mono_ns when the first byte was written (or connect began) */
  int64_t done_ns; /* clock_mono_ns when the response was complete (or failed) */
  int64_t ttfb_ns; /* sent -> first response byte */
  /* k6's breakdown of done_ns - sent_ns, which the six add up to (http_response_settle): */
  int64_t blocked_ns;   /* before connecting: name lookup, waiting for a connection to close or open */
  int64_t connect_ns;   /* TCP connect (0 if reused) */
  int64_t tls_ns;       /* TLS handshake (0 if none/reused) */
  int64_t sending_ns;   /* writing the request (curl: counted in waiting) */
  int64_t waiting_ns;   /* request written -> first response byte */
  int64_t receiving_ns; /* first response byte -> last */
} http_response;

typedef void (*http_done_cb)(http_conn *conn, const http_response *res, void *ud);

typedef struct http_client_options {
  int backend;               /* enum http_backend; AUTO = h2 for https:// origins that pick h2 by ALPN, h1 for
                                http:// and the other https:// ones, curl with a proxy or for redirects; H2 forces
                                h2 (h2c by prior knowledge for http://) */
  int h2_connections;        /* HTTP/2 connections per origin shared by the thread's VUs; 0 = 1 */
  int insecure_tls;          /* skip certificate checks (tests with self-signed certs) */
  const char *tls_ca_file;   /* PEM bundle the server's certificate is checked against; NULL = system */
  const char *tls_cert_file; /* client certificate (PEM) for mTLS; NULL = none */
  const char
      *tls_key_file; /* its key (PEM); NULL = in tls_cert_file. These strings must outlive the client */
  int64_t default_timeout_ms;
} http_client_options;

/* Create a client on loop; owned by caller, close with http_client_close (async: loop must run
 * until close_cb). 0 or negative errno. */
int http_client_create(uv_loop_t *loop, const http_client_options *opt, http_client **out);
void http_client_close(http_client *c, void (*close_cb)(void *ud), void *ud);

/* One connection context per VU (keep-alive, cookie jar). Owned by the client; released with
 * http_conn_release (pending request is cancelled, its callback not called). */
int http_conn_create(http_client *c, http_conn **out);
void http_conn_release(http_conn *conn);

/* Send conn's requests with owner's cookie jar (a VU's extra connections, http.batch); owner must outlive
 * conn's requests. */
void http_conn_share_jar(http_conn *conn, const http_conn *owner);

/* Start req on conn (one at a time per conn). The request struct and its strings are copied before
 * return. done is called exactly once, later, on the loop thread. 0 or negative errno (-EBUSY when
 * the conn already has a request in flight). */
int http_conn_send(http_conn *conn, const http_request *req, http_done_cb done, void *ud);

/* Open conn's connection to url's host ahead of the first request (the open model's pre-allocated VUs,
 * so their first requests pay no connect): h1, the VU's own; h2, the h2_connections the thread's VUs
 * share for that origin (opened once, by the first VU that asks). 0 when started, -ENOTSUP when the
 * request would go through curl (which connects on the first request), else -errno. */
int http_conn_preconnect(http_conn *conn, const char *url);

/* Connections the client's backends have opened since it was created (each interval's new ones, per
 * second, are in intervals.jsonl). */
int64_t http_client_conns_opened(const http_client *c);

/* For backends: set r->blocked_ns to what connect, TLS, sending, waiting and receiving leave of
 * done_ns - sent_ns (none of them negative), so that the six add up. */
void http_response_settle(http_response *r);

/* Which backend the last request used ("h1", "h2" or "curl"), for reports. */
const char *http_backend_name(const http_conn *conn);

#endif
