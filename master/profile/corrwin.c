/* corrwin.c - robust anomalous intervals from intervals.jsonl (see corrwin.h). */
#include "master/profile/corrwin.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/rundir.h"
#include "master/profile/corrdesc.h"
#include "master/profile/correlate.h"

enum { SIG_P50, SIG_P99, SIG_MEAN, SIG_RPS, SIG_ERR, SIG_COUNT };
static const char *const sig_key[SIG_COUNT] = {"p50_ms", "p99_ms", "mean_ms", "rps", "errors"};
static const char *const sig_word[SIG_COUNT] = {"p50", "p99", "mean latency", "throughput", "error rate"};

typedef struct wintab {
  int64_t *t; /* sorted distinct interval starts */
  size_t nt;
  int64_t step_ms; /* median interval length */
  unsigned char *steady;
  unsigned char *bad;
  double *z; /* per interval: the strongest robust z of the series that marked it bad */
} wintab;

static int cmp_i64(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return (x > y) - (x < y);
}

static int cmp_dbl(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static double median(double *v, size_t n) {
  if (!n) return 0;
  qsort(v, n, sizeof *v, cmp_dbl);
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static long find_t(const wintab *w, int64_t t) {
  const int64_t *hit = bsearch(&t, w->t, w->nt, sizeof *w->t, cmp_i64);
  return hit ? (long)(hit - w->t) : -1;
}

/* Distinct times, median step, steady marks (from the "(all)" lines' rate, or users when no rate). */
static int table(const json_t *iv, wintab *w) {
  size_t n = json_array_size(iv), i, k = 0;
  json_t *o;
  w->t = calloc(n ? n : 1, sizeof *w->t);
  if (!w->t) return -ENOMEM;
  json_array_foreach(iv, i, o) w->t[k++] = json_integer_value(json_object_get(o, "t"));
  qsort(w->t, k, sizeof *w->t, cmp_i64);
  for (i = 0; i < k; i++)
    if (!w->nt || w->t[w->nt - 1] != w->t[i]) w->t[w->nt++] = w->t[i];
  w->steady = calloc(w->nt ? w->nt : 1, 1);
  w->bad = calloc(w->nt ? w->nt : 1, 1);
  w->z = calloc(w->nt ? w->nt : 1, sizeof *w->z);
  double *load = calloc(w->nt ? w->nt : 1, sizeof *load), *tmp = calloc(w->nt ? w->nt : 1, sizeof *tmp);
  if (!w->steady || !w->bad || !w->z || !load || !tmp) {
    free(load);
    free(tmp);
    return -ENOMEM;
  }
  json_array_foreach(iv, i, o) {
    const char *nm = json_string_value(json_object_get(o, "name"));
    long x = find_t(w, json_integer_value(json_object_get(o, "t")));
    if (x < 0 || !nm || strcmp(nm, RUNDIR_TOTAL_NAME) != 0) continue;
    /* the offered load: the arrival rate of an open model (its users only follow the latency: more VUs
     * are taken when requests slow down), the users of a closed one */
    double rate = json_number_value(json_object_get(o, "rate"));
    load[x] = rate > 0 ? rate : json_number_value(json_object_get(o, "users"));
    if (!w->step_ms) w->step_ms = json_integer_value(json_object_get(o, "interval_ms"));
  }
  if (w->step_ms <= 0) w->step_ms = w->nt > 1 ? w->t[1] - w->t[0] : 1000;
  memcpy(tmp, load, w->nt * sizeof *tmp);
  double med = median(tmp, w->nt);
  for (i = 1; i + 1 < w->nt; i++) w->steady[i] = load[i] >= 0.9 * med;
  free(load);
  free(tmp);
  return 0;
}

/* Value of signal sig on line o (error rate = errors / count). */
static double signal(const json_t *o, int sig) {
  double v = json_number_value(json_object_get(o, sig_key[sig]));
  if (sig == SIG_ERR) {
    double c = json_number_value(json_object_get(o, "count"));
    return c > 0 ? v / c : 0;
  }
  return v;
}

/* Judge one series (one name, one signal): mark anomalous steady intervals in w->bad; keep the strongest. */
static void judge(wintab *w, const double *x, const unsigned char *have, const char *name, int sig,
                  double *best, char *why, size_t whylen) {
  double *v = calloc(w->nt ? w->nt : 1, sizeof *v), *d = calloc(w->nt ? w->nt : 1, sizeof *d);
  size_t n = 0;
  if (!v || !d) goto out;
  for (size_t i = 0; i < w->nt; i++)
    if (w->steady[i] && have[i]) v[n++] = x[i];
  if (n < 5) goto out;
  double med = median(v, n);
  for (size_t i = 0; i < n; i++) d[i] = fabs(v[i] - med);
  double sigma = 1.4826 * median(d, n), floor = CORRELATE_WIN_FLOOR * med;
  if (sig == SIG_ERR && floor < 0.01) floor = 0.01; /* one error in a hundred is not an anomaly */
  double step_s = (double)w->step_ms / 1000;
  if (sig == SIG_RPS && sqrt(med * step_s) / step_s > floor) /* random arrivals: a count varies by its root */
    floor = sqrt(med * step_s) / step_s;
  if (sigma < floor) sigma = floor;
  if (sigma <= 0) goto out;
  for (size_t i = 0; i < w->nt; i++) {
    if (!w->steady[i] || !have[i]) continue;
    double z = sig == SIG_RPS ? (med - x[i]) / sigma : (x[i] - med) / sigma;
    int far = sig == SIG_RPS ? x[i] * CORRELATE_WIN_REL <= med : x[i] >= CORRELATE_WIN_REL * med;
    if (z < CORRELATE_WIN_Z || !far) continue;
    w->bad[i] = 1;
    if (z > w->z[i]) w->z[i] = z;
    if (z > *best && why) {
      *best = z;
      snprintf(why, whylen, "%s of %s %.4g vs median %.4g", sig_word[sig], name, x[i], med);
    }
  }
out:
  free(v);
  free(d);
}

/* All signals of one name (NULL: the total). */
static int judge_name(wintab *w, const json_t *iv, const char *name, double *best, char *why, size_t whylen) {
  double *x = calloc(w->nt ? w->nt : 1, sizeof *x), *cnt = calloc(w->nt ? w->nt : 1, sizeof *cnt);
  unsigned char *have = calloc(w->nt ? w->nt : 1, 1);
  size_t i, nc = 0;
  json_t *o;
  int rc = -ENOMEM;
  if (!x || !cnt || !have) goto out;
  rc = 0;
  json_array_foreach(iv, i, o) { /* a name's series is judged when it has enough requests per interval */
    const char *nm = json_string_value(json_object_get(o, "name"));
    long k = find_t(w, json_integer_value(json_object_get(o, "t")));
    if (k >= 0 && nm && strcmp(nm, name ? name : RUNDIR_TOTAL_NAME) == 0 && w->steady[k])
      cnt[nc++] = json_number_value(json_object_get(o, "count"));
  }
  if (median(cnt, nc) < (name ? CORRELATE_WIN_MIN_COUNT : 1)) goto out;
  for (int sig = 0; sig < SIG_COUNT; sig++) {
    memset(have, 0, w->nt);
    json_array_foreach(iv, i, o) {
      const char *nm = json_string_value(json_object_get(o, "name"));
      long k = find_t(w, json_integer_value(json_object_get(o, "t")));
      if (k < 0 || !nm || strcmp(nm, name ? name : RUNDIR_TOTAL_NAME) != 0) continue;
      x[k] = signal(o, sig);
      have[k] = 1;
    }
    judge(w, x, have, name ? name : "all requests", sig, best, why, whylen);
  }
out:
  free(x);
  free(cnt);
  free(have);
  return rc;
}

/* Merged spans of the intervals with mark[i]. */
static void merge(const wintab *w, const unsigned char *mark, json_t *spans) {
  for (size_t i = 0; i < w->nt; i++) {
    if (!mark[i]) continue;
    size_t e = i;
    while (e + 1 < w->nt && mark[e + 1] && w->t[e + 1] - w->t[e] <= w->step_ms) e++;
    json_array_append_new(spans, json_pack("[I,I]", (json_int_t)w->t[i], (json_int_t)(w->t[e] + w->step_ms)));
    i = e;
  }
}

/* More than max intervals anomalous: keep the ones that stand out most, as many as max allows (intervals
 * whose strongest z ties at the cut are all dropped), when the strongest stand out by WIN_STRONGEST x WIN_Z;
 * else all stay (and no window is judged). A busy machine's stalls mark seconds of their own beside a
 * fault's, in some series or other; the fault's stand out by far more. */
static void strongest(wintab *w, double max) {
  size_t n = 0, i, keep = (size_t)max, ge = 0;
  double *v = calloc(w->nt ? w->nt : 1, sizeof *v), cut;
  for (i = 0; v && i < w->nt; i++)
    if (w->bad[i]) v[n++] = w->z[i];
  if (!v || !CORRELATE_WIN_STRONGEST || (double)n <= max || !keep) goto out;
  qsort(v, n, sizeof *v, cmp_dbl);
  cut = v[n - keep]; /* the keep-th largest */
  if (v[n - 1] < CORRELATE_WIN_STRONGEST * CORRELATE_WIN_Z) goto out;
  for (i = 0; i < n; i++) ge += v[i] >= cut;
  for (i = 0; i < w->nt; i++) /* ties at the cut that would pass max: all of them out */
    if (w->bad[i] && (w->z[i] < cut || (ge > keep && w->z[i] <= cut))) w->bad[i] = 0;
out:
  free(v);
}

int corrwin_spans(const json_t *intervals, json_t **spans, size_t *judged, size_t *bad, char *why,
                  size_t whylen) {
  wintab w = {0};
  json_t *names = json_object(), *o;
  const char *k;
  double best = 0;
  size_t i;
  int rc = -ENOMEM;
  *spans = json_array();
  *judged = *bad = 0;
  if (why && whylen) why[0] = '\0';
  if (!*spans || !names || table(intervals, &w) < 0) goto out;
  json_array_foreach(intervals, i, o) {
    const char *nm = json_string_value(json_object_get(o, "name"));
    if (nm && strcmp(nm, RUNDIR_TOTAL_NAME) != 0) json_object_set_new(names, nm, json_true());
  }
  rc = judge_name(&w, intervals, NULL, &best, why, whylen);
  json_object_foreach(names, k, o) if (rc == 0) rc = judge_name(&w, intervals, k, &best, why, whylen);
  for (i = 0; i < w.nt; i++) *judged += w.steady[i];
  strongest(&w, CORRELATE_WIN_MAX_FRAC * (double)*judged);
  for (i = 0; i < w.nt; i++) *bad += w.bad[i];
  if ((double)*bad <= CORRELATE_WIN_MAX_FRAC * (double)*judged) merge(&w, w.bad, *spans);
out:
  free(w.t);
  free(w.steady);
  free(w.bad);
  free(w.z);
  json_decref(names);
  return rc;
}

/* The run's median p99 of all requests (its "(all)" lines). */
static double median_p99(const json_t *intervals) {
  size_t n = 0, i;
  json_t *o;
  double *v = calloc(json_array_size(intervals) + 1, sizeof *v), m;
  json_array_foreach(intervals, i, o) {
    const char *nm = json_string_value(json_object_get(o, "name"));
    if (v && nm && strcmp(nm, RUNDIR_TOTAL_NAME) == 0)
      v[n++] = json_number_value(json_object_get(o, "p99_ms"));
  }
  m = v ? median(v, n) : 0;
  free(v);
  return m;
}

int corrwin_inflight(const json_t *exemplars, const json_t *intervals, const json_t *spans, json_t **out) {
  size_t i, j, k;
  json_t *line, *x, *sp;
  double slow = CORRELATE_WIN_REL * median_p99(intervals);
  int64_t step = corrwin_step(intervals);
  if (!(*out = json_array())) return -ENOMEM;
  json_array_foreach(exemplars, i, line) json_array_foreach(json_object_get(line, "slow"), j, x) {
    int64_t end = (int64_t)json_integer_value(json_object_get(x, "wall_ms"));
    double lat = json_number_value(json_object_get(x, "latency_ms"));
    /* slower than an interval: it queued through whole intervals, which locate as much */
    if (lat < slow || lat <= 0 || lat > (double)step) continue;
    json_array_foreach(spans, k, sp) { /* completed in an anomalous span: when it ran */
      int64_t a = json_integer_value(json_array_get(sp, 0)), b = json_integer_value(json_array_get(sp, 1));
      if (end < a || end >= b) continue;
      json_array_append_new(
          *out, json_pack("[I,I]", (json_int_t)(end - (int64_t)llround(lat)), (json_int_t)end + 1));
      break;
    }
  }
  return 0;
}

int corrwin_times_make(const json_t *intervals, const json_t *exemplars, corrwin_times *t) {
  memset(t, 0, sizeof *t);
  int rc = corrwin_spans(intervals, &t->spans, &t->judged, &t->bad, t->why, sizeof t->why);
  return rc < 0 ? rc : corrwin_inflight(exemplars, intervals, t->spans, &t->inflight);
}

void corrwin_times_free(corrwin_times *t) {
  json_decref(t->spans);
  json_decref(t->inflight);
  memset(t, 0, sizeof *t);
}

int corrwin_class(const corrwin_times *t, int64_t t0_ms, int64_t t1_ms) {
  double ov = corrwin_overlap(t->spans, t0_ms, t1_ms), fl = corrwin_overlap(t->inflight, t0_ms, t1_ms);
  if (ov >= CORRELATE_WIN_OVERLAP || fl > 0) return CORRWIN_ANOMALOUS;
  return ov <= 0 && fl <= 0 ? CORRWIN_NORMAL : CORRWIN_NEITHER;
}

double corrwin_overlap(const json_t *spans, int64_t t0, int64_t t1) {
  size_t i;
  json_t *s;
  int64_t in = 0;
  if (t1 <= t0) return 0;
  json_array_foreach(spans, i, s) {
    int64_t a = json_integer_value(json_array_get(s, 0)), b = json_integer_value(json_array_get(s, 1));
    if (a < t0) a = t0;
    if (b > t1) b = t1;
    if (b > a) in += b - a;
  }
  return (double)in / (double)(t1 - t0);
}

int64_t corrwin_step(const json_t *intervals) {
  size_t i;
  json_t *o;
  json_array_foreach(intervals, i, o) if (json_integer_value(json_object_get(o, "interval_ms")) >
                                          0) return json_integer_value(json_object_get(o, "interval_ms"));
  return 1000;
}

int corrwin_whose(const corrstack *cs, const unsigned char *a, const unsigned char *b, int64_t fn,
                  double a_fn) {
  json_t *names = json_object();
  double lab = 0, an = 0, af = 0, bn = 0, bf = 0;
  int rc = CORRWIN_BACKGROUND;
  for (size_t i = 0; names && i < cs->n; i++) /* the names that run fn in the anomalous windows */
    if (a[i] && cs->s[i].name && corrstack_holds(&cs->s[i], fn)) {
      json_object_set_new(names, cs->s[i].name, json_true());
      lab += cs->s[i].value;
    }
  if (!names || lab < (1 - CORRELATE_WIN_UNLABELLED) * a_fn) goto out;
  rc = CORRWIN_REQUEST;
  for (size_t i = 0; i < cs->n; i++) {
    const corr_sample *s = &cs->s[i];
    if ((!a[i] && !b[i]) || !s->name || !json_object_get(names, s->name)) continue;
    double h = corrstack_holds(s, fn) ? s->value : 0;
    an += a[i] ? s->value : 0, af += a[i] ? h : 0;
    bn += b[i] ? s->value : 0, bf += b[i] ? h : 0;
  }
  if (bn < CORRELATE_WIN_REQ_BASE || an <= 0) goto out;
  if (corrstack_ztest(af, an, bf, bn) >= CORRELATE_ALPHA || af / an < bf / bn + CORRELATE_MIN_DELTA)
    rc = CORRWIN_MORE_REQUESTS;
out:
  json_decref(names);
  return rc;
}

/* The request name whose samples in a hold the most of fn, or NULL. */
static const char *heaviest_name(const corrstack *cs, const unsigned char *a, int64_t fn) {
  json_t *v = json_object();
  const char *best = NULL;
  double bv = 0;
  for (size_t i = 0; v && i < cs->n; i++) {
    const corr_sample *s = &cs->s[i];
    if (!a[i] || !s->name || !corrstack_holds(s, fn)) continue;
    double x = json_real_value(json_object_get(v, s->name)) + s->value;
    json_object_set_new(v, s->name, json_real(x));
    if (x > bv) bv = x, best = s->name;
  }
  json_decref(v);
  return best; /* borrowed from the sample */
}

/* Is frame id run by a labelled sample of a request name other than name? */
static int other_runs(const corrstack *cs, const char *name, int64_t id) {
  for (size_t i = 0; i < cs->n; i++)
    if (cs->s[i].name && strcmp(cs->s[i].name, name) != 0 && corrstack_holds(&cs->s[i], id)) return 1;
  return 0;
}

/* Is frame x the requests' context for name: plumbing, a closure or run by other request names too? */
static int context_of(const corrstack *cs, const char *name, int64_t x) {
  return x < 0 || corrstack_plumbing(cs, x) || corrstack_is_closure(cs->names[x]) || other_runs(cs, name, x);
}

/* Down the path from fn (see corrwin_below_context): the frame reached, or -1 (fn below the name's entry). */
static int64_t down_from_context(const corrstack *cs, const unsigned char *an, const json_t *path, int64_t fn,
                                 const double *ia, const double *ib, double scale, const char *name) {
  size_t at = 0, n = json_array_size(path);
  int64_t cur = context_of(cs, name, fn) ? -1 : fn;
  double ex = ia[fn] - scale * ib[fn];
  for (; at < n; at++) { /* fn is the context or the name's entry: every frame above it is context */
    int64_t x = corrstack_id(cs, json_string_value(json_array_get(path, at)));
    if (x == fn) break;
    if (!context_of(cs, name, x)) return -1;
  }
  int64_t entry = cur, pick = -1;
  for (at++; at < n && ex > 0; at++) {
    int64_t x = corrstack_id(cs, json_string_value(json_array_get(path, at)));
    double ex_x = ia[x] - scale * ib[x];
    if (cur < 0 && context_of(cs, name, x)) continue; /* the requests' shared context */
    if (ex_x < CORRELATE_ENTRY_SHARE * ex || (cur >= 0 && !corrdesc_own(cs, an, x))) break;
    if (cur < 0)
      entry = x;
    else if (pick < 0 || ib[x] < ib[pick]) /* the divergence: the outermost the name's others run least */
      pick = x;
    cur = x, ex = ex_x;
  }
  cur = pick >= 0 ? pick : entry;
  return cur == fn ? -1 : cur;
}

int corrwin_below_context(const corrstack *cs, const unsigned char *a, const unsigned char *b, double na,
                          double nb, corr_contrast *r) {
  const char *name = r->fn >= 0 ? heaviest_name(cs, a, r->fn) : NULL;
  unsigned char *an = calloc(cs->n ? cs->n : 1, 1), *bn = calloc(cs->n ? cs->n : 1, 1);
  double *ia = calloc(cs->nnames ? cs->nnames : 1, sizeof *ia),
         *ib = calloc(cs->nnames ? cs->nnames : 1, sizeof *ib);
  int64_t to = -1;
  json_t *path = NULL;
  if (!name || !an || !bn || !ia || !ib) goto out;
  for (size_t i = 0; i < cs->n; i++) {
    int mine = cs->s[i].name && strcmp(cs->s[i].name, name) == 0;
    an[i] = a[i] && mine, bn[i] = b[i] && mine;
  }
  corrstack_inclusive(cs, an, ia);
  corrstack_inclusive(cs, bn, ib);
  path = corrstack_path(cs, r->fn, an);
  to = down_from_context(cs, an, path, r->fn, ia, ib, nb > 0 ? na / nb : 0, name);
  double xa = 0, xb = 0, pv;
  for (size_t i = 0; to >= 0 && i < cs->n; i++) {
    double h = corrstack_holds(&cs->s[i], to) ? cs->s[i].value : 0;
    xa += a[i] ? h : 0, xb += b[i] ? h : 0;
  }
  if (to < 0) goto out;
  if (r->per_request) { /* the rates' conditional binomial test, as the contrast made it */
    double x = xa + xb, p0 = na / (na + nb);
    pv = x > 0 && p0 < 1 ? 0.5 * erfc((xa - x * p0) / sqrt(x * p0 * (1 - p0)) / sqrt(2.0)) : 1;
  } else
    pv = corrstack_ztest(xa, r->a_tot, xb, r->b_tot);
  if (pv >= CORRELATE_ALPHA) { /* the frame below does not pass the test: the finding stays */
    to = -1;
    goto out;
  }
  r->fn = to, r->a_fn = xa, r->b_fn = xb, r->p_value = pv;
  json_decref(r->path);
  r->path = corrstack_path(cs, to, a);
out:
  json_decref(path);
  free(an);
  free(bn);
  free(ia);
  free(ib);
  return to >= 0;
}

/* Medians of name's p99 over the intervals in spans (*in) and over the others (*out); its median count. */
static double name_p99s(const json_t *iv, const json_t *spans, const char *name, double *in, double *out) {
  size_t n = json_array_size(iv), ni = 0, no = 0, nc = 0, i;
  double *vi = calloc(n + 1, sizeof *vi), *vo = calloc(n + 1, sizeof *vo), *vc = calloc(n + 1, sizeof *vc), c;
  int64_t step = corrwin_step(iv);
  json_t *o;
  json_array_foreach(iv, i, o) {
    const char *nm = json_string_value(json_object_get(o, "name"));
    int64_t t = json_integer_value(json_object_get(o, "t"));
    if (!vi || !vo || !vc || !nm || strcmp(nm, name) != 0) continue;
    double p99 = json_number_value(json_object_get(o, "p99_ms"));
    vc[nc++] = json_number_value(json_object_get(o, "count"));
    if (corrwin_overlap(spans, t, t + step) >= CORRELATE_WIN_OVERLAP)
      vi[ni++] = p99;
    else
      vo[no++] = p99;
  }
  *in = vi ? median(vi, ni) : 0, *out = vo ? median(vo, no) : 0, c = vc ? median(vc, nc) : 0;
  free(vi);
  free(vo);
  free(vc);
  return c;
}

const char *corrwin_harm_spread(const corrstack *cs, const unsigned char *a, int64_t fn,
                                const json_t *intervals, const json_t *spans, char *why, size_t whylen) {
  const char *name = fn >= 0 ? heaviest_name(cs, a, fn) : NULL;
  double mine = 0, all = 0, req = 0, tot = 0, in, out;
  size_t i;
  json_t *o, *seen = json_object();
  int harm = 0;
  if (whylen) why[0] = '\0';
  for (size_t k = 0; name && k < cs->n; k++)
    if (a[k] && corrstack_holds(&cs->s[k], fn))
      all += cs->s[k].value, mine += cs->s[k].name && strcmp(cs->s[k].name, name) == 0 ? cs->s[k].value : 0;
  if (!seen || !name || mine <= (1 - CORRELATE_WIN_UNLABELLED) * all) goto out;
  json_array_foreach(intervals, i, o) {
    const char *nm = json_string_value(json_object_get(o, "name"));
    double n = json_number_value(json_object_get(o, "count"));
    if (!nm || strcmp(nm, RUNDIR_TOTAL_NAME) == 0) continue;
    tot += n, req += strcmp(nm, name) == 0 ? n : 0;
    json_object_set_new(seen, nm, json_true());
  }
  if (tot <= 0 || req > CORRELATE_WIN_RARE * tot) goto out;
  const char *k;
  json_object_foreach(seen, k, o) {
    if (harm || strcmp(k, name) == 0 || name_p99s(intervals, spans, k, &in, &out) < CORRELATE_WIN_MIN_COUNT ||
        out <= 0 || in < CORRELATE_WIN_REL * out)
      continue;
    harm = 1;
    snprintf(
        why, whylen,
        "; it is the work of %s (%.1f%% of the requests), while %s's p99 was %.4g ms in those seconds vs "
        "%.4g ms in the others: that request's work slowed the others",
        name, req / tot * 100, k, in, out);
  }
out:
  json_decref(seen);
  return harm ? name : NULL;
}

/* Has request finding f win's function fn on its path, or names it? */
static int covers(const json_t *f, const char *fn) {
  size_t k;
  json_t *v;
  char buf[512];
  if (!json_string_value(json_object_get(f, "request"))) return 0;
  if (strcmp(json_string_value(json_object_get(f, "function")), fn) == 0) return 1;
  json_array_foreach(
      json_object_get(f, "path"), k,
      v) if (strcmp(corrstack_function(json_string_value(v), buf, sizeof buf), fn) == 0) return 1;
  return 0;
}

int corrwin_drop_covered(json_t *findings, const json_t *win) {
  size_t i, at = (size_t)-1;
  json_t *f;
  int covered = 0;
  const char *fn = win ? json_string_value(json_object_get(win, "function")) : NULL;
  if (!fn) return 0;
  json_array_foreach(findings, i, f) {
    if (f == win)
      at = i;
    else
      covered |= covers(f, fn);
  }
  if (!covered || at == (size_t)-1) return 0;
  json_array_remove(findings, at);
  return 1;
}
