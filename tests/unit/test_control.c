/* test_control.c - a users/rate change made while the run goes: the stages up to the change stay, the rest
 * ramp at spawn_rate and hold to the planned end; and the --web helpers (loopback check, token file). */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/executor.h"
#include "master/control.h"
#include "master/web.h"
#include "tests/support/checkrun.h"

#define S 1000000000LL

/* 10 s ramp to 100 users, 20 s hold: set 40 users at 15 s at once. */
START_TEST(jump_in_hold) {
  options_stage st[2] = {{.duration_ns = 10 * S, .target = 100}, {.duration_ns = 20 * S, .target = 100}};
  options_stage out[OPTIONS_MAX_STAGES];
  size_t n = 0;

  ck_assert_int_eq(control_override(st, 2, 15 * S, 40, 0, out, &n), 0);
  ck_assert_int_eq(n, 4); /* ramp, hold cut at 15 s, jump, hold */
  ck_assert_int_eq(executor_total_ns(out, n), 30 * S);
  ck_assert_double_eq_tol(executor_target_at(out, n, 5 * S), 50, 1e-9);       /* the past is unchanged */
  ck_assert_double_eq_tol(executor_target_at(out, n, 15 * S - 1), 100, 1e-6); /* up to the change */
  ck_assert_double_eq_tol(executor_target_at(out, n, 15 * S), 40, 1e-9);
  ck_assert_double_eq_tol(executor_target_at(out, n, 29 * S), 40, 1e-9);
}
END_TEST

/* In the middle of a ramp, at spawn_rate 10/s: from 50 (at 5 s) to 90 takes 4 s. */
START_TEST(ramp_at_spawn_rate) {
  options_stage st[2] = {{.duration_ns = 10 * S, .target = 100}, {.duration_ns = 20 * S, .target = 100}};
  options_stage out[OPTIONS_MAX_STAGES];
  size_t n = 0;

  ck_assert_int_eq(control_override(st, 2, 5 * S, 90, 10, out, &n), 0);
  ck_assert_int_eq(executor_total_ns(out, n), 30 * S);
  ck_assert_double_eq_tol(executor_target_at(out, n, 5 * S), 50, 1e-6);
  ck_assert_double_eq_tol(executor_target_at(out, n, 7 * S), 70, 1e-6);
  ck_assert_double_eq_tol(executor_target_at(out, n, 9 * S), 90, 1e-6);
  ck_assert_double_eq_tol(executor_target_at(out, n, 20 * S), 90, 1e-6);
}
END_TEST

/* A ramp longer than the time left stops where the run ends; an open model's arrivals so far stay. */
START_TEST(ramp_cut_at_end_and_arrivals_kept) {
  options_stage st[1] = {{.duration_ns = 10 * S, .target = 20}};
  options_stage out[OPTIONS_MAX_STAGES];
  size_t n = 0;

  ck_assert_int_eq(control_override(st, 1, 8 * S, 100, 5, out, &n), 0);
  ck_assert_int_eq(executor_total_ns(out, n), 10 * S);
  ck_assert_double_eq_tol(executor_arrivals_by(out, n, 8 * S), executor_arrivals_by(st, 1, 8 * S), 1e-6);
  ck_assert_double_eq_tol(executor_target_at(out, n, 10 * S), 16 + 10, 1e-6); /* 16 at 8 s, +5/s for 2 s */
}
END_TEST

START_TEST(refusals) {
  options_stage st[OPTIONS_MAX_STAGES] = {{.duration_ns = 10 * S, .target = 5}};
  options_stage out[OPTIONS_MAX_STAGES];
  size_t n = 0;

  ck_assert_int_eq(control_override(st, 1, 10 * S, 1, 0, out, &n), -ERANGE);
  ck_assert_int_eq(control_override(st, 1, 11 * S, 1, 0, out, &n), -ERANGE);
  ck_assert_int_eq(control_override(st, 1, 1 * S, -1, 0, out, &n), -EINVAL);
  for (int i = 0; i < OPTIONS_MAX_STAGES; i++) st[i] = (options_stage){.duration_ns = S, .target = i};
  ck_assert_int_eq(control_override(st, OPTIONS_MAX_STAGES - 1, S / 2, 1, 0, out, &n), -ENOSPC);
}
END_TEST

START_TEST(listen_loopback) {
  bool lo = false;
  ck_assert_int_eq(web_listen_is_loopback("8089", &lo), 0);
  ck_assert(lo);
  ck_assert_int_eq(web_listen_is_loopback("127.0.0.2:0", &lo), 0);
  ck_assert(lo);
  ck_assert_int_eq(web_listen_is_loopback("[::1]:80", &lo), 0);
  ck_assert(lo);
  ck_assert_int_eq(web_listen_is_loopback("localhost:80", &lo), 0);
  ck_assert(lo);
  ck_assert_int_eq(web_listen_is_loopback("0.0.0.0:80", &lo), 0);
  ck_assert(!lo);
  ck_assert_int_eq(web_listen_is_loopback("10.1.2.3:80", &lo), 0);
  ck_assert(!lo);
  ck_assert_int_eq(web_listen_is_loopback("x:y", &lo), -EINVAL);
  ck_assert_int_eq(web_listen_is_loopback("70000", &lo), -EINVAL);
}
END_TEST

static int load_token(const char *text, char *tok, char *err) {
  char path[] = "/tmp/loadctl-token-XXXXXX";
  int fd = mkstemp(path), rc;
  FILE *f = fdopen(fd, "w");
  fputs(text, f);
  fclose(f);
  rc = web_token_load(path, tok, 256, err, 512);
  unlink(path);
  return rc;
}

START_TEST(token_file) {
  char tok[256], err[512];
  ck_assert_int_eq(load_token("  0123456789abcdef0123\n", tok, err), 0);
  ck_assert_str_eq(tok, "0123456789abcdef0123");
  ck_assert_int_eq(load_token("short\n", tok, err), -EINVAL);
  ck_assert_msg(strstr(err, ":1: the token must be 16"), "%s", err);
  ck_assert_int_eq(load_token("0123456789 abcdef0123\n", tok, err), -EINVAL);
  ck_assert_int_eq(web_token_load("/nonexistent/token", tok, sizeof tok, err, sizeof err), -ENOENT);
  ck_assert_msg(strstr(err, "/nonexistent/token"), "%s", err);
}
END_TEST

CHECK_MAIN("control", 0, jump_in_hold, ramp_at_spawn_rate, ramp_cut_at_end_and_arrivals_kept, refusals,
           listen_loopback, token_file)
