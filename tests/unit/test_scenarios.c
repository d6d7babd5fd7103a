/* test_scenarios.c - options.scenarios: each executor's keys read into the stage list the runner follows
 * (timeUnit, startVUs, startRate, maxDuration, the pool defaults), entries sorted by name, mistakes named
 * with file:line; and the slice arithmetic: the parts of any tiling of workers add up to every total and
 * count scenarios' VU indexes are dense. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/k6exec.h"
#include "common/scenarios.h"
#include "tests/support/checkrun.h"
#include "tests/support/testopts.h"

START_TEST(all_six_executors) {
  const char *src =
      "options = { target = 'http://127.0.0.1:9', scenarios = {\n"
      "  f = { executor = 'constant-vus', vus = 3, duration = '10s', exec = 'go' },\n"
      "  e = { executor = 'ramping-vus', stages = { {duration = '5s', target = 4} } },\n"
      "  d = { executor = 'constant-arrival-rate', rate = 120, timeUnit = '1m', duration = '20s',\n"
      "        startTime = '30s', preAllocatedVUs = 2, maxVUs = 7 },\n"
      "  c = { executor = 'ramping-arrival-rate', startRate = 5, stages = { {duration = 4, target = 9} } },\n"
      "  b = { executor = 'shared-iterations', vus = 4, iterations = 10, max_duration = '1m' },\n"
      "  a = { executor = 'per-vu-iterations', vus = 2, iterations = 3, tags = { k = 'v' }, env = { X = 1 } "
      "},\n"
      "} }\n"
      "function go(vu, data) end\ntask(1, function() end)\n";
  options o;
  char err[512];
  ck_assert_msg(testopts_load(src, &o, err, sizeof err) == 0, "%s", err);
  ck_assert_int_eq(o.nscenarios, 6);
  const options_scenario *a = &o.scenarios[0], *b = &o.scenarios[1], *c = &o.scenarios[2],
                         *d = &o.scenarios[3], *e = &o.scenarios[4], *f = &o.scenarios[5];
  ck_assert_str_eq(a->name, "a"); /* sorted by name */
  ck_assert(a->iterations == 3 && a->iterations_per_vu && a->vus == 2 && a->duration_ns == TESTOPTS_S(600));
  ck_assert(b->iterations == 10 && !b->iterations_per_vu && b->vus == 4 && b->duration_ns == TESTOPTS_S(60));
  ck_assert_int_eq(c->model, OPTIONS_OPEN);
  ck_assert(c->nstages == 2 && c->stages[0].target == 5 && c->stages[1].target == 9);
  ck_assert(c->max_vus == 100 && c->pre_vus == 1);
  ck_assert(d->stages[0].target == 2 && d->stages[1].target == 2); /* 120 per minute */
  ck_assert(d->start_ns == TESTOPTS_S(30) && d->duration_ns == TESTOPTS_S(20) && d->max_vus == 7 &&
            d->pre_vus == 2);
  ck_assert(e->model == OPTIONS_CLOSED && e->stages[0].target == 1 &&
            e->stages[1].target == 4); /* startVUs 1 */
  ck_assert(f->vus == 3 && f->duration_ns == TESTOPTS_S(10));
  ck_assert_str_eq(f->exec, "go");
  ck_assert_str_eq(f->executor, "constant-vus");
  ck_assert_int_eq(o.duration_ns,
                   TESTOPTS_S(600)); /* the run: the last end (a's maxDuration, 10m by default) */
}
END_TEST

static const struct {
  const char *entry, *message;
} bad[] = {
    {"x = { executor = 'constant-users' }", "t.lua:3: scenario 'x': executor must be one of"},
    {"x = { executor = 'constant-vus', duration = '1s', rate = 5 }",
     "t.lua:3: scenario 'x': executor constant-vus takes no 'rate'"},
    {"x = { executor = 'constant-vus', duration = '1s', colour = 5 }",
     "t.lua:3: scenario 'x': unknown key 'colour'"},
    {"x = { executor = 'constant-vus' }", "t.lua:3: scenario 'x': constant-vus needs a duration above 0"},
    {"x = { executor = 'constant-arrival-rate', duration = '1s' }",
     "t.lua:3: scenario 'x': constant-arrival-rate needs rate"},
    {"x = { executor = 'ramping-vus' }", "t.lua:3: scenario 'x': ramping-vus needs stages"},
    {"x = { executor = 'ramping-vus', stages = { {target = 2} } }", "t.lua:3: scenario 'x': each stage is"},
    {"x = { executor = 'constant-vus', duration = '1s', exec = 'nope' }",
     "t.lua:3: scenario 'x': exec = \"nope\" names no global function"},
    {"x = { executor = 'constant-vus', duration = '1s', tags = { k = {} } }",
     "t.lua:3: scenario 'x': 'tags' must be a table of names to strings"},
    {"['a b'] = { executor = 'constant-vus', duration = '1s' }",
     "scenario 'a b': a scenario's name is 1 to 63"},
    {"x = { executor = 'constant-arrival-rate', rate = 1, duration = '1s', preAllocatedVUs = 9, maxVUs = 3 }",
     "t.lua:3: scenario 'x': preAllocatedVUs must not exceed maxVUs"},
};

START_TEST(bad_entries_name_file_line) {
  char src[512], err[512];
  options o;
  snprintf(src, sizeof src,
           "options = { target = 'http://127.0.0.1:9',\n  scenarios = {\n  %s,\n} }\n"
           "task(1, function() end)\n",
           bad[_i].entry);
  ck_assert_int_eq(testopts_load(src, &o, err, sizeof err), -EINVAL);
  ck_assert_msg(strstr(err, bad[_i].message), "%s: got '%s'", bad[_i].entry, err);
}
END_TEST

START_TEST(top_level_load_refused) {
  const char *src =
      "options = { users = 3,\n  scenarios = { x = { executor = 'constant-vus', duration = '1s' } } }\n"
      "task(1, function() end)\n";
  options o;
  char err[512];
  ck_assert_int_eq(testopts_load(src, &o, err, sizeof err), -EINVAL);
  ck_assert_str_eq(err,
                   "t.lua:1: option 'users' is the single-scenario shorthand: with options.scenarios each "
                   "scenario sets its own load");
  const char *no_tasks =
      "options = { scenarios = {\n  x = { executor = 'constant-vus', duration = '1s' } } }\n";
  ck_assert_int_eq(testopts_load(no_tasks, &o, err, sizeof err), -EINVAL);
  ck_assert_msg(strstr(err, "t.lua:2: scenario 'x' has no exec function and the file declares no task()"),
                "%s", err);
}
END_TEST

/* Worker slices of the given thread counts tile the run: every total splits exactly. */
START_TEST(parts_add_up) {
  static const int64_t threads[][5] = {{1, 1, 1, 0, 0}, {3, 1, 2, 2, 0}, {7, 5, 3, 1, 16}, {1, 0, 0, 0, 0}};
  static const int64_t totals[] = {0, 1, 2, 7, 300, 1000, 99991};
  for (size_t t = 0; t < sizeof threads / sizeof threads[0]; t++) {
    int64_t wsum = 0;
    for (int i = 0; i < 5; i++) wsum += threads[t][i];
    for (size_t k = 0; k < sizeof totals / sizeof totals[0]; k++) {
      int64_t sum = 0, before = 0;
      for (int i = 0; i < 5 && threads[t][i]; i++) {
        scenarios_slice s = {.before = before, .weight = threads[t][i], .wsum = wsum};
        ck_assert_int_eq(scenarios_before(totals[k], s),
                         sum); /* dense: each slice starts where the last ended */
        sum += scenarios_part(totals[k], s);
        before += threads[t][i];
      }
      ck_assert_int_eq(sum, totals[k]);
    }
  }
}
END_TEST

/* A shared-iterations scenario cut over 3 workers of 2, 1 and 3 threads: the VUs' quotas add up to it. */
START_TEST(shared_iterations_exact_over_slices) {
  options_scenario sc = {.model = OPTIONS_CLOSED, .vus = 10, .iterations = 1000, .nstages = 2};
  sc.stages[0] = (options_stage){0, 10};
  sc.stages[1] = (options_stage){TESTOPTS_S(60), 10};
  int64_t w[] = {2, 1, 3}, before = 0, iterations = 0, vus = 0;
  for (int i = 0; i < 3; i++) {
    scenarios_slice s = {.before = before, .weight = w[i], .wsum = 6};
    scenarios_share sh;
    scenarios_share_of(&sc, s, &sh);
    ck_assert_int_eq(sh.vus_before, vus);
    for (int64_t j = 0; j < (int64_t)sh.stages[1].target; j++)
      iterations += k6exec_share(sc.iterations, 0, 10, sh.vus_before + j);
    vus += (int64_t)sh.stages[1].target;
    ck_assert_int_eq(sh.peak, (int64_t)sh.stages[1].target);
    before += w[i];
  }
  ck_assert_int_eq(vus, 10);
  ck_assert_int_eq(iterations, 1000);
  /* an open scenario: rates to the hundredth, every slice gets at least one VU */
  options_scenario open = {.model = OPTIONS_OPEN, .max_vus = 2, .pre_vus = 1, .nstages = 2};
  open.stages[0] = (options_stage){0, 50};
  open.stages[1] = (options_stage){TESTOPTS_S(4), 50};
  double rate = 0;
  before = 0;
  for (int i = 0; i < 3; i++) {
    scenarios_share sh;
    scenarios_share_of(&open, (scenarios_slice){.before = before, .weight = w[i], .wsum = 6}, &sh);
    rate += sh.stages[1].target;
    ck_assert_int_ge(sh.max_vus, 1);
    before += w[i];
  }
  ck_assert_double_eq_tol(rate, 50, 1e-9);
}
END_TEST

/* A rate per timeUnit beyond int64 per second (fuzz_options): the pool's defaults stop at OPTIONS_MAX_VUS
 * (the ceil of the rate was converted to int64, undefined behaviour). */
START_TEST(huge_rate_pool_bounded) {
  const char *src =
      "options = { scenarios = { a = { executor = 'constant-arrival-rate', rate = 1e11,\n"
      "  timeUnit = 1e-9, duration = '1s' } } }\ntask(1, function() end)\n";
  options o;
  char err[512];
  ck_assert_msg(testopts_load(src, &o, err, sizeof err) == 0, "%s", err);
  ck_assert_int_eq(o.nscenarios, 1);
  ck_assert_int_eq(o.scenarios[0].max_vus, OPTIONS_MAX_VUS);
  ck_assert_int_eq(o.scenarios[0].pre_vus, OPTIONS_MAX_VUS / 100);
}
END_TEST

int main(void) {
  const TTest *tests[] = {all_six_executors, top_level_load_refused, parts_add_up,
                          shared_iterations_exact_over_slices, huge_rate_pool_bounded};
  TCase *tc = check_case("scenarios", 0, tests, sizeof tests / sizeof tests[0]);
  tcase_add_loop_test(tc, bad_entries_name_file_line, 0, (int)(sizeof bad / sizeof bad[0]));
  return check_run(check_suite_of("scenarios", tc));
}
