/* corrinline.c - a lock taken inline (corrinline.h): the parked line, the function running beneath the same
 * frame in the seconds the requests pile up there, and a two-proportion test of that pile-up; and a Go
 * RWMutex's writer whose CPU rises with the readers' queue. */
#include "master/profile/corrinline.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"

/* Name of frame k of s in p. */
static const char *frame(const pprof_profile *p, const pprof_sample *s, size_t k) {
  return p->strings[p->functions[s->stack[k]].name];
}

static int is_library(const pprof_profile *p, const pprof_sample *s, size_t k) {
  const pprof_function *f = &p->functions[s->stack[k]];
  return corrstack_is_library(p->strings[f->name], f->filename ? p->strings[f->filename] : NULL);
}

static void add_to(json_t *o, const char *k, double v) {
  json_object_set_new(o, k, json_real(json_number_value(json_object_get(o, k)) + v));
}

/* Value index of type in p (its last value when absent). */
static size_t value_of(const pprof_profile *p, const char *type) {
  int vi = pprof_sample_type_index(p, type);
  return vi < 0 ? p->nsample_types - 1 : (size_t)vi;
}

/* Is n a lock's own acquiring frame (a Python method acquire / __enter__, logging.Handler.acquire,
 * threading.Condition.__enter__): the lock is then taken by its caller, the frame the holder runs under. */
static int lock_frame(const char *n) {
  const char *b = strrchr(n, '.');
  b = b ? b + 1 : n;
  return strcmp(b, "acquire") == 0 || strcmp(b, "__enter__") == 0;
}

/* The per-leaf tallies of the requests' (labelled) samples: wall ns and ticks of the wall windows, CPU ns
 * of the cpu windows. */
typedef struct leaf_tally {
  json_t *wall, *ticks, *cpu;
} leaf_tally;

static void tally_leaves(const correlate_window *win, size_t nw, leaf_tally *t) {
  for (size_t w = 0; w < nw; w++) {
    const pprof_profile *p = win[w].prof;
    int wall = strcmp(win[w].type, "wall") == 0;
    if ((!wall && strcmp(win[w].type, "cpu") != 0) || !p->nsample_types) continue;
    size_t vi = value_of(p, wall ? "wall" : "cpu");
    for (size_t i = 0; i < p->nsamples; i++) {
      const pprof_sample *s = &p->samples[i];
      if (!s->nlabels || !s->nstack) continue;
      add_to(wall ? t->wall : t->cpu, frame(p, s, 0), (double)s->values[vi]);
      if (wall) add_to(t->ticks, frame(p, s, 0), (double)s->values[0]);
    }
  }
}

/* The frame the lock is taken in for requests parked in leaf: leaf itself (`with self._lock:` in its own
 * code), or when leaf is a lock's acquiring frame its heaviest caller. NULL when none. */
static const char *scope_of(const correlate_window *win, size_t nw, const char *leaf) {
  if (!lock_frame(leaf)) return leaf;
  json_t *by = json_object();
  const char *k, *best = NULL;
  json_t *v;
  double bv = 0;
  for (size_t w = 0; w < nw; w++)
    for (size_t i = 0; strcmp(win[w].type, "wall") == 0 && i < win[w].prof->nsamples; i++) {
      const pprof_sample *s = &win[w].prof->samples[i];
      if (s->nlabels && s->nstack > 1 && strcmp(frame(win[w].prof, s, 0), leaf) == 0)
        add_to(by, frame(win[w].prof, s, 1), (double)s->values[0]);
    }
  json_object_foreach(by, k, v) if (json_number_value(v) > bv) bv = json_number_value(v), best = k;
  /* the keys die with by: return the profile's own string */
  for (size_t w = 0; best && w < nw; w++)
    for (size_t i = 0; strcmp(win[w].type, "wall") == 0 && i < win[w].prof->nsamples; i++) {
      const pprof_sample *s = &win[w].prof->samples[i];
      if (s->nstack > 1 && strcmp(frame(win[w].prof, s, 1), best) == 0) {
        best = frame(win[w].prof, s, 1);
        json_decref(by);
        return best;
      }
    }
  json_decref(by);
  return NULL;
}

/* What s runs beneath scope, not parked at leaf: the first service frame from scope's callee down to the
 * sample's leaf (the service's code under the lock: a reload, a handler's emit). NULL when s does not run
 * beneath scope, reaches leaf there, or runs only library code beneath it (releasing, formatting). */
static const char *holding(const pprof_profile *p, const pprof_sample *s, const char *scope,
                           const char *leaf) {
  if (!s->nstack || strcmp(frame(p, s, 0), leaf) == 0) return NULL;
  for (size_t k = s->nstack; k-- > 1;) {
    if (strcmp(frame(p, s, k), scope) != 0) continue;
    if (strcmp(frame(p, s, k - 1), leaf) == 0) return NULL;
    for (size_t j = k; j-- > 0;)
      if (!is_library(p, s, j)) return frame(p, s, j);
    return NULL;
  }
  return NULL;
}

/* The pile-up test of candidate leaf: 1 and *out filled when a holder passes. */
typedef struct pile {
  double in_p, in_r, out_p, out_r; /* parked / all request ticks in the holder's windows and the others */
  double held, all_held;           /* the holder's ticks beneath scope, everyone's */
  size_t nholders, hwin, nwin;
} pile;

/* The heaviest function running beneath scope (all samples: a holder may be any thread); NULL when none. */
static const char *heaviest_holder(const correlate_window *win, size_t nw, const char *scope,
                                   const char *leaf, pile *pl) {
  json_t *by = json_object();
  const char *k, *best = NULL, *h;
  json_t *v;
  for (size_t w = 0; w < nw; w++)
    for (size_t i = 0; strcmp(win[w].type, "wall") == 0 && i < win[w].prof->nsamples; i++) {
      const pprof_sample *s = &win[w].prof->samples[i];
      if ((h = holding(win[w].prof, s, scope, leaf)))
        add_to(by, h, (double)s->values[0]), pl->all_held += (double)s->values[0];
    }
  json_object_foreach(by, k, v) if (json_number_value(v) > pl->held) pl->held = json_number_value(v),
                                                                     best = k;
  pl->nholders = json_object_size(by);
  for (size_t w = 0; best && w < nw; w++) /* the profile's own string: by's keys die with it */
    for (size_t i = 0; strcmp(win[w].type, "wall") == 0 && i < win[w].prof->nsamples; i++)
      if ((h = holding(win[w].prof, &win[w].prof->samples[i], scope, leaf)) && strcmp(h, best) == 0) {
        json_decref(by);
        return h;
      }
  json_decref(by);
  return NULL;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* Requests' ticks parked at leaf, and all their ticks, in the wall windows where holder runs beneath scope
 * more than in the median window (where it holds longer: a reload's seconds, an fsync's stall) and in the
 * others. 0, or -1 without memory. */
static int split(const correlate_window *win, size_t nw, const char *scope, const char *leaf,
                 const char *holder, pile *pl) {
  double *g = calloc(nw ? 3 * nw : 1, sizeof *g), *park = g + nw, *all = park + nw;
  const char *h;
  size_t m = 0;
  for (size_t w = 0; g && w < nw; w++) {
    const pprof_profile *p = win[w].prof;
    if (strcmp(win[w].type, "wall") != 0) continue;
    for (size_t i = 0; i < p->nsamples; i++) {
      const pprof_sample *s = &p->samples[i];
      if ((h = holding(p, s, scope, leaf)) && strcmp(h, holder) == 0) g[m] += (double)s->values[0];
      if (!s->nlabels || !s->nstack) continue;
      all[m] += (double)s->values[0];
      park[m] += strcmp(frame(p, s, 0), leaf) == 0 ? (double)s->values[0] : 0;
    }
    m++;
  }
  if (!g) return -1;
  double *sorted = malloc((m ? m : 1) * sizeof *sorted);
  if (!sorted) return free(g), -1;
  memcpy(sorted, g, m * sizeof *sorted);
  qsort(sorted, m, sizeof *sorted, cmp_double);
  double med = m ? sorted[(m - 1) / 2] : 0; /* the lower median: a holder seen in half the windows is above */
  for (size_t w = 0; w < m; w++) {
    int in = g[w] > med;
    *(in ? &pl->in_p : &pl->out_p) += park[w];
    *(in ? &pl->in_r : &pl->out_r) += all[w];
    pl->hwin += (size_t)in;
  }
  pl->nwin = m;
  free(sorted);
  free(g);
  return 0;
}

/* Request name owning >= LOCK_NAME_SHARE of the CPU samples holding fn, else NULL. */
static const char *owner(const corrstack *cs, int64_t fn) {
  json_t *by = json_object();
  double tot = 0, best = 0;
  const char *k, *name = NULL;
  json_t *v;
  for (size_t i = 0; fn >= 0 && i < cs->n; i++)
    if (corrstack_holds(&cs->s[i], fn)) {
      tot += cs->s[i].value;
      if (cs->s[i].name) add_to(by, cs->s[i].name, cs->s[i].value);
    }
  json_object_foreach(by, k, v) if (json_number_value(v) > best) best = json_number_value(v), name = k;
  if (tot <= 0 || best < CORRELATE_LOCK_NAME_SHARE * tot) name = NULL;
  for (size_t i = 0; name && i < cs->n; i++) /* the join's pooled string, which outlives by */
    if (cs->s[i].name && strcmp(cs->s[i].name, name) == 0) {
      name = cs->s[i].name;
      break;
    }
  json_decref(by);
  return name;
}

/* The holder is the scope's own code (its comprehension, generator or lambda, corrstack_function): requests
 * of a function wait while that function's own loop runs in another thread, as a GIL-bound service's
 * threads do; no lock tells those apart from a queue on the GIL, and the request's own cost is what the
 * tail and endpoint methods name. */
static int own_code(const char *scope, const char *holder) {
  char a[512], b[512];
  return strcmp(corrstack_function(scope, a, sizeof a), corrstack_function(holder, b, sizeof b)) == 0;
}

/* Candidate leaf: the holder beneath its scope when the requests parked there pile up in the holder's
 * seconds (LOCK_SHARE of the work beneath the scope, INLINE_RISE x the parked share, p < ALPHA). */
static int try_leaf(const correlate_window *win, size_t nw, const corrstack *cpu, const char *leaf,
                    double wall_ns, double cpu_ns, corrlock_result *out) {
  const char *scope = scope_of(win, nw, leaf), *holder;
  pile pl = {0};
  if (!scope || !(holder = heaviest_holder(win, nw, scope, leaf, &pl)) || own_code(scope, holder)) return 0;
  if (pl.held < CORRELATE_MIN_BASELINE || pl.held < CORRELATE_LOCK_SHARE * pl.all_held) return 0;
  /* the holder runs as much in every window: nothing to contrast */
  if (split(win, nw, scope, leaf, holder, &pl) < 0 || pl.in_r <= 0 || pl.out_r <= 0) return 0;
  double rin = pl.in_p / pl.in_r, rout = pl.out_p / pl.out_r;
  double pv = corrstack_ztest(pl.in_p, pl.in_r, pl.out_p, pl.out_r);
  if (rin < CORRELATE_INLINE_RISE * rout || pv >= CORRELATE_ALPHA) return 0;
  int64_t id = corrstack_id(cpu, holder);
  snprintf(
      out->evidence, sizeof out->evidence,
      "wall profile: requests stayed %.3f s (%.0f samples) parked at one line of %s, with %.0f%% of it on "
      "CPU (a lock taken inline, `with lock:`, waits in C with no frame of its own); %s runs beneath %s "
      "(%.0f%% of the %.0f samples of the %zu functions doing so): in the %zu of %zu profile windows "
      "where it runs more than in the median one, %.1f%% of the requests' samples are parked there vs %.1f%% "
      "in the others "
      "(two-proportion z test p = %.2g): requests queue while it holds what %s takes",
      wall_ns / (double)CLOCK_NS_PER_S, pl.in_p + pl.out_p, leaf, wall_ns > 0 ? cpu_ns / wall_ns * 100 : 0,
      holder, scope, pl.held / pl.all_held * 100, pl.all_held, pl.nholders, pl.hwin, pl.nwin, rin * 100,
      rout * 100, pv, scope);
  snprintf(out->fn, sizeof out->fn, "%s", holder);
  snprintf(out->waited, sizeof out->waited, "%s", leaf);
  out->request = owner(cpu, id);
  out->share = pl.held / pl.all_held, out->base = 1.0 / (double)pl.nholders;
  out->x = pl.in_p, out->ncont = pl.in_p + pl.out_p, out->p_value = pv;
  out->delay_ms = clock_ns_to_ms_frac(wall_ns);
  out->path = id >= 0 ? corrstack_path(cpu, id, NULL) : json_pack("[s]", holder);
  return 1;
}

typedef struct cand {
  const char *leaf;
  double wall, ticks, cpu;
} cand;

static int heavier(const void *a, const void *b) {
  double x = ((const cand *)a)->wall, y = ((const cand *)b)->wall;
  return (x < y) - (x > y);
}

int corrinline_find(const correlate_window *win, size_t nw, const corrstack *cpu, double req_ms,
                    corrlock_result *out) {
  leaf_tally t = {json_object(), json_object(), json_object()};
  tally_leaves(win, nw, &t);
  size_t n = 0, cap = json_object_size(t.wall);
  cand *c = calloc(cap ? cap : 1, sizeof *c);
  const char *k;
  json_t *v;
  json_object_foreach(t.wall, k, v) {
    double ticks = json_number_value(json_object_get(t.ticks, k)), wall = json_number_value(v),
           used = json_number_value(json_object_get(t.cpu, k));
    /* parked: many samples, little CPU, a cost to the requests (LOCK_LATENCY of their time) */
    if (!c || ticks < CORRELATE_MIN_SAMPLES || used > CORRELATE_INLINE_CPU * wall ||
        (req_ms >= 0 && clock_ns_to_ms_frac(wall) < CORRELATE_LOCK_LATENCY * req_ms))
      continue;
    c[n++] = (cand){k, wall, ticks, used};
  }
  if (n) qsort(c, n, sizeof *c, heavier);
  int found = 0;
  for (size_t i = 0; i < n && !found; i++) {
    /* the leaf's own string in the profiles: t's keys die with it */
    const char *leaf = NULL;
    for (size_t w = 0; !leaf && w < nw; w++)
      for (size_t j = 0; !leaf && strcmp(win[w].type, "wall") == 0 && j < win[w].prof->nsamples; j++)
        if (win[w].prof->samples[j].nstack &&
            strcmp(frame(win[w].prof, &win[w].prof->samples[j], 0), c[i].leaf) == 0)
          leaf = frame(win[w].prof, &win[w].prof->samples[j], 0);
    found = leaf && try_leaf(win, nw, cpu, leaf, c[i].wall, c[i].cpu, out);
  }
  free(c);
  json_decref(t.wall), json_decref(t.ticks), json_decref(t.cpu);
  return found;
}

/* ---------- a writer computing under a sync.RWMutex (Go block profiles) ---------- */

/* Is s a reader blocked in sync.(*RWMutex).RLock? */
static int in_rlock(const pprof_profile *p, const pprof_sample *s) {
  for (size_t k = 0; k < s->nstack; k++)
    if (strcmp(frame(p, s, k), "sync.(*RWMutex).RLock") == 0) return 1;
  return 0;
}

/* The service functions taking a sync.RWMutex's write side (the first service frame above its Lock or
 * Unlock) in any profile of the run, as keys of w. */
static void writers(const correlate_window *win, size_t nw, json_t *w) {
  for (size_t x = 0; x < nw; x++)
    for (size_t i = 0; i < win[x].prof->nsamples; i++) {
      const pprof_profile *p = win[x].prof;
      const pprof_sample *s = &p->samples[i];
      for (size_t k = 0; k + 1 < s->nstack; k++) {
        const char *n = frame(p, s, k);
        if (strcmp(n, "sync.(*RWMutex).Lock") != 0 && strcmp(n, "sync.(*RWMutex).Unlock") != 0) continue;
        for (size_t j = k + 1; j < s->nstack; j++)
          if (!is_library(p, s, j)) {
            json_object_set_new(w, frame(p, s, j), json_true());
            break;
          }
        break;
      }
    }
}

/* CPU samples (count) holding fn in the cpu windows, spread over window [t0, t1) by overlap. */
static double cpu_in(const correlate_window *win, size_t nw, const char *fn, int64_t t0, int64_t t1) {
  double v = 0;
  for (size_t w = 0; w < nw; w++) {
    int64_t a = win[w].start_ms > t0 ? win[w].start_ms : t0, b = win[w].end_ms < t1 ? win[w].end_ms : t1;
    if (strcmp(win[w].type, "cpu") != 0 || b <= a || win[w].end_ms <= win[w].start_ms) continue;
    double f = (double)(b - a) / (double)(win[w].end_ms - win[w].start_ms), in = 0;
    const pprof_profile *p = win[w].prof;
    for (size_t i = 0; i < p->nsamples; i++)
      for (size_t k = 0; k < p->samples[i].nstack; k++)
        if (strcmp(frame(p, &p->samples[i], k), fn) == 0) {
          in += (double)p->samples[i].values[0];
          break;
        }
    v += f * in;
  }
  return v;
}

/* Share of fn's CPU samples (count, cpu windows) that carry no request's labels: background work. */
static double background(const correlate_window *win, size_t nw, const char *fn) {
  double all = 0, bg = 0;
  for (size_t w = 0; w < nw; w++)
    for (size_t i = 0; strcmp(win[w].type, "cpu") == 0 && i < win[w].prof->nsamples; i++) {
      const pprof_sample *s = &win[w].prof->samples[i];
      for (size_t k = 0; k < s->nstack; k++)
        if (strcmp(frame(win[w].prof, s, k), fn) == 0) {
          all += (double)s->values[0], bg += s->nlabels ? 0 : (double)s->values[0];
          break;
        }
    }
  return all > 0 ? bg / all : 0;
}

typedef struct rq {
  double d, n, t, cpu; /* a block window's readers' delay (ns), contentions, length (ms), the writer's CPU */
} rq;

static int by_cpu(const void *a, const void *b) {
  double x = ((const rq *)a)->cpu, y = ((const rq *)b)->cpu;
  return (x > y) - (x < y);
}

/* Writer fn against the readers' queue of each block window (q, m windows): p-value of the binomial z test,
 * or 1; *rise the ratio of delay per ms in the windows where fn computes more than in the median one. */
static double queue_test(rq *q, size_t m, double *rise, double *x_out, double *n_out) {
  rq *s = malloc((m ? m : 1) * sizeof *s);
  if (!s) return 1;
  memcpy(s, q, m * sizeof *s);
  qsort(s, m, sizeof *s, by_cpu);
  double med = m ? s[(m - 1) / 2].cpu : 0, d = 0, din = 0, t = 0, tin = 0, n = 0;
  free(s);
  for (size_t w = 0; w < m; w++) {
    int in = q[w].cpu > med;
    d += q[w].d, t += q[w].t, n += q[w].n;
    din += in ? q[w].d : 0, tin += in ? q[w].t : 0;
  }
  *rise = 0;
  if (d <= 0 || tin <= 0 || tin >= t || n <= 0) return 1;
  double rout = (d - din) / (t - tin), rin = din / tin;
  *rise = rout > 0 ? rin / rout : 1e9;
  double p0 = tin / t, x = din / d * n, z = (x - n * p0) / sqrt(n * p0 * (1 - p0));
  *x_out = x, *n_out = n;
  return 0.5 * erfc(z / sqrt(2.0));
}

int corrinline_writer(const correlate_window *win, size_t nw, const corrstack *cpu, double req_ms,
                      corrlock_result *out) {
  size_t m = 0;
  rq *q = calloc(nw ? nw : 1, sizeof *q);
  double d = 0, n = 0;
  for (size_t w = 0; q && w < nw; w++) {
    const pprof_profile *p = win[w].prof;
    if (strcmp(win[w].type, "block") != 0 || p->nsample_types < 2) continue;
    size_t vi = value_of(p, "delay");
    q[m].t = (double)(win[w].end_ms - win[w].start_ms);
    for (size_t i = 0; i < p->nsamples; i++)
      if (in_rlock(p, &p->samples[i]))
        q[m].d += (double)p->samples[i].values[vi], q[m].n += (double)p->samples[i].values[0];
    d += q[m].d, n += q[m].n, m++;
  }
  json_t *ws = json_object();
  if (q && n >= CORRELATE_MIN_SAMPLES &&
      (req_ms < 0 || clock_ns_to_ms_frac(d) >= CORRELATE_LOCK_LATENCY * req_ms))
    writers(win, nw, ws);
  const char *k, *best = NULL;
  json_t *v;
  double bp = CORRELATE_ALPHA, brise = 0, bx = 0, bn = 0;
  json_object_foreach(ws, k, v) {
    if (background(win, nw, k) < CORRELATE_INLINE_BACKGROUND)
      continue; /* a request's: the request methods' */
    for (size_t w = 0, j = 0; w < nw; w++)
      if (strcmp(win[w].type, "block") == 0 && win[w].prof->nsample_types >= 2)
        q[j++].cpu = cpu_in(win, nw, k, win[w].start_ms, win[w].end_ms);
    double rise, x = 0, nn = 0, pv = queue_test(q, m, &rise, &x, &nn);
    if (rise >= CORRELATE_INLINE_RISE && pv < bp) bp = pv, best = k, brise = rise, bx = x, bn = nn;
  }
  int found = 0;
  int64_t id = best ? corrstack_id(cpu, best) : -1;
  if (best) {
    snprintf(
        out->evidence, sizeof out->evidence,
        "block profile: readers waited %.3f s in sync.(*RWMutex).RLock over %.0f contentions (no holder "
        "in the mutex or block profile: a writer computing under the lock blocks nowhere); %s, background "
        "work, takes the write side, and in the profile windows where its CPU samples are above the median "
        "window's "
        "the readers' delay per second is %.1fx the others' (binomial z test of %.0f delay-weighted "
        "contentions against those windows' share of the time p = %.2g)",
        d / (double)CLOCK_NS_PER_S, n, best, brise, bx, bp);
    snprintf(out->fn, sizeof out->fn, "%s", best);
    out->request = id >= 0 ? owner(cpu, id) : NULL;
    out->share = bx / bn, out->base = 0, out->x = bx, out->ncont = bn, out->p_value = bp;
    out->delay_ms = clock_ns_to_ms_frac(d);
    out->path = id >= 0 ? corrstack_path(cpu, id, NULL) : json_pack("[s]", best);
    found = 1;
  }
  json_decref(ws);
  free(q);
  return found;
}
