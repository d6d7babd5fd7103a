/* test_leak.c - the leak finding on heap windows written here: main.cache grows 512 KiB in each of 6
 * windows (named, with its path), main.scratch goes up and down (not named), a growing site with only
 * standard-library frames (not named), windows without any change (not counted), too few windows. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "master/profile/leak.h"
#include "master/profile/pprof.h"
#include "tests/support/checkrun.h"
#include "tests/support/testrun.h"

static void add(pprof_profile *p, const char *outer, const char *inner, int64_t bytes) {
  uint32_t st[2] = {(uint32_t)pprof_function_intern(p, inner, NULL),
                    (uint32_t)pprof_function_intern(p, outer, NULL)};
  int64_t v[2] = {bytes > 0 ? 1 : -1, bytes};
  ck_assert_int_eq(pprof_add_sample(p, st, 2, v, NULL, 0), 0);
}

/* nwin heap windows of 1 s; window k changes nothing when k is in quiet (bitmask). */
static void make_run(char *dir, int nwin, unsigned quiet) {
  testrun_make(dir);
  for (int k = 0; k < nwin; k++) {
    pprof_profile *p = pprof_create("inuse_objects", "count");
    ck_assert_int_eq(pprof_add_sample_type(p, "inuse_space", "bytes"), 0);
    if (!(quiet & (1u << k))) {
      add(p, "main.handler", "main.cache", 512 << 10);
      add(p, "main.handler", "main.scratch", k % 2 ? 900 << 10 : -(900 << 10));
      add(p, "net/http.(*conn).serve", "compress/flate.NewWriter", 300 << 10);
    }
    testrun_window(dir, k * 1000, (k + 1) * 1000, "heap", p);
    pprof_free(p);
  }
}

START_TEST(leak_named) {
  char dir[] = "/tmp/leak_XXXXXX";
  json_t *out = json_array();
  make_run(dir, 8, (1u << 2) | (1u << 5)); /* two windows without a GC */
  ck_assert_int_eq(leak_run(dir, out), 1);
  json_t *f = json_array_get(out, 0);
  ck_assert_str_eq(json_string_value(json_object_get(f, "kind")), "leak");
  ck_assert_str_eq(json_string_value(json_object_get(f, "function")), "main.cache");
  ck_assert_double_eq_tol(json_number_value(json_object_get(f, "growth_bytes")), 6.0 * (512 << 10), 1e-6);
  ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(f, "samples"), "windows")), 6);
  ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(f, "samples"), "growing")), 6);
  ck_assert_str_eq(json_string_value(json_array_get(json_object_get(f, "path"), 0)), "main.handler");
  ck_assert_int_eq(leak_run(dir, out), 1); /* again: replaced, not doubled */
  ck_assert_int_eq(json_array_size(out), 1);
  json_decref(out);
  testrun_remove(dir);
}
END_TEST

START_TEST(too_few_windows) {
  char dir[] = "/tmp/leak_XXXXXX";
  json_t *out = json_array();
  make_run(dir, 3, 0);
  ck_assert_int_eq(leak_run(dir, out), 0);
  ck_assert_int_eq(leak_run("/nonexistent-run", out), 0);
  ck_assert_int_eq(json_array_size(out), 0);
  json_decref(out);
  testrun_remove(dir);
}
END_TEST

CHECK_MAIN("leak", 0, leak_named, too_few_windows)
