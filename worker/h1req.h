/* h1req.h - the h1 backend's request bytes: built once per request shape (method, URL, header names,
 * body) and patched in place when only header values change, with the Cookie header from the request's
 * jar (rebuilt when the jar changed or one of its cookies expired).
 * Plain data embedded in each h1 connection (http_h1.c), which owns it and frees it with h1req_free. */
#ifndef LOADCTL_H1REQ_H
#define LOADCTL_H1REQ_H

#include <stddef.h>

#include "worker/cookiejar.h"
#include "worker/http.h"

typedef struct h1req_buf {
  char *data;
  size_t len, cap;
} h1req_buf;

typedef struct h1req {
  h1req_buf bytes; /* the request as sent: request line, headers, cookies, body */
  h1req_buf key;   /* the shape they were built from: method, URL, header names and values */
  size_t key_nheaders, key_body_len;
  size_t *voff; /* where each header value sits in bytes, for patching */
  size_t voff_cap;
  int key_valid;
  cookiejar *jar;    /* the jar of the request built (not owned) */
  uint64_t jar_gen;  /* its generation then */
  int64_t jar_until; /* and its earliest cookie expiry (s): the Cookie header is right until then */
} h1req;

/* Where an absolute URL sends a request: pointers into the URL it was parsed from. */
typedef struct h1req_dest {
  const char *host; /* without the brackets of an IPv6 literal */
  size_t host_len;
  int port;             /* 80 or 443 when the URL names none */
  int tls;              /* https:// */
  const char *hostport; /* what goes into Host: the host as written, with its port if the URL names one */
  size_t hostport_len;
  const char *target; /* path and query ("/" when there are none); no fragment */
  size_t target_len;
} h1req_dest;

/* Parse an absolute http:// or https:// URL into *d. 0, -EINVAL (not a URL with a host), or
 * -EPROTONOSUPPORT (another scheme). */
int h1req_parse_url(const char *url, h1req_dest *d);
/* Append n bytes to b, growing it. 0 or -ENOMEM. */
int h1req_buf_add(h1req_buf *b, const void *data, size_t n);
/* 1 when q's bytes fit r (same method, URL, header names and body; header values equal or of equal
 * length and free of CR/LF, which are then patched in place), else 0 and r needs h1req_build. */
int h1req_reuse(h1req *q, const http_request *r);
/* The shape h1req_key_reuse compares: method, URL, header names and values, each NUL-terminated, in key.
 * 0 or -ENOMEM. (The h2 backend keeps its requests' shapes the same way.) */
int h1req_key_build(h1req_buf *key, const http_request *r);
/* key holds the shape of a request like r (same method, URL and header names; values of the same lengths):
 * r's values that differ (checked like h1req_build checks them) are copied into key and into bytes at
 * voff[i] (SIZE_MAX: header i is not in bytes), and 1 is returned; else 0 (r needs a full build). */
int h1req_key_reuse(h1req_buf *key, const http_request *r, char *bytes, const size_t *voff);
/* The cookie header built from jar (at its generation gen, right until its earliest expiry until, s) is
 * still what r's jar would send. (The h2 backend checks its requests' cookie headers the same way.) */
int h1req_cookies_current(const cookiejar *jar, uint64_t gen, int64_t until, const http_request *r);
/* Build r's bytes; target is its path and query, hostport what goes into Host. 0 or -ENOMEM. */
int h1req_build(h1req *q, const http_request *r, const char *target, size_t target_len, const char *hostport,
                size_t hostport_len);
/* A method or header name: a non-empty token without controls, spaces or ':'. */
int h1req_token_ok(const char *s);
/* A header value: no CR or LF (no header injection). */
int h1req_value_ok(const char *s);
/* Keep the cookie of a Set-Cookie value (line: "name=value; attributes", len bytes) of the response to
 * the request last built, in that request's jar. */
void h1req_set_cookie(h1req *q, const char *line, size_t len);
/* A new destination: the cached shape is dropped (the cookies stay in the VU's jar). */
void h1req_forget(h1req *q);
void h1req_free(h1req *q);

#endif
