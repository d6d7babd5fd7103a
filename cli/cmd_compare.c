/* cmd_compare.c - `loadctl compare RUN_A RUN_B`: per-request regression verdict between two runs, as a
 * table and compare.html; exit 99 on a regression with --fail-on-regression (for CI). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cmd.h"
#include "master/profile/flame.h"
#include "master/profile/profdiff.h"
#include "master/report/compare.h"
#include "master/report/live.h"

static const char help[] =
    "usage: loadctl compare RUN_A RUN_B [--html FILE] [--margin PCT] [--margin-ms MS] [--margin-errors PTS]\n"
    "       [--fail-on-regression] [--json]\n"
    "\n"
    "Compare run B against run A per request name: requests/s, p50, p95, p99, error rate and a verdict\n"
    "(regression / improvement / same). A change counts only above the noise margin: --margin percent\n"
    "(default 10) and, for latencies, --margin-ms (default 1); the error rate has its own,\n"
    "--margin-errors percentage points (default 0.5: 0.2% -> 0.8% is a regression, 0.2% -> 0.6% is not).\n"
    "Missing summary.json is rebuilt first.\n"
    "When both runs pulled labelled CPU profiles, their profiles are compared too, per request name and\n"
    "function, as CPU milliseconds per request (the requests each run served inside its CPU windows):\n"
    "\"regression\" / \"improvement\" findings naming the request, the function and its call path.\n"
    "\n"
    "  --html FILE             where to write the HTML page (default RUN_B/compare.html)\n"
    "  --fail-on-regression    exit 99 when any request regressed, in latency, errors or CPU per request\n"
    "  --json                  print the verdicts and profile findings as one JSON object instead of the "
    "table\n";

/* Profile findings (profdiff.h) into res: "findings", "profile_regressions", "profile_improvements". */
static void add_profile_findings(json_t *res, const char *a, const char *b) {
  json_t *f = json_array();
  char err[1024];
  size_t i, nreg = 0;
  json_t *o;
  if (profdiff_runs(a, b, f, err, sizeof err) < 0) fprintf(stderr, "loadctl compare: %s\n", err);
  json_array_foreach(f, i, o) nreg += !strcmp(json_string_value(json_object_get(o, "kind")), "regression");
  json_object_set_new(res, "profile_regressions", json_integer((json_int_t)nreg));
  json_object_set_new(res, "profile_improvements", json_integer((json_int_t)(json_array_size(f) - nreg)));
  json_object_set_new(res, "findings", f);
}

int cmd_compare(int argc, char **argv) {
  const char *dirs[2] = {NULL, NULL}, *html = NULL;
  compare_margin m = {0.10, 1.0, 0.005};
  bool fail_on = false, as_json = false, tty, color;
  int ndirs = 0, code = 0;
  json_t *a = NULL, *b = NULL, *res = NULL, *flame = NULL;
  char err[1024], path[4200];

  for (int i = 1; i < argc; i++) {
    char *end;
    if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
      fputs(help, stdout);
      return 0;
    } else if (!strcmp(argv[i], "--html") && i + 1 < argc) {
      html = argv[++i];
    } else if (!strcmp(argv[i], "--margin") && i + 1 < argc) {
      m.rel = strtod(argv[++i], &end) / 100.0;
      if (*end || m.rel < 0) return cmd_usage_error("compare", "bad --margin '%s' (a percentage)", argv[i]);
    } else if (!strcmp(argv[i], "--margin-ms") && i + 1 < argc) {
      m.abs_ms = strtod(argv[++i], &end);
      if (*end || m.abs_ms < 0) return cmd_usage_error("compare", "bad --margin-ms '%s'", argv[i]);
    } else if (!strcmp(argv[i], "--margin-errors") && i + 1 < argc) {
      m.errors = strtod(argv[++i], &end) / 100.0;
      if (*end || !(m.errors >= 0 && m.errors <= 1))
        return cmd_usage_error("compare", "bad --margin-errors '%s' (percentage points, 0..100)", argv[i]);
    } else if (!strcmp(argv[i], "--fail-on-regression")) {
      fail_on = true;
    } else if (!strcmp(argv[i], "--json")) {
      as_json = true;
    } else if (argv[i][0] == '-' || ndirs == 2) {
      return cmd_usage_error("compare", "unexpected argument '%s'", argv[i]);
    } else {
      dirs[ndirs++] = argv[i];
    }
  }
  if (ndirs != 2) return cmd_usage_error("compare", "need two run directories");
  for (int i = 0; i < 2; i++) {
    json_t *s = compare_load(dirs[i], err, sizeof err);
    if (!s) {
      fprintf(stderr, "loadctl compare: %s\n", err);
      code = EXIT_RUNTIME;
      goto out;
    }
    if (i == 0)
      a = s;
    else
      b = s;
  }
  res = compare_summaries(a, b, m);
  json_object_set_new(res, "a", json_string(dirs[0]));
  json_object_set_new(res, "b", json_string(dirs[1]));
  add_profile_findings(res, dirs[0], dirs[1]);
  live_detect(1, &tty, &color);
  if (as_json)
    json_dumpf(res, stdout, JSON_INDENT(2)), fputc('\n', stdout);
  else
    compare_print(res, stdout, color);
  if (!html) {
    snprintf(path, sizeof path, "%s/compare.html", dirs[1]);
    html = path;
  }
  if (flame_compare_data(dirs[0], dirs[1], &flame) < 0) fprintf(stderr, "loadctl compare: out of memory\n");
  if (compare_write_html(res, flame, html) < 0)
    fprintf(stderr, "loadctl compare: cannot write %s\n", html);
  else
    fprintf(as_json ? stderr : stdout, "compare: %s\n", html);
  if (fail_on && (json_integer_value(json_object_get(res, "regressions")) > 0 ||
                  json_integer_value(json_object_get(res, "profile_regressions")) > 0))
    code = EXIT_THRESHOLDS;
out:
  json_decref(a);
  json_decref(b);
  json_decref(res);
  json_decref(flame);
  return code;
}
