/* test_clock.c - the time sources and the duration / fraction parsers scenario options depend on. */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/clock.h"
#include "tests/support/checkrun.h"

START_TEST(time_sources) {
  struct timespec pause = {0, 20 * 1000 * 1000};
  int64_t prev = clock_mono_ns();
  for (int i = 0; i < 100000; i++) {
    int64_t now = clock_mono_ns();
    ck_assert_int_ge(now, prev);
    prev = now;
  }
  int64_t before = clock_mono_ns();
  nanosleep(&pause, NULL);
  int64_t slept = clock_mono_ns() - before;
  ck_assert_int_ge(slept, 20 * 1000 * 1000);
  ck_assert_int_lt(slept, 2000LL * 1000 * 1000);
  int64_t wall = clock_wall_ns();
  int64_t unix_s = (int64_t)time(NULL);
  ck_assert_int_le(llabs(wall / 1000000000LL - unix_s), 1);
}
END_TEST

static int64_t parse_ok(const char *text) {
  int64_t ns = -1;
  ck_assert_msg(clock_parse_duration(text, &ns) == 0, "'%s' rejected", text);
  return ns;
}

START_TEST(durations) {
  ck_assert_int_eq(parse_ok("250ms"), 250000000LL);
  ck_assert_int_eq(parse_ok("1m30s"), 90000000000LL);
  ck_assert_int_eq(parse_ok("2h"), 7200000000000LL);
  ck_assert_int_eq(parse_ok("1.5s"), 1500000000LL);
  ck_assert_int_eq(parse_ok("500us"), 500000LL);
  ck_assert_int_eq(parse_ok("100ns"), 100LL);
  ck_assert_int_eq(parse_ok("10"), 10000000000LL); /* bare number: seconds */
  ck_assert_int_eq(parse_ok("1d"), 86400000000000LL);
  ck_assert_int_eq(parse_ok("1h2m3s"), 3723000000000LL);
  ck_assert_int_eq(parse_ok("0"), 0);
  ck_assert_int_eq(parse_ok(" 5s "), 5000000000LL);
  ck_assert_int_eq(parse_ok("1.000000001s"), 1000000001LL);
  ck_assert_int_eq(parse_ok("0.5ms"), 500000LL);
}
END_TEST

START_TEST(durations_rejected) {
  static const char *const bad[] = {"",      "   ", "-1s",    "+1s",     "5 s", "1m30", "ms", ".",     "5min",
                                    "10sec", "1x",  "1e400s", "106751d", "nan", "inf",  "s5", "1h 30m"};
  int64_t ns = 1234;
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    ck_assert_msg(clock_parse_duration(bad[i], &ns) == -EINVAL, "'%s' accepted", bad[i]);
  ck_assert_int_eq(ns, 1234); /* untouched on failure */
  ck_assert_int_eq(clock_parse_duration(NULL, &ns), -EINVAL);
  ck_assert_int_eq(clock_parse_duration("1s", NULL), -EINVAL);
}
END_TEST

START_TEST(fractions) {
  double v = -1;
  ck_assert_int_eq(clock_parse_fraction("1%", &v), 0);
  ck_assert_double_eq_tol(v, 0.01, 1e-12);
  ck_assert_int_eq(clock_parse_fraction("0.5 %", &v), 0);
  ck_assert_double_eq_tol(v, 0.005, 1e-12);
  ck_assert_int_eq(clock_parse_fraction("0.01", &v), 0);
  ck_assert_double_eq_tol(v, 0.01, 1e-12);
  ck_assert_int_eq(clock_parse_fraction("100%", &v), 0);
  ck_assert_double_eq(v, 1.0);
  ck_assert_int_eq(clock_parse_fraction("0", &v), 0);
  ck_assert_double_eq(v, 0.0);
  static const char *const bad[] = {"", "150%", "2", "-1%", "abc", "1%%", "nan", "inf", "1 %x", "%"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    ck_assert_msg(clock_parse_fraction(bad[i], &v) == -EINVAL, "'%s' accepted", bad[i]);
  ck_assert_int_eq(clock_parse_fraction(NULL, &v), -EINVAL);
}
END_TEST

START_TEST(format) {
  char buf[32];
  ck_assert_str_eq(clock_format_duration(90000000000LL, buf, sizeof buf), "1m30s");
  ck_assert_str_eq(clock_format_duration(250000000LL, buf, sizeof buf), "250ms");
  ck_assert_str_eq(clock_format_duration(1500000000LL, buf, sizeof buf), "1.5s");
  ck_assert_str_eq(clock_format_duration(1200, buf, sizeof buf), "1.2us");
  ck_assert_str_eq(clock_format_duration(7200000000000LL, buf, sizeof buf), "2h00m00s");
  /* a formatted duration parses back to the same value */
  int64_t ns = 0;
  ck_assert_int_eq(clock_parse_duration(clock_format_duration(5400000000000LL, buf, sizeof buf), &ns), 0);
  ck_assert_int_eq(ns, 5400000000000LL);
  ck_assert_ptr_eq(clock_format_duration(1, buf, 4), buf); /* truncates, stays terminated */
  ck_assert_uint_lt(strlen(buf), 4);
}
END_TEST

/* Run directories and reports stamp times as UTC "YYYY-MM-DDTHH-MM-SSZ"; a short buffer gets "". */
START_TEST(wall_stamp) {
  char stamp[32];
  clock_format_wall(1795000000000LL, stamp, sizeof stamp);
  ck_assert_str_eq(stamp, "2026-11-18T11-06-40Z");
  clock_format_wall(1795000000999LL, stamp, sizeof stamp); /* ms are cut, not rounded */
  ck_assert_str_eq(stamp, "2026-11-18T11-06-40Z");
  clock_format_wall(0, stamp, sizeof stamp);
  ck_assert_str_eq(stamp, "1970-01-01T00-00-00Z");
  clock_format_wall(1795000000000LL, stamp, 8);
  ck_assert_str_eq(stamp, "");
}
END_TEST

CHECK_MAIN("clock", 0, time_sources, durations, durations_rejected, fractions, format, wall_stamp)
