/* test_corrwin.c - the anomalous seconds of a run: in an open model the users follow the latency (more VUs
 * are taken while requests are slow), so steadiness is judged on the arrival rate, and the seconds before
 * the pool grew are the baseline, not a ramp. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "master/profile/corrwin.h"
#include "tests/support/checkrun.h"

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

CHECK_MAIN("corrwin", 0, open_model_users_follow_latency)
