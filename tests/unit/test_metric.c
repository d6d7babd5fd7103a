/* test_metric.c - custom metrics: a Trend split over two "workers" merges to the exact percentiles of all
 * values, counters/rates/gauges merge exactly (the latest gauge set wins), a kind clash is refused, and
 * the intervals.jsonl form (metric_json(m, 0)) rebuilds the same state. */
#include <check.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>

#include "common/metric.h"
#include "tests/support/checkrun.h"

typedef struct set {
  metric_state *arr;
  size_t n, cap;
} set;

static void set_free(set *s) {
  for (size_t i = 0; i < s->n; i++) metric_release(&s->arr[i]);
  free(s->arr);
}

START_TEST(trend_merge_exact) {
  set a = {0}, b = {0};
  metric_state *ta = metric_get(&a.arr, &a.n, &a.cap, "cart", METRIC_TREND, NULL);
  metric_state *tb = metric_get(&b.arr, &b.n, &b.cap, "cart", METRIC_TREND, NULL);
  for (int v = 1; v <= 1000; v++) metric_record(v % 2 ? ta : tb, v, 0);
  ck_assert_int_eq(metric_merge(ta, tb), 0);
  ck_assert_int_eq(ta->count, 1000);
  ck_assert_double_eq(metric_percentile(ta, 95), 950);
  ck_assert_double_eq(metric_percentile(ta, 50), 500);
  ck_assert_double_eq(metric_aggregate(ta, "p99"), 990);
  ck_assert_double_eq(metric_aggregate(ta, "p(90)"), 900);
  ck_assert_double_eq(metric_aggregate(ta, "avg"), 500.5);
  ck_assert_double_eq(metric_aggregate(ta, "max"), 1000);
  ck_assert(isnan(metric_aggregate(ta, "rate")));
  set_free(&a);
  set_free(&b);
}
END_TEST

START_TEST(counter_rate_gauge) {
  set a = {0}, b = {0};
  int clash = 0;
  metric_state *c = metric_get(&a.arr, &a.n, &a.cap, "orders", METRIC_COUNTER, NULL);
  metric_state *r = metric_get(&a.arr, &a.n, &a.cap, "ok", METRIC_RATE, NULL);
  metric_state *g = metric_get(&a.arr, &a.n, &a.cap, "depth", METRIC_GAUGE, NULL);
  metric_state *g2 = metric_get(&b.arr, &b.n, &b.cap, "depth", METRIC_GAUGE, NULL);
  ck_assert_ptr_null(metric_get(&a.arr, &a.n, &a.cap, "orders", METRIC_TREND, &clash));
  ck_assert_int_eq(clash, 1);
  c = &a.arr[0], r = &a.arr[1], g = &a.arr[2]; /* appends may have moved them */
  metric_record(c, 2, 0);
  metric_record(c, 3, 0);
  metric_record(r, 1, 0);
  metric_record(r, 0, 0);
  metric_record(g, 7, 2000);
  metric_record(g2, 5, 1000); /* older: the merge keeps 7 */
  ck_assert_int_eq(metric_merge(g, g2), 0);
  ck_assert_double_eq(metric_aggregate(c, "value"), 5);
  ck_assert_double_eq(metric_aggregate(c, "count"), 2);
  ck_assert_double_eq(metric_aggregate(r, "rate"), 0.5);
  ck_assert_double_eq(metric_aggregate(g, "value"), 7);
  ck_assert_double_eq(metric_aggregate(g, "min"), 5);
  ck_assert_int_eq(metric_merge(c, g), -EINVAL);
  set_free(&a);
  set_free(&b);
}
END_TEST

START_TEST(json_round_trip) {
  set a = {0}, b = {0};
  metric_state *t = metric_get(&a.arr, &a.n, &a.cap, "lat", METRIC_TREND, NULL);
  for (int v = 1; v <= 100; v++) metric_record(t, v * 1.5, 0);
  json_t *o = metric_json(t, 0);
  ck_assert_ptr_nonnull(o);
  ck_assert_int_eq(metric_from_json(&b.arr, &b.n, &b.cap, o), 0);
  ck_assert_int_eq(b.n, 1);
  ck_assert(hist_equal(b.arr[0].values, t->values));
  ck_assert_double_eq(b.arr[0].sum, t->sum);
  ck_assert_double_eq(metric_percentile(&b.arr[0], 95), 142); /* 142.5 to 3 significant digits */
  json_decref(o);
  set_free(&a);
  set_free(&b);
}
END_TEST

CHECK_MAIN("metric", 0, trend_merge_exact, counter_rate_gauge, json_round_trip)
