/* test_secret.c - the scrubber: registered values and any URL's user:password become "***", short
 * values are refused, text without secrets is untouched, and the count is what was registered. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/secret.h"
#include "tests/support/checkrun.h"

static void setup(void) {
  secret_clear();
}

START_TEST(values_hidden) {
  char s[256] = "token=abcd1234 and again abcd1234; other abcd123";
  ck_assert_int_eq(secret_add("abcd1234"), 0);
  ck_assert_int_eq(secret_add("abcd1234"), 0); /* once is enough */
  ck_assert_uint_eq(secret_count(), 1);
  ck_assert_uint_eq(secret_scrub(s), 2);
  ck_assert_str_eq(s, "token=*** and again ***; other abcd123");
}
END_TEST

START_TEST(short_values_refused) {
  char s[64] = "a b abc";
  ck_assert_int_eq(secret_add("abc"), -EINVAL);
  ck_assert_int_eq(secret_add(NULL), -EINVAL);
  ck_assert_uint_eq(secret_count(), 0);
  ck_assert_uint_eq(secret_scrub(s), 0);
  ck_assert_str_eq(s, "a b abc");
}
END_TEST

START_TEST(url_userinfo_hidden) {
  char s[256] = "GET http://bob:pw@127.0.0.1:80/x then https://carol@h/y, not http://h/a@b nor mail@x";
  ck_assert_uint_eq(secret_scrub(s), 2);
  ck_assert_str_eq(s, "GET http://***@127.0.0.1:80/x then https://***@h/y, not http://h/a@b nor mail@x");
  ck_assert_uint_eq(secret_scrub(s), 0); /* already hidden: left alone */
}
END_TEST

START_TEST(url_registration) {
  char s[256] = "the password s3cretpw alone, and alice:s3cretpw";
  ck_assert_int_eq(secret_add_url("http://alice:s3cretpw@127.0.0.1:8080/"), 0);
  ck_assert_uint_eq(secret_count(), 2); /* the password, and user:password */
  ck_assert_int_eq(secret_add_url("http://127.0.0.1:8080/"), 0);
  ck_assert_uint_eq(secret_count(), 2);
  secret_scrub(s);
  ck_assert_ptr_null(strstr(s, "s3cretpw"));
  char *d = secret_scrub_dup("x s3cretpw y", 12);
  ck_assert_str_eq(d, "x *** y");
  free(d);
}
END_TEST

START_TEST(capacity_bounded) {
  char v[32];
  for (int i = 0; i < SECRET_MAX; i++) {
    snprintf(v, sizeof v, "value-%03d", i);
    ck_assert_int_eq(secret_add(v), 0);
  }
  ck_assert_int_eq(secret_add("one-too-many"), -ENOSPC);
  ck_assert_uint_eq(secret_count(), SECRET_MAX);
}
END_TEST

int main(void) {
  const TTest *tests[] = {values_hidden, short_values_refused, url_userinfo_hidden, url_registration,
                          capacity_bounded};
  TCase *tc = check_case("secret", 0, tests, sizeof tests / sizeof tests[0]);
  tcase_add_checked_fixture(tc, setup, NULL);
  return check_run(check_suite_of("secret", tc));
}
