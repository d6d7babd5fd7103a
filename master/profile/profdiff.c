/* profdiff.c - run vs run on CPU profiles, per request name and function, normalised by the requests each
 * run served inside its CPU windows (profdiff.h). */
#include "master/profile/profdiff.h"
#include "common/clock.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "master/profile/corrjoin.h"
#include "master/profile/cost.h"
#include "master/profile/export.h"

/* One run: its merged CPU profile and cost_run's requests per name. */
typedef struct side {
  pprof_profile *p;
  corrjoin *join; /* request names as correlation reads them */
  json_t *costs;
  int vi_ns, vi_n;
} side;

/* A request name's inclusive CPU per function of one run (arrays of p->nfunctions). */
typedef struct sums {
  double *ns, *n, *depth, total_ns, reqs; /* depth: sum of ns x frames above the function */
} sums;

/* A function's figures in both runs, and the test. */
typedef struct change {
  const char *fn;
  double before_ms, after_ms, xb, xc, p_value, delta_ms;
  double depth; /* mean frames above it (ns-weighted) in the run where it costs more */
} change;

static int is_runtime(const char *fn) {
  static const char *const pre[] = {"runtime.", "runtime/", "internal/", "sync.", "syscall.", "reflect."};
  for (size_t i = 0; i < sizeof pre / sizeof *pre; i++)
    if (strncmp(fn, pre[i], strlen(pre[i])) == 0) return 1;
  return 0;
}

static int side_load(side *s, const char *dir, char *err, size_t errlen) {
  int rc = export_merge_run(dir, "cpu", &s->p);
  if (rc == -ENOENT) return 0;
  if (rc < 0) {
    snprintf(err, errlen, "merging the CPU profile of %s: %s", dir, strerror(-rc));
    return rc;
  }
  s->vi_ns = pprof_sample_type_index(s->p, "cpu");
  s->vi_n = pprof_sample_type_index(s->p, "samples");
  if ((rc = corrjoin_create_run(dir, &s->join)) < 0) {
    snprintf(err, errlen, "reading the request names of %s: %s", dir, strerror(-rc));
    return rc;
  }
  return cost_run(dir, &s->costs, err, errlen);
}

static void side_free(side *s) {
  pprof_free(s->p);
  corrjoin_free(s->join);
  json_decref(s->costs);
}

/* Inclusive ns and samples per function of name's labelled samples (name NULL: every sample), each
 * function once per sample; reqs: the requests they served. */
static int sums_make(const side *s, const char *name, double reqs, sums *out) {
  const pprof_profile *p = s->p;
  size_t nf = p->nfunctions ? p->nfunctions : 1;
  size_t *seen = calloc(nf, sizeof *seen);
  out->ns = calloc(nf, sizeof *out->ns);
  out->n = calloc(nf, sizeof *out->n);
  out->depth = calloc(nf, sizeof *out->depth);
  out->total_ns = 0;
  out->reqs = reqs;
  if (!seen || !out->ns || !out->n || !out->depth) {
    free(seen);
    return -ENOMEM;
  }
  for (size_t i = 0; i < p->nsamples; i++) {
    const pprof_sample *sm = &p->samples[i];
    const char *nm = corrjoin_request(s->join, p, sm);
    if (name && (!nm || strcmp(nm, name) != 0)) continue;
    out->total_ns += (double)sm->values[s->vi_ns];
    for (size_t k = 0; k < sm->nstack; k++) {
      uint32_t f = sm->stack[k];
      if (seen[f] == i + 1) continue;
      seen[f] = i + 1;
      out->ns[f] += (double)sm->values[s->vi_ns];
      out->n[f] += (double)sm->values[s->vi_n];
      out->depth[f] += (double)(sm->nstack - 1 - k) * (double)sm->values[s->vi_ns];
    }
  }
  free(seen);
  return 0;
}

static void sums_free(sums *s) {
  free(s->ns);
  free(s->n);
  free(s->depth);
}

static double fn_index(const pprof_profile *p, const char *fn) {
  for (size_t f = 0; f < p->nfunctions; f++)
    if (strcmp(p->strings[p->functions[f].name], fn) == 0) return (double)f;
  return -1;
}

/* The figures of fn (named in whichever run has it) in both runs. */
static change measure(const side *b, const sums *sb, const side *c, const sums *sc, const char *fn) {
  double fb = fn_index(b->p, fn), fc = fn_index(c->p, fn);
  change ch = {fn, 0, 0, 0, 0, 1, 0, 0};
  double nsb = fb >= 0 ? sb->ns[(size_t)fb] : 0, nsc = fc >= 0 ? sc->ns[(size_t)fc] : 0;
  ch.xb = fb >= 0 ? sb->n[(size_t)fb] : 0;
  ch.xc = fc >= 0 ? sc->n[(size_t)fc] : 0;
  ch.before_ms = clock_ns_to_ms_frac(nsb) / sb->reqs;
  ch.after_ms = clock_ns_to_ms_frac(nsc) / sc->reqs;
  ch.delta_ms = ch.after_ms - ch.before_ms;
  if (ch.delta_ms >= 0 && nsc > 0) ch.depth = sc->depth[(size_t)fc] / nsc;
  if (ch.delta_ms < 0 && nsb > 0) ch.depth = sb->depth[(size_t)fb] / nsb;
  /* samples per request as Poisson rates: z on their difference */
  double var = ch.xb / (sb->reqs * sb->reqs) + ch.xc / (sc->reqs * sc->reqs);
  if (var > 0) ch.p_value = erfc(fabs(ch.xc / sc->reqs - ch.xb / sb->reqs) / sqrt(var) / sqrt(2.0));
  return ch;
}

/* ch passes every gate (profdiff.h) for direction dir (+1 regression, -1 improvement). */
static int significant(const change *ch, int dir, double request_ms) {
  double hi = dir > 0 ? ch->after_ms : ch->before_ms, lo = dir > 0 ? ch->before_ms : ch->after_ms;
  if (fmax(ch->xb, ch->xc) < PROFDIFF_MIN_SAMPLES || ch->p_value >= PROFDIFF_ALPHA) return 0;
  if (hi < PROFDIFF_MIN_RATIO * lo) return 0;
  return dir * ch->delta_ms >= PROFDIFF_MIN_SHARE * request_ms;
}

/* Function names with samples of the request in either run (object used as a set). */
static json_t *candidates(const side *b, const sums *sb, const side *c, const sums *sc) {
  json_t *set = json_object();
  for (size_t f = 0; set && f < b->p->nfunctions; f++)
    if (sb->n[f] > 0) json_object_set_new(set, b->p->strings[b->p->functions[f].name], json_true());
  for (size_t f = 0; set && f < c->p->nfunctions; f++)
    if (sc->n[f] > 0) json_object_set_new(set, c->p->strings[c->p->functions[f].name], json_true());
  return set;
}

/* What the largest change m has outside f (m's figures minus f's: f runs under m), as a change. */
static change residual(const change *m, const change *f, const sums *sb, const sums *sc) {
  change r = *m;
  r.xb = fmax(0, m->xb - f->xb);
  r.xc = fmax(0, m->xc - f->xc);
  r.before_ms = fmax(0, m->before_ms - f->before_ms);
  r.after_ms = fmax(0, m->after_ms - f->after_ms);
  r.delta_ms = r.after_ms - r.before_ms;
  double var = r.xb / (sb->reqs * sb->reqs) + r.xc / (sc->reqs * sc->reqs);
  r.p_value = var > 0 ? erfc(fabs(r.xc / sc->reqs - r.xb / sb->reqs) / sqrt(var) / sqrt(2.0)) : 1;
  return r;
}

/* The change to name for direction dir: the innermost significant one (most frames above it) that carries >=
 * PROFDIFF_TOLERANCE of the largest change, or whose difference to the largest is itself not significant
 * (noise in the frames between them). 0 when none. */
static int pick(const side *b, const sums *sb, const side *c, const sums *sc, int dir, change *out) {
  json_t *set = candidates(b, sb, c, sc), *v;
  double request_ms =
             fmax(clock_ns_to_ms_frac(sb->total_ns) / sb->reqs, clock_ns_to_ms_frac(sc->total_ns) / sc->reqs),
         best = 0;
  size_t nch = 0;
  const char *fn;
  change *chs = calloc(json_object_size(set) + 1, sizeof *chs);
  if (!set || !chs) {
    json_decref(set);
    free(chs);
    return -ENOMEM;
  }
  json_object_foreach(set, fn, v) {
    change ch = measure(b, sb, c, sc, fn);
    if (is_runtime(fn) || !significant(&ch, dir, request_ms)) continue;
    chs[nch++] = ch;
    if (dir * ch.delta_ms > best) best = dir * ch.delta_ms;
  }
  long named = -1, largest = -1;
  for (size_t i = 0; i < nch; i++)
    if (largest < 0 || dir * chs[i].delta_ms > dir * chs[largest].delta_ms) largest = (long)i;
  for (size_t i = 0; i < nch; i++) {
    change rest = residual(&chs[largest], &chs[i], sb, sc);
    if (dir * chs[i].delta_ms < PROFDIFF_TOLERANCE * best && significant(&rest, dir, request_ms)) continue;
    if (named < 0 || chs[i].depth > chs[named].depth) named = (long)i;
  }
  int found = 0;
  if (named >= 0) {
    *out = chs[named];
    out->fn = strdup(chs[named].fn); /* set (which owns the name) is freed below */
    found = out->fn ? 1 : -ENOMEM;
  }
  json_decref(set);
  free(chs);
  return found;
}

/* Root .. fn on the heaviest sample of name (NULL: any) that has fn in run s (empty array when none). */
static json_t *path_of(const side *s, const char *name, const char *fn) {
  const pprof_profile *p = s->p;
  const pprof_sample *best = NULL;
  size_t depth = 0;
  json_t *a = json_array();
  for (size_t i = 0; i < p->nsamples; i++) {
    const pprof_sample *sm = &p->samples[i];
    const char *nm = corrjoin_request(s->join, p, sm);
    if ((name && (!nm || strcmp(nm, name) != 0)) || (best && sm->values[s->vi_ns] <= best->values[s->vi_ns]))
      continue;
    for (size_t k = 0; k < sm->nstack; k++)
      if (strcmp(p->strings[p->functions[sm->stack[k]].name], fn) == 0) {
        best = sm;
        depth = k;
        break;
      }
  }
  for (size_t k = best ? best->nstack : 0; k-- > depth;)
    json_array_append_new(a, json_string(p->strings[p->functions[best->stack[k]].name]));
  return a;
}

static json_t *finding(const char *name, const change *ch, int dir, const sums *sb, const sums *sc,
                       json_t *path) {
  double req_b = clock_ns_to_ms_frac(sb->total_ns) / sb->reqs,
         req_c = clock_ns_to_ms_frac(sc->total_ns) / sc->reqs;
  char ev[768];
  snprintf(
      ev, sizeof ev,
      "run vs run (CPU per request): %s spends %.3f -> %.3f ms CPU in %s per request (%.0f -> %.0f samples "
      "over %.0f -> %.0f requests profiled, p=%.2g); the request's CPU per request %.3f -> %.3f ms",
      name, ch->before_ms, ch->after_ms, ch->fn, ch->xb, ch->xc, sb->reqs, sc->reqs, ch->p_value, req_b,
      req_c);
  return json_pack("{s:s,s:s,s:s,s:o,s:s,s:{s:f,s:f},s:{s:I,s:I},s:{s:I,s:I},s:f,s:f,s:f,s:s,s:f}", "kind",
                   dir > 0 ? "regression" : "improvement", "request", name, "function", ch->fn, "path", path,
                   "profile", "cpu", "cpu_ms_per_req", "before", ch->before_ms, "after", ch->after_ms,
                   "samples", "before", (json_int_t)ch->xb, "after", (json_int_t)ch->xc, "requests", "before",
                   (json_int_t)llround(sb->reqs), "after", (json_int_t)llround(sc->reqs), "share",
                   req_c > 0 ? ch->after_ms / req_c : 0, "baseline_share",
                   req_b > 0 ? ch->before_ms / req_b : 0, "p_value", ch->p_value, "evidence", ev, "score",
                   fabs(ch->delta_ms));
}

/* Findings of one request name (both directions; name NULL: every sample, reported as "(all)") appended
 * to out; rb, rc: the requests each run served inside its CPU windows. Returns how many, or -ENOMEM. */
static int one_name(const side *b, const side *c, const char *name, double rb, double rc_reqs, json_t *out) {
  sums sb = {0}, sc = {0};
  int added = 0, rc = sums_make(b, name, rb, &sb);
  if (rc == 0) rc = sums_make(c, name, rc_reqs, &sc);
  for (int dir = 1; rc == 0 && dir >= -1; dir -= 2) {
    change ch;
    if (sb.reqs < 1 || sc.reqs < 1 || (rc = pick(b, &sb, c, &sc, dir, &ch)) <= 0) continue;
    json_t *f =
        finding(name ? name : PROFDIFF_ALL, &ch, dir, &sb, &sc, path_of(dir > 0 ? c : b, name, ch.fn));
    free((char *)ch.fn);
    rc = f && json_array_append_new(out, f) == 0 ? 0 : -ENOMEM;
    if (rc == 0) added++;
  }
  sums_free(&sb);
  sums_free(&sc);
  return rc < 0 ? rc : added;
}

static double profiled(const json_t *costs, const char *name) {
  return json_number_value(json_object_get(cost_get(costs, name), "requests_profiled"));
}

/* No request name labelled in both runs: every sample over every request measured in the CPU windows. */
static int all_samples(const side *b, const side *c, const char *bdir, const char *cdir, json_t *out,
                       char *err, size_t errlen) {
  double rb = 0, rc_reqs = 0;
  int rc = cost_requests_profiled(bdir, &rb, err, errlen);
  if (rc == 0) rc = cost_requests_profiled(cdir, &rc_reqs, err, errlen);
  return rc < 0 ? rc : one_name(b, c, NULL, rb, rc_reqs, out);
}

int profdiff_runs(const char *base_dir, const char *cur_dir, json_t *out, char *err, size_t errlen) {
  side b = {0}, c = {0};
  const char *name;
  json_t *v;
  int added = 0, common = 0, rc = side_load(&b, base_dir, err, errlen);
  if (rc == 0) rc = side_load(&c, cur_dir, err, errlen);
  if (rc < 0 || !b.p || !c.p || b.vi_ns < 0 || c.vi_ns < 0 || b.vi_n < 0 || c.vi_n < 0) goto out;
  json_object_foreach(c.costs, name, v) {
    if (!cost_get(b.costs, name)) continue;
    common++;
    if ((rc = one_name(&b, &c, name, profiled(b.costs, name), profiled(c.costs, name), out)) < 0) break;
    added += rc;
  }
  if (rc >= 0 && common == 0 && (rc = all_samples(&b, &c, base_dir, cur_dir, out, err, errlen)) > 0)
    added += rc;
  if (rc < 0)
    snprintf(err, errlen, "comparing the profiles of %s and %s: %s", base_dir, cur_dir, strerror(-rc));
out:
  side_free(&b);
  side_free(&c);
  return rc < 0 ? rc : added;
}
