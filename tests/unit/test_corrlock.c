/* test_corrlock.c - the lock method (corrlock.h) through correlate_findings: a block profile's readers
 * waiting in sync.(*RWMutex).RLock wait for a writer, so their function is never named as the lock's holder.
 * Synthetic block profiles with known answers. */
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

CHECK_MAIN("corrlock", 0, block_readers_are_not_the_holder)
