/* test_engine.c - the threaded engine end to end against the local testserver: every request the engine
 * reports reached the server (exact count), and an open-model run holds its rate exactly: every scheduled
 * arrival started or counted dropped, with a bounded drop share (a loaded machine drops some). */
#include "tests/support/testengine.h"

/* A 2-thread engine run of one task, GET /ok, with options opts (the inside of options = {...} after the
 * target) against a fresh testserver: the merged totals, its "GET /ok" entry in *ok (asserted present) and
 * in *served the requests the server counted meanwhile. */
static stats_interval *run_ok(const char *opts, stats_entry **ok, long long *served) {
  char src[512];
  server_up();
  long long before = server_count();
  snprintf(src, sizeof src,
           "options = { target = 'http://127.0.0.1:%d', %s }\n"
           "task(1, function(vu) http.get('/ok') end)\n",
           server_port, opts);
  stats_interval *total = run_engine(src, 2);
  *served = server_count() - before;
  *ok = stats_entry_find(total, "GET /ok");
  ck_assert_ptr_nonnull(*ok);
  return total;
}

START_TEST(closed_model_counts_are_exact) {
  stats_entry *ok;
  long long served;
  stats_interval *total = run_ok("users = 10, duration = '2s'", &ok, &served);
  ck_assert_int_gt(ok->count, 1000);
  ck_assert_int_eq(ok->errors, 0);
  ck_assert_int_eq(ok->count, served);
  ck_assert_int_eq(total->iterations, ok->count);
  stats_destroy(total);
  server_stop();
}
END_TEST

/* The open model's arrivals in open_model_arrivals_count_exact: rate x duration. */
#define OPEN_SCHEDULED 1000

START_TEST(open_model_arrivals_count_exact) {
  stats_entry *ok;
  long long served;
  stats_interval *total = run_ok("rate = 500, max_vus = 50, duration = '2s'", &ok, &served);
  ck_assert_int_eq(ok->count, served);
  ck_assert_int_eq(ok->count, total->iterations); /* one request per iteration */
  /* Every scheduled arrival (500/s x 2 s) is either started or counted dropped: the rate is exact. A
   * starved generator drops some (no VU free in time: 275 of 1000 seen at load average 14 on 2 cores),
   * never loses one. VUs are reused (more iterations than max_vus) and at least 10 % start. */
  ck_assert_int_eq(total->iterations + total->dropped, OPEN_SCHEDULED);
  ck_assert_int_gt(total->iterations, 50);
  ck_assert_int_le(total->dropped, OPEN_SCHEDULED * 9 / 10);
  stats_destroy(total);
  server_stop();
}
END_TEST

/* pre_allocated_vus: the VUs exist, each with its connection open, before the first arrival; at 40/s no
 * more are needed, so the server sees exactly those connections and every request reuses one. */
START_TEST(open_model_preallocates_connected_vus) {
  char src[512];
  server_up();
  long long conns0 = server_number("/conns"), before = server_count();
  snprintf(src, sizeof src,
           "options = { target = 'http://127.0.0.1:%d', rate = 40, max_vus = 12, pre_allocated_vus = 12,\n"
           "  duration = '1s' }\n"
           "task(1, function(vu) http.get('/ok') end)\n",
           server_port);
  stats_interval *total = run_engine(src, 2);
  long long served = server_count() - before;
  stats_entry *ok = stats_entry_find(total, "GET /ok");
  ck_assert_ptr_nonnull(ok);
  ck_assert_int_eq(ok->count, served);
  /* 40/s x 1 s: each arrival started or, on a starved machine, counted dropped; most went out */
  ck_assert_int_eq(ok->count + total->dropped, 40);
  ck_assert_int_gt(ok->count, 12); /* the 12 VUs ran more than one iteration each */
  /* 12 pre-connected (lazily, 40/s would have needed one or two per thread) and the three probes since
   * conns0 (/count twice, /conns); none opened on the way */
  ck_assert_int_eq(server_number("/conns") - conns0, 12 + 3);
  ck_assert_int_eq(total->new_conns, 12); /* what the intervals report: the generator's own connections */
  stats_destroy(total);
  server_stop();
}
END_TEST

/* The master went silent (engine_drain) mid-way through a per-vu-iterations run: the requests under way
 * finish and are counted (counted = served at the stop, not one per VU short), and the engine resumed from
 * the drained one goes on from each VU's iterations: 4 VUs x 300 = 1,200 in all, not 1,200 more. */
START_TEST(drain_then_resume_goes_on_from_iterations_done) {
  char src[512];
  options o;
  stats_interval *total = NULL;
  server_up();
  long long before = server_count();
  snprintf(src, sizeof src,
           "options = { target = 'http://127.0.0.1:%d', executor = 'per-vu-iterations', vus = 4,\n"
           "  iterations = 300, duration = '20s' }\n"
           "task(1, function(vu) http.get('/delay/2', {name = 'GET /delay'}) end)\n",
           server_port);
  ck_assert_int_eq(stats_create(&total, 0, 1000), 0);
  engine *first = start_engine(src, 2, 0, &o, NULL);
  nanosleep(&(struct timespec){0, 400000000}, NULL); /* 0.3 s of load; the run takes at least 0.6 s */
  engine_drain(first);
  collect_until_done(first, total);
  stats_entry *got = stats_entry_find(total, "GET /delay");
  ck_assert_ptr_nonnull(got);
  ck_assert_int_eq(got->count, server_count() - before); /* nothing in flight was cut */
  ck_assert_int_eq(total->iterations, got->count);
  ck_assert_int_gt(total->iterations, 0);
  ck_assert_int_lt(total->iterations, 1200); /* stopped mid-run */
  engine *second = start_engine(src, 2, 0, &o, first);
  engine_destroy(first);
  collect_until_done(second, total);
  engine_destroy(second);
  got = stats_entry_find(total, "GET /delay");
  ck_assert_int_eq(got->count, server_count() - before);
  ck_assert_int_eq(got->count, 1200);
  ck_assert_int_eq(total->iterations, 1200);
  ck_assert_int_eq(got->errors, 0);
  stats_destroy(total);
  server_stop();
}
END_TEST

/* A stop that cuts requests short (engine_stop, or a grace period over) counts each one, failed, kind
 * other: 4 VUs each waiting on a 3 s response when the engine stops are 4 requests, 4 errors. */
START_TEST(stop_counts_requests_cut_in_flight) {
  char src[512];
  options o;
  stats_interval *total = NULL;
  server_up();
  snprintf(src, sizeof src,
           "options = { target = 'http://127.0.0.1:%d', users = 4, duration = '20s' }\n"
           "task(1, function(vu) http.get('/delay/3000', {name = 'GET /delay'}) end)\n",
           server_port);
  ck_assert_int_eq(stats_create(&total, 0, 1000), 0);
  engine *e = start_engine(src, 2, 0, &o, NULL);
  nanosleep(&(struct timespec){0, 600000000}, NULL); /* the 4 requests are sent, none answered */
  engine_stop(e);
  collect_until_done(e, total);
  engine_destroy(e);
  stats_entry *got = stats_entry_find(total, "GET /delay");
  ck_assert_ptr_nonnull(got);
  ck_assert_int_eq(got->count, 4);
  ck_assert_int_eq(got->errors, 4);
  ck_assert_int_eq(got->err[STATS_ERR_OTHER], 4);
  ck_assert_int_eq(total->iterations, 0);
  stats_destroy(total);
  server_stop();
}
END_TEST

int main(void) {
  const TTest *tests[] = {closed_model_counts_are_exact, open_model_arrivals_count_exact,
                          open_model_preallocates_connected_vus,
                          drain_then_resume_goes_on_from_iterations_done, stop_counts_requests_cut_in_flight};
  return server_suite_run("engine", tests, sizeof tests / sizeof tests[0]);
}
