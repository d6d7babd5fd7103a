/* test_aggregate.c - the master's merge: exact bucket-for-bucket merge across workers, clock offsets
 * snapped to the grid, closing on "all reported" or grace, late stats kept in the totals. */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "master/aggregate.h"
#include "tests/support/checkrun.h"

typedef struct sink {
  int n;
  int64_t starts[64];
  int64_t counts[64];
  hist *merged; /* union of everything emitted */
} sink;

static int on_emit(void *ud, const stats_interval *iv) {
  sink *s = ud;
  const stats_entry *e = stats_entry_find(iv, "GET /");
  s->starts[s->n] = iv->start_ms;
  s->counts[s->n] = e ? e->count : 0;
  if (e) hist_add(s->merged, e->latency);
  s->n++;
  return 0;
}

/* A worker interval with count requests of latency base_us + i. */
static stats_interval *make(int64_t start_ms, int count, int64_t base_us) {
  stats_interval *iv;
  ck_assert_int_eq(stats_create(&iv, start_ms, 1000), 0);
  stats_entry *e = stats_entry_get(iv, "GET /", "GET");
  ck_assert_ptr_nonnull(e);
  for (int i = 0; i < count; i++) {
    stats_entry_record(e, base_us + i * 37, base_us + i * 37);
  }
  iv->users = 2;
  return iv;
}

START_TEST(slot_rounding) {
  aggregate *a;
  ck_assert_int_eq(aggregate_create(10000, 1000, 2, &a), 0);
  ck_assert_int_eq(aggregate_slot(a, 11000, 0), 11000);
  ck_assert_int_eq(aggregate_slot(a, 11499, 0), 11000);
  ck_assert_int_eq(aggregate_slot(a, 11500, 0), 12000);
  /* worker clock 250 ms ahead: its 11250 is master 11000 */
  ck_assert_int_eq(aggregate_slot(a, 11250, 250), 11000);
  /* worker clock 400 ms behind */
  ck_assert_int_eq(aggregate_slot(a, 10600, -400), 11000);
  ck_assert_int_eq(aggregate_slot(a, 9400, 0), 9000);
  aggregate_destroy(a);
}
END_TEST

START_TEST(exact_merge_three_workers) {
  aggregate *a;
  sink s = {0};
  hist *expect;
  const char *ids[3] = {"w1", "w2", "w3"};
  int64_t offsets[3] = {0, 120, -80};
  ck_assert_int_eq(hist_create(&s.merged), 0);
  ck_assert_int_eq(hist_create(&expect), 0);
  ck_assert_int_eq(aggregate_create(0, 1000, 2, &a), 0);
  for (int k = 0; k < 3; k++) {   /* intervals */
    for (int w = 0; w < 3; w++) { /* workers */
      stats_interval *iv = make(k * 1000 + offsets[w], 100 + w * 10 + k, 1000 * (w + 1));
      hist_add(expect, iv->entries[0].latency);
      ck_assert_int_eq(aggregate_add(a, ids[w], offsets[w], iv), 0);
      stats_destroy(iv);
      /* an interval closes only once all three reported it */
      ck_assert_int_eq(aggregate_poll(a, 0, ids, 3, on_emit, &s), w == 2 ? 1 : 0);
    }
  }
  ck_assert_int_eq(s.n, 3);
  for (int k = 0; k < 3; k++) {
    ck_assert_int_eq(s.starts[k], k * 1000);
    ck_assert_int_eq(s.counts[k], 100 + 110 + 120 + 3 * k);
  }
  ck_assert(hist_equal(s.merged, expect));
  const stats_interval *cum = aggregate_cumulative(a);
  ck_assert_int_eq(cum->entries[0].count, 3 * 330 + 9);
  ck_assert(hist_equal(cum->entries[0].latency, expect));
  ck_assert_int_eq(hist_value_at_percentile(cum->entries[0].latency, 99),
                   hist_value_at_percentile(expect, 99));
  hist_destroy(expect);
  hist_destroy(s.merged);
  aggregate_destroy(a);
}
END_TEST

START_TEST(grace_then_late) {
  aggregate *a;
  sink s = {0};
  const char *ids[2] = {"w1", "w2"};
  ck_assert_int_eq(hist_create(&s.merged), 0);
  ck_assert_int_eq(aggregate_create(0, 1000, 2, &a), 0);
  stats_interval *iv = make(0, 10, 500);
  aggregate_add(a, "w1", 0, iv);
  stats_destroy(iv);
  /* w2 silent: not closed before end + 2 intervals of grace */
  ck_assert_int_eq(aggregate_poll(a, 2999, ids, 2, on_emit, &s), 0);
  ck_assert_int_eq(aggregate_poll(a, 3000, ids, 2, on_emit, &s), 1);
  ck_assert_int_eq(s.counts[0], 10);
  /* w2's interval 0 arrives late: counted in the next open interval, totals exact */
  iv = make(1000, 5, 500);
  aggregate_add(a, "w1", 0, iv);
  stats_destroy(iv);
  iv = make(0, 7, 500);
  aggregate_add(a, "w2", 0, iv);
  stats_destroy(iv);
  ck_assert_int_eq(aggregate_late(a), 1);
  ck_assert_int_eq(aggregate_flush(a, on_emit, &s), 1);
  ck_assert_int_eq(s.starts[1], 1000);
  ck_assert_int_eq(s.counts[1], 12);
  ck_assert_int_eq(aggregate_cumulative(a)->entries[0].count, 22);
  ck_assert_int_eq(hist_count(s.merged), 22);
  hist_destroy(s.merged);
  aggregate_destroy(a);
}
END_TEST

START_TEST(out_of_order_within_grace) {
  aggregate *a;
  sink s = {0};
  const char *ids[1] = {"w1"};
  ck_assert_int_eq(hist_create(&s.merged), 0);
  ck_assert_int_eq(aggregate_create(0, 1000, 2, &a), 0);
  stats_interval *iv = make(1000, 3, 500);
  aggregate_add(a, "w2", 0, iv); /* w2 reports 1000 first; 0 still open */
  stats_destroy(iv);
  iv = make(0, 4, 500);
  aggregate_add(a, "w2", 0, iv);
  stats_destroy(iv);
  ck_assert_int_eq(aggregate_open(a), 2);
  ck_assert_int_eq(aggregate_late(a), 0);
  ck_assert_int_eq(aggregate_poll(a, 10000, ids, 1, on_emit, &s), 2);
  ck_assert_int_eq(s.starts[0], 0);
  ck_assert_int_eq(s.counts[0], 4);
  ck_assert_int_eq(s.counts[1], 3);
  ck_assert_int_eq(aggregate_create(0, 0, 2, &a), -EINVAL);
  hist_destroy(s.merged);
  aggregate_destroy(a);
}
END_TEST

/* Add worker w's numbered interval n starting at start_ms with count requests; returns aggregate's rc. */
static int add_no(aggregate *a, const char *w, uint64_t n, int64_t start_ms, int count) {
  stats_interval *iv = make(start_ms, count, 500);
  int rc = aggregate_add_numbered(a, w, 0, n, iv);
  stats_destroy(iv);
  return rc;
}

/* Numbered stats: a dropped number is missing (found by a later number or the worker's word), a resend
 * fills it, a repeat is not merged twice; totals stay exact. */
START_TEST(numbered_missing_and_repeats) {
  aggregate *a;
  uint64_t miss[8];
  sink s = {0};
  ck_assert_int_eq(hist_create(&s.merged), 0);
  ck_assert_int_eq(aggregate_create(0, 1000, 2, &a), 0);
  ck_assert_int_eq(add_no(a, "w1", 1, 0, 10), 0);
  ck_assert_int_eq(add_no(a, "w1", 3, 2000, 30), 0); /* 2 was dropped on the way */
  ck_assert_uint_eq(aggregate_missing(a, "w1", miss, 8), 1);
  ck_assert_uint_eq(miss[0], 2);
  aggregate_sent(a, "w1", 5); /* its heartbeat: 4 and 5 went out too */
  ck_assert_uint_eq(aggregate_missing(a, "w1", miss, 8), 3);
  ck_assert_uint_eq(miss[0], 2);
  ck_assert_uint_eq(miss[1], 4);
  ck_assert_uint_eq(miss[2], 5);
  ck_assert_uint_eq(aggregate_missing(a, "w1", miss, 1), 3); /* max bounds the list, not the count */
  ck_assert_uint_eq(aggregate_missing(a, "w2", miss, 8), 0);
  ck_assert_uint_eq(aggregate_missing_total(a), 3);
  ck_assert_int_eq(add_no(a, "w1", 5, 4000, 50), 0);
  ck_assert_int_eq(add_no(a, "w1", 2, 1000, 20), 0); /* the resends */
  ck_assert_int_eq(add_no(a, "w1", 3, 2000, 30), 1); /* a resend that crossed the original: not merged */
  ck_assert_int_eq(add_no(a, "w1", 1, 0, 10), 1);
  ck_assert_uint_eq(aggregate_missing(a, "w1", miss, 8), 1);
  ck_assert_uint_eq(miss[0], 4);
  ck_assert_int_eq(add_no(a, "w1", 4, 3000, 40), 0);
  ck_assert_int_eq(add_no(a, "w1", 5, 4000, 50), 1);
  ck_assert_uint_eq(aggregate_missing_total(a), 0);
  ck_assert_int_eq(add_no(a, "w1", 0, 4000, 7), 0); /* unnumbered (an older worker): always merged */
  ck_assert_int_eq(aggregate_flush(a, on_emit, &s), 5);
  ck_assert_int_eq(aggregate_cumulative(a)->entries[0].count, 157);
  ck_assert_int_eq(s.counts[1], 20);
  ck_assert_int_eq(s.counts[4], 57);
  ck_assert_int_eq(aggregate_late(a), 0);
  hist_destroy(s.merged);
  aggregate_destroy(a);
}
END_TEST

/* An interval is not closed as "all reported" while one of the worker's numbers is missing: the resend
 * lands in its own interval, not in a later one as a late arrival. */
START_TEST(gap_holds_interval) {
  aggregate *a;
  sink s = {0};
  const char *ids[1] = {"w1"};
  ck_assert_int_eq(hist_create(&s.merged), 0);
  ck_assert_int_eq(aggregate_create(0, 1000, 2, &a), 0);
  ck_assert_int_eq(add_no(a, "w1", 1, 0, 10), 0);
  ck_assert_int_eq(add_no(a, "w1", 3, 2000, 30), 0);
  ck_assert_int_eq(aggregate_poll(a, 2500, ids, 1, on_emit, &s), 0); /* 2 (for 1000) is missing */
  ck_assert_int_eq(add_no(a, "w1", 2, 1000, 20), 0);
  ck_assert_int_eq(aggregate_poll(a, 2500, ids, 1, on_emit, &s), 3);
  ck_assert_int_eq(s.starts[1], 1000);
  ck_assert_int_eq(s.counts[1], 20);
  ck_assert_int_eq(aggregate_late(a), 0);
  /* a number that never comes: the grace period still closes the intervals */
  ck_assert_int_eq(add_no(a, "w1", 5, 4000, 50), 0);
  ck_assert_int_eq(aggregate_poll(a, 6999, ids, 1, on_emit, &s), 0);
  ck_assert_int_eq(aggregate_poll(a, 7000, ids, 1, on_emit, &s), 1);
  ck_assert_uint_eq(aggregate_missing_total(a), 1);
  /* the worker dropped the run and rejoined: it numbers from 1 again; 4 stays lost */
  aggregate_renumber(a, "w1");
  ck_assert_int_eq(add_no(a, "w1", 1, 5000, 60), 0);
  ck_assert_uint_eq(aggregate_missing(a, "w1", NULL, 0), 0);
  ck_assert_uint_eq(aggregate_missing_total(a), 1);
  ck_assert_int_eq(aggregate_flush(a, on_emit, &s), 1);
  ck_assert_int_eq(s.counts[s.n - 1], 60);
  hist_destroy(s.merged);
  aggregate_destroy(a);
}
END_TEST

/* What the master acknowledges (the merged run 1..n, once per advance) and when it asks again (only after
 * a report of the worker's read since the last ask: a number asked for and not yet read back may be queued
 * behind frames still unread, and asking again would have it sent twice). */
START_TEST(acks_and_asks) {
  aggregate *a;
  ck_assert_int_eq(aggregate_create(0, 1000, 2, &a), 0);
  ck_assert_uint_eq(aggregate_ack_due(a, "w1"), 0);
  ck_assert_int_eq(add_no(a, "w1", 1, 0, 10), 0);
  ck_assert_int_eq(add_no(a, "w1", 2, 1000, 10), 0);
  ck_assert_int_eq(add_no(a, "w1", 4, 3000, 10), 0); /* 3 dropped */
  ck_assert_uint_eq(aggregate_ack_due(a, "w1"), 2);  /* 4 is in, but 3 is not: 1..2 */
  ck_assert_uint_eq(aggregate_ack_due(a, "w1"), 0);  /* nothing new */
  ck_assert(!aggregate_ask_due(a, "w1"));            /* no report of its read yet */
  aggregate_sent(a, "w1", 4);                        /* its heartbeat */
  ck_assert(aggregate_ask_due(a, "w1"));
  ck_assert(!aggregate_ask_due(a, "w1")); /* asked: not again before its next report */
  aggregate_sent(a, "w1", 4);
  ck_assert(aggregate_ask_due(a, "w1"));
  ck_assert_int_eq(add_no(a, "w1", 3, 2000, 10), 0); /* the resend */
  aggregate_sent(a, "w1", 4);
  ck_assert(!aggregate_ask_due(a, "w1")); /* none missing */
  ck_assert_uint_eq(aggregate_ack_due(a, "w1"), 4);
  aggregate_renumber(a, "w1"); /* it rejoined: numbers from 1 again, acknowledged afresh */
  ck_assert_int_eq(add_no(a, "w1", 1, 4000, 10), 0);
  ck_assert_uint_eq(aggregate_ack_due(a, "w1"), 1);
  aggregate_destroy(a);
}
END_TEST

CHECK_MAIN("aggregate", 0, slot_rounding, exact_merge_three_workers, grace_then_late,
           out_of_order_within_grace, numbered_missing_and_repeats, gap_holds_interval, acks_and_asks)
