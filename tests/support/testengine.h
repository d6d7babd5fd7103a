/* testengine.h - shared by the engine and script suites: start the local testserver (built next to the
 * test binary), read its /count, run a scenario through the engine to its end, merging every interval,
 * and the suites' main(): their tests in this process beside the server. */
#ifndef LOADCTL_TESTENGINE_H
#define LOADCTL_TESTENGINE_H
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/options.h"
#include "tests/support/checkrun.h"
#include "tests/support/testspawn.h"
#include "worker/engine.h"

static testspawn server_proc;
static int server_port;

/* Start the testserver (testspawn, 60 s at most) on a free port, server_port; the test fails when it does
 * not start. */
static inline void server_up(void) {
  ck_assert_msg(testspawn_start(&server_proc, 60, NULL) == 0,
                "the testserver (built next to this test) did not start");
  server_port = server_proc.port;
}

static inline void server_stop(void) {
  testspawn_stop(&server_proc);
}

/* GET path (/count or /conns) from the server with a plain blocking socket; the number in its body. */
static inline long long server_number(const char *path) {
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)server_port)};
  char buf[512];
  size_t got = 0;
  ssize_t n;
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
  ck_assert_int_eq(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
  char req[128];
  snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n", path);
  ck_assert_int_eq(write(fd, req, strlen(req)), (ssize_t)strlen(req));
  while (got < sizeof buf - 1 && (n = read(fd, buf + got, sizeof buf - 1 - got)) > 0) got += (size_t)n;
  close(fd);
  buf[got] = '\0';
  char *body = strstr(buf, "\r\n\r\n");
  ck_assert_ptr_nonnull(body);
  return strtoll(body + 4, NULL, 10);
}

static inline long long server_count(void) {
  return server_number("/count");
}

/* Start scenario src (options parsed into *o, which the caller keeps) on threads threads, 100 ms from now,
 * VU ids from vu_id_base + 1 (the master's first worker: 0), going on from resume_from's iterations (NULL:
 * a fresh start). */
static inline engine *start_engine(const char *src, int threads, int64_t vu_id_base, options *o,
                                   const engine *resume_from) {
  char err[512];
  engine *e = NULL;
  ck_assert_msg(options_load_source("engine_test.lua", src, strlen(src), o, err, sizeof err) == 0, "%s", err);
  engine_assignment a = {.script_name = "engine_test.lua",
                         .script_source = src,
                         .script_len = strlen(src),
                         .opt = o,
                         .nstages = o->nstages,
                         .max_vus = o->max_vus,
                         .spawn_rate = o->spawn_rate,
                         .start_wall_ns = clock_wall_ns() + 100000000LL,
                         .vu_id_base = vu_id_base,
                         .threads = threads,
                         .run_id = "test-run",
                         .resume_from = resume_from};
  memcpy(a.stages, o->stages, sizeof o->stages);
  if (o->nstages == 0) { /* constant load: jump to the target (zero-length stage), then hold it */
    a.nstages = 2;
    a.stages[0] = (options_stage){0, o->model == OPTIONS_OPEN ? o->rate : o->users};
    a.stages[1] = (options_stage){o->duration_ns, a.stages[0].target};
  }
  ck_assert_msg(engine_start(&a, &e, err, sizeof err) == 0, "%s", err);
  ck_assert_int_eq(engine_threads(e), threads);
  return e;
}

/* Merge every interval of e into total until e is done (at most 10 s). */
static inline void collect_until_done(engine *e, stats_interval *total) {
  stats_interval *one;
  int64_t deadline = clock_mono_ns() + 10000000000LL;
  for (;;) {
    int done = engine_done(e);
    while (engine_collect(e, &one) == 0) {
      ck_assert_int_eq(stats_merge(total, one), 0);
      stats_destroy(one);
    }
    if (done) break;
    ck_assert_int_lt(clock_mono_ns(), deadline);
    nanosleep(&(struct timespec){0, 20000000}, NULL);
  }
}

/* Run scenario src to its end, merging every interval into one; returns the merged totals. */
static inline stats_interval *run_engine(const char *src, int threads) {
  options o;
  stats_interval *total = NULL;
  engine *e = start_engine(src, threads, 1, &o, NULL);
  ck_assert_int_eq(stats_create(&total, 0, 1000), 0);
  collect_until_done(e, total);
  engine_destroy(e);
  return total;
}

/* run_engine (one thread) of the scenario fmt, a printf format whose one conversion is the port of the
 * testserver started here; asserted to have run at least one iteration. */
static inline stats_interval *run_scenario(const char *fmt) {
  char src[4096];
  server_up();
  snprintf(src, sizeof src, fmt, server_port);
  stats_interval *total = run_engine(src, 1);
  ck_assert_int_gt(total->iterations, 0);
  return total;
}

/* The whole main() of a suite whose tests start the testserver: the n tests (30 s each) in this process, so
 * that they see the server this process forked, then the server stopped. */
static inline int server_suite_run(const char *name, const TTest *const *tests, size_t n) {
  signal(SIGPIPE, SIG_IGN);
  int rc = check_run_mode(check_suite(name, 30, tests, n), CK_NOFORK);
  server_stop();
  return rc;
}

#endif
