/* corrdemote.c - findings that a window finding's background work explains (see corrdemote.h). */
#include "master/profile/corrdemote.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "master/profile/corrstack.h"
#include "master/profile/corrwin.h"

/* Exemplars of name (any name when NULL; class cls) and how many of them overlap spans: [wall_ms - latency,
 * wall_ms]; with ids, the interval after a span counts too and the ids of those that do are put in ids. */
static void in_spans(const corrdemote *d, const char *name, int cls, double *n, double *in, json_t *ids) {
  size_t i, j;
  int64_t tail = ids ? corrwin_step(d->in->intervals) : 0;
  json_t *line, *x;
  *n = *in = 0;
  json_array_foreach(d->in->exemplars, i, line) {
    const char *ln = json_string_value(json_object_get(line, "name"));
    for (int list = 0; list < 2; list++)
      json_array_foreach(json_object_get(line, list ? "typical" : "slow"), j, x) {
        const char *sn = NULL, *sp = json_string_value(json_object_get(x, "span_id"));
        int k = corrjoin_class(d->join, json_string_value(json_object_get(x, "trace_id")),
                               sp && *sp ? sp : NULL, ln, &sn);
        const char *nm = sn && *sn ? sn : ln;
        if (k != cls || !nm || (name && strcmp(nm, name) != 0) || (d->skip && !strcmp(nm, d->skip))) continue;
        int64_t end = (int64_t)json_integer_value(json_object_get(x, "wall_ms"));
        int64_t lat = (int64_t)json_number_value(json_object_get(x, "latency_ms"));
        *n += 1;
        int hit = corrwin_overlap(d->spans, end - lat - tail, end + 1) > 0;
        *in += hit;
        if (hit && ids)
          json_object_set_new(ids, sp && *sp ? sp : json_string_value(json_object_get(x, "trace_id")),
                              json_true());
      }
  }
}

void corrdemote_collect(corrdemote *d) {
  if (!d->spans || !d->in->exemplars || !(d->slow = json_object())) return;
  double n, in;
  in_spans(d, NULL, CORRJOIN_SLOW, &n, &in, d->slow);
}

int corrdemote_slow(const corrdemote *d, const char *trace_id, const char *span_id) {
  const char *id = span_id && *span_id ? span_id : trace_id;
  return d->slow && id && json_object_get(d->slow, id);
}

void corrdemote_requests(const corrdemote *d, json_t *out) {
  size_t i;
  json_t *f;
  if (!d->spans || !d->in->exemplars) return;
  json_array_foreach(out, i, f) {
    const char *req = json_string_value(json_object_get(f, "request"));
    double ns, is, nt, it;
    if (!req || strcmp(json_string_value(json_object_get(f, "kind")), "lock") == 0) continue;
    in_spans(d, req, CORRJOIN_SLOW, &ns, &is, NULL);
    in_spans(d, req, CORRJOIN_TYPICAL, &nt, &it, NULL);
    double p = corrstack_ztest(is, ns, it, nt);
    if (ns <= 0 || is < CORRELATE_WIN_EXPLAINS * ns || p >= CORRELATE_ALPHA) continue;
    char ev[1600];
    snprintf(ev, sizeof ev,
             "%s; but %.0f of its %.0f slow requests fall in the anomalous seconds of the window finding "
             "(%s) vs %.0f of %.0f typical ones (two-proportion z test p = %.2g): ranked "
             "below it",
             json_string_value(json_object_get(f, "evidence")), is, ns, d->fn, it, nt, p);
    json_object_set_new(f, "evidence", json_string(ev));
    json_object_set_new(f, "score", json_real(d->score - 0.001));
  }
}

/* The work holds or starves the lock (a reader copying under a read lock, a job computing under the mutex),
 * and the function releasing most delay may only be the last of the queue. */
void corrdemote_lock(const corrdemote *d, json_t *f, const char *type) {
  double n = 0, dl = 0, din = 0, t = 0, tin = 0;
  int64_t step = d->spans ? corrwin_step(d->in->intervals) : 0;
  const char *req = json_string_value(json_object_get(f, "request"));
  if (req && d->skip && strcmp(req, d->skip) == 0) return; /* the rare request's own lock */
  for (size_t w = 0; d->spans && w < d->in->nwindows; w++) {
    const correlate_window *cw = &d->in->windows[w];
    const pprof_profile *p = cw->prof;
    if (strcmp(cw->type, type) != 0 || p->nsample_types < 2) continue;
    int hit = corrwin_overlap(d->spans, cw->start_ms - step, cw->end_ms) > 0;
    double wd = 0;
    for (size_t i = 0; i < p->nsamples; i++)
      n += (double)p->samples[i].values[0], wd += (double)p->samples[i].values[p->nsample_types - 1];
    dl += wd, din += hit ? wd : 0;
    t += (double)(cw->end_ms - cw->start_ms), tin += hit ? (double)(cw->end_ms - cw->start_ms) : 0;
  }
  if (n < CORRELATE_MIN_BASELINE || dl <= 0 || t <= 0 || tin >= t || din < CORRELATE_WIN_EXPLAINS * dl)
    return;
  double p0 = tin / t, x = din / dl * n, z = (x - n * p0) / sqrt(n * p0 * (1 - p0)),
         pv = 0.5 * erfc(z / sqrt(2.0));
  if (pv >= CORRELATE_ALPHA) return;
  char ev[1200];
  snprintf(
      ev, sizeof ev,
      "%s; but %.0f%% of the contention delay falls in the profile windows of the anomalous seconds of the "
      "window finding (%s) or just after, %.0f%% of the profiled time (binomial z "
      "test of its %.0f delay-weighted contentions p = %.2g): that work's effect, ranked below it",
      json_string_value(json_object_get(f, "evidence")), din / dl * 100, d->fn, p0 * 100, x, pv);
  json_object_set_new(f, "evidence", json_string(ev));
  json_object_set_new(f, "score", json_real(d->score - 0.001));
}

void corrdemote_free(corrdemote *d) {
  json_decref(d->spans);
  json_decref(d->slow);
  d->spans = d->slow = NULL;
}
