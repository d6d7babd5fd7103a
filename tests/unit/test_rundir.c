/* test_rundir.c - the run directory written as a run goes: naming, unwritable --out, intervals.jsonl
 * lines, the hlog round trip (histograms read back equal), stats_history.csv's exact header, atomic files. */
#include <check.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/hlog.h"
#include "common/rundir.h"
#include "tests/support/checkrun.h"
#include "tests/support/testrun.h"

static char root[] = "/tmp/loadctl-rundir-XXXXXX";

static void setup(void) {
  strcpy(root, "/tmp/loadctl-rundir-XXXXXX");
  ck_assert_ptr_nonnull(mkdtemp(root));
}

static void teardown(void) {
  testrun_remove(root);
}

static int count_lines(const char *text) {
  int n = 0;
  for (; *text; text++) n += *text == '\n';
  return n;
}

/* Interval k: "GET /a" k+1 requests at (k+1) ms, "POST /b, x" 2 requests at 50 ms (one 5xx). */
static stats_interval *interval(int k, int64_t t0) {
  stats_interval *s;
  ck_assert_int_eq(stats_create(&s, t0 + 1000 * k, 1000), 0);
  stats_entry *a = stats_entry_get(s, "GET /a", "GET"), *b = stats_entry_get(s, "POST /b, x", "POST");
  for (int i = 0; i <= k; i++) stats_entry_record(a, 1000 * (k + 1), 1000 * (k + 1));
  stats_entry_record(b, 50000, 50000);
  stats_entry_record(b, 50000, 50000);
  stats_entry_fail(b, STATS_ERR_HTTP5XX, "HTTP 503");
  s->users = 10 + k;
  return s;
}

START_TEST(open_names_dir) {
  rundir *rd;
  char err[512] = "";
  ck_assert_int_eq(rundir_open(NULL, "check out", root, &rd, err, sizeof err), 0);
  const char *p = rundir_path(rd);
  ck_assert_ptr_nonnull(strstr(p, root));
  /* <root>/YYYY-MM-DDTHH-MM-SSZ-check_out */
  const char *base = p + strlen(root) + 1;
  ck_assert_uint_eq(strlen(base), strlen("2026-11-24T21-30-00Z-check_out"));
  ck_assert_int_eq(base[4], '-');
  ck_assert_int_eq(base[10], 'T');
  ck_assert_int_eq(base[19], 'Z');
  ck_assert_str_eq(base + 20, "-check_out");
  char first[4096];
  snprintf(first, sizeof first, "%s", p);
  rundir *rd2;
  ck_assert_int_eq(rundir_open(NULL, "check out", root, &rd2, err, sizeof err), 0);
  ck_assert_str_ne(rundir_path(rd2), first); /* same second: a -2 suffix, never the same dir */
  ck_assert_int_eq(rundir_close(rd2), 0);
  ck_assert_int_eq(rundir_close(rd), 0);
}
END_TEST

START_TEST(unwritable_out) {
  rundir *rd = NULL;
  char err[512] = "", file[4096], out[4200];
  snprintf(file, sizeof file, "%s/plainfile", root);
  FILE *f = fopen(file, "w");
  fclose(f);
  snprintf(out, sizeof out, "%s/sub", file); /* a directory under a regular file: ENOTDIR even for root */
  ck_assert_int_lt(rundir_open(out, "x", NULL, &rd, err, sizeof err), 0);
  ck_assert_ptr_null(rd);
  ck_assert_msg(strstr(err, out) != NULL, "error does not name the path: %s", err);
}
END_TEST

START_TEST(reused_out_drops_stale_files) {
  rundir *rd;
  char err[512] = "", dir[4096], sec[4200], path[4300];
  snprintf(dir, sizeof dir, "%s/again", root);
  snprintf(sec, sizeof sec, "%s/%s", dir, RUNDIR_SECTIONS);
  ck_assert_int_eq(mkdir(dir, 0755), 0);
  ck_assert_int_eq(mkdir(sec, 0755), 0);
  ck_assert_int_eq(rundir_write_file(dir, RUNDIR_SUMMARY, "{}", 2), 0);
  ck_assert_int_eq(rundir_write_file(sec, "10-old.html", "old", 3), 0);
  ck_assert_int_eq(rundir_open(dir, "x", NULL, &rd, err, sizeof err), 0);
  ck_assert_str_eq(rundir_path(rd), dir);
  snprintf(path, sizeof path, "%s/%s", dir, RUNDIR_SUMMARY);
  ck_assert_int_ne(access(path, F_OK), 0);
  snprintf(path, sizeof path, "%s/10-old.html", sec);
  ck_assert_int_ne(access(path, F_OK), 0);
  snprintf(path, sizeof path, "%s/%s", dir, RUNDIR_INTERVALS);
  ck_assert_int_eq(access(path, F_OK), 0);
  ck_assert_int_eq(rundir_close(rd), 0);
}
END_TEST

START_TEST(append_and_hlog_round_trip) {
  rundir *rd;
  char err[512] = "", dir[4096];
  const int64_t t0 = 1790000000000LL;
  stats_interval *ivs[5];
  snprintf(dir, sizeof dir, "%s/run", root);
  ck_assert_int_eq(rundir_open(dir, "x", NULL, &rd, err, sizeof err), 0);
  json_t *run = json_pack("{s:s,s:s}", "scenario", "x", "status", "running");
  ck_assert_int_eq(rundir_write_run(rd, run), 0);
  json_decref(run);
  for (int k = 0; k < 5; k++) {
    ivs[k] = interval(k, t0);
    ck_assert_int_eq(rundir_append_interval(rd, ivs[k]), 0);
  }
  ck_assert_int_eq(rundir_close(rd), 0);

  /* intervals.jsonl: 3 lines per interval (2 names + "(all)"), the "(all)" line last */
  char *jl = testrun_slurp(dir, RUNDIR_INTERVALS);
  ck_assert_int_eq(count_lines(jl), 15);
  char *last = strrchr(jl, '{');
  json_t *all = json_loads(last, 0, NULL);
  ck_assert_str_eq(json_string_value(json_object_get(all, "name")), "(all)");
  ck_assert_int_eq(json_integer_value(json_object_get(all, "count")), 5 + 2);
  ck_assert_int_eq(json_integer_value(json_object_get(all, "errors")), 1);
  ck_assert_int_eq(json_integer_value(json_object_get(all, "users")), 14);
  ck_assert_int_eq(json_integer_value(json_object_get(all, "t")), t0 + 4000);
  json_decref(all);
  json_t *first = json_loads(jl, JSON_DISABLE_EOF_CHECK, NULL);
  ck_assert_str_eq(json_string_value(json_object_get(first, "name")), "GET /a");
  ck_assert_int_eq(json_integer_value(json_object_get(first, "count")), 1);
  ck_assert_double_eq_tol(json_real_value(json_object_get(first, "p99_ms")), 1.0, 0.001);
  ck_assert_double_eq_tol(json_real_value(json_object_get(first, "rps")), 1.0, 1e-9);
  json_decref(first);
  free(jl);

  /* latency.hlog: every (interval, name) histogram reads back equal, stamped with its interval start, and
   * so does each name's service-time histogram, tagged "service:<name>" */
  char path[4200];
  snprintf(path, sizeof path, "%s/%s", dir, RUNDIR_HLOG);
  hlog_reader *r;
  hlog_entry e;
  int tagged = 0, untagged = 0, service = 0;
  ck_assert_int_eq(hlog_reader_open(path, &r), 0);
  while (hlog_reader_next(r, &e) == 1) {
    int k = (int)((e.start_ms - t0) / 1000);
    ck_assert_int_ge(k, 0);
    ck_assert_int_lt(k, 5);
    ck_assert_int_eq(e.start_ms, t0 + 1000 * k);
    ck_assert_int_eq(e.length_ms, 1000);
    if (!strncmp(e.tag, RUNDIR_HLOG_SERVICE, strlen(RUNDIR_HLOG_SERVICE))) {
      const char *t = e.tag + strlen(RUNDIR_HLOG_SERVICE),
                 *name = strcmp(t, "GET_/a") == 0 ? "GET /a" : "POST /b, x";
      ck_assert_msg(strcmp(t, "GET_/a") == 0 || strcmp(t, "POST_/b__x") == 0, "tag %s", e.tag);
      ck_assert(hist_equal(e.hist, stats_entry_find(ivs[k], name)->service));
      service++;
    } else if (e.tag[0]) {
      const char *name = strcmp(e.tag, "GET_/a") == 0 ? "GET /a" : "POST /b, x";
      ck_assert_msg(strcmp(e.tag, "GET_/a") == 0 || strcmp(e.tag, "POST_/b__x") == 0, "tag %s", e.tag);
      ck_assert(hist_equal(e.hist, stats_entry_find(ivs[k], name)->latency));
      tagged++;
    } else {
      ck_assert_int_eq(hist_count(e.hist), k + 1 + 2);
      untagged++;
    }
    hist_destroy(e.hist);
  }
  ck_assert_int_eq(hlog_reader_start_ms(r), t0);
  ck_assert_int_eq(hlog_reader_bad_lines(r), 0);
  hlog_reader_close(r);
  ck_assert_int_eq(tagged, 10);
  ck_assert_int_eq(service, 10);
  ck_assert_int_eq(untagged, 5);

  /* stats_history.csv: locust's header exactly, 3 rows per interval */
  char *csv = testrun_slurp(dir, RUNDIR_HISTORY_CSV);
  ck_assert_msg(
      strncmp(csv,
              "Timestamp,User Count,Type,Name,Requests/s,Failures/s,50%,66%,75%,80%,90%,95%,98%,99%,"
              "99.9%,99.99%,100%,Total Request Count,Total Failure Count,Total Median Response Time,"
              "Total Average Response Time,Total Min Response Time,Total Max Response Time,"
              "Total Average Content Size\n",
              strlen("Timestamp,User Count,Type,Name,Requests/s,Failures/s,50%,66%,75%,80%,90%,95%,98%,"
                     "99%,99.9%,99.99%,100%,Total Request Count,Total Failure Count,Total Median Response "
                     "Time,Total Average Response Time,Total Min Response Time,Total Max Response Time,"
                     "Total Average Content Size\n")) == 0,
      "header: %.300s", csv);
  ck_assert_int_eq(count_lines(csv), 1 + 15);
  ck_assert_ptr_nonnull(strstr(csv, ",\"POST /b, x\",")); /* quoted: the name holds a comma */
  /* last Aggregated row: totals over 5 intervals: 15 + 10 requests, 5 failures */
  ck_assert_ptr_nonnull(strstr(csv, ",Aggregated,7.00,1.00,"));
  ck_assert_ptr_nonnull(strstr(csv, ",25,5,"));
  free(csv);
  for (int k = 0; k < 5; k++) stats_destroy(ivs[k]);
}
END_TEST

START_TEST(atomic_write) {
  char *text;
  ck_assert_int_eq(rundir_write_file(root, "a.txt", "hello\n", 6), 0);
  text = testrun_slurp(root, "a.txt");
  ck_assert_str_eq(text, "hello\n");
  free(text);
  char tmp[4200];
  snprintf(tmp, sizeof tmp, "%s/a.txt.tmp", root);
  ck_assert_int_ne(access(tmp, F_OK), 0);
}
END_TEST

/* A log written by another implementation (hdr-histogram-js's HistogramLogWriter, format 1.3, relative
 * timestamps, no BaseTime) reads back with the values it recorded. */
START_TEST(read_hdrjs_fixture) {
  char path[4096];
  const char *src = getenv("LOADCTL_SRC");
  hlog_reader *r;
  hlog_entry e[4];
  int n = 0;
  snprintf(path, sizeof path, "%s/tests/unit/fixtures/hdrjs_written.hlog", src ? src : ".");
  ck_assert_int_eq(hlog_reader_open(path, &r), 0);
  while (n < 4 && hlog_reader_next(r, &e[n]) == 1) n++;
  ck_assert_int_eq(n, 3);
  ck_assert_int_eq(hlog_reader_bad_lines(r), 0);
  hlog_reader_close(r);
  ck_assert_str_eq(e[0].tag, "GET_/a");
  ck_assert_int_eq(e[0].start_ms, 1795000000000LL);
  ck_assert_int_eq(e[0].length_ms, 1000);
  ck_assert_int_eq(hist_count(e[0].hist), 150);
  ck_assert_int_le(llabs(hist_value_at_percentile(e[0].hist, 50) - 10000), 10);
  ck_assert_int_le(llabs(hist_max(e[0].hist) - 20000), 20);
  ck_assert_str_eq(e[1].tag, "POST_/b");
  ck_assert_int_eq(hist_count(e[1].hist), 7);
  ck_assert_int_le(llabs(hist_min(e[1].hist) - 250000), 250);
  ck_assert_int_eq(e[2].start_ms, 1795000001000LL);
  ck_assert_int_eq(hist_count(e[2].hist), 4);
  ck_assert_int_le(llabs(hist_max(e[2].hist) - 5000000), 5000);
  ck_assert_double_eq_tol(e[2].max_ms, 5000.0, 1e-9);
  for (int i = 0; i < n; i++) hist_destroy(e[i].hist);
}
END_TEST

/* A torn last line (kill -9 mid-write) is skipped and counted, the lines before it are read. */
START_TEST(hlog_truncated_last_line) {
  char path[4096];
  hist *h;
  hlog_entry e;
  hlog_reader *r;
  int n = 0;
  snprintf(path, sizeof path, "%s/t.hlog", root);
  FILE *f = fopen(path, "w");
  ck_assert_int_eq(hist_create(&h), 0);
  hist_record_n(h, 777, 5);
  ck_assert_int_eq(hlog_write_header(f, 1000), 0);
  ck_assert_int_eq(hlog_write_entry(f, "x", 0, 1000, h), 0);
  ck_assert_int_eq(hlog_write_entry(f, "x", 1000, 1000, h), 0);
  long end = ftell(f);
  fclose(f);
  ck_assert_int_eq(truncate(path, end - 7), 0);
  ck_assert_int_eq(hlog_reader_open(path, &r), 0);
  while (hlog_reader_next(r, &e) == 1) {
    ck_assert(hist_equal(e.hist, h));
    ck_assert_int_eq(e.start_ms, 1000);
    hist_destroy(e.hist);
    n++;
  }
  ck_assert_int_eq(n, 1);
  ck_assert_int_eq(hlog_reader_bad_lines(r), 1);
  hlog_reader_close(r);
  hist_destroy(h);
}
END_TEST

/* summary.json's reals keep a window finding's epoch seconds to the ms (with 10 significant digits
 * 1796652243.479 was written as 1796652243: the window moved up to 1 s off the seconds it names). */
START_TEST(json_keeps_epoch_ms) {
  json_t *v = json_pack("{s:f,s:f}", "from_s", 1796652243.479, "p50_ms", 0.31);
  ck_assert_int_eq(rundir_write_json(root, "w.json", v), 0);
  json_decref(v);
  char path[4200];
  snprintf(path, sizeof path, "%s/w.json", root);
  json_t *back = json_load_file(path, 0, NULL);
  ck_assert_ptr_nonnull(back);
  ck_assert_double_eq_tol(json_real_value(json_object_get(back, "from_s")), 1796652243.479, 1e-6);
  json_decref(back);
  char *text = testrun_slurp(root, "w.json");
  ck_assert_msg(strstr(text, "0.31") != NULL, "%s", text); /* short reals stay short */
  ck_assert_ptr_null(strstr(text, "0.3100"));
  free(text);
}
END_TEST

int main(void) {
  const TTest *tests[] = {
      open_names_dir, unwritable_out,     reused_out_drops_stale_files, append_and_hlog_round_trip,
      atomic_write,   read_hdrjs_fixture, hlog_truncated_last_line,     json_keeps_epoch_ms};
  TCase *tc = check_case("rundir", 0, tests, sizeof tests / sizeof tests[0]);
  tcase_add_checked_fixture(tc, setup, teardown);
  return check_run(check_suite_of("rundir", tc));
}
