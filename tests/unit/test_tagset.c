/* test_tagset.c - canonical tag sets: the rules (keys, values, count), building a set in key order with a
 * replaced value, a selector's subset match, and the JSON form back to the same text. */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/tagset.h"
#include "tests/support/checkrun.h"

START_TEST(rules) {
  ck_assert(tagset_valid("kind=api"));
  ck_assert(tagset_valid("kind=api,scenario=buy"));
  ck_assert(!tagset_valid(""));
  ck_assert(!tagset_valid("scenario=buy,kind=api")); /* not sorted */
  ck_assert(!tagset_valid("kind=api,kind=web"));     /* a key twice */
  ck_assert(!tagset_valid("kind=api,"));
  ck_assert(!tagset_valid("kind"));
  ck_assert(!tagset_valid("1kind=api"));
  ck_assert(!tagset_valid("kind=a}b"));
  ck_assert(!tagset_valid("kind=a\nb"));
  ck_assert(!tagset_valid("a=1,b=1,c=1,d=1,e=1,f=1,g=1,h=1,i=1")); /* 9 tags */
  ck_assert(tagset_valid("a=1,b=1,c=1,d=1,e=1,f=1,g=1,h=1"));
  ck_assert_ptr_nonnull(tagset_bad_value("", 0));
  ck_assert_ptr_null(tagset_bad_value("GET /a b", 8));
  char long_value[66];
  memset(long_value, 'x', 65);
  long_value[65] = 0;
  ck_assert_ptr_nonnull(tagset_bad_value(long_value, 65));
  ck_assert_ptr_null(tagset_bad_value(long_value, 64));
}
END_TEST

START_TEST(put_keeps_order) {
  char set[TAGSET_MAX] = "";
  ck_assert_int_eq(tagset_put(set, sizeof set, "scenario", "buy"), 0);
  ck_assert_int_eq(tagset_put(set, sizeof set, "kind", "api"), 0);
  ck_assert_int_eq(tagset_put(set, sizeof set, "zone", "eu"), 0);
  ck_assert_str_eq(set, "kind=api,scenario=buy,zone=eu");
  ck_assert_int_eq(tagset_put(set, sizeof set, "kind", "static"), 0); /* replaced, not added */
  ck_assert_str_eq(set, "kind=static,scenario=buy,zone=eu");
  ck_assert_int_eq(tagset_put(set, sizeof set, "bad key", "x"), -EINVAL);
  ck_assert_int_eq(tagset_put(set, sizeof set, "k", "a,b"), -EINVAL);
  ck_assert_str_eq(set, "kind=static,scenario=buy,zone=eu");
  ck_assert(tagset_valid(set));
  char small[16] = "";
  ck_assert_int_eq(tagset_put(small, sizeof small, "kind", "a-long-value"), -E2BIG);
}
END_TEST

START_TEST(contains) {
  ck_assert(tagset_contains("kind=api,scenario=buy", "kind=api"));
  ck_assert(tagset_contains("kind=api,scenario=buy", "kind=api,scenario=buy"));
  ck_assert(tagset_contains("kind=api,scenario=buy", ""));
  ck_assert(!tagset_contains("kind=api,scenario=buy", "kind=ap"));
  ck_assert(!tagset_contains("kind=api", "kind=api,scenario=buy"));
  ck_assert(!tagset_contains("kind=apix", "kind=api"));
  ck_assert(!tagset_contains(NULL, "kind=api"));
}
END_TEST

START_TEST(json_round_trip) {
  char back[TAGSET_MAX];
  json_t *o = tagset_json("kind=api,scenario=buy");
  ck_assert_str_eq(json_string_value(json_object_get(o, "scenario")), "buy");
  ck_assert_int_eq(json_object_size(o), 2);
  ck_assert_int_eq(tagset_from_json(o, back, sizeof back), 0);
  ck_assert_str_eq(back, "kind=api,scenario=buy");
  json_object_set_new(o, "n", json_integer(1));
  ck_assert_int_eq(tagset_from_json(o, back, sizeof back), -EINVAL); /* a value that is not a string */
  json_decref(o);
}
END_TEST

CHECK_MAIN("tagset", 0, rules, put_keeps_order, contains, json_round_trip)
