/* test_proflines.c - line-level totals (proflines.h) on a real Go CPU profile (fixtures/shop_cpu.pb.gz),
 * checked against `go tool pprof -lines -top` of the same file (fixtures/shop_profiles.md): main.fraudScore
 * faults.go:22 flat 248 cum 249 samples, faults.go:21 flat 100 cum 100, main.(*shop).handleOrders
 * store.go:210 cum 349; a profile written without line numbers stays at function level. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "master/profile/pprof.h"
#include "master/profile/proflines.h"
#include "tests/support/checkrun.h"
#include "tests/support/testrun.h"

/* A run dir with one "ok" cpu window: the file src copied in (or p encoded when src is NULL), and a
 * command-source window listed beside it. */
static void make_run(char *dir, const char *src, const pprof_profile *p) {
  char cmd[1200];
  testrun_make(dir);
  if (src) {
    snprintf(cmd, sizeof cmd, "cp '%s' '%s/profiles/0-2000-pprof-cpu.pb.gz'", src, dir);
    ck_assert_int_eq(system(cmd), 0);
    testrun_index(dir, 0, 2000, "pprof", "cpu", "0-2000-pprof-cpu.pb.gz");
  } else {
    testrun_window(dir, 0, 2000, "cpu", p);
  }
  testrun_index(dir, 0, 2000, "command", "cpu", "0-2000-command-cpu.folded");
}

static json_int_t num(const json_t *o, const char *k) {
  return json_integer_value(json_object_get(o, k));
}

static int ends_with(const char *s, const char *tail) {
  size_t n = strlen(s), m = strlen(tail);
  return n >= m && strcmp(s + n - m, tail) == 0;
}

START_TEST(go_cpu_lines) {
  char dir[] = "/tmp/proflines_XXXXXX", fixture[1024];
  const char *src = getenv("LOADCTL_SRC");
  snprintf(fixture, sizeof fixture, "%s/tests/unit/fixtures/shop_cpu.pb.gz", src ? src : ".");
  make_run(dir, fixture, NULL);
  json_t *top = json_pack("[{s:s},{s:s},{s:s}]", "f", "main.fraudScore", "f", "main.(*shop).handleOrders",
                          "f", "main.notInTheProfile"),
         *o = NULL;
  ck_assert_int_eq(proflines_run(dir, "cpu", top, &o), 0);
  ck_assert(json_is_true(json_object_get(o, "has_lines")));
  json_t *lines = json_object_get(o, "lines"), *l0 = json_array_get(lines, 0), *l1 = json_array_get(lines, 1);
  ck_assert_str_eq(json_string_value(json_object_get(l0, "f")), "main.fraudScore");
  ck_assert(ends_with(json_string_value(json_object_get(l0, "file")), "tests/targets/shop/faults.go"));
  ck_assert_int_eq(num(l0, "line"), 22);
  ck_assert_int_eq(num(l0, "flat"), 248);
  ck_assert_int_eq(num(l0, "cum"), 249);
  ck_assert_int_eq(num(l1, "line"), 21);
  ck_assert_int_eq(num(l1, "flat"), 100);
  ck_assert_int_eq(num(l1, "cum"), 100);
  json_t *fs = json_object_get(o, "functions"), *fraud = json_object_get(fs, "main.fraudScore");
  ck_assert_int_eq(num(fraud, "line"), 22); /* its hottest line, for the top table */
  ck_assert_int_eq(num(json_array_get(json_object_get(fraud, "lines"), 0), "line"), 21); /* by line number */
  json_t *h = json_object_get(fs, "main.(*shop).handleOrders");
  ck_assert(ends_with(json_string_value(json_object_get(h, "file")), "tests/targets/shop/store.go"));
  ck_assert_int_eq(num(h, "line"), 210);
  ck_assert_int_eq(num(json_array_get(json_object_get(h, "lines"), 0), "cum"), 349);
  ck_assert_int_eq(num(json_array_get(json_object_get(h, "lines"), 0), "flat"), 0);
  ck_assert_ptr_null(json_object_get(fs, "main.notInTheProfile"));
  json_decref(o);
  ck_assert_int_eq(proflines_run(dir, "heap", top, &o), 0); /* no heap windows: function level, empty */
  ck_assert(json_is_false(json_object_get(o, "has_lines")));
  ck_assert_uint_eq(json_array_size(json_object_get(o, "lines")), 0);
  json_decref(o);
  json_decref(top);
  testrun_remove(dir);
}
END_TEST

START_TEST(no_line_numbers) {
  char dir[] = "/tmp/proflines_XXXXXX";
  pprof_profile *p = pprof_create("samples", "count");
  uint32_t st[2] = {(uint32_t)pprof_function_intern(p, "main.work", "main.go"),
                    (uint32_t)pprof_function_intern(p, "main.main", "main.go")};
  int64_t v[1] = {40};
  ck_assert_int_eq(pprof_add_sample(p, st, 2, v, NULL, 0), 0);
  make_run(dir, NULL, p); /* pprof_encode writes one line per function, line 0 */
  pprof_free(p);
  json_t *top = json_pack("[{s:s}]", "f", "main.work"), *o = NULL;
  ck_assert_int_eq(proflines_run(dir, "cpu", top, &o), 0);
  ck_assert(json_is_false(json_object_get(o, "has_lines")));
  json_t *w = json_object_get(json_object_get(o, "functions"), "main.work");
  ck_assert_str_eq(json_string_value(json_object_get(w, "file")), "main.go"); /* the file is still known */
  ck_assert_int_eq(num(json_array_get(json_object_get(o, "lines"), 0), "flat"), 40);
  json_decref(o);
  json_decref(top);
  testrun_remove(dir);
}
END_TEST

CHECK_MAIN("proflines", 0, go_cpu_lines, no_line_numbers)
