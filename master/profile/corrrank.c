/* corrrank.c - one order for the findings of every method (see corrrank.h). */
#include "master/profile/corrrank.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "master/profile/corrdesc.h"
#include "master/profile/correlate.h"

double corrrank_score(double standing, double effect, double p_value) {
  return standing + effect - (p_value < CORRELATE_STRONG_ALPHA ? 0 : CORRELATE_WEAK_DROP);
}

double corrrank_endpoint(int wait_set, const char *kind) {
  if (wait_set && kind && strcmp(kind, "wait") == 0) return CORRELATE_RANK_ENDPOINT_WAIT;
  return CORRELATE_RANK_ENDPOINT - (wait_set ? CORRELATE_RANK_WAIT : 0);
}

/* name's count-weighted mean of the per-interval p99 (ms), -1 when it has no interval line with requests. */
static double name_p99(const json_t *intervals, const char *name) {
  double sum = 0, n = 0;
  size_t i;
  json_t *o;
  json_array_foreach(intervals, i, o) {
    const char *nm = json_string_value(json_object_get(o, "name"));
    double cnt = json_number_value(json_object_get(o, "count")),
           p99 = json_number_value(json_object_get(o, "p99_ms"));
    if (!nm || cnt <= 0 || p99 <= 0 || strcmp(nm, name) != 0) continue;
    sum += cnt * p99, n += cnt;
  }
  return n > 0 ? sum / n : -1;
}

/* The request a finding is about, when it is weighed by its tail (not a window's seconds), else NULL: a lock
 * that no request holds is about the requests that wait for it (its "waiters", corrlock.h). */
static const char *weighed_request(const json_t *f) {
  const char *kind = json_string_value(json_object_get(f, "kind"));
  const char *req = json_string_value(json_object_get(f, "request"));
  if (!req) req = json_string_value(json_object_get(f, "waiters"));
  return kind && strcmp(kind, "window") != 0 ? req : NULL;
}

void corrrank_weigh_tails(json_t *findings, const json_t *intervals) {
  size_t i;
  json_t *f;
  double worst = -1;
  const char *worst_name = NULL;
  if (!intervals) return;
  json_array_foreach(findings, i, f) {
    const char *req = weighed_request(f);
    double p = req ? name_p99(intervals, req) : -1;
    if (p > worst) worst = p, worst_name = req;
  }
  json_array_foreach(findings, i, f) {
    const char *req = weighed_request(f);
    double p = req ? name_p99(intervals, req) : -1;
    if (p <= 0 || worst <= 0 || p >= worst) continue;
    double drop = CORRELATE_RANK_TAIL_WEIGHT * (1 - p / worst);
    char ev[2048];
    snprintf(
        ev, sizeof ev,
        "%s; its %s p99 (%.1f ms, mean of the intervals) is %.0f%% of the worst among "
        "the findings' requests (%s, %.1f ms): ranked %.2f lower",
        json_string_value(json_object_get(f, "evidence")) ? json_string_value(json_object_get(f, "evidence"))
                                                          : "",
        json_object_get(f, "request") && !json_is_null(json_object_get(f, "request")) ? "request's"
                                                                                      : "waiters' request's",
        p, 100 * p / worst, worst_name, worst, drop);
    json_object_set_new(f, "evidence", json_string(ev));
    json_object_set_new(f, "score", json_real(json_number_value(json_object_get(f, "score")) - drop));
  }
}

static int cmp_score(const void *x, const void *y) {
  const json_t *a = *(json_t *const *)x, *b = *(json_t *const *)y;
  double sa = json_number_value(json_object_get(a, "score")),
         sb = json_number_value(json_object_get(b, "score"));
  if (sa != sb) return (sa < sb) - (sa > sb);
  return strcmp(json_string_value(json_object_get(a, "function")),
                json_string_value(json_object_get(b, "function")));
}

/* Does finding f name function fn, or hold it on its path (fn calls or is called by what f names)? */
static int covers(const json_t *f, const char *fn) {
  size_t i;
  json_t *v;
  if (strcmp(json_string_value(json_object_get(f, "function")), fn) == 0) return 1;
  json_array_foreach(json_object_get(f, "path"), i, v) if (strcmp(json_string_value(v), fn) == 0) return 1;
  return 0;
}

/* Is g the same time as a stronger finding f already kept: the same request, and either names the other's
 * function or has it on its path (a CPU finding and a wall-clock one of one fault, in a caller and its
 * callee)? */
static int same_time(const json_t *f, const json_t *g) {
  const char *rf = json_string_value(json_object_get(f, "request")),
             *rg = json_string_value(json_object_get(g, "request"));
  if (!rf || !rg || strcmp(rf, rg) != 0) return 0;
  return covers(f, json_string_value(json_object_get(g, "function"))) ||
         covers(g, json_string_value(json_object_get(f, "function")));
}

json_t *corrrank_rank(const json_t *raw) {
  size_t n = json_array_size(raw);
  json_t **v = calloc(n ? n : 1, sizeof *v), *out = json_array(), *named = json_object();
  if (!v || !out || !named) {
    free(v);
    json_decref(out);
    json_decref(named);
    return NULL;
  }
  for (size_t i = 0; i < n; i++) v[i] = json_array_get(raw, i);
  qsort(v, n, sizeof *v, cmp_score);
  for (size_t i = 0; i < n; i++) {
    const char *fn = json_string_value(json_object_get(v[i], "function"));
    size_t k;
    json_t *kept;
    int dup = json_object_get(named, fn) != NULL;
    json_array_foreach(out, k, kept) if (same_time(kept, v[i]) && (dup = 1) && corrdesc_finer(kept, v[i]))
        json_array_set(out, k, v[i]); /* its place, the finer frame of its time (corrdesc.h) */
    if (dup) continue;
    json_object_set_new(named, fn, json_true());
    json_array_append(out, v[i]);
  }
  free(v);
  json_decref(named);
  return out;
}
