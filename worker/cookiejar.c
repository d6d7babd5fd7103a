/* cookiejar.c - RFC 6265 section 5 for one VU: parsing Set-Cookie (5.2), storing (5.3) with browser
 * limits, and choosing the cookies of a request (5.4). Cookies live in one array, scanned per request:
 * a VU holds tens of cookies, rarely more. */
#include "worker/cookiejar.h"
#include "common/grow.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define HOST_MAX 256
#define PATH_MAX_BYTES 1024 /* a Path attribute longer than this is ignored (RFC 6265bis) */

typedef struct cookie {
  char *name, *value, *domain, *path; /* one allocation, owned: name\0value\0domain\0path\0 */
  int64_t expiry_s;                   /* INT64_MAX: a session cookie */
  uint64_t created, used;             /* jar clock ticks: creation order and last use (for eviction) */
  int host_only, secure;
} cookie;

struct cookiejar {
  cookie *items;
  size_t n, cap;
  uint64_t gen, clock;
  char *hdr; /* the last Cookie header value */
  size_t hdr_cap;
  cookie **pick; /* the cookies of the last header, sorted */
  size_t pick_cap;
};

typedef struct url_parts {
  int secure;
  char host[HOST_MAX]; /* lower case; an IPv6 literal keeps its brackets */
  const char *path;    /* "/a/b" up to '?' or '#'; "/" when the URL has none */
  size_t path_len;
} url_parts;

int cookiejar_create(cookiejar **out) {
  *out = calloc(1, sizeof **out);
  return *out ? 0 : -ENOMEM;
}

void cookiejar_free(cookiejar *j) {
  if (!j) return;
  for (size_t i = 0; i < j->n; i++) free(j->items[i].name);
  free(j->items);
  free(j->hdr);
  free(j->pick);
  free(j);
}

uint64_t cookiejar_generation(const cookiejar *j) {
  return j->gen;
}

size_t cookiejar_count(const cookiejar *j) {
  return j->n;
}

int64_t cookiejar_next_expiry(const cookiejar *j) {
  int64_t next = INT64_MAX;
  for (size_t i = 0; i < j->n; i++)
    if (j->items[i].expiry_s < next) next = j->items[i].expiry_s;
  return next;
}

/* ---- URLs, domains, paths ---- */

static int parse_url(const char *url, url_parts *u) {
  const char *p, *end, *host, *host_end;
  if (!strncasecmp(url, "https://", 8))
    u->secure = 1, p = url + 8;
  else if (!strncasecmp(url, "http://", 7))
    u->secure = 0, p = url + 7;
  else
    return -EINVAL;
  end = p + strcspn(p, "/?#");
  host = p;
  for (const char *q = p; q < end; q++)
    if (*q == '@') host = q + 1; /* user:password@ */
  if (*host == '[') {
    host_end = memchr(host, ']', (size_t)(end - host));
    host_end = host_end ? host_end + 1 : end;
  } else {
    host_end = host + strcspn(host, ":/?#");
  }
  if (host_end > end) host_end = end;
  size_t hl = (size_t)(host_end - host);
  if (hl == 0 || hl >= sizeof u->host) return -EINVAL;
  for (size_t i = 0; i < hl; i++) u->host[i] = (char)tolower((unsigned char)host[i]);
  u->host[hl] = 0;
  if (*end == '/')
    u->path = end, u->path_len = strcspn(end, "?#");
  else
    u->path = "/", u->path_len = 1;
  return 0;
}

static int is_ip(const char *host) {
  struct in_addr a4;
  return host[0] == '[' || strchr(host, ':') || inet_pton(AF_INET, host, &a4) == 1;
}

/* 5.1.3: host is domain, or ends in "." + domain and is a name, not an IP address. */
static int domain_match(const char *host, const char *domain) {
  size_t hl = strlen(host), dl = strlen(domain);
  if (hl == dl) return memcmp(host, domain, hl) == 0;
  return hl > dl && host[hl - dl - 1] == '.' && memcmp(host + hl - dl, domain, dl) == 0 && !is_ip(host);
}

/* 5.1.4: the request path is the cookie path, or below it. */
static int path_match(const char *req, size_t req_len, const char *path) {
  size_t pl = strlen(path);
  if (pl > req_len || memcmp(req, path, pl) != 0) return 0;
  return pl == req_len || path[pl - 1] == '/' || req[pl] == '/';
}

/* 5.1.4's default-path into buf: the request path up to (not including) its last '/', or "/". */
static void default_path(const url_parts *u, char *buf, size_t size) {
  size_t n = u->path_len;
  while (n > 0 && u->path[n - 1] != '/') n--;
  if (n <= 1 || n > size) {
    memcpy(buf, "/", 2);
    return;
  }
  memcpy(buf, u->path, n - 1);
  buf[n - 1] = 0;
}

/* ---- cookie-date (5.1.1) ---- */

static int is_delim(unsigned char c) {
  return c == 0x09 || (c >= 0x20 && c <= 0x2F) || (c >= 0x3B && c <= 0x40) || (c >= 0x5B && c <= 0x60) ||
         (c >= 0x7B && c <= 0x7E);
}

/* min..max digits at *p into *v, then not a digit; advances *p. */
static int digits(const char **p, int min, int max, int *v) {
  int n = 0;
  *v = 0;
  while (n < max && isdigit((unsigned char)(*p)[n])) *v = *v * 10 + ((*p)[n] - '0'), n++;
  if (n < min || isdigit((unsigned char)(*p)[n])) return 0;
  *p += n;
  return 1;
}

static int hms(const char *tok, int *h, int *m, int *s) {
  const char *p = tok;
  return digits(&p, 1, 2, h) && *p++ == ':' && digits(&p, 1, 2, m) && *p++ == ':' && digits(&p, 1, 2, s);
}

static int month_of(const char *tok) {
  static const char names[] = "janfebmaraprmayjunjulaugsepoctnovdec";
  if (strlen(tok) < 3) return 0;
  for (int m = 0; m < 12; m++)
    if (!strncasecmp(tok, names + 3 * m, 3)) return m + 1;
  return 0;
}

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian; Hinnant's days_from_civil). */
static int64_t days_from_civil(int64_t y, int m, int d) {
  y -= m <= 2;
  int64_t era = (y >= 0 ? y : y - 399) / 400, yoe = y - era * 400;
  int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1, doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

int cookiejar_parse_date(const char *text, size_t len, int64_t *out_s) {
  int h = -1, mi = 0, s = 0, day = -1, month = 0, year = -1, v;
  char tok[64];
  size_t i = 0;
  while (i < len) {
    while (i < len && is_delim((unsigned char)text[i])) i++;
    size_t start = i;
    while (i < len && !is_delim((unsigned char)text[i])) i++;
    if (i == start || i - start >= sizeof tok) continue;
    memcpy(tok, text + start, i - start);
    tok[i - start] = 0;
    const char *p = tok;
    int th, tm, ts, m;
    if (h < 0 && hms(tok, &th, &tm, &ts))
      h = th, mi = tm, s = ts;
    else if (day < 0 && digits(&p, 1, 2, &v))
      day = v;
    else if (!month && (m = month_of(tok)) != 0)
      month = m;
    else if (year < 0 && (p = tok, digits(&p, 2, 4, &v)))
      year = v;
  }
  if (year >= 70 && year <= 99)
    year += 1900;
  else if (year >= 0 && year <= 69)
    year += 2000;
  if (h < 0 || day < 1 || day > 31 || !month || year < 1601 || h > 23 || mi > 59 || s > 59) return -EINVAL;
  *out_s = days_from_civil(year, month, day) * 86400 + h * 3600 + mi * 60 + s;
  return 0;
}

/* ---- Set-Cookie (5.2) ---- */

typedef struct parsed {
  const char *name, *value;
  size_t name_len, value_len;
  char domain[HOST_MAX];
  char path[PATH_MAX_BYTES + 1];
  int secure, has_max_age, has_expires;
  int64_t max_age_expiry, expires;
} parsed;

/* [*s, *e) without leading and trailing spaces and tabs. */
static void trim(const char **s, const char **e) {
  while (*s < *e && (**s == ' ' || **s == '\t')) (*s)++;
  while (*e > *s && ((*e)[-1] == ' ' || (*e)[-1] == '\t')) (*e)--;
}

static void max_age(parsed *c, const char *v, size_t n, int64_t now_s) {
  int64_t delta = 0;
  size_t i = v[0] == '-';
  if (n == 0 || i == n) return;
  for (; i < n; i++) {
    if (!isdigit((unsigned char)v[i])) return;
    if (delta < INT64_MAX / 20) delta = delta * 10 + (v[i] - '0');
  }
  c->has_max_age = 1;
  c->max_age_expiry = v[0] == '-' || delta == 0 ? INT64_MIN : now_s + delta;
}

/* One attribute "key=value" (5.2.1-5.2.6); unknown ones are ignored. */
static void attribute(parsed *c, const char *k, size_t kl, const char *v, size_t vl, int64_t now_s) {
  if (kl == 7 && !strncasecmp(k, "expires", 7)) {
    c->has_expires = cookiejar_parse_date(v, vl, &c->expires) == 0 || c->has_expires;
  } else if (kl == 7 && !strncasecmp(k, "max-age", 7)) {
    max_age(c, v, vl, now_s);
  } else if (kl == 6 && !strncasecmp(k, "domain", 6) && vl > 0) {
    if (*v == '.') v++, vl--;
    if (vl == 0 || vl >= sizeof c->domain) return;
    for (size_t i = 0; i < vl; i++) c->domain[i] = (char)tolower((unsigned char)v[i]);
    c->domain[vl] = 0;
  } else if (kl == 4 && !strncasecmp(k, "path", 4)) {
    if (vl == 0 || *v != '/' || vl > PATH_MAX_BYTES)
      c->path[0] = 0; /* the default path then */
    else
      memcpy(c->path, v, vl), c->path[vl] = 0;
  } else if (kl == 6 && !strncasecmp(k, "secure", 6)) {
    c->secure = 1;
  }
}

static int parse_set_cookie(const char *text, size_t len, int64_t now_s, parsed *c) {
  const char *end = memchr(text, ';', len), *eq;
  if (!end) end = text + len;
  memset(c, 0, sizeof *c);
  if (!(eq = memchr(text, '=', (size_t)(end - text)))) return -EINVAL;
  const char *ns = text, *ne = eq, *vs = eq + 1, *ve = end;
  trim(&ns, &ne);
  trim(&vs, &ve);
  c->name = ns, c->name_len = (size_t)(ne - ns), c->value = vs, c->value_len = (size_t)(ve - vs);
  if (c->name_len == 0 || c->name_len + c->value_len > COOKIEJAR_MAX_BYTES) return -EINVAL;
  while (end < text + len) {
    const char *as = end + 1, *ae = memchr(as, ';', (size_t)(text + len - as)), *aeq;
    if (!ae) ae = text + len;
    aeq = memchr(as, '=', (size_t)(ae - as));
    const char *ks = as, *ke = aeq ? aeq : ae, *avs = aeq ? aeq + 1 : ae, *ave = ae;
    trim(&ks, &ke);
    trim(&avs, &ave);
    attribute(c, ks, (size_t)(ke - ks), avs, (size_t)(ave - avs), now_s);
    end = ae;
  }
  return 0;
}

/* ---- storage (5.3) ---- */

static void drop(cookiejar *j, size_t i) {
  free(j->items[i].name);
  j->items[i] = j->items[--j->n];
  j->gen++;
}

static size_t find(const cookiejar *j, const parsed *c, const char *domain, const char *path) {
  for (size_t i = 0; i < j->n; i++) {
    const cookie *k = &j->items[i];
    if (strlen(k->name) == c->name_len && !memcmp(k->name, c->name, c->name_len) &&
        !strcmp(k->domain, domain) && !strcmp(k->path, path))
      return i;
  }
  return j->n;
}

/* Make room for one more cookie of domain: expired ones go first, then the least recently used (of
 * that domain when it is full, else of the jar). */
static void make_room(cookiejar *j, const char *domain, int64_t now_s) {
  size_t same = 0, victim = j->n, victim_same = j->n;
  for (size_t i = j->n; i > 0; i--)
    if (j->items[i - 1].expiry_s <= now_s) drop(j, i - 1);
  for (size_t i = 0; i < j->n; i++) {
    int mine = !strcmp(j->items[i].domain, domain);
    same += mine;
    if (victim == j->n || j->items[i].used < j->items[victim].used) victim = i;
    if (mine && (victim_same == j->n || j->items[i].used < j->items[victim_same].used)) victim_same = i;
  }
  if (same >= COOKIEJAR_MAX_PER_DOMAIN)
    drop(j, victim_same);
  else if (j->n >= COOKIEJAR_MAX)
    drop(j, victim);
}

/* Fill k's one allocation from c; 0 or -ENOMEM. */
static int fill(cookie *k, const parsed *c, const char *domain, const char *path) {
  size_t dl = strlen(domain), pl = strlen(path);
  char *mem = malloc(c->name_len + c->value_len + dl + pl + 4);
  if (!mem) return -ENOMEM;
  free(k->name);
  k->name = mem;
  memcpy(k->name, c->name, c->name_len), k->name[c->name_len] = 0;
  k->value = k->name + c->name_len + 1;
  memcpy(k->value, c->value, c->value_len), k->value[c->value_len] = 0;
  k->domain = k->value + c->value_len + 1;
  memcpy(k->domain, domain, dl + 1);
  k->path = k->domain + dl + 1;
  memcpy(k->path, path, pl + 1);
  return 0;
}

static int store(cookiejar *j, const parsed *c, const char *domain, const char *path, int host_only,
                 int64_t expiry, int64_t now_s) {
  size_t i = find(j, c, domain, path);
  if (i == j->n) {
    make_room(j, domain, now_s);
    if (grow_room(&j->items, &j->cap, j->n + 1, sizeof *j->items, 8) < 0) return -ENOMEM;
    i = j->n;
    memset(&j->items[i], 0, sizeof j->items[i]);
    j->items[i].created = ++j->clock;
  }
  if (fill(&j->items[i], c, domain, path) < 0) return -ENOMEM; /* a stored cookie stays as it was */
  if (i == j->n) j->n++;
  j->items[i].expiry_s = expiry;
  j->items[i].host_only = host_only;
  j->items[i].secure = c->secure;
  j->items[i].used = ++j->clock;
  j->gen++;
  return 1;
}

int cookiejar_set(cookiejar *j, const char *url, const char *text, size_t len, int64_t now_s) {
  url_parts u;
  parsed c;
  char path[PATH_MAX_BYTES + 1];
  const char *domain;
  if (parse_url(url, &u) < 0 || parse_set_cookie(text, len, now_s, &c) < 0) return 0;
  int host_only = c.domain[0] == 0;
  if (!host_only && !domain_match(u.host, c.domain)) return 0; /* 5.3 step 6 */
  if (!host_only && !strchr(c.domain, '.')) { /* a single label, as a public suffix: only its own host */
    if (strcmp(c.domain, u.host) != 0) return 0;
    host_only = 1;
  }
  domain = host_only ? u.host : c.domain;
  if (c.path[0])
    memcpy(path, c.path, strlen(c.path) + 1);
  else
    default_path(&u, path, sizeof path);
  int64_t expiry = c.has_max_age ? c.max_age_expiry : c.has_expires ? c.expires : INT64_MAX;
  if (expiry <= now_s) { /* an expiry in the past: the server deletes the cookie */
    size_t i = find(j, &c, domain, path);
    if (i == j->n) return 0;
    drop(j, i);
    return 1;
  }
  return store(j, &c, domain, path, host_only, expiry, now_s);
}

/* ---- Cookie header (5.4) ---- */

static int by_path_then_age(const void *a, const void *b) {
  const cookie *x = *(cookie *const *)a, *y = *(cookie *const *)b;
  size_t xl = strlen(x->path), yl = strlen(y->path);
  if (xl != yl) return xl > yl ? -1 : 1;
  return x->created < y->created ? -1 : x->created > y->created;
}

static int grow(void **p, size_t *cap, size_t need, size_t elem) {
  if (need <= *cap) return 0;
  size_t cap2 = *cap ? *cap : 64;
  while (cap2 < need) cap2 *= 2;
  void *q = realloc(*p, cap2 * elem);
  if (!q) return -ENOMEM;
  *p = q;
  *cap = cap2;
  return 0;
}

int cookiejar_header(cookiejar *j, const char *url, int64_t now_s, const char **out, size_t *len) {
  url_parts u;
  size_t n = 0, bytes = 1;
  *out = "", *len = 0;
  if (j->n == 0 || parse_url(url, &u) < 0) return 0;
  for (size_t i = j->n; i > 0; i--)
    if (j->items[i - 1].expiry_s <= now_s) drop(j, i - 1);
  if (grow((void **)&j->pick, &j->pick_cap, j->n, sizeof *j->pick) < 0) return -ENOMEM;
  for (size_t i = 0; i < j->n; i++) {
    cookie *k = &j->items[i];
    if ((k->host_only ? strcmp(u.host, k->domain) != 0 : !domain_match(u.host, k->domain)) ||
        !path_match(u.path, u.path_len, k->path) || (k->secure && !u.secure))
      continue;
    j->pick[n++] = k;
    bytes += strlen(k->name) + strlen(k->value) + 3;
  }
  if (n == 0) return 0;
  qsort(j->pick, n, sizeof *j->pick, by_path_then_age);
  if (grow((void **)&j->hdr, &j->hdr_cap, bytes, 1) < 0) return -ENOMEM;
  char *p = j->hdr;
  for (size_t i = 0; i < n; i++) {
    size_t nl = strlen(j->pick[i]->name), vl = strlen(j->pick[i]->value);
    if (i) memcpy(p, "; ", 2), p += 2;
    memcpy(p, j->pick[i]->name, nl), p += nl;
    *p++ = '=';
    memcpy(p, j->pick[i]->value, vl), p += vl;
    j->pick[i]->used = ++j->clock;
  }
  *p = 0;
  *out = j->hdr;
  *len = (size_t)(p - j->hdr);
  return 0;
}
