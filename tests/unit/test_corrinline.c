/* test_corrinline.c - a lock taken inline (corrinline.h) through correlate_findings, on synthetic Python
 * runs of ten 1 s windows (wall-clock and CPU profiles of the same threads): requests parked at one line of
 * RateCache.get (`with self._lock:`) in the seconds one request reloads the cache beneath get (CPU work) name
 * the reload; requests parked in logging's Handler.acquire while one handler's emit fsyncs beneath
 * Handler.handle (I/O, no CPU) name emit; requests passing the lock briefly, parked there as much in every
 * second, name nothing; nor does a line where requests wait on their own I/O, on CPU the same seconds. */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "master/profile/correlate.h"
#include "tests/support/checkrun.h"
#include "tests/support/teststack.h"

enum { NWIN = 10 };

#define LIB "@/usr/lib/python3.11/"
#define SERVE "threading.Thread.run" LIB "threading.py;svc.app.app;svc.app.dispatch"

/* A labelled sample (ticks of 10 ms) of request name: wall ns or CPU ns from cpu_share of its ticks. */
static void sample(pprof_profile *p, const char *frames, const char *name, int64_t ticks, double cpu_share) {
  uint32_t st[24];
  size_t k = test_stack(p, frames, st, 24);
  int64_t ns = ticks * 10000000LL, vals[2] = {cpu_share < 0 ? ticks : (int64_t)(ticks * cpu_share),
                                              cpu_share < 0 ? ns : (int64_t)((double)ns * cpu_share)};
  pprof_label lb = {(uint32_t)pprof_intern(p, "loadctl.name"), (uint32_t)pprof_intern(p, name), 0, 0};
  if (vals[0] || cpu_share < 0) ck_assert_int_eq(pprof_add_sample(p, st, k, vals, &lb, 1), 0);
}

/* One stack in window w: its wall samples (ticks) and its CPU ones (cpu: share of the ticks on CPU). */
typedef struct run {
  pprof_profile *wall[NWIN], *cpu[NWIN];
  correlate_window win[2 * NWIN];
} run;

static void run_init(run *r) {
  for (int w = 0; w < NWIN; w++) {
    r->wall[w] = pprof_create("samples", "count");
    r->cpu[w] = pprof_create("samples", "count");
    ck_assert_int_eq(pprof_add_sample_type(r->wall[w], "wall", "nanoseconds"), 0);
    ck_assert_int_eq(pprof_add_sample_type(r->cpu[w], "cpu", "nanoseconds"), 0);
    r->win[2 * w] = (correlate_window){w * 1000, (w + 1) * 1000, "wall", r->wall[w]};
    r->win[2 * w + 1] = (correlate_window){w * 1000, (w + 1) * 1000, "cpu", r->cpu[w]};
  }
}

static void put(run *r, int w, const char *frames, const char *name, int64_t ticks, double cpu) {
  sample(r->wall[w], frames, name, ticks, -1);
  sample(r->cpu[w], frames, name, ticks, cpu);
}

static json_t *run_findings(run *r) {
  correlate_input in = {r->win, 2 * NWIN, NULL, NULL};
  json_t *out = NULL;
  ck_assert_int_eq(correlate_findings(&in, &out), 0);
  for (int w = 0; w < NWIN; w++) pprof_free(r->wall[w]), pprof_free(r->cpu[w]);
  return out;
}

static size_t locks(json_t *fs, const char *fn) {
  size_t i, n = 0;
  json_t *f;
  json_array_foreach(fs, i, f) n += strcmp(json_string_value(json_object_get(f, "kind")), "lock") == 0 &&
                                    strcmp(json_string_value(json_object_get(f, "function")), fn) == 0;
  return n;
}

#define GET SERVE ";svc.app.search;svc.rates.RateCache.quote;svc.rates.RateCache.get"

/* Every second, searches price their rooms (80 samples on CPU) and pass get's lock (1 sample parked). In
 * seconds 2 and 7 one search reloads the cache beneath get (40 samples, on CPU; the csv reader beneath it)
 * and the others pile up parked at get's line (60 samples, 5 % on CPU). Named: _reload. With pile = 0 the
 * same reloads run, but the requests' parked samples at get are 10 in every second (a brief lock, or each
 * request's own wait there): nothing. */
START_TEST(inline_lock_cpu_holder) {
  for (int pile = 1; pile >= 0; pile--) {
    run r;
    run_init(&r);
    for (int w = 0; w < NWIN; w++) {
      int reload = w == 2 || w == 7;
      put(&r, w, SERVE ";svc.app.search;svc.rates.RateCache.quote;svc.rates.price", "GET /search", 80, 1.0);
      put(&r, w, GET, "GET /search", pile ? (reload ? 60 : 1) : 10, 0.05);
      if (reload)
        put(&r, w, GET ";svc.rates.RateCache._reload;csv.DictReader.__next__" LIB "csv.py", "GET /search", 40,
            0.95);
    }
    json_t *fs = run_findings(&r);
    ck_assert_uint_eq(locks(fs, "svc.rates.RateCache._reload"), (size_t)pile);
    ck_assert_uint_eq(locks(fs, "svc.rates.RateCache.get"), 0);
    json_decref(fs);
  }
}
END_TEST

#define HANDLE                                                           \
  SERVE ";svc.app.cancel;svc.bookings.cancel;logging.Logger.warning" LIB \
        "logging/__init__.py;"                                           \
        "logging.Logger.handle" LIB "logging/__init__.py;logging.Handler.handle" LIB "logging/__init__.py"

/* Cancellations log a WARNING through an audit handler whose emit fsyncs inside logging's handler lock: in
 * seconds 1, 4 and 8 an fsync stalls (emit parked 50 samples, no CPU) and the other requests logging pile up
 * in Handler.acquire (80 samples, no CPU); otherwise emit is quick (2 samples) and acquire rarely seen (1).
 * Named: emit (beneath Handler.handle, the frame that takes the lock), not the library's acquire. Without the
 * pile-up (acquire 10 samples every second) nothing. */
START_TEST(inline_lock_io_holder) {
  for (int pile = 1; pile >= 0; pile--) {
    run r;
    run_init(&r);
    for (int w = 0; w < NWIN; w++) {
      int stall = w == 1 || w == 4 || w == 8;
      put(&r, w, SERVE ";svc.app.search;svc.rates.price", "GET /search", 80, 1.0);
      put(&r, w, HANDLE ";svc.audit.DurableFileHandler.emit", "POST /cancel", stall ? 50 : 2, 0.0);
      put(&r, w, HANDLE ";logging.Handler.acquire" LIB "logging/__init__.py", "POST /cancel",
          pile ? (stall ? 80 : 1) : 10, 0.0);
    }
    json_t *fs = run_findings(&r);
    ck_assert_uint_eq(locks(fs, "svc.audit.DurableFileHandler.emit"), (size_t)pile);
    json_decref(fs);
  }
}
END_TEST

/* The same pile-up as inline_lock_cpu_holder's, but the work beneath get in seconds 2 and 7 is get's own list
 * comprehension (one request's loop, a GIL-bound service's other threads waiting meanwhile): no lock finding,
 * neither on the comprehension nor on get. */
START_TEST(own_loop_is_not_a_holder) {
  run r;
  run_init(&r);
  for (int w = 0; w < NWIN; w++) {
    int loop = w == 2 || w == 7;
    put(&r, w, SERVE ";svc.app.search;svc.rates.RateCache.quote;svc.rates.price", "GET /search", 80, 1.0);
    put(&r, w, GET, "GET /search", loop ? 60 : 1, 0.05);
    if (loop)
      put(&r, w, GET ";svc.rates.RateCache.get.<locals>.<listcomp>;csv.DictReader.__next__" LIB "csv.py",
          "GET /search", 40, 0.95);
  }
  json_t *fs = run_findings(&r);
  ck_assert_uint_eq(locks(fs, "svc.rates.RateCache.get.<locals>.<listcomp>"), 0);
  ck_assert_uint_eq(locks(fs, "svc.rates.RateCache.get"), 0);
  json_decref(fs);
}
END_TEST

/* A line where requests wait on CPU (60 % of its samples: computing in C, json.dumps) is not parked: the same
 * pile-up as inline_lock_cpu_holder's, but on CPU, names nothing. */
START_TEST(busy_line_is_not_a_lock) {
  run r;
  run_init(&r);
  for (int w = 0; w < NWIN; w++) {
    int reload = w == 2 || w == 7;
    put(&r, w, SERVE ";svc.app.search;svc.rates.RateCache.quote;svc.rates.price", "GET /search", 80, 1.0);
    put(&r, w, GET, "GET /search", reload ? 60 : 1, 0.6);
    if (reload) put(&r, w, GET ";svc.rates.RateCache._reload", "GET /search", 40, 0.95);
  }
  json_t *fs = run_findings(&r);
  ck_assert_uint_eq(locks(fs, "svc.rates.RateCache._reload"), 0);
  json_decref(fs);
}
END_TEST

/* A Go sample of n events/values (pprof order: count, then delay or CPU ns). */
static void go(pprof_profile *p, const char *frames, int64_t n, int64_t v) {
  uint32_t st[16];
  size_t k = test_stack(p, frames, st, 16);
  int64_t vals[2] = {n, v};
  ck_assert_int_eq(pprof_add_sample(p, st, k, vals, NULL, 0), 0);
}

/* go() for a request's sample (labelled with its name). */
static void go_req(pprof_profile *p, const char *frames, int64_t n, int64_t v) {
  uint32_t st[16];
  size_t k = test_stack(p, frames, st, 16);
  int64_t vals[2] = {n, v};
  pprof_label lb = {(uint32_t)pprof_intern(p, "loadctl.name"), (uint32_t)pprof_intern(p, "POST /evict"), 0,
                    0};
  ck_assert_int_eq(pprof_add_sample(p, st, k, vals, &lb, 1), 0);
}

#define CACHE "runtime.goexit;main.(*profileCache)."

/* A Go cache behind a sync.RWMutex: every read takes the read lock; in seconds 3 and 8 the janitor's
 * evictIdle sorts the whole cache under the write lock (30 CPU samples, none elsewhere) and the readers
 * queue in RLock (40 contentions, 2 s; 2 and 10 ms in the other seconds). The mutex profile saw only one
 * Unlock of each writer (too few to name), the block profile only readers. Named: evictIdle, not put (a
 * writer whose CPU is the same every second). With evictIdle computing as much every second, nothing; nor
 * when evictIdle is a request's own work (labelled: the request methods see what runs under it). */
START_TEST(rwmutex_writer_computing) {
  for (int mode = 2; mode >= 0; mode--) {
    int rises = mode != 0, request = mode == 1;
    pprof_profile *blk[NWIN], *cpu[NWIN], *mu = pprof_create("contentions", "count");
    correlate_window win[2 * NWIN + 1];
    ck_assert_int_eq(pprof_add_sample_type(mu, "delay", "nanoseconds"), 0);
    go(mu, CACHE "janitor;" CACHE "evictIdle;sync.(*RWMutex).Unlock", 1, 100000);
    go(mu, "runtime.goexit;main.serve;" CACHE "put;sync.(*RWMutex).Unlock", 1, 50000);
    for (int w = 0; w < NWIN; w++) {
      int evict = w == 3 || w == 8;
      blk[w] = pprof_create("contentions", "count");
      cpu[w] = pprof_create("samples", "count");
      ck_assert_int_eq(pprof_add_sample_type(blk[w], "delay", "nanoseconds"), 0);
      ck_assert_int_eq(pprof_add_sample_type(cpu[w], "cpu", "nanoseconds"), 0);
      go(blk[w],
         "runtime.goexit;main.serve;" CACHE "get;sync.(*RWMutex).RLock;sync.runtime_SemacquireRWMutexR",
         evict ? 40 : 2, evict ? 2000000000LL : 10000000LL);
      go(cpu[w], "runtime.goexit;main.serve;" CACHE "get", 50, 500000000LL);
      go(cpu[w], "runtime.goexit;main.serve;" CACHE "put", 10, 100000000LL);
      int64_t e = rises ? (evict ? 30 : 0) : 6;
      if (e)
        (request ? go_req : go)(cpu[w], CACHE "janitor;" CACHE "evictIdle;sort.Slice", e, e * 10000000LL);
      win[2 * w] = (correlate_window){w * 1000, (w + 1) * 1000, "block", blk[w]};
      win[2 * w + 1] = (correlate_window){w * 1000, (w + 1) * 1000, "cpu", cpu[w]};
    }
    win[2 * NWIN] = (correlate_window){0, NWIN * 1000, "mutex", mu};
    correlate_input in = {win, 2 * NWIN + 1, NULL, NULL};
    json_t *fs = NULL;
    ck_assert_int_eq(correlate_findings(&in, &fs), 0);
    ck_assert_uint_eq(locks(fs, "main.(*profileCache).evictIdle"), (size_t)(mode == 2));
    ck_assert_uint_eq(locks(fs, "main.(*profileCache).put"), 0);
    json_decref(fs);
    for (int w = 0; w < NWIN; w++) pprof_free(blk[w]), pprof_free(cpu[w]);
    pprof_free(mu);
  }
}
END_TEST

CHECK_MAIN("corrinline", 0, inline_lock_cpu_holder, inline_lock_io_holder, own_loop_is_not_a_holder,
           busy_line_is_not_a_lock, rwmutex_writer_computing)
