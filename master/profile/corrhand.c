/* corrhand.c - what requests waiting on another thread's work waited behind (see corrhand.h). */
#include "master/profile/corrhand.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "master/profile/correlate.h"
#include "master/profile/corrjoin.h"
#include "master/profile/corrpark.h"
#include "master/profile/corrrank.h"

/* Frames a goroutine or thread sits in while it waits for a value another one hands it, or for time to pass:
 * Go's parking and channel runtime, sync.Cond and WaitGroup (a mutex's machinery passes too, but the sync
 * frames above it are library code, so a lock is never a hand-off), and Python's waits on a condition, an
 * event, a queue, a future or a thread. */
static int machinery(const char *n) {
  static const char *const pre[] = {"runtime.gopark",
                                    "runtime.goparkunlock",
                                    "runtime.selectgo",
                                    "runtime.block",
                                    "runtime.chanrecv",
                                    "runtime.chansend",
                                    "runtime.semacquire",
                                    "runtime.notifyListWait",
                                    "runtime.timeSleep",
                                    "time.Sleep",
                                    "sync.runtime_",
                                    "sync.(*Cond).Wait",
                                    "sync.(*WaitGroup).Wait",
                                    "internal/sync.",
                                    "threading.Condition.wait",
                                    "threading.Event.wait",
                                    "threading.Thread.join",
                                    "threading.Thread._wait_for_tstate_lock",
                                    "queue.Queue.get",
                                    "queue.Queue.put",
                                    "concurrent.futures._base.Future.result",
                                    "concurrent.futures._base.Future.exception",
                                    "concurrent.futures._base.wait",
                                    "concurrent.futures._base.as_completed",
                                    "multiprocessing.pool.ApplyResult.get",
                                    "multiprocessing.pool.ApplyResult.wait",
                                    NULL};
  return corrstack_has_prefix(n, pre);
}

int64_t corrhand_waiter(const corrstack *cs, const corr_sample *s) {
  size_t k = 0;
  while (k < s->nstack && machinery(cs->names[s->stack[k]])) k++;
  if (k == 0 || k >= s->nstack || corrstack_plumbing(cs, s->stack[k])) return -1;
  return (int64_t)s->stack[k];
}

/* Worker loops: the service frames unlabelled threads (goroutines) wait for their next job in (hand-off
 * machinery below them: a scanner thread's queue.get, a sender goroutine's channel receive), and the standard
 * pools' own loops (a ThreadPoolExecutor's worker idles in C, with no Python frame of the machinery). New
 * array of cs->nnames flags, or NULL. */
static unsigned char *worker_loops(const corrstack *cs, const unsigned char *cls) {
  static const char *const pools[] = {"concurrent.futures.thread._worker", "multiprocessing.pool.worker"};
  unsigned char *loop = calloc(cs->nnames ? cs->nnames : 1, 1);
  for (size_t i = 0; loop && i < cs->n; i++) {
    int64_t w = cls[i] == CORRJOIN_UNLABELLED && !cs->s[i].name ? corrhand_waiter(cs, &cs->s[i]) : -1;
    if (w >= 0) loop[w] = 1;
  }
  for (size_t f = 0; loop && f < cs->nnames; f++)
    for (size_t k = 0; k < sizeof pools / sizeof pools[0]; k++)
      loop[f] |= strcmp(cs->names[f], pools[k]) == 0;
  return loop;
}

/* A worker's busy sample: no request's, under a worker loop, running service code there and not waiting for
 * its next job. */
static int busy_worker(const corrstack *cs, const unsigned char *cls, const unsigned char *loop, size_t i) {
  const corr_sample *s = &cs->s[i];
  int under = 0, service = 0;
  if (cls[i] != CORRJOIN_UNLABELLED || s->name || corrhand_waiter(cs, s) >= 0) return 0;
  for (size_t k = 0; k < s->nstack && !under; k++) {
    under = loop[s->stack[k]];
    service |= !corrstack_plumbing(cs, s->stack[k]);
  }
  return under && service;
}

static int is(const corr_sample *s, const char *name) {
  return s->name && strcmp(s->name, name) == 0;
}

/* The waits of name's slow (a) and typical (b) samples: the frame most of the slow ones wait in for another
 * thread (>= CORRELATE_WAIT_SHARE of their value, >= CORRELATE_MIN_BASELINE), else -1. */
static int64_t hand_frame(const corrstack *cs, const unsigned char *a, double *slow_in, double *slow_tot) {
  double *w = calloc(cs->nnames ? cs->nnames : 1, sizeof *w);
  int64_t best = -1;
  *slow_tot = *slow_in = 0;
  for (size_t i = 0; w && i < cs->n; i++) {
    if (!a[i]) continue;
    int64_t f = corrhand_waiter(cs, &cs->s[i]);
    *slow_tot += cs->s[i].value;
    if (f >= 0 && (w[f] += cs->s[i].value) > (best >= 0 ? w[best] : 0)) best = f;
  }
  *slow_in = best >= 0 ? w[best] : 0;
  free(w);
  if (best < 0 || *slow_in < CORRELATE_MIN_BASELINE || *slow_in < CORRELATE_WAIT_SHARE * *slow_tot) return -1;
  return best;
}

/* Per window (index of corr_sample.window): the value of name's slow (sw) and typical (tw) samples waiting in
 * frame fn. Windows whose waiters are slow at least as often as over the run (x HAND_SPLIT) are the slow
 * ones' (1 in mark), the others with waiters the typical ones' (2); windows without waiters are neither (0).
 */
static void mark_windows(const corrstack *cs, const unsigned char *a, const unsigned char *b, int64_t fn,
                         size_t nw, double *sw, double *tw, unsigned char *mark) {
  double ts = 0, tt = 0;
  for (size_t i = 0; i < cs->n; i++) {
    if ((!a[i] && !b[i]) || corrhand_waiter(cs, &cs->s[i]) != fn) continue;
    (a[i] ? sw : tw)[cs->s[i].window] += cs->s[i].value;
    *(a[i] ? &ts : &tt) += cs->s[i].value;
  }
  for (size_t w = 0; w < nw; w++) {
    int slow = sw[w] > 0 && sw[w] >= CORRELATE_HAND_SPLIT * ts / (ts + tt) * (sw[w] + tw[w]);
    mark[w] = sw[w] + tw[w] <= 0 ? 0 : slow ? 1 : 2;
  }
}

/* The waiting requests' path down to the waiting frame, then the workers' path through the frame named. */
static json_t *hand_path(const corrstack *cs, const unsigned char *a, int64_t waiter, const unsigned char *wa,
                         int64_t fn) {
  json_t *p = corrstack_path(cs, waiter, a), *q = corrstack_path(cs, fn, wa), *out = json_array(), *v;
  size_t i;
  json_array_foreach(p, i, v) {
    json_array_append(out, v);
    if (corrstack_id(cs, json_string_value(v)) == waiter) break;
  }
  json_array_extend(out, q);
  json_decref(p);
  json_decref(q);
  return out;
}

typedef struct hand_case {
  const corrstack *cs;
  const char *name, *profile;
  int64_t waiter;
  double slow_in, slow_tot, nwin[2];
  corrpark_stay stay;
} hand_case;

static json_t *finding(const corrstack *cs, const hand_case *h, const corr_contrast *r, json_t *path) {
  char fbuf[512], wbuf[512], ev[1400], stay[240] = "";
  const char *fn = corrstack_function(cs->names[r->fn], fbuf, sizeof fbuf);
  const char *wn = corrstack_function(cs->names[h->waiter], wbuf, sizeof wbuf);
  double sa = r->a_fn / r->a_tot, sb = r->b_tot > 0 ? r->b_fn / r->b_tot : 0;
  if (h->stay.nb >= CORRELATE_PARK_REQUESTS)
    snprintf(
        stay, sizeof stay,
        "; a slow request waits %.1f samples there vs %.1f for the %zu typical ones (Mann-Whitney p = %.2g)",
        h->stay.mean_a, h->stay.mean_b, h->stay.nb, h->stay.p_value);
  snprintf(
      ev, sizeof ev,
      "hand-off (%s profile): %.0f of %.0f %s of the requests measured slow of %s wait in %s for work "
      "handed to another thread or goroutine%s; in the %.0f profile windows where its waiters were mostly "
      "slow, %s is on %.0f%% of %.0f busy samples of unlabelled workers vs %.0f%% of %.0f in the %.0f "
      "windows where they were mostly typical: the work they waited behind; two-proportion z test p = %.2g",
      h->profile, h->slow_in, h->slow_tot, strcmp(h->profile, "wall") ? "goroutine observations" : "samples",
      h->name, wn, stay, h->nwin[0], fn, sa * 100, r->a_tot, sb * 100, r->b_tot, h->nwin[1], r->p_value);
  json_t *f = json_pack(
      "{s:s,s:s,s:s,s:f,s:f,s:n,s:o,s:{s:I,s:I},s:f,s:s,s:s,s:f}", "kind", "wait", "request", h->name,
      "function", fn, "share", round(sa * 1000) / 1000, "baseline_share", round(sb * 1000) / 1000, "window",
      "path", path, "samples", "slow_waits", (json_int_t)llround(r->a_tot), "typical_waits",
      (json_int_t)llround(r->b_tot), "p_value", r->p_value, "evidence", ev, "profile", h->profile, "score",
      corrrank_score(CORRELATE_RANK_TAIL - CORRELATE_RANK_WAIT, sa - sb, r->p_value));
  return f;
}

/* The request's own wait finding on the waiting frame (where every request of the name waits for the pool:
 * the symptom) is the same time as f, which says what it waited behind: f takes its place (and its score,
 * when higher). */
static void replace_symptom(json_t *out, json_t *f, const hand_case *h) {
  char wbuf[512];
  const char *wn = corrstack_function(h->cs->names[h->waiter], wbuf, sizeof wbuf);
  for (size_t i = json_array_size(out); i-- > 0;) {
    const json_t *g = json_array_get(out, i);
    const char *req = json_string_value(json_object_get(g, "request"));
    if (!req || strcmp(req, h->name) != 0 ||
        strcmp(json_string_value(json_object_get(g, "kind")), "wait") != 0 ||
        strcmp(json_string_value(json_object_get(g, "function")), wn) != 0)
      continue;
    double sg = json_number_value(json_object_get(g, "score"));
    if (sg > json_number_value(json_object_get(f, "score"))) json_object_set_new(f, "score", json_real(sg));
    json_array_remove(out, i);
  }
}

/* One request name: 1 when its finding was appended, 0 when none passes, -ENOMEM. */
static int hand_one(const corrstack *cs, const unsigned char *cls, const unsigned char *loop, hand_case *h,
                    unsigned char *a, unsigned char *b, json_t *out) {
  size_t nw = 0;
  for (size_t i = 0; i < cs->n; i++) {
    a[i] = cls[i] == CORRJOIN_SLOW && is(&cs->s[i], h->name);
    b[i] = cls[i] == CORRJOIN_TYPICAL && is(&cs->s[i], h->name);
    nw = cs->s[i].window + 1 > nw ? cs->s[i].window + 1 : nw;
  }
  if ((h->waiter = hand_frame(cs, a, &h->slow_in, &h->slow_tot)) < 0) return 0;
  /* the slow requests must be the ones waiting longer there, not every request of the name alike */
  if (corrpark_measure(cs, a, b, h->waiter, &h->stay) < 0) return -ENOMEM;
  if (!corrpark_longer(cs, a, b, h->waiter)) return 0;
  double *sw = calloc(nw ? nw : 1, sizeof *sw), *tw = calloc(nw ? nw : 1, sizeof *tw);
  unsigned char *mark = calloc(nw ? nw : 1, 1), *wa = calloc(cs->n ? cs->n : 1, 1),
                *wb = calloc(cs->n ? cs->n : 1, 1);
  int rc = sw && tw && mark && wa && wb ? 0 : -ENOMEM;
  corr_contrast r = {.fn = -1};
  corr_opts o = {0};
  if (rc == 0) mark_windows(cs, a, b, h->waiter, nw, sw, tw, mark);
  h->nwin[0] = h->nwin[1] = 0;
  for (size_t w = 0; rc == 0 && w < nw; w++) h->nwin[0] += mark[w] == 1, h->nwin[1] += mark[w] == 2;
  for (size_t i = 0; rc == 0 && i < cs->n; i++) {
    int busy = busy_worker(cs, cls, loop, i);
    wa[i] = busy && mark[cs->s[i].window] == 1;
    wb[i] = busy && mark[cs->s[i].window] == 2;
  }
  if (rc == 0 && (rc = corrstack_contrast(cs, wa, wb, &o, &r)) == 0 && r.fn >= 0) {
    json_t *f = finding(cs, h, &r, hand_path(cs, a, h->waiter, wa, r.fn));
    replace_symptom(out, f, h);
    json_array_append_new(out, f);
    rc = 1;
  }
  json_decref(r.path);
  free(sw);
  free(tw);
  free(mark);
  free(wa);
  free(wb);
  return rc;
}

int corrhand_find(const corrstack *cs, const unsigned char *cls, const char *profile, json_t *out) {
  json_t *names = json_object();
  unsigned char *a = calloc(cs->n ? cs->n : 1, 1), *b = calloc(cs->n ? cs->n : 1, 1);
  unsigned char *loop = worker_loops(cs, cls);
  int rc = names && a && b && loop ? 0 : -ENOMEM, n = 0;
  for (size_t i = 0; rc == 0 && i < cs->n; i++)
    if (cls[i] == CORRJOIN_SLOW && cs->s[i].name) json_object_set_new(names, cs->s[i].name, json_true());
  const char *k;
  json_t *v;
  json_object_foreach(names, k, v) {
    if (rc < 0) break;
    hand_case h = {.cs = cs, .name = k, .profile = profile ? profile : "wall"};
    for (size_t i = 0; i < cs->n; i++) /* the name as the samples hold it (it outlives names) */
      if (is(&cs->s[i], k)) {
        h.name = cs->s[i].name;
        break;
      }
    int one = hand_one(cs, cls, loop, &h, a, b, out);
    if (one < 0) rc = one;
    n += one > 0;
  }
  free(a);
  free(b);
  free(loop);
  json_decref(names);
  return rc < 0 ? rc : n;
}
