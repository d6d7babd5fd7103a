/* mkrun.c - writes a synthetic run directory through the real rundir/report API (three request names,
 * a users ramp, errors, failures, checks, exemplars, thresholds), for the report tests and the
 * kill -9 test (--slow: one interval every 100 ms, so a test can kill it mid-run).
 * usage: mkrun DIR [--intervals N] [--slow] [--live] [--no-finish] [--seed N] [--scale X] [--slowdown X]
 * [--errors X]
 *              [--threshold EXPR]... (exit 99 when a threshold fails, like loadctl start) */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/rundir.h"
#include "master/report/live.h"
#include "master/report/report.h"
#include "master/thresholds.h"

static uint64_t rng_state = 88172645463325252ULL;
static double slowdown = 1.0;
static double error_scale = 1.0; /* --errors X: every name's error fraction times X, latencies unchanged */

static double rnd(void) {
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 7;
  rng_state ^= rng_state << 17;
  return (double)(rng_state >> 11) / 9007199254740992.0;
}

/* Log-normal-ish latency in us around median_ms, with a slow tail of tail_frac. */
static int64_t latency_us(double median_ms, double tail_frac) {
  double z = sqrt(-2.0 * log(rnd() + 1e-12)) * cos(6.283185307 * rnd());
  double ms = slowdown * median_ms * exp(0.35 * z);
  if (rnd() < tail_frac) ms *= 4 + 6 * rnd();
  return (int64_t)(ms * 1000.0) + 1;
}

static void fill_name(stats_interval *iv, const char *name, const char *method, int n, double median_ms,
                      double err_frac, int kind, const char *msg, int64_t t) {
  stats_entry *e = stats_entry_get(iv, name, method);
  for (int i = 0; i < n && e; i++) {
    int64_t us = latency_us(median_ms, 0.01);
    stats_entry_record(e, us, us);
    e->bytes_in += 512;
    e->bytes_out += 128;
    if (rnd() < err_frac * error_scale) stats_entry_fail(e, kind, msg);
    if (i % 50 == 0) {
      stats_exemplar x;
      memset(&x, 0, sizeof x);
      snprintf(x.trace_id, sizeof x.trace_id, "%016" PRIx64 "%016" PRIx64, (uint64_t)t, (uint64_t)i);
      snprintf(x.span_id, sizeof x.span_id, "%016" PRIx64, (uint64_t)i + 1);
      x.latency_us = us;
      x.wall_ms = t;
      stats_entry_exemplar(e, &x, (uint64_t)(rnd() * 1e9));
    }
  }
}

static stats_interval *make_interval(int k, int64_t t, double scale) {
  stats_interval *iv;
  double users = k < 10 ? 5.0 * (k + 1) : 50;
  int base = (int)(users * 8 * scale);
  stats_check *c;

  if (stats_create(&iv, t, 1000) < 0) return NULL;
  iv->users = (int64_t)users;
  iv->iterations = base;
  fill_name(iv, "GET /api/books", "GET", base * 5, 4.0 + (k > 20 && k < 26 ? 6 : 0), 0.002, STATS_ERR_TIMEOUT,
            "timeout after 30s", t);
  fill_name(iv, "POST /api/orders", "POST", base, 35.0, 0.03, STATS_ERR_HTTP5XX,
            "HTTP 503 Service Unavailable", t);
  fill_name(iv, "GET /health", "GET", base / 4 + 1, 0.8, 0, 0, "", t);
  if ((c = stats_check_get(iv, "status is 201"))) {
    c->passes = base - base / 30;
    c->fails = base / 30;
  }
  return iv;
}

int main(int argc, char **argv) {
  const char *dir = NULL;
  int intervals = 40, slow = 0, finish = 1, live_view = 0, nth = 0, code = 0;
  const char *th_exprs[8];
  live *lv = NULL;
  double scale = 1.0;
  char err[600];
  rundir *rd;
  report *rep;
  thresholds *th;
  options opts;
  json_t *run;
  int64_t t0 = 1795000000000LL; /* fixed, so outputs are reproducible */

  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--intervals") && i + 1 < argc)
      intervals = (int)strtol(argv[++i], NULL, 10);
    else if (!strcmp(argv[i], "--slow"))
      slow = 1;
    else if (!strcmp(argv[i], "--no-finish"))
      finish = 0;
    else if (!strcmp(argv[i], "--seed") && i + 1 < argc)
      rng_state += strtoull(argv[++i], NULL, 10);
    else if (!strcmp(argv[i], "--scale") && i + 1 < argc)
      scale = strtod(argv[++i], NULL);
    else if (!strcmp(argv[i], "--slowdown") && i + 1 < argc)
      slowdown = strtod(argv[++i], NULL);
    else if (!strcmp(argv[i], "--errors") && i + 1 < argc)
      error_scale = strtod(argv[++i], NULL);
    else if (!strcmp(argv[i], "--live"))
      live_view = 1;
    else if (!strcmp(argv[i], "--threshold") && i + 1 < argc && nth < 8)
      th_exprs[nth++] = argv[++i];
    else
      dir = argv[i];
  }
  if (!dir) {
    fprintf(stderr, "usage: mkrun DIR [--intervals N] [--slow] [--no-finish] [--seed N] [--scale X]\n");
    return 1;
  }
  memset(&opts, 0, sizeof opts);
  snprintf(opts.name, sizeof opts.name, "synthetic");
  snprintf(opts.target, sizeof opts.target, "http://127.0.0.1:8080");
  opts.users = 50;
  opts.duration_ns = (int64_t)intervals * 1000000000LL;
  opts.interval_ns = 1000000000LL;
  snprintf(opts.thresholds[0].expr, sizeof opts.thresholds[0].expr, "p99{name=POST /api/orders} < 250ms");
  snprintf(opts.thresholds[1].expr, sizeof opts.thresholds[1].expr, "errors rate < 1%%");
  snprintf(opts.thresholds[2].expr, sizeof opts.thresholds[2].expr, "p95 < 200");
  opts.nthresholds = 3;
  if (nth > 0) {
    for (int i = 0; i < nth; i++)
      snprintf(opts.thresholds[i].expr, sizeof opts.thresholds[i].expr, "%s", th_exprs[i]);
    opts.nthresholds = (size_t)nth;
  }
  if (thresholds_parse(&opts, &th, err, sizeof err) < 0 ||
      rundir_open(dir, "synthetic", NULL, &rd, err, sizeof err) < 0 || report_create(&rep) < 0) {
    fprintf(stderr, "mkrun: %s\n", err);
    return 2;
  }
  run = report_run_json(&opts, "scenarios/synthetic.lua");
  json_object_set_new(run, "status", json_string("running"));
  json_object_set_new(run, "start_ms", json_integer(t0));
  json_object_set_new(run, "workers", json_integer(2));
  rundir_write_run(rd, run);
  if (live_view) {
    bool tty, color;
    live_detect(1, &tty, &color);
    if (live_create(stdout, tty, color, opts.duration_ns, &lv) < 0) return 2;
    live_set_thresholds(lv, th);
  }
  for (int k = 0; k < intervals; k++) {
    stats_interval *iv = make_interval(k, t0 + 1000LL * k, scale);
    if (!iv || rundir_append_interval(rd, iv) < 0 || report_add_interval(rep, iv) < 0) return 2;
    if (lv) live_update(lv, iv, report_cumulative(rep), 1000000000LL * (k + 1));
    stats_destroy(iv);
    if (slow) {
      struct timespec ts = {0, 100000000L};
      if (!lv) printf("interval %d\n", k);
      fflush(stdout);
      nanosleep(&ts, NULL);
    }
  }
  if (finish) {
    bool ok = thresholds_eval(th, report_cumulative(rep), report_duration_s(rep));
    json_object_set_new(run, "status", json_string("done"));
    json_object_set_new(run, "end_ms", json_integer(t0 + 1000LL * intervals));
    rundir_write_run(rd, run);
    report_set_run(rep, run);
    report_set_thresholds(rep, th);
    if (report_write(rep, rundir_path(rd), err, sizeof err) < 0) {
      fprintf(stderr, "mkrun: %s\n", err);
      return 2;
    }
    if (lv) live_final(lv, report_cumulative(rep), (int64_t)(report_duration_s(rep) * 1e9));
    printf("thresholds %s\n", ok ? "passed" : "failed");
    if (!ok) code = 99;
  }
  live_destroy(lv);
  json_decref(run);
  thresholds_destroy(th);
  report_destroy(rep);
  return rundir_close(rd) < 0 ? 2 : code;
}
