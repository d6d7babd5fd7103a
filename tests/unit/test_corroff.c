/* test_corroff.c - the window method off CPU (corroff.h): an epoll loop stalls in blocking calls to a slow
 * dependency in some seconds; its CPU samples only show the backlog it works off after (the router), its
 * off-CPU waits show the call that blocked (below the router and handler every request runs on CPU). Waits
 * on the process's own locks (futex) are left out, and so are the frames where threads idle (more connections
 * waiting for requests is no stall); without off-CPU windows the CPU finding stands. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "master/profile/correlate.h"
#include "tests/support/checkrun.h"
#include "tests/support/testcorr.h"

#define LOOP "faultnative;eventloop_run"

/* 20 one-second windows; in seconds 4-5, 10-11 and 16-17 the loop waits 400 ms in recv under
 * refresh_policies (40 ticks) and p99 doubles; workers queue on a mutex then (lock: 60 ticks, on their
 * own lock, not a cause). CPU: 20 samples of requests a second through route, and 20 more in the stalled
 * seconds reading the backlog (read_backlog: the CPU window finding). With offcpu 0 no off-CPU windows are
 * recorded (perf without the tracepoint). */
static json_t *stalled_loop(int offcpu) {
  pprof_profile *ps[40];
  correlate_window ws[40];
  size_t n = 0;
  json_t *iv = json_array(), *fs = NULL;
  for (int k = 0; k < 20; k++) {
    int bad = (k % 6) >= 4;
    int64_t t0 = 1000000 + k * 1000;
    ps[n] = pprof_create("samples", "count");
    testcorr_sample(ps[n], LOOP ";serve;route;render_thumb;blend", NULL, 19, NULL, NULL);
    if (bad) testcorr_sample(ps[n], LOOP ";serve;route;read_backlog", NULL, 20, NULL, NULL);
    testcorr_sample(ps[n], LOOP ";serve;route;render_thumb;watermark_for", NULL, 1, NULL, NULL);
    testcorr_sample(ps[n], "faultnative;start_thread;worker;cache_get", NULL, 2, NULL, NULL);
    ws[n] = (correlate_window){t0, t0 + 1000, "cpu", ps[n]}, n++;
    if (offcpu) {
      ps[n] = pprof_create("samples", "count");
      testcorr_sample(ps[n], LOOP ";epoll_wait;do_epoll_wait;schedule", NULL, bad ? 55 : 97, NULL, NULL);
      if (bad) {
        testcorr_sample(ps[n],
                        LOOP
                        ";serve;route;render_thumb;watermark_for;refresh_policies;rights_fetch;recv;"
                        "sock_recvmsg;schedule",
                        NULL, 40, NULL, NULL);
        testcorr_sample(ps[n],
                        "faultnative;start_thread;worker;cache_get;pthread_mutex_lock;__lll_lock_wait;"
                        "__x64_sys_futex;do_futex;futex_wait;schedule",
                        NULL, 60, NULL, NULL);
      }
      testcorr_sample(ps[n], "faultnative;start_thread;worker;cond_next;nanosleep;schedule", NULL,
                      bad ? 38 : 98, NULL, NULL);
      ws[n] = (correlate_window){t0, t0 + 1000, "offcpu", ps[n]}, n++;
    }
    testcorr_interval(iv, t0, "(all)", 100, 5.0, bad ? 400.0 : 20.0 + (k % 4), 6.0);
  }
  correlate_input in = {ws, n, iv, NULL};
  ck_assert_int_eq(correlate_findings(&in, &fs), 0);
  for (size_t i = 0; i < n; i++) pprof_free(ps[i]);
  json_decref(iv);
  return fs;
}

START_TEST(stall_off_cpu_names_the_blocking_call) {
  json_t *fs = stalled_loop(1), *f = json_array_get(fs, 0);
  ck_assert_uint_ge(json_array_size(fs), 1);
  ck_assert_str_eq(json_string_value(json_object_get(f, "kind")), "window");
  ck_assert_str_eq(json_string_value(json_object_get(f, "profile")), "offcpu");
  /* route and render_thumb run on CPU in every request (context); watermark_for, on 1 of 21 normal CPU
   * samples, is the outermost frame of the rise that normal work hardly runs */
  ck_assert_str_eq(json_string_value(json_object_get(f, "function")), "watermark_for");
  ck_assert_ptr_nonnull(
      strstr(json_string_value(json_object_get(f, "evidence")), "40.0 ticks per second of window vs 0.0"));
  for (size_t i = 1; i < json_array_size(fs); i++) /* the CPU window finding (read_backlog) is replaced */
    ck_assert_str_ne(json_string_value(json_object_get(json_array_get(fs, i), "kind")), "window");
  json_decref(fs);
}
END_TEST

START_TEST(cpu_only_keeps_the_cpu_window) {
  json_t *fs = stalled_loop(0), *f = json_array_get(fs, 0);
  ck_assert_uint_ge(json_array_size(fs), 1);
  ck_assert_str_eq(json_string_value(json_object_get(f, "kind")), "window");
  ck_assert_str_eq(json_string_value(json_object_get(f, "profile")), "cpu");
  ck_assert_str_eq(json_string_value(json_object_get(f, "function")), "read_backlog");
  json_decref(fs);
}
END_TEST

/* A thread-per-connection service whose slow seconds open more connections: more threads wait for their
 * next request in serve_conn's recv (idle: most of the normal windows' waits), and their rise is no stall;
 * the CPU window finding (compaction_loop, the root of the work that rose) stands. */
START_TEST(more_idle_connections_are_no_stall) {
  pprof_profile *ps[40];
  correlate_window ws[40];
  size_t n = 0;
  json_t *iv = json_array(), *fs = NULL;
  for (int k = 0; k < 20; k++) {
    int bad = (k % 6) >= 4;
    int64_t t0 = 1000000 + k * 1000;
    ps[n] = pprof_create("samples", "count");
    testcorr_sample(ps[n], "faultnative;start_thread;serve_conn;render_thumb;blend", NULL, 10, NULL, NULL);
    testcorr_sample(ps[n], "faultnative;start_thread;compaction_loop;compact_cache;blend", NULL, bad ? 70 : 6,
                    NULL, NULL);
    ws[n] = (correlate_window){t0, t0 + 1000, "cpu", ps[n]}, n++;
    ps[n] = pprof_create("samples", "count");
    testcorr_sample(ps[n], "faultnative;start_thread;serve_conn;[libc] __libc_recv;[k] schedule", NULL,
                    bad ? 900 : 600, NULL, NULL);
    testcorr_sample(ps[n], "faultnative;start_thread;compaction_loop;[libc] __nanosleep;[k] schedule", NULL,
                    bad ? 20 : 95, NULL, NULL);
    ws[n] = (correlate_window){t0, t0 + 1000, "offcpu", ps[n]}, n++;
    testcorr_interval(iv, t0, "(all)", 100, 5.0, bad ? 400.0 : 20.0 + (k % 4), 6.0);
  }
  correlate_input in = {ws, n, iv, NULL};
  ck_assert_int_eq(correlate_findings(&in, &fs), 0);
  ck_assert_uint_ge(json_array_size(fs), 1);
  ck_assert_str_eq(json_string_value(json_object_get(json_array_get(fs, 0), "function")), "compaction_loop");
  ck_assert_str_eq(json_string_value(json_object_get(json_array_get(fs, 0), "profile")), "cpu");
  for (size_t i = 0; i < n; i++) pprof_free(ps[i]);
  json_decref(iv);
  json_decref(fs);
}
END_TEST

/* The accept loop was waiting when perf attached: unseen until the first slow seconds bring new
 * connections, then idle in every window. Windows before the first anomalous one are no baseline: no rise. */
START_TEST(unseen_before_the_first_stall_is_no_rise) {
  pprof_profile *ps[20];
  correlate_window ws[20];
  json_t *iv = json_array(), *fs = NULL;
  for (int k = 0; k < 20; k++) {
    int bad = (k % 6) >= 4;
    int64_t t0 = 1000000 + k * 1000;
    ps[k] = pprof_create("samples", "count");
    testcorr_sample(ps[k], "faultnative;start_thread;serve_conn;[libc] __libc_recv;[k] schedule", NULL, 600,
                    NULL, NULL);
    if (k >= 4) /* seen from the first stall on */
      testcorr_sample(ps[k], "faultnative;_start;main;accept_loop;[libc] accept;[k] schedule", NULL, 100,
                      NULL, NULL);
    ws[k] = (correlate_window){t0, t0 + 1000, "offcpu", ps[k]};
    testcorr_interval(iv, t0, "(all)", 100, 5.0, bad ? 400.0 : 20.0 + (k % 4), 6.0);
  }
  correlate_input in = {ws, 20, iv, NULL};
  ck_assert_int_eq(correlate_findings(&in, &fs), 0);
  ck_assert_uint_eq(json_array_size(fs), 0);
  for (int k = 0; k < 20; k++) pprof_free(ps[k]);
  json_decref(iv);
  json_decref(fs);
}
END_TEST

/* Per thread: an accept loop's thread ([tid 1]) waits there all the time it waits; seen 45 ticks a second
 * in the normal windows (some of its waits lost) and 100 in the slow ones. Among 600 ticks of connection
 * threads it is a small share of all waiting, but all of its own thread's: idle, no rise. */
START_TEST(a_threads_own_idle_wait_is_no_rise) {
  pprof_profile *ps[20];
  correlate_window ws[20];
  json_t *iv = json_array(), *fs = NULL;
  for (int k = 0; k < 20; k++) {
    int bad = (k % 6) >= 4;
    int64_t t0 = 1000000 + k * 1000;
    ps[k] = pprof_create("samples", "count");
    testcorr_sample(ps[k], "faultnative;[tid 2];start_thread;serve_conn;[libc] __libc_recv;[k] schedule",
                    NULL, 600, NULL, NULL);
    testcorr_sample(ps[k], "faultnative;[tid 1];_start;main;accept_loop;[libc] accept;[k] schedule", NULL,
                    bad ? 100 : 45, NULL, NULL);
    ws[k] = (correlate_window){t0, t0 + 1000, "offcpu", ps[k]};
    testcorr_interval(iv, t0, "(all)", 100, 5.0, bad ? 400.0 : 20.0 + (k % 4), 6.0);
  }
  correlate_input in = {ws, 20, iv, NULL};
  ck_assert_int_eq(correlate_findings(&in, &fs), 0);
  ck_assert_uint_eq(json_array_size(fs), 0);
  for (int k = 0; k < 20; k++) pprof_free(ps[k]);
  json_decref(iv);
  json_decref(fs);
}
END_TEST

CHECK_MAIN("corroff", 0, a_threads_own_idle_wait_is_no_rise, unseen_before_the_first_stall_is_no_rise,
           stall_off_cpu_names_the_blocking_call, cpu_only_keeps_the_cpu_window,
           more_idle_connections_are_no_stall)
