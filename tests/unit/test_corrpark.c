/* test_corrpark.c - a wall-clock wait is named only where the slow requests stay longer than the typical
 * requests of the name that reach the same frame (corrpark.h, CORRELATE_PARK_REQUESTS): a dependency call
 * that takes as long in every request making it is the service's shape, not the slow requests' fault; a
 * request blocking an event loop's thread there is named all the same (it holds every request in flight).
 * Synthetic stacks with known answers, end to end through correlate_findings, and the test itself. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "master/profile/correlate.h"
#include "master/profile/corrpark.h"
#include "tests/support/checkrun.h"
#include "tests/support/testcorr.h"
#include "tests/support/teststack.h"

#define APP "weather.app.app@/srv/weather/app.py;weather.app.forecast@/srv/weather/app.py;"
#define LOOP                                                                                \
  "asyncio.base_events.BaseEventLoop._run_once@/usr/lib/python3.11/asyncio/base_events.py;" \
  "asyncio.events.Handle._run@/usr/lib/python3.11/asyncio/events.py;"
/* a coroutine suspended in an await of a thread's geocoder call (the loop is free) */
#define AWAITS                                                                                            \
  APP "weather.app.coords_for@/srv/weather/app.py;asyncio.threads.to_thread@/usr/lib/python3.11/asyncio/" \
      "threads.py;[await] FutureIter"
/* the same call made blocking on the loop's thread */
#define BLOCKS                                                                                       \
  LOOP APP                                                                                           \
      "weather.app.coords_for@/srv/weather/app.py;weather.app.geocode_postcode@/srv/weather/app.py;" \
      "socket.SocketIO.readinto@/usr/lib/python3.11/socket.py"

static void add(pprof_profile *p, const char *frames, int64_t v, const char *name, const char *tid) {
  testcorr_sample(p, frames, "/srv/app/main.py", v, name, tid);
}

/* Forecasts: 20 slow requests spend slow_stay samples each in the geocoder call (stack call); of 40 typical
 * ones, 15 make the same call for 3 samples each and 25 render in 1. Returns the findings about GET
 * /forecast's wall-clock profile (new reference). */
static json_t *forecasts(const char *call, int slow_stay) {
  pprof_profile *wall = pprof_create("wall", "nanoseconds");
  json_t *slow = json_array(), *typ = json_array();
  char tid[40];
  for (int i = 0; i < 60; i++) {
    snprintf(tid, sizeof tid, "%032d", i);
    if (i < 35)
      add(wall, call, i < 20 ? slow_stay : 3, "GET /forecast", tid);
    else
      add(wall, APP "weather.app.render@/srv/weather/app.py", 1, "GET /forecast", tid);
    test_exemplar(i < 20 ? slow : typ, tid, i < 20 ? 300.0 : 30.0);
  }
  json_t *ex = test_exemplars("GET /forecast", slow, typ);
  json_t *fs = test_findings("wall", wall, NULL, ex);
  json_decref(ex);
  pprof_free(wall);
  return fs;
}

/* The function of the first finding about GET /forecast, or NULL. */
static const char *named(json_t *fs) {
  size_t i;
  json_t *f;
  json_array_foreach(fs, i, f) {
    const char *r = json_string_value(json_object_get(f, "request"));
    if (r && strcmp(r, "GET /forecast") == 0) return json_string_value(json_object_get(f, "function"));
  }
  return NULL;
}

/* The slow forecasts are the ones making the geocoder call (100 % of their samples vs 64 % of the typical
 * ones': the shares pass), but each waits there 3 samples, as the 15 typical ones making it do: no finding.
 */
START_TEST(same_stay_as_typical_requests_is_no_wait) {
  json_t *fs = forecasts(AWAITS, 3);
  ck_assert_msg(named(fs) == NULL, "named %s", named(fs));
  json_decref(fs);
}
END_TEST

/* The slow forecasts wait 8 samples each in the call, the typical ones making it 3: coords_for is named. */
START_TEST(longer_stay_is_a_wait) {
  json_t *fs = forecasts(AWAITS, 8);
  ck_assert_ptr_nonnull(named(fs));
  ck_assert_str_eq(named(fs), "weather.app.coords_for");
  json_decref(fs);
}
END_TEST

/* The same equal stays, but the call blocks the event loop's thread (asyncio's dispatch below it): it holds
 * every request in flight, so it is named although each forecast waits there no longer. */
START_TEST(blocking_the_event_loop_is_named) {
  json_t *fs = forecasts(BLOCKS, 3);
  ck_assert_ptr_nonnull(named(fs));
  ck_assert_str_eq(named(fs), "weather.app.geocode_postcode");
  json_decref(fs);
}
END_TEST

/* The test itself: per request time in a frame, slow vs typical requests reaching it (complete separation of
 * 20 vs 15: U = 300, z = 5); a request is its span (the trace may be a whole iteration's). */
START_TEST(stay_measured_per_request) {
  corrstack cs;
  pprof_profile *wall = pprof_create("wall", "nanoseconds");
  char tid[40];
  for (int i = 0; i < 35; i++) {
    snprintf(tid, sizeof tid, "%032d", i);
    add(wall, AWAITS, i < 20 ? 8 : 3, "GET /forecast", tid);
    add(wall, APP "weather.app.render@/srv/weather/app.py", 1, "GET /forecast", tid);
  }
  corrstack_init(&cs);
  for (size_t i = 0; i < wall->nsamples; i++)
    ck_assert_int_eq(corrstack_add(&cs, wall, &wall->samples[i], 0, 0), 0);
  unsigned char a[70] = {0}, b[70] = {0};
  static char ids[35][24];
  ck_assert_uint_eq(cs.n, 70);
  for (size_t i = 0; i < cs.n; i++) { /* samples 2k, 2k+1: request k's (correlate.c reads labels) */
    snprintf(ids[i / 2], sizeof ids[i / 2], "%zu", i / 2);
    cs.s[i].trace_id = "0af7651916cd43dd8448eb211c80319c"; /* one iteration's trace, a span per request */
    cs.s[i].span_id = ids[i / 2];
    a[i] = i / 2 < 20, b[i] = i / 2 >= 20;
  }
  corrpark_stay st;
  int64_t fn = corrstack_id(&cs, "weather.app.coords_for");
  ck_assert_int_ge(fn, 0);
  ck_assert_int_eq(corrpark_measure(&cs, a, b, fn, &st), 0);
  ck_assert_uint_eq(st.na, 20);
  ck_assert_uint_eq(st.nb, 15);
  ck_assert_double_eq_tol(st.mean_a, 8, 1e-9);
  ck_assert_double_eq_tol(st.mean_b, 3, 1e-9);
  ck_assert_double_lt(st.p_value, 1e-6);
  ck_assert_int_eq(corrpark_longer(&cs, a, b, fn), 1);
  ck_assert_int_eq(corrpark_longer(&cs, b, a, fn), 0); /* the typical ones stay shorter */
  corrstack_free(&cs);
  pprof_free(wall);
}
END_TEST

CHECK_MAIN("corrpark", 0, same_stay_as_typical_requests_is_no_wait, longer_stay_is_a_wait,
           blocking_the_event_loop_is_named, stay_measured_per_request)
