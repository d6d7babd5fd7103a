/* test_registry.c - workers joining, clock offsets from heartbeat round trips (min-RTT sample kept),
 * missing after 3 s of silence, rejoin under the same id. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "master/registry.h"
#include "tests/support/checkrun.h"

#define S 1000000000LL
#define MS 1000000LL

static msg_hello hello(int threads) {
  msg_hello h;
  memset(&h, 0, sizeof h);
  snprintf(h.hostname, sizeof h.hostname, "host");
  snprintf(h.version, sizeof h.version, "0.1.0");
  h.cores = 8;
  h.threads = threads;
  return h;
}

START_TEST(join_missing_rejoin) {
  registry *r;
  bool rejoined = true;
  registry_worker *act[4];
  msg_hello h = hello(4);
  ck_assert_int_eq(registry_create(&r), 0);
  registry_worker *a = registry_hello(r, "a", &h, 0, &rejoined);
  ck_assert(!rejoined);
  h = hello(0); /* 0 threads = one per core */
  registry_worker *b = registry_hello(r, "b", &h, 0, &rejoined);
  ck_assert_int_eq(a->threads, 4);
  ck_assert_int_eq(b->threads, 8);
  ck_assert_int_eq(registry_active(r, act, 4), 2);
  registry_seen(a, 2 * S);
  ck_assert_int_eq(registry_expire(r, 2999 * MS, REGISTRY_MISSING_NS), 0);
  ck_assert_int_eq(registry_expire(r, 3 * S, REGISTRY_MISSING_NS), 1); /* b silent since 0 */
  ck_assert(!b->live);
  ck_assert_int_eq(registry_active(r, act, 4), 1);
  ck_assert_ptr_eq(act[0], a);
  ck_assert(registry_seen(b, 4 * S)); /* came back */
  ck_assert_int_eq(registry_active(r, act, 4), 2);
  h = hello(2);
  registry_worker *b2 = registry_hello(r, "b", &h, 5 * S, &rejoined);
  ck_assert(rejoined);
  ck_assert_ptr_eq(b2, b);
  ck_assert_int_eq(b->threads, 2);
  ck_assert_int_eq(registry_count(r), 2);
  b->state = REGISTRY_FAILED;
  ck_assert_int_eq(registry_active(r, act, 4), 1);
  registry_destroy(r);
}
END_TEST

START_TEST(clock_offset_min_rtt) {
  registry *r;
  bool rejoined;
  msg_hello h = hello(1);
  ck_assert_int_eq(registry_create(&r), 0);
  registry_worker *w = registry_hello(r, "w", &h, 0, &rejoined);
  /* worker clock is +500 ms; one way delay 10 ms each way, 1 ms on the worker */
  int64_t t0 = 1000 * S, t1 = t0 + 500 * MS + 10 * MS, t2 = t1 + 1 * MS, t3 = t0 + 21 * MS;
  registry_clock_sample(w, t0, t1, t2, t3);
  ck_assert_int_eq(w->offset_ns, 500 * MS);
  ck_assert_int_eq(w->rtt_ns, 20 * MS);
  /* asymmetric, slower sample: ignored (bigger round trip) */
  t0 = 1001 * S, t1 = t0 + 500 * MS + 90 * MS, t2 = t1, t3 = t0 + 100 * MS;
  registry_clock_sample(w, t0, t1, t2, t3);
  ck_assert_int_eq(w->offset_ns, 500 * MS);
  /* faster sample replaces it: offset = ((t1-t0)+(t2-t3))/2 */
  t0 = 1002 * S, t1 = t0 + 503 * MS, t2 = t1, t3 = t0 + 2 * MS;
  registry_clock_sample(w, t0, t1, t2, t3);
  ck_assert_int_eq(w->rtt_ns, 2 * MS);
  ck_assert_int_eq(w->offset_ns, 502 * MS);
  /* negative round trip (nonsense) ignored */
  registry_clock_sample(w, t0, t1 + 10 * S, t2 + 20 * S, t3);
  ck_assert_int_eq(w->offset_ns, 502 * MS);
  registry_destroy(r);
}
END_TEST

/* 95 % for 5 samples a second apart: the 5th (and only it) says "warn"; a dip resets the streak; samples
 * closer than 0.9 s are ignored; mean and max over the samples taken. */
START_TEST(cpu_saturation_streak) {
  registry *r;
  msg_hello h = {.cores = 2, .threads = 2};
  bool rejoined;
  ck_assert_int_eq(registry_create(&r), 0);
  registry_worker *w = registry_hello(r, "w", &h, 0, &rejoined);
  int64_t t = 0;
  for (int i = 1; i <= 4; i++, t += S) ck_assert(!registry_cpu_sample(w, 950, t));
  ck_assert(!registry_cpu_sample(w, 100, t - S / 2)); /* half a second after the last: ignored */
  ck_assert(!registry_cpu_sample(w, -1, t));          /* unknown (no whole interval yet): ignored */
  ck_assert(registry_cpu_sample(w, 950, t));          /* the 5th in a row */
  t += S;
  ck_assert(!registry_cpu_sample(w, 990, t)); /* the 6th: already warned for this streak */
  t += S;
  ck_assert(!registry_cpu_sample(w, 300, t)); /* a dip resets it */
  ck_assert_int_eq(w->cpu_hot, 0);
  ck_assert_int_eq(w->cpu_hot_longest, 6);
  ck_assert_int_eq(w->cpu_max_permille, 990);
  ck_assert_int_eq(w->cpu_samples, 7);
  ck_assert_int_eq(w->cpu_sum_permille, 950 * 5 + 990 + 300);
  for (int i = 1; i <= 4; i++) ck_assert(!registry_cpu_sample(w, 900, t += S)); /* 90 % counts as hot */
  ck_assert(registry_cpu_sample(w, 900, t += S));
  registry_destroy(r);
}
END_TEST

CHECK_MAIN("registry", 0, join_missing_rejoin, clock_offset_min_rtt, cpu_saturation_streak)
