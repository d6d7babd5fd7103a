/* test_executor.c - the load models' maths: ramps, spawn rate, thread shares, exact arrival times. */
#include <check.h>
#include <math.h>
#include <stdlib.h>

#include "common/executor.h"
#include "tests/support/checkrun.h"

#define S(sec) ((int64_t)((sec)*1e9))

START_TEST(constant_rate_exact_count) {
  options_stage st[2] = {{0, 5000}, {S(10), 5000}};
  int64_t k = 0, last = -1;
  while (executor_arrival_ns(st, 2, k) >= 0) {
    int64_t at = executor_arrival_ns(st, 2, k);
    ck_assert_int_ge(at, last);
    last = at;
    k++;
  }
  ck_assert_int_eq(k, 50000);
  ck_assert_int_eq(executor_arrival_ns(st, 2, 0), 0);
  ck_assert_int_eq(executor_arrival_ns(st, 2, 5000), S(1));
  ck_assert_int_eq(executor_arrival_ns(st, 2, 1), 200000); /* 1/5000 s */
}
END_TEST

START_TEST(ramp_arrivals_follow_integral) {
  /* 0 -> 100/s over 10 s: 500 arrivals; the k-th at sqrt(2k/10) s. */
  options_stage st[1] = {{S(10), 100}};
  int64_t k = 0;
  while (executor_arrival_ns(st, 1, k) >= 0) k++;
  ck_assert_int_eq(k, 500);
  ck_assert(llabs(executor_arrival_ns(st, 1, 125) - S(5)) < 1000);
  ck_assert(fabs(executor_arrivals_by(st, 1, S(5)) - 125.0) < 1e-6);
  ck_assert(fabs(executor_arrivals_by(st, 1, S(20)) - 500.0) < 1e-6);
}
END_TEST

START_TEST(stages_of_rates) {
  /* 10 s at 50/s (jump), 5 s ramp to 500/s, 10 s at 500/s: 500 + 1375 + 5000 arrivals. */
  options_stage st[4] = {{0, 50}, {S(10), 50}, {S(5), 500}, {S(10), 500}};
  int64_t k = 0;
  while (executor_arrival_ns(st, 4, k) >= 0) k++;
  ck_assert_int_eq(k, 6875);
  ck_assert_int_eq(executor_total_ns(st, 4), S(25));
  ck_assert(fabs(executor_target_at(st, 4, S(12.5)) - 275.0) < 1e-9);
}
END_TEST

START_TEST(users_ramp_and_spawn_rate) {
  options_stage st[3] = {{S(10), 100}, {S(10), 100}, {S(5), 0}};
  double allowed = 0;
  ck_assert(fabs(executor_target_at(st, 3, S(5)) - 50.0) < 1e-9);
  ck_assert(fabs(executor_target_at(st, 3, S(15)) - 100.0) < 1e-9);
  ck_assert(fabs(executor_target_at(st, 3, S(22.5)) - 50.0) < 1e-9);
  ck_assert(fabs(executor_target_at(st, 3, S(30)) - 0.0) < 1e-9);
  /* spawn rate 10/s toward 50 users: 10 after 1 s, 50 after 5 s, never above the target */
  int64_t users = 0;
  for (int tick = 0; tick < 50; tick++) users = executor_spawn_step(&allowed, 50, 10, 0.02);
  ck_assert_int_eq(users, 10);
  for (int tick = 0; tick < 200; tick++) users = executor_spawn_step(&allowed, 50, 10, 0.02);
  ck_assert_int_eq(users, 50);
  ck_assert_int_eq(executor_spawn_step(&allowed, 20, 10, 0.02), 20); /* falling target: immediate */
  ck_assert_int_eq(executor_spawn_step(&allowed, 70, 0, 0.02), 70);  /* no spawn rate: jump */
}
END_TEST

START_TEST(thread_shares_are_exact) {
  int64_t sum = 0;
  for (int i = 0; i < 3; i++) sum += executor_share(7, 3, i);
  ck_assert_int_eq(sum, 7);
  ck_assert_int_eq(executor_share(7, 3, 0), 3);
  ck_assert_int_eq(executor_share(7, 3, 2), 2);
  ck_assert_int_eq(executor_share(2, 4, 3), 0);
  ck_assert_int_eq(executor_share(5, 0, 0), 0);
}
END_TEST

/* User numbers: lowest free first, given back on exit, so ids stay 1..N across stops and starts. */
START_TEST(slots_stay_dense) {
  executor_slots s = {0};
  for (int64_t k = 0; k < 100; k++) ck_assert_int_eq(executor_slot_take(&s), k);
  executor_slot_put(&s, 42);
  executor_slot_put(&s, 7);
  executor_slot_put(&s, 7);    /* twice: ignored */
  executor_slot_put(&s, 1000); /* never taken: ignored */
  ck_assert_int_eq(executor_slot_take(&s), 7);
  ck_assert_int_eq(executor_slot_take(&s), 42);
  ck_assert_int_eq(executor_slot_take(&s), 100);
  executor_slots_free(&s);
  ck_assert_ptr_null(s.used);
}
END_TEST

CHECK_MAIN("executor", 0, constant_rate_exact_count, ramp_arrivals_follow_integral, stages_of_rates,
           users_ramp_and_spawn_rate, thread_shares_are_exact, slots_stay_dense)
