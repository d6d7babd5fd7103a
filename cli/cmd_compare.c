/* cmd_compare.c - `loadctl compare RUN_A RUN_B`: per-request regression verdict between two runs, as a
 * table and compare.html; exit 99 on a regression with --fail-on-regression (for CI). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cmd.h"
#include "master/report/compare.h"
#include "master/report/live.h"

static const char help[] =
    "usage: loadctl compare RUN_A RUN_B [--html FILE] [--margin PCT] [--margin-ms MS] [--margin-errors PTS]\n"
    "       [--fail-on-regression]\n"
    "\n"
    "Compare run B against run A per request name: requests/s, p50, p95, p99, error rate and a verdict\n"
    "(regression / improvement / same). A change counts only above the noise margin: --margin percent\n"
    "(default 10) and, for latencies, --margin-ms (default 1); the error rate has its own,\n"
    "--margin-errors percentage points (default 0.5: 0.2% -> 0.8% is a regression, 0.2% -> 0.6% is not).\n"
    "Missing summary.json is rebuilt first.\n"
    "\n"
    "  --html FILE             where to write the HTML page (default RUN_B/compare.html)\n"
    "  --fail-on-regression    exit 99 when any request regressed\n";

int cmd_compare(int argc, char **argv) {
  const char *dirs[2] = {NULL, NULL}, *html = NULL;
  compare_margin m = {0.10, 1.0, 0.005};
  bool fail_on = false, tty, color;
  int ndirs = 0, code = 0;
  json_t *a = NULL, *b = NULL, *res = NULL;
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
  live_detect(1, &tty, &color);
  compare_print(res, stdout, color);
  if (!html) {
    snprintf(path, sizeof path, "%s/compare.html", dirs[1]);
    html = path;
  }
  if (compare_write_html(res, html) < 0)
    fprintf(stderr, "loadctl compare: cannot write %s\n", html);
  else
    printf("compare: %s\n", html);
  if (fail_on && json_integer_value(json_object_get(res, "regressions")) > 0) code = EXIT_THRESHOLDS;
out:
  json_decref(a);
  json_decref(b);
  json_decref(res);
  return code;
}
