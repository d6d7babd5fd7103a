/* test_corrpool.c - waits on a resource shared with work no request runs (corrpool.h): in the slow seconds
 * the requests pile up parked under the service's client (main.send) while a sync job's workers, unlabelled,
 * pass through the same client; the CPU windows see neither. The window finding names the job (the root of
 * the work that rose), not where the requests wait; not when the job's goroutines wait elsewhere (another
 * resource), nor when the rising goroutines start where requests start (requests that carry no labels). */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "master/profile/correlate.h"
#include "tests/support/checkrun.h"
#include "tests/support/testcorr.h"

#define NWIN 20
#define REQ "net/http.(*conn).serve;main.newShop.func1;main.(*client).stock;main.send;net/http.(*Client).Do;"
#define JOB "main.(*syncer).refreshAll.func1;main.(*client).lead;"

enum { SHARED, ELSEWHERE, UNLABELLED };

/* 20 one-second windows (goroutine + cpu); seconds 4-5, 10-11 and 16-17 are slow (p50 40 ms vs 2 ms). */
static json_t *pool_run(int mode) {
  pprof_profile *gr[NWIN], *cpu[NWIN];
  correlate_window ws[2 * NWIN];
  json_t *iv = json_array(), *fs = NULL;
  for (int k = 0; k < NWIN; k++) {
    int bad = (k % 6) >= 4;
    gr[k] = pprof_create("goroutine", "count");
    cpu[k] = pprof_create("samples", "count");
    testcorr_sample(gr[k], REQ "net/http.(*Transport).getConn;runtime.selectgo;runtime.gopark", NULL,
                    bad ? 24 : 2, "GET /stock", NULL);
    testcorr_sample(gr[k], REQ "net/http.(*persistConn).roundTrip;runtime.selectgo;runtime.gopark", NULL, 4,
                    "GET /stock", NULL);
    testcorr_sample(gr[k], "net/http.(*persistConn).readLoop;runtime.gopark", NULL, 10, NULL, NULL);
    testcorr_sample(gr[k], "net/http.(*conn).serve;net/http.(*conn).readRequest;runtime.gopark", NULL, 10,
                    NULL, NULL);
    if (bad && mode == UNLABELLED) /* the same work, as requests without labels */
      testcorr_sample(gr[k], REQ "net/http.(*persistConn).roundTrip;runtime.selectgo;runtime.gopark", NULL,
                      40, NULL, NULL);
    else if (bad)
      testcorr_sample(gr[k],
                      mode == SHARED ? JOB
                          "main.send;net/http.(*Client).Do;net/http.(*persistConn).roundTrip;"
                          "runtime.selectgo;runtime.gopark"
                                     : JOB "main.(*store).scan;internal/poll.(*FD).Read;runtime.gopark",
                      NULL, 40, NULL, NULL);
    testcorr_sample(
        gr[k],
        bad ? "main.(*syncer).loop;main.(*syncer).refreshAll;sync.(*WaitGroup).Wait;runtime.gopark"
            : "main.(*syncer).loop;time.Sleep;runtime.gopark",
        NULL, 5, NULL, NULL);
    testcorr_sample(cpu[k], "net/http.(*conn).serve;main.newShop.func1;main.render", NULL, 3, "GET /stock",
                    NULL);
    ws[2 * k] = (correlate_window){1000000 + k * 1000, 1000000 + (k + 1) * 1000, "goroutine", gr[k]};
    ws[2 * k + 1] = (correlate_window){1000000 + k * 1000, 1000000 + (k + 1) * 1000, "cpu", cpu[k]};
    testcorr_interval(iv, 1000000 + k * 1000, "(all)", 80, bad ? 40.0 : 2.0, bad ? 90.0 : 8.0,
                      bad ? 40.0 : 2.5);
    testcorr_interval(iv, 1000000 + k * 1000, "GET /stock", 80, bad ? 40.0 : 2.0, bad ? 90.0 : 8.0,
                      bad ? 40.0 : 2.5);
  }
  correlate_input in = {ws, 2 * NWIN, iv, NULL};
  ck_assert_int_eq(correlate_findings(&in, &fs), 0);
  for (int k = 0; k < NWIN; k++) pprof_free(gr[k]), pprof_free(cpu[k]);
  json_decref(iv);
  return fs;
}

/* The window findings of fs naming fn. */
static size_t windows(const json_t *fs, const char *fn) {
  size_t i, n = 0;
  json_t *f;
  json_array_foreach(fs, i, f) n += strcmp(json_string_value(json_object_get(f, "kind")), "window") == 0 &&
                                    strcmp(json_string_value(json_object_get(f, "function")), fn) == 0;
  return n;
}

START_TEST(job_holding_the_requests_client) {
  json_t *fs = pool_run(SHARED), *f = json_array_get(fs, 0);
  ck_assert_ptr_nonnull(f);
  ck_assert_str_eq(json_string_value(json_object_get(f, "kind")), "window");
  ck_assert_str_eq(json_string_value(json_object_get(f, "function")), "main.(*syncer).refreshAll");
  ck_assert_str_eq(json_string_value(json_object_get(f, "profile")), "goroutine");
  ck_assert_uint_eq(json_array_size(json_object_get(f, "window")), 3);
  ck_assert_ptr_nonnull(
      strstr(json_string_value(json_object_get(f, "evidence")), "requests wait in main.send"));
  ck_assert_double_lt(json_real_value(json_object_get(f, "p_value")), CORRELATE_ALPHA);
  ck_assert_uint_eq(windows(fs, "main.send"), 0);
  json_decref(fs);
}
END_TEST

START_TEST(job_waiting_elsewhere) {
  json_t *fs = pool_run(ELSEWHERE);
  ck_assert_uint_eq(windows(fs, "main.(*syncer).refreshAll"), 0);
  json_decref(fs);
}
END_TEST

START_TEST(unlabelled_requests_are_not_a_job) {
  json_t *fs = pool_run(UNLABELLED);
  ck_assert_uint_eq(windows(fs, "main.newShop"), 0);
  ck_assert_uint_eq(windows(fs, "main.(*client).stock"), 0);
  ck_assert_uint_eq(json_array_size(fs), 0);
  json_decref(fs);
}
END_TEST

CHECK_MAIN("corrpool", 0, job_holding_the_requests_client, job_waiting_elsewhere,
           unlabelled_requests_are_not_a_job)
