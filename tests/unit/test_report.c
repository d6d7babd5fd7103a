/* test_report.c - the end-of-run report: summary.json schema (keys and types) and numbers, stats.csv and
 * failures.csv headers exactly as locust's, the plug-in points (findings, HTML sections, sections/ files),
 * the rebuild from a run directory (equal to the live report; truncated last line tolerated), the live
 * view in both modes, history index, compare verdicts, a long run's chart points bounded, the chart data
 * report.html embeds exact. */
#include <check.h>
#include <malloc.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/rundir.h"
#include "master/history.h"
#include "master/report/compare.h"
#include "master/report/html.h"
#include "master/report/live.h"
#include "master/report/rebuild.h"
#include "master/report/report.h"
#include "master/report/summary.h"
#include "tests/support/checkrun.h"
#include "tests/support/testrun.h"

static char root[] = "/tmp/loadctl-report-XXXXXX";
static char dir[4200];

static void setup(void) {
  strcpy(root, "/tmp/loadctl-report-XXXXXX");
  ck_assert_ptr_nonnull(mkdtemp(root));
  snprintf(dir, sizeof dir, "%s/run", root);
}

static void teardown(void) {
  testrun_remove(root);
}

/* Interval k of 4: "GET /a" 100 at 10 ms; "POST /b" 50 at 100 ms with 5 HTTP 503s; 20 users. */
static stats_interval *interval(int k) {
  stats_interval *s;
  ck_assert_int_eq(stats_create(&s, 1790000000000LL + 1000 * k, 1000), 0);
  stats_entry *a = stats_entry_get(s, "GET /a", "GET"), *b = stats_entry_get(s, "POST /b", "POST");
  for (int i = 0; i < 100; i++) stats_entry_record(a, 10000, 10000);
  for (int i = 0; i < 50; i++) stats_entry_record(b, 100000, 60000); /* 40 ms late leaving */
  for (int i = 0; i < 5; i++) stats_entry_fail(b, STATS_ERR_HTTP5XX, "HTTP 503");
  a->bytes_in = 100 * 1000;
  stats_exemplar x = {.latency_us = 100000 + k, .wall_ms = 1790000000000LL + 1000 * k};
  snprintf(x.trace_id, sizeof x.trace_id, "%032d", k + 1);
  snprintf(x.span_id, sizeof x.span_id, "%016d", k + 1);
  stats_entry_exemplar(b, &x, 0);
  s->users = 20;
  stats_check *c = stats_check_get(s, "status is 201");
  c->passes = 45;
  c->fails = 5;
  return s;
}

/* Write a 4-interval run into dir through rundir + report, as the master does. */
static report *write_run(bool finish) {
  rundir *rd;
  report *rep;
  char err[512] = "";
  const char *exprs[] = {"p99{name=POST /b} < 250ms", "errors rate < 1%"};
  thresholds *th;
  ck_assert_int_eq(rundir_open(dir, "unit", NULL, &rd, err, sizeof err), 0);
  ck_assert_int_eq(report_create(&rep), 0);
  json_t *run = json_pack("{s:s,s:s,s:[{s:s},{s:s}]}", "scenario", "unit", "status", "done", "thresholds",
                          "expr", exprs[0], "expr", exprs[1]);
  ck_assert_int_eq(rundir_write_run(rd, run), 0);
  report_set_run(rep, run);
  json_decref(run);
  for (int k = 0; k < 4; k++) {
    stats_interval *iv = interval(k);
    ck_assert_int_eq(rundir_append_interval(rd, iv), 0);
    ck_assert_int_eq(report_add_interval(rep, iv), 0);
    stats_destroy(iv);
  }
  ck_assert_int_eq(thresholds_parse_list(exprs, NULL, 2, &th, err, sizeof err), 0);
  ck_assert(!thresholds_eval(th, report_cumulative(rep), report_duration_s(rep))); /* errors 20/600 */
  report_set_thresholds(rep, th);
  thresholds_destroy(th);
  if (finish) ck_assert_int_eq(report_write(rep, dir, err, sizeof err), 0);
  ck_assert_int_eq(rundir_close(rd), 0);
  return rep;
}

static void check_number(const json_t *o, const char *key) {
  ck_assert_msg(json_is_number(json_object_get(o, key)), "'%s' is not a number", key);
}

START_TEST(summary_schema_and_numbers) {
  report_destroy(write_run(true));
  json_error_t jerr;
  char path[4400];
  snprintf(path, sizeof path, "%s/%s", dir, RUNDIR_SUMMARY);
  json_t *s = json_load_file(path, 0, &jerr);
  ck_assert_msg(s != NULL, "summary.json: %s", jerr.text);
  ck_assert(json_is_object(json_object_get(s, "run")));
  ck_assert_str_eq(json_string_value(json_object_get(json_object_get(s, "run"), "scenario")), "unit");
  const json_t *tot = json_object_get(s, "totals");
  ck_assert(json_is_integer(json_object_get(tot, "requests")));
  ck_assert(json_is_integer(json_object_get(tot, "errors")));
  check_number(tot, "rps");
  ck_assert_int_eq(json_integer_value(json_object_get(tot, "requests")), 600);
  ck_assert_int_eq(json_integer_value(json_object_get(tot, "errors")), 20);
  ck_assert_double_eq_tol(json_number_value(json_object_get(tot, "rps")), 150.0, 1e-9);
  const json_t *reqs = json_object_get(s, "requests");
  ck_assert(json_is_array(reqs));
  ck_assert_uint_eq(json_array_size(reqs), 2);
  static const char *const nums[] = {"rps", "p50_ms", "p90_ms", "p95_ms", "p99_ms", "p999_ms", "max_ms"};
  for (size_t i = 0; i < 2; i++) {
    const json_t *q = json_array_get(reqs, i);
    ck_assert(json_is_string(json_object_get(q, "name")));
    ck_assert(json_is_integer(json_object_get(q, "count")));
    ck_assert(json_is_integer(json_object_get(q, "errors")));
    for (size_t k = 0; k < sizeof nums / sizeof nums[0]; k++) check_number(q, nums[k]);
  }
  const json_t *b = json_array_get(reqs, 1);
  ck_assert_str_eq(json_string_value(json_object_get(b, "name")), "POST /b");
  ck_assert_int_eq(json_integer_value(json_object_get(b, "count")), 200);
  ck_assert_int_eq(json_integer_value(json_object_get(b, "errors")), 20);
  ck_assert_double_eq_tol(json_number_value(json_object_get(b, "rps")), 50.0, 1e-9);
  ck_assert_double_eq_tol(json_number_value(json_object_get(b, "p99_ms")), 100.0, 0.1);
  ck_assert_double_eq_tol(json_number_value(json_object_get(json_array_get(reqs, 0), "p50_ms")), 10.0, 0.01);
  /* slowest exemplar of the run: interval 3's (latency 100.003 ms) */
  const json_t *slow0 = json_array_get(json_object_get(b, "slowest"), 0);
  ck_assert_str_eq(json_string_value(json_object_get(slow0, "trace_id")), "00000000000000000000000000000004");
  ck_assert_double_eq_tol(json_number_value(json_object_get(slow0, "latency_ms")), 100.003, 1e-9);
  const json_t *ths = json_object_get(s, "thresholds");
  ck_assert_uint_eq(json_array_size(ths), 2);
  ck_assert(json_is_string(json_object_get(json_array_get(ths, 0), "expr")));
  ck_assert(json_is_true(json_object_get(json_array_get(ths, 0), "ok")));
  ck_assert(json_is_false(json_object_get(json_array_get(ths, 1), "ok")));
  ck_assert(json_is_number(json_object_get(json_array_get(ths, 1), "value")));
  ck_assert(json_is_array(json_object_get(s, "findings")));
  ck_assert_uint_eq(json_array_size(json_object_get(s, "findings")), 0);
  json_decref(s);
}
END_TEST

START_TEST(csv_headers_exact) {
  report_destroy(write_run(true));
  char *csv = testrun_slurp(dir, RUNDIR_STATS_CSV);
  const char *hdr =
      "Type,Name,Request Count,Failure Count,Median Response Time,Average Response Time,Min Response "
      "Time,Max Response Time,Average Content Size,Requests/s,Failures/s,50%,66%,75%,80%,90%,95%,98%,"
      "99%,99.9%,99.99%,100%,CPU ms/req\n";
  ck_assert_int_eq(strncmp(csv, hdr, strlen(hdr)), 0);
  ck_assert_ptr_nonnull(strstr(csv, "\nPOST,POST /b,200,20,"));
  ck_assert_ptr_nonnull(strstr(csv, "\n,Aggregated,600,20,"));
  ck_assert_ptr_nonnull(
      strstr(csv, "\nGET,GET /a,400,0,10.007,10.004,10,10.007,1000.00,100.000000,0.000000,10.007,"));
  free(csv);
  csv = testrun_slurp(dir, RUNDIR_FAILURES_CSV);
  ck_assert_str_eq(csv, "Method,Name,Error,Occurrences\nPOST,POST /b,http5xx: HTTP 503,20\n");
  free(csv);
}
END_TEST

static int my_section(FILE *out, const report *r, void *ud) {
  fprintf(out, "<p id=\"plugged\">%s %zu</p>\n", (const char *)ud, report_cumulative(r)->nentries);
  return 0;
}

START_TEST(plugins_reach_summary_and_html) {
  report *rep = write_run(false);
  char err[512];
  report_set_findings(rep, json_pack("[{s:s,s:n,s:s,s:f,s:f,s:n,s:s}]", "kind", "tail", "request", "function",
                                     "main.fraudScore", "share", 0.71, "baseline_share", 0.02, "window",
                                     "evidence", "71% of slow samples"));
  ck_assert_int_eq(report_set_extra(rep, "profiles", json_pack("{s:i}", "windows", 3)), 0);
  ck_assert_int_eq(report_add_html_section(rep, "flame", "Flame graph", my_section, "names"), 0);
  char sec[4400];
  snprintf(sec, sizeof sec, "%s/%s", dir, RUNDIR_SECTIONS);
  ck_assert_int_eq(mkdir(sec, 0755), 0);
  ck_assert_int_eq(rundir_write_file(sec, "10-disk.html", "<section id=\"from-disk\">disk</section>", 38), 0);
  ck_assert_int_eq(report_write(rep, dir, err, sizeof err), 0);
  report_destroy(rep);
  char *html = testrun_slurp(dir, RUNDIR_HTML);
  ck_assert_ptr_nonnull(
      strstr(html, "<section id=\"flame\"><h2>Flame graph</h2>\n<p id=\"plugged\">names 2</p>"));
  ck_assert_ptr_nonnull(strstr(html, "<section id=\"from-disk\">disk</section>"));
  ck_assert_ptr_nonnull(strstr(html, "main.fraudScore"));
  /* nothing fetched from the network: no external src/href/url()/import */
  ck_assert_ptr_null(strstr(html, "src=\"http"));
  ck_assert_ptr_null(strstr(html, "href=\"http"));
  ck_assert_ptr_null(strstr(html, "url(http"));
  ck_assert_ptr_null(strstr(html, "@import"));
  ck_assert_ptr_null(strstr(html, "<link"));
  free(html);
  /* the rebuild keeps findings and extra keys of the earlier summary.json */
  bool ok = true;
  ck_assert_int_eq(rebuild_run(dir, NULL, &ok, err, sizeof err), 0);
  ck_assert(!ok);
  char path[4400];
  snprintf(path, sizeof path, "%s/%s", dir, RUNDIR_SUMMARY);
  json_t *s = json_load_file(path, 0, NULL);
  ck_assert_str_eq(
      json_string_value(json_object_get(json_array_get(json_object_get(s, "findings"), 0), "function")),
      "main.fraudScore");
  ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(s, "profiles"), "windows")), 3);
  json_decref(s);
}
END_TEST

START_TEST(rebuild_equals_live) {
  report *live_rep = write_run(true), *re;
  thresholds *th = NULL;
  char err[512];
  ck_assert_int_eq(rebuild_load(dir, &re, &th, NULL, err, sizeof err), 0);
  const stats_interval *a = report_cumulative(live_rep), *b = report_cumulative(re);
  ck_assert_uint_eq(a->nentries, b->nentries);
  for (size_t i = 0; i < a->nentries; i++) {
    ck_assert_str_eq(a->entries[i].name, b->entries[i].name);
    ck_assert_int_eq(a->entries[i].count, b->entries[i].count);
    ck_assert_int_eq(a->entries[i].errors, b->entries[i].errors);
    ck_assert_int_eq(a->entries[i].err[STATS_ERR_HTTP5XX], b->entries[i].err[STATS_ERR_HTTP5XX]);
    ck_assert(hist_equal(a->entries[i].latency, b->entries[i].latency)); /* exact, from latency.hlog */
    ck_assert(hist_equal(a->entries[i].service, b->entries[i].service)); /* its "service:" tags */
    ck_assert_int_eq(hist_count(b->entries[i].service), a->entries[i].count);
  }
  ck_assert_int_le(llabs(hist_value_at_percentile(stats_entry_find(b, "POST /b")->service, 50) - 60000), 60);
  /* summary.json after a rebuild keeps "service" per request and in the totals */
  json_t *sj = summary_json(re);
  json_t *pb = json_array_get(json_object_get(sj, "requests"), 1);
  ck_assert_str_eq(json_string_value(json_object_get(pb, "name")), "POST /b");
  ck_assert_double_eq_tol(json_number_value(json_object_get(json_object_get(pb, "service"), "p50_ms")), 60.0,
                          0.1);
  ck_assert_ptr_nonnull(json_object_get(json_object_get(sj, "totals"), "service"));
  json_decref(sj);
  ck_assert_int_eq(b->checks[0].fails, 20);
  const stats_entry *sb = stats_entry_find(b, "POST /b"); /* exemplars survive the rebuild */
  ck_assert_int_ge(sb->nslow, 1);
  ck_assert_str_eq(sb->slow[0].trace_id, stats_entry_find(a, "POST /b")->slow[0].trace_id);
  ck_assert_int_eq(sb->slow[0].latency_us, 100003);
  ck_assert_double_eq_tol(report_duration_s(re), 4.0, 1e-9);
  ck_assert_uint_eq(thresholds_count(th), 2);
  ck_assert(thresholds_get(th, 0)->ok);
  ck_assert(!thresholds_get(th, 1)->ok);
  thresholds_destroy(th);
  report_destroy(re);
  report_destroy(live_rep);
}
END_TEST

/* A run planned for 3.5 s whose last grid slot ends at 4 s: rps over the planned 3.5 s. */
START_TEST(planned_duration_clamps_last_slot) {
  report *rep;
  ck_assert_int_eq(report_create(&rep), 0);
  json_t *run = json_pack("{s:{s:f}}", "options", "duration_s", 3.5);
  for (int k = 0; k < 4; k++) {
    stats_interval *iv = interval(k);
    ck_assert_int_eq(report_add_interval(rep, iv), 0);
    stats_destroy(iv);
  }
  ck_assert_double_eq_tol(report_duration_s(rep), 4.0, 1e-9);
  report_set_run(rep, run);
  ck_assert_double_eq_tol(report_duration_s(rep), 3.5, 1e-9);
  json_object_set_new(json_object_get(run, "options"), "duration_s",
                      json_real(2.5)); /* more than a slot short */
  ck_assert_double_eq_tol(report_duration_s(rep), 4.0, 1e-9);
  json_decref(run);
  report_destroy(rep);
}
END_TEST

START_TEST(rebuild_truncated_last_line) {
  report_destroy(write_run(true));
  char path[4400], *notes = NULL, err[512];
  size_t nlen = 0;
  snprintf(path, sizeof path, "%s/%s", dir, RUNDIR_INTERVALS);
  struct stat st;
  ck_assert_int_eq(stat(path, &st), 0);
  ck_assert_int_eq(truncate(path, st.st_size - 40), 0); /* cut into the last "(all)" line */
  FILE *nf = open_memstream(&notes, &nlen);
  report *re;
  ck_assert_int_eq(rebuild_load(dir, &re, NULL, nf, err, sizeof err), 0);
  fclose(nf);
  ck_assert_ptr_nonnull(strstr(notes, "truncated"));
  ck_assert_ptr_nonnull(strstr(notes, "incomplete"));
  ck_assert_double_eq_tol(report_duration_s(re), 3.0, 1e-9); /* 3 full intervals of 4 */
  ck_assert_int_eq(stats_entry_find(report_cumulative(re), "GET /a")->count, 300);
  report_destroy(re);
  free(notes);
  /* latency.hlog lost: latency approximated from intervals.jsonl's percentiles, and said so */
  snprintf(path, sizeof path, "%s/%s", dir, RUNDIR_HLOG);
  ck_assert_int_eq(unlink(path), 0);
  nf = open_memstream(&notes, &nlen);
  ck_assert_int_eq(rebuild_load(dir, &re, NULL, nf, err, sizeof err), 0);
  fclose(nf);
  ck_assert_ptr_nonnull(strstr(notes, "approximated"));
  const stats_entry *pb = stats_entry_find(report_cumulative(re), "POST /b");
  ck_assert_int_eq(hist_count(pb->latency), 150);
  ck_assert_int_le(llabs(hist_value_at_percentile(pb->latency, 99) - 100031), 100);
  report_destroy(re);
  free(notes);
  /* not a run directory */
  ck_assert_int_lt(rebuild_load(root, &re, NULL, NULL, err, sizeof err), 0);
  ck_assert_ptr_nonnull(strstr(err, "not a run directory"));
  /* nothing complete */
  snprintf(path, sizeof path, "%s/%s", dir, RUNDIR_INTERVALS);
  ck_assert_int_eq(truncate(path, 10), 0);
  ck_assert_int_lt(rebuild_load(dir, &re, NULL, NULL, err, sizeof err), 0);
  ck_assert_ptr_nonnull(strstr(err, "no complete interval"));
}
END_TEST

START_TEST(live_plain_and_tty) {
  report *rep = write_run(false);
  stats_interval *iv = interval(3);
  char *buf = NULL;
  size_t len = 0;
  live *lv;
  FILE *f = open_memstream(&buf, &len);
  ck_assert_int_eq(live_create(f, false, false, 10000000000LL, &lv), 0);
  live_update(lv, iv, report_cumulative(rep), 4000000000LL);
  live_final(lv, report_cumulative(rep), 4000000000LL);
  live_destroy(lv);
  fclose(f);
  /* reqs: the total so far; rps, errors, percentiles: the last interval's */
  ck_assert_ptr_nonnull(strstr(buf, "users=20 rps=150.0 reqs=600 errors=5 (3.33%) p50=10.01ms"));
  ck_assert_ptr_null(strchr(buf, '\033')); /* no escape codes when not a TTY */
  ck_assert_ptr_nonnull(strstr(buf, "POST /b"));
  free(buf);
  /* an interval unlike the run so far: the live figures are the interval's, the final ones the run's;
   * findings follow the thresholds, one line each */
  stats_interval *odd;
  ck_assert_int_eq(stats_create(&odd, 1790000004000LL, 1000), 0);
  stats_entry *oa = stats_entry_get(odd, "GET /a", "GET");
  for (int i = 0; i < 10; i++) stats_entry_record(oa, 50000, 50000);
  stats_entry_fail(oa, STATS_ERR_TIMEOUT, "timeout");
  odd->users = 3;
  json_t *fs = json_pack("[{s:s,s:s,s:s,s:f,s:f},{s:s,s:n,s:s}]", "kind", "tail", "request", "POST /b",
                         "function", "main.slow", "share", 0.71, "baseline_share", 0.02, "kind", "window",
                         "request", "function", "runtime.gcBgMarkWorker");
  buf = NULL;
  f = open_memstream(&buf, &len);
  ck_assert_int_eq(live_create(f, false, false, 10000000000LL, &lv), 0);
  live_update(lv, odd, report_cumulative(rep), 5000000000LL);
  const char *th_expr = "errors rate < 1%";
  thresholds *th;
  ck_assert_int_eq(thresholds_parse_list(&th_expr, NULL, 1, &th, NULL, 0), 0);
  thresholds_eval(th, report_cumulative(rep), 4.0);
  live_set_thresholds(lv, th);
  live_set_findings(lv, fs);
  live_final(lv, report_cumulative(rep), 4000000000LL);
  thresholds_destroy(th);
  live_destroy(lv);
  fclose(f);
  ck_assert_msg(strstr(buf, "[5s] users=3 rps=10.0 reqs=600 errors=1 (10.00%) p50=50.02ms") != NULL, "%s",
                buf);
  ck_assert_ptr_nonnull(strstr(buf, "summary after 4s (the whole run"));
  ck_assert_msg(strstr(buf, "POST /b                                 200      50.0      20 (10.00%)") != NULL,
                "%s", buf);
  ck_assert_ptr_nonnull(strstr(buf,
                               "findings (2, strongest first; evidence in report.html)\n"
                               "  1. tail       POST /b: main.slow  71% vs 2%\n"
                               "  2. window     runtime.gcBgMarkWorker\n"));
  ck_assert_ptr_nonnull(strstr(buf, "errors rate < 1%"));
  ck_assert(strstr(buf, "errors rate < 1%") < strstr(buf, "findings (")); /* after the thresholds */
  free(buf);
  json_decref(fs);
  /* worker CPU: on the plain line and the progress line, flagged when saturated; named at the end */
  json_t *ws =
      json_pack("[{s:s,s:f,s:f,s:i},{s:s,s:f,s:f,s:i}]", "id", "w1", "cpu_mean_pct", 40.0, "cpu_max_pct",
                50.0, "cpu_hot_s", 0, "id", "w2", "cpu_mean_pct", 93.0, "cpu_max_pct", 97.0, "cpu_hot_s", 7);
  buf = NULL;
  f = open_memstream(&buf, &len);
  ck_assert_int_eq(live_create(f, false, false, 10000000000LL, &lv), 0);
  live_set_cpu(lv, 97, "w2", 2, true);
  live_update(lv, odd, report_cumulative(rep), 5000000000LL);
  live_set_workers(lv, ws);
  live_final(lv, report_cumulative(rep), 4000000000LL);
  live_destroy(lv);
  fclose(f);
  ck_assert_msg(strstr(buf, "max=50.02ms cpu=97%(w2) SATURATED\n") != NULL, "%s", buf);
  ck_assert_ptr_nonnull(
      strstr(buf, "warning: worker w2 kept its engine threads above 90% CPU for 7s (max 97%)"));
  ck_assert_ptr_null(strstr(buf, "worker w1 kept"));
  free(buf);
  buf = NULL;
  f = open_memstream(&buf, &len);
  ck_assert_int_eq(live_create(f, true, false, 10000000000LL, &lv), 0);
  live_set_cpu(lv, 45, "local-1", 1, false);
  live_update(lv, odd, report_cumulative(rep), 5000000000LL);
  live_destroy(lv);
  fclose(f);
  ck_assert_msg(strstr(buf, "users 3  cpu 45%\n") != NULL, "%s", buf);
  free(buf);
  json_decref(ws);
  stats_destroy(odd);
  buf = NULL;
  f = open_memstream(&buf, &len);
  ck_assert_int_eq(live_create(f, true, true, 10000000000LL, &lv), 0);
  live_update(lv, iv, report_cumulative(rep), 4000000000LL);
  live_update(lv, iv, report_cumulative(rep), 5000000000LL);
  live_destroy(lv);
  fclose(f);
  ck_assert_ptr_nonnull(strstr(buf, "\033[6A\033[J")); /* redraw in place over the 6 lines drawn */
  ck_assert_ptr_nonnull(strstr(buf, "last 1s: rps, errors and latency of that interval; reqs: total so far"));
  ck_assert_ptr_nonnull(strstr(buf, " 50%"));
  ck_assert_ptr_nonnull(strstr(buf, "\033[31m"));          /* errors in red */
  ck_assert_ptr_nonnull(strstr(buf, "[===============>")); /* half the bar */
  free(buf);
  stats_destroy(iv);
  report_destroy(rep);
}
END_TEST

START_TEST(history_and_compare) {
  report_destroy(write_run(true));
  char path[4400], err[512];
  snprintf(path, sizeof path, "%s/%s", dir, RUNDIR_SUMMARY);
  json_t *a = json_load_file(path, 0, NULL), *runs;
  ck_assert_int_eq(history_append(root, dir, a), 0);
  char slashed[4300];
  snprintf(slashed, sizeof slashed, "%s/", dir);
  ck_assert_int_eq(history_append(root, slashed, a), 0); /* same dir again (trailing slash): one run */
  int bad = -1;
  ck_assert_int_eq(history_load(root, &runs, &bad), 0);
  ck_assert_int_eq(bad, 0);
  ck_assert_uint_eq(json_array_size(runs), 1);
  ck_assert_double_eq_tol(
      json_number_value(json_object_get(json_object_get(json_array_get(runs, 0), "p99_ms"), "POST /b")),
      100.0, 0.1);
  json_decref(runs);
  char root2[4200];
  history_root_of("runs/2026-x/", root2, sizeof root2);
  ck_assert_str_eq(root2, "runs");
  history_root_of("x", root2, sizeof root2);
  ck_assert_str_eq(root2, ".");
  /* B: POST /b p99 doubled (regression), GET /a same */
  json_t *b = json_deep_copy(a);
  json_t *q = json_array_get(json_object_get(b, "requests"), 1);
  json_object_set_new(q, "p99_ms", json_real(200.0));
  compare_margin m = {0.10, 1.0, 0.005};
  json_t *res = compare_summaries(a, b, m);
  ck_assert_int_eq(json_integer_value(json_object_get(res, "regressions")), 1);
  ck_assert_str_eq(
      json_string_value(json_object_get(json_array_get(json_object_get(res, "requests"), 0), "verdict")),
      "same");
  ck_assert_str_eq(
      json_string_value(json_object_get(json_array_get(json_object_get(res, "requests"), 1), "verdict")),
      "regression");
  json_decref(res);
  /* latency 10 % faster but under 1 ms absolute: still "same" */
  json_object_set_new(q, "p99_ms", json_real(100.0));
  json_object_set_new(json_array_get(json_object_get(a, "requests"), 0), "p50_ms", json_real(2.0));
  json_object_set_new(json_array_get(json_object_get(b, "requests"), 0), "p50_ms",
                      json_real(1.5)); /* -25 %, 0.5 ms */
  res = compare_summaries(a, b, m);
  ck_assert_int_eq(json_integer_value(json_object_get(res, "regressions")), 0);
  ck_assert_int_eq(json_integer_value(json_object_get(res, "improvements")), 0);
  json_decref(res);
  json_object_set_new(json_array_get(json_object_get(b, "requests"), 0), "rps", json_real(200.0));
  res = compare_summaries(a, b, m);
  ck_assert_int_eq(json_integer_value(json_object_get(res, "improvements")), 1);
  json_decref(res);
  /* errors jump from 0.2 % to 5 % with latency unchanged: a regression by the error-rate margin alone */
  json_t *qa0 = json_array_get(json_object_get(a, "requests"), 0),
         *qb0 = json_array_get(json_object_get(b, "requests"), 0);
  json_object_set_new(qb0, "rps",
                      json_object_get(qa0, "rps") ? json_copy(json_object_get(qa0, "rps")) : json_real(0));
  json_object_set_new(qa0, "error_rate", json_real(0.002));
  json_object_set_new(qb0, "error_rate", json_real(0.05));
  res = compare_summaries(a, b, m);
  ck_assert_int_eq(json_integer_value(json_object_get(res, "regressions")), 1);
  json_t *r0 = json_array_get(json_object_get(res, "requests"), 0);
  ck_assert_str_eq(json_string_value(json_object_get(r0, "verdict")), "regression");
  json_t *er = json_object_get(json_object_get(r0, "metrics"), "error_rate");
  ck_assert_str_eq(json_string_value(json_object_get(er, "verdict")), "worse");
  ck_assert_double_eq_tol(json_number_value(json_object_get(er, "change_points")), 4.8, 1e-9);
  ck_assert_str_eq(json_string_value(
                       json_object_get(json_object_get(json_object_get(r0, "metrics"), "p99_ms"), "verdict")),
                   "same");
  json_decref(res);
  /* 0.2 % -> 0.6 %: tripled, but 0.4 points, inside the 0.5-point margin */
  json_object_set_new(qb0, "error_rate", json_real(0.006));
  res = compare_summaries(a, b, m);
  ck_assert_int_eq(json_integer_value(json_object_get(res, "regressions")), 0);
  json_decref(res);
  (void)err;
  json_decref(a);
  json_decref(b);
}
END_TEST

/* One interval of a long run: "GET /a" 20 requests at 5 ms (at 500 ms in interval `spike`); "GET /late"
 * only from interval late_from on. */
static stats_interval *long_interval(int k, int spike, int late_from) {
  stats_interval *s;
  ck_assert_int_eq(stats_create(&s, 1790000000000LL + 1000LL * k, 1000), 0);
  stats_entry *a = stats_entry_get(s, "GET /a", "GET");
  for (int i = 0; i < 20; i++) stats_entry_record(a, k == spike ? 500000 : 5000, k == spike ? 500000 : 5000);
  if (k >= late_from) stats_entry_record(stats_entry_get(s, "GET /late", "GET"), 2000, 2000);
  s->users = k == spike ? 99 : 10;
  return s;
}

static size_t used_bytes(void) {
  struct mallinfo2 mi = mallinfo2();
  return mi.uordblks;
}

/* A run of 8,000 intervals: the ticks and every series stay within REPORT_MAX_POINTS (and the heap does
 * not grow over the last 4,000), the newest half is at full resolution, the buckets cover the whole run
 * contiguously with the exact counts, a name's buckets sit on the "(all)" grid, and the spike survives in
 * its bucket's max and p99 envelope. */
START_TEST(long_run_points_bounded) {
  const int total = 8000, spike = 100, late_from = 3001;
  report *rep;
  const report_tick *ticks;
  const report_point *pts;
  size_t mem_half = 0;
  char err[512] = "";

  ck_assert_int_eq(report_create(&rep), 0);
  for (int k = 0; k < total; k++) {
    stats_interval *iv = long_interval(k, spike, late_from);
    ck_assert_int_eq(report_add_interval(rep, iv), 0);
    stats_destroy(iv);
    if (k == total / 2) mem_half = used_bytes();
  }
  ck_assert_msg(used_bytes() <= mem_half + 16384, "heap grew %zu -> %zu bytes", mem_half, used_bytes());
  size_t n = report_ticks(rep, &ticks);
  ck_assert_uint_le(n, REPORT_MAX_POINTS);
  ck_assert_uint_ge(n, REPORT_MAX_POINTS / 2);
  int64_t sum_iv = 0;
  for (size_t i = 0; i < n; i++) {
    sum_iv += ticks[i].intervals;
    if (i + 1 < n) ck_assert_int_eq(ticks[i].start_ms + ticks[i].interval_ms, ticks[i + 1].start_ms);
  }
  ck_assert_int_eq(sum_iv, total);
  ck_assert_int_eq(ticks[0].start_ms, 1790000000000LL);
  ck_assert_int_eq(ticks[n - 1].start_ms + ticks[n - 1].interval_ms, 1790000000000LL + 1000LL * total);
  for (size_t i = n - REPORT_MAX_POINTS / 2; i < n; i++) ck_assert_int_eq(ticks[i].intervals, 1);
  ck_assert_int_gt(report_merged_intervals(rep), 0);

  size_t na = report_series(rep, -1, &pts);
  ck_assert_uint_eq(na, n);
  int64_t count = 0;
  for (size_t i = 0; i < na; i++) {
    ck_assert_int_eq(pts[i].start_ms, ticks[i].start_ms);
    count += pts[i].count;
    if (ticks[i].start_ms <= 1790000000000LL + 1000LL * spike &&
        1790000000000LL + 1000LL * spike < ticks[i].start_ms + ticks[i].interval_ms) {
      ck_assert_int_gt(pts[i].intervals, 1);
      ck_assert_double_ge(pts[i].max_ms, 499.0);
      ck_assert_double_ge(pts[i].p99_ms, 499.0);
      ck_assert_int_eq(ticks[i].users, 99);
    } else {
      ck_assert_double_lt(pts[i].p99_ms, 6.0);
    }
  }
  ck_assert_int_eq(count, 20LL * total + (total - late_from)); /* "(all)" has both names */

  size_t nl = report_series(rep, 1, &pts), j = 0;
  ck_assert_str_eq(report_cumulative(rep)->entries[1].name, "GET /late");
  ck_assert_uint_le(nl, REPORT_MAX_POINTS);
  count = 0;
  for (size_t i = 0; i < nl; i++) {
    while (j < n && ticks[j].start_ms != pts[i].start_ms) j++;
    ck_assert_msg(j < n, "point %zu of GET /late is off the (all) grid", i);
    ck_assert_int_eq(pts[i].interval_ms, ticks[j].interval_ms);
    count += pts[i].count;
  }
  ck_assert_int_eq(count, total - late_from);

  ck_assert_int_eq(report_write(rep, root, err, sizeof err), 0);
  char *html = testrun_slurp(root, RUNDIR_HTML);
  ck_assert_ptr_nonnull(strstr(html, "id=\"merged-note\""));
  free(html);
  report_destroy(rep);
}
END_TEST

/* Every number of a equals b's to 13 significant digits (objects, arrays, numbers; other values equal);
 * *coarse counts b's reals that 6 significant digits would change: the ones this is about. */
static void numbers_equal(const json_t *a, const json_t *b, const char *where, int *coarse) {
  const char *key;
  const json_t *v;
  size_t i;
  if (json_is_number(b)) {
    double x = json_number_value(a), y = json_number_value(b);
    char six[32];
    snprintf(six, sizeof six, "%.6g", y);
    *coarse += fabs(strtod(six, NULL) - y) > 1e-9 * fabs(y);
    ck_assert_msg(json_is_number(a) && fabs(x - y) <= 1e-13 * fabs(y), "%s: %.17g embedded, %.17g computed",
                  where, x, y);
  } else if (json_is_object(b)) {
    json_object_foreach((json_t *)b, key, v) numbers_equal(json_object_get(a, key), v, key, coarse);
  } else if (json_is_array(b)) {
    ck_assert_uint_eq(json_array_size(a), json_array_size(b));
    json_array_foreach(b, i, v) numbers_equal(json_array_get(a, i), v, where, coarse);
  } else {
    ck_assert_msg(json_equal((json_t *)a, (json_t *)b), "%s differs", where);
  }
}

/* The chart data report.html embeds is html_chart_data's, every real exact (it was written with 6
 * significant digits: a bin's 11.2201845430196 ms as 11.2202, an epoch second as 1.79665e+09). */
START_TEST(embedded_chart_data_exact) {
  report *rep = write_run(true);
  char *html = testrun_slurp(dir, RUNDIR_HTML);
  const char *tag = "<script type=\"application/json\" id=\"loadctl-data\">";
  char *from = strstr(html, tag), *to = from ? strstr(from, "</script>") : NULL;
  ck_assert_ptr_nonnull(to);
  *to = 0;
  json_error_t jerr;
  json_t *embedded = json_loads(from + strlen(tag), 0, &jerr), *computed = html_chart_data(rep);
  ck_assert_msg(embedded != NULL, "%s", jerr.text);
  int coarse = 0;
  numbers_equal(embedded, computed, "data", &coarse);
  ck_assert_int_gt(coarse, 10); /* else this test could not fail at 6 digits */
  json_decref(embedded);
  json_decref(computed);
  free(html);
  report_destroy(rep);
}
END_TEST

int main(void) {
  const TTest *tests[] = {summary_schema_and_numbers,
                          csv_headers_exact,
                          plugins_reach_summary_and_html,
                          rebuild_equals_live,
                          planned_duration_clamps_last_slot,
                          rebuild_truncated_last_line,
                          live_plain_and_tty,
                          history_and_compare,
                          long_run_points_bounded,
                          embedded_chart_data_exact};
  TCase *tc = check_case("report", 0, tests, sizeof tests / sizeof tests[0]);
  tcase_add_checked_fixture(tc, setup, teardown);
  return check_run(check_suite_of("report", tc));
}
