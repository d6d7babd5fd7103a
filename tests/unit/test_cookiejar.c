/* test_cookiejar.c - RFC 6265 section 5 as the VU's jar applies it: host-only and Domain cookies, Path
 * and default-path, Expires / Max-Age (and deletion), Secure, replacement, ordering, browser limits, and
 * the cookie-date formats servers send. */
#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/support/checkrun.h"
#include "worker/cookiejar.h"

#define NOW 1700000000LL

static cookiejar *jar;

static int set(const char *url, const char *text, int64_t now) {
  return cookiejar_set(jar, url, text, strlen(text), now);
}

/* The Cookie header for url at now, as a string owned by the jar. */
static const char *hdr(const char *url, int64_t now) {
  const char *out;
  size_t len;
  ck_assert_int_eq(cookiejar_header(jar, url, now, &out, &len), 0);
  ck_assert_uint_eq(strlen(out), len);
  return out;
}

static void setup(void) {
  ck_assert_int_eq(cookiejar_create(&jar), 0);
}

static void teardown(void) {
  cookiejar_free(jar);
  jar = NULL;
}

START_TEST(host_only_and_domain) {
  ck_assert_int_eq(set("http://www.example.com/", "h=1", NOW), 1);
  ck_assert_int_eq(set("http://www.example.com/", "d=2; Domain=.Example.COM", NOW), 1);
  ck_assert_str_eq(hdr("http://www.example.com/x", NOW), "h=1; d=2");
  ck_assert_str_eq(hdr("http://WWW.example.com:8080/", NOW), "h=1; d=2"); /* any port, case-insensitive */
  ck_assert_str_eq(hdr("http://example.com/", NOW), "d=2");
  ck_assert_str_eq(hdr("http://a.b.example.com/", NOW), "d=2");
  ck_assert_str_eq(hdr("http://sub.www.example.com/", NOW), "d=2"); /* h is host-only */
  ck_assert_str_eq(hdr("http://notexample.com/", NOW), "");
  ck_assert_str_eq(hdr("http://example.org/", NOW), "");
  /* a Domain the host is not in, a single label, an IP host under a domain: ignored */
  ck_assert_int_eq(set("http://www.example.com/", "x=1; Domain=other.com", NOW), 0);
  ck_assert_int_eq(set("http://www.example.com/", "x=1; Domain=com", NOW), 0);
  ck_assert_int_eq(set("http://127.0.0.1/", "x=1; Domain=0.0.1", NOW), 0);
  ck_assert_int_eq(set("http://localhost:9/", "l=1; Domain=localhost", NOW), 1); /* the host itself */
  ck_assert_str_eq(hdr("http://localhost/", NOW), "l=1");
  ck_assert_int_eq(set("http://127.0.0.1:9/", "ip=1", NOW), 1);
  ck_assert_str_eq(hdr("http://127.0.0.1:10/", NOW), "ip=1");
  ck_assert_uint_eq(cookiejar_count(jar), 4);
  /* malformed: no '=', empty name */
  ck_assert_int_eq(set("http://www.example.com/", "novalue", NOW), 0);
  ck_assert_int_eq(set("http://www.example.com/", " =v", NOW), 0);
}
END_TEST

START_TEST(paths_and_order) {
  ck_assert_int_eq(set("http://e.com/", "root=1; Path=/", NOW), 1);
  ck_assert_int_eq(set("http://e.com/", "api=2; Path=/api", NOW), 1);
  ck_assert_int_eq(set("http://e.com/a/b/c?q=/x", "dflt=3", NOW), 1);     /* default path /a/b */
  ck_assert_int_eq(set("http://e.com/one", "top=4", NOW), 1);             /* default path / */
  ck_assert_int_eq(set("http://e.com/", "bad=5; Path=relative", NOW), 1); /* not /...: the default path */
  ck_assert_str_eq(hdr("http://e.com/api", NOW), "api=2; root=1; top=4; bad=5");
  ck_assert_str_eq(hdr("http://e.com/api/v1?x=1", NOW), "api=2; root=1; top=4; bad=5");
  ck_assert_str_eq(hdr("http://e.com/apix", NOW), "root=1; top=4; bad=5");
  ck_assert_str_eq(hdr("http://e.com/a/b/z", NOW), "dflt=3; root=1; top=4; bad=5");
  ck_assert_str_eq(hdr("http://e.com/a/bz", NOW), "root=1; top=4; bad=5");
  ck_assert_str_eq(hdr("http://e.com", NOW), "root=1; top=4; bad=5");
  /* the same name, domain and path replaces the value and keeps the place; another path is another cookie */
  ck_assert_int_eq(set("http://e.com/", "root=9; Path=/", NOW), 1);
  ck_assert_int_eq(set("http://e.com/", "api=7; Path=/api/", NOW), 1);
  ck_assert_str_eq(hdr("http://e.com/api/x", NOW), "api=7; api=2; root=9; top=4; bad=5");
  ck_assert_uint_eq(cookiejar_count(jar), 6);
}
END_TEST

START_TEST(expiry_and_deletion) {
  uint64_t gen = cookiejar_generation(jar);
  ck_assert_int_eq(set("http://e.com/", "m=1; Max-Age=10", NOW), 1);
  ck_assert_uint_ne(cookiejar_generation(jar), gen);
  ck_assert_int_eq(cookiejar_next_expiry(jar), NOW + 10);
  ck_assert_str_eq(hdr("http://e.com/", NOW + 9), "m=1");
  ck_assert_str_eq(hdr("http://e.com/", NOW + 10), "");
  ck_assert_uint_eq(cookiejar_count(jar), 0);
  ck_assert_int_eq(cookiejar_next_expiry(jar), INT64_MAX);
  /* Expires: kept until the date, then gone */
  ck_assert_int_eq(set("http://e.com/", "x=1; Expires=Wed, 21 Oct 2015 07:28:00 GMT", 1445412479LL), 1);
  ck_assert_str_eq(hdr("http://e.com/", 1445412479LL), "x=1");
  ck_assert_str_eq(hdr("http://e.com/", 1445412480LL), "");
  /* Max-Age wins over Expires, whatever the order */
  ck_assert_int_eq(set("http://e.com/", "y=1; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=60", NOW), 1);
  ck_assert_str_eq(hdr("http://e.com/", NOW + 59), "y=1");
  /* the server deletes: Max-Age=0, or an Expires in the past */
  ck_assert_int_eq(set("http://e.com/", "y=; Max-Age=0", NOW), 1);
  ck_assert_uint_eq(cookiejar_count(jar), 0);
  ck_assert_int_eq(set("http://e.com/", "s=1", NOW), 1); /* a session cookie never expires */
  ck_assert_int_eq(set("http://e.com/", "s=1; expires=Sun, 06 Nov 1994 08:49:37 GMT", NOW), 1);
  ck_assert_uint_eq(cookiejar_count(jar), 0);
  ck_assert_int_eq(set("http://e.com/", "gone=1; Max-Age=-5", NOW), 0); /* never stored */
}
END_TEST

START_TEST(secure_only_over_https) {
  ck_assert_int_eq(set("https://e.com/", "s=1; Secure; HttpOnly", NOW), 1);
  ck_assert_int_eq(set("https://e.com/", "p=2", NOW), 1);
  ck_assert_str_eq(hdr("https://e.com/", NOW), "s=1; p=2");
  ck_assert_str_eq(hdr("http://e.com/", NOW), "p=2");
}
END_TEST

START_TEST(limits) {
  char text[5000], url[64];
  /* 181 cookies of one domain: 180 stay, the least recently used goes (c0 was just replaced: c1) */
  for (int i = 0; i < COOKIEJAR_MAX_PER_DOMAIN + 1; i++) {
    snprintf(text, sizeof text, "c%d=%d", i, i);
    if (i == COOKIEJAR_MAX_PER_DOMAIN) ck_assert_int_eq(set("http://big.com/", "c0=new", NOW), 1);
    ck_assert_int_eq(set("http://big.com/", text, NOW), 1);
  }
  ck_assert_uint_eq(cookiejar_count(jar), COOKIEJAR_MAX_PER_DOMAIN);
  ck_assert_ptr_nonnull(strstr(hdr("http://big.com/", NOW), "c0=new; c2=2;"));
  ck_assert_ptr_nonnull(strstr(hdr("http://big.com/", NOW), "c180=180"));
  /* 4096 bytes of name + value is the most */
  memset(text, 'v', sizeof text);
  memcpy(text, "n=", 2);
  text[2 + 4096] = 0; /* 1 + 4096 bytes */
  ck_assert_int_eq(set("http://big.com/", text, NOW), 0);
  text[2 + 4095] = 0;
  ck_assert_int_eq(set("http://big.com/", text, NOW), 1);
  cookiejar_free(jar);
  ck_assert_int_eq(cookiejar_create(&jar), 0);
  /* 3000 in all */
  for (int i = 0; i < COOKIEJAR_MAX + 5; i++) {
    snprintf(url, sizeof url, "http://d%d.com/", i % 20);
    snprintf(text, sizeof text, "k%d=1", i);
    ck_assert_int_eq(set(url, text, NOW), 1);
  }
  ck_assert_uint_eq(cookiejar_count(jar), COOKIEJAR_MAX);
}
END_TEST

static const struct {
  const char *text;
  int64_t epoch;
} dates[] = {
    {"Sun, 06 Nov 1994 08:49:37 GMT", 784111777}, {"Sunday, 06-Nov-94 08:49:37 GMT", 784111777},
    {"Sun Nov  6 08:49:37 1994", 784111777},      {"Wed, 21-Oct-2015 07:28:00 GMT", 1445412480},
    {"21 Oct 2015 07:28:00", 1445412480},         {"Thu, 01 Jan 2037 00:00:00 GMT", 2114380800},
    {"Fri, 31 Dec 1999 23:59:59 GMT", 946684799},
};

START_TEST(cookie_dates) {
  int64_t s = 0;
  ck_assert_msg(cookiejar_parse_date(dates[_i].text, strlen(dates[_i].text), &s) == 0, "%s", dates[_i].text);
  ck_assert_int_eq(s, dates[_i].epoch);
}
END_TEST

START_TEST(bad_dates) {
  static const char *const bad[] = {"",
                                    "yesterday",
                                    "Sun, 06 Nov 1994",
                                    "Sun, 32 Nov 1994 08:49:37",
                                    "Sun, 06 Nov 1994 25:00:00",
                                    "06 Nov 1500 08:49:37"};
  int64_t s;
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    ck_assert_msg(cookiejar_parse_date(bad[i], strlen(bad[i]), &s) == -EINVAL, "accepted '%s'", bad[i]);
}
END_TEST

int main(void) {
  const TTest *tests[] = {host_only_and_domain,   paths_and_order, expiry_and_deletion,
                          secure_only_over_https, limits,          bad_dates};
  TCase *tc = check_case("cookiejar", 0, tests, sizeof tests / sizeof tests[0]);
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_loop_test(tc, cookie_dates, 0, (int)(sizeof dates / sizeof dates[0]));
  return check_run(check_suite_of("cookiejar", tc));
}
