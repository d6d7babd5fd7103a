/* testcorr.c - synthetic inputs of the correlation suites (see testcorr.h). */
#include "tests/support/testcorr.h"

#include <check.h>
#include <string.h>

#include "tests/support/teststack.h"

#define TESTCORR_MAX_FRAMES 32

void testcorr_sample(pprof_profile *p, const char *frames, const char *file, int64_t v, const char *name,
                     const char *tid) {
  uint32_t st[TESTCORR_MAX_FRAMES];
  size_t n = test_stack_in(p, frames, file, st, TESTCORR_MAX_FRAMES), nl = 0;
  pprof_label lb[2];
  if (name)
    lb[nl++] =
        (pprof_label){(uint32_t)pprof_intern(p, "loadctl.name"), (uint32_t)pprof_intern(p, name), 0, 0};
  if (name && tid)
    lb[nl++] = (pprof_label){(uint32_t)pprof_intern(p, "trace_id"), (uint32_t)pprof_intern(p, tid), 0, 0};
  int64_t vals[1] = {v};
  ck_assert_int_eq(pprof_add_sample(p, st, n, vals, nl ? lb : NULL, nl), 0);
}

void testcorr_sample2(pprof_profile *p, const char *frames, int64_t v0, int64_t v1) {
  uint32_t st[TESTCORR_MAX_FRAMES];
  size_t n = test_stack(p, frames, st, TESTCORR_MAX_FRAMES);
  int64_t vals[2] = {v0, v1};
  ck_assert_int_eq(pprof_add_sample(p, st, n, vals, NULL, 0), 0);
}

void testcorr_interval(json_t *iv, int64_t t_ms, const char *name, int64_t count, double p50, double p99,
                       double mean) {
  json_array_append_new(iv,
                        json_pack("{s:I,s:s,s:I,s:f,s:f,s:f}", "t", (json_int_t)t_ms, "name", name, "count",
                                  (json_int_t)count, "p50_ms", p50, "p99_ms", p99, "mean_ms", mean));
}

const char *testcorr_named(const json_t *fs, const char *name) {
  size_t i;
  json_t *f;
  json_array_foreach(fs, i, f) {
    const char *r = json_string_value(json_object_get(f, "request"));
    if (r && strcmp(r, name) == 0) return json_string_value(json_object_get(f, "function"));
  }
  return "";
}
