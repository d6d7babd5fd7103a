/* test_msgfield.c - the decoder's typed field reads: each wrong type, sign, range, size and duplicate is
 * refused with the field's name, the first failure wins, and reads after it change nothing. */
#include <check.h>
#include <errno.h>
#include <msgpack.h>
#include <stdlib.h>
#include <string.h>

#include "common/msgfield.h"
#include "tests/support/checkrun.h"

static msgpack_sbuffer sb;
static msgpack_unpacked up;

/* {"n": 7, "neg": -3, "big": 2^40, "f": 2.5, "s": "hello", "z": "a\0b", "arr": [1, 2, 3], "m": {},
 *  "dup": 1, "dup": 2}, unpacked into up.data */
static const msgpack_object *sample(void) {
  msgpack_packer pk;
  msgpack_sbuffer_init(&sb);
  msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
  msgpack_pack_map(&pk, 10);
  msgpack_pack_str_with_body(&pk, "n", 1), msgpack_pack_int(&pk, 7);
  msgpack_pack_str_with_body(&pk, "neg", 3), msgpack_pack_int(&pk, -3);
  msgpack_pack_str_with_body(&pk, "big", 3), msgpack_pack_int64(&pk, INT64_C(1) << 40);
  msgpack_pack_str_with_body(&pk, "f", 1), msgpack_pack_double(&pk, 2.5);
  msgpack_pack_str_with_body(&pk, "s", 1), msgpack_pack_str_with_body(&pk, "hello", 5);
  msgpack_pack_str_with_body(&pk, "z", 1), msgpack_pack_str_with_body(&pk, "a\0b", 3);
  msgpack_pack_str_with_body(&pk, "arr", 3), msgpack_pack_array(&pk, 3);
  msgpack_pack_int(&pk, 1), msgpack_pack_int(&pk, 2), msgpack_pack_int(&pk, 3);
  msgpack_pack_str_with_body(&pk, "m", 1), msgpack_pack_map(&pk, 0);
  msgpack_pack_str_with_body(&pk, "dup", 3), msgpack_pack_int(&pk, 1);
  msgpack_pack_str_with_body(&pk, "dup", 3), msgpack_pack_int(&pk, 2);
  msgpack_unpacked_init(&up);
  ck_assert_int_eq(msgpack_unpack_next(&up, sb.data, sb.size, NULL), MSGPACK_UNPACK_SUCCESS);
  return &up.data;
}

static void done(void) {
  msgpack_unpacked_destroy(&up);
  msgpack_sbuffer_destroy(&sb);
}

START_TEST(good_reads) {
  char err[128], s[8];
  msgfield d = {0, err, sizeof err};
  const msgpack_object *map = sample();
  ck_assert_int_eq(msgfield_get_i64(&d, map, "n"), 7);
  ck_assert_int_eq(msgfield_get_i64(&d, map, "neg"), -3);
  ck_assert_int_eq(msgfield_get_i64(&d, map, "big"), INT64_C(1) << 40);
  ck_assert_int_eq(msgfield_get_i32(&d, map, "n"), 7);
  ck_assert_double_eq(msgfield_double(&d, msgfield_get(&d, map, "f"), "f"), 2.5);
  ck_assert_double_eq(msgfield_double(&d, msgfield_get(&d, map, "n"), "n"), 7.0);
  msgfield_get_str(&d, map, "s", s, sizeof s);
  ck_assert_str_eq(s, "hello");
  ck_assert_ptr_nonnull(msgfield_array(&d, msgfield_get(&d, map, "arr"), "arr", 3));
  ck_assert_ptr_nonnull(msgfield_tuple(&d, msgfield_get(&d, map, "arr"), "arr", 3));
  ck_assert_ptr_nonnull(msgfield_map(&d, msgfield_get(&d, map, "m"), "m"));
  ck_assert_int_eq(d.rc, 0);
  done();
}
END_TEST

/* Each bad read alone: its errno and the message naming the field. */
START_TEST(bad_reads_name_the_field) {
  char err[128], s[4];
  const msgpack_object *map = sample();
  struct {
    int rc;
    const char *msg;
  } want[] = {
      {-EPROTO, "missing field 'nope'"},
      {-EPROTO, "duplicate field 'dup'"},
      {-EPROTO, "field 's' is not a 64-bit integer"},
      {-EPROTO, "field 'neg' is negative"},
      {-EPROTO, "field 'big' out of range"},
      {-E2BIG, "field 's' is 5 bytes, at most 3 allowed"},
      {-EPROTO, "field 'z' contains a NUL byte"},
      {-E2BIG, "field 'arr' has 3 elements, at most 2 allowed"},
      {-EPROTO, "'arr' is not an array of 2"},
      {-EPROTO, "field 'n' is not a map"},
  };
  for (int i = 0; i < (int)(sizeof want / sizeof want[0]); i++) {
    msgfield d = {0, err, sizeof err};
    switch (i) {
      case 0:
        ck_assert_ptr_null(msgfield_get(&d, map, "nope"));
        break;
      case 1:
        ck_assert_ptr_null(msgfield_get(&d, map, "dup"));
        break;
      case 2:
        ck_assert_int_eq(msgfield_get_i64(&d, map, "s"), 0);
        break;
      case 3:
        ck_assert_int_eq(msgfield_count(&d, msgfield_get(&d, map, "neg"), "neg"), 0);
        break;
      case 4:
        msgfield_get_i32(&d, map, "big");
        break;
      case 5:
        msgfield_get_str(&d, map, "s", s, sizeof s);
        ck_assert_str_eq(s, "");
        break;
      case 6:
        msgfield_get_str(&d, map, "z", s, sizeof s);
        ck_assert_str_eq(s, "");
        break;
      case 7:
        ck_assert_ptr_null(msgfield_array(&d, msgfield_get(&d, map, "arr"), "arr", 2));
        break;
      case 8:
        ck_assert_ptr_null(msgfield_tuple(&d, msgfield_get(&d, map, "arr"), "arr", 2));
        break;
      default:
        ck_assert_ptr_null(msgfield_map(&d, msgfield_get(&d, map, "n"), "n"));
        break;
    }
    ck_assert_int_eq(d.rc, want[i].rc);
    ck_assert_str_eq(err, want[i].msg);
  }
  done();
}
END_TEST

/* The first failure is the one reported; a NULL object (a failed lookup) adds no second message. */
START_TEST(first_failure_wins) {
  char err[128];
  msgfield d = {0, err, sizeof err};
  const msgpack_object *map = sample();
  msgfield_get_i64(&d, map, "missing");
  msgfield_get_i64(&d, map, "s");
  ck_assert_int_eq(msgfield_fail(&d, -EINVAL, "later"), -EPROTO);
  ck_assert_str_eq(err, "missing field 'missing'");
  msgfield quiet = {0, NULL, 0}; /* no message buffer: only rc */
  ck_assert_int_eq(msgfield_i64(&quiet, NULL, "x"), 0);
  ck_assert_int_eq(quiet.rc, 0);
  msgfield_get_i64(&quiet, map, "s");
  ck_assert_int_eq(quiet.rc, -EPROTO);
  done();
}
END_TEST

CHECK_MAIN("msgfield", 0, good_reads, bad_reads_name_the_field, first_failure_wins)
