/* test_corrwin.c - the anomalous seconds of a run: in an open model the users follow the latency (more VUs
 * are taken while requests are slow), so steadiness is judged on the arrival rate, and the seconds before
 * the pool grew are the baseline, not a ramp; and the window finding on an idle service, whose normal windows
 * hold few samples, by samples per second of window; a request's slow requests that fall in the seconds of a
 * window finding naming background work rank below it; a window frame that is request work is no window
 * finding when its requests run it as much per sample in the other seconds (more requests, not a cause), nor
 * when a request's finding has it on its path. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "master/profile/correlate.h"
#include "master/profile/corrwin.h"
#include "tests/support/checkrun.h"
#include "tests/support/testcorr.h"
#include "tests/support/teststack.h"

/* 20 seconds at 80 requests/s; seconds 4-5, 10-11 and 16-17 are slow (p50 700 ms vs 2 ms) and the VU pool
 * grows from 5 to 134 through the first of them and stays. */
START_TEST(open_model_users_follow_latency) {
  json_t *iv = json_array();
  for (int t = 0; t < 20; t++) {
    int slow = (t % 6) >= 4, users = t < 4 ? 5 : 134;
    double p50 = slow ? 700 : 2;
    json_array_append_new(iv, json_pack("{s:I,s:I,s:s,s:I,s:f,s:f,s:f}", "t", (json_int_t)t * 1000,
                                        "interval_ms", (json_int_t)1000, "name", "GET /recs", "count",
                                        (json_int_t)80, "p50_ms", p50, "p99_ms", p50 * 2, "mean_ms", p50));
    json_array_append_new(
        iv, json_pack("{s:I,s:I,s:s,s:I,s:f,s:f,s:f,s:I,s:f}", "t", (json_int_t)t * 1000, "interval_ms",
                      (json_int_t)1000, "name", "(all)", "count", (json_int_t)80, "p50_ms", p50, "p99_ms",
                      p50 * 2, "mean_ms", p50, "users", (json_int_t)users, "rate", 80.0));
  }
  json_t *spans = NULL;
  size_t judged = 0, bad = 0;
  char why[256];
  ck_assert_int_eq(corrwin_spans(iv, &spans, &judged, &bad, why, sizeof why), 0);
  ck_assert_uint_eq(judged, 18); /* all but the first and the last second */
  ck_assert_uint_eq(bad, 6);     /* 4-5, 10-11, 16-17 */
  ck_assert_uint_eq(json_array_size(spans), 3);
  ck_assert_int_eq(json_integer_value(json_array_get(json_array_get(spans, 0), 0)), 4000);
  json_decref(spans);
  json_decref(iv);
}
END_TEST

/* Add v samples of frames (root first) to p, labelled with request name when name is not NULL. */
static void add(pprof_profile *p, const char *frames, int64_t v, const char *name) {
  testcorr_sample(p, frames, NULL, v, name, NULL);
}

/* 20 one-second windows of a C service (perf): in seconds 4-5, 10-11 and 16-17 two threads compact a cache
 * (73 samples a second) and p99 doubles; the others hold 10 samples, 8 of them the compaction's edges.
 * Shares: 96 % vs 80 %, under 1.25x; per second of window 73 vs 8. With name, the compaction's samples are
 * one request's work instead: more of a request's work per second is more requests, no window finding. */
static json_t *idle_windows(const char *name) {
  pprof_profile *ps[20];
  correlate_window ws[20];
  json_t *iv = json_array(), *fs = NULL;
  for (int k = 0; k < 20; k++) {
    int bad = (k % 6) >= 4;
    ps[k] = pprof_create("samples", "count");
    add(ps[k], ":9717;clone3;start_thread;compact_cache;blend", bad ? 73 : 8, name);
    add(ps[k], "faultnative;[unknown];serve_conn;reply", bad ? 3 : 2, NULL);
    ws[k] = (correlate_window){1000000 + k * 1000, 1000000 + (k + 1) * 1000, "cpu", ps[k]};
    double p99 = bad ? 40.0 : 20.0 + (k % 4);
    json_array_append_new(
        iv, json_pack("{s:I,s:I,s:s,s:f,s:I,s:f,s:f,s:f,s:I,s:I}", "t", (json_int_t)(1000000 + k * 1000),
                      "interval_ms", (json_int_t)1000, "name", "(all)", "rps", 100.0, "count",
                      (json_int_t)100, "p99_ms", p99, "p50_ms", 5.0, "mean_ms", 6.0, "errors", (json_int_t)0,
                      "users", (json_int_t)10));
  }
  correlate_input in = {ws, 20, iv, NULL};
  ck_assert_int_eq(correlate_findings(&in, &fs), 0);
  for (int k = 0; k < 20; k++) pprof_free(ps[k]);
  json_decref(iv);
  return fs;
}

START_TEST(window_rates_on_an_idle_service) {
  json_t *fs = idle_windows(NULL), *f = json_array_get(fs, 0);
  ck_assert_uint_eq(json_array_size(fs), 1);
  ck_assert_str_eq(json_string_value(json_object_get(f, "kind")), "window");
  ck_assert_str_eq(json_string_value(json_object_get(f, "function")), "compact_cache");
  ck_assert_uint_eq(json_array_size(json_object_get(f, "window")), 3);
  ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(f, "evidence")),
                               "73.0 samples in it per second of window vs 8.0; conditional binomial test"));
  json_decref(fs);
  fs = idle_windows("GET /thumb");
  ck_assert_uint_eq(json_array_size(fs), 0);
  json_decref(fs);
}
END_TEST

/* v samples of frames in p of request tid of GET /item. */
static void add_req(pprof_profile *p, const char *frames, int64_t v, const char *tid) {
  uint32_t st[16];
  size_t n = test_stack(p, frames, st, 16);
  pprof_label lb[2] = {
      {(uint32_t)pprof_intern(p, "loadctl.name"), (uint32_t)pprof_intern(p, "GET /item"), 0, 0},
      {(uint32_t)pprof_intern(p, "trace_id"), (uint32_t)pprof_intern(p, tid), 0, 0}};
  ck_assert_int_eq(pprof_add_sample(p, st, n, &v, lb, 2), 0);
}

/* 20 one-second windows; in seconds 4-5, 10-11 and 16-17 a background reindex (unlabelled, 60 samples a
 * second) runs and p99 doubles. GET /item: 2 typical requests a second (1 sample each in render) and 3 slow
 * ones (6 samples each in product) a second: in those seconds (in_window 1), in those and 1 and 7 (2),
 * in those and the seconds just after them, 6, 12 and 18 (3: the queue drains), or in seconds 1, 7, 13 and
 * 18-19 (0). In the reindex's seconds the slow requests are its effect: they are
 * no evidence for the tail, and a tail finding on the others ranks below the window finding when most slow
 * requests fall in its seconds; elsewhere it ranks first. */
static json_t *slow_in_windows(int in_window, int rare) {
  pprof_profile *ps[20];
  correlate_window ws[20];
  json_t *iv = json_array(), *ex = json_array(), *fs = NULL;
  char tid[40];
  for (int k = 0; k < 20; k++) {
    int bad = (k % 6) >= 4, out = k == 1 || k == 7;
    int after = k > 0 && k % 6 == 0; /* the second after a reindex */
    int slow = in_window == 1   ? bad
               : in_window == 2 ? bad || out
               : in_window == 3 ? bad || after
                                : (k % 6) == 1 || k == 19 || k == 18;
    int64_t t0 = 1000000 + k * 1000;
    json_t *sl = json_array(), *ty = json_array();
    ps[k] = pprof_create("samples", "count");
    if (bad) add(ps[k], "main.reindexLoop;main.reindex;main.sortAll", 60, rare ? "GET /report" : NULL);
    for (int r = 0; r < 5; r++) {
      snprintf(tid, sizeof tid, "%030d%02d", k, r);
      if (r >= 3) {
        add_req(ps[k], "main.serve;main.item;main.render", 1, tid);
        json_array_append_new(ty, json_pack("{s:s,s:s,s:f,s:I}", "trace_id", tid, "span_id", "", "latency_ms",
                                            2.0, "wall_ms", (json_int_t)(t0 + 100 * r)));
      } else if (slow) {
        add_req(ps[k], "main.serve;main.item;main.product", 6, tid);
        json_array_append_new(sl, json_pack("{s:s,s:s,s:f,s:I}", "trace_id", tid, "span_id", "", "latency_ms",
                                            80.0, "wall_ms", (json_int_t)(t0 + 100 * r + 90)));
      }
    }
    json_array_append_new(ex, json_pack("{s:I,s:s,s:o,s:o}", "t", (json_int_t)t0, "name", "GET /item", "slow",
                                        sl, "typical", ty));
    ws[k] = (correlate_window){t0, t0 + 1000, "cpu", ps[k]};
    for (int n = 0; n < (rare ? bad ? 3 : 2 : 1); n++) /* with rare: the names' own series too */
      json_array_append_new(iv, json_pack("{s:I,s:I,s:s,s:f,s:I,s:f,s:f,s:f,s:I,s:I}", "t", (json_int_t)t0,
                                          "interval_ms", (json_int_t)1000, "name",
                                          n == 0   ? "(all)"
                                          : n == 1 ? "GET /item"
                                                   : "GET /report",
                                          "rps", 100.0, "count", (json_int_t)(n == 2 ? 1 : 100), "p99_ms",
                                          bad ? 40.0 : 20.0 + (k % 4), "p50_ms", 5.0, "mean_ms", 6.0,
                                          "errors", (json_int_t)0, "users", (json_int_t)10));
  }
  correlate_input in = {ws, 20, iv, ex};
  ck_assert_int_eq(correlate_findings(&in, &fs), 0);
  for (int k = 0; k < 20; k++) pprof_free(ps[k]);
  json_decref(iv);
  json_decref(ex);
  return fs;
}

START_TEST(slow_requests_in_background_windows_rank_below) {
  json_t *fs = slow_in_windows(1, 0); /* every slow request in the reindex's seconds: its effect, no tail */
  ck_assert_uint_eq(json_array_size(fs), 1);
  ck_assert_str_eq(json_string_value(json_object_get(json_array_get(fs, 0), "kind")), "window");
  ck_assert_str_eq(json_string_value(json_object_get(json_array_get(fs, 0), "function")), "main.reindexLoop");
  json_decref(fs);
  fs = slow_in_windows(3, 0); /* and in the second after each: still its effect */
  ck_assert_uint_eq(json_array_size(fs), 1);
  ck_assert_str_eq(json_string_value(json_object_get(json_array_get(fs, 0), "kind")), "window");
  json_decref(fs);
  fs = slow_in_windows(2, 0); /* 18 of 24 in them: the other 6 name product, ranked below the window */
  ck_assert_uint_eq(json_array_size(fs), 2);
  ck_assert_str_eq(json_string_value(json_object_get(json_array_get(fs, 0), "kind")), "window");
  ck_assert_str_eq(json_string_value(json_object_get(json_array_get(fs, 1), "kind")), "tail");
  ck_assert_str_eq(json_string_value(json_object_get(json_array_get(fs, 1), "function")), "main.product");
  ck_assert_int_eq(
      json_integer_value(json_object_get(json_object_get(json_array_get(fs, 1), "samples"), "slow")), 36);
  ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(json_array_get(fs, 1), "evidence")),
                               "18 of its 24 slow requests fall in the anomalous seconds"));
  json_decref(fs);
  fs = slow_in_windows(0, 0);
  ck_assert_uint_ge(json_array_size(fs), 1);
  ck_assert_str_eq(json_string_value(json_object_get(json_array_get(fs, 0), "kind")), "tail");
  ck_assert_str_eq(json_string_value(json_object_get(json_array_get(fs, 0), "function")), "main.product");
  json_decref(fs);
}
END_TEST

/* The reindex of slow_in_windows(2) run by a rare request instead, GET /report (1 request a second in those
 * seconds, 0.3 % of the run's), while GET /item's p99 doubles there: that request's work slowed the others.
 * The window finding names the work below the report's entry (reindex: what its requests diverge in; the
 * entry reindexLoop is what every one of them runs), says whose it is, and GET /item's tail on the 6 slow
 * requests outside those seconds ranks below it as below background work. With the rule off the tail ranks
 * first. */
START_TEST(rare_requests_harm_to_everyone) {
  json_t *fs = slow_in_windows(2, 1), *w = json_array_get(fs, 0), *t = json_array_get(fs, 1);
  ck_assert_uint_eq(json_array_size(fs), 2);
  ck_assert_str_eq(json_string_value(json_object_get(w, "kind")), "window");
  ck_assert_str_eq(json_string_value(json_object_get(w, "function")), "main.reindex");
  ck_assert_ptr_nonnull(
      strstr(json_string_value(json_object_get(w, "evidence")),
             "it is the work of GET /report (0.3% of the requests), while GET /item's p99 was 40"));
  ck_assert_str_eq(json_string_value(json_object_get(t, "kind")), "tail");
  ck_assert_str_eq(json_string_value(json_object_get(t, "function")), "main.product");
  ck_assert_ptr_nonnull(
      strstr(json_string_value(json_object_get(t, "evidence")),
             "18 of its 24 slow requests fall in the anomalous seconds of the window finding "
             "(main.reindex, work of GET /report)"));
  json_decref(fs);
}
END_TEST

/* 20 one-second windows of POST /orders (every request in main.doLabels, its middleware); in seconds 4-5,
 * 10-11 and 16-17 p99 doubles and three times the requests run (90 samples in price instead of 30), beside
 * 20 unlabelled GC samples a second: doLabels is on 82 % of the samples vs 60 %, but on 100 % of its
 * requests' samples in both, more requests. With reload, the requests of those seconds run main.reload
 * (60 samples) beside price (30): a share of their samples they do not run in the others. */
static json_t *busy_windows(int reload) {
  pprof_profile *ps[20];
  correlate_window ws[20];
  json_t *iv = json_array(), *fs = NULL;
  for (int k = 0; k < 20; k++) {
    int bad = (k % 6) >= 4;
    ps[k] = pprof_create("samples", "count");
    add(ps[k], "main.serve;main.doLabels;main.newOrders;main.price", bad && !reload ? 90 : 30,
        "POST /orders");
    if (reload && bad) add(ps[k], "main.serve;main.doLabels;main.newOrders;main.reload", 60, "POST /orders");
    add(ps[k], "runtime.gcBgMarkWorker;runtime.gcDrain", 20, NULL);
    ws[k] = (correlate_window){1000000 + k * 1000, 1000000 + (k + 1) * 1000, "cpu", ps[k]};
    json_array_append_new(
        iv, json_pack("{s:I,s:I,s:s,s:f,s:I,s:f,s:f,s:f,s:I,s:I}", "t", (json_int_t)(1000000 + k * 1000),
                      "interval_ms", (json_int_t)1000, "name", "(all)", "rps", 100.0, "count",
                      (json_int_t)100, "p99_ms", bad ? 40.0 : 20.0 + (k % 4), "p50_ms", 5.0, "mean_ms", 6.0,
                      "errors", (json_int_t)0, "users", (json_int_t)10));
  }
  correlate_input in = {ws, 20, iv, NULL};
  ck_assert_int_eq(correlate_findings(&in, &fs), 0);
  for (int k = 0; k < 20; k++) pprof_free(ps[k]);
  json_decref(iv);
  return fs;
}

START_TEST(request_work_that_follows_requests_is_no_window) {
  json_t *fs = busy_windows(0);
  ck_assert_uint_eq(json_array_size(fs), 0); /* doLabels: 100 % of its requests' samples in both */
  json_decref(fs);
  fs = busy_windows(1);
  ck_assert_uint_eq(json_array_size(fs), 1);
  ck_assert_str_eq(json_string_value(json_object_get(json_array_get(fs, 0), "kind")), "window");
  ck_assert_str_eq(json_string_value(json_object_get(json_array_get(fs, 0), "function")), "main.reload");
  json_decref(fs);
}
END_TEST

/* 20 one-second windows of a board service: every request passes main.serve and the labelling middleware
 * main.doLabels. In seconds 4-5, 10-11 and 16-17 the leaderboard's cache has expired and GET /board requests
 * re-rank it (40 samples in main.(*cache).refresh under Top and rankNow, sorting below it) and p99 doubles;
 * the other seconds hold only unlabelled samples (cache hits are too quick to be sampled). The contrast
 * names the outermost frame holding the excess, main.serve: request work found at what every request passes
 * through. The finding moves down GET /board's path past that context (doLabels, closures) to the name's
 * entry, Top (every GET /board request runs it), and below it, with no baseline of the name's own, to the
 * callee holding its excess: rankNow. With the rule off: main.serve. */
static json_t *board_windows(void) {
  pprof_profile *ps[20];
  correlate_window ws[20];
  json_t *iv = json_array(), *fs = NULL;
  for (int k = 0; k < 20; k++) {
    int bad = (k % 6) >= 4;
    ps[k] = pprof_create("samples", "count");
    if (bad) {
      add(ps[k],
          "main.serve;main.doLabels;main.doLabels.func1;main.newBoard.func3;main.(*cache).Top;"
          "main.(*cache).rankNow;main.(*cache).refresh;sort.Slice;sort.pdqsort",
          40, "GET /board");
      add(ps[k], "main.serve;main.doLabels;main.doLabels.func1;main.newBoard.func1;main.(*table).submit", 1,
          "POST /score");
    }
    add(ps[k], "runtime.gcBgMarkWorker;runtime.gcDrain", 4, NULL);
    ws[k] = (correlate_window){1000000 + k * 1000, 1000000 + (k + 1) * 1000, "cpu", ps[k]};
    for (int n = 0; n < 3; n++) /* both names as slow in those seconds: neither stands out as an endpoint */
      json_array_append_new(
          iv, json_pack("{s:I,s:I,s:s,s:f,s:I,s:f,s:f,s:f,s:I,s:I}", "t", (json_int_t)(1000000 + k * 1000),
                        "interval_ms", (json_int_t)1000, "name",
                        n ? n == 1 ? "GET /board" : "POST /score" : "(all)", "rps", 100.0, "count",
                        (json_int_t)100, "p99_ms", bad ? 40.0 : 20.0 + (k % 4), "p50_ms", 5.0, "mean_ms", 6.0,
                        "errors", (json_int_t)0, "users", (json_int_t)10));
  }
  correlate_input in = {ws, 20, iv, NULL};
  ck_assert_int_eq(correlate_findings(&in, &fs), 0);
  for (int k = 0; k < 20; k++) pprof_free(ps[k]);
  json_decref(iv);
  return fs;
}

START_TEST(request_window_below_the_shared_context) {
  json_t *fs = board_windows(), *f = json_array_get(fs, 0);
  ck_assert_uint_eq(json_array_size(fs), 1);
  ck_assert_str_eq(json_string_value(json_object_get(f, "kind")), "window");
  ck_assert_str_eq(json_string_value(json_object_get(f, "function")), "main.(*cache).rankNow");
  ck_assert_double_lt(json_real_value(json_object_get(f, "p_value")), 0.001);
  json_decref(fs);
}
END_TEST

/* A window finding of request work on the path of a request's finding is that finding's work. */
START_TEST(window_on_a_request_findings_path_is_dropped) {
  json_t *win = json_pack("{s:s,s:s,s:n,s:[s,s]}", "kind", "window", "function", "main.doLabels", "request",
                          "path", "main.doLabels.func1", "main.newOrders");
  json_t *tail =
      json_pack("{s:s,s:s,s:s,s:[s,s,s]}", "kind", "tail", "function", "main.fraudCheck", "request",
                "POST /orders", "path", "main.doLabels.func1", "main.newOrders", "main.fraudCheck");
  json_t *other = json_pack("{s:s,s:s,s:s,s:[s,s]}", "kind", "tail", "function", "main.render", "request",
                            "GET /items", "path", "main.items", "main.render");
  json_t *fs = json_pack("[O,O]", other, win);
  ck_assert_int_eq(corrwin_drop_covered(fs, win), 0); /* no request finding runs doLabels */
  ck_assert_uint_eq(json_array_size(fs), 2);
  json_array_append(fs, tail);
  ck_assert_int_eq(corrwin_drop_covered(fs, win), 1); /* doLabels.func1 on the tail's path */
  ck_assert_uint_eq(json_array_size(fs), 2);
  ck_assert_ptr_eq(json_array_get(fs, 1), tail);
  ck_assert_int_eq(corrwin_drop_covered(fs, NULL), 0);
  json_decref(fs);
  json_decref(win);
  json_decref(tail);
  json_decref(other);
}
END_TEST

/* A C service through perf: one-second profile windows on whole seconds, intervals starting 550 ms into
 * them. In seconds 3, 9 and 15 a rare purge runs from 500 to 560 ms (10 samples in purge_album, in that
 * second's window) and completes in the interval that begins at 550 ms: the interval is anomalous (p99 60 ms
 * vs 2 ms), but only 45 % of the window holding the purge overlaps it, and the next window (55 %) holds none
 * of it. The purge's slow exemplar, in flight from 500 ms, puts the window where it ran with the anomalous
 * ones. Every window holds 4 samples of thumbnail work. */
static json_t *purge_out_of_phase(void) {
  pprof_profile *ps[21];
  correlate_window ws[21];
  json_t *iv = json_array(), *ex = json_array(), *fs = NULL;
  for (int k = 0; k < 21; k++) {
    int purge = k == 3 || k == 9 || k == 15;
    int64_t w0 = 1000000 + k * 1000, t0 = w0 + 550;
    ps[k] = pprof_create("samples", "count");
    add(ps[k], "faultnative;[unknown];serve_conn;render_thumb;blend", 4, NULL);
    if (purge) add(ps[k], "faultnative;[unknown];serve_conn;purge_album;__isoc99_sscanf", 10, NULL);
    ws[k] = (correlate_window){w0, w0 + 1000, "cpu", ps[k]};
    if (k == 20) continue;
    json_array_append_new(
        iv, json_pack("{s:I,s:I,s:s,s:f,s:I,s:f,s:f,s:f,s:I,s:I,s:f}", "t", (json_int_t)t0, "interval_ms",
                      (json_int_t)1000, "name", "(all)", "rps", 80.0, "count", (json_int_t)80, "p99_ms",
                      purge ? 60.0 : 2.0 + 0.1 * (k % 3), "p50_ms", 0.5, "mean_ms", purge ? 1.3 : 0.6,
                      "errors", (json_int_t)0, "users", (json_int_t)3, "rate", 80.0));
    if (purge)
      json_array_append_new(
          ex, json_pack("{s:I,s:s,s:[{s:s,s:s,s:f,s:I}],s:[]}", "t", (json_int_t)t0, "name", "POST /purge",
                        "slow", "trace_id", "0af7651916cd43dd8448eb211c80319c", "span_id", "b7ad6b7169203331",
                        "latency_ms", 60.0, "wall_ms", (json_int_t)(w0 + 560), "typical"));
  }
  correlate_input in = {ws, 21, iv, ex};
  ck_assert_int_eq(correlate_findings(&in, &fs), 0);
  for (int k = 0; k < 21; k++) pprof_free(ps[k]);
  json_decref(iv);
  json_decref(ex);
  return fs;
}

START_TEST(window_where_the_slow_requests_ran) {
  json_t *fs = purge_out_of_phase(), *f = json_array_get(fs, 0);
  ck_assert_uint_eq(json_array_size(fs), 1);
  ck_assert_str_eq(json_string_value(json_object_get(f, "kind")), "window");
  ck_assert_str_eq(json_string_value(json_object_get(f, "function")), "purge_album");
  ck_assert_uint_eq(json_array_size(json_object_get(f, "window")), 3);
  /* the 3 windows the purges ran in and the 3 after them (55 % anomalous) vs the 15 others */
  json_t *n = json_object_get(f, "samples");
  ck_assert_int_eq(json_integer_value(json_object_get(n, "anomalous")), 6 * 4 + 3 * 10);
  ck_assert_int_eq(json_integer_value(json_object_get(n, "normal")), 15 * 4);
  json_decref(fs);
}
END_TEST

/* Window classes: anomalous when half of it is, or a slow request of an anomalous span was in flight in it;
 * normal when neither touches it. */
START_TEST(window_classes) {
  json_t *iv = json_array();
  for (int k = 0; k < 12; k++)
    json_array_append_new(
        iv, json_pack("{s:I,s:I,s:s,s:I,s:f,s:f,s:f,s:f,s:f}", "t", (json_int_t)k * 1000 + 500, "interval_ms",
                      (json_int_t)1000, "name", "(all)", "count", (json_int_t)80, "rps", 80.0, "p50_ms", 1.0,
                      "p99_ms", k == 8 ? 40.0 : 4.0 + 0.1 * (k % 3), "mean_ms", 1.2, "rate", 80.0));
  corrwin_times tm;
  ck_assert_int_eq(corrwin_times_make(iv, NULL, &tm), 0);
  ck_assert_uint_eq(tm.judged, 10);
  ck_assert_uint_eq(tm.bad, 1); /* [8500, 9500) */
  json_t *none = tm.inflight;
  tm.inflight = json_pack("[[I,I]]", 7800, 7950); /* a slow request of it, in flight before it */
  ck_assert_int_eq(corrwin_class(&tm, 2000, 3000), CORRWIN_NORMAL);
  ck_assert_int_eq(corrwin_class(&tm, 7000, 8000), CORRWIN_ANOMALOUS); /* in flight */
  ck_assert_int_eq(corrwin_class(&tm, 7600, 8600), CORRWIN_ANOMALOUS); /* 10 % anomalous, in flight */
  ck_assert_int_eq(corrwin_class(&tm, 9000, 10000), CORRWIN_ANOMALOUS);
  json_decref(tm.inflight);
  tm.inflight = none;
  ck_assert_int_eq(corrwin_class(&tm, 7000, 8000), CORRWIN_NORMAL);
  ck_assert_int_eq(corrwin_class(&tm, 7600, 8600), CORRWIN_NEITHER); /* 10 % */
  /* in flight: a slow request of 300 ms; one of 1500 ms queued through whole intervals and locates nothing */
  json_t *ex = json_pack("[{s:I,s:s,s:[{s:f,s:I},{s:f,s:I}],s:[]}]", "t", (json_int_t)8500, "name", "GET /x",
                         "slow", "latency_ms", 300.0, "wall_ms", (json_int_t)8900, "latency_ms", 1500.0,
                         "wall_ms", (json_int_t)9000, "typical"),
         *fl = NULL;
  ck_assert_int_eq(corrwin_inflight(ex, iv, tm.spans, &fl), 0);
  ck_assert_uint_eq(json_array_size(fl), 1);
  ck_assert_int_eq(json_integer_value(json_array_get(json_array_get(fl, 0), 0)), 8600);
  json_decref(fl);
  json_decref(ex);
  corrwin_times_free(&tm);
  json_decref(iv);
}
END_TEST

/* Throughput dips: random arrivals vary a second's count by about its square root, so 24 of a median 32
 * (z 3.6 on this run's MAD of 1.5) is noise; 10 is a dip. */
START_TEST(throughput_within_counting_noise) {
  for (int dip = 0; dip < 2; dip++) {
    json_t *iv = json_array(), *spans = NULL;
    for (int k = 0; k < 20; k++) {
      double n = k == 10 ? (dip ? 10 : 24) : 31 + k % 3;
      json_array_append_new(iv, json_pack("{s:I,s:I,s:s,s:f,s:f,s:f,s:f,s:f,s:f}", "t", (json_int_t)k * 1000,
                                          "interval_ms", (json_int_t)1000, "name", "(all)", "count", n, "rps",
                                          n, "p50_ms", 1.0, "p99_ms", 4.0, "mean_ms", 1.2, "rate", 32.0));
    }
    size_t judged = 0, bad = 0;
    ck_assert_int_eq(corrwin_spans(iv, &spans, &judged, &bad, NULL, 0), 0);
    ck_assert_uint_eq(bad, (size_t)(dip ? 1 : 0));
    json_decref(spans);
    json_decref(iv);
  }
}
END_TEST

/* 20 seconds: a fault's seconds 6-7 and 16-17 (p50 40 against 1.5 ms, p99 200 against 20 ms) and six
 * seconds of a busy machine's stalls (3-4, 9, 12-14: GET /a's p99 43-54 ms): 10 of the 18 judged seconds
 * stand out, more than WIN_MAX_FRAC; the nine that stand out most are kept (the weakest stall, second 3,
 * dropped), and the fault's seconds are among the spans. Without the rule no window is judged at all. */
START_TEST(strongest_seconds_when_too_many_stand_out) {
  json_t *iv = json_array(), *spans = NULL;
  for (int t = 0; t < 20; t++) {
    int fault = t == 6 || t == 7 || t == 16 || t == 17;
    int stall = t == 3 || t == 4 || t == 9 || t == 12 || t == 13 || t == 14;
    testcorr_interval(iv, t * 1000, "(all)", 80, fault ? 40.0 : 1.5 + 0.01 * (t % 3), fault ? 200.0 : 20.0,
                      fault ? 40.0 : 3.0);
    testcorr_interval(iv, t * 1000, "GET /a", 40, 1.5, stall ? 40.0 + t : 20.0 + 0.5 * (t % 3), 3.0);
  }
  size_t judged = 0, bad = 0;
  char why[256];
  ck_assert_int_eq(corrwin_spans(iv, &spans, &judged, &bad, why, sizeof why), 0);
  ck_assert_uint_eq(judged, 18);
  ck_assert_uint_eq(bad, 9);
  ck_assert_double_lt(corrwin_overlap(spans, 3000, 4000), 0.5); /* the weakest stall */
  ck_assert_double_eq(corrwin_overlap(spans, 6000, 8000), 1.0);
  ck_assert_double_eq(corrwin_overlap(spans, 16000, 18000), 1.0);
  json_decref(spans);
  json_decref(iv);
}
END_TEST

CHECK_MAIN("corrwin", 0, strongest_seconds_when_too_many_stand_out, window_where_the_slow_requests_ran,
           window_classes, throughput_within_counting_noise, open_model_users_follow_latency,
           window_rates_on_an_idle_service, slow_requests_in_background_windows_rank_below,
           request_work_that_follows_requests_is_no_window, window_on_a_request_findings_path_is_dropped,
           request_window_below_the_shared_context, rare_requests_harm_to_everyone)
