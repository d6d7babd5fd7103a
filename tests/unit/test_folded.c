/* test_folded.c - folded stacks parse/write (exact counts, errors with line numbers) and `perf script`
 * folding (real perf output captured from tests/targets/profile_burn, see fixtures/perf_script.md). */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "master/profile/folded.h"
#include "tests/support/checkrun.h"

static char err[512];

static int64_t leaf_total(const pprof_profile *p, const char *fn) {
  int64_t sum = 0;
  for (size_t i = 0; i < p->nsamples; i++)
    if (p->samples[i].nstack && strcmp(p->strings[p->functions[p->samples[i].stack[0]].name], fn) == 0)
      sum += p->samples[i].values[0];
  return sum;
}

START_TEST(parse_basic) {
  const char *text = "main;a;b 10\r\nmain;a 5\n\n  \nmain;a;b 2\nmain;;c\t7\nsolo 1"; /* no final newline */
  pprof_profile *p = NULL;
  ck_assert_msg(folded_parse(text, strlen(text), NULL, NULL, &p, err, sizeof err) == 0, "%s", err);
  ck_assert_uint_eq(p->nsamples, 4);
  ck_assert_int_eq(pprof_total(p, 0), 25);
  ck_assert_int_eq(leaf_total(p, "b"), 12);
  ck_assert_int_eq(leaf_total(p, "a"), 5);
  ck_assert_int_eq(leaf_total(p, "c"), 7);
  ck_assert_int_eq(leaf_total(p, "solo"), 1);
  ck_assert_str_eq(p->strings[p->sample_types[0].type], "samples");
  /* root is last in a pprof stack */
  for (size_t i = 0; i < p->nsamples; i++)
    if (p->samples[i].nstack == 3)
      ck_assert_str_eq(p->strings[p->functions[p->samples[i].stack[2]].name], "main");
  pprof_free(p);
}
END_TEST

START_TEST(parse_errors) {
  pprof_profile *p = (pprof_profile *)1;
  const char *nocount = "a;b 1\na;b\n";
  ck_assert_int_eq(folded_parse(nocount, strlen(nocount), NULL, NULL, &p, err, sizeof err), -EINVAL);
  ck_assert_ptr_null(p);
  ck_assert_str_eq(err, "line 2: no count (want \"a;b;c 123\")");
  const char *neg = "a 1\n\nb -3\n";
  ck_assert_int_eq(folded_parse(neg, strlen(neg), NULL, NULL, &p, err, sizeof err), -EINVAL);
  ck_assert_ptr_nonnull(strstr(err, "line 3: count '-3'"));
  const char *junk = "a 12x\n";
  ck_assert_int_eq(folded_parse(junk, strlen(junk), NULL, NULL, &p, err, sizeof err), -EINVAL);
  const char *empty = "";
  ck_assert_int_eq(folded_parse(empty, 0, "cpu", "nanoseconds", &p, err, sizeof err), 0);
  ck_assert_uint_eq(p->nsamples, 0);
  ck_assert_str_eq(p->strings[p->sample_types[0].unit], "nanoseconds");
  pprof_free(p);
  /* not NUL-terminated: only len bytes are read */
  char raw[8] = {'x', ';', 'y', ' ', '4', '2', '9', '9'};
  ck_assert_int_eq(folded_parse(raw, 6, NULL, NULL, &p, err, sizeof err), 0);
  ck_assert_int_eq(pprof_total(p, 0), 42);
  pprof_free(p);
}
END_TEST

START_TEST(write_round_trip) {
  const char *text = "main;b;c 3\nmain;a 5\nmain;b;c 4\nzero 0\n";
  pprof_profile *p = NULL;
  char *out = NULL;
  size_t len = 0;
  ck_assert_int_eq(folded_parse(text, strlen(text), NULL, NULL, &p, err, sizeof err), 0);
  ck_assert_int_eq(folded_write(p, 0, &out, &len), 0);
  ck_assert_str_eq(out, "main;a 5\nmain;b;c 7\n");
  ck_assert_uint_eq(len, strlen(out));
  ck_assert_int_eq(folded_write(p, 1, &out, &len), -EINVAL);
  free(out);
  pprof_free(p);
}
END_TEST

static const char perf_text[] =
    "# ========\n"
    "# captured on: test\n"
    "profile_burn 4242 [001]  100.000001:   10101010 cpu-clock:ppp: \n"
    "\t          4011a6 burn_hot+0x16 (/build/profile_burn)\n"
    "\t          401200 run_loop+0x20 (/build/profile_burn)\n"
    "\t          401300 main+0x40 (/build/profile_burn)\n"
    "\n"
    "profile_burn 4242/4243 [000]  100.010001:   10101010 cpu-clock:ppp: \n"
    "\t          4011a6 burn_hot+0x16 (/build/profile_burn)\n"
    "\t          401200 run_loop+0x20 (/build/profile_burn)\n"
    "\t          401300 main+0x40 (/build/profile_burn)\n"
    "\n"
    "Web Content 77 [000]  100.020001:   10101010 cpu-clock:ppp: \n"
    "\t          4011f6 burn_cold+0x6 (/build/profile_burn)\n"
    "\t          123456 [unknown] (/usr/lib/x86_64-linux-gnu/libc.so.6)\n"
    "\t               0 [unknown] ([unknown])\n"
    "\n"
    "swapper     0 [000]  100.030001:   10101010 cpu-clock:ppp: \n"
    "\tffffffff81000130 operator()(int, char const*)+0x76 ([kernel.kallsyms])\n";

START_TEST(perf_script_fold) {
  pprof_profile *p = NULL;
  char *out = NULL;
  size_t len;
  ck_assert_msg(folded_from_perf_script(perf_text, strlen(perf_text), &p, err, sizeof err) == 0, "%s", err);
  ck_assert_int_eq(pprof_total(p, 0), 4);
  ck_assert_int_eq(folded_write(p, 0, &out, &len), 0);
  ck_assert_str_eq(out,
                   "Web Content;[unknown];[libc.so.6];burn_cold 1\n"
                   "profile_burn;main;run_loop;burn_hot 2\n"
                   "swapper;operator()(int, char const*) 1\n");
  free(out);
  pprof_free(p);
  const char *notperf = "hello world\n";
  ck_assert_int_eq(folded_from_perf_script(notperf, 0, &p, err, sizeof err),
                   0); /* empty input: empty profile */
  ck_assert_uint_eq(p->nsamples, 0);
  pprof_free(p);
}
END_TEST

START_TEST(perf_script_fixture) {
  char path[1024];
  const char *src = getenv("LOADCTL_SRC");
  snprintf(path, sizeof path, "%s/tests/unit/fixtures/perf_script.txt", src ? src : ".");
  FILE *f = fopen(path, "rb");
  ck_assert_ptr_nonnull(f);
  char *text = malloc(4 << 20);
  size_t len = fread(text, 1, 4 << 20, f);
  fclose(f);
  pprof_profile *p = NULL;
  ck_assert_msg(folded_from_perf_script(text, len, &p, err, sizeof err) == 0, "%s", err);
  int64_t total = pprof_total(p, 0), hot = leaf_total(p, "burn_hot"), cold = leaf_total(p, "burn_cold");
  ck_assert_int_eq(total, 61);
  ck_assert_int_eq(hot, 48);
  ck_assert_int_eq(cold, 13);
  pprof_free(p);
  free(text);
}
END_TEST

CHECK_MAIN("folded", 0, parse_basic, parse_errors, write_round_trip, perf_script_fold, perf_script_fixture)
