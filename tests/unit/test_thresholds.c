/* test_thresholds.c - threshold expressions: the parse table (metrics, selectors, units, operators),
 * bad expressions quoted in the error, evaluation against known stats, abort_on_fail, JSON and JUnit. */
#include <check.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "master/report/verdict.h"
#include "master/thresholds.h"
#include "tests/support/checkrun.h"

static const struct {
  const char *expr;
  int metric;
  double pct;
  const char *name;
  int op;
  double limit;
} good[] = {
    {"p99{name=POST /api/orders} < 250ms", THRESHOLDS_PCT, 99, "POST /api/orders", THRESHOLDS_LT, 250},
    {"errors rate < 1%", THRESHOLDS_ERR_RATE, 0, "", THRESHOLDS_LT, 0.01},
    {"errors: rate < 1%", THRESHOLDS_ERR_RATE, 0, "", THRESHOLDS_LT, 0.01},
    {"errors < 0.05", THRESHOLDS_ERR_RATE, 0, "", THRESHOLDS_LT, 0.05},
    {"errors count <= 10", THRESHOLDS_ERR_COUNT, 0, "", THRESHOLDS_LE, 10},
    {"p95 < 200", THRESHOLDS_PCT, 95, "", THRESHOLDS_LT, 200},
    {"rps > 100", THRESHOLDS_RPS, 0, "", THRESHOLDS_GT, 100},
    {"max < 2s", THRESHOLDS_MAX, 0, "", THRESHOLDS_LT, 2000},
    {"mean < 100ms", THRESHOLDS_MEAN, 0, "", THRESHOLDS_LT, 100},
    {"dropped < 1", THRESHOLDS_DROPPED, 0, "", THRESHOLDS_LT, 1},
    {"p99.9 <= 1.5s", THRESHOLDS_PCT, 99.9, "", THRESHOLDS_LE, 1500},
    {"p999 < 500us", THRESHOLDS_PCT, 99.9, "", THRESHOLDS_LT, 0.5},
    {"p50>=3", THRESHOLDS_PCT, 50, "", THRESHOLDS_GE, 3},
    {"  requests == 200 ", THRESHOLDS_REQUESTS, 0, "", THRESHOLDS_EQ, 200},
    {"p90{name=GET /x} < 1m", THRESHOLDS_PCT, 90, "GET /x", THRESHOLDS_LT, 60000},
    /* k6's spelling */
    {"http_req_duration: p(95) < 500", THRESHOLDS_PCT, 95, "", THRESHOLDS_LT, 500},
    {"http_req_duration{name:GET /x} p(99.9)<1s", THRESHOLDS_PCT, 99.9, "GET /x", THRESHOLDS_LT, 1000},
    {"http_req_duration avg < 200", THRESHOLDS_MEAN, 0, "", THRESHOLDS_LT, 200},
    {"http_req_failed: rate<0.01", THRESHOLDS_ERR_RATE, 0, "", THRESHOLDS_LT, 0.01},
    {"http_reqs: count > 1000", THRESHOLDS_REQUESTS, 0, "", THRESHOLDS_GT, 1000},
    {"http_reqs rate >= 50", THRESHOLDS_RPS, 0, "", THRESHOLDS_GE, 50},
    {"dropped_iterations: count < 1", THRESHOLDS_DROPPED, 0, "", THRESHOLDS_LT, 1},
    /* what users paste from k6 (issue 15): bare p(N), checks, requests count/rate, med */
    {"p(95) < 200", THRESHOLDS_PCT, 95, "", THRESHOLDS_LT, 200},
    {" p(99.9)<=1s", THRESHOLDS_PCT, 99.9, "", THRESHOLDS_LE, 1000},
    {"checks rate > 0.9", THRESHOLDS_CHECKS, 0, "", THRESHOLDS_GT, 0.9},
    {"checks{name=status is 201} > 99%", THRESHOLDS_CHECKS, 0, "status is 201", THRESHOLDS_GT, 0.99},
    {"requests count > 1000", THRESHOLDS_REQUESTS, 0, "", THRESHOLDS_GT, 1000},
    {"requests rate > 50", THRESHOLDS_RPS, 0, "", THRESHOLDS_GT, 50},
    {"med < 20ms", THRESHOLDS_PCT, 50, "", THRESHOLDS_LT, 20},
    {"http_req_duration med < 20", THRESHOLDS_PCT, 50, "", THRESHOLDS_LT, 20},
};

START_TEST(parse_good) {
  threshold t;
  char err[512] = "";
  int rc = thresholds_parse_one(good[_i].expr, &t, err, sizeof err);
  ck_assert_msg(rc == 0, "%s: %s", good[_i].expr, err);
  ck_assert_int_eq(t.metric, good[_i].metric);
  if (good[_i].metric == THRESHOLDS_PCT) ck_assert_double_eq_tol(t.percentile, good[_i].pct, 1e-9);
  ck_assert_str_eq(t.name, good[_i].name);
  ck_assert_int_eq(t.op, good[_i].op);
  ck_assert_double_eq_tol(t.limit, good[_i].limit, 1e-9);
  ck_assert_str_eq(t.expr, good[_i].expr);
}
END_TEST

static const struct {
  const char *expr;
  const char *says;
} bad[] = {
    {"p98.x < 2", "unknown metric 'p98.x'"},
    {"latency < 2", "unknown metric 'latency'"},
    {"p99 250ms", "unexpected word"},
    {"p99 =< 250ms", "missing operator"},
    {"p99 < fast", "bad value"},
    {"p99 < 250parsecs", "bad value"},
    {"errors rate < lots", "bad value"},
    {"p99{name=} < 3", "bad selector"},
    {"p99{1host=a} < 3", "bad selector"},
    {"p99{name=x,group=y} < 3", "bad selector"},
    {"p99{kind=a}b} < 3", "unexpected word"},
    {"p99{kind=} < 3", "bad selector"},
    {"p99{name=x < 3", "bad selector"},
    {"", "no metric"},
    {"< 5", "no metric"},
    {"p0 < 3", "unknown metric"},
    {"p101 < 3", "unknown metric"},
    {"rps > 100 200", "bad value"},
    {"max count < 3", "unexpected word"},
    {"http_req_duration: p(x) < 5", "unknown metric 'px'"},
    {"http_req_durations < 5", "unknown metric 'http_req_durations'"},
    {"checks count > 3", "unexpected word before the operator: count"},
    {"requests avg > 3", "unexpected word before the operator: avg"},
    {"p(x) < 5", "unknown metric 'px'"},
};

START_TEST(parse_bad) {
  threshold t;
  char err[512] = "", quoted[600];
  ck_assert_int_eq(thresholds_parse_one(bad[_i].expr, &t, err, sizeof err), -EINVAL);
  snprintf(quoted, sizeof quoted, "threshold '%s'", bad[_i].expr);
  ck_assert_msg(strstr(err, quoted) != NULL, "'%s' not quoted in: %s", bad[_i].expr, err);
  ck_assert_msg(strstr(err, bad[_i].says) != NULL, "'%s' error lacks '%s': %s", bad[_i].expr, bad[_i].says,
                err);
}
END_TEST

START_TEST(parse_options_reports_first_bad) {
  options o;
  thresholds *t = NULL;
  char err[512] = "";
  memset(&o, 0, sizeof o);
  snprintf(o.thresholds[0].expr, sizeof o.thresholds[0].expr, "p99 < 250ms");
  snprintf(o.thresholds[1].expr, sizeof o.thresholds[1].expr, "bogus > 1");
  o.nthresholds = 2;
  ck_assert_int_eq(thresholds_parse(&o, &t, err, sizeof err), -EINVAL);
  ck_assert_ptr_null(t);
  ck_assert_ptr_nonnull(strstr(err, "'bogus > 1'"));
  o.nthresholds = 1;
  o.thresholds[0].abort_on_fail = 1;
  ck_assert_int_eq(thresholds_parse(&o, &t, err, sizeof err), 0);
  ck_assert_uint_eq(thresholds_count(t), 1);
  ck_assert(thresholds_get(t, 0)->abort_on_fail);
  thresholds_destroy(t);
  ck_assert_int_eq(thresholds_parse(NULL, &t, err, sizeof err), 0);
  ck_assert_uint_eq(thresholds_count(t), 0);
  ck_assert(thresholds_eval(t, NULL, 1)); /* none: passes */
  thresholds_destroy(t);
}
END_TEST

/* A: 100 requests at 10 ms, 2 errors; B: 100 at 100 ms; 7 dropped. Over 2 s. */
static stats_interval *known_stats(void) {
  stats_interval *s;
  ck_assert_int_eq(stats_create(&s, 0, 2000), 0);
  stats_entry *a = stats_entry_get(s, "A", "GET"), *b = stats_entry_get(s, "B", "POST");
  for (int i = 0; i < 100; i++) {
    stats_entry_record(a, 10000, 10000);
    stats_entry_record(b, 100000, 100000);
  }
  stats_entry_fail(a, STATS_ERR_HTTP5XX, "HTTP 500");
  stats_entry_fail(a, STATS_ERR_HTTP5XX, "HTTP 500");
  s->dropped = 7;
  stats_check *c = stats_check_get(s, "ok");
  c->passes = 9, c->fails = 1;
  c = stats_check_get(s, "bad");
  c->passes = 0, c->fails = 10;
  return s;
}

/* An expression alone, the verdict it must give and the value it must show (NAN: nothing matched). */
typedef struct {
  const char *expr;
  int ok;
  double value;
} eval_case;

/* Parse c's expression, evaluate it over s as a run of secs seconds and assert that it was evaluated, its
 * verdict and its value (NAN where nothing matched; else within 1 % of it, at least 0.01, at most 0.5). */
static void assert_eval(const eval_case *c, const stats_interval *s, double secs) {
  thresholds *t;
  char err[512] = "";
  ck_assert_msg(thresholds_parse_list(&c->expr, NULL, 1, &t, err, sizeof err) == 0, "%s: %s", c->expr, err);
  bool ok = thresholds_eval(t, s, secs);
  const threshold *th = thresholds_get(t, 0);
  ck_assert_msg(ok == (bool)c->ok, "%s: ok=%d value=%f", c->expr, ok, th->value);
  ck_assert(th->evaluated);
  if (isnan(c->value))
    ck_assert_msg(isnan(th->value), "%s: value %f where nothing matched", c->expr, th->value);
  else
    ck_assert_msg(fabs(th->value - c->value) <= fmin(0.5, 0.01 * fmax(1, c->value)), "%s: value %f", c->expr,
                  th->value);
  thresholds_destroy(t);
}

static const eval_case evals[] = {
    {"p50{name=A} < 11ms", 1, 10.0},
    {"p50{name=A} < 9ms", 0, 10.0},
    {"p99{name=B} <= 100.1", 1, 100.0},
    {"p50 < 50", 1, 10.0},
    {"p51 > 50", 1, 100.0},
    {"max < 99ms", 0, 100.0},
    {"mean > 54", 1, 55.0},
    {"rps == 100", 1, 100.0},
    {"rps{name=A} == 50", 1, 50.0},
    {"errors rate <= 1%", 1, 0.01},
    {"errors{name=A} rate < 1%", 0, 0.02},
    {"errors count == 2", 1, 2},
    {"dropped < 1", 0, 7},
    {"requests >= 200", 1, 200},
    {"requests count > 199", 1, 200},
    {"requests rate == 100", 1, 100},
    {"checks rate > 0.4", 1, 0.45}, /* 9 of 20 passed */
    {"checks{name=ok} rate >= 90%", 1, 0.9},
    {"checks{name=bad} > 0.1", 0, 0.0},
    {"checks{name=absent} > 0.1", 0, NAN},
    {"p99{name=C} < 5", 0, NAN},
};

START_TEST(eval_table) {
  stats_interval *s = known_stats();
  assert_eval(&evals[_i], s, 2.0);
  stats_destroy(s);
}
END_TEST

/* {group=g}: every request named under group g, nested groups included; k6's {group:::g} too. */
START_TEST(group_selector) {
  static const eval_case cases[] = {
      {"requests{group=g} == 150", 1, 150}, /* g::C and g::h::D, not gx::E nor top */
      {"requests{group=g::h} == 50", 1, 50},          {"max{group=g} < 21ms", 1, 20},
      {"http_reqs{group:::g::h} count == 50", 1, 50}, {"errors{group=g} count == 0", 1, 0},
      {"requests{group=nope} > 0", 0, NAN},
  };
  stats_interval *s;
  ck_assert_int_eq(stats_create(&s, 0, 1000), 0);
  const char *names[] = {"g::C", "g::h::D", "gx::E", "top"};
  for (int k = 0; k < 4; k++) {
    stats_entry *e = stats_entry_get(s, names[k], "GET");
    for (int i = 0; i < (k == 0 ? 100 : 50); i++)
      stats_entry_record(e, (k + 1) * 10000, 0); /* C 10 ms, D 20 ms */
  }
  for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
    threshold one;
    char err[512] = "";
    ck_assert_int_eq(thresholds_parse_one(cases[c].expr, &one, err, sizeof err), 0);
    ck_assert_msg(one.group, "%s: not a group selector", cases[c].expr);
    assert_eval(&cases[c], s, 1.0);
  }
  stats_destroy(s);
  thresholds *t;
  char err[512] = "";
  const char *bad_expr = "checks{group=g} > 0.5";
  ck_assert_int_eq(thresholds_parse_list(&bad_expr, NULL, 1, &t, err, sizeof err), -EINVAL);
  ck_assert_msg(strstr(err, "checks and dropped have neither") != NULL, "%s", err);
}
END_TEST

/* Tag selectors count the tagged series: GET /a tagged kind=api (100 at 10 ms, 5 failed at 500 ms),
 * GET /s tagged kind=static,scenario=buy (1000 at 1 ms), GET /u untagged (10 at 2 ms). The run's p99 passes
 * where the api requests' fails. */
START_TEST(tag_selector) {
  static const eval_case cases[] = {
      {"p99 < 200", 1, 10},
      {"p99{kind=api} < 200", 0, 500},
      {"http_req_duration{kind:api}: p(99) < 200", 0, 500},
      {"requests{kind=api} == 105", 1, 105},
      {"requests{kind=static} == 1000", 1, 1000},
      {"errors{kind=api} count == 5", 1, 5},
      {"errors{kind=api} < 1%", 0, 5.0 / 105},
      {"requests{scenario=buy, kind=static} == 1000", 1, 1000},
      {"requests{name=GET /a,kind=api} == 105", 1, 105},
      {"requests{name=GET /s,kind=api} > 0", 0, NAN},
      {"requests{kind=nope} > 0", 0, NAN},
  };
  stats_interval *s;
  ck_assert_int_eq(stats_create(&s, 0, 1000), 0);
  stats_entry *a = stats_entry_get(s, "GET /a", "GET");
  stats_entry *st = stats_entry_get(s, "GET /s", "GET");
  stats_entry *u = stats_entry_get(s, "GET /u", "GET");
  for (int i = 0; i < 105; i++) {
    int64_t us = i < 100 ? 10000 : 500000;
    stats_entry_record(a, us, us);
    stats_tagged_record(stats_tagged_get(s, 0, "kind=api"), us, i >= 100);
  }
  for (int i = 0; i < 1000; i++) {
    stats_entry_record(st, 1000, 1000);
    stats_tagged_record(stats_tagged_get(s, 1, "kind=static,scenario=buy"), 1000, 0);
  }
  for (int i = 0; i < 10; i++) stats_entry_record(u, 2000, 2000);
  for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) assert_eval(&cases[c], s, 1.0);
  stats_destroy(s);
}
END_TEST

/* A custom metric recorded with tags keeps series NAME{tags} beside NAME (worker/vu.c); a selector merges
 * the series that carry its tags: cart has 20 values of 100 tagged kind=big and 80 of 1 tagged kind=small. */
START_TEST(custom_tag_selector) {
  static const eval_case cases[] = {
      {"cart p(95) < 10", 0, 100},           {"cart{kind=big} p(95) < 10", 0, 100},
      {"cart{kind:small} max < 10", 1, 1},   {"cart{env=ci} count == 100", 1, 100},
      {"cart{kind=none} count > 0", 0, NAN},
  };
  stats_interval *s;
  ck_assert_int_eq(stats_create(&s, 0, 1000), 0);
  for (int i = 0; i < 100; i++) {
    double v = i < 20 ? 100 : 1;
    metric_record(stats_metric_get(s, "cart", METRIC_TREND, NULL), v, 0);
    metric_record(
        stats_metric_get(s, i < 20 ? "cart{env=ci,kind=big}" : "cart{env=ci,kind=small}", METRIC_TREND, NULL),
        v, 0);
  }
  metric_record(stats_metric_get(s, "cartx{kind=big}", METRIC_TREND, NULL), 5, 0); /* another metric */
  for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) assert_eval(&cases[c], s, 1.0);
  stats_destroy(s);
  threshold one;
  char err[512];
  ck_assert_int_eq(thresholds_parse_one("cart{name=x} p(95) < 1", &one, err, sizeof err), -EINVAL);
}
END_TEST

START_TEST(delay_abort_eval) {
  stats_interval *s = known_stats();
  options o;
  thresholds *t;
  char err[512];
  memset(&o, 0, sizeof o);
  o.nthresholds = 1;
  snprintf(o.thresholds[0].expr, sizeof o.thresholds[0].expr, "errors count < 1");
  o.thresholds[0].abort_on_fail = 1;
  o.thresholds[0].delay_abort_ns = 10000000000LL;
  ck_assert_int_eq(thresholds_parse(&o, &t, err, sizeof err), 0);
  ck_assert_int_eq(thresholds_get(t, 0)->delay_abort_ns, 10000000000LL);
  ck_assert(!thresholds_should_abort(t, s, 9.9)); /* failing, but before delayAbortEval */
  ck_assert(!thresholds_get(t, 0)->evaluated);
  ck_assert(thresholds_should_abort(t, s, 10.0));
  thresholds_destroy(t);
  stats_destroy(s);
}
END_TEST

START_TEST(abort_json_junit) {
  stats_interval *s = known_stats();
  const char *exprs[] = {"p50 < 1ms", "errors count < 1", "rps > 1"};
  bool aborts[] = {false, true, false};
  thresholds *t;
  char err[512], path[] = "/tmp/loadctl-junit-XXXXXX", buf[4096];
  ck_assert_int_eq(thresholds_parse_list(exprs, aborts, 3, &t, err, sizeof err), 0);
  ck_assert(thresholds_should_abort(t, s, 2.0)); /* errors count 2 >= 1 */
  ck_assert(!thresholds_get(t, 0)->evaluated);   /* only abort_on_fail ones */
  ck_assert(!thresholds_eval(t, s, 2.0));
  json_t *j = verdict_json(t);
  ck_assert_uint_eq(json_array_size(j), 3);
  ck_assert(json_is_false(json_object_get(json_array_get(j, 0), "ok")));
  ck_assert(json_is_true(json_object_get(json_array_get(j, 2), "ok")));
  ck_assert_str_eq(json_string_value(json_object_get(json_array_get(j, 0), "expr")), "p50 < 1ms");
  ck_assert_double_eq_tol(json_real_value(json_object_get(json_array_get(j, 2), "value")), 100, 1e-9);
  json_decref(j);
  int fd = mkstemp(path);
  ck_assert_int_ge(fd, 0);
  close(fd);
  ck_assert_int_eq(verdict_write_junit(t, path), 0);
  FILE *f = fopen(path, "r");
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  buf[n] = 0;
  fclose(f);
  unlink(path);
  ck_assert_ptr_nonnull(strstr(buf, "<testsuite name=\"loadctl thresholds\" tests=\"3\" failures=\"2\">"));
  ck_assert_ptr_nonnull(strstr(buf, "name=\"p50 &lt; 1ms\">"));
  ck_assert_ptr_nonnull(strstr(buf, "<testcase classname=\"loadctl.thresholds\" name=\"rps &gt; 1\"/>"));
  thresholds_destroy(t);
  stats_destroy(s);
}
END_TEST

int main(void) {
  const TTest *tests[] = {parse_options_reports_first_bad,
                          abort_json_junit,
                          delay_abort_eval,
                          group_selector,
                          tag_selector,
                          custom_tag_selector};
  TCase *tc = check_case("thresholds", 0, tests, sizeof tests / sizeof tests[0]);
  tcase_add_loop_test(tc, parse_good, 0, sizeof good / sizeof good[0]);
  tcase_add_loop_test(tc, parse_bad, 0, sizeof bad / sizeof bad[0]);
  tcase_add_loop_test(tc, eval_table, 0, sizeof evals / sizeof evals[0]);
  return check_run(check_suite_of("thresholds", tc));
}
