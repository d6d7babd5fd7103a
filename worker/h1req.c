/* h1req.c - the h1 backend's request bytes: built once per request shape and patched in place when
 * only header values change (a new traceparent per request costs a memcpy, not a rebuild). */
#include "worker/h1req.h"

#include <errno.h>
#include <http_parser.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/clock.h"
#include "common/grow.h"

int h1req_parse_url(const char *url, h1req_dest *d) {
  struct http_parser_url u;
  http_parser_url_init(&u);
  size_t ul = strlen(url);
  if (http_parser_parse_url(url, ul, 0, &u) || !(u.field_set & (1 << UF_HOST))) return -EINVAL;
  const char *scheme = url + u.field_data[UF_SCHEMA].off;
  size_t sl = u.field_data[UF_SCHEMA].len;
  if (sl == 5 && strncasecmp(scheme, "https", 5) == 0)
    d->tls = 1;
  else if (sl == 4 && strncasecmp(scheme, "http", 4) == 0)
    d->tls = 0;
  else
    return -EPROTONOSUPPORT;
  d->host = url + u.field_data[UF_HOST].off;
  d->host_len = u.field_data[UF_HOST].len;
  d->port = (u.field_set & (1 << UF_PORT)) ? u.port : d->tls ? 443 : 80;
  d->hostport = d->host;
  d->hostport_len = d->host_len;
  if (d->hostport > url && d->hostport[-1] == '[') d->hostport--, d->hostport_len += 2; /* IPv6 literal */
  if (u.field_set & (1 << UF_PORT)) d->hostport_len += 1 + u.field_data[UF_PORT].len;
  size_t t = ul, te = ul;
  if (u.field_set & (1 << UF_PATH))
    t = u.field_data[UF_PATH].off;
  else if (u.field_set & (1 << UF_QUERY))
    t = (size_t)u.field_data[UF_QUERY].off - 1;
  if (u.field_set & (1 << UF_FRAGMENT)) te = (size_t)u.field_data[UF_FRAGMENT].off - 1;
  d->target = url + t;
  d->target_len = te - t;
  return 0;
}

int h1req_buf_add(h1req_buf *b, const void *data, size_t n) {
  return grow_append(&b->data, &b->len, &b->cap, data, n, 256);
}

static int add_str(h1req_buf *b, const char *s) {
  return h1req_buf_add(b, s, strlen(s));
}

/* Step over s and its NUL in the stored shape, if that is what comes next. */
static int shape_eat(const char **p, const char *end, const char *s) {
  size_t n = strlen(s) + 1;
  if ((size_t)(end - *p) < n || memcmp(*p, s, n) != 0) return 0;
  *p += n;
  return 1;
}

/* Skip one stored header value if req's value has its length; *same says whether the bytes match. */
static int value_fits(const char **p, const char *end, const char *value, int *same) {
  size_t n = strlen(value);
  if ((size_t)(end - *p) < n + 1 || (*p)[n] != 0 || memchr(*p, 0, n)) return 0;
  *same = memcmp(*p, value, n) == 0;
  *p += n + 1;
  return 1;
}

static int64_t wall_s(void) {
  return clock_ns_to_whole_s(clock_wall_ns());
}

int h1req_cookies_current(const cookiejar *jar, uint64_t gen, int64_t until, const http_request *r) {
  if (r->jar != jar) return 0;
  if (!r->jar) return 1;
  return cookiejar_generation(r->jar) == gen && (until == INT64_MAX || wall_s() < until);
}

/* On 0, key and bytes may hold some of r's values already: the caller builds again. */
int h1req_key_reuse(h1req_buf *key, const http_request *r, char *bytes, const size_t *voff) {
  int same, patch = 0;
  const char *p = key->data, *end = p + key->len; /* no key yet is NULL: the callers check key_valid first */
  if (!shape_eat(&p, end, r->method) || !shape_eat(&p, end, r->url)) return 0;
  const char *values = p;
  for (size_t i = 0; i < r->nheaders; i++) {
    if (!shape_eat(&p, end, r->headers[i].name) || !value_fits(&p, end, r->headers[i].value, &same)) return 0;
    if (!same && !h1req_value_ok(r->headers[i].value)) return 0; /* the full check then refuses it */
    patch |= !same;
  }
  if (p != end) return 0;
  for (size_t i = 0; patch && i < r->nheaders; i++) {
    char *v = key->data + (values - key->data) + strlen(r->headers[i].name) + 1;
    size_t n = strlen(r->headers[i].value);
    if (memcmp(v, r->headers[i].value, n) != 0) {
      memcpy(v, r->headers[i].value, n);
      if (voff[i] != SIZE_MAX) memcpy(bytes + voff[i], r->headers[i].value, n);
    }
    values = v + n + 1;
  }
  return 1;
}

/* A fresh traceparent, say, has the length of the last one: it is patched in. */
int h1req_reuse(h1req *q, const http_request *r) {
  if (!q->key_valid || q->key_nheaders != r->nheaders || q->key_body_len != r->body_len) return 0;
  if (!h1req_cookies_current(q->jar, q->jar_gen, q->jar_until, r)) return 0;
  if (r->body_len && memcmp(q->bytes.data + q->bytes.len - r->body_len, r->body, r->body_len)) return 0;
  return h1req_key_reuse(&q->key, r, q->bytes.data, q->voff);
}

static int has_header(const http_request *r, const char *name) {
  for (size_t i = 0; i < r->nheaders; i++)
    if (strcasecmp(r->headers[i].name, name) == 0) return 1;
  return 0;
}

int h1req_key_build(h1req_buf *key, const http_request *r) {
  int rc = 0;
  key->len = 0;
  rc |= h1req_buf_add(key, r->method, strlen(r->method) + 1);
  rc |= h1req_buf_add(key, r->url, strlen(r->url) + 1);
  for (size_t i = 0; i < r->nheaders; i++) {
    rc |= h1req_buf_add(key, r->headers[i].name, strlen(r->headers[i].name) + 1);
    rc |= h1req_buf_add(key, r->headers[i].value, strlen(r->headers[i].value) + 1);
  }
  return rc ? -ENOMEM : 0;
}

/* The Cookie header from r's jar for r's URL; remembers the jar's state it reflects. */
static int add_cookies(h1req *q, const http_request *r) {
  const char *cookies;
  size_t len;
  int rc = 0;
  q->jar = r->jar;
  if (!r->jar) return 0;
  if (cookiejar_header(r->jar, r->url, wall_s(), &cookies, &len) < 0) return -ENOMEM;
  q->jar_gen = cookiejar_generation(r->jar);
  q->jar_until = cookiejar_next_expiry(r->jar);
  if (!len) return 0;
  rc |= add_str(&q->bytes, "Cookie: ");
  rc |= h1req_buf_add(&q->bytes, cookies, len);
  return rc | add_str(&q->bytes, "\r\n");
}

int h1req_build(h1req *q, const http_request *r, const char *target, size_t target_len, const char *hostport,
                size_t hostport_len) {
  int rc = 0;
  q->bytes.len = 0;
  rc |= add_str(&q->bytes, r->method);
  rc |= h1req_buf_add(&q->bytes, " ", 1);
  if (target_len == 0 || target[0] != '/') rc |= h1req_buf_add(&q->bytes, "/", 1);
  if (target_len) rc |= h1req_buf_add(&q->bytes, target, target_len);
  rc |= add_str(&q->bytes, " HTTP/1.1\r\n");
  if (!has_header(r, "Host")) {
    rc |= add_str(&q->bytes, "Host: ");
    rc |= h1req_buf_add(&q->bytes, hostport, hostport_len);
    rc |= add_str(&q->bytes, "\r\n");
  }
  if (!has_header(r, "User-Agent")) rc |= add_str(&q->bytes, "User-Agent: loadctl/" LOADCTL_VERSION "\r\n");
  if (!has_header(r, "Accept")) rc |= add_str(&q->bytes, "Accept: */*\r\n");
  if (r->nheaders > q->voff_cap) {
    size_t *v = realloc(q->voff, r->nheaders * sizeof *v);
    if (!v) return -ENOMEM;
    q->voff = v;
    q->voff_cap = r->nheaders;
  }
  for (size_t i = 0; i < r->nheaders; i++) {
    rc |= add_str(&q->bytes, r->headers[i].name);
    rc |= add_str(&q->bytes, ": ");
    q->voff[i] = q->bytes.len;
    rc |= add_str(&q->bytes, r->headers[i].value);
    rc |= add_str(&q->bytes, "\r\n");
  }
  rc |= add_cookies(q, r);
  int wants_len =
      r->body_len || !strcmp(r->method, "POST") || !strcmp(r->method, "PUT") || !strcmp(r->method, "PATCH");
  if (wants_len && !has_header(r, "Content-Length")) {
    char cl[48];
    snprintf(cl, sizeof cl, "Content-Length: %zu\r\n", r->body_len);
    rc |= add_str(&q->bytes, cl);
  }
  rc |= add_str(&q->bytes, "\r\n");
  if (r->body_len) rc |= h1req_buf_add(&q->bytes, r->body, r->body_len);
  rc = rc ? -ENOMEM : h1req_key_build(&q->key, r);
  q->key_nheaders = r->nheaders;
  q->key_body_len = r->body_len;
  q->key_valid = rc == 0;
  return rc;
}

int h1req_token_ok(const char *s) {
  if (!s || !*s) return 0;
  for (; *s; s++)
    if (*s <= ' ' || *s >= 127 || *s == ':') return 0;
  return 1;
}

int h1req_value_ok(const char *s) {
  return s && !strpbrk(s, "\r\n");
}

void h1req_set_cookie(h1req *q, const char *line, size_t len) {
  const char *url;
  if (!q->jar || !q->key_valid) return;
  url = q->key.data + strlen(q->key.data) + 1;     /* the key starts "METHOD\0URL\0" */
  cookiejar_set(q->jar, url, line, len, wall_s()); /* the next request sees the new generation */
}

void h1req_forget(h1req *q) {
  q->key_valid = 0;
}

void h1req_free(h1req *q) {
  free(q->bytes.data);
  free(q->key.data);
  free(q->voff);
  *q = (h1req){0};
}
