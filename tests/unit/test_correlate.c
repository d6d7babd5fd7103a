/* test_correlate.c - correlation methods on synthetic profiles with a planted answer (slow function in 10% of
 * traces, endpoint hot spot, background job in windows 5-7, mutex hot spot, regression), plus the negative
 * cases (no fault, too few samples) and correlate_run reading a run directory from disk. */
#include <check.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "master/profile/correlate.h"
#include "master/profile/corrjoin.h"
#include "tests/support/checkrun.h"
#include "tests/support/testcorr.h"
#include "tests/support/testrun.h"
#include "tests/support/teststack.h"

/* Add a sample: frames root first separated by ';', then label pairs (key, value) ending with NULL. */
static void add(pprof_profile *p, const char *frames, int64_t v0, int64_t v1, ...) {
  uint32_t st[32];
  size_t n = test_stack(p, frames, st, 32);
  pprof_label lb[8];
  size_t nl = 0;
  va_list ap;
  va_start(ap, v1);
  for (const char *k; (k = va_arg(ap, const char *));) {
    const char *val = va_arg(ap, const char *);
    lb[nl++] = (pprof_label){(uint32_t)pprof_intern(p, k), (uint32_t)pprof_intern(p, val), 0, 0};
  }
  va_end(ap);
  int64_t vals[2] = {v0, v1};
  ck_assert_int_eq(pprof_add_sample(p, st, n, vals, lb, nl), 0);
}

static json_t *count_kind(json_t *fs, const char *kind, size_t *n) {
  json_t *f, *first = NULL;
  size_t i;
  *n = 0;
  json_array_foreach(fs, i, f) if (strcmp(json_string_value(json_object_get(f, "kind")), kind) == 0) {
    if (!first) first = f;
    (*n)++;
  }
  return first;
}

/* 100 traces; nslow of them slow, each slow one with 20 samples in slowfn and 5 in handler; typical ones
 * 5 in handler + 1 in runtime.mallocgc under handler. */
static pprof_profile *tail_profile(int nslow, const char *slowfn, json_t **ex) {
  pprof_profile *p = pprof_create("samples", "count");
  json_t *slow = json_array();
  char tid[40];
  for (int i = 0; i < 100; i++) {
    snprintf(tid, sizeof tid, "%032d", i);
    if (i < nslow) {
      char fr[128];
      snprintf(fr, sizeof fr, "main.main;main.handleOrder;%s", slowfn);
      add(p, fr, 20, 0, "trace_id", tid, NULL);
      add(p, "main.main;main.handleOrder", 5, 0, "trace_id", tid, NULL);
      test_exemplar(slow, tid, 900.0);
    } else {
      add(p, "main.main;main.handleOrder", 5, 0, "trace_id", tid, NULL);
      add(p, "main.main;main.handleOrder;runtime.mallocgc", 1, 0, "trace_id", tid, NULL);
    }
  }
  *ex = test_exemplars("POST /api/orders", slow, json_array());
  return p;
}

START_TEST(tail_found) {
  json_t *ex;
  pprof_profile *p = tail_profile(10, "main.fraudScore", &ex);
  json_t *fs = test_findings("cpu", p, NULL, ex);
  size_t n;
  json_t *f = count_kind(fs, "tail", &n);
  ck_assert_uint_eq(n, 1);
  ck_assert_str_eq(json_string_value(json_object_get(f, "function")), "main.fraudScore");
  ck_assert_str_eq(json_string_value(json_object_get(f, "request")), "POST /api/orders");
  ck_assert_double_eq_tol(json_number_value(json_object_get(f, "share")), 0.8, 1e-3);
  ck_assert_double_eq_tol(json_number_value(json_object_get(f, "baseline_share")), 0.0, 1e-3);
  ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(f, "samples"), "slow")), 250);
  ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(f, "samples"), "typical")), 540);
  ck_assert(json_number_value(json_object_get(f, "p_value")) < CORRELATE_ALPHA);
  ck_assert(json_is_null(json_object_get(f, "window")));
  ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(f, "evidence")), "250 CPU samples"));
  /* the top finding overall is the tail one */
  ck_assert_ptr_eq(json_array_get(fs, 0), f);
  json_decref(fs);
  json_decref(ex);
  pprof_free(p);
}
END_TEST

START_TEST(tail_negative) {
  json_t *ex, *fs, *f;
  size_t n;
  /* too few: 2 slow traces = 50 samples... use 1 trace = 25 samples < 50 */
  pprof_profile *p = tail_profile(1, "main.fraudScore", &ex);
  fs = test_findings("cpu", p, NULL, ex);
  count_kind(fs, "tail", &n);
  ck_assert_uint_eq(n, 0);
  json_decref(fs);
  json_decref(ex);
  pprof_free(p);
  /* no fault: slow traces spend their time where typical ones do */
  p = tail_profile(10, "main.handleOrder", &ex);
  fs = test_findings("cpu", p, NULL, ex);
  f = count_kind(fs, "tail", &n);
  ck_assert_uint_eq(n, 0);
  ck_assert_ptr_null(f);
  ck_assert_uint_eq(json_array_size(fs), 0);
  json_decref(fs);
  json_decref(ex);
  pprof_free(p);
}
END_TEST

static pprof_profile *endpoint_profile(int64_t hot) {
  pprof_profile *p = pprof_create("samples", "count");
  add(p, "main.main;main.handleOrder;main.cartTotal", hot, 0, "loadctl.name", "POST /api/orders", NULL);
  add(p, "main.main;main.handleOrder", 80, 0, "loadctl.name", "POST /api/orders", NULL);
  add(p, "main.main;main.listBooks", 190, 0, "loadctl.name", "GET /api/books", NULL);
  add(p, "main.main;main.listBooks;main.cartTotal", 10, 0, "loadctl.name", "GET /api/books", NULL);
  return p;
}

static json_t *intervals2(double orders_p99, double books_p99) {
  return json_pack("[{s:I,s:s,s:I,s:f},{s:I,s:s,s:I,s:f},{s:I,s:s,s:I,s:f}]", "t", (json_int_t)1000, "name",
                   "POST /api/orders", "count", (json_int_t)100, "p99_ms", orders_p99, "t", (json_int_t)1000,
                   "name", "GET /api/books", "count", (json_int_t)100, "p99_ms", books_p99, "t",
                   (json_int_t)1000, "name", "(all)", "count", (json_int_t)200, "p99_ms", 1000.0);
}

START_TEST(endpoint_found) {
  pprof_profile *p = endpoint_profile(120);
  json_t *iv = intervals2(200, 20), *fs = test_findings("cpu", p, iv, NULL);
  size_t n;
  json_t *f = count_kind(fs, "endpoint", &n);
  ck_assert_uint_eq(n, 1);
  ck_assert_str_eq(json_string_value(json_object_get(f, "function")), "main.cartTotal");
  ck_assert_str_eq(json_string_value(json_object_get(f, "request")), "POST /api/orders");
  ck_assert_double_eq_tol(json_number_value(json_object_get(f, "share")), 0.6, 1e-3);
  ck_assert_double_eq_tol(json_number_value(json_object_get(f, "baseline_share")), 0.05, 1e-3);
  ck_assert_ptr_nonnull(
      strstr(json_string_value(json_object_get(f, "evidence")), "its p99 is 10.0x the other requests"));
  json_decref(fs);
  json_decref(iv);
  /* same profile but orders is the fast request: orders is not claimed; books has nothing under its handler
   * that the others lack, so what all its samples run (its handler) is named */
  iv = intervals2(20, 200);
  fs = test_findings("cpu", p, iv, NULL);
  f = count_kind(fs, "endpoint", &n);
  ck_assert_uint_eq(n, 1);
  ck_assert_str_eq(json_string_value(json_object_get(f, "request")), "GET /api/books");
  ck_assert_str_eq(json_string_value(json_object_get(f, "function")), "main.listBooks");
  json_decref(fs);
  json_decref(iv);
  pprof_free(p);
  /* no hot spot: cartTotal is as rare in orders as elsewhere, so it is never named */
  p = endpoint_profile(5);
  iv = intervals2(200, 20);
  fs = test_findings("cpu", p, iv, NULL);
  size_t i;
  json_array_foreach(fs, i, f)
      ck_assert_str_ne(json_string_value(json_object_get(f, "function")), "main.cartTotal");
  json_decref(fs);
  json_decref(iv);
  pprof_free(p);
}
END_TEST

/* 10 windows of 5 s from t=0; background job in windows 5..7 (when bgjob is set); latency high in 5..7
 * (when slow is set). */
static void window_setup(pprof_profile **ps, correlate_window *ws, json_t **iv, int bgjob, int slow) {
  *iv = json_array();
  for (int k = 0; k < 10; k++) {
    int bad = k >= 5 && k <= 7;
    ps[k] = pprof_create("samples", "count");
    add(ps[k], "main.main;main.handleOrder", bad && bgjob ? 40 : 100, 0, NULL);
    add(ps[k], "runtime.gcBgMarkWorker", 3 + k % 2, 0, NULL);
    if (bad && bgjob) add(ps[k], "main.main;main.reindexJob;runtime.memmove", 60, 0, NULL);
    ws[k] = (correlate_window){k * 5000, (k + 1) * 5000, "cpu", ps[k]};
    for (int j = 0; j < 5; j++)
      json_array_append_new(
          *iv, json_pack("{s:I,s:s,s:I,s:f}", "t", (json_int_t)(k * 5000 + j * 1000), "name", "GET /x",
                         "count", (json_int_t)50, "p99_ms", (bad && slow ? 150.0 : 10.0) + k % 3));
  }
}

START_TEST(window_found) {
  pprof_profile *ps[10];
  correlate_window ws[10];
  json_t *iv, *fs = NULL;
  size_t n;
  window_setup(ps, ws, &iv, 1, 1);
  correlate_input in = {ws, 10, iv, NULL};
  ck_assert_int_eq(correlate_findings(&in, &fs), 0);
  json_t *f = count_kind(fs, "window", &n);
  ck_assert_uint_eq(n, 1);
  ck_assert_str_eq(json_string_value(json_object_get(f, "function")), "main.reindexJob");
  ck_assert_uint_eq(json_array_size(json_object_get(f, "window")), 1);
  ck_assert_double_eq_tol(
      json_number_value(json_array_get(json_array_get(json_object_get(f, "window"), 0), 0)), 25.0, 1e-9);
  ck_assert_double_eq_tol(
      json_number_value(json_array_get(json_array_get(json_object_get(f, "window"), 0), 1)), 40.0, 1e-9);
  /* inclusive share in the 3 anomalous windows: 3 x 60 of 3 x (40 + 60) + 3 + 4 + 4 samples */
  ck_assert_double_eq_tol(json_number_value(json_object_get(f, "share")), 180.0 / 311, 1e-3);
  ck_assert_double_eq_tol(json_number_value(json_object_get(f, "baseline_share")), 0.0, 1e-3);
  ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(f, "samples"), "anomalous")), 311);
  json_decref(fs);
  json_decref(iv);
  for (int k = 0; k < 10; k++) pprof_free(ps[k]);
  /* latency rises but nothing in the profile changes: no window finding */
  window_setup(ps, ws, &iv, 0, 1);
  in.intervals = iv;
  ck_assert_int_eq(correlate_findings(&in, &fs), 0);
  ck_assert_uint_eq(json_array_size(fs), 0);
  json_decref(fs);
  json_decref(iv);
  for (int k = 0; k < 10; k++) pprof_free(ps[k]);
  /* the job runs but latency stays flat: no claim either */
  window_setup(ps, ws, &iv, 1, 0);
  in.intervals = iv;
  ck_assert_int_eq(correlate_findings(&in, &fs), 0);
  count_kind(fs, "window", &n);
  ck_assert_uint_eq(n, 0);
  json_decref(fs);
  json_decref(iv);
  for (int k = 0; k < 10; k++) pprof_free(ps[k]);
}
END_TEST

static pprof_profile *mutex_profile(int64_t hot) {
  pprof_profile *p = pprof_create("contentions", "count");
  ck_assert_int_eq(pprof_add_sample_type(p, "delay", "nanoseconds"), 0);
  add(p, "main.main;main.handleOrder;main.(*Inventory).Reserve;sync.(*Mutex).Unlock", hot, 5000000000LL,
      NULL);
  add(p, "main.main;main.sessionGC;sync.(*Mutex).Unlock", 10, 100000000LL, NULL);
  return p;
}

START_TEST(mutex_found) {
  pprof_profile *p = mutex_profile(200);
  json_t *fs = test_findings("mutex", p, NULL, NULL);
  ck_assert_uint_eq(json_array_size(fs), 1);
  json_t *f = json_array_get(fs, 0);
  ck_assert_str_eq(json_string_value(json_object_get(f, "kind")), "lock");
  ck_assert_str_eq(json_string_value(json_object_get(f, "profile")), "mutex");
  ck_assert_str_eq(json_string_value(json_object_get(f, "function")), "main.(*Inventory).Reserve");
  ck_assert_double_eq_tol(json_number_value(json_object_get(f, "share")), 5.0 / 5.1, 1e-3);
  ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(f, "evidence")), "mutex profile"));
  json_decref(fs);
  pprof_free(p);
  p = mutex_profile(10); /* 20 contentions < CORRELATE_MIN_SAMPLES */
  fs = test_findings("mutex", p, NULL, NULL);
  ck_assert_uint_eq(json_array_size(fs), 0);
  json_decref(fs);
  pprof_free(p);
}
END_TEST

START_TEST(run_dir) {
  char dir[] = "/tmp/correlate_XXXXXX", path[256];
  testrun_make(dir);
  pprof_profile *ps[10];
  correlate_window ws[10];
  json_t *iv;
  window_setup(ps, ws, &iv, 1, 1);
  for (int k = 0; k < 10; k++) {
    testrun_window(dir, k * 5000, (k + 1) * 5000, "cpu", ps[k]);
    pprof_free(ps[k]);
  }
  snprintf(path, sizeof path, "%s/profiles/index.jsonl", dir);
  FILE *idx = fopen(path, "a");
  fprintf(idx, "{\"start_ms\":1,\"end_ms\":2,\"sou\n"); /* truncated line from a killed run */
  fclose(idx);
  size_t i;
  json_t *o;
  json_array_foreach(iv, i, o) testrun_line(dir, "intervals.jsonl", json_incref(o));
  json_decref(iv);
  json_t *fs = NULL;
  char err[256] = "";
  ck_assert_int_eq(correlate_run(dir, &fs, err, sizeof err), 0);
  ck_assert_uint_eq(json_array_size(fs), 1);
  ck_assert_str_eq(json_string_value(json_object_get(json_array_get(fs, 0), "function")), "main.reindexJob");
  json_decref(fs);
  /* the one call the master makes: findings count, flame section and exports on disk */
  ck_assert_int_eq(correlate_attach(dir, NULL, err, sizeof err), 1);
  struct stat sb;
  snprintf(path, sizeof path, "%s/sections/50-profile.html", dir);
  ck_assert_int_eq(stat(path, &sb), 0);
  ck_assert(sb.st_size > 5000);
  snprintf(path, sizeof path, "%s/profile-cpu.speedscope.json", dir);
  ck_assert_int_eq(stat(path, &sb), 0);
  snprintf(path, sizeof path, "%s/profile-cpu.pb.gz", dir);
  pprof_profile *merged = NULL;
  ck_assert_int_eq(pprof_decode_file(path, &merged, err, sizeof err), 0);
  ck_assert_int_eq(pprof_total(merged, 0), 10 * 100 + 35 + 3 * 60 - 3 * 60); /* 100 + 3..4 per window */
  pprof_free(merged);
  /* an empty run dir: no findings, no error */
  char empty[] = "/tmp/correlate_XXXXXX";
  ck_assert_ptr_nonnull(mkdtemp(empty));
  ck_assert_int_eq(correlate_run(empty, &fs, err, sizeof err), 0);
  ck_assert_uint_eq(json_array_size(fs), 0);
  json_decref(fs);
  rmdir(empty);
  testrun_remove(dir);
}
END_TEST

/* Real profiles recorded from the shop (fixtures/shop_profiles.md). */
static pprof_profile *fixture(const char *name) {
  char path[1024], err[256];
  const char *src = getenv("LOADCTL_SRC");
  snprintf(path, sizeof path, "%s/tests/unit/fixtures/%s", src ? src : ".", name);
  pprof_profile *p = NULL;
  ck_assert_msg(pprof_decode_file(path, &p, err, sizeof err) == 0, "%s: %s", path, err);
  return p;
}

START_TEST(shop_fixtures) {
  pprof_profile *m = fixture("shop_mutex.pb.gz");
  json_t *fs = test_findings("mutex", m, NULL, NULL);
  ck_assert_uint_eq(json_array_size(fs), 1);
  json_t *f = json_array_get(fs, 0);
  ck_assert_str_eq(json_string_value(json_object_get(f, "function")), "main.inventoryReserve");
  ck_assert_str_eq(json_string_value(json_object_get(f, "kind")), "lock");
  ck_assert_str_eq(json_string_value(json_object_get(f, "profile")), "mutex");
  ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(f, "samples"), "all_contentions")),
                   705);
  ck_assert_double_eq_tol(json_number_value(json_object_get(f, "share")), 1.0, 1e-9);
  json_decref(fs);
  pprof_free(m);
  /* CPU: all 352 samples are one slow trace; with no other traced requests to compare, no tail claim */
  pprof_profile *c = fixture("shop_cpu.pb.gz");
  json_t *ex = json_pack("[{s:I,s:s,s:[{s:s,s:s}],s:[]}]", "t", (json_int_t)0, "name", "POST /api/orders",
                         "slow", "trace_id", "0af7651916cd43dd8448eb211c80319c", "span_id", "", "typical");
  fs = test_findings("cpu", c, NULL, ex);
  size_t n;
  count_kind(fs, "tail", &n);
  ck_assert_uint_eq(n, 0);
  json_decref(fs);
  json_decref(ex);
  ck_assert_str_eq(correlate_frame(c, &c->samples[0]), c->strings[c->functions[c->samples[0].stack[0]].name]);
  pprof_free(c);
}
END_TEST

/* ---------- the five failure cases of issue 14, each a service nobody tuned for us ---------- */

static const char *str(const json_t *f, const char *k) {
  return json_string_value(json_object_get(f, k));
}

static int path_has(const json_t *f, const char *fn) {
  size_t i;
  json_t *v;
  json_array_foreach(json_object_get(f, "path"), i, v) if (strcmp(json_string_value(v), fn) == 0) return 1;
  return 0;
}

/* (1) The faulty function spends its time in a helper that a background job also calls. */
START_TEST(shared_helper) {
  pprof_profile *p = pprof_create("samples", "count");
  json_t *slow = json_array(), *typ = json_array();
  char tid[40];
  for (int i = 0; i < 100; i++) {
    snprintf(tid, sizeof tid, "%032d", i);
    if (i < 8) {
      add(p,
          "runtime.goexit;net/http.(*conn).serve;main.handleOrder;main.fraudCheck;main.hashHelper;crypto/"
          "sha256.block",
          30, 0, "trace_id", tid, "loadctl.name", "POST /api/orders", NULL);
      add(p, "runtime.goexit;net/http.(*conn).serve;main.handleOrder;main.fraudCheck", 2, 0, "trace_id", tid,
          "loadctl.name", "POST /api/orders", NULL);
      test_exemplar(slow, tid, 300.0);
    } else {
      add(p, "runtime.goexit;net/http.(*conn).serve;main.handleOrder;main.encodeOrder", 3, 0, "trace_id", tid,
          "loadctl.name", "POST /api/orders", NULL);
      if (i < 20) test_exemplar(typ, tid, 5.0);
    }
  }
  add(p, "runtime.goexit;main.backgroundSync;main.hashHelper;crypto/sha256.block", 400, 0, NULL);
  json_t *ex = test_exemplars("POST /api/orders", slow, typ);
  json_t *fs = test_findings("cpu", p, NULL, ex);
  size_t n;
  json_t *f = count_kind(fs, "tail", &n);
  ck_assert_uint_eq(n, 1);
  ck_assert_str_eq(str(f, "function"), "main.fraudCheck"); /* not the helper the background job shares */
  ck_assert_str_eq(str(f, "request"), "POST /api/orders");
  ck_assert(path_has(f, "main.hashHelper") && path_has(f, "main.handleOrder"));
  ck_assert_str_eq(json_string_value(json_array_get(json_object_get(f, "path"), 0)), "main.handleOrder");
  /* the baseline is typical requests only: 0 of 276, never the background job's 400 samples */
  ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(f, "samples"), "typical")), 276);
  ck_assert_double_eq_tol(json_number_value(json_object_get(f, "baseline_share")), 0.0, 1e-9);
  size_t i;
  json_array_foreach(fs, i, f) ck_assert_str_ne(str(f, "function"), "main.hashHelper");
  json_decref(fs);
  json_decref(ex);
  pprof_free(p);
}
END_TEST

/* (2) The service keeps the W3C baggage value percent-encoded (and another labels only http.route). */
START_TEST(encoded_baggage) {
  static const char *const variants[][2] = {{"loadctl.name", "POST%20%2Fapi%2Forders"},
                                            {"k6.name", "POST /api/orders"},
                                            {"http.route", "/api/orders"}};
  for (size_t v = 0; v < 3; v++) {
    pprof_profile *p = pprof_create("samples", "count");
    add(p, "main.main;main.handleOrder;main.cartTotal", 120, 0, variants[v][0], variants[v][1], NULL);
    add(p, "main.main;main.handleOrder", 80, 0, variants[v][0], variants[v][1], NULL);
    add(p, "main.main;main.listBooks", 190, 0, variants[v][0], v == 2 ? "/api/books" : "GET%20%2Fapi%2Fbooks",
        NULL);
    add(p, "main.main;main.listBooks;main.cartTotal", 10, 0, variants[v][0],
        v == 2 ? "/api/books" : "GET /api/books", NULL);
    json_t *iv = intervals2(200, 20), *fs = test_findings("cpu", p, iv, NULL);
    size_t n;
    json_t *f = count_kind(fs, "endpoint", &n);
    ck_assert_msg(n == 1, "variant %zu: %zu endpoint findings", v, n);
    ck_assert_str_eq(str(f, "request"), "POST /api/orders");
    ck_assert_str_eq(str(f, "function"), "main.cartTotal");
    json_decref(fs);
    json_decref(iv);
    pprof_free(p);
  }
  char out[64];
  corrjoin_decode("POST%20%2Fapi%2Forders%zz%4", out, sizeof out);
  ck_assert_str_eq(out, "POST /api/orders%zz%4");
  /* found by fuzz_trace: a name that decodes to bytes that are not UTF-8 still names its sample ('?') */
  pprof_profile *p = pprof_create("samples", "count");
  add(p, "main.main", 1, 0, "loadctl.name", "GET%20%2Fa%FF%C3", NULL);
  corrjoin *j = NULL;
  ck_assert_int_eq(corrjoin_create(NULL, NULL, &j), 0);
  ck_assert_str_eq(corrjoin_request(j, p, &p->samples[0]), "GET /a??");
  corrjoin_free(j);
  pprof_free(p);
}
END_TEST

/* (3) A background job burns CPU in 4 of 20 one-second windows (20 %): p99 doubles and throughput falls by
 * 45 % in exactly those seconds; its time is in a helper that requests call too. */
static json_t *minority_setup(pprof_profile **ps, correlate_window *ws) {
  json_t *iv = json_array();
  for (int k = 0; k < 20; k++) {
    int bad = k == 4 || k == 5 || k == 14 || k == 15;
    ps[k] = pprof_create("samples", "count");
    add(ps[k], "runtime.goexit;main.serve;main.handleSearch;main.hashHelper", 30 + k % 3, 0, "loadctl.name",
        "GET /x", NULL);
    add(ps[k], "runtime.goexit;main.serve;main.handleSearch", 50, 0, "loadctl.name", "GET /x", NULL);
    if (bad) add(ps[k], "runtime.goexit;main.rebuildIndex;main.hashHelper;runtime.memmove", 90, 0, NULL);
    ws[k] = (correlate_window){1000000 + k * 1000, 1000000 + (k + 1) * 1000, "cpu", ps[k]};
    double p99 = bad ? 40.0 : 20.0 + (k % 4), rps = bad ? 110 : 200 + k % 5;
    json_array_append_new(
        iv, json_pack("{s:I,s:I,s:s,s:f,s:I,s:f,s:f,s:f,s:I}", "t", (json_int_t)(1000000 + k * 1000),
                      "interval_ms", (json_int_t)1000, "name", "GET /x", "rps", rps, "count", (json_int_t)rps,
                      "p99_ms", p99, "p50_ms", 5.0, "mean_ms", 6.0, "errors", (json_int_t)0));
    json_array_append_new(
        iv, json_pack("{s:I,s:I,s:s,s:f,s:I,s:f,s:f,s:f,s:I,s:I}", "t", (json_int_t)(1000000 + k * 1000),
                      "interval_ms", (json_int_t)1000, "name", "(all)", "rps", rps, "count", (json_int_t)rps,
                      "p99_ms", p99, "p50_ms", 5.0, "mean_ms", 6.0, "errors", (json_int_t)0, "users",
                      (json_int_t)30));
  }
  return iv;
}

START_TEST(minority_windows) {
  pprof_profile *ps[20];
  correlate_window ws[20];
  json_t *iv = minority_setup(ps, ws), *fs = NULL;
  correlate_input in = {ws, 20, iv, NULL};
  ck_assert_int_eq(correlate_findings(&in, &fs), 0);
  size_t n;
  json_t *f = count_kind(fs, "window", &n);
  ck_assert_uint_eq(n, 1);
  ck_assert_str_eq(str(f, "function"), "main.rebuildIndex"); /* the root of the work that rose */
  ck_assert(path_has(f, "main.hashHelper"));
  json_t *win = json_object_get(f, "window");
  ck_assert_uint_eq(json_array_size(win), 2); /* two spans, not one covering everything */
  ck_assert_double_eq_tol(json_number_value(json_array_get(json_array_get(win, 0), 0)), 1004.0, 1e-9);
  ck_assert_double_eq_tol(json_number_value(json_array_get(json_array_get(win, 0), 1)), 1006.0, 1e-9);
  ck_assert_double_eq_tol(json_number_value(json_array_get(json_array_get(win, 1), 0)), 1014.0, 1e-9);
  ck_assert_double_eq_tol(json_number_value(json_array_get(json_array_get(win, 1), 1)), 1016.0, 1e-9);
  json_decref(fs);
  json_decref(iv);
  for (int k = 0; k < 20; k++) pprof_free(ps[k]);
}
END_TEST

/* (4) A minority of one endpoint's requests wait ~40 ms off-CPU (a select on a timer); CPU is the same. */
START_TEST(offcpu_wait) {
  pprof_profile *cpu = pprof_create("samples", "count"), *gr = pprof_create("goroutine", "count");
  json_t *slow = json_array(), *typ = json_array();
  char tid[40];
  for (int i = 0; i < 200; i++) {
    snprintf(tid, sizeof tid, "%032d", i);
    int s = i < 20;
    add(cpu, "runtime.goexit;main.handleQuote;main.priceItems", 1, 0, "trace_id", tid, "loadctl.name",
        "GET /quote", NULL);
    if (s) {
      add(gr, "runtime.goexit;main.handleQuote;main.fetchRates;runtime.selectgo;runtime.gopark", 4, 0,
          "trace_id", tid, "loadctl.name", "GET /quote", NULL);
      test_exemplar(slow, tid, 41.0);
    } else {
      add(gr, "runtime.goexit;main.handleQuote;main.priceItems", 1, 0, "trace_id", tid, "loadctl.name",
          "GET /quote", NULL);
      if (i < 40) test_exemplar(typ, tid, 1.0);
    }
  }
  add(gr, "runtime.goexit;net/http.(*conn).serve;net.(*conn).Read;runtime.gopark", 300, 0,
      NULL); /* idle conns */
  json_t *ex = test_exemplars("GET /quote", slow, typ);
  json_t *fs = test_findings2("cpu", cpu, "goroutine", gr, NULL, ex);
  ck_assert_uint_eq(json_array_size(fs), 1); /* no CPU function blamed */
  json_t *f = json_array_get(fs, 0);
  ck_assert_str_eq(str(f, "kind"), "wait");
  ck_assert_str_eq(str(f, "function"), "main.fetchRates");
  ck_assert_str_eq(str(f, "request"), "GET /quote");
  ck_assert_str_eq(str(f, "profile"), "goroutine");
  ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(f, "samples"), "slow")), 80);
  json_decref(fs);
  json_decref(ex);
  pprof_free(cpu);
  pprof_free(gr);
}
END_TEST

/* (4a) Every GET /quote request parks in fetchRates (an upstream call) and GET /books never parks. When all
 * of /quote is slower than /books (its p50 20x theirs, its p99 no more so), that is what /quote calls, by
 * design: no finding. When a part of /quote's requests is slow (its p99 stands out, not its p50), the
 * endpoint method names where /quote waits. */
static json_t *quote_intervals(double p50, double p99) {
  return json_pack("[{s:I,s:s,s:I,s:f,s:f},{s:I,s:s,s:I,s:f,s:f}]", "t", (json_int_t)1000, "name",
                   "GET /quote", "count", (json_int_t)100, "p50_ms", p50, "p99_ms", p99, "t",
                   (json_int_t)1000, "name", "GET /books", "count", (json_int_t)100, "p50_ms", 2.0, "p99_ms",
                   4.0);
}

START_TEST(endpoint_waiting_by_design) {
  pprof_profile *cpu = pprof_create("samples", "count"), *gr = pprof_create("goroutine", "count");
  for (int i = 0; i < 100; i++) {
    add(cpu, "runtime.goexit;main.handleQuote;main.priceItems", 1, 0, "loadctl.name", "GET /quote", NULL);
    add(cpu, "runtime.goexit;main.handleBooks;main.listBooks", 1, 0, "loadctl.name", "GET /books", NULL);
    add(gr, "runtime.goexit;main.handleQuote;main.fetchRates;runtime.selectgo;runtime.gopark", 1, 0,
        "loadctl.name", "GET /quote", NULL);
    add(gr, "runtime.goexit;main.handleBooks;main.listBooks", 1, 0, "loadctl.name", "GET /books", NULL);
  }
  json_t *iv = quote_intervals(40, 45), *fs = test_findings2("cpu", cpu, "goroutine", gr, iv, NULL);
  size_t n;
  count_kind(fs, "wait", &n);
  ck_assert_uint_eq(n, 0);
  json_decref(fs);
  json_decref(iv);
  iv = quote_intervals(2, 100);
  fs = test_findings2("cpu", cpu, "goroutine", gr, iv, NULL);
  json_t *f = count_kind(fs, "wait", &n);
  ck_assert_uint_eq(n, 1);
  ck_assert_str_eq(str(f, "function"), "main.fetchRates");
  ck_assert_str_eq(str(f, "request"), "GET /quote");
  json_decref(fs);
  json_decref(iv);
  pprof_free(cpu);
  pprof_free(gr);
}
END_TEST

/* (4b) Slow requests parked in GC assists under an allocation: kind alloc, the function that allocates
 * (climbing from the allocation site up to below the handler); waits on a mutex are left to the lock method.
 */
START_TEST(gc_assist_is_alloc) {
  pprof_profile *cpu = pprof_create("samples", "count"), *gr = pprof_create("goroutine", "count");
  json_t *slow = json_array(), *typ = json_array();
  char tid[40];
  for (int i = 0; i < 200; i++) {
    snprintf(tid, sizeof tid, "%032d", i);
    add(cpu,
        i % 2 ? "runtime.goexit;main.handleReport;main.renderReport;main.formatRow"
              : "runtime.goexit;main.handleReport;main.writeJSON",
        1, 0, "trace_id", tid, "loadctl.name", "GET /report", NULL);
    if (i < 20) {
      add(gr,
          "runtime.goexit;main.handleReport;main.renderReport;main.newRecord;runtime.mallocgc;runtime."
          "gcAssistAlloc;runtime.gcParkAssist;runtime.gopark",
          3, 0, "trace_id", tid, "loadctl.name", "GET /report", NULL);
      add(gr,
          "runtime.goexit;main.handleReport;main.cacheGet;sync.(*Mutex).Lock;runtime.semacquire1;runtime."
          "gopark",
          1, 0, "trace_id", tid, "loadctl.name", "GET /report", NULL);
      test_exemplar(slow, tid, 90.0);
    } else {
      add(gr, "runtime.goexit;main.handleReport;main.writeJSON", 1, 0, "trace_id", tid, "loadctl.name",
          "GET /report", NULL);
      if (i < 40) test_exemplar(typ, tid, 2.0);
    }
  }
  json_t *ex = test_exemplars("GET /report", slow, typ);
  json_t *fs = test_findings2("cpu", cpu, "goroutine", gr, NULL, ex);
  ck_assert_uint_eq(json_array_size(fs), 1);
  json_t *f = json_array_get(fs, 0);
  ck_assert_str_eq(str(f, "kind"), "alloc");
  ck_assert_str_eq(str(f, "function"), "main.renderReport");
  ck_assert_str_eq(str(f, "request"), "GET /report");
  ck_assert(path_has(f, "main.newRecord"));
  json_decref(fs);
  json_decref(ex);
  pprof_free(cpu);
  pprof_free(gr);
}
END_TEST

/* (5a) A retry loop sleeps in place of a lock: a few heartbeats find the persister's mutex taken (TryLock)
 * and sleep 20 ms; goroutine polls catch 12 of them, once each, in main.beat's time.Sleep, and none of the
 * typical ones. The persister's Unlock releases the GET requests' short waits (mutex profile). The sleep is
 * the heartbeats' time by the code's own choice: a strong wait from 12 requests, ranked above the lock; with
 * CORRELATE_SLEEP 0 it is thin evidence, ranked weak, and the lock comes first. */
START_TEST(sleep_retry_wait) {
  pprof_profile *cpu = pprof_create("samples", "count"), *gr = pprof_create("goroutine", "count");
  pprof_profile *mu = pprof_create("contentions", "count");
  ck_assert_int_eq(pprof_add_sample_type(mu, "delay", "nanoseconds"), 0);
  json_t *slow = json_array(), *typ = json_array(), *iv = json_array();
  char tid[40];
  for (int i = 0; i < 400; i++) {
    snprintf(tid, sizeof tid, "%032d", i);
    add(cpu,
        i % 10 ? "runtime.goexit;main.newPresence.func1;net/url.ParseQuery"
               : "runtime.goexit;main.newPresence.func1;main.beat",
        1, 0, "trace_id", tid, "loadctl.name", "POST /heartbeat", NULL);
    if (i < 12) {
      add(gr, "runtime.goexit;main.newPresence.func1;main.beat;time.Sleep;runtime.gopark", 1, 0, "trace_id",
          tid, "loadctl.name", "POST /heartbeat", NULL);
      test_exemplar(slow, tid, 24.0);
    } else if (i < 60)
      test_exemplar(typ, tid, 0.4);
  }
  add(cpu, "runtime.goexit;main.persistLoop;main.persist", 60, 0, NULL);
  add(mu, "runtime.goexit;main.persistLoop;main.persist;sync.(*Mutex).Unlock", 70, 320000000LL, NULL);
  testcorr_interval(iv, 0, "POST /heartbeat", 1000, 0.4, 24.0, 1.0);
  testcorr_interval(iv, 0, "(all)", 1000, 0.4, 24.0, 1.0);
  correlate_window w[3] = {{0, 60000, "cpu", cpu}, {0, 60000, "goroutine", gr}, {0, 60000, "mutex", mu}};
  correlate_input in = {w, 3, iv, test_exemplars("POST /heartbeat", slow, typ)};
  json_t *fs = NULL;
  ck_assert_int_eq(correlate_findings(&in, &fs), 0);
  json_t *f = json_array_get(fs, 0);
  ck_assert_uint_ge(json_array_size(fs), 2);
  ck_assert_str_eq(str(f, "kind"), "wait");
  ck_assert_str_eq(str(f, "function"), "main.beat");
  ck_assert_str_eq(str(f, "request"), "POST /heartbeat");
  ck_assert_double_ge(json_number_value(json_object_get(f, "score")), 3.5);
  ck_assert_str_eq(str(json_array_get(fs, 1), "function"), "main.persist");
  json_decref(fs);
  json_decref(iv);
  json_decref((json_t *)in.exemplars);
  pprof_free(cpu);
  pprof_free(gr);
  pprof_free(mu);
}
END_TEST

/* (5) A closure holds a lock while a few requests compute under it; the others queue. */
START_TEST(lock_while_computing) {
  pprof_profile *mu = pprof_create("contentions", "count"), *cpu = pprof_create("samples", "count");
  ck_assert_int_eq(pprof_add_sample_type(mu, "delay", "nanoseconds"), 0);
  add(mu, "runtime.goexit;main.handleReserve;main.handleReserve.func1;sync.(*Mutex).Unlock", 400,
      8000000000LL, NULL);
  add(mu, "runtime.goexit;main.sessionGC;sync.(*Mutex).Unlock", 30, 200000000LL, NULL);
  add(cpu, "runtime.goexit;main.handleReserve;main.handleReserve.func1;main.reserveStock;main.hashHelper",
      200, 0, "loadctl.name", "POST /reserve", NULL);
  add(cpu, "runtime.goexit;main.handleReserve;main.handleReserve.func1;sync.(*Mutex).Lock", 20, 0,
      "loadctl.name", "POST /reserve", NULL);
  add(cpu, "runtime.goexit;main.handleList;main.hashHelper", 150, 0, "loadctl.name", "GET /list", NULL);
  json_t *fs = test_findings2("cpu", cpu, "mutex", mu, NULL, NULL);
  size_t n;
  json_t *f = count_kind(fs, "lock", &n);
  ck_assert_uint_eq(n, 1);
  ck_assert_str_eq(str(f, "function"), "main.reserveStock"); /* what runs under the lock, not the closure */
  ck_assert_str_eq(str(f, "request"), "POST /reserve");
  ck_assert_ptr_nonnull(strstr(str(f, "evidence"), "main.handleReserve.func1"));
  size_t i;
  json_array_foreach(fs, i, f) {
    ck_assert_str_ne(str(f, "function"), "main.hashHelper");
    ck_assert_str_ne(str(f, "function"), "main.handleReserve.func1");
  }
  json_decref(fs);
  pprof_free(mu);
  pprof_free(cpu);
}
END_TEST

CHECK_MAIN("correlate", 0, tail_found, tail_negative, endpoint_found, window_found, mutex_found, run_dir,
           shop_fixtures, shared_helper, encoded_baggage, minority_windows, offcpu_wait,
           endpoint_waiting_by_design, gc_assist_is_alloc, sleep_retry_wait, lock_while_computing)
