/* test_plan.c - the plan's exact splits: the numbers the issue names, weighted splits, stage scaling. */
#include <check.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "master/plan.h"
#include "tests/support/checkrun.h"

START_TEST(users_7_over_5) {
  int w[5] = {4, 4, 4, 4, 4};
  double out[5];
  ck_assert_int_eq(plan_split_users(7, w, 5, out), 0);
  ck_assert(out[0] == 2 && out[1] == 2 && out[2] == 1 && out[3] == 1 && out[4] == 1);
}
END_TEST

START_TEST(rate_1000_over_3) {
  int w[3] = {2, 2, 2};
  double out[3];
  ck_assert_int_eq(plan_split_rate(1000, w, 3, out), 0);
  ck_assert_double_eq_tol(out[0], 333.34, 1e-9);
  ck_assert_double_eq_tol(out[1], 333.33, 1e-9);
  ck_assert_double_eq_tol(out[2], 333.33, 1e-9);
  ck_assert_int_eq(llround((out[0] + out[1] + out[2]) * 100), 100000);
}
END_TEST

START_TEST(weighted_by_threads) {
  int w[3] = {1, 2, 5}; /* 8 threads: 100 users -> 12.5, 25, 62.5 */
  int64_t out[3];
  ck_assert_int_eq(plan_split(100, w, 3, out), 0);
  /* floors 12, 25, 62 = 99; remainders 4, 0, 4 (of 8): tie -> lower index gets the unit */
  ck_assert_int_eq(out[0], 13);
  ck_assert_int_eq(out[1], 25);
  ck_assert_int_eq(out[2], 62);
}
END_TEST

START_TEST(zero_weight_gets_nothing) {
  int w[3] = {0, 3, 1};
  int64_t out[3];
  ck_assert_int_eq(plan_split(5, w, 3, out), 0);
  ck_assert_int_eq(out[0], 0);
  ck_assert_int_eq(out[1], 4); /* 3.75 -> 3 + remainder */
  ck_assert_int_eq(out[2], 1);
}
END_TEST

START_TEST(fewer_units_than_workers) {
  int w[4] = {1, 1, 1, 1};
  int64_t out[4];
  ck_assert_int_eq(plan_split(2, w, 4, out), 0);
  ck_assert(out[0] == 1 && out[1] == 1 && out[2] == 0 && out[3] == 0);
  ck_assert_int_eq(plan_split(0, w, 4, out), 0);
  ck_assert(out[0] == 0 && out[3] == 0);
}
END_TEST

START_TEST(exact_totals_random) {
  srand(7);
  for (int round = 0; round < 2000; round++) {
    size_t n = 1 + (size_t)(rand() % 40);
    int w[40];
    int64_t out[40], total = rand() % 100000, sum = 0;
    for (size_t i = 0; i < n; i++) w[i] = rand() % 64;
    ck_assert_int_eq(plan_split(total, w, n, out), 0);
    for (size_t i = 0; i < n; i++) sum += out[i];
    ck_assert_int_eq(sum, total);
  }
}
END_TEST

START_TEST(bad_input) {
  int w[2] = {1, -1};
  int64_t out[2];
  ck_assert_int_eq(plan_split(10, w, 0, out), -EINVAL);
  ck_assert_int_eq(plan_split(-1, NULL, 2, out), -EINVAL);
  ck_assert_int_eq(plan_split(10, w, 2, out), -EINVAL);
}
END_TEST

START_TEST(share_scales_stages) {
  options o;
  int w[3] = {1, 1, 1};
  double users = 0, st0 = 0, st1 = 0;
  memset(&o, 0, sizeof o);
  o.model = OPTIONS_CLOSED;
  o.users = 10;
  o.spawn_rate = 5;
  o.max_vus = 0;
  o.nstages = 2;
  o.stages[0].target = 7;
  o.stages[1].target = 0;
  for (size_t i = 0; i < 3; i++) {
    options s;
    ck_assert_int_eq(plan_share(&o, w, 3, i, &s), 0);
    users += s.users;
    st0 += s.stages[0].target;
    st1 += s.stages[1].target;
    if (i == 0) {
      ck_assert_double_eq(s.users, 4);
      ck_assert_double_eq(s.stages[0].target, 3);
      ck_assert_double_eq_tol(s.spawn_rate, 1.67, 1e-9);
    }
  }
  ck_assert_double_eq(users, 10);
  ck_assert_double_eq(st0, 7);
  ck_assert_double_eq(st1, 0);
}
END_TEST

/* VU ids laid end to end: each worker's peak share, no gap, no overlap. */
START_TEST(vu_bases_dense) {
  options o;
  int64_t base[3], peak[3];
  int w[3] = {2, 2, 2};
  memset(&o, 0, sizeof o);
  o.model = OPTIONS_CLOSED;
  o.users = 7;
  o.nstages = 2;
  o.stages[0] = (options_stage){1000, 20}; /* a peak of 20 users: 7,7,6 */
  o.stages[1] = (options_stage){1000, 5};
  ck_assert_int_eq(plan_vu_bases(&o, w, 3, base, peak), 0);
  ck_assert_int_eq(peak[0], 7);
  ck_assert_int_eq(peak[1], 7);
  ck_assert_int_eq(peak[2], 6);
  ck_assert_int_eq(base[0], 0);
  ck_assert_int_eq(base[1], 7);
  ck_assert_int_eq(base[2], 14);
  o.model = OPTIONS_OPEN;
  o.max_vus = 2; /* fewer VUs than workers: plan_share gives each at least one */
  ck_assert_int_eq(plan_vu_bases(&o, w, 3, base, peak), 0);
  ck_assert_int_eq(peak[0] + peak[1] + peak[2], 3);
  ck_assert_int_eq(base[2], 2);
  ck_assert_int_eq(plan_vu_bases(&o, w, 0, base, peak), -EINVAL);
}
END_TEST

START_TEST(share_open_model) {
  options o, s;
  int w[3] = {4, 4, 4};
  memset(&o, 0, sizeof o);
  o.model = OPTIONS_OPEN;
  o.rate = 1000;
  o.max_vus = 100;
  o.nstages = 1;
  o.stages[0].target = 1000;
  ck_assert_int_eq(plan_share(&o, w, 3, 0, &s), 0);
  ck_assert_double_eq_tol(s.rate, 333.34, 1e-9);
  ck_assert_double_eq_tol(s.stages[0].target, 333.34, 1e-9);
  ck_assert_int_eq(s.max_vus, 34);
  ck_assert_int_eq(plan_share(&o, w, 3, 2, &s), 0);
  ck_assert_double_eq_tol(s.stages[0].target, 333.33, 1e-9);
  ck_assert_int_eq(s.max_vus, 33);
  ck_assert_int_eq(plan_share(&o, w, 3, 3, &s), -EINVAL);
}
END_TEST

CHECK_MAIN("plan", 0, users_7_over_5, rate_1000_over_3, weighted_by_threads, zero_weight_gets_nothing,
           fewer_units_than_workers, exact_totals_random, bad_input, share_scales_stages, share_open_model,
           vu_bases_dense)
