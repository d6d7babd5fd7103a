/* test_corrlock.c - the lock method (corrlock.h) through correlate_findings: a block profile's readers
 * waiting in sync.(*RWMutex).RLock wait for a writer, so their function is never named as the lock's holder;
 * nor is a waiter's function that holds nothing across a wait of its own; a few long waits are enough; and
 * requests waiting in a pool's acquire are traced to the caller holding the connections (hold); a reader
 * holding a sync.RWMutex long is charged with the queue behind the writers waiting for it; a lock explaining
 * < 1 % of the requests' lost time ranks with weak evidence; Python requests waiting for a threading.Lock in
 * a function named for acquiring are traced to the holder, and waits there rank below the lock. Synthetic
 * profiles with known answers. */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "master/profile/correlate.h"
#include "master/profile/corrlock.h"
#include "master/profile/corrrank.h"
#include "tests/support/checkrun.h"
#include "tests/support/testcorr.h"
#include "tests/support/teststack.h"

static void add(pprof_profile *p, const char *frames, int64_t n, int64_t delay) {
  testcorr_sample2(p, frames, n, delay);
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

/* A Go mutex profile of a sync.RWMutex: a backup's snapshot holds the read lock for ~320 ms (its RUnlock
 * released 5 writers' waits, 1.6 s); each heartbeat writer, while it waits for the snapshot, blocks the
 * readers and writers arriving after it, whose waits its Unlock records (120 contentions, 3 s: 25 ms each).
 * The writers' queue is the reader's doing: named snapshot, not heartbeat. When instead the writers hold long
 * (their readers' RUnlock released waits of 1 ms), heartbeat is named. */
START_TEST(rwmutex_long_reader_is_the_holder) {
  for (int long_reader = 1; long_reader >= 0; long_reader--) {
    pprof_profile *p = pprof_create("contentions", "count");
    ck_assert_int_eq(pprof_add_sample_type(p, "delay", "nanoseconds"), 0);
    const char *hb =
        "runtime.goexit;net/http.(*conn).serve;main.newDevices.func1;main.(*deviceRegistry).heartbeat;"
        "sync.(*RWMutex).Unlock";
    char w[256];
    snprintf(w, sizeof w, "%s;sync.(*Mutex).Unlock", hb);
    add(p,
        "runtime.goexit;main.(*deviceRegistry).backupLoop;main.(*deviceRegistry).snapshot;"
        "sync.(*RWMutex).RUnlock",
        5, long_reader ? 1600000000LL : 5000000LL);
    add(p, w, 70, 1560000000LL);
    add(p, hb, 50, 1430000000LL);
    json_t *iv = took(60000), *fs = test_findings("mutex", p, iv, NULL);
    ck_assert_uint_eq(locks(fs, "main.(*deviceRegistry).snapshot"), (size_t)long_reader);
    ck_assert_uint_eq(locks(fs, "main.(*deviceRegistry).heartbeat"), (size_t)!long_reader);
    json_decref(fs);
    json_decref(iv);
    pprof_free(p);
  }
}
END_TEST

/* intervals.jsonl of 20 one-second intervals of 100 requests: 18 at a mean of 1 ms, 2 at 80 ms (the run lost
 * 15.8 s against its typical pace of 2 s). */
static json_t *stalled(void) {
  json_t *iv = json_array();
  for (int t = 0; t < 20; t++)
    json_array_append_new(iv, json_pack("{s:I,s:s,s:f,s:f}", "t", (json_int_t)t * 1000, "name", "(all)",
                                        "count", 100.0, "mean_ms", t % 10 == 3 ? 80.0 : 1.0));
  return iv;
}

/* A lock whose holder's delay is 60 ms (0.4 % of the 15.8 s the requests lost) is kept but ranked with weak
 * evidence (its score WEAK_DROP lower: < 1, below any strong finding's); one of 1.2 s (7.6 %) keeps its lock
 * score. */
START_TEST(minor_lock_ranks_last) {
  for (int big = 1; big >= 0; big--) {
    pprof_profile *p = pprof_create("contentions", "count");
    ck_assert_int_eq(pprof_add_sample_type(p, "delay", "nanoseconds"), 0);
    add(p, "runtime.goexit;main.serve;main.(*ledger).apply;sync.(*Mutex).Unlock", 40,
        big ? 1200000000LL : 60000000LL);
    add(p, "runtime.goexit;main.serve;main.(*ledger).read;sync.(*Mutex).Unlock", 10,
        big ? 12000000LL : 600000LL);
    json_t *iv = stalled(), *fs = test_findings("mutex", p, iv, NULL);
    ck_assert_uint_eq(locks(fs, "main.(*ledger).apply"), 1);
    double score = json_number_value(json_object_get(json_array_get(fs, 0), "score"));
    const char *ev = json_string_value(json_object_get(json_array_get(fs, 0), "evidence"));
    ck_assert_msg(big ? score >= 2.5 : score < 1, "score %.3f (%s)", score, ev);
    ck_assert_int_eq(strstr(ev, "a minor lock") != NULL, !big);
    json_decref(fs);
    json_decref(iv);
    pprof_free(p);
  }
}
END_TEST

/* A Python service whose views share one sqlite connection behind a threading.Lock taken in a context manager
 * (`with connection() as db:`): waiting requests are seen in connection itself, the leaf (the lock parks in
 * C, no frame of its own), under contextlib's __enter__; the holder is the caller of connection running
 * outside it, a bulk update committing ticket by ticket (500 samples vs 60 of ticket's own queries). Named:
 * bulk_set_status, for its request. The same waits in a leaf not named for acquiring (render) name none. */
START_TEST(python_lock_waiters_name_the_holder) {
  for (int named = 1; named >= 0; named--) {
    pprof_profile *p = pprof_create("samples", "count");
    ck_assert_int_eq(pprof_add_sample_type(p, "wall", "nanoseconds"), 0);
    const char *enter = "contextlib._GeneratorContextManager.__enter__@/usr/lib/python3.11/contextlib.py",
               *leaf =
                   named ? "app.store.connection@/srv/app/store.py" : "app.store.render@/srv/app/store.py";
    char w[512], c[512], b[512];
    snprintf(w, sizeof w,
             "threading.Thread.run;app.views.get_ticket;app.store.ticket@/srv/app/store.py;%s;%s", enter,
             leaf);
    snprintf(c, sizeof c,
             "threading.Thread.run;app.views.create;app.store.create@/srv/app/store.py;%s;"
             "app.store.transaction@/srv/app/store.py;%s;%s",
             enter, enter, leaf);
    snprintf(b, sizeof b,
             "threading.Thread.run;app.views.bulk;app.store.bulk_set_status@/srv/app/store.py;%s;%s", enter,
             leaf);
    wall(p, w, "GET /tickets/{id}", 300);
    wall(p, c, "POST /tickets", 100);
    wall(p, b, "POST /tickets/bulk", 3);
    wall(p, "threading.Thread.run;app.views.bulk;app.store.bulk_set_status@/srv/app/store.py",
         "POST /tickets/bulk", 500);
    wall(p, "threading.Thread.run;app.views.get_ticket;app.store.ticket@/srv/app/store.py",
         "GET /tickets/{id}", 60);
    json_t *iv = took(60000), *fs = test_findings("wall", p, iv, NULL);
    ck_assert_uint_eq(locks(fs, "app.store.bulk_set_status"), (size_t)named);
    json_decref(fs);
    json_decref(iv);
    pprof_free(p);
  }
}
END_TEST

/* A wait finding whose path ends where the lock's waiters wait (desk.store.connection) is those waiters:
 * ranked just below the lock, its evidence saying so; a wait elsewhere (scan) keeps its score. */
START_TEST(waits_on_the_lock_rank_below_it) {
  json_t *fs = json_pack("[{s:s,s:s,s:[s,s,s],s:f,s:s},{s:s,s:s,s:[s,s],s:f,s:s}]", "kind", "wait",
                         "function", "desk.store.ticket", "path", "desk.app.get_ticket", "desk.store.ticket",
                         "desk.store.connection", "score", 3.7, "evidence", "e", "kind", "wait", "function",
                         "desk.scan.scan", "path", "desk.app.attach", "desk.scan.scan", "score", 3.6,
                         "evidence", "e"),
         *lock = json_pack("{s:s,s:s,s:f}", "kind", "lock", "function", "desk.store.bulk_set_status", "score",
                           3.4);
  corrlock_result r = {.fn = "desk.store.bulk_set_status", .waited = "desk.store.connection"};
  json_array_append(fs, lock);
  corrlock_effects(fs, lock, &r);
  ck_assert_double_lt(json_number_value(json_object_get(json_array_get(fs, 0), "score")), 3.4);
  ck_assert_ptr_nonnull(
      strstr(json_string_value(json_object_get(json_array_get(fs, 0), "evidence")), "ranked below"));
  ck_assert_double_eq(json_number_value(json_object_get(json_array_get(fs, 1), "score")), 3.6);
  json_decref(lock);
  json_decref(fs);
}
END_TEST

/* A background persister releases the contended mutex (mutex profile); the block profile's waits on it are in
 * the lookup handler's closure, whose labelled CPU samples are GET /presence's (an unlabelled one too: labels
 * set inside it). The lock's "waiters" are GET /presence, and it is weighed by their tail: with another
 * finding's request at 4x their p99, it loses 0.75 of its score. */
START_TEST(background_lock_is_weighed_by_its_waiters) {
  pprof_profile *mu = pprof_create("contentions", "count"), *bl = pprof_create("contentions", "count");
  pprof_profile *cpu = pprof_create("samples", "count");
  ck_assert_int_eq(pprof_add_sample_type(mu, "delay", "nanoseconds"), 0);
  ck_assert_int_eq(pprof_add_sample_type(bl, "delay", "nanoseconds"), 0);
  add(mu, "runtime.goexit;main.persistLoop;main.persist;sync.(*Mutex).Unlock", 70, 320000000LL);
  add(bl, "runtime.goexit;net/http.(*conn).serve;main.lookup.func2;sync.(*Mutex).Lock", 70, 300000000LL);
  testcorr_sample(cpu, "runtime.goexit;net/http.(*conn).serve;main.lookup.func2;fmt.Fprintf", NULL, 8,
                  "GET /presence", NULL);
  testcorr_sample(cpu, "runtime.goexit;net/http.(*conn).serve;main.lookup.func2;main.requestLabels", NULL, 3,
                  NULL, NULL);
  testcorr_sample(cpu, "runtime.goexit;main.persistLoop;main.persist", NULL, 60, NULL, NULL);
  json_t *iv = took(2000);
  testcorr_interval(iv, 0, "GET /presence", 500, 1.0, 10.0, 1.5);
  testcorr_interval(iv, 0, "POST /beat", 500, 0.5, 40.0, 2.0);
  correlate_window w[3] = {{0, 60000, "cpu", cpu}, {0, 60000, "mutex", mu}, {0, 60000, "block", bl}};
  correlate_input in = {w, 3, iv, NULL};
  json_t *fs = NULL;
  ck_assert_int_eq(correlate_findings(&in, &fs), 0);
  ck_assert_uint_eq(locks(fs, "main.persist"), 1);
  json_t *f = json_array_get(fs, 0);
  ck_assert(json_is_null(json_object_get(f, "request")) || !json_object_get(f, "request"));
  ck_assert_str_eq(json_string_value(json_object_get(f, "waiters")), "GET /presence");
  double before = json_number_value(json_object_get(f, "score"));
  json_t *beat = json_pack("{s:s,s:s,s:s,s:f,s:s}", "kind", "wait", "request", "POST /beat", "function",
                           "main.beat", "score", 3.0, "evidence", "e");
  json_array_append_new(fs, beat);
  corrrank_weigh_tails(fs, iv);
  ck_assert_double_eq_tol(json_number_value(json_object_get(f, "score")), before - 0.75, 1e-9);
  ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(f, "evidence")), "waiters' request's p99"));
  json_decref(fs);
  json_decref(iv);
  pprof_free(mu);
  pprof_free(bl);
  pprof_free(cpu);
}
END_TEST

/* An error log fsyncs under the log's mutex: Go's mutex profile charges each wait to the Unlock that ends it,
 * so the access lines queued behind the fsync hand the lock on and Infof's Unlock records 0.43 s, Errorf's
 * 0.16 s. The goroutine polls see Errorf parked in the fsync beneath itself (holding across the wait), Infof
 * only queued in Lock, and the flusher parked on its ticker with almost no delay of its own: Errorf is named.
 */
START_TEST(queue_handing_the_lock_on_is_the_holders) {
  pprof_profile *mu = pprof_create("contentions", "count"), *gr = pprof_create("goroutine", "count");
  ck_assert_int_eq(pprof_add_sample_type(mu, "delay", "nanoseconds"), 0);
  add(mu, "runtime.goexit;main.ingestOne;main.(*eventLog).Infof;sync.(*Mutex).Unlock", 150, 430000000LL);
  add(mu, "runtime.goexit;main.ingestOne;main.(*eventLog).Errorf;sync.(*Mutex).Unlock", 40, 160000000LL);
  add(mu, "runtime.goexit;main.openEventLog.func1;sync.(*Mutex).Unlock", 1, 90000LL);
  add(gr,
      "runtime.goexit;main.ingestOne;main.(*eventLog).Errorf;os.(*File).Sync;syscall.Fsync;syscall.Syscall",
      12, 0);
  add(gr,
      "runtime.goexit;main.ingestOne;main.(*eventLog).Infof;sync.(*Mutex).Lock;sync.(*Mutex).lockSlow;"
      "runtime.gopark",
      58, 0);
  add(gr, "runtime.goexit;main.openEventLog.func1;runtime.chanrecv2;runtime.gopark", 170, 0);
  correlate_window w[2] = {{0, 60000, "mutex", mu}, {0, 60000, "goroutine", gr}};
  correlate_input in = {w, 2, NULL, NULL};
  json_t *fs = NULL;
  ck_assert_int_eq(correlate_findings(&in, &fs), 0);
  ck_assert_uint_eq(locks(fs, "main.(*eventLog).Errorf"), 1);
  ck_assert_uint_eq(locks(fs, "main.(*eventLog).Infof"), 0);
  json_decref(fs);
  pprof_free(mu);
  pprof_free(gr);
}
END_TEST

CHECK_MAIN("corrlock", 0, block_readers_are_not_the_holder, block_waiter_is_not_the_holder,
           few_long_waits_are_enough, pool_waiters_name_the_holder, library_pool_names_the_service_holder,
           goroutine_polls_name_the_holder, python_semaphore_names_the_holder,
           rwmutex_long_reader_is_the_holder, minor_lock_ranks_last, python_lock_waiters_name_the_holder,
           waits_on_the_lock_rank_below_it, background_lock_is_weighed_by_its_waiters,
           queue_handing_the_lock_on_is_the_holders)
