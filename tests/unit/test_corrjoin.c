/* test_corrjoin.c - which requests the exemplar join calls slow and typical (corrjoin.h): one of the slowest
 * of its second measured slow (latency >= CORRELATE_SLOW_FACTOR x its name's median typical exemplar) is
 * slow; a pick of the uniform typical sample that slow is neither slow nor typical; a listed-slow request
 * below the factor is typical; each request is counted once. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>

#include "master/profile/correlate.h"
#include "master/profile/corrjoin.h"
#include "tests/support/checkrun.h"

static json_t *ex(const char *span, double ms) {
  char tid[40];
  snprintf(tid, sizeof tid, "%032d", atoi(span + 1));
  return json_pack("{s:s,s:s,s:f}", "trace_id", tid, "span_id", span, "latency_ms", ms);
}

static int cls(const corrjoin *j, const char *span) {
  return corrjoin_class(j, NULL, span, "GET /a", NULL);
}

/* GET /a: 8 typical picks of 10 ms, one of 100 ms (s8) and one of 90 ms (s11); the slowest of the seconds:
 * s9 at 200 ms, s10 at 15 ms (the slowest of a quiet second, under 2 x the 10 ms median), and s11 again. s9
 * and s11 are slow (s11, in both lists, one request), s8 neither slow nor typical (named only), s10 and the
 * 10 ms picks typical. */
START_TEST(slow_typical_and_neither) {
  json_t *slow = json_array(), *typ = json_array();
  char span[16];
  for (int i = 0; i < 8; i++) {
    snprintf(span, sizeof span, "s%d", i);
    json_array_append_new(typ, ex(span, 10.0));
  }
  json_array_append_new(typ, ex("s8", 100.0));
  json_array_append_new(typ, ex("s11", 90.0));
  json_array_append_new(slow, ex("s9", 200.0));
  json_array_append_new(slow, ex("s10", 15.0));
  json_array_append_new(slow, ex("s11", 90.0));
  json_t *lines =
      json_pack("[{s:I,s:s,s:o,s:o}]", "t", (json_int_t)0, "name", "GET /a", "slow", slow, "typical", typ);
  corrjoin *j = NULL;
  ck_assert_int_eq(corrjoin_create(lines, NULL, &j), 0);
  ck_assert_int_eq(cls(j, "s8"), CORRJOIN_NAMED);
  ck_assert_int_eq(cls(j, "s9"), CORRJOIN_SLOW);
  ck_assert_int_eq(cls(j, "s11"), CORRJOIN_SLOW);
  ck_assert_int_eq(cls(j, "s10"), CORRJOIN_TYPICAL);
  ck_assert_int_eq(cls(j, "s3"), CORRJOIN_TYPICAL);
  ck_assert_uint_eq(corrjoin_nslow_name(j, "GET /a"), 2);
  ck_assert_uint_eq(corrjoin_nslow(j), 2);
  ck_assert_uint_eq(corrjoin_nexemplars(j), 13);
  corrjoin_free(j);
  json_decref(lines);
}
END_TEST

/* Without typical picks (or latencies) the slow list is taken as it is, and nothing of a typical list is
 * called slow without a median to judge it by. */
START_TEST(no_median_takes_the_slow_list) {
  json_t *lines = json_pack("[{s:I,s:s,s:[o],s:[]}]", "t", (json_int_t)0, "name", "GET /a", "slow",
                            ex("s1", 5.0), "typical");
  corrjoin *j = NULL;
  ck_assert_int_eq(corrjoin_create(lines, NULL, &j), 0);
  ck_assert_int_eq(cls(j, "s1"), CORRJOIN_SLOW);
  ck_assert_uint_eq(corrjoin_nslow_name(j, "GET /a"), 1);
  corrjoin_free(j);
  json_decref(lines);
}
END_TEST

CHECK_MAIN("corrjoin", 0, slow_typical_and_neither, no_median_takes_the_slow_list)
