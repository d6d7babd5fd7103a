/* test_options.c - the scenario options loader: a good scenario read into struct options, and every
 * bad input rejected with the exact file:line message a person sees from `loadctl check`. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/options.h"
#include "tests/support/checkrun.h"
#include "tests/support/testopts.h"

START_TEST(good_closed_scenario) {
  const char *src =
      "local base = 'http://127.0.0.1:9'\n"
      "options = {\n"
      "  target = base, users = 50, spawn_rate = 10, duration = '1m',\n"
      "  thresholds = { ['p99{name=POST /api/orders}'] = '< 250ms',\n"
      "                 { threshold = 'p95 < 1s', abort_on_fail = true } },\n"
      "  profile = { { source = 'pprof', url = 'http://127.0.0.1:6060/debug/pprof/profile', window = '5s' }, "
      "    { source = 'pprof', type = 'goroutine', url = 'http://127.0.0.1:6060/debug/pprof/goroutine' } "
      "},\n"
      "  http = 'h1', timeout = 2.5, think = { min = 0.5, max = 1 }, name = 'shop',\n"
      "}\n"
      "task(5, function(vu) http.get('/') end)\n"
      "task(1, function(vu) end, 'second')\n";
  options o;
  char err[512];
  ck_assert_int_eq(testopts_load(src, &o, err, sizeof err), 0);
  ck_assert_str_eq(o.target, "http://127.0.0.1:9");
  ck_assert_str_eq(o.name, "shop");
  ck_assert_int_eq(o.model, OPTIONS_CLOSED);
  ck_assert(o.users == 50 && o.spawn_rate == 10);
  ck_assert_int_eq(o.duration_ns, TESTOPTS_S(60));
  ck_assert_int_eq(o.timeout_ns, TESTOPTS_S(2.5));
  ck_assert_int_eq(o.think_min_ns, TESTOPTS_S(0.5));
  ck_assert_int_eq(o.think_max_ns, TESTOPTS_S(1));
  ck_assert_int_eq(o.http_backend, 1);
  ck_assert_int_eq(o.h2_connections, 1); /* the default */
  ck_assert_int_eq(testopts_load("options = { http = 'h2', h2_connections = 50 }\ntask(1, function() end)\n",
                                 &o, err, sizeof err),
                   0);
  ck_assert_int_eq(o.http_backend, 3);
  ck_assert_int_eq(o.h2_connections, 50);
  ck_assert_int_eq(testopts_load(src, &o, err, sizeof err), 0);
  ck_assert_uint_eq(o.ntasks, 2);
  ck_assert_uint_eq(o.nthresholds, 2);
  int found = 0;
  for (size_t i = 0; i < o.nthresholds; i++) {
    if (!strcmp(o.thresholds[i].expr, "p99{name=POST /api/orders} < 250ms"))
      found |= 1, ck_assert(!o.thresholds[i].abort_on_fail);
    if (!strcmp(o.thresholds[i].expr, "p95 < 1s")) found |= 2, ck_assert(o.thresholds[i].abort_on_fail);
  }
  ck_assert_int_eq(found, 3);
  ck_assert_uint_eq(o.nprofiles, 2);
  ck_assert_str_eq(o.profiles[0].source, "pprof");
  ck_assert_int_eq(o.profiles[0].window_ns, TESTOPTS_S(5));
  ck_assert_int_eq(o.profiles[1].window_ns, TESTOPTS_S(1)); /* pprof default */
  ck_assert_int_eq(o.interval_ns, TESTOPTS_S(1));           /* default */
}
END_TEST

START_TEST(good_open_stages) {
  const char *src =
      "options = { rate = 100, stages = { {duration = '10s', rate = 2000}, {duration = 20, target = 500} },\n"
      "  thresholds = { errors = 'rate < 1%' } }\n"
      "task(1, function() end)\n";
  options o;
  char err[512];
  ck_assert_int_eq(testopts_load(src, &o, err, sizeof err), 0);
  ck_assert_int_eq(o.model, OPTIONS_OPEN);
  ck_assert_uint_eq(o.nstages, 2);
  ck_assert(o.stages[0].target == 2000 && o.stages[1].target == 500);
  ck_assert_int_eq(o.stages[1].duration_ns, TESTOPTS_S(20));
  ck_assert_int_eq(o.duration_ns, TESTOPTS_S(30));
  ck_assert_int_eq(o.max_vus, 2000); /* default: the peak rate */
  ck_assert_int_eq(o.pre_vus, 20);   /* default: 10 ms of the peak rate */
  ck_assert_str_eq(o.thresholds[0].expr, "errors rate < 1%");
  ck_assert_str_eq(o.name, "t");
}
END_TEST

START_TEST(pre_allocated_vus) {
  options o;
  char err[512];
  ck_assert_int_eq(
      testopts_load("options = { rate = 1000, pre_allocated_vus = 300 }\ntask(1, function() end)\n", &o, err,
                    sizeof err),
      0);
  ck_assert_int_eq(o.pre_vus, 300);
  ck_assert_int_eq(o.max_vus, 1000);
  /* like k6, max_vus defaults up to pre_allocated_vus */
  ck_assert_int_eq(
      testopts_load("options = { rate = 1000, pre_allocated_vus = 2500 }\ntask(1, function() end)\n", &o, err,
                    sizeof err),
      0);
  ck_assert_int_eq(o.max_vus, 2500);
  ck_assert_int_eq(
      testopts_load("options = { rate = 1, duration = 1 }\ntask(1, function() end)\n", &o, err, sizeof err),
      0);
  ck_assert_int_eq(o.pre_vus, 1); /* at least one */
  ck_assert_int_eq(
      testopts_load("options = { users = 5, duration = 1 }\ntask(1, function() end)\n", &o, err, sizeof err),
      0);
  ck_assert_int_eq(o.pre_vus, 0); /* closed model: none */
  ck_assert_int_eq(
      testopts_load(
          "options = { rate = 100, max_vus = 50, pre_allocated_vus = 60 }\ntask(1, function() end)\n", &o,
          err, sizeof err),
      -EINVAL);
  ck_assert_ptr_nonnull(strstr(err, "option 'pre_allocated_vus' (60) must not exceed max_vus (50)"));
}
END_TEST

START_TEST(list_thresholds_and_scalars) {
  const char *src =
      "options = { rate = 10, max_vus = 5, duration = 3, interval = '2s', think = 0.25,\n"
      "  max_body = 1000, insecure_tls = true,\n"
      "  thresholds = { 'p99 < 250ms', { threshold = 'errors rate < 1%', abort_on_fail = true } } }\n"
      "task(function() end)\n";
  options o;
  char err[512];
  ck_assert_msg(testopts_load(src, &o, err, sizeof err) == 0, "%s", err);
  ck_assert_int_eq(o.model, OPTIONS_OPEN);
  ck_assert_int_eq(o.max_vus, 5);
  ck_assert_int_eq(o.duration_ns, TESTOPTS_S(3));
  ck_assert_int_eq(o.interval_ns, TESTOPTS_S(2));
  ck_assert_int_eq(o.think_min_ns, TESTOPTS_S(0.25));
  ck_assert_int_eq(o.think_max_ns, TESTOPTS_S(0.25));
  ck_assert_int_eq(o.max_body, 1000);
  ck_assert_int_eq(o.insecure_tls, 1);
  ck_assert_uint_eq(o.ntasks, 1);
  ck_assert_uint_eq(o.nthresholds, 2);
  ck_assert_str_eq(o.thresholds[0].expr, "p99 < 250ms");
  ck_assert_int_eq(o.thresholds[0].abort_on_fail, 0);
  ck_assert_str_eq(o.thresholds[1].expr, "errors rate < 1%");
  ck_assert_int_eq(o.thresholds[1].abort_on_fail, 1);
}
END_TEST

/* Each bad input and the exact message it must produce. */
static const struct {
  const char *src, *msg;
} bad[] = {
    {"options = {\n  target = 'http://127.0.0.1:1',\n  user = 10,\n}\ntask(1, function() end)\n",
     "t.lua:3: unknown option 'user' (did you mean 'users'?)"},
    {"options = {\n  users = 'ten',\n}\ntask(1, function() end)\n",
     "t.lua:2: option 'users' must be a number, not a string (users = ten)"},
    {"options = { users = 1 }\n",
     "t.lua:1: no tasks: declare at least one with task(weight, function(vu) ... end)"},
    {"options = { users = 1 \ntask(1, function() end)\n",
     "t.lua:2: '}' expected (to close '{' at line 1) near 'task'"},
    {"\n\noptions = { duration = 'soon' }\ntask(1, function() end)\n",
     "t.lua:3: option 'duration': 'soon' is not a duration (use e.g. \"250ms\", \"1m30s\", \"2h\")"},
    {"options = { http = 'h3' }\ntask(1, function() end)\n",
     "t.lua:1: option 'http' must be \"auto\", \"h1\", \"h2\" or \"curl\", not \"h3\""},
    {"options = { http = 'h2', h2_connections = 0 }\ntask(1, function() end)\n",
     "t.lua:1: option 'h2_connections' must be a whole number from 1 to 1024 (got 0)"},
    {"options = { target = 'ftp://x' }\ntask(1, function() end)\n",
     "t.lua:1: option 'target' must start with http:// or https:// (got \"ftp://x\")"},
    {"options = { zzzzzz = 1 }\ntask(1, function() end)\n", "t.lua:1: unknown option 'zzzzzz'"},
    {"options = {\n  profile = {\n    { url = 'http://127.0.0.1:1/p' },\n    { source = 'nonsense', url = "
     "'x' },\n"
     "  },\n}\ntask(1, function() end)\n",
     "t.lua:4: profile[2]: unknown source 'nonsense' (use \"pprof\", \"command\" or \"file\"; see "
     "docs/profiling.md)"},
    {"options = {\n  profile = { { source = 'pyroscope', url = 'http://127.0.0.1:4040' } },\n}\ntask(1, "
     "function() end)\n",
     "t.lua:2: profile[1]: unknown source 'pyroscope' (use \"pprof\", \"command\" or \"file\"; see "
     "docs/profiling.md)"},
    {"options = {\n  thresholds = {\n    p95 = '< 1s',\n    http_req_duration = { 'p(95) < 1', 7 },\n  "
     "},\n}\n"
     "task(1, function() end)\n",
     "t.lua:4: thresholds['http_req_duration'][2] must be a string or {threshold = \"...\"}"},
    {"options = {\n  thresholds = {\n    p95 = { abortOnFail = true },\n  },\n}\ntask(1, function() end)\n",
     "t.lua:3: thresholds['p95'] must be a string like \"< 250ms\""},
};

START_TEST(bad_input_names_file_line) {
  options o;
  char err[512];
  memset(&o, 0x5a, sizeof o);
  ck_assert_int_eq(testopts_load(bad[_i].src, &o, err, sizeof err), -EINVAL);
  ck_assert_str_eq(err, bad[_i].msg);
}
END_TEST

/* k6's spellings: abortOnFail, delayAbortEval, list entries as tables; each threshold knows its line. */
START_TEST(k6_threshold_forms) {
  const char *src =
      "options = {\n"
      "  thresholds = {\n"
      "    checks = 'rate > 0.9',\n"
      "    http_req_duration = {\n"
      "      { threshold = 'p(95) < 200', abortOnFail = true, delayAbortEval = '10s' },\n"
      "    },\n"
      "  },\n"
      "}\n"
      "task(1, function() end)\n";
  options o;
  char err[512];
  int seen = 0;
  ck_assert_msg(testopts_load(src, &o, err, sizeof err) == 0, "%s", err);
  ck_assert_uint_eq(o.nthresholds, 2);
  for (size_t i = 0; i < o.nthresholds; i++) {
    const options_threshold *t = &o.thresholds[i];
    if (!strcmp(t->expr, "checks rate > 0.9")) {
      seen |= 1;
      ck_assert_int_eq(t->abort_on_fail, 0);
      ck_assert_int_eq(t->line, 3);
    } else if (!strcmp(t->expr, "http_req_duration p(95) < 200")) {
      seen |= 2;
      ck_assert_int_eq(t->abort_on_fail, 1);
      ck_assert_int_eq(t->delay_abort_ns, TESTOPTS_S(10));
      ck_assert_int_eq(t->line, 4);
    }
  }
  ck_assert_int_eq(seen, 3);
}
END_TEST

START_TEST(top_level_http_refused) {
  options o;
  char err[512];
  ck_assert_int_eq(
      testopts_load("options = {}\nhttp.get('/x')\ntask(1, function() end)\n", &o, err, sizeof err), -EINVAL);
  ck_assert_ptr_nonnull(strstr(err, "t.lua:2:"));
  ck_assert_ptr_nonnull(strstr(err, "cannot run while the scenario is loading"));
}
END_TEST

/* fuzz_options: max_vus = 5.8e118 was converted to int64 (undefined); such counts are refused, saying so. */
START_TEST(huge_counts_refused) {
  static options o;
  char err[512];
  const char *keys[] = {"max_vus", "pre_allocated_vus", "max_body"};
  for (int i = 0; i < 3; i++) {
    char src[256];
    snprintf(src, sizeof src, "options = {rate = 10, %s = 5.8e118}\ntask(1, function(vu) end)\n", keys[i]);
    ck_assert_int_ne(testopts_load(src, &o, err, sizeof err), 0);
    ck_assert_msg(strstr(err, "t.lua:1:") && strstr(err, "must be at most 10000000"), "%s", err);
  }
  ck_assert_int_eq(testopts_load("options = {rate = 10, max_vus = 10000000}\ntask(1, function(vu) end)\n", &o,
                                 err, sizeof err),
                   0);
  ck_assert_int_eq(o.max_vus, 10000000);
}
END_TEST

/* A rate, a stage rate or a user count beyond int64 (fuzz_options; tests/fuzz/regressions/options/):
 * max_vus defaults to the peak only up to OPTIONS_MAX_VUS and pre_allocated_vus to at most that; the ceil of
 * the peak was converted to int64 (undefined behaviour). */
START_TEST(huge_rate_bounds_vus) {
  static options o;
  char err[512];
  const char *open = "options = {rate = 6.9e57, duration = '1s'}\ntask(1, function(vu) end)\n";
  const char *closed = "options = {users = 6.9e57, duration = '1s'}\ntask(1, function(vu) end)\n";
  const char *stage =
      "options = {max_vus = 50, stages = {{duration = '5s', rate = 100}, {duration = '10s', "
      "rate = 1.1e78}}}\ntask(1, function(vu) end)\n";
  ck_assert_msg(testopts_load(open, &o, err, sizeof err) == 0, "%s", err);
  ck_assert_int_eq(o.max_vus, OPTIONS_MAX_VUS);
  ck_assert_int_eq(o.pre_vus, OPTIONS_MAX_VUS);
  ck_assert_msg(testopts_load(closed, &o, err, sizeof err) == 0, "%s", err);
  ck_assert_int_eq(o.pre_vus, 0);
  ck_assert_msg(testopts_load(stage, &o, err, sizeof err) == 0, "%s", err);
  ck_assert_int_eq(o.max_vus, 50);
  ck_assert_int_eq(o.pre_vus, 50);
  ck_assert_int_eq(testopts_load("options = {rate = 250000, duration = '1s'}\ntask(1, function(vu) end)\n",
                                 &o, err, sizeof err),
                   0);
  ck_assert_int_eq(o.max_vus, 250000);
  ck_assert_int_eq(o.pre_vus, 2500);
}
END_TEST

START_TEST(missing_file) {
  options o;
  char err[512];
  ck_assert_int_eq(options_load_file("/nonexistent/x.lua", &o, err, sizeof err), -ENOENT);
  ck_assert_str_eq(err, "/nonexistent/x.lua: cannot open scenario: No such file or directory");
}
END_TEST

/* start_users / start_rate: a zero-length first stage at that target (stages ramp from it, not from 0),
 * the duration unchanged; misuse is an error naming the line. */
START_TEST(start_users_and_rate) {
  options o;
  char err[512];
  const char *open_src =
      "options = { start_rate = 50, max_vus = 10,\n"
      "  stages = { {duration = '20s', rate = 50}, {duration = '5s', rate = 500} } }\n"
      "task(1, function() end)\n";
  ck_assert_msg(testopts_load(open_src, &o, err, sizeof err) == 0, "%s", err);
  ck_assert_int_eq(o.model, OPTIONS_OPEN);
  ck_assert_uint_eq(o.nstages, 3);
  ck_assert_int_eq(o.stages[0].duration_ns, 0);
  ck_assert(o.stages[0].target == 50 && o.stages[1].target == 50 && o.stages[2].target == 500);
  ck_assert_int_eq(o.duration_ns, TESTOPTS_S(25));
  const char *closed_src =
      "options = { start_users = 5, stages = { {duration = '10s', users = 20} } }\n"
      "task(1, function() end)\n";
  ck_assert_msg(testopts_load(closed_src, &o, err, sizeof err) == 0, "%s", err);
  ck_assert(o.model == OPTIONS_CLOSED && o.nstages == 2 && o.stages[0].target == 5 &&
            o.stages[1].target == 20);
  const char *no_stages =
      "options = {\n  start_rate = 5, rate = 10, duration = '1s' }\ntask(1, function() end)\n";
  ck_assert_int_eq(testopts_load(no_stages, &o, err, sizeof err), -EINVAL);
  ck_assert_str_eq(err, "t.lua:2: option 'start_rate' is where stages start from: it needs stages=");
  const char *wrong_model =
      "options = { start_users = 5,\n  stages = { {duration = '10s', rate = 20} } }\n"
      "task(1, function() end)\n";
  ck_assert_int_eq(testopts_load(wrong_model, &o, err, sizeof err), -EINVAL);
  ck_assert_msg(strstr(err, "t.lua:") && strstr(err, "use start_rate"), "%s", err);
}
END_TEST

int main(void) {
  const TTest *tests[] = {good_closed_scenario, good_open_stages,       list_thresholds_and_scalars,
                          pre_allocated_vus,    top_level_http_refused, k6_threshold_forms,
                          missing_file,         huge_counts_refused,    start_users_and_rate,
                          huge_rate_bounds_vus};
  TCase *tc = check_case("options", 0, tests, sizeof tests / sizeof tests[0]);
  tcase_add_loop_test(tc, bad_input_names_file_line, 0, (int)(sizeof bad / sizeof bad[0]));
  return check_run(check_suite_of("options", tc));
}
