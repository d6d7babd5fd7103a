/* html.c - report.html: one self-contained page (tables written here, charts drawn by the inline script
 * in assets/chart.js from JSON embedded in the page), plus the plug-in sections of the profile side. */
#include "master/report/html.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/hist.h"
#include "common/rundir.h"
#include "master/report/htmlasset.h"
#include "master/report/htmltable.h"
#include "master/report/scensum.h"
#include "master/report/summary.h"
#include "master/report/tagsum.h"

void html_escape(FILE *out, const char *text) {
  for (const char *p = text ? text : ""; *p; p++) {
    switch (*p) {
      case '<':
        fputs("&lt;", out);
        break;
      case '>':
        fputs("&gt;", out);
        break;
      case '&':
        fputs("&amp;", out);
        break;
      case '"':
        fputs("&quot;", out);
        break;
      case '\'':
        fputs("&#39;", out);
        break;
      default:
        fputc(*p, out);
    }
  }
}

void html_begin(FILE *out, const char *title) {
  fputs(
      "<!DOCTYPE html>\n<html lang=\"en\" data-status=\"loading\">\n<head>\n<meta charset=\"utf-8\">\n"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>",
      out);
  html_escape(out, title);
  fprintf(out, "</title>\n<script>%s</script>\n<style>\n%s</style>\n</head>\n<body>\n", htmlasset_guard_js,
          htmlasset_css);
}

void html_scripts(FILE *out) {
  fprintf(out, "<script>\n%s%s</script>\n", htmlasset_chart_js, htmlasset_report_js);
}

void html_end(FILE *out) {
  fputs("</body>\n</html>\n", out);
}

static const char *jstr(const json_t *o, const char *key, const char *dflt) {
  const char *s = json_string_value(json_object_get(o, key));
  return s ? s : dflt;
}

static double jnum(const json_t *o, const char *key) {
  return json_number_value(json_object_get(o, key));
}

/* ---- embedded chart data ---- */

static json_t *series_json(const report_point *pts, size_t n, int64_t t0) {
  json_t *o = json_object(), *t = json_array(), *rps = json_array(), *eps = json_array();
  json_t *p50 = json_array(), *p90 = json_array(), *p95 = json_array(), *p99 = json_array();
  json_t *max = json_array();

  (void)t0;
  for (size_t i = 0; i < n; i++) {
    double secs = pts[i].interval_ms > 0 ? clock_ms_to_s((double)pts[i].interval_ms) : 1.0;
    bool any = pts[i].count > 0;
    json_array_append_new(t, json_integer(pts[i].start_ms + pts[i].interval_ms));
    json_array_append_new(rps, json_real((double)pts[i].count / secs));
    json_array_append_new(eps, json_real((double)pts[i].errors / secs));
    json_array_append_new(p50, any ? json_real(pts[i].p50_ms) : json_null());
    json_array_append_new(p90, any ? json_real(pts[i].p90_ms) : json_null());
    json_array_append_new(p95, any ? json_real(pts[i].p95_ms) : json_null());
    json_array_append_new(p99, any ? json_real(pts[i].p99_ms) : json_null());
    json_array_append_new(max, any ? json_real(pts[i].max_ms) : json_null());
  }
  json_object_set_new(o, "t", t);
  json_object_set_new(o, "rps", rps);
  json_object_set_new(o, "eps", eps);
  json_object_set_new(o, "p50", p50);
  json_object_set_new(o, "p90", p90);
  json_object_set_new(o, "p95", p95);
  json_object_set_new(o, "p99", p99);
  json_object_set_new(o, "max", max);
  return o;
}

static json_t *ticks_json(const report *r) {
  const report_tick *ticks;
  size_t n = report_ticks(r, &ticks);
  json_t *o = json_object(), *t = json_array(), *users = json_array(), *rate = json_array(),
         *drop = json_array();

  for (size_t i = 0; i < n; i++) {
    json_array_append_new(t, json_integer(ticks[i].start_ms + ticks[i].interval_ms));
    json_array_append_new(users, json_integer(ticks[i].users));
    json_array_append_new(rate, json_real(ticks[i].rate));
    double secs = ticks[i].interval_ms > 0 ? clock_ms_to_s((double)ticks[i].interval_ms) : 1.0;
    json_array_append_new(drop, json_real((double)ticks[i].dropped / secs));
  }
  json_object_set_new(o, "t", t);
  json_object_set_new(o, "users", users);
  json_object_set_new(o, "rate", rate);
  json_object_set_new(o, "dropped", drop);
  return o;
}

#define DIST_STEPS 50 /* x = -log10(1 - p), 0 .. 5 (99.999 %) in tenths */

/* Percentile spectrum of h on the shared x grid; null where h has too few samples. */
static json_t *dist_json(const char *name, const hist *h) {
  json_t *o = json_object(), *x = json_array(), *ms = json_array();
  double count = (double)hist_count(h);

  for (int k = 0; k <= DIST_STEPS; k++) {
    double xv = k / 10.0, pct = 100.0 * (1.0 - pow(10.0, -xv));
    json_array_append_new(x, json_real(xv));
    json_array_append_new(
        ms, count > 0 && pow(10.0, xv) <= count * 10 ? json_real(hist_pct_ms(h, pct)) : json_null());
  }
  json_object_set_new(o, "name", json_string(name));
  json_object_set_new(o, "x", x);
  json_object_set_new(o, "ms", ms);
  return o;
}

typedef struct bins {
  int64_t count[128]; /* 10 bins per decade of microseconds: 1 us .. 10^12.8 us */
} bins;

static int bin_value(int64_t value_us, int64_t count, void *ud) {
  bins *b = ud;
  int i = value_us > 0 ? (int)floor(log10((double)value_us) * 10.0) : 0;
  if (i < 0) i = 0;
  if (i > 127) i = 127;
  b->count[i] += count;
  return 0;
}

static json_t *hist_json(const hist *h) {
  json_t *o = json_object(), *ms = json_array(), *cnt = json_array();
  bins b;
  int lo = -1, hi = -1;

  memset(&b, 0, sizeof b);
  hist_foreach(h, bin_value, &b);
  for (int i = 0; i < 128; i++)
    if (b.count[i]) {
      if (lo < 0) lo = i;
      hi = i;
    }
  for (int i = lo >= 0 ? lo - 1 : 0; lo >= 0 && i <= hi + 1; i++) {
    json_array_append_new(ms, json_real(clock_us_to_ms(pow(10.0, (i + 0.5) / 10.0))));
    json_array_append_new(cnt, json_integer(i >= 0 && i < 128 ? b.count[i] : 0));
  }
  json_object_set_new(o, "ms", ms);
  json_object_set_new(o, "count", cnt);
  return o;
}

/* Vertical marks for the changes made while the run went (run.json "changes": scale and stop). */
static json_t *marks_json(const report *r) {
  json_t *marks = json_array(), *c;
  size_t i;

  json_array_foreach(json_object_get(report_run_info(r), "changes"), i, c) {
    const char *label = json_string_value(json_object_get(c, "label"));
    json_array_append_new(
        marks, json_pack("{s:I,s:s}", "t", (json_int_t)json_integer_value(json_object_get(c, "at_ms")),
                         "label", label ? label : "change"));
  }
  return marks;
}

json_t *html_chart_data(const report *r) {
  const stats_interval *cum = report_cumulative(r);
  const report_point *pts;
  size_t n = report_series(r, -1, &pts);
  json_t *d = json_object(), *names = json_array(), *dist = json_array();
  hist *all = NULL;

  json_object_set_new(d, "t0", json_integer(report_start_ms(r)));
  json_object_set_new(d, "all", series_json(pts, n, report_start_ms(r)));
  if (hist_create(&all) == 0)
    for (size_t i = 0; i < cum->nentries; i++)
      if (cum->entries[i].latency) hist_add(all, cum->entries[i].latency);
  if (all) json_array_append_new(dist, dist_json("(all)", all));
  for (size_t i = 0; i < cum->nentries; i++) {
    json_t *s;
    n = report_series(r, (long)i, &pts);
    s = series_json(pts, n, report_start_ms(r));
    json_object_set_new(s, "name", json_string(cum->entries[i].name));
    json_array_append_new(names, s);
    if (cum->nentries > 1 && i < 9)
      json_array_append_new(dist, dist_json(cum->entries[i].name, cum->entries[i].latency));
  }
  json_object_set_new(d, "names", names);
  json_object_set_new(d, "dist", dist);
  json_object_set_new(d, "hist", all ? hist_json(all) : json_object());
  json_object_set_new(d, "ticks", ticks_json(r));
  json_object_set_new(d, "marks", marks_json(r));
  if (report_extras(r) && json_object_get(report_extras(r), "profile_timeline"))
    json_object_set(d, "timeline", json_object_get(report_extras(r), "profile_timeline"));
  json_object_set_new(d, "max_points", json_integer(REPORT_MAX_POINTS));
  if (all) hist_destroy(all);
  return d;
}

/* ---- page parts ---- */

static void card(FILE *out, const char *cls, const char *key, const char *fmt, double v) {
  fprintf(out, "<div class=\"card %s\"><div class=\"v\">", cls);
  fprintf(out, fmt, v);
  fprintf(out, "</div><div class=\"k\">%s</div></div>\n", key);
}

/* The busiest worker's CPU (its engine threads' share of their time), red when one stayed above 90 %:
 * a saturated generator measures its own queueing. Absent for runs without CPU figures. */
static void cpu_card(FILE *out, const json_t *workers) {
  double max = -1;
  bool hot = false;
  const json_t *w;
  size_t i;
  json_array_foreach(workers, i, w) {
    if (!json_is_number(json_object_get(w, "cpu_max_pct"))) continue;
    if (jnum(w, "cpu_max_pct") > max) max = jnum(w, "cpu_max_pct");
    hot |= jnum(w, "cpu_hot_s") >= 5;
  }
  if (max >= 0)
    card(out, hot ? "bad" : "", hot ? "worker CPU max % (saturated)" : "worker CPU max %", "%.0f", max);
}

static void header_and_cards(FILE *out, const report *r, const json_t *sum) {
  const json_t *run = json_object_get(sum, "run"), *tot = json_object_get(sum, "totals");
  const json_t *ths = json_object_get(sum, "thresholds");
  char start[32];
  size_t i, failed = 0;
  json_t *th;

  clock_format_wall(report_start_ms(r), start, sizeof start);
  json_array_foreach(ths, i, th) failed += !json_is_true(json_object_get(th, "ok"));
  fputs("<header><h1>loadctl report: ", out);
  html_escape(out, jstr(run, "scenario", "run"));
  fputs("</h1><div class=\"meta\">", out);
  html_escape(out, jstr(json_object_get(run, "options"), "target", ""));
  fprintf(out, " &middot; started %s &middot; %.1f s &middot; status ", start, jnum(tot, "duration_s"));
  html_escape(out, jstr(run, "status", "unknown"));
  fputs("</div></header>\n<main>\n<div class=\"cards\">\n", out);
  card(out, "", "requests", "%.0f", jnum(tot, "requests"));
  card(out, "", "requests/s", "%.1f", jnum(tot, "rps"));
  card(out, jnum(tot, "errors") > 0 ? "bad" : "good", "errors", "%.0f", jnum(tot, "errors"));
  card(out, jnum(tot, "errors") > 0 ? "bad" : "", "error rate %", "%.2f", 100 * jnum(tot, "error_rate"));
  card(out, "", "p50 ms", "%.2f", jnum(tot, "p50_ms"));
  card(out, "", "p95 ms", "%.2f", jnum(tot, "p95_ms"));
  card(out, "", "p99 ms", "%.2f", jnum(tot, "p99_ms"));
  card(out, "", "max ms", "%.2f", jnum(tot, "max_ms"));
  if (json_array_size(ths))
    card(out, failed ? "bad" : "good", failed ? "thresholds failed" : "thresholds passed", "%.0f",
         (double)(failed ? failed : json_array_size(ths)));
  cpu_card(out, json_object_get(run, "workers"));
  fputs("</div>\n", out);
}

/* Said under the time charts of a run long enough for its older intervals to be merged into buckets. */
static void merged_note(FILE *out, const report *r) {
  const report_tick *ticks;
  size_t n = report_ticks(r, &ticks), k = 0;
  int64_t merged = report_merged_intervals(r);

  if (merged == 0) return;
  while (k < n && ticks[k].intervals > 1) k++;
  fprintf(
      out,
      "<p class=\"note\" id=\"merged-note\">This run has more intervals than the %d points a chart keeps: "
      "the first %.0f s (%lld intervals) are drawn as buckets of 2 to %lld intervals, the rest at full "
      "resolution. A bucket's rates are its average, its max the true maximum, and its p50/p95/p99 the "
      "highest of its intervals' values (an upper envelope); summary.json and the tables are exact.</p>\n",
      REPORT_MAX_POINTS,
      k ? clock_ms_to_s((double)(ticks[k - 1].start_ms + ticks[k - 1].interval_ms - ticks[0].start_ms)) : 0,
      (long long)merged, (long long)(n ? ticks[0].intervals : 0));
}

static void charts(FILE *out, const report *r, const json_t *sum) {
  const json_t *reqs = json_object_get(sum, "requests");
  size_t i;
  json_t *q;

  fputs(
      "<section><h2>Throughput and errors over time</h2><div data-chart=\"throughput\"></div>"
      "<p class=\"note\">drag to zoom, double click to reset, click a legend entry to hide "
      "it</p></section>\n",
      out);
  fputs("<section><h2>Latency over time<select id=\"lat-name\"><option value=\"-1\">all requests</option>",
        out);
  json_array_foreach(reqs, i, q) {
    fprintf(out, "<option value=\"%zu\">", i);
    html_escape(out, jstr(q, "name", ""));
    fputs("</option>", out);
  }
  fputs("</select></h2><div data-chart=\"latency\"></div>", out);
  merged_note(out, r);
  fputs("</section>\n", out);
  if (json_object_get(sum, "profile_timeline")) fputs(HTML_MEMORY_SECTION, out);
  fputs(
      "<div class=\"row2\"><section><h2>Latency distribution (percentiles, log scale)</h2>"
      "<div data-chart=\"dist\"></div></section>\n<section><h2>Latency histogram (log buckets)</h2>"
      "<div data-chart=\"hist\"></div></section></div>\n",
      out);
  fputs("<section><h2>Users and rate over time</h2><div data-chart=\"users\"></div></section>\n", out);
}

/* The CPU ms/req cell: value, 95% interval and samples; empty when the name had no profiled request. */
static void cost_cell(FILE *out, const json_t *q) {
  const json_t *ci = json_object_get(q, "cpu_ms_per_req_ci95");
  if (!json_object_get(q, "cpu_ms_per_req")) {
    fputs("<td></td>", out);
    return;
  }
  fprintf(out, "<td class=\"cost\">%.3f <small>[%.3f, %.3f] %.0f samples</small></td>",
          jnum(q, "cpu_ms_per_req"), json_number_value(json_array_get(ci, 0)),
          json_number_value(json_array_get(ci, 1)), jnum(q, "cpu_samples"));
}

static void requests_table(FILE *out, const json_t *sum) {
  static const char *const cols[] = {"p50_ms", "p90_ms", "p95_ms", "p99_ms", "p999_ms", "max_ms", "mean_ms"};
  const json_t *reqs = json_object_get(sum, "requests");
  bool costs = false;
  size_t i;
  json_t *q;

  fputs(
      "<section><h2>Requests</h2><table><tr><th class=\"l\">name</th><th>method</th><th>requests</th>"
      "<th>errors</th><th>error %</th><th>rps</th><th>p50 ms</th><th>p90 ms</th><th>p95 ms</th><th>p99 "
      "ms</th>"
      "<th>p99.9 ms</th><th>max ms</th><th>mean ms</th>",
      out);
  json_array_foreach(reqs, i, q) if (json_object_get(q, "cpu_ms_per_req")) costs = true;
  fputs(costs
            ? "<th title=\"CPU time of the request's labelled profile samples per request, 95% interval and "
              "sample count (docs/report.md)\">CPU ms/req</th></tr>\n"
            : "</tr>\n",
        out);
  json_array_foreach(reqs, i, q) {
    double errors = jnum(q, "errors");
    fputs("<tr><td class=\"l\">", out);
    html_escape(out, jstr(q, "name", ""));
    fputs("</td><td>", out);
    html_escape(out, jstr(q, "method", ""));
    fprintf(out, "</td><td>%.0f</td><td%s>%.0f</td><td%s>%.2f</td><td>%.1f</td>", jnum(q, "count"),
            errors > 0 ? " class=\"err\"" : "", errors, errors > 0 ? " class=\"err\"" : "",
            100 * jnum(q, "error_rate"), jnum(q, "rps"));
    for (size_t c = 0; c < sizeof cols / sizeof cols[0]; c++) fprintf(out, "<td>%.2f</td>", jnum(q, cols[c]));
    if (costs) cost_cell(out, q);
    fputs("</tr>\n", out);
  }
  {
    const json_t *t = json_object_get(sum, "totals");
    fprintf(out, "<tr><th class=\"l\">all</th><th></th><th>%.0f</th><th>%.0f</th><th>%.2f</th><th>%.1f</th>",
            jnum(t, "requests"), jnum(t, "errors"), 100 * jnum(t, "error_rate"), jnum(t, "rps"));
    for (size_t c = 0; c < sizeof cols / sizeof cols[0]; c++) fprintf(out, "<th>%.2f</th>", jnum(t, cols[c]));
    fputs(costs ? "<th></th></tr>\n" : "</tr>\n", out);
  }
  fputs("</table></section>\n", out);
}

/* k6's timing breakdown: per request name, each phase's p50 / p95 / p99 (summary.json "timings"). */
static void timings_table(FILE *out, const json_t *sum) {
  const json_t *reqs = json_object_get(sum, "requests");
  size_t i;
  json_t *q;
  bool any = false;

  json_array_foreach(reqs, i, q) any |= json_object_get(q, "timings") != NULL;
  if (!any) return;
  fputs(
      "<section id=\"timings\"><h2>Timing breakdown (p50 / p95 / p99 ms)</h2><table><tr>"
      "<th class=\"l\">name</th>",
      out);
  for (int k = 0; k < STATS_PHASE_COUNT; k++) fprintf(out, "<th>%s</th>", stats_phase_name(k));
  fputs("</tr>\n", out);
  json_array_foreach(reqs, i, q) {
    const json_t *t = json_object_get(q, "timings");
    if (!t) continue;
    fputs("<tr><td class=\"l\">", out);
    html_escape(out, jstr(q, "name", ""));
    fputs("</td>", out);
    for (int k = 0; k < STATS_PHASE_COUNT; k++) {
      const json_t *p = json_object_get(t, stats_phase_name(k));
      fprintf(out, "<td>%.3f / %.3f / %.3f</td>", jnum(p, "p50_ms"), jnum(p, "p95_ms"), jnum(p, "p99_ms"));
    }
    fputs("</tr>\n", out);
  }
  fputs("</table></section>\n", out);
}

/* group() blocks: one row each, the figures of the requests inside it (nested groups included). */
static void groups_table(FILE *out, const json_t *sum) {
  static const htmltable_col cols[] = {
      {"group", "name", HTMLTABLE_TEXT, NULL},
      {"request names", "requests", HTMLTABLE_COUNT, NULL},
      {"requests", "count", HTMLTABLE_COUNT, NULL},
      {"errors", "errors", HTMLTABLE_ERRORS, NULL},
      {"error %", "error_rate", HTMLTABLE_PERCENT, NULL},
      {"rps", "rps", HTMLTABLE_RATE, NULL},
      {"p50 ms", "p50_ms", HTMLTABLE_MS, NULL},
      {"p90 ms", "p90_ms", HTMLTABLE_MS, NULL},
      {"p95 ms", "p95_ms", HTMLTABLE_MS, NULL},
      {"p99 ms", "p99_ms", HTMLTABLE_MS, NULL},
      {"p99.9 ms", "p999_ms", HTMLTABLE_MS, NULL},
      {"max ms", "max_ms", HTMLTABLE_MS, NULL},
      {"mean ms", "mean_ms", HTMLTABLE_MS, NULL},
  };
  const json_t *groups = json_object_get(sum, "groups");

  if (json_array_size(groups) == 0) return;
  htmltable_write(out, "groups", "Groups", cols, sizeof cols / sizeof cols[0], groups);
}

static void thresholds_table(FILE *out, const json_t *sum) {
  const json_t *ths = json_object_get(sum, "thresholds");
  size_t i;
  json_t *th;

  fputs("<section id=\"thresholds\"><h2>Thresholds</h2>", out);
  if (!json_array_size(ths)) {
    fputs("<p class=\"note\">no thresholds set (options.thresholds)</p></section>\n", out);
    return;
  }
  fputs("<table><tr><th class=\"l\">threshold</th><th>value</th><th>result</th></tr>\n", out);
  json_array_foreach(ths, i, th) {
    bool ok = json_is_true(json_object_get(th, "ok"));
    const json_t *v = json_object_get(th, "value");
    fputs("<tr><td class=\"l\">", out);
    html_escape(out, jstr(th, "expr", ""));
    fputs("</td><td>", out);
    if (json_is_string(json_object_get(th, "shown")))
      html_escape(out, jstr(th, "shown", ""));
    else if (json_is_number(v))
      fprintf(out, "%.4g", json_number_value(v));
    else
      fputs("no data", out);
    fputs("</td>", out);
    fprintf(out, "<td class=\"%s\">%s</td></tr>\n", ok ? "pass" : "fail", ok ? "pass" : "FAIL");
  }
  fputs("</table></section>\n", out);
}

static void failures_table(FILE *out, const report *r) {
  const stats_interval *cum = report_cumulative(r);
  bool any = false;

  fputs("<section id=\"failures\"><h2>Failures</h2>", out);
  for (size_t i = 0; i < cum->nentries; i++) {
    const stats_entry *e = &cum->entries[i];
    for (int k = 0; k < e->nfailures; k++) {
      if (!any)
        fputs(
            "<table><tr><th class=\"l\">name</th><th class=\"l\">kind</th><th class=\"l\">error</th>"
            "<th>occurrences</th></tr>\n",
            out);
      any = true;
      fputs("<tr><td class=\"l\">", out);
      html_escape(out, e->name);
      fprintf(out, "</td><td class=\"l\">%s</td><td class=\"l\">", stats_err_name(e->failures[k].kind));
      html_escape(out, e->failures[k].message);
      fprintf(out, "</td><td>%" PRId64 "</td></tr>\n", e->failures[k].count);
    }
  }
  fputs(any ? "</table></section>\n" : "<p class=\"note\">no failures</p></section>\n", out);
}

/* The scenario's custom metrics (summary.json "metrics"): one row each, the figures its kind has. */
static void custom_metrics(FILE *out, const json_t *sum) {
  const json_t *ms = json_object_get(sum, "metrics");
  size_t i;
  json_t *c;

  if (!json_array_size(ms)) return;
  fputs(
      "<section id=\"metrics\"><h2>Custom metrics</h2><table><tr><th class=\"l\">metric</th>"
      "<th class=\"l\">kind</th><th>count</th><th class=\"l\">value</th></tr>\n",
      out);
  json_array_foreach(ms, i, c) {
    const char *kind = jstr(c, "kind", "");
    fputs("<tr><td class=\"l\">", out);
    html_escape(out, jstr(c, "name", ""));
    fprintf(out, "</td><td class=\"l\">%s</td><td>%.0f</td><td class=\"l\">",
            !strcmp(kind, "trend")   ? "trend"
            : !strcmp(kind, "rate")  ? "rate"
            : !strcmp(kind, "gauge") ? "gauge"
                                     : "counter",
            jnum(c, "count"));
    if (!strcmp(kind, "trend"))
      fprintf(out, "avg %g, min %g, p50 %g, p90 %g, p95 %g, p99 %g, max %g", jnum(c, "avg"), jnum(c, "min"),
              jnum(c, "p50"), jnum(c, "p90"), jnum(c, "p95"), jnum(c, "p99"), jnum(c, "max"));
    else if (!strcmp(kind, "rate"))
      fprintf(out, "%.2f %% (%.0f true)", 100 * jnum(c, "rate"), jnum(c, "passes"));
    else if (!strcmp(kind, "gauge"))
      fprintf(out, "%g (min %g, max %g)", jnum(c, "value"), jnum(c, "min"), jnum(c, "max"));
    else
      fprintf(out, "%g", jnum(c, "sum"));
    fputs("</td></tr>\n", out);
  }
  fputs("</table></section>\n", out);
}

static void checks_and_findings(FILE *out, const json_t *sum) {
  static const htmltable_col check_cols[] = {
      {"check", "name", HTMLTABLE_TEXT, NULL},
      {"passes", "passes", HTMLTABLE_COUNT, NULL},
      {"fails", "fails", HTMLTABLE_ERRORS, NULL},
  };
  static const htmltable_col finding_cols[] = {
      {"kind", "kind", HTMLTABLE_TEXT, NULL},
      {"request", "request", HTMLTABLE_TEXT, "-"},
      {"function", "function", HTMLTABLE_TEXT, NULL},
      {"share", "share", HTMLTABLE_SHARE, NULL},
      {"baseline", "baseline_share", HTMLTABLE_SHARE, NULL},
      {"evidence", "evidence", HTMLTABLE_TEXT, NULL},
  };
  const json_t *checks = json_object_get(sum, "checks"), *finds = json_object_get(sum, "findings");

  if (json_array_size(checks))
    htmltable_write(out, "checks", "Checks", check_cols, sizeof check_cols / sizeof check_cols[0], checks);
  if (!json_array_size(finds)) {
    fputs(
        "<section id=\"findings\"><h2>Findings</h2><p class=\"note\">No finding: no function's share of the "
        "profiles differs significantly between the populations compared (or the run pulled no profiles; "
        "docs/report.md, \"How findings are made\").</p></section>\n",
        out);
    return;
  }
  htmltable_write(out, "findings", "Findings", finding_cols, sizeof finding_cols / sizeof finding_cols[0],
                  finds);
}

/* Slowest requests per name with their trace ids (from the exemplars). */
static void slowest_table(FILE *out, const json_t *sum) {
  const json_t *q, *x;
  size_t i, k;
  bool any = false;

  json_array_foreach(json_object_get(sum, "requests"), i, q) {
    json_array_foreach(json_object_get(q, "slowest"), k, x) {
      char when[32];
      if (!any)
        fputs(
            "<section id=\"slowest\"><h2>Slowest requests (exemplars)</h2><table><tr><th class=\"l\">"
            "name</th><th>latency ms</th><th class=\"l\">sent (UTC)</th><th class=\"l\">trace id</th>"
            "<th class=\"l\">span id</th></tr>\n",
            out);
      any = true;
      clock_format_wall((int64_t)json_integer_value(json_object_get(x, "wall_ms")), when, sizeof when);
      fputs("<tr><td class=\"l\">", out);
      html_escape(out, jstr(q, "name", ""));
      fprintf(out, "</td><td>%.2f</td><td class=\"l\">%s</td><td class=\"l\"><code>", jnum(x, "latency_ms"),
              when);
      html_escape(out, jstr(x, "trace_id", ""));
      fputs("</code></td><td class=\"l\"><code>", out);
      html_escape(out, jstr(x, "span_id", ""));
      fputs("</code></td></tr>\n", out);
    }
  }
  if (any) fputs("</table></section>\n", out);
}

static void meta_pairs(FILE *out, const json_t *o, const char *prefix) {
  const char *key;
  json_t *v;

  json_object_foreach((json_t *)o, key, v) {
    char *text = NULL;
    if (!prefix && strcmp(key, "thresholds") == 0) continue; /* its own table */
    if (json_is_integer(v) && (strcmp(key, "start_ms") == 0 || strcmp(key, "end_ms") == 0)) {
      char when[32];
      clock_format_wall((int64_t)json_integer_value(v), when, sizeof when);
      fprintf(out, "<dt>%s</dt><dd>%s</dd>\n", strcmp(key, "start_ms") == 0 ? "start (UTC)" : "end (UTC)",
              when);
      continue;
    }
    if (json_is_object(v) || json_is_array(v)) {
      if (json_is_object(v) && !prefix)
        meta_pairs(out, v, key);
      else if (json_is_array(v) && json_array_size(v) == 0)
        continue;
      else
        text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
      if (!text) continue;
    } else {
      text = json_dumps(v, JSON_ENCODE_ANY);
    }
    fputs("<dt>", out);
    if (prefix) fprintf(out, "%s.", prefix);
    html_escape(out, key);
    fputs("</dt><dd>", out);
    html_escape(out, text && text[0] == '"' ? json_string_value(v) : text);
    fputs("</dd>\n", out);
    free(text);
  }
}

/* Inline dir/sections/ fragments, sorted by file name. */
static void file_sections(FILE *out, const char *dir) {
  char path[4096];
  struct dirent **list = NULL;
  int n;

  if (!dir) return;
  snprintf(path, sizeof path, "%s/%s", dir, RUNDIR_SECTIONS);
  n = scandir(path, &list, NULL, alphasort);
  for (int i = 0; i < n; i++) {
    size_t len = strlen(list[i]->d_name);
    char file[4400], buf[65536];
    FILE *f;
    if (len > 5 && strcmp(list[i]->d_name + len - 5, ".html") == 0) {
      snprintf(file, sizeof file, "%s/%s", path, list[i]->d_name);
      if ((f = fopen(file, "r"))) {
        size_t got;
        while ((got = fread(buf, 1, sizeof buf, f)) > 0) fwrite(buf, 1, got, out);
        fclose(f);
        fputc('\n', out);
      }
    }
    free(list[i]);
  }
  free(list);
}

int html_write(const report *r, const char *dir, FILE *out) {
  json_t *sum = summary_json(r), *data;
  char *text;
  char title[300];

  if (!sum) return -ENOMEM;
  snprintf(title, sizeof title, "loadctl report: %s", jstr(json_object_get(sum, "run"), "scenario", "run"));
  html_begin(out, title);
  header_and_cards(out, r, sum);
  charts(out, r, sum);
  requests_table(out, sum);
  scensum_html(out, sum);
  timings_table(out, sum);
  groups_table(out, sum);
  tagsum_html(out, sum);
  thresholds_table(out, sum);
  failures_table(out, r);
  custom_metrics(out, sum);
  checks_and_findings(out, sum);
  slowest_table(out, sum);
  for (size_t i = 0; i < report_sections(r); i++) report_section_write(r, i, out);
  file_sections(out, dir);
  fputs("<section id=\"run\"><h2>Run</h2><dl class=\"meta\">\n", out);
  meta_pairs(out, json_object_get(sum, "run"), NULL);
  fputs("</dl></section>\n</main>\n", out);
  data = html_chart_data(r);
  text = data ? json_dumps(data, JSON_COMPACT | JSON_ESCAPE_SLASH | RUNDIR_JSON_REALS) : NULL;
  fprintf(out, "<script type=\"application/json\" id=\"loadctl-data\">%s</script>\n", text ? text : "{}");
  html_scripts(out);
  html_end(out);
  free(text);
  json_decref(data);
  json_decref(sum);
  return 0;
}
