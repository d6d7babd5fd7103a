/* correlate.c - findings from profiles + latency (see correlate.h): exemplar join, per-request shares,
 * time-window rank correlation, mutex/block dominance and run-vs-run differences, each with evidence. */
#include "master/profile/correlate.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/rundir.h"
#include "master/profile/export.h"
#include "master/profile/flame.h"
#include "master/profile/source.h"
#include "master/report/report.h"

#define MIN_N CORRELATE_MIN_SAMPLES

/* ---------- small helpers ---------- */

static int is_internal(const char *n) {
  return strncmp(n, "runtime.", 8) == 0 || strncmp(n, "sync.", 5) == 0 || strncmp(n, "internal/", 9) == 0;
}

const char *correlate_frame(const pprof_profile *p, const pprof_sample *s) {
  if (!s->nstack) return "(no stack)";
  for (size_t i = 0; i < s->nstack; i++) {
    const char *n = p->strings[p->functions[s->stack[i]].name];
    if (!is_internal(n)) return n;
  }
  return p->strings[p->functions[s->stack[0]].name];
}

static double map_get(const json_t *m, const char *k) {
  json_t *v = json_object_get(m, k);
  return v ? json_number_value(v) : 0.0;
}

static void map_add(json_t *m, const char *k, double v) {
  json_object_set_new(m, k, json_real(map_get(m, k) + v));
}

static json_t *map_child(json_t *m, const char *k) {
  json_t *c = json_object_get(m, k);
  if (!c) {
    c = json_object();
    json_object_set_new(m, k, c);
  }
  return c;
}

static int is_cpu(const char *type) {
  return !(strcmp(type, "mutex") == 0 || strcmp(type, "block") == 0 || strcmp(type, "heap") == 0 ||
           strcmp(type, "allocs") == 0 || strcmp(type, "goroutine") == 0);
}

static const char *req_label(const pprof_profile *p, const pprof_sample *s) {
  const char *n = pprof_label_get(p, s, "loadctl.name");
  return n ? n : pprof_label_get(p, s, "k6.name");
}

static json_t *finding(const char *kind, const char *request, const char *fn, double share, double base,
                       const json_t *window, const char *evidence, double samples, double score) {
  json_t *f = json_object();
  json_object_set_new(f, "kind", json_string(kind));
  json_object_set_new(f, "request", request ? json_string(request) : json_null());
  json_object_set_new(f, "function", json_string(fn));
  json_object_set_new(f, "share", json_real(round(share * 1000) / 1000));
  json_object_set_new(f, "baseline_share", json_real(round(base * 1000) / 1000));
  json_object_set_new(f, "window", window ? json_deep_copy(window) : json_null());
  json_object_set_new(f, "evidence", json_string(evidence));
  json_object_set_new(f, "samples", json_integer((json_int_t)samples));
  json_object_set_new(f, "score", json_real(score));
  return f;
}

/* Best key of num (share num/ntot) over base (share (base-num)/btot when sub, else base/btot). */
static const char *best_delta(const json_t *num, double ntot, const json_t *base, double btot, int sub,
                              double *share, double *bshare) {
  const char *k, *best = NULL;
  json_t *v;
  double bd = 0;
  json_object_foreach((json_t *)num, k, v) {
    double s = json_number_value(v) / ntot;
    double b = map_get(base, k);
    if (sub) b -= json_number_value(v);
    b = btot > 0 ? b / btot : 0;
    if (s - b > bd) {
      bd = s - b;
      best = k;
      *share = s;
      *bshare = b;
    }
  }
  return best;
}

static int strong(double share, double base, double min_share, double min_delta) {
  return share >= min_share && share - base >= min_delta && share >= 2 * base;
}

/* ---------- (1) exemplar join ---------- */

/* Slow trace and span ids -> request name; returns how many slow exemplars there are. */
static size_t slow_sets(const json_t *exemplars, json_t *slow) {
  size_t i, j, n = 0;
  json_t *line, *x;
  json_array_foreach(exemplars, i, line) {
    const char *name = json_string_value(json_object_get(line, "name"));
    json_array_foreach(json_object_get(line, "slow"), j, x) {
      const char *t = json_string_value(json_object_get(x, "trace_id"));
      const char *s = json_string_value(json_object_get(x, "span_id"));
      if (t && *t) json_object_set_new(slow, t, json_string(name ? name : ""));
      if (s && *s) json_object_set_new(slow, s, json_string(name ? name : ""));
      n++;
    }
  }
  return n;
}

static void method_tail(const correlate_input *in, json_t *out) {
  json_t *slow = json_object(), *sm = json_object(), *bm = json_object(), *names = json_object();
  double st = 0, bt = 0;
  size_t nslow = in->exemplars ? slow_sets(in->exemplars, slow) : 0;
  for (size_t w = 0; w < in->nwindows && json_object_size(slow); w++) {
    const pprof_profile *p = in->windows[w].prof;
    if (!is_cpu(in->windows[w].type) || !p->nsample_types) continue;
    for (size_t i = 0; i < p->nsamples; i++) {
      const pprof_sample *s = &p->samples[i];
      const char *t = pprof_label_get(p, s, "trace_id"), *sp = pprof_label_get(p, s, "span_id");
      /* baseline: everything else the process did (typical traced requests are rarely sampled at all) */
      json_t *hit = t ? json_object_get(slow, t) : NULL;
      if (!hit && sp) hit = json_object_get(slow, sp);
      double v = (double)s->values[0];
      if (hit) {
        map_add(sm, correlate_frame(p, s), v);
        map_add(names, json_string_value(hit), v);
        st += v;
      } else {
        map_add(bm, correlate_frame(p, s), v);
        bt += v;
      }
    }
  }
  double sh = 0, bs = 0;
  const char *fn = st >= MIN_N && bt >= MIN_N ? best_delta(sm, st, bm, bt, 0, &sh, &bs) : NULL;
  if (fn && strong(sh, bs, 0.10, 0.10)) {
    double bn = 0;
    const char *k, *req = NULL;
    json_t *v;
    json_object_foreach(names, k, v) if (json_number_value(v) > bn) {
      bn = json_number_value(v);
      req = k;
    }
    char ev[512];
    snprintf(ev, sizeof ev,
             "exemplar join (cpu profile): %.0f samples of the %zu slowest traced requests spend %.0f%% in "
             "%s vs %.0f%% "
             "of the other %.0f samples (typical requests and all other work)",
             st, nslow, sh * 100, fn, bs * 100, bt);
    json_t *f = finding("tail", req && *req ? req : NULL, fn, sh, bs, NULL, ev, st, 3 + sh - bs);
    json_object_set_new(f, "profile", json_string("cpu"));
    json_array_append_new(out, f);
  }
  json_decref(slow);
  json_decref(sm);
  json_decref(bm);
  json_decref(names);
}

/* ---------- latency from intervals ---------- */

/* Count-weighted mean p99 (ms) of the per-name interval lines starting in [t0,t1) (name NULL: all names).
 * -1 when none. */
static double latency_p99(const json_t *intervals, int64_t t0, int64_t t1, const char *name) {
  double sum = 0, n = 0;
  size_t i;
  json_t *o;
  json_array_foreach(intervals, i, o) {
    const char *nm = json_string_value(json_object_get(o, "name"));
    int64_t t = json_integer_value(json_object_get(o, "t"));
    double c = json_number_value(json_object_get(o, "count"));
    if (!nm || strcmp(nm, RUNDIR_TOTAL_NAME) == 0 || t < t0 || t >= t1 || c <= 0) continue;
    if (name && strcmp(nm, name) != 0) continue;
    sum += c * json_number_value(json_object_get(o, "p99_ms"));
    n += c;
  }
  return n > 0 ? sum / n : -1;
}

static int cmp_dbl(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static double median(const double *v, size_t n) {
  double *c = malloc(n * sizeof *c);
  if (!c || !n) {
    free(c);
    return 0;
  }
  memcpy(c, v, n * sizeof *c);
  qsort(c, n, sizeof *c, cmp_dbl);
  double m = n % 2 ? c[n / 2] : (c[n / 2 - 1] + c[n / 2]) / 2;
  free(c);
  return m;
}

/* ---------- (2) per request ---------- */

static int latency_is_high(const correlate_input *in, json_t *per, const char *name, double *lat,
                           double *med) {
  const char *k;
  json_t *v;
  double vals[256];
  size_t n = 0;
  *lat = -1;
  *med = -1;
  if (!in->intervals) return 1;
  json_object_foreach(per, k, v) {
    double l = latency_p99(in->intervals, INT64_MIN, INT64_MAX, k);
    if (strcmp(k, name) == 0)
      *lat = l;
    else if (l >= 0 && n < 256)
      vals[n++] = l;
  }
  if (*lat < 0 || n < 1) return 1;
  *med = median(vals, n);
  return *lat >= 1.5 * *med;
}

static void method_endpoint(const correlate_input *in, json_t *out) {
  json_t *per = json_object(), *tot = json_object(), *all = json_object();
  double at = 0;
  for (size_t w = 0; w < in->nwindows; w++) {
    const pprof_profile *p = in->windows[w].prof;
    if (!is_cpu(in->windows[w].type) || !p->nsample_types) continue;
    for (size_t i = 0; i < p->nsamples; i++) {
      const pprof_sample *s = &p->samples[i];
      const char *name = req_label(p, s), *fn = correlate_frame(p, s);
      double v = (double)s->values[0];
      map_add(all, fn, v); /* the baseline of a request is everything else in the profile */
      at += v;
      if (!name) continue;
      map_add(map_child(per, name), fn, v);
      map_add(tot, name, v);
    }
  }
  const char *name;
  json_t *fns;
  json_object_foreach(per, name, fns) {
    double nt = map_get(tot, name), rest = at - nt, sh = 0, bs = 0, lat, med;
    if (nt < MIN_N || rest < MIN_N) continue;
    const char *fn = best_delta(fns, nt, all, rest, 1, &sh, &bs);
    if (!fn || !strong(sh, bs, 0.20, 0.15) || !latency_is_high(in, per, name, &lat, &med)) continue;
    char ev[512], lt[128] = "";
    if (lat >= 0 && med >= 0)
      snprintf(lt, sizeof lt, "; its p99 %.1f ms vs median %.1f ms over other requests", lat, med);
    snprintf(ev, sizeof ev,
             "per-request labels (cpu profile): %.0f samples of %s spend %.0f%% in %s vs %.0f%% of the other "
             "%.0f samples "
             "(other requests and unlabelled work)%s",
             nt, name, sh * 100, fn, bs * 100, rest, lt);
    json_t *f = finding("endpoint", name, fn, sh, bs, NULL, ev, nt, 2 + sh - bs);
    json_object_set_new(f, "profile", json_string("cpu"));
    json_array_append_new(out, f);
  }
  json_decref(per);
  json_decref(tot);
  json_decref(all);
}

/* ---------- (3) time windows ---------- */

static void ranks(const double *v, size_t n, double *r) {
  for (size_t i = 0; i < n; i++) {
    double less = 0, eq = 0;
    for (size_t j = 0; j < n; j++) {
      if (v[j] < v[i])
        less++;
      else if (v[j] == v[i])
        eq++;
    }
    r[i] = less + (eq + 1) / 2;
  }
}

/* Spearman rank correlation of x and y (n <= 64). 0 when either is constant. */
static double spearman(const double *x, const double *y, size_t n) {
  double rx[64], ry[64], mx = 0, my = 0, sxy = 0, sxx = 0, syy = 0;
  ranks(x, n, rx);
  ranks(y, n, ry);
  for (size_t i = 0; i < n; i++) mx += rx[i] / n, my += ry[i] / n;
  for (size_t i = 0; i < n; i++) {
    sxy += (rx[i] - mx) * (ry[i] - my);
    sxx += (rx[i] - mx) * (rx[i] - mx);
    syy += (ry[i] - my) * (ry[i] - my);
  }
  return sxx > 0 && syy > 0 ? sxy / sqrt(sxx * syy) : 0;
}

#define MAXW 64

typedef struct wstate {
  size_t n;
  double lat[MAXW], tot[MAXW];
  int64_t t0[MAXW], t1[MAXW];
  json_t *fn[MAXW]; /* fn -> value */
  json_t *keys;
} wstate;

static void window_collect(const correlate_input *in, wstate *ws) {
  ws->keys = json_object();
  for (size_t w = 0; w < in->nwindows && ws->n < MAXW; w++) {
    const correlate_window *cw = &in->windows[w];
    if (!is_cpu(cw->type) || !cw->prof->nsample_types) continue;
    double lat = latency_p99(in->intervals, cw->start_ms, cw->end_ms, NULL);
    if (lat < 0 || pprof_total(cw->prof, 0) <= 0) continue;
    size_t k = ws->n++;
    ws->lat[k] = lat;
    ws->t0[k] = cw->start_ms;
    ws->t1[k] = cw->end_ms;
    ws->tot[k] = (double)pprof_total(cw->prof, 0);
    ws->fn[k] = json_object();
    for (size_t i = 0; i < cw->prof->nsamples; i++) {
      const char *fn = correlate_frame(cw->prof, &cw->prof->samples[i]);
      map_add(ws->fn[k], fn, (double)cw->prof->samples[i].values[0]);
      json_object_set_new(ws->keys, fn, json_true());
    }
  }
}

/* Judge fn over the windows: "bad" windows have p99 above the median (thr). */
static void window_judge(const wstate *ws, const char *fn, double thr, json_t *out) {
  double share[MAXW], bad = 0, badt = 0, good = 0, goodt = 0;
  int64_t t0 = INT64_MAX, t1 = INT64_MIN;
  for (size_t k = 0; k < ws->n; k++) {
    double v = map_get(ws->fn[k], fn);
    share[k] = v / ws->tot[k];
    if (ws->lat[k] > thr)
      bad += v, badt += ws->tot[k];
    else
      good += v, goodt += ws->tot[k];
  }
  double rho = spearman(ws->lat, share, ws->n);
  if (badt < MIN_N || goodt < MIN_N || rho < 0.5) return;
  double sb = bad / badt, sg = good / goodt;
  if (!strong(sb, sg, 0.10, 0.10)) return;
  for (size_t k = 0; k < ws->n; k++) /* the window: bad windows where fn is above its baseline */
    if (ws->lat[k] > thr && share[k] > sg) {
      if (ws->t0[k] < t0) t0 = ws->t0[k];
      if (ws->t1[k] > t1) t1 = ws->t1[k];
    }
  char ev[512];
  snprintf(
      ev, sizeof ev,
      "time windows (cpu profile): over %zu windows %s's share rises with p99 latency (Spearman %.2f); "
      "%.0f%% of %.0f samples in windows with p99 above the median %.1f ms vs %.0f%% of %.0f samples in the "
      "others",
      ws->n, fn, rho, sb * 100, badt, thr, sg * 100, goodt);
  json_t *win = json_pack("[I,I]", (json_int_t)t0, (json_int_t)t1);
  json_t *f = finding("window", NULL, fn, sb, sg, win, ev, badt, 1 + (sb - sg) * rho);
  json_object_set_new(f, "profile", json_string("cpu"));
  json_object_set_new(f, "spearman", json_real(round(rho * 1000) / 1000));
  json_array_append_new(out, f);
  json_decref(win);
}

/* Windows split at the median p99; only judged when the upper half's mean p99 is >= 1.5x the lower's
 * (latency really rose somewhere, not just noise). */
static void method_window(const correlate_input *in, json_t *out) {
  wstate ws = {0};
  if (!in->intervals) return;
  window_collect(in, &ws);
  if (ws.n >= 4) {
    double med = median(ws.lat, ws.n), hi = 0, lo = 0, nhi = 0, nlo = 0;
    for (size_t k = 0; k < ws.n; k++) {
      if (ws.lat[k] > med)
        hi += ws.lat[k], nhi++;
      else
        lo += ws.lat[k], nlo++;
    }
    const char *fn;
    json_t *v;
    if (nhi >= 1 && nlo >= 2 && hi / nhi >= 1.5 * (lo / nlo))
      json_object_foreach(ws.keys, fn, v) window_judge(&ws, fn, med, out);
  }
  for (size_t k = 0; k < ws.n; k++) json_decref(ws.fn[k]);
  json_decref(ws.keys);
}

/* ---------- mutex / block ---------- */

static void contention_one(const correlate_input *in, const char *type, json_t *out) {
  json_t *delay = json_object(), *names = json_object();
  double total = 0, cont = 0;
  for (size_t w = 0; w < in->nwindows; w++) {
    const pprof_profile *p = in->windows[w].prof;
    if (strcmp(in->windows[w].type, type) != 0 || !p->nsample_types) continue;
    int vi = pprof_sample_type_index(p, "delay");
    if (vi < 0) vi = (int)p->nsample_types - 1;
    for (size_t i = 0; i < p->nsamples; i++) {
      const pprof_sample *s = &p->samples[i];
      const char *fn = correlate_frame(p, s), *nm = req_label(p, s);
      map_add(delay, fn, (double)s->values[vi]);
      if (nm) map_add(map_child(names, fn), nm, (double)s->values[vi]);
      total += (double)s->values[vi];
      cont += (double)s->values[0];
    }
  }
  double sh = 0, bs = 0;
  json_t *empty = json_object();
  const char *fn = cont >= MIN_N && total > 0 ? best_delta(delay, total, empty, 1, 0, &sh, &bs) : NULL;
  json_decref(empty);
  if (fn && sh >= 0.5) {
    /* window: span of the windows where fn had contention */
    int64_t t0 = INT64_MAX, t1 = INT64_MIN;
    for (size_t w = 0; w < in->nwindows; w++) {
      const correlate_window *cw = &in->windows[w];
      if (strcmp(cw->type, type) != 0) continue;
      for (size_t i = 0; i < cw->prof->nsamples; i++)
        if (strcmp(correlate_frame(cw->prof, &cw->prof->samples[i]), fn) == 0) {
          if (cw->start_ms < t0) t0 = cw->start_ms;
          if (cw->end_ms > t1) t1 = cw->end_ms;
          break;
        }
    }
    const char *k, *req = NULL;
    json_t *v;
    double bn = 0, fd = map_get(delay, fn);
    json_object_foreach(json_object_get(names, fn), k, v) if (json_number_value(v) > bn) {
      bn = json_number_value(v);
      req = k;
    }
    int ep = req && bn >= 0.8 * fd;
    double next = 0;
    json_object_foreach(delay, k, v) if (strcmp(k, fn) != 0 && json_number_value(v) / total > next) next =
        json_number_value(v) / total;
    char ev[512];
    snprintf(ev, sizeof ev,
             "%s profile: %s holds %.0f%% of %.3f s total %s delay over %.0f contentions (next function "
             "%.0f%%)%s%s",
             type, fn, sh * 100, total / 1e9, type, cont, next * 100, ep ? ", almost all under request " : "",
             ep ? req : "");
    json_t *win = t0 <= t1 ? json_pack("[I,I]", (json_int_t)t0, (json_int_t)t1) : NULL;
    json_t *f = finding(ep ? "endpoint" : "window", ep ? req : NULL, fn, sh, next, ep ? NULL : win, ev, cont,
                        1.5 + sh);
    json_object_set_new(f, "profile", json_string(type));
    json_array_append_new(out, f);
    json_decref(win);
  }
  json_decref(delay);
  json_decref(names);
}

/* ---------- (4) run vs run ---------- */

static double self_shares(const pprof_profile *p, json_t *m) {
  double t = 0;
  for (size_t i = 0; p->nsample_types && i < p->nsamples; i++) {
    map_add(m, correlate_frame(p, &p->samples[i]), (double)p->samples[i].values[0]);
    t += (double)p->samples[i].values[0];
  }
  return t;
}

int correlate_compare(const pprof_profile *base, const pprof_profile *cur, json_t *out) {
  json_t *bm = json_object(), *cm = json_object();
  double bt = self_shares(base, bm), ct = self_shares(cur, cm);
  int added = 0;
  const char *fn;
  json_t *v;
  if (bt >= MIN_N && ct >= MIN_N) json_object_foreach(cm, fn, v) {
      double c = json_number_value(v) / ct, b = map_get(bm, fn) / bt;
      if (c - b < 0.05 || c < 1.5 * b) continue;
      char ev[512];
      snprintf(ev, sizeof ev,
               "run vs run (profile diff): %s has %.0f%% of %.0f samples vs %.0f%% of %.0f in the base run",
               fn, c * 100, ct, b * 100, bt);
      json_array_append_new(out, finding("regression", NULL, fn, c, b, NULL, ev, ct, 0.5 + c - b));
      added++;
    }
  json_decref(bm);
  json_decref(cm);
  return added;
}

int correlate_compare_runs(const char *base_dir, const char *cur_dir, json_t *out) {
  pprof_profile *a = NULL, *b = NULL;
  int rc = 0;
  if (export_merge_run(base_dir, "cpu", &a) == 0 && export_merge_run(cur_dir, "cpu", &b) == 0)
    rc = correlate_compare(a, b, out);
  pprof_free(a);
  pprof_free(b);
  return rc;
}

/* ---------- driver ---------- */

static int cmp_score(const void *a, const void *b) {
  double x = json_number_value(json_object_get(*(json_t *const *)a, "score"));
  double y = json_number_value(json_object_get(*(json_t *const *)b, "score"));
  return (x < y) - (x > y);
}

int correlate_findings(const correlate_input *in, json_t **out) {
  json_t *raw = json_array();
  if (!raw) return -ENOMEM;
  method_tail(in, raw);
  method_endpoint(in, raw);
  method_window(in, raw);
  contention_one(in, "mutex", raw);
  contention_one(in, "block", raw);
  size_t n = json_array_size(raw);
  json_t **v = calloc(n ? n : 1, sizeof *v);
  if (!v) {
    json_decref(raw);
    return -ENOMEM;
  }
  for (size_t i = 0; i < n; i++) v[i] = json_array_get(raw, i);
  qsort(v, n, sizeof *v, cmp_score);
  *out = json_array();
  for (size_t i = 0; i < n; i++) json_array_append(*out, v[i]);
  free(v);
  json_decref(raw);
  return *out ? 0 : -ENOMEM;
}

static json_t *read_jsonl(const char *dir, const char *name) {
  char path[4096];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *f = fopen(path, "r");
  if (!f) return NULL;
  json_t *a = json_array();
  char *line = NULL;
  size_t cap = 0;
  while (getline(&line, &cap, f) > 0) {
    json_t *o = json_loads(line, 0, NULL);
    if (json_is_object(o)) json_array_append(a, o);
    json_decref(o);
  }
  free(line);
  fclose(f);
  return a;
}

int correlate_run(const char *run_dir, json_t **out, char *err, size_t errlen) {
  char pdir[4096], e[256];
  source_window *sw = NULL;
  size_t nsw = 0, nw = 0;
  int rc;
  snprintf(pdir, sizeof pdir, "%s/profiles", run_dir);
  json_t *iv = read_jsonl(run_dir, RUNDIR_INTERVALS), *ex = read_jsonl(run_dir, RUNDIR_EXEMPLARS);
  if (source_read_index(pdir, &sw, &nsw) < 0) nsw = 0;
  correlate_window *cw = calloc(nsw ? nsw : 1, sizeof *cw);
  pprof_profile **profs = calloc(nsw ? nsw : 1, sizeof *profs);
  if (!cw || !profs) {
    rc = -ENOMEM;
    snprintf(err, errlen, "out of memory");
    goto out;
  }
  for (size_t i = 0; i < nsw; i++) {
    if (strcmp(sw[i].status, "ok") != 0 || source_load_window(pdir, &sw[i], &profs[nw], e, sizeof e) < 0)
      continue;
    cw[nw] = (correlate_window){sw[i].start_ms, sw[i].end_ms, sw[i].type, profs[nw]};
    nw++;
  }
  correlate_input in = {cw, nw, iv, ex};
  rc = correlate_findings(&in, out);
  if (rc < 0) snprintf(err, errlen, "correlation: %s", strerror(-rc));
out:
  for (size_t i = 0; i < nw; i++) pprof_free(profs[i]);
  free(profs);
  free(cw);
  free(sw);
  json_decref(iv);
  json_decref(ex);
  return rc;
}

int correlate_attach(const char *run_dir, report *r, char *err, size_t errlen) {
  json_t *findings = NULL;
  int rc = correlate_run(run_dir, &findings, err, errlen);
  if (rc < 0) return rc;
  int n = (int)json_array_size(findings);
  if (r)
    report_set_findings(r, findings);
  else
    json_decref(findings);
  rc = flame_write_section(run_dir);
  if (rc < 0) {
    snprintf(err, errlen, "profile section of %s: %s", run_dir, strerror(-rc));
    return rc;
  }
  rc = export_run(run_dir, err, errlen);
  return rc < 0 ? rc : n;
}
