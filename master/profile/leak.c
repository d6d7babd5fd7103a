/* leak.c - steady in-use heap growth at one allocation site (leak.h). */
#include "master/profile/leak.h"
#include "common/clock.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "master/profile/corrstack.h"
#include "master/profile/pprof.h"
#include "master/profile/source.h"

/* Allocation site of s: the depth of the first frame from the leaf that is the service's own (not the
 * runtime's or a library's, corrstack_is_library); -1 when there is none (the profiler
 * serving its own profile, the runtime's buffers): such allocations are not named. */
static long site_depth(const pprof_profile *p, const pprof_sample *s) {
  for (size_t k = 0; k < s->nstack; k++) {
    const pprof_function *f = &p->functions[s->stack[k]];
    if (!corrstack_is_library(p->strings[f->name], f->filename ? p->strings[f->filename] : NULL))
      return (long)k;
  }
  return -1;
}

/* sites: object name -> {"d": [per-window delta bytes], "path": [...]}; window w of nw. */
static int add_window(json_t *sites, const pprof_profile *p, size_t w, size_t nw) {
  int vi = pprof_sample_type_index(p, "inuse_space");
  if (vi < 0) return 0;
  for (size_t i = 0; i < p->nsamples; i++) {
    const pprof_sample *s = &p->samples[i];
    long depth = s->nstack && s->values[vi] ? site_depth(p, s) : -1;
    if (depth < 0) continue;
    size_t k = (size_t)depth;
    const char *fn = p->strings[p->functions[s->stack[k]].name];
    json_t *o = json_object_get(sites, fn);
    if (!o) {
      json_t *d = json_array(), *path = json_array();
      for (size_t j = 0; j < nw; j++) json_array_append_new(d, json_real(0));
      for (size_t j = s->nstack; j-- > k;)
        json_array_append_new(path, json_string(p->strings[p->functions[s->stack[j]].name]));
      o = json_pack("{s:o,s:o}", "d", d, "path", path);
      if (!o || json_object_set_new(sites, fn, o) < 0) return -ENOMEM;
    }
    json_t *d = json_object_get(o, "d");
    json_array_set_new(d, w, json_real(json_number_value(json_array_get(d, w)) + (double)s->values[vi]));
  }
  return 0;
}

/* Pearson r of the cumulative sum of d against the window index. */
static double steadiness(const json_t *d) {
  size_t n = json_array_size(d);
  double c = 0, sx = 0, sy = 0, sxx = 0, syy = 0, sxy = 0;
  for (size_t i = 0; i < n; i++) {
    c += json_number_value(json_array_get(d, i));
    sx += (double)i, sy += c, sxx += (double)i * (double)i, syy += c * c, sxy += (double)i * c;
  }
  double vx = (double)n * sxx - sx * sx, vy = (double)n * syy - sy * sy;
  return vx > 0 && vy > 0 ? ((double)n * sxy - sx * sy) / sqrt(vx * vy) : 0;
}

static json_t *finding(const char *fn, json_t *o, double growth, double all, size_t growing, size_t nw,
                       double r, int64_t t0, int64_t t1) {
  double secs = t1 > t0 ? clock_ms_to_s((double)(t1 - t0)) : 1;
  char ev[512];
  snprintf(ev, sizeof ev,
           "heap in use grew by %.1f MiB at %s over the run (%.0f KiB/s), in %zu of the %zu heap windows "
           "that changed (cumulative growth against time r=%.2f); %.0f%% of the growth of all growing sites",
           growth / 1048576, fn, growth / 1024 / secs, growing, nw, r, 100 * growth / all);
  return json_pack("{s:s,s:n,s:s,s:O,s:s,s:f,s:f,s:[I,I],s:f,s:f,s:{s:I,s:I},s:f,s:s,s:f}", "kind", "leak",
                   "request", "function", fn, "path", json_object_get(o, "path"), "profile", "heap", "share",
                   growth / all, "baseline_share", 0.0, "window", (json_int_t)t0, (json_int_t)t1,
                   "growth_bytes", growth, "bytes_per_s", growth / secs, "samples", "windows", (json_int_t)nw,
                   "growing", (json_int_t)growing, "steadiness", r, "evidence", ev, "score",
                   1.0 + growth / all);
}

/* Findings of the sites in sites (nw windows from t0 to t1) appended to out. */
static int judge(json_t *sites, size_t nw, int64_t t0, int64_t t1, json_t *out) {
  double all = 0;
  const char *fn;
  json_t *o;
  int added = 0;
  size_t changed = 0; /* windows in which the heap profile changed at all (Go's changes at a GC only) */
  unsigned char *any = calloc(nw ? nw : 1, 1);
  if (!any) return -ENOMEM;
  json_object_foreach(sites, fn, o) {
    double g = 0;
    for (size_t i = 0; i < nw; i++) {
      double v = json_number_value(json_array_get(json_object_get(o, "d"), i));
      g += v;
      if (v != 0 && !any[i]) any[i] = 1, changed++;
    }
    if (g > 0) all += g;
  }
  free(any);
  if (changed < LEAK_MIN_WINDOWS) return 0;
  json_object_foreach(sites, fn, o) {
    const json_t *d = json_object_get(o, "d");
    double g = 0;
    size_t growing = 0;
    for (size_t i = 0; i < nw; i++) {
      g += json_number_value(json_array_get(d, i));
      growing += json_number_value(json_array_get(d, i)) > 0;
    }
    double r = steadiness(d);
    if (g < LEAK_MIN_BYTES || g < LEAK_MIN_SHARE * all || (double)growing < LEAK_GROWING * (double)changed ||
        r < LEAK_STEADY_R)
      continue;
    json_t *f = finding(fn, o, g, all, growing, changed, r, t0, t1);
    if (!f || json_array_append_new(out, f) < 0) return -ENOMEM;
    added++;
  }
  return added;
}

/* Remove earlier "leak" findings from out (a rebuild computes them again). */
static void drop_leaks(json_t *out) {
  for (size_t i = json_array_size(out); i-- > 0;) {
    const char *kind = json_string_value(json_object_get(json_array_get(out, i), "kind"));
    if (kind && !strcmp(kind, "leak")) json_array_remove(out, i);
  }
}

int leak_run(const char *run_dir, json_t *out) {
  char pdir[4096], e[256];
  source_window *w = NULL;
  size_t n = 0, nw = 0, heap = 0;
  int64_t t0 = 0, t1 = 0;
  json_t *sites = json_object();
  int rc = 0;

  drop_leaks(out);
  snprintf(pdir, sizeof pdir, "%s/profiles", run_dir);
  if (!sites) return -ENOMEM;
  if (source_read_index(pdir, &w, &n) < 0) n = 0;
  for (size_t i = 0; i < n; i++) heap += !strcmp(w[i].status, "ok") && !strcmp(w[i].type, "heap");
  for (size_t i = 0; rc == 0 && heap >= LEAK_MIN_WINDOWS && i < n; i++) {
    pprof_profile *p = NULL;
    if (strcmp(w[i].status, "ok") != 0 || strcmp(w[i].type, "heap") != 0) continue;
    if (source_load_window(pdir, &w[i], &p, e, sizeof e) == 0) rc = add_window(sites, p, nw, heap);
    pprof_free(p);
    if (!nw) t0 = w[i].start_ms;
    t1 = w[i].end_ms;
    nw++;
  }
  if (rc == 0 && nw >= LEAK_MIN_WINDOWS) rc = judge(sites, nw, t0, t1, out);
  json_decref(sites);
  free(w);
  return rc;
}
