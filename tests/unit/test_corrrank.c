/* test_corrrank.c - one order for every method's findings (corrrank.h): a finding whose evidence is weak (p
 * not below CORRELATE_STRONG_ALPHA) ranks below every strong one whatever its method, weak ones keep their
 * methods' order among themselves, an endpoint's wait ranks last, a lock whose contention falls in a
 * background job's window ranks below that window (correlate.c, end to end), of two requests' findings the
 * one about the heavier tail ranks first, and the ranked list names a function and a request's time once. */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "master/profile/correlate.h"
#include "master/profile/corrrank.h"
#include "tests/support/checkrun.h"
#include "tests/support/testcorr.h"
#include "tests/support/teststack.h"

static json_t *finding(const char *kind, const char *fn, const char *request, double score) {
  return json_pack("{s:s,s:s,s:o,s:[s],s:f}", "kind", kind, "function", fn, "request",
                   request ? json_string(request) : json_null(), "path", fn, "score", score);
}

static const char *fn_at(const json_t *fs, size_t i) {
  return json_string_value(json_object_get(json_array_get(fs, i), "function"));
}

/* A read lock held while a backup copies: the mutex profile names a writer that releases 65 % of the delay
 * where an even split of two contending functions is 50 % (p = 3.5e-4: past ALPHA, not past a correction for
 * the frames tested), the window names the backup on 36 % of the bad seconds' samples against 0 % (p =
 * 2.8e-9). The lock method's standing is higher; the window's evidence is the strong one and ranks first. */
START_TEST(weak_lock_below_strong_window) {
  json_t *raw = json_array();
  json_array_append_new(
      raw, finding("lock", "main.heartbeat", NULL, corrrank_score(CORRELATE_RANK_LOCK, 0.651, 3.5e-4)));
  json_array_append_new(
      raw, finding("window", "main.backupLoop", NULL, corrrank_score(CORRELATE_RANK_WINDOW, 0.363, 2.8e-9)));
  json_t *fs = corrrank_rank(raw);
  ck_assert_ptr_nonnull(fs);
  ck_assert_int_eq(json_array_size(fs), 2);
  ck_assert_str_eq(fn_at(fs, 0), "main.backupLoop");
  ck_assert_str_eq(fn_at(fs, 1), "main.heartbeat");
  json_decref(fs);
  json_decref(raw);
}
END_TEST

/* Strong findings keep their methods' order (a tail above a lock above an endpoint above a window, a CPU
 * finding above a wait of the same method; here a lock with half of the delay between them), weak ones too
 * among themselves, below all strong ones. */
START_TEST(methods_order_within_strength) {
  double p_strong = CORRELATE_STRONG_ALPHA / 10, p_weak = CORRELATE_STRONG_ALPHA * 10;
  ck_assert(p_weak < CORRELATE_ALPHA);
  json_t *raw = json_array();
  json_array_append_new(raw,
                        finding("window", "w_weak", NULL, corrrank_score(CORRELATE_RANK_WINDOW, 1, p_weak)));
  json_array_append_new(raw, finding("tail", "t_weak", "A", corrrank_score(CORRELATE_RANK_TAIL, 1, p_weak)));
  json_array_append_new(raw,
                        finding("window", "w", NULL, corrrank_score(CORRELATE_RANK_WINDOW, 0.2, p_strong)));
  json_array_append_new(
      raw, finding("endpoint", "e", "B", corrrank_score(CORRELATE_RANK_ENDPOINT, 0.2, p_strong)));
  json_array_append_new(raw, finding("lock", "l", NULL, corrrank_score(CORRELATE_RANK_LOCK, 0.5, p_strong)));
  json_array_append_new(raw,
                        finding("wait", "t_wait", "C",
                                corrrank_score(CORRELATE_RANK_TAIL - CORRELATE_RANK_WAIT, 0.2, p_strong)));
  json_array_append_new(raw, finding("tail", "t", "D", corrrank_score(CORRELATE_RANK_TAIL, 0.2, p_strong)));
  json_t *fs = corrrank_rank(raw);
  const char *want[] = {"t", "l", "t_wait", "e", "w", "t_weak", "w_weak"};
  ck_assert_int_eq(json_array_size(fs), 7);
  for (size_t i = 0; i < 7; i++) ck_assert_str_eq(fn_at(fs, i), want[i]);
  json_decref(fs);
  json_decref(raw);
}
END_TEST

/* A function named by a stronger finding is not named again; a weaker finding of the same request whose
 * function is on the stronger one's path is the same time, dropped. */
START_TEST(named_once) {
  json_t *raw = json_array(), *twice = finding("tail", "main.fraud", "POST /o", 3.2);
  json_array_append_new(raw, finding("tail", "main.fraud", "POST /o", 3.9));
  json_array_append_new(raw, finding("window", "main.fraud", NULL, 1.5));
  json_array_append_new(json_object_get(twice, "path"), json_string("main.score"));
  json_object_set_new(twice, "function", json_string("main.score"));
  json_array_append_new(raw, twice);
  json_t *fs = corrrank_rank(raw);
  ck_assert_int_eq(json_array_size(fs), 1);
  ck_assert_str_eq(fn_at(fs, 0), "main.fraud");
  json_decref(fs);
  json_decref(raw);
}
END_TEST

/* A queue's requests all wait for its pool: one name's off-CPU observations against the other names' name
 * the pool's await on 95 % against 61 %, strong; a background job's window names it on 30 % against 0 %.
 * The window ranks first: where one name blocks that others do not is what it calls, by design. Waits of
 * the endpoint method found on CPU after all rank as the CPU endpoint finding less a wait's step. */
START_TEST(endpoint_wait_below_window) {
  double p = CORRELATE_STRONG_ALPHA / 1e6;
  json_t *raw = json_array();
  json_array_append_new(raw, finding("wait", "main.await", "POST /raw",
                                     corrrank_score(corrrank_endpoint(1, "wait"), 0.95 - 0.61, p)));
  json_array_append_new(raw,
                        finding("window", "main.job", NULL, corrrank_score(CORRELATE_RANK_WINDOW, 0.3, p)));
  json_t *fs = corrrank_rank(raw);
  ck_assert_int_eq(json_array_size(fs), 2);
  ck_assert_str_eq(fn_at(fs, 0), "main.job");
  ck_assert_str_eq(fn_at(fs, 1), "main.await");
  ck_assert(corrrank_endpoint(1, NULL) == CORRELATE_RANK_ENDPOINT - CORRELATE_RANK_WAIT);
  ck_assert(corrrank_endpoint(1, "alloc") == CORRELATE_RANK_ENDPOINT - CORRELATE_RANK_WAIT);
  ck_assert(corrrank_endpoint(0, NULL) == CORRELATE_RANK_ENDPOINT);
  json_decref(fs);
  json_decref(raw);
}
END_TEST

static void add(pprof_profile *p, const char *frames, int64_t v0, int64_t v1) {
  testcorr_sample2(p, frames, v0, v1);
}

/* 10 CPU windows of 5 s and 10 mutex windows beside them; latency is high in seconds 25-40 (windows 5..7),
 * where an unlabelled background job runs. The mutex windows hold 210 contentions of 1 s each released by
 * main.heartbeat (and 3 small ones by main.gc): in the job's windows only (in_job), or evenly. */
static json_t *lock_and_window(int in_job, pprof_profile **ps) {
  correlate_window ws[20];
  json_t *iv = json_array(), *fs = NULL;
  for (int k = 0; k < 10; k++) {
    int bad = k >= 5 && k <= 7;
    ps[k] = pprof_create("samples", "count");
    add(ps[k], "main.main;main.handle", bad ? 40 : 100, 0);
    if (bad) add(ps[k], "main.main;main.backupLoop;runtime.memmove", 60, 0);
    ws[k] = (correlate_window){k * 5000, (k + 1) * 5000, "cpu", ps[k]};
    ps[10 + k] = pprof_create("contentions", "count");
    ck_assert_int_eq(pprof_add_sample_type(ps[10 + k], "delay", "nanoseconds"), 0);
    int64_t n = in_job ? (bad ? 70 : 0) : 21;
    if (n) add(ps[10 + k], "main.main;main.handle;main.heartbeat;sync.(*Mutex).Unlock", n, n * 1000000000LL);
    add(ps[10 + k], "main.main;main.gc;sync.(*Mutex).Unlock", 1, 1000000LL);
    ws[10 + k] = (correlate_window){k * 5000, (k + 1) * 5000, "mutex", ps[10 + k]};
    for (int j = 0; j < 5; j++)
      json_array_append_new(
          iv, json_pack("{s:I,s:s,s:I,s:f}", "t", (json_int_t)(k * 5000 + j * 1000), "name", "GET /x",
                        "count", (json_int_t)50, "p99_ms", bad ? 150.0 : 10.0 + k % 3));
  }
  correlate_input in = {ws, 20, iv, NULL};
  ck_assert_int_eq(correlate_findings(&in, &fs), 0);
  json_decref(iv);
  return fs;
}

/* The lock's contention all falls in the background job's seconds: the job holds or starves the lock, and
 * the function releasing the delay may be the last of the queue; the window naming the job ranks first and
 * the lock's evidence says why. Contention spread over the whole run is the lock's own: it keeps its place.
 */
START_TEST(lock_in_a_window_is_its_effect) {
  pprof_profile *ps[20];
  json_t *fs = lock_and_window(1, ps);
  ck_assert_int_eq(json_array_size(fs), 2);
  ck_assert_str_eq(fn_at(fs, 0), "main.backupLoop");
  ck_assert_str_eq(fn_at(fs, 1), "main.heartbeat");
  ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(json_array_get(fs, 1), "evidence")),
                               "that work's effect, ranked below it"));
  json_decref(fs);
  for (int k = 0; k < 20; k++) pprof_free(ps[k]);
  fs = lock_and_window(0, ps);
  ck_assert_int_eq(json_array_size(fs), 2);
  ck_assert_str_eq(fn_at(fs, 0), "main.heartbeat");
  ck_assert_str_eq(fn_at(fs, 1), "main.backupLoop");
  json_decref(fs);
  for (int k = 0; k < 20; k++) pprof_free(ps[k]);
}
END_TEST

/* Two strong findings about two requests: a tail of GET /geo (an uncached lookup on a few of its requests,
 * p99 30 ms) with the larger effect, and a hand-off wait of POST /upload (p99 160 ms in one interval, 120 in
 * the other: mean 140 weighted by counts 100 and 300 -> 130). Unweighed, the tail ranks first (3.9 vs 3.3);
 * weighed, GET /geo loses 1 - 30/130 = 0.77 and the upload's wait (the worst tail) leads; the window is not
 * weighed. */
START_TEST(heavier_tail_first) {
  json_t *raw = json_array(), *iv = json_array();
  json_array_append_new(raw, finding("tail", "geo.coords_for", "GET /geo", 3.9));
  json_array_append_new(raw, finding("wait", "scan.scan_archive", "POST /upload", 3.3));
  json_array_append_new(raw, finding("window", "refresh_loop", NULL, 1.5));
  testcorr_interval(iv, 0, "GET /geo", 500, 1.0, 30.0, 2.0);
  testcorr_interval(iv, 0, "POST /upload", 100, 6.0, 160.0, 20.0);
  testcorr_interval(iv, 1000, "POST /upload", 300, 6.0, 120.0, 20.0);
  testcorr_interval(iv, 0, "(all)", 900, 1.0, 140.0, 5.0);
  json_t *fs = corrrank_rank(raw);
  ck_assert_str_eq(fn_at(fs, 0), "geo.coords_for");
  json_decref(fs);
  corrrank_weigh_tails(raw, iv);
  const json_t *geo = json_array_get(raw, 0);
  ck_assert_double_eq_tol(json_number_value(json_object_get(geo, "score")), 3.9 - (1 - 30.0 / 130.0), 1e-9);
  ck_assert_double_eq_tol(json_number_value(json_object_get(json_array_get(raw, 1), "score")), 3.3, 1e-12);
  ck_assert_double_eq_tol(json_number_value(json_object_get(json_array_get(raw, 2), "score")), 1.5, 1e-12);
  ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(geo, "evidence")), "23% of the worst"));
  fs = corrrank_rank(raw);
  ck_assert_int_eq(json_array_size(fs), 3);
  ck_assert_str_eq(fn_at(fs, 0), "scan.scan_archive");
  ck_assert_str_eq(fn_at(fs, 1), "geo.coords_for");
  ck_assert_str_eq(fn_at(fs, 2), "refresh_loop");
  json_decref(fs);
  json_decref(raw);
  json_decref(iv);
}
END_TEST

CHECK_MAIN("corrrank", 0, lock_in_a_window_is_its_effect, weak_lock_below_strong_window,
           methods_order_within_strength, named_once, endpoint_wait_below_window, heavier_tail_first)
