/* test_master.c - the master loop and three worker agents over a real ipc:// socket with the real
 * protocol and key, each agent driving a fake engine that records known latencies: the merged totals and
 * percentiles in summary.json equal the merge of the workers' own histograms, and the plan split the
 * users exactly. */
#include <check.h>
#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/transport.h"
#include "master/master.h"
#include "tests/support/checkrun.h"
#include "tests/support/testrun.h"
#include "worker/agent.h"

#define NWORKERS 3

struct engine {
  engine_assignment a;
  int64_t start_ms, length_ms;
  int next;
  int stopped;
  int seed;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static hist *expected;
static int64_t expected_count;
static double users_assigned;
static int starts;
static double share_now[8];   /* current users of each worker (by worker_slot) */
static int64_t bases_seen[8]; /* the vu_id_base of each worker, in the order their engines started */
static int nbases;
static int names_each = 1;         /* request names per interval: more make big stats frames */
static int64_t interval_ms = 1000; /* the fake run's interval */
/* stalled_master_counts_all's request names per interval: 999 make ~0.33 MB frames; ThreadSanitizer runs
 * the master's merging ~10x slower, so its build sends ~0.1 MB frames (still over what the bus holds while
 * the master stands still) lest the master's own merging stall it past the workers' 10 s */
#if defined(__SANITIZE_THREAD__)
#define STALL_NAMES 300
#else
#define STALL_NAMES 999
#endif

/* The worker an assignment is for, told apart by its first VU id (call with lock held). */
static int worker_slot(int64_t vu_id_base) {
  for (int i = 0; i < nbases; i++)
    if (bases_seen[i] == vu_id_base) return i;
  ck_assert_int_lt(nbases, 8);
  bases_seen[nbases] = vu_id_base;
  return nbases++;
}

static int fake_load(const char *chunk, const char *src, size_t len, options *out, char *err, size_t errlen) {
  (void)chunk, (void)err, (void)errlen;
  ck_assert_str_eq(src, "-- fake scenario");
  ck_assert_int_eq(len, strlen("-- fake scenario"));
  memset(out, 0, sizeof *out);
  out->interval_ns = interval_ms * 1000000;
  return 0;
}

static int fake_start(const engine_assignment *a, engine **out, char *err, size_t errlen) {
  engine *e = calloc(1, sizeof *e);
  (void)err, (void)errlen;
  e->a = *a;
  e->a.resume_from = NULL;
  e->next = a->resume_from ? a->resume_from->next : 0; /* resumed after a silence stop: go on from there */
  e->start_ms = a->start_wall_ns / 1000000;
  for (size_t i = 0; i < a->nstages; i++) e->length_ms += a->stages[i].duration_ns / 1000000;
  pthread_mutex_lock(&lock);
  e->seed = worker_slot(a->vu_id_base) + 1;
  users_assigned += a->stages[a->nstages - 1].target;
  share_now[worker_slot(a->vu_id_base)] = a->stages[a->nstages - 1].target;
  starts++;
  pthread_mutex_unlock(&lock);
  *out = e;
  return 0;
}

/* One interval per second of the run: 40 + 10*seed + k requests, latencies depending on seed and k. */
static int fake_collect(engine *e, stats_interval **out) {
  int64_t now_ms = clock_wall_ns() / 1000000, start = e->start_ms + e->next * interval_ms;
  stats_interval *iv;

  if (start >= e->start_ms + e->length_ms || now_ms < start + interval_ms) return -EAGAIN;
  stats_create(&iv, start, interval_ms);
  stats_entry *x = stats_entry_get(iv, "GET /x", "GET");
  int n = 40 + 10 * e->seed + e->next;
  for (int i = 0; i < n; i++) {
    int64_t us = 200 + (int64_t)e->seed * 1000 * (i % 7) + i * 13 + e->next * 5000;
    stats_entry_record(x, us, us);
    pthread_mutex_lock(&lock);
    hist_record(expected, us);
    expected_count++;
    pthread_mutex_unlock(&lock);
  }
  for (int k = 1; k < names_each; k++) { /* a request and its exemplar under names of their own */
    stats_exemplar ex = {"0123456789abcdef0123456789abcdef", "0123456789abcdef", 300 + k, start + k};
    char name[32];
    snprintf(name, sizeof name, "GET /n%d", k);
    stats_entry *y = stats_entry_get(iv, name, "GET");
    stats_entry_record(y, 300 + k, 300 + k);
    stats_entry_exemplar(y, &ex, (uint64_t)k);
    pthread_mutex_lock(&lock);
    hist_record(expected, 300 + k);
    expected_count++;
    pthread_mutex_unlock(&lock);
  }
  iv->users = 2;
  e->next++;
  *out = iv;
  return 0;
}

static int fake_reassign(engine *e, const options_stage *s, size_t n, int64_t v) {
  (void)v;
  pthread_mutex_lock(&lock);
  share_now[worker_slot(e->a.vu_id_base)] = s[n - 1].target;
  pthread_mutex_unlock(&lock);
  return 0;
}
static void fake_stop(engine *e) {
  e->stopped = 1;
}
static int fake_done(const engine *e) {
  return e->stopped || clock_wall_ns() / 1000000 >= e->start_ms + e->length_ms + 1000;
}
static void fake_destroy(engine *e) {
  free(e);
}
static int fake_threads(const engine *e) {
  (void)e;
  return 1;
}

/* Every fake worker says its engine threads are 95 % busy: run.json must carry it per worker. */
static int fake_cpu(const engine *e) {
  (void)e;
  return 950;
}

static const agent_engine_ops fake_ops = {fake_load, fake_start,   fake_collect, fake_reassign, fake_stop,
                                          fake_done, fake_destroy, fake_threads, fake_cpu,      NULL};

typedef struct harness {
  atomic_int cancel[NWORKERS];
  pthread_t tids[NWORKERS];
  agent_config cfgs[NWORKERS];
  char ids[NWORKERS][16];
  char url[128];
  uint8_t key[TRANSPORT_KEY_LEN];
  int rcs[NWORKERS];
  int64_t orphan_ns; /* the workers' --orphan-timeout; 0 = 10 s */
} harness;

static void *run_agent(void *arg) {
  return (void *)(intptr_t)agent_run(arg);
}

static void spawn(void *ud) {
  harness *h = ud;
  for (int i = 0; i < NWORKERS; i++) {
    snprintf(h->ids[i], sizeof h->ids[i], "fake-%d", i + 1);
    h->cfgs[i] = (agent_config){.master_url = h->url,
                                .key = h->key,
                                .id = h->ids[i],
                                .threads = 2,
                                .orphan_timeout_ns = h->orphan_ns ? h->orphan_ns : 10000000000LL,
                                .ops = &fake_ops,
                                .once = 1, /* leave when the run ends, so the test can join them */
                                .cancel = &h->cancel[i]};
    pthread_create(&h->tids[i], NULL, run_agent, &h->cfgs[i]);
  }
}

/* The master_config of a fake closed run of 7 users for duration_ns, NWORKERS fake agents spawned when it
 * listens: h (cleared) gets the ipc address and a fresh key, o (cleared) the options, out (out_size) the
 * run directory; tag names both after the pid. */
static master_config fake_run(harness *h, options *o, const char *tag, char *out, size_t out_size,
                              int64_t duration_ns) {
  static const char src[] = "-- fake scenario";
  memset(h, 0, sizeof *h);
  memset(o, 0, sizeof *o);
  snprintf(h->url, sizeof h->url, "ipc:///tmp/loadctl-test-%s-%d.ipc", tag, (int)getpid());
  snprintf(out, out_size, "/tmp/loadctl-test-%s-%d", tag, (int)getpid());
  transport_key_random(h->key);
  snprintf(o->name, sizeof o->name, "fake");
  o->model = OPTIONS_CLOSED;
  o->users = 7;
  o->duration_ns = duration_ns;
  o->interval_ns = interval_ms * 1000000;
  return (master_config){.scenario_path = "fake.lua",
                         .script_name = "fake.lua",
                         .script_source = src,
                         .script_len = strlen(src),
                         .opt = o,
                         .listen = h->url,
                         .key = h->key,
                         .expect_workers = NWORKERS,
                         .expect_timeout_ns = 10000000000LL,
                         .out_dir = out,
                         .quiet = true,
                         .on_listening = spawn,
                         .ud = h};
}

START_TEST(three_workers_exact) {
  harness h;
  options o;
  char out[256], path[300];
  master_config mc = fake_run(&h, &o, "master", out, sizeof out, 3000000000LL);
  ck_assert_int_eq(hist_create(&expected), 0);
  ck_assert_int_eq(master_run(&mc), 0);
  for (int i = 0; i < NWORKERS; i++) {
    void *rc;
    pthread_join(h.tids[i], &rc);
    ck_assert_int_eq((int)(intptr_t)rc, 0);
  }
  ck_assert_int_eq(starts, NWORKERS);
  ck_assert_double_eq(users_assigned, 7); /* 3,2,2 */
  /* VU ids dense over the workers: 1..3, 4..5, 6..7 (data.csv():for_vu() rows do not collide) */
  int64_t bsum = 0, lo = INT64_MAX, hi = 0;
  ck_assert_int_eq(nbases, NWORKERS);
  for (int i = 0; i < nbases; i++) {
    bsum += bases_seen[i];
    lo = bases_seen[i] < lo ? bases_seen[i] : lo;
    hi = bases_seen[i] > hi ? bases_seen[i] : hi;
  }
  ck_assert_int_eq(lo, 0);
  ck_assert_int_eq(hi, 5);
  ck_assert_int_eq(bsum, 0 + 3 + 5);
  snprintf(path, sizeof path, "%s/summary.json", out);
  json_error_t jerr;
  json_t *sum = json_load_file(path, 0, &jerr);
  ck_assert_msg(sum != NULL, "%s", jerr.text);
  json_t *req = json_array_get(json_object_get(sum, "requests"), 0);
  ck_assert_ptr_nonnull(req);
  ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(sum, "totals"), "requests")),
                   expected_count);
  ck_assert_int_eq(json_integer_value(json_object_get(req, "count")), expected_count);
  /* 3 workers x 3 intervals: (50+60+70)*3 + 3*(0+1+2) */
  ck_assert_int_eq(expected_count, 549);
  double p99 = json_number_value(json_object_get(req, "p99_ms"));
  double p50 = json_number_value(json_object_get(req, "p50_ms"));
  ck_assert_double_eq_tol(p99, (double)hist_value_at_percentile(expected, 99) / 1000.0, 1e-6);
  ck_assert_double_eq_tol(p50, (double)hist_value_at_percentile(expected, 50) / 1000.0, 1e-6);
  /* each worker's CPU from its heartbeats while it ran: 95 % every second */
  json_t *workers = json_object_get(json_object_get(sum, "run"), "workers");
  ck_assert_uint_eq(json_array_size(workers), NWORKERS);
  for (size_t i = 0; i < NWORKERS; i++) {
    json_t *w = json_array_get(workers, i);
    ck_assert_double_eq_tol(json_number_value(json_object_get(w, "cpu_max_pct")), 95.0, 1e-9);
    ck_assert_double_eq_tol(json_number_value(json_object_get(w, "cpu_mean_pct")), 95.0, 1e-9);
    ck_assert_int_ge(json_integer_value(json_object_get(w, "cpu_hot_s")), 1);
  }
  json_decref(sum);
  hist_destroy(expected);
  testrun_remove(out);
}
END_TEST

static int starts_now(void) {
  pthread_mutex_lock(&lock);
  int n = starts;
  pthread_mutex_unlock(&lock);
  return n;
}

static void *cancel_later(void *arg) {
  harness *h = arg;
  while (starts_now() < NWORKERS) usleep(10000);
  usleep(1500000);
  atomic_store(&h->cancel[2], 1); /* worker 3 vanishes without a word (like kill -9) */
  return NULL;
}

START_TEST(lost_worker_share_moves) {
  harness h;
  options o;
  pthread_t killer;
  char out[256];
  master_config mc = fake_run(&h, &o, "master2", out, sizeof out, 7000000000LL);
  starts = 0;
  users_assigned = 0;
  nbases = 0;
  ck_assert_int_eq(hist_create(&expected), 0);
  pthread_create(&killer, NULL, cancel_later, &h);
  int64_t t0 = clock_mono_ns();
  ck_assert_int_eq(master_run(&mc), 0);
  pthread_join(killer, NULL);
  for (int i = 0; i < NWORKERS; i++) pthread_join(h.tids[i], NULL);
  /* all 7 users now on the two that are left (4 + 3, threads 2:2); the lost one keeps its old share of 2 or 3
   */
  int found = 0;
  for (int lost = 0; lost < NWORKERS; lost++) {
    double a = share_now[(lost + 1) % 3], b = share_now[(lost + 2) % 3];
    if (a + b == 7 && (a == 4 || b == 4) && (share_now[lost] == 2 || share_now[lost] == 3)) found = 1;
  }
  ck_assert_msg(found, "shares %g %g %g", share_now[0], share_now[1], share_now[2]);
  ck_assert((clock_mono_ns() - t0) < 20000000000LL);
  hist_destroy(expected);
  testrun_remove(out);
}
END_TEST

/* The master's loop stands still 3 s mid-run (LOADCTL_TEST_MASTER_STALL) while three workers send stats
 * of 999 names each (~0.33 MB a frame) every 0.5 s: frames sent while the master is not reading are dropped
 * by nanomsg's bus, asked for again and merged, so summary.json counts every request, with nothing lost. */
START_TEST(stalled_master_counts_all) {
  harness h;
  options o;
  char out[256], path[300];
  interval_ms = 500; /* so several big frames go out before the workers hold them (master quiet 2 s) */
  master_config mc = fake_run(&h, &o, "master3", out, sizeof out, 4000000000LL);
  expected_count = 0;
  starts = 0;
  nbases = 0;
  names_each = STALL_NAMES;
  ck_assert_int_eq(hist_create(&expected), 0);
  setenv("LOADCTL_TEST_MASTER_STALL", "1.2:2.5", 1);
  ck_assert_int_eq(master_run(&mc), 0);
  unsetenv("LOADCTL_TEST_MASTER_STALL");
  for (int i = 0; i < NWORKERS; i++) pthread_join(h.tids[i], NULL);
  names_each = 1;
  interval_ms = 1000;
  snprintf(path, sizeof path, "%s/summary.json", out);
  json_error_t jerr;
  json_t *sum = json_load_file(path, 0, &jerr);
  ck_assert_msg(sum != NULL, "%s", jerr.text);
  json_t *run = json_object_get(sum, "run");
  ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(sum, "totals"), "requests")),
                   expected_count);
  ck_assert_int_eq(expected_count,
                   3 * 8 * (STALL_NAMES - 1) + (50 + 60 + 70) * 8 + 3 * (0 + 1 + 2 + 3 + 4 + 5 + 6 + 7));
  ck_assert_int_eq(json_integer_value(json_object_get(run, "stats_lost")), 0);
  ck_assert_uint_eq(json_array_size(json_object_get(run, "workers_lost")), 0);
  json_decref(sum);
  hist_destroy(expected);
  testrun_remove(out);
}
END_TEST

/* The master's loop stands still 14 s, from 1.2 s into a 4 s run (a master stopped or starved that long;
 * the workers' orphan timeout is 60 s as by default) while ~0.33 MB frames are on their way: it is back
 * after the end of the run plus the 10 s it waits for workers to report the end of their load, which it
 * judged on the wall clock, its own stall included (3 of 3 workers "lost", stats lost). Now its stalls do
 * not count; the frames the transport dropped are asked for again and still held (a worker keeps sent
 * stats until the master acknowledges them), and summary.json counts every request. */
START_TEST(long_stall_keeps_sent_stats) {
  harness h;
  options o;
  char out[256], path[300];
  interval_ms = 500;
  master_config mc = fake_run(&h, &o, "master4", out, sizeof out, 4000000000LL);
  h.orphan_ns = 60000000000LL;
  expected_count = 0;
  starts = 0;
  nbases = 0;
  names_each = STALL_NAMES;
  ck_assert_int_eq(hist_create(&expected), 0);
  setenv("LOADCTL_TEST_MASTER_STALL", "1.2:14", 1);
  int rc = master_run(&mc);
  unsetenv("LOADCTL_TEST_MASTER_STALL");
  for (int i = 0; i < NWORKERS; i++) pthread_join(h.tids[i], NULL);
  names_each = 1;
  interval_ms = 1000;
  snprintf(path, sizeof path, "%s/summary.json", out);
  json_error_t jerr;
  json_t *sum = json_load_file(path, 0, &jerr);
  ck_assert_msg(sum != NULL, "%s", jerr.text);
  json_t *run = json_object_get(sum, "run");
  ck_assert_int_eq(json_integer_value(json_object_get(run, "stats_lost")), 0);
  ck_assert_uint_eq(json_array_size(json_object_get(run, "workers_lost")), 0);
  ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(sum, "totals"), "requests")),
                   expected_count);
  ck_assert_int_eq(expected_count,
                   3 * 8 * (STALL_NAMES - 1) + (50 + 60 + 70) * 8 + 3 * (0 + 1 + 2 + 3 + 4 + 5 + 6 + 7));
  ck_assert_int_eq(rc, 0);
  json_decref(sum);
  hist_destroy(expected);
  testrun_remove(out);
}
END_TEST

CHECK_MAIN("master", 90, three_workers_exact, lost_worker_share_moves, stalled_master_counts_all,
           long_stall_keeps_sent_stats)
