/* h2req.c - HTTP/2 request headers and body for nghttp2 (see h2req.h). */
#include "worker/h2req.h"

#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/clock.h"
#include "common/grow.h"

/* What a request header is to HTTP/2: an ordinary one, one it forbids (RFC 9113 8.2.2), Host (becomes
 * :authority), one whose default we add when it is missing, or traceparent (a new value every request:
 * sent as a literal never indexed, so it does not churn the HPACK tables of both ends; the first one on a
 * connection is indexed so that the later ones name it by index, h2req_submit). */
enum { H_PLAIN, H_DROP, H_HOST, H_UA, H_LEN, H_TRACE };

static int role(const char *n) {
  switch (n[0] | 0x20) {
    case 'c':
      return !strcasecmp(n, "connection") ? H_DROP : !strcasecmp(n, "content-length") ? H_LEN : H_PLAIN;
    case 'h':
      return !strcasecmp(n, "host") ? H_HOST : H_PLAIN;
    case 'k':
      return !strcasecmp(n, "keep-alive") ? H_DROP : H_PLAIN;
    case 'p':
      return !strcasecmp(n, "proxy-connection") ? H_DROP : H_PLAIN;
    case 't':
      return !strcasecmp(n, "traceparent") ? H_TRACE : !strcasecmp(n, "transfer-encoding") ? H_DROP : H_PLAIN;
    case 'u':
      return !strcasecmp(n, "user-agent") ? H_UA : !strcasecmp(n, "upgrade") ? H_DROP : H_PLAIN;
    default:
      return H_PLAIN;
  }
}

/* Append name (lower-cased) and value to strs, recording their offsets and lengths in nv. */
static int add_f(h2req *q, const char *name, size_t nl, const char *value, size_t vl, uint8_t flags) {
  if (q->nnv == q->capnv) {
    size_t cap = q->capnv ? q->capnv * 2 : 16;
    nghttp2_nv *nv = realloc(q->nv, cap * sizeof *nv);
    if (!nv) return -ENOMEM;
    q->nv = nv;
    q->capnv = cap;
  }
  size_t at = q->strs.len;
  if (h1req_buf_add(&q->strs, name, nl) || h1req_buf_add(&q->strs, value, vl)) return -ENOMEM;
  for (size_t i = at; i < at + nl; i++) q->strs.data[i] = (char)tolower((unsigned char)q->strs.data[i]);
  /* offsets for now: strs may move while it grows; h2req_build turns them into pointers at the end */
  q->nv[q->nnv++] = (nghttp2_nv){(uint8_t *)(uintptr_t)at, (uint8_t *)(uintptr_t)(at + nl), nl, vl, flags};
  q->bytes_out += nl + vl + 4;
  return 0;
}

static int add(h2req *q, const char *name, size_t nl, const char *value, size_t vl) {
  return add_f(q, name, nl, value, vl, NGHTTP2_NV_FLAG_NONE);
}

static int add_s(h2req *q, const char *name, const char *value) {
  return add(q, name, strlen(name), value, strlen(value));
}

static int64_t wall_s(void) {
  return clock_ns_to_whole_s(clock_wall_ns());
}

/* The cookie header from r's jar for r's URL; remembers jar and URL for the response's Set-Cookie, and
 * the jar's state the header reflects. */
static int add_cookies(h2req *q, const http_request *r) {
  const char *cookies;
  size_t len;
  q->jar = r->jar;
  q->url.len = 0;
  if (h1req_buf_add(&q->url, r->url, strlen(r->url) + 1)) return -ENOMEM;
  if (!r->jar) return 0;
  if (cookiejar_header(r->jar, r->url, wall_s(), &cookies, &len) < 0) return -ENOMEM;
  q->jar_gen = cookiejar_generation(r->jar);
  q->jar_until = cookiejar_next_expiry(r->jar);
  return len ? add(q, "cookie", 6, cookies, len) : 0;
}

void h2req_set_cookie(h2req *q, const char *value, size_t len) {
  if (q->jar && q->url.len) cookiejar_set(q->jar, q->url.data, value, len, wall_s());
}

/* The request's own headers (roles from h2req_build; where each value went in voff), the defaults it
 * lacks, and its cookies. */
static int add_headers(h2req *q, const http_request *r, const unsigned char *roles) {
  int rc = 0, has_ua = 0, has_len = 0;
  for (size_t i = 0; i < r->nheaders && rc == 0; i++) {
    const http_header *hd = &r->headers[i];
    size_t nl = strlen(hd->name);
    has_ua |= roles[i] == H_UA;
    has_len |= roles[i] == H_LEN;
    if (roles[i] == H_DROP || roles[i] == H_HOST) continue; /* Host's voff is :authority's (h2req_build) */
    q->voff[i] = q->strs.len + nl;
    if (roles[i] == H_TRACE) q->trace_nv = q->nnv;
    rc = add_f(q, hd->name, nl, hd->value, strlen(hd->value),
               roles[i] == H_TRACE ? NGHTTP2_NV_FLAG_NO_INDEX : NGHTTP2_NV_FLAG_NONE);
  }
  if (rc == 0 && !has_ua) rc = add_s(q, "user-agent", "loadctl/" LOADCTL_VERSION);
  int wants_len =
      r->body_len || !strcmp(r->method, "POST") || !strcmp(r->method, "PUT") || !strcmp(r->method, "PATCH");
  if (rc == 0 && wants_len && !has_len) {
    char cl[32];
    snprintf(cl, sizeof cl, "%zu", r->body_len);
    rc = add_s(q, "content-length", cl);
  }
  return rc ? rc : add_cookies(q, r);
}

int h2req_parse_url(const char *url, h2req_url *u) {
  memset(u, 0, sizeof *u);
  if (strncasecmp(url, "https://", 8) == 0)
    u->tls = 1;
  else if (strncasecmp(url, "http://", 7) != 0)
    return -EPROTONOSUPPORT;
  u->authority = url + (u->tls ? 8 : 7);
  u->authority_len = strcspn(u->authority, "/?#");
  const char *a = u->authority, *end = a + u->authority_len, *colon = NULL;
  if (*a == '[') { /* IPv6 literal */
    const char *rb = memchr(a, ']', u->authority_len);
    if (!rb) return -EINVAL;
    u->host = a + 1;
    u->host_len = (size_t)(rb - a - 1);
    if (rb + 1 < end && rb[1] == ':') colon = rb + 1;
  } else {
    colon = memchr(a, ':', u->authority_len);
    u->host = a;
    u->host_len = (size_t)((colon ? colon : end) - a);
  }
  u->port = u->tls ? 443 : 80;
  if (colon) {
    char *e;
    long p = strtol(colon + 1, &e, 10);
    if (e != end || p <= 0 || p > 65535) return -EINVAL;
    u->port = (int)p;
  }
  if (u->host_len == 0 || u->host_len >= H2REQ_HOST_MAX || memchr(a, '@', u->authority_len)) return -EINVAL;
  u->prefix_len = (size_t)(end - url);
  u->path = end;
  u->path_len = strcspn(end, "#");
  return 0;
}

/* The request body into q (a copy: the caller's goes when the request is submitted). 0 or -ENOMEM. */
static int add_body(h2req *q, const http_request *r) {
  q->body.len = q->body_off = 0;
  q->has_body = r->body_len > 0;
  return r->body_len && h1req_buf_add(&q->body, r->body, r->body_len) ? -ENOMEM : 0;
}

/* The headers of r checked, their roles into roles and each one's voff cleared; Host's value (or NULL)
 * and index in *host and *host_i. 0, -EINVAL or -ENOMEM. */
static int check_headers(h2req *q, const http_request *r, unsigned char *roles, const char **host,
                         size_t *host_i) {
  *host = NULL;
  if (!h1req_token_ok(r->method) || r->nheaders > H2REQ_MAX_HEADERS) return -EINVAL;
  if (grow_room(&q->voff, &q->voff_cap, r->nheaders, sizeof *q->voff, 8) < 0) return -ENOMEM;
  for (size_t i = 0; i < r->nheaders; i++) {
    if (!h1req_token_ok(r->headers[i].name) || !h1req_value_ok(r->headers[i].value)) return -EINVAL;
    roles[i] = (unsigned char)role(r->headers[i].name);
    q->voff[i] = SIZE_MAX;
    if (roles[i] == H_HOST) *host = r->headers[i].value, *host_i = i;
  }
  return 0;
}

int h2req_build(h2req *q, const http_request *r, const char *scheme, const char *authority, size_t alen,
                const char *path, size_t plen) {
  unsigned char roles[H2REQ_MAX_HEADERS];
  const char *host;
  size_t host_i = 0;
  q->strs.len = q->nnv = q->bytes_out = 0;
  q->trace_nv = SIZE_MAX;
  q->key_valid = 0;
  int rc = check_headers(q, r, roles, &host, &host_i);
  if (rc < 0) return rc;
  rc = add_s(q, ":method", r->method) | add_s(q, ":scheme", scheme);
  if (host) q->voff[host_i] = q->strs.len + 10; /* a Host value is :authority's */
  rc |= (host ? add_s(q, ":authority", host) : add(q, ":authority", 10, authority, alen)) |
        add(q, ":path", 5, plen ? path : "/", plen ? plen : 1);
  if (rc) return -ENOMEM;
  if ((rc = add_headers(q, r, roles)) < 0) return rc;
  for (size_t i = 0; i < q->nnv; i++) {
    q->nv[i].name = (uint8_t *)q->strs.data + (uintptr_t)q->nv[i].name;
    q->nv[i].value = (uint8_t *)q->strs.data + (uintptr_t)q->nv[i].value;
  }
  if (add_body(q, r) < 0 || h1req_key_build(&q->key, r) < 0) return -ENOMEM;
  q->bytes_out += r->body_len;
  q->key_nheaders = r->nheaders;
  q->key_body_len = r->body_len;
  q->key_valid = 1;
  return 0;
}

int h2req_reuse(h2req *q, const http_request *r) {
  if (!q->key_valid || q->key_nheaders != r->nheaders || q->key_body_len != r->body_len) return 0;
  if (!h1req_cookies_current(q->jar, q->jar_gen, q->jar_until, r) ||
      !h1req_key_reuse(&q->key, r, q->strs.data, q->voff)) {
    q->key_valid = 0; /* a value may be patched in already */
    return 0;
  }
  return add_body(q, r) == 0;
}

static ssize_t read_body(nghttp2_session *ng, int32_t id, uint8_t *buf, size_t len, uint32_t *flags,
                         nghttp2_data_source *src, void *ud) {
  h2req *q = src->ptr;
  size_t left = q->body.len - q->body_off;
  (void)ng, (void)id, (void)ud;
  if (len > left) len = left;
  memcpy(buf, q->body.data + q->body_off, len);
  q->body_off += len;
  if (q->body_off == q->body.len) *flags |= NGHTTP2_DATA_FLAG_EOF;
  return (ssize_t)len;
}

int32_t h2req_submit(h2req *q, nghttp2_session *ng, void *stream_ud, int name_trace) {
  nghttp2_data_provider prd = {.source.ptr = q, .read_callback = read_body};
  int trace = name_trace && q->trace_nv < q->nnv;
  q->body_off = 0;
  if (trace) q->nv[q->trace_nv].flags = NGHTTP2_NV_FLAG_NONE; /* the session copies nv: restored below */
  int32_t id = nghttp2_submit_request(ng, NULL, q->nv, q->nnv, q->has_body ? &prd : NULL, stream_ud);
  if (trace) q->nv[q->trace_nv].flags = NGHTTP2_NV_FLAG_NO_INDEX;
  return id;
}

void h2req_free(h2req *q) {
  free(q->key.data);
  free(q->voff);
  free(q->url.data);
  free(q->strs.data);
  free(q->nv);
  free(q->body.data);
  *q = (h2req){0};
}
