/* checkrun.h - the end of every unit suite's main(): run the suite with check, exit with its verdict. */
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

#endif
