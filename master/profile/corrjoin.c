/* corrjoin.c - request names and trace ids from sample labels, and the exemplar join that splits samples into
 * slow / typical / named / unlabelled (see corrjoin.h). */
#include "master/profile/corrjoin.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/jsonlines.h"
#include "common/rundir.h"
#include "master/profile/correlate.h"

struct corrjoin {
  json_t *slow;     /* trace or span id -> request name of a slow exemplar */
  json_t *names;    /* known request names (intervals, exemplars) -> true */
  json_t *nslow_by; /* request name -> slow exemplars */
  json_t *pool;     /* decoded / mapped strings handed out -> true (keys live as long as j) */
  size_t nslow, nexemplars;
};

/* Bytes of the valid UTF-8 sequence at s (1..4), 0 when an invalid one starts there (stops at a NUL). */
static size_t utf8_seq(const unsigned char *s) {
  size_t n = s[0] < 0x80                    ? 1
             : s[0] >= 0xc2 && s[0] <= 0xdf ? 2
             : (s[0] & 0xf0) == 0xe0        ? 3
             : s[0] >= 0xf0 && s[0] <= 0xf4 ? 4
                                            : 0;
  for (size_t i = 1; i < n; i++)
    if ((s[i] & 0xc0) != 0x80) return 0;
  if (n == 3 && ((s[0] == 0xe0 && s[1] < 0xa0) || (s[0] == 0xed && s[1] >= 0xa0)))
    return 0; /* overlong, surrogate */
  if (n == 4 && ((s[0] == 0xf0 && s[1] < 0x90) || (s[0] == 0xf4 && s[1] >= 0x90))) return 0;
  return n;
}

/* s kept in the pool (JSON keys: UTF-8 only, so each byte of an invalid sequence becomes '?' and a label
 * written in another encoding still names its sample; found by fuzz_trace). NULL on out of memory. */
static const char *pooled(corrjoin *j, const char *s) {
  const unsigned char *u = (const unsigned char *)s;
  char *own = NULL;
  size_t n;
  for (size_t i = 0; u[i]; i += n ? n : 1) {
    if ((n = utf8_seq(u + i)) != 0) continue;
    if (!own && !(own = strdup(s))) return NULL;
    own[i] = '?';
  }
  if (own) s = own;
  if (!json_object_get(j->pool, s)) json_object_set_new(j->pool, s, json_true());
  const char *out = json_object_iter_key(json_object_iter_at(j->pool, s));
  free(own);
  return out;
}

const char *corrjoin_pool(corrjoin *j, const char *s) {
  return pooled(j, s);
}

static int cmp_dbl(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* Latencies of the exemplars in list ("slow" / "typical") per request name into lat (name -> array). */
static void collect(const json_t *exemplars, const char *list, json_t *lat) {
  size_t i, k;
  json_t *line, *x;
  json_array_foreach(exemplars, i, line) {
    const char *name = json_string_value(json_object_get(line, "name"));
    if (!name) continue;
    json_t *arr = json_object_get(lat, name);
    if (!arr) json_object_set_new(lat, name, arr = json_array());
    json_array_foreach(json_object_get(line, list), k, x) {
      json_t *ms = json_object_get(x, "latency_ms");
      if (json_is_number(ms)) json_array_append_new(arr, json_real(json_number_value(ms)));
    }
  }
}

static double median_of(const json_t *arr) {
  size_t n = json_array_size(arr), i;
  json_t *v;
  if (!n) return -1;
  double *d = malloc(n * sizeof *d), m;
  if (!d) return -1;
  json_array_foreach(arr, i, v) d[i] = json_number_value(v);
  qsort(d, n, sizeof *d, cmp_dbl);
  m = n % 2 ? d[n / 2] : (d[n / 2 - 1] + d[n / 2]) / 2;
  free(d);
  return m;
}

/* Mark exemplar x of request name slow (its trace and span ids); counted once per request. */
static void mark_slow(corrjoin *j, const char *name, const json_t *x) {
  const char *t = json_string_value(json_object_get(x, "trace_id"));
  const char *s = json_string_value(json_object_get(x, "span_id"));
  const char *key = s && *s ? s : t;
  if (!key || !*key || json_object_get(j->slow, key)) return;
  if (t && *t) json_object_set_new(j->slow, t, json_string(name ? name : ""));
  if (s && *s) json_object_set_new(j->slow, s, json_string(name ? name : ""));
  j->nslow++;
  if (name)
    json_object_set_new(j->nslow_by, name,
                        json_integer(json_integer_value(json_object_get(j->nslow_by, name)) + 1));
}

/* Mark exemplar x of the typical sample measured slow as neither slow nor typical (a JSON null in j->slow),
 * unless it is slow already. */
static void mark_untypical(corrjoin *j, const json_t *x) {
  const char *t = json_string_value(json_object_get(x, "trace_id"));
  const char *s = json_string_value(json_object_get(x, "span_id"));
  const char *key = s && *s ? s : t;
  if (!key || !*key || json_object_get(j->slow, key)) return;
  if (t && *t) json_object_set_new(j->slow, t, json_null());
  if (s && *s) json_object_set_new(j->slow, s, json_null());
}

/* Slow ids: a request is slow when it is one of the slowest of its second (the "slow" list) and its measured
 * latency is >= SLOW_FACTOR x the median latency of its name's typical exemplars (a uniform sample of its
 * requests; all of the list when the name has none or no latency is given). A pick of the uniform sample
 * that took that long is no typical request either: it is left out of both (in the baseline it would put
 * slow requests' work; in the slow population, a mild delay beside the slowest of their seconds). */
static void load_slow(corrjoin *j, const json_t *exemplars) {
  json_t *typ = json_object(), *line, *x;
  size_t i, k;
  collect(exemplars, "typical", typ);
  json_array_foreach(exemplars, i, line) {
    const char *name = json_string_value(json_object_get(line, "name"));
    double med = name ? median_of(json_object_get(typ, name)) : -1; /* no typical ones: take the list */
    j->nexemplars +=
        json_array_size(json_object_get(line, "slow")) + json_array_size(json_object_get(line, "typical"));
    for (int list = 0; list < 2; list++)
      json_array_foreach(json_object_get(line, list ? "typical" : "slow"), k, x) {
        json_t *ms = json_object_get(x, "latency_ms");
        int measured = json_is_number(ms) && med > 0;
        if ((list && !measured) || (measured && json_number_value(ms) < CORRELATE_SLOW_FACTOR * med))
          continue;
        if (list)
          mark_untypical(j, x);
        else
          mark_slow(j, name, x);
      }
  }
  json_decref(typ);
}

int corrjoin_create(const json_t *exemplars, const json_t *intervals, corrjoin **out) {
  corrjoin *j = calloc(1, sizeof *j);
  size_t i;
  json_t *o;
  *out = NULL;
  if (!j) return -ENOMEM;
  j->slow = json_object();
  j->names = json_object();
  j->pool = json_object();
  j->nslow_by = json_object();
  if (!j->slow || !j->names || !j->pool || !j->nslow_by) {
    corrjoin_free(j);
    return -ENOMEM;
  }
  json_array_foreach(intervals, i, o) {
    const char *n = json_string_value(json_object_get(o, "name"));
    if (n && strcmp(n, RUNDIR_TOTAL_NAME) != 0) json_object_set_new(j->names, n, json_true());
  }
  json_array_foreach(exemplars, i, o) {
    const char *n = json_string_value(json_object_get(o, "name"));
    if (n) json_object_set_new(j->names, n, json_true());
  }
  if (exemplars) load_slow(j, exemplars);
  *out = j;
  return 0;
}

void corrjoin_free(corrjoin *j) {
  if (!j) return;
  json_decref(j->slow);
  json_decref(j->names);
  json_decref(j->pool);
  json_decref(j->nslow_by);
  free(j);
}

size_t corrjoin_nslow(const corrjoin *j) {
  return j->nslow;
}

size_t corrjoin_nslow_name(const corrjoin *j, const char *name) {
  return name ? (size_t)json_integer_value(json_object_get(j->nslow_by, name)) : j->nslow;
}

size_t corrjoin_nexemplars(const corrjoin *j) {
  return j->nexemplars;
}

static int hexval(int c) {
  return isdigit(c) ? c - '0' : isxdigit(c) ? (tolower(c) - 'a' + 10) : -1;
}

void corrjoin_decode(const char *src, char *dst, size_t dstlen) {
  size_t o = 0;
  if (!dstlen) return;
  for (const char *p = src; *p && o + 1 < dstlen; p++) {
    int h = *p == '%' ? hexval((unsigned char)p[1]) : -1, l = h >= 0 ? hexval((unsigned char)p[2]) : -1;
    if (h >= 0 && l >= 0) {
      dst[o++] = (char)(h * 16 + l);
      p += 2;
    } else {
      dst[o++] = *p;
    }
  }
  dst[o] = '\0';
}

/* A route-only value onto the one known name "METHOD value" (or the method label's), else itself. */
static const char *map_route(corrjoin *j, const char *route, const char *method) {
  char buf[2100];
  const char *k, *hit = NULL;
  json_t *v;
  int n = 0;
  if (method && strlen(method) < 64 && strlen(route) < 2000) { /* else no "METHOD route" name to match */
    snprintf(buf, sizeof buf, "%.63s %.2000s", method, route);
    if (json_object_get(j->names, buf)) return pooled(j, buf);
  }
  json_object_foreach(j->names, k, v) {
    const char *sp = strchr(k, ' ');
    if (sp && strcmp(sp + 1, route) == 0) hit = k, n++;
  }
  return pooled(j, n == 1 ? hit : route);
}

const char *corrjoin_request(corrjoin *j, const pprof_profile *p, const pprof_sample *s) {
  static const char *const keys[] = {"loadctl.name", "k6.name", "http.route", "route", "endpoint"};
  for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
    const char *v = pprof_label_get(p, s, keys[i]), *out;
    if (!v || !*v) continue;
    char *buf = malloc(strlen(v) + 1); /* decoding never lengthens */
    if (!buf) return NULL;
    corrjoin_decode(v, buf, strlen(v) + 1);
    if (i < 2 || json_object_get(j->names, buf)) {
      out = pooled(j, buf); /* baggage names as sent */
    } else {
      const char *m = pprof_label_get(p, s, "http.method");
      out = map_route(j, buf, m ? m : pprof_label_get(p, s, "http.request.method"));
    }
    free(buf);
    return out;
  }
  return NULL;
}

void corrjoin_ids(corrjoin *j, const pprof_profile *p, const pprof_sample *s, const char **trace,
                  const char **span) {
  static const char *const tk[] = {"trace_id", "trace.id", "traceID", "traceid", "otel.trace_id"};
  static const char *const sk[] = {"span_id", "span.id", "spanID", "spanid", "otel.span_id"};
  *trace = *span = NULL;
  for (size_t i = 0; i < sizeof tk / sizeof tk[0] && !*trace; i++) *trace = pprof_label_get(p, s, tk[i]);
  for (size_t i = 0; i < sizeof sk / sizeof sk[0] && !*span; i++) *span = pprof_label_get(p, s, sk[i]);
  const char *tp = *trace ? NULL : pprof_label_get(p, s, "traceparent");
  if (tp && strlen(tp) >= 55 && tp[2] == '-' && tp[35] == '-') { /* 00-<32 hex>-<16 hex>-01 */
    char t[33], sp[17];
    memcpy(t, tp + 3, 32);
    t[32] = '\0';
    memcpy(sp, tp + 36, 16);
    sp[16] = '\0';
    *trace = pooled(j, t);
    if (!*span) *span = pooled(j, sp);
  }
  if (*trace && !**trace) *trace = NULL;
  if (*span && !**span) *span = NULL;
}

int corrjoin_class(const corrjoin *j, const char *trace, const char *span, const char *name,
                   const char **slow_name) {
  /* the span names one request; a trace id (one per iteration) only when the sample has no span id */
  json_t *hit = span ? json_object_get(j->slow, span) : trace ? json_object_get(j->slow, trace) : NULL;
  if (slow_name) *slow_name = hit ? json_string_value(hit) : NULL;
  if (json_is_null(hit)) return name ? CORRJOIN_NAMED : CORRJOIN_UNLABELLED; /* measured, neither */
  if (hit) return CORRJOIN_SLOW;
  if (trace || span) return CORRJOIN_TYPICAL;
  return name ? CORRJOIN_NAMED : CORRJOIN_UNLABELLED;
}

json_t *corrjoin_read_jsonl(const char *run_dir, const char *name) {
  return jsonlines_read_all(run_dir, name, NULL);
}

int corrjoin_create_run(const char *run_dir, corrjoin **out) {
  json_t *ex = corrjoin_read_jsonl(run_dir, RUNDIR_EXEMPLARS),
         *iv = corrjoin_read_jsonl(run_dir, RUNDIR_INTERVALS);
  int rc = corrjoin_create(ex, iv, out);
  json_decref(ex);
  json_decref(iv);
  return rc;
}
