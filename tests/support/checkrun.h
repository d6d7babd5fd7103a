/* checkrun.h - the end of every unit suite's main(): run the suite with check, exit with its verdict. */
#ifndef LOADCTL_TESTS_CHECKRUN_H
#define LOADCTL_TESTS_CHECKRUN_H

#include <check.h>
#include <stdlib.h>

/* Run every test of s (check's default fork mode), free the runner; EXIT_SUCCESS when none failed. */
static inline int check_run(Suite *s) {
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

#endif
