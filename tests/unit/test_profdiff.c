/* test_profdiff.c - run vs run on profiles: two run directories written here, request A's main.work costing
 * 4x the CPU per request in the second (a regression naming main.work under main.handler), B unchanged (no
 * finding), the reverse order (an improvement), and runs without CPU windows (nothing). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "master/profile/pprof.h"
#include "master/profile/profdiff.h"
#include "tests/support/checkrun.h"
#include "tests/support/testrun.h"

#define SAMPLE_NS 10000000

static int labelled = 1; /* 0: the service labels nothing */

/* A sample of name with frames outer;inner (root first), n samples. */
static void add(pprof_profile *p, const char *outer, const char *inner, int64_t n, const char *name) {
  uint32_t st[2] = {(uint32_t)pprof_function_intern(p, inner, NULL),
                    (uint32_t)pprof_function_intern(p, outer, NULL)};
  int64_t v[2] = {n, n * SAMPLE_NS};
  pprof_label lb = {(uint32_t)pprof_intern(p, "loadctl.name"), (uint32_t)pprof_intern(p, name), 0, 0};
  ck_assert_int_eq(pprof_add_sample(p, st, 2, v, &lb, labelled ? 1 : 0), 0);
}

/* A run: one 10 s CPU window; A: work_samples in main.work + 100 in main.handler itself; B: 200 in main.list.
 * 1000 requests of each name inside the window. */
static void make_run(char *dir, int64_t work_samples, int with_window) {
  testrun_make(dir);
  if (with_window) {
    pprof_profile *p = pprof_create("samples", "count");
    ck_assert_int_eq(pprof_add_sample_type(p, "cpu", "nanoseconds"), 0);
    add(p, "main.handler", "main.work", work_samples, "A");
    add(p, "main.serve", "main.handler", 100, "A");
    add(p, "main.serve", "main.list", 200, "B");
    testrun_window(dir, 0, 10000, "cpu", p);
    pprof_free(p);
  }
  for (int k = 0; k < 5; k++)
    for (int n = 0; n < 2; n++)
      testrun_line(dir, "intervals.jsonl",
                   json_pack("{s:I,s:I,s:s,s:I}", "t", (json_int_t)k * 2000, "interval_ms", (json_int_t)2000,
                             "name", n ? "B" : "A", "count", (json_int_t)200));
}

START_TEST(regression_named) {
  char a[] = "/tmp/profdiff_XXXXXX", b[] = "/tmp/profdiff_XXXXXX", err[256];
  json_t *out = json_array();
  make_run(a, 100, 1);
  make_run(b, 400, 1);
  ck_assert_int_eq(profdiff_runs(a, b, out, err, sizeof err), 1);
  json_t *f = json_array_get(out, 0);
  ck_assert_str_eq(json_string_value(json_object_get(f, "kind")), "regression");
  ck_assert_str_eq(json_string_value(json_object_get(f, "request")), "A");
  ck_assert_str_eq(json_string_value(json_object_get(f, "function")), "main.work");
  const json_t *c = json_object_get(f, "cpu_ms_per_req"), *path = json_object_get(f, "path");
  ck_assert_double_eq_tol(json_number_value(json_object_get(c, "before")), 1000.0 / 1000, 1e-9);
  ck_assert_double_eq_tol(json_number_value(json_object_get(c, "after")), 4000.0 / 1000, 1e-9);
  ck_assert_int_eq(json_array_size(path), 2);
  ck_assert_str_eq(json_string_value(json_array_get(path, 0)), "main.handler");
  ck_assert_str_eq(json_string_value(json_array_get(path, 1)), "main.work");
  json_array_clear(out);
  ck_assert_int_eq(profdiff_runs(b, a, out, err, sizeof err), 1);
  ck_assert_str_eq(json_string_value(json_object_get(json_array_get(out, 0), "kind")), "improvement");
  ck_assert_str_eq(json_string_value(json_object_get(json_array_get(out, 0), "function")), "main.work");
  json_array_clear(out);
  ck_assert_int_eq(profdiff_runs(a, a, out, err, sizeof err), 0); /* same run: nothing */
  json_decref(out);
  testrun_remove(a);
  testrun_remove(b);
}
END_TEST

START_TEST(small_change_or_no_profile) {
  char a[] = "/tmp/profdiff_XXXXXX", b[] = "/tmp/profdiff_XXXXXX", c[] = "/tmp/profdiff_XXXXXX", err[256];
  json_t *out = json_array();
  make_run(a, 100, 1);
  make_run(b, 110, 1); /* +10%: below PROFDIFF_MIN_RATIO */
  make_run(c, 0, 0);
  ck_assert_int_eq(profdiff_runs(a, b, out, err, sizeof err), 0);
  ck_assert_int_eq(profdiff_runs(a, c, out, err, sizeof err), 0);
  ck_assert_int_eq(json_array_size(out), 0);
  json_decref(out);
  testrun_remove(a);
  testrun_remove(b);
  testrun_remove(c);
}
END_TEST

START_TEST(unlabelled_all_samples) {
  char a[] = "/tmp/profdiff_XXXXXX", b[] = "/tmp/profdiff_XXXXXX", err[256];
  json_t *out = json_array();
  labelled = 0;
  make_run(a, 100, 1);
  make_run(b, 400, 1);
  labelled = 1;
  ck_assert_int_eq(profdiff_runs(a, b, out, err, sizeof err), 1);
  json_t *f = json_array_get(out, 0);
  ck_assert_str_eq(json_string_value(json_object_get(f, "request")), PROFDIFF_ALL);
  ck_assert_str_eq(json_string_value(json_object_get(f, "function")), "main.work");
  /* 2000 requests of both names: 100 + 100 + 200 -> 400 + 100 + 200 samples of 10 ms */
  ck_assert_double_eq_tol(json_number_value(json_object_get(json_object_get(f, "cpu_ms_per_req"), "after")),
                          4000.0 / 2000, 1e-9);
  json_decref(out);
  testrun_remove(a);
  testrun_remove(b);
}
END_TEST

CHECK_MAIN("profdiff", 0, regression_named, small_change_or_no_profile, unlabelled_all_samples)
