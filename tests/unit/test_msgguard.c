/* test_msgguard.c - the bounds walk in front of msgpack-c: whole objects pass with their size, and every
 * way hostile bytes could make msgpack-c allocate or read past the end is refused. */
#include <check.h>
#include <msgpack.h>
#include <stdlib.h>
#include <string.h>

#include "common/msgguard.h"
#include "tests/support/checkrun.h"

/* {"a": [1, -2, 1.5, "xy", nil, true], "b": {"c": <bin 3>}} packed by msgpack-c into sb; its size. */
static size_t packed(msgpack_sbuffer *sb) {
  msgpack_packer pk;
  msgpack_sbuffer_init(sb);
  msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
  msgpack_pack_map(&pk, 2);
  msgpack_pack_str_with_body(&pk, "a", 1);
  msgpack_pack_array(&pk, 6);
  msgpack_pack_int(&pk, 1);
  msgpack_pack_int(&pk, -2);
  msgpack_pack_double(&pk, 1.5);
  msgpack_pack_str_with_body(&pk, "xy", 2);
  msgpack_pack_nil(&pk);
  msgpack_pack_true(&pk);
  msgpack_pack_str_with_body(&pk, "b", 1);
  msgpack_pack_map(&pk, 1);
  msgpack_pack_str_with_body(&pk, "c", 1);
  msgpack_pack_bin_with_body(&pk, "\1\2\3", 3);
  return sb->size;
}

START_TEST(whole_object_gives_its_size) {
  msgpack_sbuffer sb;
  size_t n = packed(&sb);
  ck_assert_uint_eq(msgguard_check((const uint8_t *)sb.data, n, 8), n);
  /* trailing bytes are not part of the object: the size says where it ends */
  msgpack_sbuffer_write(&sb, "\x01\x02", 2);
  ck_assert_uint_eq(msgguard_check((const uint8_t *)sb.data, sb.size, 8), n);
  /* every cut short of the end is refused */
  for (size_t cut = 0; cut < n; cut++) ck_assert_uint_eq(msgguard_check((const uint8_t *)sb.data, cut, 8), 0);
  msgpack_sbuffer_destroy(&sb);
}
END_TEST

START_TEST(hostile_counts_and_lengths) {
  /* array32 of 2^32-1 elements in a 6-byte frame; map32 likewise; str32 of 4 GB; bin8 past the end */
  static const uint8_t big_array[] = {0xdd, 0xff, 0xff, 0xff, 0xff, 0x01};
  static const uint8_t big_map[] = {0xdf, 0x7f, 0xff, 0xff, 0xff, 0x01, 0x01};
  static const uint8_t big_str[] = {0xdb, 0xff, 0xff, 0xff, 0xff, 'a'};
  static const uint8_t short_bin[] = {0xc4, 0x05, 'a', 'b'};
  static const uint8_t reserved[] = {0xc1};
  static const uint8_t fixarray_short[] = {0x93, 0x01, 0x02}; /* 3 announced, 2 there */
  ck_assert_uint_eq(msgguard_check(big_array, sizeof big_array, 8), 0);
  ck_assert_uint_eq(msgguard_check(big_map, sizeof big_map, 8), 0);
  ck_assert_uint_eq(msgguard_check(big_str, sizeof big_str, 8), 0);
  ck_assert_uint_eq(msgguard_check(short_bin, sizeof short_bin, 8), 0);
  ck_assert_uint_eq(msgguard_check(reserved, sizeof reserved, 8), 0);
  ck_assert_uint_eq(msgguard_check(fixarray_short, sizeof fixarray_short, 8), 0);
  ck_assert_uint_eq(msgguard_check(NULL, 4, 8), 0);
  ck_assert_uint_eq(msgguard_check(big_array, 0, 8), 0);
}
END_TEST

/* Nesting: [[[...[1]...]]] passes at the depth limit and is refused one level deeper. */
START_TEST(nesting_depth) {
  uint8_t buf[64];
  for (int depth = 1; depth <= 10; depth++) {
    memset(buf, 0x91, (size_t)depth); /* fixarray of 1, depth times */
    buf[depth] = 0x01;
    size_t want = depth <= 8 ? (size_t)depth + 1 : 0;
    ck_assert_uint_eq(msgguard_check(buf, (size_t)depth + 1, 8), want);
  }
}
END_TEST

CHECK_MAIN("msgguard", 0, whole_object_gives_its_size, hostile_counts_and_lengths, nesting_depth)
