/* test_webapi.c - the JSON the live page reads: the "done" event of a run directory (what the page shows
 * between runs, and what the run's end sends) keeps a finding's window in epoch seconds to the ms and
 * large totals whole (the replies and events were written with 6 significant digits: 1796652243.479 came
 * out as 1.79665e+09, a window moved by up to 5,000 s). */
#include <check.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/rundir.h"
#include "master/webapi.h"
#include "tests/support/checkrun.h"
#include "tests/support/testrun.h"

START_TEST(done_event_exact) {
  char root[] = "/tmp/loadctl-webapi-XXXXXX";
  ck_assert_ptr_nonnull(mkdtemp(root));
  json_t *run = json_pack("{s:s}", "status", "done");
  json_t *sum = json_pack("{s:{s:I,s:f},s:[{s:s,s:s,s:[[f,f]]}]}", "totals", "requests",
                          (json_int_t)123456789, "rps", 1234567.891, "findings", "kind", "window", "function",
                          "main.janitor", "window", 1796652243.479, 1796652245.021);
  ck_assert_int_eq(rundir_write_json(root, RUNDIR_RUN, run), 0);
  ck_assert_int_eq(rundir_write_json(root, RUNDIR_SUMMARY, sum), 0);
  json_t *done = webapi_final_of(root, false);
  char *text = webapi_json_text(done);
  ck_assert_ptr_nonnull(text);
  json_error_t jerr;
  json_t *page = json_loads(text, 0, &jerr);
  ck_assert_msg(page != NULL, "%s: %s", jerr.text, text);
  json_t *win =
      json_array_get(json_object_get(json_array_get(json_object_get(page, "findings"), 0), "window"), 0);
  ck_assert_double_eq_tol(json_number_value(json_array_get(win, 0)), 1796652243.479, 1e-6);
  ck_assert_double_eq_tol(json_number_value(json_array_get(win, 1)), 1796652245.021, 1e-6);
  json_t *tot = json_object_get(page, "totals");
  ck_assert_int_eq(json_integer_value(json_object_get(tot, "requests")), 123456789);
  ck_assert_double_eq_tol(json_number_value(json_object_get(tot, "rps")), 1234567.891, 1e-9);
  json_decref(page);
  free(text);
  json_decref(done);
  json_decref(run);
  json_decref(sum);
  testrun_remove(root);
}
END_TEST

CHECK_MAIN("webapi", 0, done_event_exact)
