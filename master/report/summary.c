/* summary.c - summary.json (the stable schema CI scripts and `loadctl compare` read) and locust's
 * stats.csv / failures.csv, so existing locust tooling reads our results. */
#include "master/report/summary.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/csv.h"
#include "common/hist.h"
#include "common/rundir.h"
#include "master/report/groups.h"
#include "master/report/scensum.h"
#include "master/report/tagsum.h"

static const double csv_pcts[] = {50, 66, 75, 80, 90, 95, 98, 99, 99.9, 99.99, 100};

static void put_latency(json_t *o, const hist *h) {
  rundir_put_latency(o, h);
  json_object_set_new(o, "stdev_ms", json_real(h && hist_count(h) ? clock_us_to_ms(hist_stdev(h)) : 0));
}

/* Latency from the actual send rather than the intended one (wrk2's "uncorrected" latency): next to
 * the corrected figures it shows how much of a tail the generator's own lateness or a stalled target
 * added. Absent when no service times were recorded (a run rebuilt from latency.hlog). */
static void put_service(json_t *o, const hist *h) {
  json_t *s;
  if (!h || hist_count(h) == 0) return;
  s = json_object();
  put_latency(s, h);
  json_object_set_new(o, "service", s);
}

/* k6's timing breakdown: per phase (stats_phase_name) p50/p95/p99/max and mean in ms, from the phase
 * histograms merged across workers. Absent when the name recorded no HTTP response's phases, or not
 * every request's (a name past STATS_PHASE_NAMES in some interval): a part would read as the whole. */
static void put_timings(json_t *o, const stats_entry *e) {
  json_t *t = NULL;
  for (int k = 0; k < STATS_PHASE_COUNT; k++) {
    const hist *h = e->phase[k];
    if (!h || hist_count(h) == 0 || hist_count(h) != e->count) continue;
    if (!t) t = json_object();
    json_object_set_new(t, stats_phase_name(k),
                        json_pack("{s:f,s:f,s:f,s:f,s:f}", "p50_ms", hist_pct_ms(h, 50), "p95_ms",
                                  hist_pct_ms(h, 95), "p99_ms", hist_pct_ms(h, 99), "max_ms",
                                  hist_pct_ms(h, 100), "mean_ms", clock_us_to_ms(hist_mean(h))));
  }
  if (t) json_object_set_new(o, "timings", t);
}

/* The slowest requests kept (exemplars): trace ids a person can look up in their tracing system. */
static json_t *slowest_json(const stats_entry *e) {
  json_t *a = json_array();
  for (int i = 0; i < e->nslow && i < STATS_EXEMPLARS; i++)
    json_array_append_new(
        a, json_pack("{s:s,s:s,s:f,s:I}", "trace_id", e->slow[i].trace_id, "span_id", e->slow[i].span_id,
                     "latency_ms", clock_us_to_ms((double)e->slow[i].latency_us), "wall_ms",
                     (json_int_t)e->slow[i].wall_ms));
  return a;
}

/* cpu_ms_per_req and its interval, sample count and profiled requests (cost.h), when the run has them. */
static void put_cost(json_t *o, const json_t *cost) {
  const char *key;
  json_t *v;
  if (!cost) return;
  json_object_foreach((json_t *)cost, key, v) json_object_set_new(o, key, json_deep_copy(v));
}

static json_t *request_json(const stats_entry *e, double secs, const json_t *costs) {
  json_t *o = json_object(), *kinds = json_object();

  json_object_set_new(o, "name", json_string(e->name));
  json_object_set_new(o, "method", json_string(e->method));
  json_object_set_new(o, "count", json_integer(e->count));
  json_object_set_new(o, "errors", json_integer(e->errors));
  json_object_set_new(o, "rps", json_real(secs > 0 ? (double)e->count / secs : 0));
  json_object_set_new(o, "error_rate", json_real(e->count ? (double)e->errors / (double)e->count : 0));
  put_latency(o, e->latency);
  put_service(o, e->service);
  put_timings(o, e);
  for (int k = STATS_ERR_FIRST; k < STATS_ERR_COUNT; k++)
    if (e->err[k]) json_object_set_new(kinds, stats_err_name(k), json_integer(e->err[k]));
  json_object_set_new(o, "errors_by_kind", kinds);
  json_object_set_new(o, "bytes_in", json_integer(e->bytes_in));
  json_object_set_new(o, "bytes_out", json_integer(e->bytes_out));
  json_object_set_new(o, "slowest", slowest_json(e));
  put_cost(o, costs ? json_object_get(costs, e->name) : NULL);
  return o;
}

/* group() blocks: each group's requests (nested groups included) taken together. */
static json_t *groups_json(const stats_interval *cum, double secs) {
  report_group *gs = NULL;
  size_t n = 0;
  json_t *a = json_array();

  if (groups_collect(cum, &gs, &n) < 0) return a;
  for (size_t i = 0; i < n; i++) {
    json_t *o = json_object();
    json_object_set_new(o, "name", json_string(gs[i].name));
    json_object_set_new(o, "requests", json_integer((json_int_t)gs[i].nrequests));
    json_object_set_new(o, "count", json_integer(gs[i].count));
    json_object_set_new(o, "errors", json_integer(gs[i].errors));
    json_object_set_new(o, "rps", json_real(secs > 0 ? (double)gs[i].count / secs : 0));
    json_object_set_new(o, "error_rate",
                        json_real(gs[i].count ? (double)gs[i].errors / (double)gs[i].count : 0));
    put_latency(o, gs[i].latency);
    json_array_append_new(a, o);
  }
  groups_free(gs, n);
  return a;
}

/* Histogram of all requests merged: their latencies, or with service set their service times. */
static hist *merge_all(const stats_interval *cum, int service) {
  hist *h;

  if (hist_create(&h) < 0) return NULL;
  for (size_t i = 0; i < cum->nentries; i++) {
    const hist *part = service ? cum->entries[i].service : cum->entries[i].latency;
    if (part) hist_add(h, part);
  }
  return h;
}

static void sum_counts(const stats_interval *cum, int64_t *count, int64_t *errors, int64_t *bytes) {
  *count = *errors = *bytes = 0;
  for (size_t i = 0; i < cum->nentries; i++) {
    *count += cum->entries[i].count;
    *errors += cum->entries[i].errors;
    *bytes += cum->entries[i].bytes_in;
  }
}

static json_t *totals_json(const report *r, const hist *all, const hist *service, int64_t count,
                           int64_t errors) {
  const stats_interval *cum = report_cumulative(r);
  double secs = report_duration_s(r);
  json_t *o = json_object();

  json_object_set_new(o, "requests", json_integer(count));
  json_object_set_new(o, "errors", json_integer(errors));
  json_object_set_new(o, "rps", json_real(secs > 0 ? (double)count / secs : 0));
  json_object_set_new(o, "error_rate", json_real(count ? (double)errors / (double)count : 0));
  json_object_set_new(o, "duration_s", json_real(secs));
  json_object_set_new(o, "dropped", json_integer(cum->dropped));
  json_object_set_new(o, "iterations", json_integer(cum->iterations));
  json_object_set_new(o, "start_ms", json_integer(report_start_ms(r)));
  put_latency(o, all);
  put_service(o, service);
  return o;
}

/* Custom metrics (common/metric.h) of the whole run, as people read them. */
static json_t *metrics_json(const stats_interval *cum) {
  json_t *a = json_array();
  for (size_t i = 0; i < cum->nmetrics; i++) json_array_append_new(a, metric_json(&cum->metrics[i], 1));
  return a;
}

json_t *summary_json(const report *r) {
  const stats_interval *cum = report_cumulative(r);
  double secs = report_duration_s(r);
  int64_t count, errors, bytes;
  hist *all = merge_all(cum, 0), *service = merge_all(cum, 1);
  json_t *o, *reqs, *checks;
  const char *key;
  json_t *value;

  if (!all || !service) {
    hist_destroy(all);
    hist_destroy(service);
    return NULL;
  }
  sum_counts(cum, &count, &errors, &bytes);
  o = json_object();
  reqs = json_array();
  checks = json_array();
  json_object_set_new(o, "run", report_run_info(r) ? json_deep_copy(report_run_info(r)) : json_object());
  json_object_set_new(o, "totals", totals_json(r, all, service, count, errors));
  for (size_t i = 0; i < cum->nentries; i++)
    json_array_append_new(reqs, request_json(&cum->entries[i], secs, report_costs(r)));
  json_object_set_new(o, "requests", reqs);
  json_object_set_new(o, "groups", groups_json(cum, secs));
  json_object_set_new(o, "tags", tagsum_json(cum, secs));
  for (size_t i = 0; i < cum->nchecks; i++)
    json_array_append_new(
        checks, json_pack("{s:s,s:I,s:I}", "name", cum->checks[i].name, "passes",
                          (json_int_t)cum->checks[i].passes, "fails", (json_int_t)cum->checks[i].fails));
  json_object_set_new(o, "checks", checks);
  json_object_set_new(o, "metrics", metrics_json(cum));
  json_object_set_new(o, "scenarios", scensum_json(report_run_info(r), cum, secs));
  json_object_set_new(o, "thresholds",
                      report_thresholds_json(r) ? json_deep_copy(report_thresholds_json(r)) : json_array());
  json_object_set_new(o, "findings", report_findings(r) ? json_deep_copy(report_findings(r)) : json_array());
  if (report_extras(r)) {
    json_object_foreach(report_extras(r), key, value) {
      if (!json_object_get(o, key)) json_object_set(o, key, value);
    }
  }
  hist_destroy(all);
  hist_destroy(service);
  return o;
}

/* One stats.csv row; the last column is the request's CPU ms per request (empty when unknown). */
static void stats_row(FILE *f, const char *type, const char *name, const hist *h, int64_t count,
                      int64_t errors, int64_t bytes, double secs, const json_t *cost) {
  bool any = h && hist_count(h) > 0;

  csv_field(f, type);
  fputc(',', f);
  csv_field(f, name);
  fprintf(f, ",%" PRId64 ",%" PRId64 ",", count, errors);
  csv_ms(f, hist_pct_ms(h, 50));
  fputc(',', f);
  csv_ms(f, any ? clock_us_to_ms(hist_mean(h)) : 0);
  fputc(',', f);
  csv_ms(f, any ? clock_us_to_ms((double)hist_min(h)) : 0);
  fputc(',', f);
  csv_ms(f, any ? clock_us_to_ms((double)hist_max(h)) : 0);
  fprintf(f, ",%.2f,%.6f,%.6f", count ? (double)bytes / (double)count : 0.0,
          secs > 0 ? (double)count / secs : 0.0, secs > 0 ? (double)errors / secs : 0.0);
  for (size_t i = 0; i < sizeof csv_pcts / sizeof csv_pcts[0]; i++) {
    fputc(',', f);
    csv_ms(f, any ? hist_pct_ms(h, csv_pcts[i]) : NAN);
  }
  if (cost)
    fprintf(f, ",%.4f", json_number_value(json_object_get(cost, "cpu_ms_per_req")));
  else
    fputc(',', f);
  fputc('\n', f);
}

/* One stats.csv row per group, Type "group" (its requests together, as in summary.json). */
static void write_group_rows(FILE *f, const stats_interval *cum, double secs) {
  report_group *gs = NULL;
  size_t n = 0;
  if (groups_collect(cum, &gs, &n) < 0) return;
  for (size_t i = 0; i < n; i++)
    stats_row(f, "group", gs[i].name, gs[i].latency, gs[i].count, gs[i].errors, gs[i].bytes_in, secs, NULL);
  groups_free(gs, n);
}

/* stats.csv's rows, printed into the stream rundir_write_stream gives. */
static int fill_stats_csv(FILE *f, void *ctx) {
  const report *r = ctx;
  const stats_interval *cum = report_cumulative(r);
  double secs = report_duration_s(r);
  int64_t count, errors, bytes;
  hist *all = merge_all(cum, 0);

  if (!all) return -ENOMEM;
  sum_counts(cum, &count, &errors, &bytes);
  fputs(SUMMARY_STATS_HEADER "\n", f);
  for (size_t i = 0; i < cum->nentries; i++) {
    const stats_entry *e = &cum->entries[i];
    stats_row(f, e->method, e->name, e->latency, e->count, e->errors, e->bytes_in, secs,
              report_costs(r) ? json_object_get(report_costs(r), e->name) : NULL);
  }
  write_group_rows(f, cum, secs);
  stats_row(f, "", "Aggregated", all, count, errors, bytes, secs, NULL);
  hist_destroy(all);
  return 0;
}

static int write_stats_csv(const report *r, const char *dir) {
  return rundir_write_stream(dir, RUNDIR_STATS_CSV, fill_stats_csv, (void *)r);
}

/* failures.csv's rows, printed into the stream rundir_write_stream gives. */
static int fill_failures_csv(FILE *f, void *ctx) {
  const stats_interval *cum = report_cumulative(ctx);

  fputs(SUMMARY_FAILURES_HEADER "\n", f);
  for (size_t i = 0; i < cum->nentries; i++) {
    const stats_entry *e = &cum->entries[i];
    for (int k = 0; k < e->nfailures; k++) {
      char error[STATS_MESSAGE_MAX + 32];
      snprintf(error, sizeof error, "%s: %s", stats_err_name(e->failures[k].kind), e->failures[k].message);
      csv_field(f, e->method);
      fputc(',', f);
      csv_field(f, e->name);
      fputc(',', f);
      csv_field(f, error);
      fprintf(f, ",%" PRId64 "\n", e->failures[k].count);
    }
  }
  return 0;
}

static int write_failures_csv(const report *r, const char *dir) {
  return rundir_write_stream(dir, RUNDIR_FAILURES_CSV, fill_failures_csv, (void *)r);
}

int summary_write(const report *r, const char *dir, char *err, size_t errlen) {
  json_t *s = summary_json(r);
  const char *what = RUNDIR_SUMMARY;
  int rc = s ? rundir_write_json(dir, RUNDIR_SUMMARY, s) : -ENOMEM;

  json_decref(s);
  if (rc == 0) {
    what = RUNDIR_STATS_CSV;
    rc = write_stats_csv(r, dir);
  }
  if (rc == 0) {
    what = RUNDIR_FAILURES_CSV;
    rc = write_failures_csv(r, dir);
  }
  if (rc < 0) snprintf(err, errlen, "cannot write %s/%s: %s", dir, what, strerror(-rc));
  return rc;
}
