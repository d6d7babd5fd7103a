/* cost.c - CPU cost per request name: labelled CPU samples of the run's cpu windows over the requests of
 * that name measured inside those windows (cost.h). */
#include "master/profile/cost.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/jsonlines.h"
#include "common/rundir.h"
#include "master/profile/corrjoin.h"
#include "master/profile/source.h"

/* Per-name sums while reading: object name -> [cpu_ns, samples, requests]. */
typedef struct acc {
  json_t *names;
  corrjoin *join;            /* request names as correlation reads them (decoded, routes mapped) */
  const source_window *wins; /* cpu windows that decoded */
  size_t nwins;
} acc;

static json_t *slot(acc *a, const char *name) {
  json_t *s = json_object_get(a->names, name);
  if (s) return s;
  s = json_pack("[f,f,f]", 0.0, 0.0, 0.0);
  if (s && json_object_set_new(a->names, name, s) < 0) return NULL;
  return s;
}

static void slot_add(json_t *s, size_t i, double v) {
  json_array_set_new(s, i, json_real(json_number_value(json_array_get(s, i)) + v));
}

/* Adds one window's labelled samples. vi_ns: the "cpu" value (nanoseconds); vi_n: the sample count. */
static int add_profile(acc *a, const pprof_profile *p) {
  int vi_ns = pprof_sample_type_index(p, "cpu"), vi_n = pprof_sample_type_index(p, "samples");
  if (vi_ns < 0 || vi_n < 0) return 0;
  for (size_t i = 0; i < p->nsamples; i++) {
    const char *name = corrjoin_request(a->join, p, &p->samples[i]);
    json_t *s;
    if (!name) continue;
    if (!(s = slot(a, name))) return -ENOMEM;
    slot_add(s, 0, (double)p->samples[i].values[vi_ns]);
    slot_add(s, 1, (double)p->samples[i].values[vi_n]);
  }
  return 1;
}

/* Share of [t0, t1) covered by the cpu windows (which do not overlap: back-to-back pulls). */
static double covered(const acc *a, int64_t t0, int64_t t1) {
  double ms = 0;
  if (t1 <= t0) return 0;
  for (size_t i = 0; i < a->nwins; i++) {
    int64_t lo = t0 > a->wins[i].start_ms ? t0 : a->wins[i].start_ms;
    int64_t hi = t1 < a->wins[i].end_ms ? t1 : a->wins[i].end_ms;
    if (hi > lo) ms += (double)(hi - lo);
  }
  return ms >= (double)(t1 - t0) ? 1.0 : ms / (double)(t1 - t0);
}

/* Requests per name from intervals.jsonl, each interval weighted by its share inside the cpu windows. */
static int add_requests(acc *a, const char *run_dir) {
  char path[4096];
  int rc = 0;
  jsonlines *j;
  json_t *o;
  snprintf(path, sizeof path, "%s/%s", run_dir, RUNDIR_INTERVALS);
  if (jsonlines_open(path, NULL, NULL, &j) < 0) return 0; /* no intervals: no request counts, no costs */
  while (rc == 0 && (o = jsonlines_next(j))) {
    json_t *s;
    const char *name = json_string_value(json_object_get(o, "name"));
    int64_t t = json_integer_value(json_object_get(o, "t"));
    int64_t len = json_integer_value(json_object_get(o, "interval_ms"));
    double count = json_number_value(json_object_get(o, "count")), share;
    if (name && strcmp(name, RUNDIR_TOTAL_NAME) != 0 && count > 0 && (share = covered(a, t, t + len)) > 0) {
      if (!(s = slot(a, name)))
        rc = -ENOMEM;
      else
        slot_add(s, 2, count * share);
    }
    json_decref(o);
  }
  jsonlines_close(j);
  return rc;
}

/* The output entry of one name; ms_per_sample is the run's mean CPU time per labelled sample. */
static json_t *entry(const json_t *s, double ms_per_sample) {
  double ns = json_number_value(json_array_get(s, 0)), n = json_number_value(json_array_get(s, 1));
  double reqs = json_number_value(json_array_get(s, 2));
  double lo = n > 0 ? fmax(0, n - COST_Z95 * sqrt(n)) : 0, hi = n > 0 ? n + COST_Z95 * sqrt(n) : 3;
  return json_pack("{s:f,s:[f,f],s:I,s:I}", "cpu_ms_per_req", clock_ns_to_ms_frac(ns) / reqs,
                   "cpu_ms_per_req_ci95", lo * ms_per_sample / reqs, hi * ms_per_sample / reqs, "cpu_samples",
                   (json_int_t)n, "requests_profiled", (json_int_t)llround(reqs));
}

static int finish(acc *a, json_t **out) {
  double ns = 0, n = 0;
  const char *name;
  json_t *s;
  json_object_foreach(a->names, name, s) {
    ns += json_number_value(json_array_get(s, 0));
    n += json_number_value(json_array_get(s, 1));
  }
  if (!(*out = json_object())) return -ENOMEM;
  if (n <= 0) return 0; /* nothing labelled: the service does not say which request a sample served */
  json_object_foreach(a->names, name, s) {
    if (json_number_value(json_array_get(s, 2)) < 0.5) continue; /* no request of it in a cpu window */
    json_t *e = entry(s, n > 0 ? clock_ns_to_ms_frac(ns / n) : 0);
    if (!e || json_object_set_new(*out, name, e) < 0) return -ENOMEM;
  }
  return 0;
}

/* Decode the ok cpu windows into a (keeping those that decoded in wins). */
static int add_windows(acc *a, const char *pdir, source_window *w, size_t n) {
  char e[256];
  size_t kept = 0;
  for (size_t i = 0; i < n; i++) {
    pprof_profile *p = NULL;
    int rc;
    if (strcmp(w[i].status, "ok") != 0 || strcmp(w[i].type, "cpu") != 0) continue;
    if (source_load_window(pdir, &w[i], &p, e, sizeof e) < 0) continue;
    rc = add_profile(a, p);
    pprof_free(p);
    if (rc < 0) return rc;
    if (rc > 0) w[kept++] = w[i];
  }
  a->wins = w;
  a->nwins = kept;
  return 0;
}

/* Read the run's cpu windows and intervals into a (a.names: name -> [cpu_ns, samples, requests]). */
static int collect(acc *a, const char *run_dir, char *err, size_t errlen) {
  char pdir[4096];
  source_window *w = NULL;
  size_t n = 0;
  int rc;

  snprintf(pdir, sizeof pdir, "%s/profiles", run_dir);
  rc = source_read_index(pdir, &w, &n);
  if (rc == -ENOENT) rc = 0, n = 0;
  if (rc < 0) {
    snprintf(err, errlen, "cannot read %s/%s: %s", pdir, SOURCE_INDEX, strerror(-rc));
    return rc;
  }
  if ((rc = corrjoin_create_run(run_dir, &a->join)) == 0 && (rc = add_windows(a, pdir, w, n)) == 0)
    rc = add_requests(a, run_dir);
  corrjoin_free(a->join);
  a->join = NULL;
  if (rc < 0) snprintf(err, errlen, "CPU cost per request of %s: %s", run_dir, strerror(-rc));
  a->wins = NULL;
  free(w);
  return rc;
}

int cost_run(const char *run_dir, json_t **out, char *err, size_t errlen) {
  acc a = {json_object(), NULL, NULL, 0};
  int rc = a.names ? collect(&a, run_dir, err, errlen) : -ENOMEM;
  *out = NULL;
  if (rc == 0) rc = finish(&a, out);
  json_decref(a.names);
  return rc;
}

int cost_requests_profiled(const char *run_dir, double *requests, char *err, size_t errlen) {
  acc a = {json_object(), NULL, NULL, 0};
  int rc = a.names ? collect(&a, run_dir, err, errlen) : -ENOMEM;
  const char *name;
  json_t *s;
  *requests = 0;
  if (rc == 0) json_object_foreach(a.names, name, s) *requests += json_number_value(json_array_get(s, 2));
  json_decref(a.names);
  return rc;
}

const json_t *cost_get(const json_t *costs, const char *name) {
  return costs && name ? json_object_get(costs, name) : NULL;
}
