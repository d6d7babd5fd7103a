/* h2req.h - one HTTP/2 request of the h2 backend as nghttp2 takes it: pseudo-headers, lower-cased
 * header names, connection-specific headers dropped, the VU's cookies, and the body behind a data
 * provider. Built once per request shape (method, URL, header names, body length) and patched in place
 * when only header values of the same lengths change (a new traceparent each request), like h1req.
 * Plain data embedded in each h2 conn (http_h2.c), which frees it with h2req_free. */
#ifndef LOADCTL_H2REQ_H
#define LOADCTL_H2REQ_H

#include <nghttp2/nghttp2.h>
#include <stddef.h>

#include "worker/h1req.h"
#include "worker/http.h"

typedef struct h2req {
  cookiejar *jar; /* the request's jar (not owned), for its response's Set-Cookie */
  h1req_buf url;  /* the request's URL, NUL-terminated: the origin those cookies came from */
  h1req_buf strs; /* names and values the nv array points into */
  nghttp2_nv *nv;
  size_t nnv, capnv;
  h1req_buf body; /* the request body, sent from body_off on */
  size_t body_off;
  int has_body;
  size_t bytes_out; /* header and body bytes of the request (before HPACK) */
  size_t trace_nv;  /* the index of traceparent in nv, SIZE_MAX when it has none */
  h1req_buf key;    /* the shape it was built from (h1req_key_build) */
  size_t key_nheaders, key_body_len;
  size_t *voff; /* where each request header's value sits in strs (SIZE_MAX: not sent), for patching */
  size_t voff_cap;
  int key_valid;
  uint64_t jar_gen;  /* the jar's generation when the cookie header was built */
  int64_t jar_until; /* and its earliest cookie expiry (s): the cookie header is right until then */
} h2req;

#define H2REQ_HOST_MAX 256    /* bytes of a host name, NUL included */
#define H2REQ_MAX_HEADERS 128 /* headers of one request */

typedef struct h2req_url { /* pointers into the URL parsed */
  int tls, port;
  const char *host, *authority, *path; /* host without brackets; authority as spelled; path up to '#' */
  size_t host_len, authority_len, path_len, prefix_len; /* prefix: "scheme://authority" */
} h2req_url;

/* Split an http:// or https:// URL. 0, -EPROTONOSUPPORT (another scheme) or -EINVAL (no host, bad port,
 * userinfo, a host of H2REQ_HOST_MAX bytes or more). */
int h2req_parse_url(const char *url, h2req_url *u);

/* Build r for scheme ("http" or "https"), authority ("host:port" as the URL spelled it) and path (with
 * query, fragment removed). 0, -ENOMEM, or -EINVAL (a bad method, header name or value). */
int h2req_build(h2req *q, const http_request *r, const char *scheme, const char *authority, size_t alen,
                const char *path, size_t plen);
/* 1 when q, as last built, fits r (same method, URL, header names and body length, the same cookies
 * from r's jar; header values of the same lengths are patched in and the body copied), else 0 and r
 * needs h2req_build. A reused request keeps the origin it was built for (the URL is the same). */
int h2req_reuse(h2req *q, const http_request *r);
/* Submit the built request on ng with stream_ud as its stream user data: the stream id, or a negative
 * nghttp2 error. traceparent (a new value each request) is a literal never indexed; with name_trace its
 * value is indexed this once, so that the session's HPACK table holds the name and the next requests send
 * it as an index (only the value as a literal). */
int32_t h2req_submit(h2req *q, nghttp2_session *ng, void *stream_ud, int name_trace);
/* Keep the cookie of a Set-Cookie value (len bytes) of the response to the request last built. */
void h2req_set_cookie(h2req *q, const char *value, size_t len);
void h2req_free(h2req *q);

#endif
