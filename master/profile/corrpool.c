/* corrpool.c - waits on a resource shared with unlabelled work (see corrpool.h). */
#include "master/profile/corrpool.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "master/profile/corrrank.h"
#include "master/profile/corrwait.h"

enum { OTHER, ANOM, NORM };

/* Does c run any service frame? (Library goroutines alone, an HTTP client's connection loops, say nothing.)
 */
static int service(const corrstack *cs, const corr_sample *c) {
  for (size_t k = 0; k < c->nstack; k++)
    if (!corrstack_plumbing(cs, c->stack[k])) return 1;
  return 0;
}

/* Rates: x_a per second of na >= MIN_RATIO x x_b per second of nb, conditional binomial z test p < ALPHA. */
static int rises(double xa, double na, double xb, double nb, double *p) {
  double x = xa + xb, p0 = na / (na + nb);
  *p = x > 0 ? 0.5 * erfc((xa - x * p0) / sqrt(x * p0 * (1 - p0)) / sqrt(2.0)) : 1;
  return xa / na >= CORRELATE_MIN_RATIO * xb / nb && *p < CORRELATE_ALPHA;
}

/* Where the requests of the anomalous seconds wait: the waiting frame (corrwait_waiter) holding the most of
 * their observations, >= WAIT_SHARE of them, more of them per second than in the normal seconds (they pile
 * up there). Also marks the goroutine roots of requests (roots: a goroutine that starts where requests start
 * is an unlabelled request, not background work). -1 when none. */
static int64_t requests_wait(const corrstack *cs, const unsigned char *cls, corrpool_result *r,
                             unsigned char *roots) {
  double *wa = calloc(cs->nnames ? cs->nnames : 1, sizeof *wa),
         *wb = calloc(cs->nnames ? cs->nnames : 1, 1 * sizeof *wb), req = 0, p;
  int64_t at = -1;
  for (size_t i = 0; wa && wb && i < cs->n; i++) {
    const corr_sample *s = &cs->s[i];
    if (cls[i] == OTHER || !s->name || !s->nstack) continue;
    roots[s->stack[s->nstack - 1]] = 1;
    if (!service(cs, s)) continue;
    req += cls[i] == ANOM ? s->value : 0;
    int64_t f = corrwait_waiter(cs, s);
    if (f >= 0) (cls[i] == ANOM ? wa : wb)[f] += s->value;
  }
  for (size_t f = 0; wa && wb && f < cs->nnames; f++)
    if (wa[f] > 0 && (at < 0 || wa[f] > wa[at])) at = (int64_t)f;
  if (at >= 0 && (wa[at] < CORRELATE_WAIT_SHARE * req || !rises(wa[at], r->na, wb[at], r->nb, &p))) at = -1;
  if (at >= 0) r->wa = wa[at], r->wb = wb[at];
  free(wa);
  free(wb);
  return at;
}

/* Depth of fn from the root of c's stack (0: the goroutine's entry), or -1 when c does not hold it. */
static long depth(const corr_sample *c, int64_t fn) {
  for (size_t k = c->nstack; k-- > 0;)
    if ((int64_t)c->stack[k] == fn) return (long)(c->nstack - 1 - k);
  return -1;
}

/* The root of the background work through at that rose: of the service frames whose rise (observations per
 * second, anomalous minus normal, of the background goroutines passing through at) is within TOLERANCE of
 * the largest, the outermost. */
static int64_t root_of_rise(const corrstack *cs, const unsigned char *bga, const unsigned char *bgb,
                            const corrpool_result *r) {
  size_t nf = cs->nnames ? cs->nnames : 1;
  double *ia = calloc(nf, sizeof *ia), *ib = calloc(nf, sizeof *ib), *dep = calloc(nf, sizeof *dep), max = 0;
  unsigned char *ma = calloc(cs->n ? cs->n : 1, 1), *mb = calloc(cs->n ? cs->n : 1, 1);
  int64_t best = -1;
  if (!ia || !ib || !dep || !ma || !mb) goto out;
  for (size_t i = 0; i < cs->n; i++) {
    int through = corrstack_holds(&cs->s[i], r->at);
    ma[i] = bga[i] && through, mb[i] = bgb[i] && through;
  }
  corrstack_inclusive(cs, ma, ia);
  corrstack_inclusive(cs, mb, ib);
  for (size_t f = 0; f < cs->nnames; f++) dep[f] = HUGE_VAL;
  for (size_t i = 0; i < cs->n; i++)
    for (size_t k = 0; ma[i] && k < cs->s[i].nstack; k++) {
      uint32_t f = cs->s[i].stack[k];
      long d = depth(&cs->s[i], f);
      if (d < dep[f]) dep[f] = (double)d;
    }
  for (size_t f = 0; f < cs->nnames; f++)
    if (!corrstack_plumbing(cs, (int64_t)f) && ia[f] / r->na - ib[f] / r->nb > max)
      max = ia[f] / r->na - ib[f] / r->nb;
  for (size_t f = 0; max > 0 && f < cs->nnames; f++)
    if (!corrstack_plumbing(cs, (int64_t)f) &&
        ia[f] / r->na - ib[f] / r->nb >= (1 - CORRELATE_TOLERANCE) * max && (best < 0 || dep[f] < dep[best]))
      best = (int64_t)f;
out:
  free(ia);
  free(ib);
  free(dep);
  free(ma);
  free(mb);
  return best;
}

int corrpool_find(const correlate_window *windows, size_t nwindows, const corrstack *cs,
                  const corrwin_times *t, corrpool_result *r) {
  unsigned char *cls = calloc(cs->n ? cs->n : 1, 1), *roots = calloc(cs->nnames ? cs->nnames : 1, 1);
  unsigned char *bga = calloc(cs->n ? cs->n : 1, 1), *bgb = calloc(cs->n ? cs->n : 1, 1);
  int rc = cls && roots && bga && bgb ? 0 : -ENOMEM;
  memset(r, 0, sizeof *r);
  r->fn = r->at = -1;
  r->p_value = 1;
  if (rc < 0 || !CORRELATE_POOL || !t->spans || !json_array_size(t->spans)) goto out;
  for (size_t w = 0; w < nwindows; w++) {
    if (strcmp(windows[w].type, "goroutine") != 0) continue;
    int k = corrwin_class(t, windows[w].start_ms, windows[w].end_ms);
    double s = clock_ms_to_s(windows[w].end_ms - windows[w].start_ms);
    r->na += k == CORRWIN_ANOMALOUS ? s : 0, r->nb += k == CORRWIN_NORMAL ? s : 0;
  }
  if (r->na <= 0 || r->nb <= 0) goto out;
  for (size_t i = 0; i < cs->n; i++) {
    const correlate_window *cw = &windows[cs->s[i].window];
    int k = strcmp(cw->type, "goroutine") != 0 ? CORRWIN_NEITHER : corrwin_class(t, cw->start_ms, cw->end_ms);
    cls[i] = k == CORRWIN_ANOMALOUS ? ANOM : k == CORRWIN_NORMAL ? NORM : OTHER;
  }
  if ((r->at = requests_wait(cs, cls, r, roots)) < 0) goto out;
  for (size_t i = 0; i < cs->n; i++) { /* no request's: no labels, not started where requests start */
    const corr_sample *s = &cs->s[i];
    int bg = cls[i] != OTHER && !s->name && s->nstack && !roots[s->stack[s->nstack - 1]] && service(cs, s);
    bga[i] = bg && cls[i] == ANOM, bgb[i] = bg && cls[i] == NORM;
    r->a_tot += bga[i] ? s->value : 0, r->b_tot += bgb[i] ? s->value : 0;
  }
  int64_t fn = root_of_rise(cs, bga, bgb, r);
  if (fn < 0 || fn == r->at) goto out; /* none, or it starts in the waiting function itself */
  for (size_t i = 0; i < cs->n; i++) {
    const corr_sample *s = &cs->s[i];
    if (!corrstack_holds(s, fn)) continue;
    r->a_fn += bga[i] ? s->value : 0, r->b_fn += bgb[i] ? s->value : 0;
    r->through += bga[i] && corrstack_holds(s, r->at) ? s->value : 0;
  }
  if (r->a_fn < CORRELATE_MIN_SAMPLES || r->through < CORRELATE_POOL_SHARE * r->a_fn ||
      !rises(r->a_fn, r->na, r->b_fn, r->nb, &r->p_value))
    goto out;
  r->fn = fn;
  r->path = corrstack_path(cs, fn, bga);
out:
  free(cls);
  free(roots);
  free(bga);
  free(bgb);
  return rc;
}

json_t *corrpool_finding(const corrstack *cs, const corrwin_times *t, const corrpool_result *r) {
  char fbuf[512], ev[1400];
  const char *fn = corrstack_function(cs->names[r->fn], fbuf, sizeof fbuf);
  double sa = r->a_tot > 0 ? r->a_fn / r->a_tot : 0, sb = r->b_tot > 0 ? r->b_fn / r->b_tot : 0;
  snprintf(
      ev, sizeof ev,
      "time windows (goroutine profile): %zu of %zu steady intervals stand out (strongest: %s); in the "
      "goroutine windows overlapping them (%.1f s) requests wait in %s %.1f times a second vs %.1f in the "
      "others (%.1f s), and goroutines of no request running %s, %.0f%% of them through %s, are seen "
      "%.1f times a second vs %.1f (conditional binomial test of the rates p = %.2g): work no request "
      "runs holds what the requests wait for",
      t->bad, t->judged, t->why, r->na, cs->names[r->at], r->wa / r->na, r->wb / r->nb, r->nb, fn,
      r->through / r->a_fn * 100, cs->names[r->at], r->a_fn / r->na, r->b_fn / r->nb, r->p_value);
  json_t *f = json_object(), *win = json_array(), *s;
  size_t i;
  if (!f || !win) {
    json_decref(f);
    json_decref(win);
    return NULL;
  }
  json_array_foreach(t->spans, i, s) json_array_append_new(
      win, json_pack("[f,f]", clock_ms_to_s((double)json_integer_value(json_array_get(s, 0))),
                     clock_ms_to_s((double)json_integer_value(json_array_get(s, 1)))));
  json_object_set_new(f, "kind", json_string("window"));
  json_object_set_new(f, "request", json_null());
  json_object_set_new(f, "function", json_string(fn));
  json_object_set_new(f, "share", json_real(round(sa * 1000) / 1000));
  json_object_set_new(f, "baseline_share", json_real(round(sb * 1000) / 1000));
  json_object_set_new(f, "window", win);
  json_object_set_new(f, "path", r->path ? json_incref(r->path) : json_array());
  json_object_set_new(f, "samples",
                      json_pack("{s:I,s:I}", "anomalous", (json_int_t)llround(r->a_tot), "normal",
                                (json_int_t)llround(r->b_tot)));
  json_object_set_new(f, "p_value", json_real(r->p_value));
  json_object_set_new(f, "evidence", json_string(ev));
  json_object_set_new(f, "profile", json_string("goroutine"));
  json_object_set_new(
      f, "score", json_real(round(corrrank_score(CORRELATE_RANK_WINDOW, sa - sb, r->p_value) * 1000) / 1000));
  return f;
}
