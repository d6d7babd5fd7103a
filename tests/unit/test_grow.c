/* test_grow.c - room in a growing array: capacities first, 2 x first, ...; items kept; zeroed growth;
 * refusals leave the array as it was; byte appends. */
#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/grow.h"
#include "tests/support/checkrun.h"

START_TEST(doubles_from_first_and_keeps_items) {
  int *v = NULL;
  size_t cap = 0, n = 0;
  size_t seen[8], nseen = 0;
  for (int i = 0; i < 100; i++) {
    size_t before = cap;
    ck_assert_int_eq(grow_room(&v, &cap, n + 1, sizeof *v, 8), 0);
    if (cap != before) seen[nseen++] = cap;
    v[n++] = i * 3;
  }
  ck_assert_uint_eq(nseen, 5); /* 8, 16, 32, 64, 128 */
  ck_assert_uint_eq(seen[0], 8);
  for (size_t i = 1; i < nseen; i++) ck_assert_uint_eq(seen[i], seen[i - 1] * 2);
  for (int i = 0; i < 100; i++) ck_assert_int_eq(v[i], i * 3);
  /* room already there: nothing moves */
  int *same = v;
  ck_assert_int_eq(grow_room(&v, &cap, 128, sizeof *v, 8), 0);
  ck_assert_ptr_eq(v, same);
  ck_assert_uint_eq(cap, 128);
  /* a need far above the capacity: doubled until it fits */
  ck_assert_int_eq(grow_room(&v, &cap, 1000, sizeof *v, 8), 0);
  ck_assert_uint_eq(cap, 1024);
  free(v);
}
END_TEST

START_TEST(zeroed_growth) {
  unsigned char *v = NULL;
  size_t cap = 0;
  ck_assert_int_eq(grow_room_zeroed(&v, &cap, 1, 1, 64), 0);
  ck_assert_uint_eq(cap, 64);
  for (size_t i = 0; i < cap; i++) ck_assert_uint_eq(v[i], 0);
  for (size_t i = 0; i < cap; i++) v[i] = 0xab;
  ck_assert_int_eq(grow_room_zeroed(&v, &cap, 65, 1, 64), 0);
  ck_assert_uint_eq(cap, 128);
  for (size_t i = 0; i < 64; i++) ck_assert_uint_eq(v[i], 0xab);
  for (size_t i = 64; i < cap; i++) ck_assert_uint_eq(v[i], 0);
  free(v);
}
END_TEST

START_TEST(overflow_refused_unchanged) {
  double *v = NULL;
  size_t cap = 0;
  ck_assert_int_eq(grow_room(&v, &cap, 4, sizeof *v, 4), 0);
  double *kept = v;
  ck_assert_int_eq(grow_room(&v, &cap, SIZE_MAX / 4, sizeof *v, 4), -ENOMEM);
  ck_assert_int_eq(grow_room(&v, &cap, SIZE_MAX, sizeof *v, 4), -ENOMEM);
  ck_assert_ptr_eq(v, kept);
  ck_assert_uint_eq(cap, 4);
  free(v);
}
END_TEST

START_TEST(append_bytes) {
  char *b = NULL;
  size_t len = 0, cap = 0;
  ck_assert_int_eq(grow_append(&b, &len, &cap, "GET ", 4, 4), 0);
  ck_assert_uint_eq(cap, 4);
  ck_assert_int_eq(grow_append(&b, &len, &cap, "/x", 2, 4), 0);
  ck_assert_uint_eq(cap, 8);
  ck_assert_int_eq(grow_append(&b, &len, &cap, "", 0, 4), 0); /* nothing: no move, no growth */
  ck_assert_int_eq(grow_append(&b, &len, &cap, " HTTP/1.1", 10, 4), 0);
  ck_assert_uint_eq(len, 16);
  ck_assert_uint_eq(cap, 16);
  ck_assert_str_eq(b, "GET /x HTTP/1.1");
  /* a length that would wrap len + n: refused, the buffer as it was */
  char *kept = b;
  ck_assert_int_eq(grow_append(&b, &len, &cap, "x", SIZE_MAX - 3, 4), -ENOMEM);
  ck_assert_ptr_eq(b, kept);
  ck_assert_uint_eq(len, 16);
  ck_assert_uint_eq(cap, 16);
  free(b);
}
END_TEST

CHECK_MAIN("grow", 0, doubles_from_first_and_keeps_items, zeroed_growth, overflow_refused_unchanged,
           append_bytes)
