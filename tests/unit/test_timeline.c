/* test_timeline.c - the target's heap, allocation rate and GC share window by window (timeline.h), on
 * windows written here: delta heap windows give a running sum of in-use changes (freed memory included)
 * and bytes allocated per second; snapshots give the totals; CPU windows give the share of samples under a
 * garbage-collector frame; windows arriving later are folded in once; a run without any gives nothing. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "master/profile/pprof.h"
#include "master/profile/timeline.h"
#include "tests/support/checkrun.h"
#include "tests/support/testrun.h"

static void add(pprof_profile *p, const char *outer, const char *inner, const int64_t *v) {
  uint32_t st[2] = {(uint32_t)pprof_function_intern(p, inner, NULL),
                    (uint32_t)pprof_function_intern(p, outer, NULL)};
  ck_assert_int_eq(pprof_add_sample(p, st, 2, v, NULL, 0), 0);
}

/* Save p as window [k s, k+1 s) of type in dir (its index line too) and free it. */
static void save(const char *dir, const char *type, int k, pprof_profile *p) {
  testrun_window(dir, k * 1000, (k + 1) * 1000, type, p);
  pprof_free(p);
}

/* A Go-like heap window: inuse_space grows 1 MiB at main.cache and main.scratch frees 256 KiB; 3 MiB
 * allocated. duration_ns 1 s for a delta window, ~0 for a snapshot. */
static pprof_profile *heap(int64_t duration_ns, int64_t inuse_cache) {
  pprof_profile *p = pprof_create("alloc_objects", "count");
  pprof_add_sample_type(p, "alloc_space", "bytes");
  pprof_add_sample_type(p, "inuse_objects", "count");
  pprof_add_sample_type(p, "inuse_space", "bytes");
  int64_t a[4] = {10, 2 << 20, 4, inuse_cache}, b[4] = {5, 1 << 20, -1, -(256 << 10)};
  add(p, "main.handler", "main.cache", a);
  add(p, "main.handler", "main.scratch", b);
  p->duration_nanos = duration_ns;
  return p;
}

/* A Go CPU window: gc of all samples under runtime.gcBgMarkWorker / runtime.gcAssistAlloc. */
static pprof_profile *cpu(int64_t all, int64_t gc) {
  pprof_profile *p = pprof_create("samples", "count");
  int64_t busy[1] = {all - gc}, bg[1] = {gc / 2}, assist[1] = {gc - gc / 2};
  add(p, "main.handler", "main.work", busy);
  add(p, "runtime.goexit", "runtime.gcBgMarkWorker", bg);
  add(p, "main.handler", "runtime.gcAssistAlloc", assist);
  return p;
}

/* "(all)" lines of intervals.jsonl for seconds k0..k1-1: 50 requests each, p99 = 10 (k + 1) ms; the last
 * one without its newline when partial (a line still being written). */
static void intervals(const char *dir, int k0, int k1, int partial) {
  char path[256];
  snprintf(path, sizeof path, "%s/intervals.jsonl", dir);
  FILE *f = fopen(path, "a");
  for (int k = k0; k < k1; k++) {
    fprintf(f, "{\"t\":%d,\"interval_ms\":1000,\"name\":\"GET x\",\"count\":50,\"p99_ms\":999}\n", k * 1000);
    fprintf(f, "{\"t\":%d,\"interval_ms\":1000,\"name\":\"(all)\",\"count\":50,\"p99_ms\":%d}%s", k * 1000,
            10 * (k + 1), partial && k == k1 - 1 ? "" : "\n");
  }
  fclose(f);
}

static double at(const json_t *o, const char *series, const char *key, size_t i) {
  return json_number_value(json_array_get(json_object_get(json_object_get(o, series), key), i));
}

START_TEST(heap_growth_and_gc) {
  char dir[] = "/tmp/timeline_XXXXXX";
  testrun_make(dir);
  for (int k = 0; k < 4; k++) save(dir, "heap", k, heap(1000000000, 1 << 20));
  save(dir, "cpu", 0, cpu(100, 0));
  save(dir, "cpu", 1, cpu(100, 40));
  save(dir, "cpu", 5, cpu(100, 10));
  intervals(dir, 0, 6, 1); /* second 5's line is not finished yet */
  timeline *t = NULL;
  ck_assert_int_eq(timeline_create(&t), 0);
  ck_assert_int_eq(timeline_update(t, dir), 0);
  json_t *o = timeline_json(t);
  ck_assert_str_eq(json_string_value(json_object_get(json_object_get(o, "heap"), "kind")), "growth");
  ck_assert_uint_eq(json_array_size(json_object_get(json_object_get(o, "heap"), "bytes")), 4);
  for (size_t i = 0; i < 4; i++) /* +1 MiB - 256 KiB per window, summed: the series rises */
    ck_assert_double_eq_tol(at(o, "heap", "bytes", i), (double)(i + 1) * (1024 - 256) * 1024, 1e-6);
  ck_assert_int_eq(json_integer_value(json_array_get(json_object_get(json_object_get(o, "heap"), "t"), 3)),
                   4000);
  ck_assert_double_eq_tol(at(o, "alloc", "bytes_per_s", 0), 3 << 20, 1e-6); /* 3 MiB over 1 s */
  ck_assert_double_eq_tol(at(o, "gc", "share", 0), 0, 1e-9);
  ck_assert_double_eq_tol(at(o, "gc", "share", 1), 0.4, 1e-9);
  ck_assert_double_eq_tol(at(o, "gc", "samples", 1), 100, 1e-9);
  /* joined to the latency intervals: 50 requests per window, the window's p99 */
  ck_assert_double_eq_tol(at(o, "alloc", "bytes_per_req", 0), (3 << 20) / 50.0, 1e-6);
  ck_assert_double_eq_tol(
      json_number_value(json_object_get(json_object_get(o, "alloc"), "run_bytes_per_req")), (3 << 20) / 50.0,
      1e-6);
  ck_assert_double_eq_tol(at(o, "gc", "p99_ms", 1), 20, 1e-9);
  ck_assert(json_is_null(json_array_get(json_object_get(json_object_get(o, "gc"), "p99_ms"), 2)));
  json_decref(o);
  intervals(dir, 6, 6, 0); /* nothing new */
  char path[256];
  snprintf(path, sizeof path, "%s/intervals.jsonl", dir);
  FILE *f = fopen(path, "a");
  fputs("\n", f); /* second 5's line is finished now */
  fclose(f);
  ck_assert_int_eq(timeline_update(t, dir), 0);
  o = timeline_json(t);
  ck_assert_double_eq_tol(at(o, "gc", "p99_ms", 2), 60, 1e-9);
  json_decref(o);
  /* a later window is folded in once; the ones seen are not added again */
  save(dir, "heap", 4, heap(1000000000, 1 << 20));
  ck_assert_int_eq(timeline_update(t, dir), 0);
  ck_assert_int_eq(timeline_update(t, dir), 0);
  o = timeline_json(t);
  ck_assert_uint_eq(json_array_size(json_object_get(json_object_get(o, "heap"), "bytes")), 5);
  ck_assert_double_eq_tol(at(o, "heap", "bytes", 4), 5.0 * (1024 - 256) * 1024, 1e-6);
  json_decref(o);
  timeline_free(t);
  testrun_remove(dir);
}
END_TEST

START_TEST(snapshots_and_non_go) {
  char dir[] = "/tmp/timeline_XXXXXX";
  testrun_make(dir);
  for (int k = 0; k < 3; k++) save(dir, "heap", k, heap(1000, (k + 1) << 20)); /* cumulative snapshots */
  pprof_profile *py = pprof_create("samples", "count"); /* a Python CPU window: no Go runtime, no gc series */
  int64_t v[1] = {50};
  add(py, "app.py:handler", "app.py:work", v);
  save(dir, "cpu", 0, py);
  json_t *o = NULL;
  ck_assert_int_eq(timeline_run(dir, &o), 0);
  ck_assert_str_eq(json_string_value(json_object_get(json_object_get(o, "heap"), "kind")), "absolute");
  ck_assert_double_eq_tol(at(o, "heap", "bytes", 2), (3 << 20) - (256 << 10), 1e-6); /* the total itself */
  ck_assert_ptr_null(json_object_get(o, "alloc")); /* a snapshot is no rate */
  ck_assert_ptr_null(json_object_get(o, "gc"));
  json_decref(o);
  testrun_remove(dir);
  char empty[] = "/tmp/timeline_XXXXXX";
  ck_assert_ptr_nonnull(mkdtemp(empty));
  ck_assert_int_eq(timeline_run(empty, &o), 0); /* no profiles at all: nothing, no error */
  ck_assert_ptr_null(o);
  rmdir(empty);
}
END_TEST

CHECK_MAIN("timeline", 0, heap_growth_and_gc, snapshots_and_non_go)
