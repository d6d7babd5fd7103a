/* checkrun.h - the end of every unit suite's main(): run the suite with check, exit with its verdict; for a
 * suite of plain tests, the whole main(). */
#ifndef LOADCTL_TESTS_CHECKRUN_H
#define LOADCTL_TESTS_CHECKRUN_H

#include <check.h>
#include <stdlib.h>

/* Run every test of s in the given fork mode (CK_NOFORK: in this process, for suites whose tests share a
 * server started by this process), free the runner; EXIT_SUCCESS when none failed. */
static inline int check_run_mode(Suite *s, enum fork_status mode) {
  SRunner *sr = srunner_create(s);
  srunner_set_fork_status(sr, mode);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

/* Run every test of s in check's default mode (the CK_FORK environment variable, else each test forked). */
static inline int check_run(Suite *s) {
  return check_run_mode(s, CK_FORK_GETENV);
}

/* One test case called name holding the n tests (timeout_s seconds each when above 0, else check's
 * default); more tests, loops and fixtures may be added to it before it runs. */
static inline TCase *check_case(const char *name, int timeout_s, const TTest *const *tests, size_t n) {
  TCase *tc = tcase_create(name);
  if (timeout_s > 0) tcase_set_timeout(tc, timeout_s);
  for (size_t i = 0; i < n; i++) tcase_add_test(tc, tests[i]);
  return tc;
}

/* The suite called name of the one test case tc. */
static inline Suite *check_suite_of(const char *name, TCase *tc) {
  Suite *s = suite_create(name);
  suite_add_tcase(s, tc);
  return s;
}

/* The suite called name of check_case(name, timeout_s, tests, n). */
static inline Suite *check_suite(const char *name, int timeout_s, const TTest *const *tests, size_t n) {
  return check_suite_of(name, check_case(name, timeout_s, tests, n));
}

/* check_suite run with check_run: the whole main() of a suite that needs nothing more. */
static inline int check_run_tests(const char *name, int timeout_s, const TTest *const *tests, size_t n) {
  return check_run(check_suite(name, timeout_s, tests, n));
}

/* The whole main() of a suite of plain tests: CHECK_MAIN("cost", 0, cost_exact, cost_no_window) runs the
 * tests named after the timeout (check_run_tests). */
#define CHECK_MAIN(name, timeout_s, ...)                                               \
  int main(void) {                                                                     \
    const TTest *tests_[] = {__VA_ARGS__};                                             \
    return check_run_tests(name, timeout_s, tests_, sizeof tests_ / sizeof tests_[0]); \
  }

#endif
