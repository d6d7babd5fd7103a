/* test_perfsplit.c - perf script text cut into windows by sample time: counts per window, wall mapping of
 * monotonic, realtime and unknown clocks, untimed events, bad arguments. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "master/profile/folded.h"
#include "master/profile/perfsplit.h"
#include "tests/support/checkrun.h"

/* n events of comm at sample times t0 + i * step (seconds), each with a two-frame stack. */
static size_t add_events(char *out, size_t size, const char *leaf, double t0, double step, int n) {
  size_t len = strlen(out);
  for (int i = 0; i < n; i++)
    len += (size_t)snprintf(out + len, size - len,
                            "burn 4242/4243 [001] %.6f:   10101010 cpu-clock:ppp: \n"
                            "\t    55d0c0de1000 %s+0x1c (/usr/bin/burn)\n"
                            "\t    55d0c0de2000 main+0x2a (/usr/bin/burn)\n\n",
                            t0 + i * step, leaf);
  return len;
}

/* A command run at wall 1700000000000 ms (== monotonic 16975000 ms) for 3.5 s: 5 samples in its first
 * second, 7 in the second, 3 in the third, times on the monotonic clock. */
START_TEST(three_seconds_three_windows) {
  static char text[65536];
  text[0] = '\0';
  size_t len = add_events(text, sizeof text, "hot", 16975.010, 0.1, 5);
  len = add_events(text, sizeof text, "cold", 16976.005, 0.1, 7);
  len = add_events(text, sizeof text, "hot", 16977.500, 0.1, 3);
  perfsplit_span span = {1700000000000, 1700000003500, 16975000, 16978500};
  perfsplit_window *w = NULL;
  size_t n = 0;
  ck_assert_int_eq(perfsplit_split(text, len, &span, 1000, &w, &n), 0);
  ck_assert_uint_eq(n, 3);
  size_t want[] = {5, 7, 3};
  for (size_t i = 0; i < 3; i++) {
    ck_assert_uint_eq(w[i].events, want[i]);
    ck_assert_int_eq(w[i].start_ms, 1700000000000 + (int64_t)i * 1000);
    ck_assert_int_eq(w[i].end_ms, 1700000000000 + (int64_t)(i + 1) * 1000);
    pprof_profile *p = NULL;
    char err[256];
    ck_assert_int_eq(folded_from_perf_script(w[i].text, w[i].len, &p, err, sizeof err), 0);
    ck_assert_int_eq(pprof_total(p, 0), (int64_t)want[i]);
    pprof_free(p);
  }
  ck_assert_ptr_nonnull(strstr(w[1].text, "cold+0x1c"));
  ck_assert_ptr_null(strstr(w[1].text, "hot+0x1c"));
  perfsplit_free(w, n);
}
END_TEST

/* Windows are aligned to whole seconds of wall time and clipped to the command's span. */
START_TEST(aligned_and_clipped) {
  static char text[65536];
  text[0] = '\0';
  size_t len = add_events(text, sizeof text, "a", 100.300, 0.2, 4); /* 100.3 .. 100.9 */
  len = add_events(text, sizeof text, "b", 101.100, 0.2, 2);        /* 101.1, 101.3 */
  perfsplit_span span = {5000200, 5001800, 100200, 101800};         /* wall = mono + 4900000 ms */
  perfsplit_window *w = NULL;
  size_t n = 0;
  ck_assert_int_eq(perfsplit_split(text, len, &span, 1000, &w, &n), 0);
  ck_assert_uint_eq(n, 2); /* wall 5000500 .. 5000900 and 5001000 .. 5001200 */
  ck_assert_int_eq(w[0].start_ms, 5000200);
  ck_assert_int_eq(w[0].end_ms, 5001000);
  ck_assert_uint_eq(w[0].events, 4);
  ck_assert_int_eq(w[1].start_ms, 5001000);
  ck_assert_int_eq(w[1].end_ms, 5001800);
  ck_assert_uint_eq(w[1].events, 2);
  perfsplit_free(w, n);
}
END_TEST

/* Realtime stamps (perf record -k realtime) are wall time; another clock is anchored at the start. */
START_TEST(other_clocks) {
  static char text[65536];
  text[0] = '\0';
  size_t len = add_events(text, sizeof text, "a", 1700000000.100, 0.5, 6); /* realtime: 3 s */
  perfsplit_span span = {1700000000000, 1700000004000, 50000, 54000};
  perfsplit_window *w = NULL;
  size_t n = 0;
  ck_assert_int_eq(perfsplit_split(text, len, &span, 1000, &w, &n), 0);
  ck_assert_uint_eq(n, 3);
  ck_assert_uint_eq(w[0].events + w[1].events + w[2].events, 6);
  ck_assert_uint_eq(w[0].events, 2);
  perfsplit_free(w, n);
  text[0] = '\0';
  len = add_events(text, sizeof text, "a", 999999.0, 1.0, 2); /* unknown clock: first sample at the start */
  ck_assert_int_eq(perfsplit_split(text, len, &span, 1000, &w, &n), 0);
  ck_assert_uint_eq(n, 2);
  ck_assert_int_eq(w[0].start_ms, 1700000000000);
  ck_assert_int_eq(w[1].start_ms, 1700000001000);
  perfsplit_free(w, n);
}
END_TEST

START_TEST(untimed_and_errors) {
  const char *text =
      "# comment\nburn 4242 cycles:\n\t 1000 f+0x1 (/x)\n\nburn 4242 cycles:\n\t 1000 g (/x)\n";
  perfsplit_span span = {1000, 9000, 10, 8010};
  perfsplit_window *w = NULL;
  size_t n = 0;
  double ms = 0;
  ck_assert_int_eq(perfsplit_split(text, strlen(text), &span, 1000, &w, &n), 0);
  ck_assert_uint_eq(n, 1); /* no times: the whole command is one window */
  ck_assert_uint_eq(w[0].events, 2);
  ck_assert_int_eq(w[0].start_ms, 1000);
  ck_assert_int_eq(w[0].end_ms, 9000);
  ck_assert_ptr_null(strstr(w[0].text, "# comment"));
  perfsplit_free(w, n);
  ck_assert_int_eq(perfsplit_split(text, strlen(text), &span, 0, &w, &n), -EINVAL);
  ck_assert_int_eq(perfsplit_header_ms("a b 12.5: x", 11, &ms), 1);
  ck_assert(ms > 12499.9 && ms < 12500.1);
  ck_assert_int_eq(perfsplit_header_ms("a 12: [000] .5:", 15, &ms), 0);
  static char big[65536];
  big[0] = '\0';
  size_t len = add_events(big, sizeof big, "a", 10.0, 0.0, 1);
  perfsplit_span wide = {0, (int64_t)(PERFSPLIT_MAX_WINDOWS + 5) * 1000, 0,
                         (PERFSPLIT_MAX_WINDOWS + 5) * 1000};
  ck_assert_int_eq(perfsplit_split(big, len, &wide, 1000, &w, &n), -E2BIG);
}
END_TEST

/* Streaming: the output of a command still running is cut a whole bucket behind its newest sample, the rest
 * is kept for later; the final cut takes all that is left. The windows are those of one split of the whole.
 */
START_TEST(stream_cuts_as_it_comes) {
  static char text[65536];
  text[0] = '\0';
  size_t len = add_events(text, sizeof text, "hot", 16975.010, 0.1, 5); /* second 0 */
  len = add_events(text, sizeof text, "cold", 16976.005, 0.1, 7);       /* second 1 */
  len = add_events(text, sizeof text, "hot", 16977.500, 0.1, 3);        /* second 2, still filling */
  perfsplit_stream st = {{1700000000000, 1700000002900, 16975000, 16977900}, 1700000000000, NULL, 0};
  perfsplit_window *w = NULL;
  size_t n = 0, used = 0;
  ck_assert_int_eq(perfsplit_stream_cut(&st, text, len, 1000, 0, &w, &n, &used), 0);
  ck_assert_uint_eq(n, 1); /* second 0 only: second 1 is the bucket behind the newest, kept a while */
  ck_assert_uint_eq(w[0].events, 5);
  ck_assert_int_eq(w[0].start_ms, 1700000000000);
  ck_assert_int_eq(w[0].end_ms, 1700000001000);
  ck_assert_int_eq(st.from_ms, 1700000001000);
  ck_assert_ptr_eq(strstr(text, "cold"), strstr(text + used, "cold")); /* cut at the event boundary */
  ck_assert(strncmp(text + used, "burn ", 5) == 0);
  perfsplit_free(w, n);
  size_t off = used;
  /* nothing new: nothing more to cut */
  ck_assert_int_eq(perfsplit_stream_cut(&st, text + off, len - off, 1000, 0, &w, &n, &used), 0);
  ck_assert_uint_eq(n, 0);
  ck_assert_uint_eq(used, 0);
  /* the end: the rest, up to the command's end */
  st.span.end_ms = 1700000003500;
  st.span.mono_end_ms = 16978500;
  ck_assert_int_eq(perfsplit_stream_cut(&st, text + off, len - off, 1000, 1, &w, &n, &used), 0);
  ck_assert_uint_eq(n, 2);
  ck_assert_uint_eq(w[0].events, 7);
  ck_assert_uint_eq(w[1].events, 3);
  ck_assert_int_eq(w[1].end_ms, 1700000003000);
  ck_assert_uint_eq(used, len - off);
  perfsplit_free(w, n);
  /* an unknown clock is not cut while streaming (its anchor is the first sample of the whole) */
  text[0] = '\0';
  len = add_events(text, sizeof text, "hot", 5.0, 0.5, 10);
  perfsplit_stream un = {{1700000000000, 1700000009000, 16975000, 16984000}, 1700000000000, NULL, 0};
  ck_assert_int_eq(perfsplit_stream_cut(&un, text, len, 1000, 0, &w, &n, &used), 0);
  ck_assert_uint_eq(n, 0);
}
END_TEST

/* A wait of thread tid at t (sched:sched_switch, prev_state state) in leaf, called by main. */
static size_t add_wait(char *out, size_t size, const char *tid, double t, const char *state,
                       const char *leaf) {
  size_t len = strlen(out);
  return len +
         (size_t)snprintf(out + len, size - len,
                          "loop 4242/%s [001] %.6f: sched:sched_switch: prev_comm=loop prev_pid=%s "
                          "prev_prio=120 prev_state=%s ==> next_comm=swapper/1 next_pid=0 next_prio=120\n"
                          "\tffffffff8224a1b3 schedule+0x23 ([kernel.kallsyms])\n"
                          "\t    55d0c0de3000 %s+0x10 (/usr/bin/loop)\n"
                          "\t    55d0c0de2000 main+0x2a (/usr/bin/loop)\n\n",
                          tid, t, tid, state, leaf);
}

static size_t add_record(char *out, size_t size, const char *tid, double t, const char *what) {
  size_t len = strlen(out);
  return len + (size_t)snprintf(out + len, size - len, "loop 4242/%s   %.6f: PERF_RECORD_SWITCH %s\n", tid, t,
                                what);
}

static int64_t fold(const perfsplit_window *w, int which) {
  pprof_profile *p = NULL;
  char err[256];
  ck_assert_int_eq(folded_from_perf_events(w->text, w->len, which, &p, NULL, err, sizeof err), 0);
  int64_t t = pprof_total(p, 0);
  pprof_free(p);
  return t;
}

/* Waits off CPU count their 10 ms ticks in the windows they span, from the switch-out to the thread's
 * switch-in; preemptions and switch records are dropped; the CPU fold keeps the samples only. */
START_TEST(waits_off_cpu_by_their_time) {
  static char text[65536];
  text[0] = '\0';
  size_t len = add_events(text, sizeof text, "hot", 16975.010, 0.02, 2);
  len = add_wait(text, sizeof text, "4243", 16975.100, "S", "recv");
  len = add_record(text, sizeof text, "4243", 16975.100, "OUT");
  len = add_wait(text, sizeof text, "4244", 16975.200, "R", "spin"); /* preempted */
  len = add_record(text, sizeof text, "4243", 16975.350, "IN");
  len = add_wait(text, sizeof text, "4243", 16975.900, "S", "recv");
  len = add_record(text, sizeof text, "4243", 16976.300, "IN");
  len = add_events(text, sizeof text, "hot", 16976.500, 0.1, 1);
  perfsplit_span span = {1700000000000, 1700000002000, 16975000, 16977000};
  perfsplit_window *w = NULL;
  size_t n = 0;
  ck_assert_int_eq(perfsplit_split(text, len, &span, 1000, &w, &n), 0);
  ck_assert_uint_eq(n, 2);
  ck_assert_int_eq(fold(&w[0], FOLDED_PERF_CPU), 2);
  ck_assert_int_eq(fold(&w[0], FOLDED_PERF_OFFCPU), 25 + 10);
  ck_assert_int_eq(fold(&w[1], FOLDED_PERF_CPU), 1);
  ck_assert_int_eq(fold(&w[1], FOLDED_PERF_OFFCPU), 30);
  pprof_profile *p = NULL;
  char err[256];
  ck_assert_int_eq(
      folded_from_perf_events(w[0].text, w[0].len, FOLDED_PERF_OFFCPU, &p, NULL, err, sizeof err), 0);
  int kernel = 0, service = 0, thread = 0; /* kernel frames tagged, the service's as they are, the thread */
  for (size_t f = 0; f < p->nfunctions; f++) {
    kernel |= strcmp(p->strings[p->functions[f].name], "[k] schedule") == 0;
    service |= strcmp(p->strings[p->functions[f].name], "recv") == 0;
    thread |= strcmp(p->strings[p->functions[f].name], "[tid 4243]") == 0;
  }
  ck_assert(kernel && service && thread);
  pprof_free(p);
  ck_assert_ptr_null(strstr(w[0].text, "spin+0x10"));
  ck_assert_ptr_null(strstr(w[0].text, "PERF_RECORD"));
  perfsplit_free(w, n);
}
END_TEST

/* Streaming: a wait still going on at a cut (an idle thread) is carried on and counted in every window it
 * spans, up to the end of the command at the final cut. */
START_TEST(stream_carries_open_waits) {
  static char text[65536];
  text[0] = '\0';
  size_t len = add_events(text, sizeof text, "hot", 16975.010, 0.1, 2);
  len = add_wait(text, sizeof text, "4245", 16975.200, "S", "accept");
  len = add_events(text, sizeof text, "hot", 16976.010, 0.1, 2);
  len = add_events(text, sizeof text, "hot", 16977.010, 0.1, 2);
  perfsplit_stream st = {{1700000000000, 1700000002900, 16975000, 16977900}, 1700000000000, NULL, 0};
  perfsplit_window *w = NULL;
  size_t n = 0, used = 0;
  ck_assert_int_eq(perfsplit_stream_cut(&st, text, len, 1000, 0, &w, &n, &used), 0);
  ck_assert_uint_eq(n, 1);
  ck_assert_int_eq(fold(&w[0], FOLDED_PERF_OFFCPU), 80); /* 200 .. 1000 ms */
  ck_assert_ptr_nonnull(st.open);
  perfsplit_free(w, n);
  st.span.end_ms = 1700000003500;
  st.span.mono_end_ms = 16978500;
  ck_assert_int_eq(perfsplit_stream_cut(&st, text + used, len - used, 1000, 1, &w, &n, &used), 0);
  ck_assert_uint_eq(n, 3);
  ck_assert_int_eq(fold(&w[0], FOLDED_PERF_OFFCPU), 100);
  ck_assert_int_eq(fold(&w[1], FOLDED_PERF_OFFCPU), 100);
  ck_assert_int_eq(fold(&w[2], FOLDED_PERF_OFFCPU), 50); /* to the end, 3500 ms */
  ck_assert_int_eq(fold(&w[0], FOLDED_PERF_CPU), 2);
  perfsplit_free(w, n);
  perfsplit_stream_free(&st);
}
END_TEST

CHECK_MAIN("perfsplit", 0, waits_off_cpu_by_their_time, stream_carries_open_waits,
           three_seconds_three_windows, stream_cuts_as_it_comes, aligned_and_clipped, other_clocks,
           untimed_and_errors)
