/* compare.c - run against run: per request name, rps and p50/p95/p99 of B against A, with a verdict that
 * ignores changes inside a noise margin, as text and as a self-contained compare.html. */
#include "master/report/compare.h"

#include "master/profile/flame.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/rundir.h"
#include "master/report/html.h"
#include "master/report/rebuild.h"

enum margin_kind { REL = 0, LATENCY, ERRORS }; /* which noise margin judges a metric */

static const struct {
  const char *key, *title;
  bool higher_is_better;
  int margin;
} metrics[] = {{"rps", "rps", true, REL},
               {"p50_ms", "p50 ms", false, LATENCY},
               {"p95_ms", "p95 ms", false, LATENCY},
               {"p99_ms", "p99 ms", false, LATENCY},
               {"error_rate", "errors %", false, ERRORS}};

#define NMETRICS (sizeof metrics / sizeof metrics[0])

static const json_t *find_request(const json_t *summary, const char *name) {
  const json_t *q;
  size_t i;
  json_array_foreach(json_object_get(summary, "requests"), i, q) {
    const char *n = json_string_value(json_object_get(q, "name"));
    if (n && strcmp(n, name) == 0) return q;
  }
  return NULL;
}

/* -1 worse, +1 better, 0 within the metric's margin. */
static int judge(double a, double b, size_t k, compare_margin m) {
  double diff = b - a;
  if (a <= 0 && b <= 0) return 0;
  if (metrics[k].margin == ERRORS) {
    if (fabs(diff) <= m.errors) return 0;
  } else {
    if (fabs(diff) <= m.rel * fabs(a)) return 0;
    if (metrics[k].margin == LATENCY && fabs(diff) <= m.abs_ms) return 0;
  }
  return (diff > 0) == metrics[k].higher_is_better ? 1 : -1;
}

/* A shown value: error rates in percent, the rest as stored. */
static double shown(size_t k, double v) {
  return metrics[k].margin == ERRORS ? 100 * v : v;
}

static json_t *compare_one(const char *name, const json_t *qa, const json_t *qb, compare_margin m,
                           int *verdict) {
  json_t *o = json_object(), *ms = json_object();
  int worse = 0, better = 0;

  for (size_t k = 0; k < NMETRICS; k++) {
    double a = json_number_value(json_object_get(qa, metrics[k].key));
    double b = json_number_value(json_object_get(qb, metrics[k].key));
    int j = qa && qb ? judge(a, b, k, m) : 0;
    json_t *c = json_object();
    json_object_set_new(c, "a", qa ? json_real(a) : json_null());
    json_object_set_new(c, "b", qb ? json_real(b) : json_null());
    if (metrics[k].margin ==
        ERRORS) /* percentage points: a relative change of a near-zero rate says little */
      json_object_set_new(c, "change_points", qa && qb ? json_real(100 * (b - a)) : json_null());
    else
      json_object_set_new(c, "change", qa && qb && a != 0 ? json_real((b - a) / a) : json_null());
    json_object_set_new(c, "verdict", json_string(j < 0 ? "worse" : j > 0 ? "better" : "same"));
    json_object_set_new(ms, metrics[k].key, c);
    worse += j < 0;
    better += j > 0;
  }
  *verdict = !qa ? 2 : !qb ? 3 : worse ? -1 : better ? 1 : 0;
  json_object_set_new(o, "name", json_string(name));
  json_object_set_new(o, "verdict",
                      json_string(*verdict == 2   ? "new"
                                  : *verdict == 3 ? "missing"
                                  : *verdict < 0  ? "regression"
                                  : *verdict > 0  ? "improvement"
                                                  : "same"));
  json_object_set_new(o, "metrics", ms);
  return o;
}

json_t *compare_summaries(const json_t *a, const json_t *b, compare_margin margin) {
  json_t *res = json_object(), *list = json_array();
  const json_t *q;
  size_t i;
  int regressions = 0, improvements = 0, v;

  json_array_foreach(json_object_get(a, "requests"), i, q) {
    const char *name = json_string_value(json_object_get(q, "name"));
    if (!name) continue;
    json_array_append_new(list, compare_one(name, q, find_request(b, name), margin, &v));
    regressions += v == -1;
    improvements += v == 1;
  }
  json_array_foreach(json_object_get(b, "requests"), i, q) {
    const char *name = json_string_value(json_object_get(q, "name"));
    if (name && !find_request(a, name)) json_array_append_new(list, compare_one(name, NULL, q, margin, &v));
  }
  json_object_set_new(res, "requests", list);
  json_object_set_new(res, "regressions", json_integer(regressions));
  json_object_set_new(res, "improvements", json_integer(improvements));
  json_object_set_new(
      res, "margin",
      json_pack("{s:f,s:f,s:f}", "rel", margin.rel, "abs_ms", margin.abs_ms, "errors", margin.errors));
  return res;
}

json_t *compare_load(const char *dir, char *err, size_t errlen) {
  char path[4200];
  json_t *s;
  json_error_t jerr;

  snprintf(path, sizeof path, "%s/%s", dir, RUNDIR_SUMMARY);
  if (access(path, F_OK) != 0 && rebuild_run(dir, NULL, NULL, err, errlen) < 0) return NULL;
  s = json_load_file(path, 0, &jerr);
  if (!s) snprintf(err, errlen, "%s: %s (line %d)", path, jerr.text, jerr.line);
  return s;
}

static const char *verdict_color(const char *v, bool color) {
  if (!color) return "";
  if (!strcmp(v, "regression")) return "\033[1;31m";
  if (!strcmp(v, "improvement")) return "\033[32m";
  return "";
}

/* Profile findings (profdiff.h), one line each: kind, request, function, CPU ms per request A -> B. */
static void print_findings(const json_t *result, FILE *out, bool color) {
  const json_t *f;
  size_t i;
  if (!json_array_size(json_object_get(result, "findings"))) return;
  fputs("\nprofiles (CPU ms per request, A -> B):\n", out);
  json_array_foreach(json_object_get(result, "findings"), i, f) {
    const char *k = json_string_value(json_object_get(f, "kind"));
    const json_t *c = json_object_get(f, "cpu_ms_per_req");
    fprintf(out, "  %s%-11s%s %-28.28s %-40.40s %.3f -> %.3f\n", verdict_color(k, color), k,
            color && verdict_color(k, color)[0] ? "\033[0m" : "",
            json_string_value(json_object_get(f, "request")),
            json_string_value(json_object_get(f, "function")),
            json_number_value(json_object_get(c, "before")), json_number_value(json_object_get(c, "after")));
  }
}

/* The profile findings' table in compare.html (none: nothing). */
static void html_findings(FILE *f, const json_t *result) {
  const json_t *o;
  size_t i;
  if (!json_array_size(json_object_get(result, "findings"))) return;
  fputs(
      "<section id=\"profile-findings\"><h2>Profiles: CPU per request (B against A)</h2><table><tr>"
      "<th class=\"l\">kind</th><th class=\"l\">request</th><th class=\"l\">function</th><th>CPU ms/req "
      "A</th>"
      "<th>CPU ms/req B</th><th class=\"l\">evidence</th></tr>\n",
      f);
  json_array_foreach(json_object_get(result, "findings"), i, o) {
    const char *k = json_string_value(json_object_get(o, "kind"));
    const json_t *c = json_object_get(o, "cpu_ms_per_req");
    fprintf(f, "<tr><td class=\"l %s\">%s</td><td class=\"l\">", !strcmp(k, "regression") ? "fail" : "pass",
            k);
    html_escape(f, json_string_value(json_object_get(o, "request")));
    fputs("</td><td class=\"l\">", f);
    html_escape(f, json_string_value(json_object_get(o, "function")));
    fprintf(f, "</td><td>%.3f</td><td>%.3f</td><td class=\"l\">",
            json_number_value(json_object_get(c, "before")), json_number_value(json_object_get(c, "after")));
    html_escape(f, json_string_value(json_object_get(o, "evidence")));
    fputs("</td></tr>\n", f);
  }
  fputs("</table></section>\n", f);
}

void compare_print(const json_t *result, FILE *out, bool color) {
  const json_t *q;
  size_t i;

  fprintf(out, "%-32s %-11s", "name", "verdict");
  for (size_t k = 0; k < NMETRICS; k++) {
    char title[32];
    snprintf(title, sizeof title, "%s A -> B", metrics[k].title);
    fprintf(out, " %23s", title);
  }
  fputc('\n', out);
  json_array_foreach(json_object_get(result, "requests"), i, q) {
    const char *v = json_string_value(json_object_get(q, "verdict"));
    fprintf(out, "%-32.32s %s%-11s%s", json_string_value(json_object_get(q, "name")), verdict_color(v, color),
            v, color && verdict_color(v, color)[0] ? "\033[0m" : "");
    for (size_t k = 0; k < NMETRICS; k++) {
      const json_t *c = json_object_get(json_object_get(q, "metrics"), metrics[k].key);
      const json_t *ch = json_object_get(c, "change"), *pts = json_object_get(c, "change_points");
      char cell[64];
      snprintf(cell, sizeof cell, metrics[k].margin == ERRORS ? "%.2f -> %.2f" : "%.1f -> %.1f",
               shown(k, json_number_value(json_object_get(c, "a"))),
               shown(k, json_number_value(json_object_get(c, "b"))));
      if (json_is_number(ch))
        snprintf(cell + strlen(cell), sizeof cell - strlen(cell), " (%+.0f%%)", 100 * json_number_value(ch));
      else if (json_is_number(pts) && json_number_value(pts) != 0)
        snprintf(cell + strlen(cell), sizeof cell - strlen(cell), " (%+.2f)", json_number_value(pts));
      fprintf(out, " %23s", cell);
    }
    fputc('\n', out);
  }
  fprintf(out,
          "\n%lld regression(s), %lld improvement(s) (noise margins: %.0f%% and %.1f ms; error rate %.2f "
          "percentage points)\n",
          (long long)json_integer_value(json_object_get(result, "regressions")),
          (long long)json_integer_value(json_object_get(result, "improvements")),
          100 * json_number_value(json_object_get(json_object_get(result, "margin"), "rel")),
          json_number_value(json_object_get(json_object_get(result, "margin"), "abs_ms")),
          100 * json_number_value(json_object_get(json_object_get(result, "margin"), "errors")));
  print_findings(result, out, color);
}

static void html_rows(FILE *f, const json_t *result) {
  const json_t *q;
  size_t i;

  json_array_foreach(json_object_get(result, "requests"), i, q) {
    const char *v = json_string_value(json_object_get(q, "verdict"));
    fputs("<tr><td class=\"l\">", f);
    html_escape(f, json_string_value(json_object_get(q, "name")));
    fprintf(f, "</td><td class=\"%s\">%s</td>",
            !strcmp(v, "regression")    ? "fail"
            : !strcmp(v, "improvement") ? "pass"
                                        : "",
            v);
    for (size_t k = 0; k < NMETRICS; k++) {
      const json_t *c = json_object_get(json_object_get(q, "metrics"), metrics[k].key);
      const char *mv = json_string_value(json_object_get(c, "verdict"));
      const json_t *ch = json_object_get(c, "change"), *pts = json_object_get(c, "change_points");
      fprintf(f, "<td>%.2f</td><td>%.2f</td><td class=\"%s\">",
              shown(k, json_number_value(json_object_get(c, "a"))),
              shown(k, json_number_value(json_object_get(c, "b"))),
              !strcmp(mv, "worse")    ? "fail"
              : !strcmp(mv, "better") ? "pass"
                                      : "");
      if (json_is_number(ch)) fprintf(f, "%+.1f%%", 100 * json_number_value(ch));
      if (json_is_number(pts)) fprintf(f, "%+.2f pts", json_number_value(pts));
      fputs("</td>", f);
    }
    fputs("</tr>\n", f);
  }
}

/* The page, printed into the stream rundir_write_stream gives. */
/* What compare.html shows: the verdicts and findings, and flame_compare_data's (may be NULL). */
typedef struct page {
  const json_t *result, *profile;
} page;

static int fill_html(FILE *f, void *ctx) {
  const json_t *result = ((const page *)ctx)->result, *profile = ((const page *)ctx)->profile;

  html_begin(f, "loadctl compare");
  fputs("<header><h1>loadctl compare</h1><div class=\"meta\">A: ", f);
  html_escape(f, json_string_value(json_object_get(result, "a")));
  fputs(" &middot; B: ", f);
  html_escape(f, json_string_value(json_object_get(result, "b")));
  fprintf(f,
          "</div></header>\n<main><div class=\"cards\"><div class=\"card %s\"><div class=\"v\">%lld</div>"
          "<div class=\"k\">regressions</div></div><div class=\"card\"><div class=\"v\">%lld</div>"
          "<div class=\"k\">improvements</div></div></div>\n",
          json_integer_value(json_object_get(result, "regressions")) ? "bad" : "good",
          (long long)json_integer_value(json_object_get(result, "regressions")),
          (long long)json_integer_value(json_object_get(result, "improvements")));
  fputs(
      "<section><h2>Per request (B against A)</h2><table><tr><th class=\"l\">name</th><th>verdict</th>"
      "<th>rps A</th><th>rps B</th><th>change</th><th>p50 A</th><th>p50 B</th><th>change</th><th>p95 A</th>"
      "<th>p95 B</th><th>change</th><th>p99 A</th><th>p99 B</th><th>change</th><th>errors % A</th>"
      "<th>errors % B</th><th>change</th></tr>\n",
      f);
  html_rows(f, result);
  fprintf(
      f,
      "</table><p class=\"note\">latencies in ms; a change counts when above %.0f%% and (latency) %.1f ms; "
      "an error rate when it moves by more than %.2f percentage points"
      "</p></section>\n",
      100 * json_number_value(json_object_get(json_object_get(result, "margin"), "rel")),
      json_number_value(json_object_get(json_object_get(result, "margin"), "abs_ms")),
      100 * json_number_value(json_object_get(json_object_get(result, "margin"), "errors")));
  html_findings(f, result);
  if (profile) flame_write_html(f, profile);
  fputs("</main>\n<script>document.documentElement.setAttribute('data-status','ok');</script>\n", f);
  html_end(f);
  return ferror(f) ? -EIO : 0;
}

int compare_write_html(const json_t *result, const json_t *profile, const char *path) {
  page pg = {result, profile};
  return rundir_write_stream(NULL, path, fill_html, &pg);
}
