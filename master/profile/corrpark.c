/* corrpark.c - time per request in a frame, slow vs typical requests that reach it (see corrpark.h). */
#include "master/profile/corrpark.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "master/profile/correlate.h"

/* Does c run on an event loop's thread, under its dispatch of a callback or coroutine step? A request's
 * frame there that waits blocks the loop: every request in flight waits with it (a coroutine suspended in
 * an await is not on the loop's stack; it is sampled on its own chain). */
static int on_loop(const corrstack *cs, const corr_sample *c) {
  static const char *const loop[] = {"asyncio.events.Handle._run",
                                     "asyncio.base_events.BaseEventLoop._run_once"};
  for (size_t k = 0; k < c->nstack; k++)
    for (size_t j = 0; j < sizeof loop / sizeof loop[0]; j++)
      if (strcmp(cs->names[c->stack[k]], loop[j]) == 0) return 1;
  return 0;
}

/* Sum of the values of m's samples holding fn per request (span id, else trace id), as a new array of the
 * sums; *n their number. */
static double *per_request(const corrstack *cs, const unsigned char *m, int64_t fn, size_t *n) {
  json_t *ids = json_object();
  double *sum = calloc(cs->n ? cs->n : 1, sizeof *sum);
  *n = 0;
  for (size_t i = 0; ids && sum && i < cs->n; i++) {
    const corr_sample *c = &cs->s[i];
    const char *id = c->span_id && *c->span_id ? c->span_id : c->trace_id; /* a trace may be an iteration */
    if (!m[i] || !id || !corrstack_holds(c, fn)) continue;
    json_t *at = json_object_get(ids, id);
    if (!at) {
      at = json_integer((json_int_t)*n);
      json_object_set_new(ids, id, at);
      (*n)++;
    }
    sum[json_integer_value(at)] += c->value;
  }
  if (!ids) free(sum), sum = NULL;
  json_decref(ids);
  return sum;
}

static int by_value(const void *x, const void *y) {
  double a = ((const double *)x)[0], b = ((const double *)y)[0];
  return a < b ? -1 : a > b;
}

/* One-sided Mann-Whitney U test that xa's values exceed xb's: normal approximation with the tie correction,
 * mid-ranks for ties. */
static double u_test(const double *xa, size_t na, const double *xb, size_t nb) {
  size_t n = na + nb;
  double(*v)[2] = malloc((n ? n : 1) * sizeof *v), ra = 0, ties = 0;
  if (!v || !na || !nb) {
    free(v);
    return 1;
  }
  for (size_t i = 0; i < n; i++) v[i][0] = i < na ? xa[i] : xb[i - na], v[i][1] = i < na;
  qsort(v, n, sizeof *v, by_value);
  for (size_t i = 0, j; i < n; i = j) {
    for (j = i; j < n && v[j][0] == v[i][0];) j++;
    double t = (double)(j - i), rank = (double)(i + j + 1) / 2; /* 1-based mid-rank */
    ties += t * t * t - t;
    for (size_t k = i; k < j; k++) ra += v[k][1] * rank;
  }
  free(v);
  double u = ra - (double)na * (na + 1) / 2, mu = (double)na * nb / 2;
  double var = (double)na * nb / 12 * ((double)(n + 1) - ties / ((double)n * (n - 1)));
  return var > 0 ? 0.5 * erfc((u - mu) / sqrt(var) / sqrt(2.0)) : 1;
}

int corrpark_measure(const corrstack *cs, const unsigned char *a, const unsigned char *b, int64_t fn,
                     corrpark_stay *st) {
  memset(st, 0, sizeof *st);
  st->p_value = 1;
  double *xa = per_request(cs, a, fn, &st->na), *xb = per_request(cs, b, fn, &st->nb);
  int rc = xa && xb ? 0 : -ENOMEM;
  for (size_t i = 0; rc == 0 && i < st->na; i++) st->mean_a += xa[i] / st->na;
  for (size_t i = 0; rc == 0 && i < st->nb; i++) st->mean_b += xb[i] / st->nb;
  if (rc == 0) st->p_value = u_test(xa, st->na, xb, st->nb);
  for (size_t i = 0; rc == 0 && i < cs->n; i++)
    if (a[i] && corrstack_holds(&cs->s[i], fn)) {
      st->a_time += cs->s[i].value;
      st->a_loop += on_loop(cs, &cs->s[i]) ? cs->s[i].value : 0;
    }
  free(xa);
  free(xb);
  return rc;
}

int corrpark_longer(const corrstack *cs, const unsigned char *a, const unsigned char *b, int64_t fn) {
  corrpark_stay st;
  if (fn < 0 || corrpark_measure(cs, a, b, fn, &st) < 0) return 1;
  if (st.nb < CORRELATE_PARK_REQUESTS || st.a_loop > 0.5 * st.a_time)
    return 1; /* no baseline; holds a loop */
  return st.mean_a >= CORRELATE_MIN_RATIO * st.mean_b && st.p_value < CORRELATE_ALPHA;
}
