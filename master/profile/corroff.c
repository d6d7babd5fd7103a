/* corroff.c - the window method on time off CPU (corroff.h). */
#include "master/profile/corroff.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "master/profile/corrrank.h"
#include "master/profile/perfsplit.h"

/* A wait on another thread of the process: the futex syscall (the kernel's frames) or the C library's lock,
 * condition and semaphore calls above it. */
static int on_thread(const corrstack *cs, const corr_sample *s) {
  static const char *const pre[] = {"futex_wait",
                                    "do_futex",
                                    "__x64_sys_futex",
                                    "pthread_mutex_",
                                    "__pthread_mutex_",
                                    "___pthread_mutex_",
                                    "pthread_rwlock_",
                                    "__pthread_rwlock_",
                                    "pthread_cond_",
                                    "__pthread_cond_",
                                    "___pthread_cond_",
                                    "__lll_lock_wait",
                                    "sem_wait",
                                    "sem_timedwait",
                                    "__new_sem_wait",
                                    "pthread_barrier_w",
                                    "__pthread_barrier_w",
                                    NULL};
  for (size_t k = 0; k < s->nstack; k++) {
    const char *n = cs->names[s->stack[k]], *tag = n[0] == '[' ? strstr(n, "] ") : NULL;
    if (corrstack_has_prefix(tag ? tag + 2 : n, pre)) return 1;
  }
  return 0;
}

/* Depth of each frame from its sample's root, the least over a's samples (outermost = smallest). */
static void depths(const corrstack *cs, const unsigned char *a, double *d) {
  for (size_t f = 0; f < cs->nnames; f++) d[f] = INFINITY;
  for (size_t i = 0; i < cs->n; i++)
    for (size_t k = 0; a[i] && k < cs->s[i].nstack; k++)
      d[cs->s[i].stack[k]] = fmin(d[cs->s[i].stack[k]], (double)(cs->s[i].nstack - 1 - k));
}

/* The normal windows' CPU share of frame name (0 when the CPU samples never hold it). */
static double cpu_share(const corrstack *cpu, const double *incl, double tot, const char *name) {
  int64_t id = corrstack_id(cpu, name);
  return id >= 0 && tot > 0 ? incl[id] / tot : 0;
}

typedef struct pick_ctx {
  const corrstack *off;
  const double *ia, *ib, *depth, *cpu_incl;
  double na, nb, cpu_tot;
  const corrstack *cpu;
} pick_ctx;

/* corroff.h's frame: the largest rise, then the least normal CPU share, then the outermost. */
static int64_t pick(const pick_ctx *x, const unsigned char *cand) {
  double max = 0, least = INFINITY;
  int64_t best = -1;
  for (size_t f = 0; f < x->off->nnames; f++)
    if (cand[f]) max = fmax(max, x->ia[f] / x->na - x->ib[f] / x->nb);
  if (max <= 0) return -1;
  for (size_t f = 0; f < x->off->nnames; f++)
    if (cand[f] && x->ia[f] / x->na - x->ib[f] / x->nb >= (1 - CORRELATE_TOLERANCE) * max)
      least = fmin(least, cpu_share(x->cpu, x->cpu_incl, x->cpu_tot, x->off->names[f]));
  for (size_t f = 0; f < x->off->nnames; f++)
    if (cand[f] && x->ia[f] / x->na - x->ib[f] / x->nb >= (1 - CORRELATE_TOLERANCE) * max &&
        cpu_share(x->cpu, x->cpu_incl, x->cpu_tot, x->off->names[f]) <= least + CORRELATE_TOLERANCE &&
        (best < 0 || x->depth[f] < x->depth[best]))
      best = (int64_t)f;
  return best;
}

static json_t *make_finding(const corrstack *off, const unsigned char *a, int64_t fn, double xa, double xb,
                            double ta, double tb, double na, double nb, double p, const corrwin_times *tm) {
  char ev[1200], fbuf[512];
  const char *name = corrstack_function(off->names[fn], fbuf, sizeof fbuf);
  double sa = ta > 0 ? xa / ta : 0, sb = tb > 0 ? xb / tb : 0;
  snprintf(
      ev, sizeof ev,
      "time windows (offcpu profile: perf sched_switch waits, %.0f ms ticks): %zu of %zu steady "
      "intervals stand out (strongest: %s); in the profile windows overlapping them threads waited off "
      "CPU in %s %.1f ticks per second of window vs %.1f in the others (%.0f of %.0f ticks vs %.0f of "
      "%.0f; waits on the process's own locks left out); conditional binomial test of the rates p = %.2g",
      PERFSPLIT_OFFCPU_TICK_MS, tm->bad, tm->judged, tm->why, name, xa / na, xb / nb, xa, ta, xb, tb, p);
  json_t *win = json_array(), *s;
  size_t i;
  json_array_foreach(tm->spans, i, s) {
    double from_s = clock_ms_to_s((double)json_integer_value(json_array_get(s, 0)));
    double to_s = clock_ms_to_s((double)json_integer_value(json_array_get(s, 1)));
    json_array_append_new(win, json_pack("[f,f]", from_s, to_s));
  }
  return json_pack("{s:s,s:n,s:s,s:f,s:f,s:o,s:o,s:{s:I,s:I},s:f,s:s,s:s,s:f}", "kind", "window", "request",
                   "function", name, "share", round(sa * 1000) / 1000, "baseline_share",
                   round(sb * 1000) / 1000, "window", win, "path", corrstack_path(off, fn, a), "samples",
                   "anomalous", (json_int_t)llround(ta), "normal", (json_int_t)llround(tb), "p_value", p,
                   "evidence", ev, "profile", "offcpu", "score",
                   round(corrrank_score(CORRELATE_RANK_WINDOW, sa - sb, p) * 1000) / 1000);
}

/* The thread of a wait: its "[tid N]" frame below the command (folded.h), else -1 (one group for all). */
static int64_t thread_of(const corrstack *cs, const corr_sample *s) {
  if (s->nstack < 2) return -1;
  uint32_t t = s->stack[s->nstack - 2];
  return strncmp(cs->names[t], "[tid ", 5) == 0 ? (int64_t)t : -1;
}

/* Frames where the threads idle (corroff.h): per frame, its normal ticks over the normal ticks of the threads
 * that wait in it, >= CORRELATE_OFFCPU_IDLE. idle has nnames entries. 0 or -ENOMEM. */
static int idle_frames(const corrstack *cs, const unsigned char *b, unsigned char *idle) {
  size_t nf = cs->nnames ? cs->nnames : 1;
  double *num = calloc(nf, sizeof *num), *den = calloc(nf, sizeof *den), *incl = calloc(nf, sizeof *incl);
  unsigned char *m = calloc(cs->n ? cs->n : 1, 1), *done = calloc(nf + 1, 1);
  int rc = -ENOMEM;
  if (!num || !den || !incl || !m || !done) goto out;
  for (size_t i = 0; i < cs->n; i++) {
    int64_t t = thread_of(cs, &cs->s[i]);
    size_t slot = t < 0 ? nf : (size_t)t;
    if (!b[i] || done[slot]) continue;
    done[slot] = 1;
    for (size_t j = 0; j < cs->n; j++) m[j] = b[j] && thread_of(cs, &cs->s[j]) == t;
    double tot = corrstack_inclusive(cs, m, incl);
    for (size_t f = 0; f < cs->nnames; f++)
      if (incl[f] > 0) num[f] += incl[f], den[f] += tot;
  }
  for (size_t f = 0; f < cs->nnames; f++) idle[f] = den[f] > 0 && num[f] / den[f] >= CORRELATE_OFFCPU_IDLE;
  rc = 0;
out:
  free(num), free(den), free(incl), free(m), free(done);
  return rc;
}

/* A window's class; a normal one before the first anomalous window is neither (corroff.h). */
static int klass(const corrwin_times *tm, const correlate_window *w, int64_t first) {
  int k = corrwin_class(tm, w->start_ms, w->end_ms);
  return k == CORRWIN_NORMAL && w->start_ms < first ? CORRWIN_NEITHER : k;
}

json_t *corroff_window(const correlate_window *win, size_t nw, const corrwin_times *tm, const corrstack *cpu,
                       const unsigned char *cpu_normal, double *excess) {
  corrstack off;
  json_t *f = NULL;
  double na = 0, nb = 0;
  int oom = 0;
  corrstack_init(&off);
  *excess = 0;
  int64_t first = INT64_MAX; /* the first anomalous window: the normal ones count from there (corroff.h) */
  for (size_t w = 0; w < nw; w++)
    if (strcmp(win[w].type, "offcpu") == 0 &&
        corrwin_class(tm, win[w].start_ms, win[w].end_ms) == CORRWIN_ANOMALOUS)
      first = win[w].start_ms < first ? win[w].start_ms : first;
  for (size_t w = 0; w < nw; w++) {
    if (strcmp(win[w].type, "offcpu") != 0 || !win[w].prof->nsample_types) continue;
    int k = klass(tm, &win[w], first);
    double s = clock_ms_to_s(win[w].end_ms - win[w].start_ms);
    na += k == CORRWIN_ANOMALOUS ? s : 0, nb += k == CORRWIN_NORMAL ? s : 0;
    for (size_t i = 0; !oom && i < win[w].prof->nsamples; i++)
      oom = win[w].prof->samples[i].values[0] > 0 &&
            corrstack_add(&off, win[w].prof, &win[w].prof->samples[i], 0, w) < 0;
  }
  size_t nf = off.nnames ? off.nnames : 1;
  unsigned char *a = calloc(off.n ? off.n : 1, 1), *b = calloc(off.n ? off.n : 1, 1), *cand = calloc(nf, 1);
  unsigned char *idle = calloc(nf, 1);
  double *ia = calloc(nf, sizeof *ia), *ib = calloc(nf, sizeof *ib), *depth = calloc(nf, sizeof *depth);
  double *ci = calloc(cpu->nnames ? cpu->nnames : 1, sizeof *ci);
  if (oom || !a || !b || !cand || !idle || !ia || !ib || !depth || !ci || na <= 0 || nb <= 0) goto done;
  for (size_t i = 0; i < off.n; i++) {
    int k = klass(tm, &win[off.s[i].window], first);
    int mine = !on_thread(&off, &off.s[i]);
    a[i] = mine && k == CORRWIN_ANOMALOUS, b[i] = mine && k == CORRWIN_NORMAL;
  }
  if (idle_frames(&off, b, idle) < 0) goto done;
  double ta = corrstack_inclusive(&off, a, ia), tb = corrstack_inclusive(&off, b, ib);
  depths(&off, a, depth);
  for (size_t fr = 0; fr < off.nnames; fr++) /* the service's frames below the thread's root, not idle */
    cand[fr] = ia[fr] > 0 && depth[fr] > 0 && !corrstack_plumbing(&off, (int64_t)fr) && !idle[fr];
  pick_ctx x = {&off, ia, ib, depth, ci, na, nb, corrstack_inclusive(cpu, cpu_normal, ci), cpu};
  int64_t fn = pick(&x, cand);
  if (fn < 0 || ia[fn] < CORRELATE_MIN_SAMPLES || ia[fn] / na < CORRELATE_MIN_RATIO * ib[fn] / nb) goto done;
  double all = ia[fn] + ib[fn], p0 = na / (na + nb);
  double p = 0.5 * erfc((ia[fn] - all * p0) / sqrt(all * p0 * (1 - p0)) / sqrt(2.0));
  if (!(p < CORRELATE_ALPHA)) goto done;
  *excess = ia[fn] / na - ib[fn] / nb;
  f = make_finding(&off, a, fn, ia[fn], ib[fn], ta, tb, na, nb, p, tm);
done:
  free(a), free(b), free(cand), free(idle), free(ia), free(ib), free(depth), free(ci);
  corrstack_free(&off);
  return f;
}
