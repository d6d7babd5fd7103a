/* test_stats.c - per-name interval records: lookup and name caps, counters, failure tallies, exemplar
 * choice, reset, and the merge the master relies on being exact. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/stats.h"
#include "tests/support/checkrun.h"

START_TEST(err_names) {
  ck_assert_int_eq(STATS_ERR_NONE, 0); /* a zeroed response is a success, not a connect failure */
  ck_assert_str_eq(stats_err_name(STATS_ERR_CONNECT), "connect");
  ck_assert_str_eq(stats_err_name(STATS_ERR_DNS), "dns");
  ck_assert_str_eq(stats_err_name(STATS_ERR_TLS), "tls");
  ck_assert_str_eq(stats_err_name(STATS_ERR_TIMEOUT), "timeout");
  ck_assert_str_eq(stats_err_name(STATS_ERR_RESET), "reset");
  ck_assert_str_eq(stats_err_name(STATS_ERR_PROTOCOL), "protocol");
  ck_assert_str_eq(stats_err_name(STATS_ERR_HTTP4XX), "http4xx");
  ck_assert_str_eq(stats_err_name(STATS_ERR_HTTP5XX), "http5xx");
  ck_assert_str_eq(stats_err_name(STATS_ERR_SCRIPT), "script");
  ck_assert_str_eq(stats_err_name(STATS_ERR_OTHER), "other");
  ck_assert_str_eq(stats_err_name(-1), "other");
  ck_assert_str_eq(stats_err_name(STATS_ERR_COUNT), "other");
  for (int k = STATS_ERR_FIRST; k < STATS_ERR_COUNT; k++)
    ck_assert_int_eq(stats_err_parse(stats_err_name(k)), k);
  ck_assert_int_eq(stats_err_parse("none"), STATS_ERR_NONE);
  ck_assert_int_eq(stats_err_parse("bogus"), STATS_ERR_NONE);
}
END_TEST

/* The error-kind table of docs/scenario-api.md ("### Error kinds": one "| `kind` | ... |" row per kind)
 * lists exactly the code's kinds, in the code's order. */
START_TEST(err_kinds_match_docs) {
  const char *src = getenv("LOADCTL_SRC");
  char path[1024], line[1024];
  int in_table = 0, k = STATS_ERR_FIRST;
  snprintf(path, sizeof path, "%s/docs/scenario-api.md", src ? src : ".");
  FILE *f = fopen(path, "r");
  ck_assert_msg(f != NULL, "%s: cannot open (set LOADCTL_SRC)", path);
  while (fgets(line, sizeof line, f)) {
    if (!strncmp(line, "### Error kinds", 15))
      in_table = 1;
    else if (in_table && !strncmp(line, "#", 1))
      break;
    if (!in_table || strncmp(line, "| `", 3)) continue;
    char *end = strchr(line + 3, '`');
    ck_assert_msg(end != NULL, "%s: malformed row %s", path, line);
    *end = '\0';
    ck_assert_msg(k < STATS_ERR_COUNT, "%s: kind '%s' is not in the code", path, line + 3);
    ck_assert_msg(!strcmp(line + 3, stats_err_name(k)), "%s: row '%s' where the code has '%s'", path,
                  line + 3, stats_err_name(k));
    k++;
  }
  fclose(f);
  ck_assert_msg(k == STATS_ERR_COUNT, "%s: the table lists %d kinds, the code has %d", path,
                k - STATS_ERR_FIRST, STATS_ERR_COUNT - STATS_ERR_FIRST);
}
END_TEST

START_TEST(entries_and_names) {
  stats_interval *s;
  char longname[600];
  ck_assert_int_eq(stats_create(&s, 5000, 1000), 0);
  ck_assert_int_eq(s->start_ms, 5000);
  ck_assert_int_eq(s->interval_ms, 1000);
  stats_entry *a = stats_entry_get(s, "GET /a", "GET");
  ck_assert_ptr_nonnull(a);
  ck_assert_str_eq(a->method, "GET");
  ck_assert_ptr_nonnull(a->latency);
  ck_assert_ptr_nonnull(a->service);
  ck_assert_ptr_eq(stats_entry_find(s, "GET /a"), a);
  ck_assert_ptr_eq(stats_entry_get(s, "GET /a", "GET"), a);
  ck_assert_ptr_null(stats_entry_find(s, "GET /b"));
  ck_assert_uint_eq(s->nentries, 1);
  /* 300 two-byte characters: cut below 256 bytes on a character boundary, found again by the full name */
  for (int i = 0; i < 300; i++) longname[2 * i] = (char)0xc3, longname[2 * i + 1] = (char)0xa9;
  longname[599] = 0;
  stats_entry *l = stats_entry_get(s, longname, "POST");
  ck_assert_ptr_nonnull(l);
  ck_assert_uint_eq(strlen(l->name), 254);
  ck_assert_ptr_eq(stats_entry_find(s, longname), l);
  ck_assert_uint_eq(s->nentries, 2);
  stats_destroy(s);
}
END_TEST

START_TEST(name_cap_and_other) {
  stats_interval *s;
  char name[32];
  ck_assert_int_eq(stats_create(&s, 0, 1000), 0);
  for (int i = 0; i < STATS_MAX_NAMES - 1; i++) {
    snprintf(name, sizeof name, "n%d", i);
    ck_assert_ptr_nonnull(stats_entry_get(s, name, "GET"));
  }
  ck_assert_ptr_null(stats_entry_get(s, "one too many", "GET"));
  ck_assert_ptr_nonnull(stats_entry_get(s, "n5", "GET")); /* existing names still work */
  for (int i = 0; i < STATS_MAX_NAMES - 1; i++) { /* each found at its own entry after the index grew */
    snprintf(name, sizeof name, "n%d", i);
    ck_assert_ptr_eq(stats_entry_find(s, name), &s->entries[i]);
  }
  /* timing phases only for the first STATS_PHASE_NAMES names of the interval */
  const int64_t phases[STATS_PHASE_COUNT] = {1, 2, 3, 4, 5, 6};
  ck_assert_int_eq(stats_entry_phases(&s->entries[STATS_PHASE_NAMES - 1], phases), 0);
  ck_assert_int_eq(stats_entry_phases(&s->entries[STATS_PHASE_NAMES], phases), 0);
  ck_assert_int_eq(hist_count(s->entries[STATS_PHASE_NAMES - 1].phase[0]), 1);
  ck_assert_ptr_null(s->entries[STATS_PHASE_NAMES].phase[0]);
  stats_entry *other = stats_entry_get(s, "(other)", "");
  ck_assert_ptr_nonnull(other);
  ck_assert_uint_eq(s->nentries, STATS_MAX_NAMES);
  ck_assert_ptr_null(stats_entry_get(s, "(other2)", ""));
  ck_assert_ptr_eq(stats_entry_get(s, "(other)", ""), other);
  stats_destroy(s);
}
END_TEST

START_TEST(record_and_fail) {
  stats_interval *s;
  ck_assert_int_eq(stats_create(&s, 0, 1000), 0);
  stats_entry *e = stats_entry_get(s, "GET /", "GET");
  for (int i = 1; i <= 100; i++) stats_entry_record(e, i * 1000, i * 900);
  ck_assert_int_eq(e->count, 100);
  ck_assert_int_eq(hist_count(e->latency), 100);
  ck_assert_int_eq(hist_count(e->service), 100);
  ck_assert_int_eq(hist_value_at_percentile(e->latency, 50), 50015); /* 50000 in slot 49984..50015 */
  ck_assert_int_le(hist_value_at_percentile(e->service, 100), 90000 + 90);
  stats_entry_fail(e, STATS_ERR_TIMEOUT, "timeout");
  stats_entry_fail(e, STATS_ERR_TIMEOUT, "timeout");
  stats_entry_fail(e, STATS_ERR_CONNECT, "refused");
  stats_entry_fail(e, 42, "weird kind"); /* out of range lands in other */
  ck_assert_int_eq(e->errors, 4);
  ck_assert_int_eq(e->err[STATS_ERR_TIMEOUT], 2);
  ck_assert_int_eq(e->err[STATS_ERR_CONNECT], 1);
  ck_assert_int_eq(e->err[STATS_ERR_OTHER], 1);
  ck_assert_int_eq(e->count, 100); /* fail() does not count a completion */
  ck_assert_int_eq(e->nfailures, 3);
  ck_assert_int_eq(e->failures[0].count, 2);
  ck_assert_str_eq(e->failures[0].message, "timeout");
  for (int i = 0; i < 20; i++) {
    char msg[32];
    snprintf(msg, sizeof msg, "HTTP %d", 500 + i);
    stats_entry_fail(e, STATS_ERR_HTTP5XX, msg);
  }
  ck_assert_int_eq(e->nfailures, STATS_FAILURES);
  ck_assert_int_eq(e->err[STATS_ERR_HTTP5XX], 20); /* counters stay exact when messages overflow */
  ck_assert_int_eq(e->errors, 24);
  stats_entry_fail(e, STATS_ERR_SCRIPT, NULL);
  ck_assert_int_eq(e->err[STATS_ERR_SCRIPT], 1);
  stats_destroy(s);
}
END_TEST

static stats_exemplar ex(int64_t latency_us) {
  stats_exemplar x;
  memset(&x, 0, sizeof x);
  snprintf(x.trace_id, sizeof x.trace_id, "%032llx", (unsigned long long)latency_us);
  snprintf(x.span_id, sizeof x.span_id, "%016llx", (unsigned long long)latency_us);
  x.latency_us = latency_us;
  x.wall_ms = 1000 + latency_us;
  return x;
}

START_TEST(exemplars) {
  stats_interval *s;
  static const int64_t lat[] = {500, 9000, 100, 7000, 8000, 300, 9500, 50};
  ck_assert_int_eq(stats_create(&s, 0, 1000), 0);
  stats_entry *e = stats_entry_get(s, "GET /", "GET");
  for (int i = 0; i < 8; i++) {
    stats_exemplar x = ex(lat[i]);
    stats_entry_record(e, lat[i], lat[i]);
    stats_entry_exemplar(e, &x, (uint64_t)i * 2654435761u);
  }
  ck_assert_int_eq(e->nslow, 4);
  ck_assert_int_eq(e->slow[0].latency_us, 9500);
  ck_assert_int_eq(e->slow[1].latency_us, 9000);
  ck_assert_int_eq(e->slow[2].latency_us, 8000);
  ck_assert_int_eq(e->slow[3].latency_us, 7000);
  ck_assert_str_eq(e->slow[0].trace_id, "0000000000000000000000000000251c");
  ck_assert_int_eq(e->ntypical, 4);
  /* reservoir: the 5th..8th offers replace slot random % count when it is < 4 */
  stats_entry *f = stats_entry_get(s, "GET /f", "GET");
  for (int i = 0; i < 4; i++) {
    stats_exemplar x = ex(i + 1);
    stats_entry_record(f, 1, 1);
    stats_entry_exemplar(f, &x, 0);
  }
  stats_exemplar x = ex(77);
  stats_entry_record(f, 1, 1);
  stats_entry_exemplar(f, &x, 5 * 1000 + 2); /* % 5 == 2 -> replaces slot 2 */
  ck_assert_int_eq(f->typical[2].latency_us, 77);
  x = ex(88);
  stats_entry_record(f, 1, 1);
  stats_entry_exemplar(f, &x, 6 * 7 + 5); /* % 6 == 5 -> kept out */
  for (int i = 0; i < 4; i++) ck_assert_int_ne(f->typical[i].latency_us, 88);
  stats_destroy(s);
}
END_TEST

START_TEST(reset_keeps_names) {
  stats_interval *s;
  ck_assert_int_eq(stats_create(&s, 0, 1000), 0);
  s->users = 9, s->iterations = 8, s->dropped = 7, s->rate = 6;
  stats_entry *e = stats_entry_get(s, "GET /", "GET");
  stats_entry_record(e, 10, 10);
  stats_entry_fail(e, STATS_ERR_DNS, "nx");
  e->bytes_in = 5;
  stats_exemplar x = ex(10);
  stats_entry_exemplar(e, &x, 0);
  stats_check_get(s, "ok")->passes = 3;
  stats_reset(s, 2000);
  ck_assert_int_eq(s->start_ms, 2000);
  ck_assert_int_eq(s->users + s->iterations + s->dropped, 0);
  ck_assert_uint_eq(s->nentries, 1);
  ck_assert_ptr_eq(stats_entry_find(s, "GET /"), e);
  ck_assert_int_eq(e->count + e->errors + e->err[STATS_ERR_DNS] + e->bytes_in, 0);
  ck_assert_int_eq(hist_count(e->latency) + hist_count(e->service), 0);
  ck_assert_int_eq(e->nslow + e->ntypical + e->nfailures, 0);
  ck_assert_uint_eq(s->nchecks, 1);
  ck_assert_int_eq(s->checks[0].passes, 0);
  stats_destroy(s);
}
END_TEST

/* Fill an interval with names[0..n) each recorded count times around base. */
static void fill(stats_interval *s, const char *const *names, int n, int count, int64_t base) {
  for (int k = 0; k < n; k++) {
    stats_entry *e = stats_entry_get(s, names[k], "GET");
    for (int i = 0; i < count; i++) stats_entry_record(e, base + i * 13, base + i * 11);
    e->bytes_in += count * 100;
    stats_entry_fail(e, STATS_ERR_HTTP4XX, "HTTP 404");
    stats_exemplar x = ex(base + count * 13);
    stats_entry_exemplar(e, &x, 0);
  }
}

START_TEST(merge_exact) {
  static const char *const left[] = {"GET /a", "GET /b"}, *const right[] = {"GET /b", "GET /c"};
  stats_interval *a, *b, *all;
  ck_assert_int_eq(stats_create(&a, 0, 1000), 0);
  ck_assert_int_eq(stats_create(&b, 0, 1000), 0);
  ck_assert_int_eq(stats_create(&all, 0, 1000), 0);
  fill(a, left, 2, 1000, 100);
  fill(b, right, 2, 500, 5000);
  fill(all, left, 2, 1000, 100);
  fill(all, right, 2, 500, 5000);
  a->users = 10, b->users = 15, a->rate = 1.5, b->rate = 2.5, a->iterations = 3, b->iterations = 4;
  b->dropped = 2;
  stats_check_get(a, "ok")->passes = 5;
  stats_check_get(b, "ok")->passes = 6;
  stats_check_get(b, "ok")->fails = 1;
  stats_check_get(b, "other")->fails = 2;
  ck_assert_int_eq(stats_merge(a, b), 0);
  ck_assert_uint_eq(a->nentries, 3);
  ck_assert_int_eq(a->users, 25);
  ck_assert_double_eq(a->rate, 4.0);
  ck_assert_int_eq(a->iterations, 7);
  ck_assert_int_eq(a->dropped, 2);
  for (size_t i = 0; i < all->nentries; i++) {
    stats_entry *want = &all->entries[i], *got = stats_entry_find(a, want->name);
    ck_assert_ptr_nonnull(got);
    ck_assert(hist_equal(got->latency, want->latency));
    ck_assert(hist_equal(got->service, want->service));
    ck_assert_int_eq(got->count, want->count);
    ck_assert_int_eq(got->bytes_in, want->bytes_in);
    ck_assert_int_eq(got->err[STATS_ERR_HTTP4XX], want->err[STATS_ERR_HTTP4XX]);
    ck_assert_int_eq(got->nfailures, 1);
    ck_assert_int_eq(got->failures[0].count, want->err[STATS_ERR_HTTP4XX]);
  }
  stats_entry *mid = stats_entry_find(a, "GET /b");
  ck_assert_int_eq(mid->count, 1500);
  ck_assert_int_eq(mid->nslow, 2);
  ck_assert_int_eq(mid->slow[0].latency_us, 100 + 1000 * 13); /* slowest first across both */
  ck_assert_int_eq(mid->slow[1].latency_us, 5000 + 500 * 13);
  ck_assert_int_eq(mid->ntypical, 2);
  ck_assert_uint_eq(a->nchecks, 2);
  ck_assert_int_eq(stats_check_get(a, "ok")->passes, 11);
  ck_assert_int_eq(stats_check_get(a, "ok")->fails, 1);
  ck_assert_int_eq(stats_check_get(a, "other")->fails, 2);
  stats_destroy(a);
  stats_destroy(b);
  stats_destroy(all);
}
END_TEST

START_TEST(merge_folds_into_other) {
  stats_interval *dst, *src;
  char name[32];
  ck_assert_int_eq(stats_create(&dst, 0, 1000), 0);
  ck_assert_int_eq(stats_create(&src, 0, 1000), 0);
  for (int i = 0; i < STATS_MAX_NAMES - 1; i++) {
    snprintf(name, sizeof name, "d%d", i);
    stats_entry_get(dst, name, "GET");
  }
  for (int i = 0; i < 3; i++) {
    snprintf(name, sizeof name, "s%d", i);
    stats_entry_record(stats_entry_get(src, name, "GET"), 100, 100);
  }
  ck_assert_int_eq(stats_merge(dst, src), 0);
  stats_entry *other = stats_entry_find(dst, "(other)");
  ck_assert_ptr_nonnull(other);
  ck_assert_int_eq(other->count, 3);
  ck_assert_int_eq(hist_count(other->latency), 3);
  ck_assert_uint_eq(dst->nentries, STATS_MAX_NAMES);
  stats_destroy(dst);
  stats_destroy(src);
}
END_TEST

CHECK_MAIN("stats", 60, err_names, err_kinds_match_docs, entries_and_names, name_cap_and_other,
           record_and_fail, exemplars, reset_keeps_names, merge_exact, merge_folds_into_other)
