/* test_corrlock.c - the lock method (corrlock.h) through correlate_findings: a block profile's readers
 * waiting in sync.(*RWMutex).RLock wait for a writer, so their function is never named as the lock's holder;
 * nor is a waiter's function that holds nothing across a wait of its own; a few long waits are enough; and
 * requests waiting in a pool's acquire are traced to the caller holding the connections (hold). Synthetic
 * block profiles with known answers. */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "master/profile/correlate.h"
#include "tests/support/checkrun.h"
#include "tests/support/teststack.h"

static void add(pprof_profile *p, const char *frames, int64_t n, int64_t delay) {
  uint32_t st[16];
  size_t k = test_stack(p, frames, st, 16);
  int64_t vals[2] = {n, delay};
  ck_assert_int_eq(pprof_add_sample(p, st, k, vals, NULL, 0), 0);
}

static size_t locks(json_t *fs, const char *fn) {
  size_t i, n = 0;
  json_t *f;
  json_array_foreach(fs, i, f) n += strcmp(json_string_value(json_object_get(f, "kind")), "lock") == 0 &&
                                    strcmp(json_string_value(json_object_get(f, "function")), fn) == 0;
  return n;
}

/* Profile reads: 125 contentions, 11.7 s, all readers blocked in RLock under get while the janitor holds the
 * write lock; no finding names get. A sync.Mutex's waiters in the same shape (they hold it in turn) are still
 * named: the lock method is not switched off. */
START_TEST(block_readers_are_not_the_holder) {
  pprof_profile *rd = pprof_create("contentions", "count"), *mu = pprof_create("contentions", "count");
  ck_assert_int_eq(pprof_add_sample_type(rd, "delay", "nanoseconds"), 0);
  ck_assert_int_eq(pprof_add_sample_type(mu, "delay", "nanoseconds"), 0);
  add(rd,
      "runtime.goexit;main.serve.func1;main.(*profileCache).get;sync.(*RWMutex).RLock;"
      "sync.runtime_SemacquireRWMutexR",
      125, 11700000000LL);
  add(mu,
      "runtime.goexit;main.serve.func1;main.(*ledger).apply;sync.(*Mutex).Lock;sync.runtime_SemacquireMutex",
      125, 11700000000LL);
  add(mu, "runtime.goexit;main.serve.func1;main.(*ledger).apply;main.(*ledger).audit;runtime.chanrecv1", 6,
      720000000LL); /* apply holds the lock across the audit's wait (6 % of the lock's delay) */
  json_t *fs = test_findings("block", rd, NULL, NULL);
  ck_assert_uint_eq(locks(fs, "main.(*profileCache).get"), 0);
  json_decref(fs);
  fs = test_findings("block", mu, NULL, NULL);
  ck_assert_uint_eq(locks(fs, "main.(*ledger).apply"), 1);
  json_decref(fs);
  pprof_free(rd);
  pprof_free(mu);
}
END_TEST

/* intervals.jsonl of a run whose requests took ms in all ((all) line, one interval). */
static json_t *took(double ms) {
  return json_pack("[{s:I,s:s,s:f,s:f}]", "t", (json_int_t)0, "name", "(all)", "count", 1000.0, "mean_ms",
                   ms / 1000);
}

/* Every request records itself under the registry's mutex in observe (125 waits, 2.3 s, 10 % of the requests'
 * time) while a flusher holds it: a block profile shows only the waiters, and observe blocks on little else
 * (2 % of the lock's delay), so no lock finding names it (the flusher is not in the profile). */
START_TEST(block_waiter_is_not_the_holder) {
  pprof_profile *p = pprof_create("contentions", "count");
  ck_assert_int_eq(pprof_add_sample_type(p, "delay", "nanoseconds"), 0);
  add(p, "runtime.goexit;main.route;main.(*registry).observe;sync.(*Mutex).Lock;sync.runtime_SemacquireMutex",
      125, 2300000000LL);
  add(p, "runtime.goexit;main.route;main.send;runtime.selectgo", 900, 900000000LL); /* not under observe */
  add(p, "runtime.goexit;main.route;main.(*registry).observe;main.(*registry).emit;runtime.chansend1", 40,
      50000000LL); /* a short wait of its own: 2 % of the lock's delay, < LOCK_ACROSS */
  json_t *iv = took(23000), *fs = test_findings("block", p, iv, NULL);
  ck_assert_uint_eq(locks(fs, "main.(*registry).observe"), 0);
  json_decref(fs);
  json_decref(iv);
  pprof_free(p);
}
END_TEST

/* Token holds its mutex across an 80 ms refresh: 15 waits of 28 ms (0.42 s, 18 % of the requests' 2.3 s) and
 * the refresh's own wait beneath Token. 15 contentions are < MIN_SAMPLES, but events are recorded, not
 * sampled, and these cost requests much: named. 15 waits of 0.1 ms (under LOCK_HEAVY) are not. */
START_TEST(few_long_waits_are_enough) {
  for (int heavy = 1; heavy >= 0; heavy--) {
    pprof_profile *p = pprof_create("contentions", "count");
    ck_assert_int_eq(pprof_add_sample_type(p, "delay", "nanoseconds"), 0);
    add(p,
        "runtime.goexit;main.notify;main.(*tokenSource).Token;sync.(*Mutex).Lock;sync.runtime_"
        "SemacquireMutex",
        15, heavy ? 420000000LL : 1500000LL);
    add(p,
        "runtime.goexit;main.notify;main.(*tokenSource).Token;main.(*tokenSource).refresh;runtime.selectgo",
        9, 320000000LL);
    json_t *iv = took(2300), *fs = test_findings("block", p, iv, NULL);
    ck_assert_uint_eq(locks(fs, "main.(*tokenSource).Token"), (size_t)heavy);
    json_decref(fs);
    json_decref(iv);
    pprof_free(p);
  }
}
END_TEST

/* A pool of connections (a buffered channel): orders wait in (*connPool).acquire (270 waits, 13.5 s) while
 * reports hold connections across 31 queries: beneath monthlyTotals, outside acquire, 10.9 s of blocking vs
 * 1.7 s beneath queryOne, the other caller of acquire. Named: monthlyTotals, kind lock. The same waits in a
 * function not named for acquiring (a select on a timer) name no holder. */
START_TEST(pool_waiters_name_the_holder) {
  for (int named = 1; named >= 0; named--) {
    pprof_profile *p = pprof_create("contentions", "count");
    char w[256], r[256];
    const char *acq = named ? "main.(*connPool).acquire" : "main.(*connPool).tick";
    ck_assert_int_eq(pprof_add_sample_type(p, "delay", "nanoseconds"), 0);
    snprintf(w, sizeof w, "runtime.goexit;main.orders;main.queryOne;%s;runtime.selectgo", acq);
    snprintf(r, sizeof r, "runtime.goexit;main.report;main.(*reportRepo).monthlyTotals;%s;runtime.selectgo",
             acq);
    add(p, w, 270, 13500000000LL);
    add(p, r, 3, 30000000LL); /* a report waiting too: monthlyTotals calls acquire */
    add(p,
        "runtime.goexit;main.report;main.(*reportRepo).monthlyTotals;main.query;main.send;runtime.selectgo",
        4561, 10900000000LL);
    add(p, "runtime.goexit;main.orders;main.queryOne;main.query;main.send;runtime.selectgo", 2313,
        1700000000LL);
    json_t *iv = took(60000), *fs = test_findings("block", p, iv, NULL);
    ck_assert_uint_eq(locks(fs, "main.(*reportRepo).monthlyTotals"), (size_t)named);
    ck_assert_uint_eq(json_array_size(fs), (size_t)named);
    json_decref(fs);
    json_decref(iv);
    pprof_free(p);
  }
}
END_TEST

/* Go's database/sql pool: list requests wait in (*DB).conn (library frames up to the service's listOrders)
 * while exports hold connections in transactions (blocking beneath exportAll, outside conn): the service
 * function reaching the acquire through the library, exportAll, is named. */
START_TEST(library_pool_names_the_service_holder) {
  pprof_profile *p = pprof_create("contentions", "count");
  ck_assert_int_eq(pprof_add_sample_type(p, "delay", "nanoseconds"), 0);
  add(p,
      "runtime.goexit;main.listOrders;database/sql.(*DB).QueryContext;database/sql.(*DB).query;"
      "database/sql.(*DB).conn;runtime.selectgo",
      200, 9000000000LL);
  add(p, "runtime.goexit;main.exportAll;database/sql.(*DB).BeginTx;database/sql.(*DB).conn;runtime.selectgo",
      2, 20000000LL);
  add(p, "runtime.goexit;main.exportAll;database/sql.(*Tx).ExecContext;main.driverExec;runtime.chanrecv1",
      3000, 9000000000LL);
  add(p, "runtime.goexit;main.listOrders;database/sql.(*Rows).Next;main.driverNext;runtime.chanrecv1", 900,
      900000000LL);
  json_t *iv = took(60000), *fs = test_findings("block", p, iv, NULL);
  ck_assert_uint_eq(locks(fs, "main.exportAll"), 1);
  json_decref(fs);
  json_decref(iv);
  pprof_free(p);
}
END_TEST

/* n goroutine observations of frames, of request name (NULL: unlabelled). */
static void obs(pprof_profile *p, const char *frames, const char *name, int64_t n) {
  uint32_t st[16];
  size_t k = test_stack(p, frames, st, 16);
  pprof_label lb = {(uint32_t)pprof_intern(p, "loadctl.name"), name ? (uint32_t)pprof_intern(p, name) : 0, 0,
                    0};
  ck_assert_int_eq(pprof_add_sample(p, st, k, &n, &lb, name ? 1 : 0), 0);
}

/* A Go service without a block profile: its goroutine profile polled during the run shows orders parked in
 * (*connPool).acquire (62 observations of 722 requests' observations, 8.6 %) and, beneath the callers of
 * acquire outside it, reports holding connections (120 observations under monthlyTotals vs 40 under
 * queryOne). Named: monthlyTotals. The same stacks unlabelled (no request's) name nothing. */
START_TEST(goroutine_polls_name_the_holder) {
  for (int requests = 1; requests >= 0; requests--) {
    pprof_profile *p = pprof_create("goroutine", "count");
    const char *park = "runtime.selectgo;runtime.gopark", *o = requests ? "GET /api/orders" : NULL,
               *r = requests ? "GET /api/reports/monthly" : NULL;
    char w[256], rw[256], rh[256], oh[256];
    snprintf(w, sizeof w, "runtime.goexit;main.orders;main.queryOne;main.(*connPool).acquire;%s", park);
    snprintf(rw, sizeof rw,
             "runtime.goexit;main.report;main.(*reportRepo).monthlyTotals;main.(*connPool).acquire;%s", park);
    snprintf(rh, sizeof rh,
             "runtime.goexit;main.report;main.(*reportRepo).monthlyTotals;main.query;main.send;%s", park);
    snprintf(oh, sizeof oh, "runtime.goexit;main.orders;main.queryOne;main.query;main.send;%s", park);
    obs(p, w, o, 60);
    obs(p, rw, r, 2);
    obs(p, rh, r, 120);
    obs(p, oh, o, 40);
    obs(p, "runtime.goexit;main.orders;main.render", o, 500);
    json_t *fs = test_findings("goroutine", p, NULL, NULL);
    ck_assert_uint_eq(locks(fs, "main.(*reportRepo).monthlyTotals"), (size_t)requests);
    json_decref(fs);
    pprof_free(p);
  }
}
END_TEST

/* A labelled wall-clock sample of request name (Python agent: samples, wall ns). */
static void wall(pprof_profile *p, const char *frames, const char *name, int64_t n) {
  uint32_t st[16];
  size_t k = test_stack(p, frames, st, 16);
  int64_t vals[2] = {n, n * 10000000LL};
  pprof_label lb = {(uint32_t)pprof_intern(p, "loadctl.name"), (uint32_t)pprof_intern(p, name), 0, 0};
  ck_assert_int_eq(pprof_add_sample(p, st, k, vals, &lb, 1), 0);
}

/* A Python service without a block profile: ticket reads wait in threading.Semaphore.acquire (a pool of two
 * connections; 300 wall samples, in its threading.Condition.wait) while bulk closes hold connections across
 * one commit per ticket (500 samples beneath bulk_close outside acquire, vs 60 beneath query). Named:
 * bulk_close, for its request. Unlabelled worker threads idling in queue.Queue.get are no request waiting. */
START_TEST(python_semaphore_names_the_holder) {
  for (int requests = 1; requests >= 0; requests--) {
    pprof_profile *p = pprof_create("samples", "count");
    ck_assert_int_eq(pprof_add_sample_type(p, "wall", "nanoseconds"), 0);
    const char *sem = "threading.Semaphore.acquire;threading.Condition.wait";
    char w[256], b[256];
    snprintf(w, sizeof w, "threading.Thread.run;app.views.get_ticket;app.db.query;%s", sem);
    snprintf(b, sizeof b, "threading.Thread.run;app.views.bulk_close;%s", sem);
    if (requests) {
      wall(p, w, "GET /tickets/{id}", 300);
      wall(p, b, "POST /tickets/bulk", 5);
      wall(p, "threading.Thread.run;app.views.bulk_close;app.db.commit_one", "POST /tickets/bulk", 500);
      wall(p, "threading.Thread.run;app.views.get_ticket;app.db.query;app.db.fetch", "GET /tickets/{id}", 60);
    } else { /* the same stacks, no request's: idle workers */
      add(p, "threading.Thread.run;app.worker.loop;queue.Queue.get;threading.Condition.wait", 300,
          3000000000LL);
      add(p, "threading.Thread.run;app.worker.other;queue.Queue.get;threading.Condition.wait", 5, 50000000LL);
      add(p, "threading.Thread.run;app.worker.loop;app.worker.run_job", 500, 5000000000LL);
      add(p, "threading.Thread.run;app.worker.other;app.worker.run_job", 60, 600000000LL);
    }
    json_t *iv = took(60000), *fs = test_findings("wall", p, iv, NULL);
    ck_assert_uint_eq(locks(fs, requests ? "app.views.bulk_close" : "app.worker.loop"), (size_t)requests);
    json_decref(fs);
    json_decref(iv);
    pprof_free(p);
  }
}
END_TEST

CHECK_MAIN("corrlock", 0, block_readers_are_not_the_holder, block_waiter_is_not_the_holder,
           few_long_waits_are_enough, pool_waiters_name_the_holder, library_pool_names_the_service_holder,
           goroutine_polls_name_the_holder, python_semaphore_names_the_holder)
