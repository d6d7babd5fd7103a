/* test_cost.c - CPU cost per request on a run directory written here: one CPU window with labelled and
 * unlabelled samples, intervals inside, half inside and outside the window; exact cpu_ms_per_req, the
 * Poisson interval, and a run without CPU windows. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "master/profile/cost.h"
#include "master/profile/pprof.h"
#include "tests/support/checkrun.h"
#include "tests/support/testrun.h"

#define SAMPLE_NS 10000000 /* 100 Hz */

static void add(pprof_profile *p, const char *fn, int64_t n, const char *name) {
  uint32_t st[1] = {(uint32_t)pprof_function_intern(p, fn, NULL)};
  int64_t v[2] = {n, n * SAMPLE_NS};
  pprof_label lb = {(uint32_t)pprof_intern(p, "loadctl.name"), name ? (uint32_t)pprof_intern(p, name) : 0, 0,
                    0};
  ck_assert_int_eq(pprof_add_sample(p, st, 1, v, &lb, name ? 1 : 0), 0);
}

static void interval(const char *dir, int64_t t, const char *name, int64_t count) {
  testrun_line(dir, "intervals.jsonl",
               json_pack("{s:I,s:I,s:s,s:I,s:f}", "t", (json_int_t)t, "interval_ms", (json_int_t)2000, "name",
                         name, "count", (json_int_t)count, "p99_ms", 1.0));
}

/* A run dir: window [0, 10000) ms with A 300 samples, B 50, unlabelled 100; intervals of 2 s. */
static void make_run(char *dir, int with_window) {
  testrun_make(dir);
  if (with_window) {
    pprof_profile *p = pprof_create("samples", "count");
    ck_assert_int_eq(pprof_add_sample_type(p, "cpu", "nanoseconds"), 0);
    add(p, "main.costly", 300, "A");
    add(p, "main.cheap", 50, "B");
    add(p, "main.background", 100, NULL);
    testrun_window(dir, 0, 10000, "cpu", p);
    pprof_free(p);
  }
  for (int k = 0; k < 4; k++) {
    interval(dir, k * 2000, "A", 250); /* 1000 inside */
    interval(dir, k * 2000, "B", 125); /* 500 inside */
    interval(dir, k * 2000, "(all)", 375);
  }
  interval(dir, 9000, "A", 200);  /* half inside: 100 */
  interval(dir, 12000, "A", 999); /* outside */
  interval(dir, 12000, "C", 50);  /* a name never profiled */
}

START_TEST(cost_exact) {
  char dir[] = "/tmp/cost_XXXXXX", err[256];
  json_t *c = NULL;
  make_run(dir, 1);
  ck_assert_int_eq(cost_run(dir, &c, err, sizeof err), 0);
  ck_assert_int_eq(json_object_size(c), 2); /* C had no request inside a CPU window */
  const json_t *a = cost_get(c, "A"), *b = cost_get(c, "B");
  ck_assert_ptr_nonnull(a);
  ck_assert_ptr_nonnull(b);
  ck_assert_double_eq_tol(json_number_value(json_object_get(a, "cpu_ms_per_req")), 3000.0 / 1100, 1e-9);
  ck_assert_double_eq_tol(json_number_value(json_object_get(b, "cpu_ms_per_req")), 500.0 / 500, 1e-9);
  ck_assert_int_eq(json_integer_value(json_object_get(a, "cpu_samples")), 300);
  ck_assert_int_eq(json_integer_value(json_object_get(a, "requests_profiled")), 1100);
  const json_t *ci = json_object_get(a, "cpu_ms_per_req_ci95");
  ck_assert_double_eq_tol(json_number_value(json_array_get(ci, 0)), (300 - 1.96 * sqrt(300)) * 10 / 1100,
                          1e-9);
  ck_assert_double_eq_tol(json_number_value(json_array_get(ci, 1)), (300 + 1.96 * sqrt(300)) * 10 / 1100,
                          1e-9);
  ck_assert_ptr_null(cost_get(c, "C"));
  json_decref(c);
  testrun_remove(dir);
}
END_TEST

START_TEST(cost_no_window) {
  char dir[] = "/tmp/cost_XXXXXX", err[256];
  json_t *c = NULL;
  make_run(dir, 0);
  ck_assert_int_eq(cost_run(dir, &c, err, sizeof err), 0);
  ck_assert_int_eq(json_object_size(c), 0);
  json_decref(c);
  ck_assert_int_eq(cost_run("/nonexistent-run", &c, err, sizeof err), 0); /* no profiles: no costs */
  ck_assert_int_eq(json_object_size(c), 0);
  json_decref(c);
  testrun_remove(dir);
}
END_TEST

CHECK_MAIN("cost", 0, cost_exact, cost_no_window)
