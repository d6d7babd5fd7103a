/* verdict.c - the thresholds' results in their three output forms: JSON for summary.json and run.json,
 * the terminal table, and JUnit XML for CI. Parsing and evaluation stay in master/thresholds.c. */
#include "master/report/verdict.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>

#include "common/rundir.h"
#include "master/report/html.h"

json_t *verdict_json(const thresholds *t) {
  json_t *a = json_array();
  for (size_t i = 0; a && t && i < thresholds_count(t); i++) {
    const threshold *th = thresholds_get(t, i);
    json_t *v = isnan(th->value) || !th->evaluated ? json_null() : json_real(th->value);
    char shown[64];
    thresholds_format_value(th, shown, sizeof shown);
    json_array_append_new(
        a, json_pack("{s:s,s:b,s:o,s:b,s:s}", "expr", th->expr, "ok", th->evaluated && th->ok, "value", v,
                     "abort_on_fail", th->abort_on_fail, "shown", shown));
  }
  return a;
}

void verdict_print(const thresholds *t, FILE *out, bool color) {
  if (!t || thresholds_count(t) == 0) return;
  fprintf(out, "%-50s %14s  %s\n", "threshold", "value", "result");
  for (size_t i = 0; i < thresholds_count(t); i++) {
    const threshold *th = thresholds_get(t, i);
    char value[64];
    const char *res = !th->evaluated ? "-" : th->ok ? "pass" : "FAIL";
    thresholds_format_value(th, value, sizeof value);
    fprintf(out, "%-50.50s %14s  %s%s%s\n", th->expr, value,
            color && th->evaluated ? (th->ok ? "\033[32m" : "\033[1;31m") : "", res,
            color && th->evaluated ? "\033[0m" : "");
  }
}

/* The JUnit XML, printed into the stream rundir_write_stream gives. */
static int fill_junit(FILE *f, void *ctx) {
  const thresholds *t = ctx;
  size_t failures = 0;

  for (size_t i = 0; t && i < thresholds_count(t); i++)
    failures += !(thresholds_get(t, i)->evaluated && thresholds_get(t, i)->ok);
  fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites tests=\"%zu\" failures=\"%zu\">\n",
          thresholds_count(t), failures);
  fprintf(f, "  <testsuite name=\"loadctl thresholds\" tests=\"%zu\" failures=\"%zu\">\n",
          thresholds_count(t), failures);
  for (size_t i = 0; t && i < thresholds_count(t); i++) {
    const threshold *th = thresholds_get(t, i);
    char value[64];
    thresholds_format_value(th, value, sizeof value);
    fputs("    <testcase classname=\"loadctl.thresholds\" name=\"", f);
    html_escape(f, th->expr); /* XML needs the same five escapes */
    if (th->evaluated && th->ok) {
      fputs("\"/>\n", f);
      continue;
    }
    fputs("\">\n      <failure message=\"", f);
    html_escape(f, th->expr);
    fprintf(f, " (value %s)\" type=\"threshold\"/>\n    </testcase>\n", value);
  }
  fputs("  </testsuite>\n</testsuites>\n", f);
  return ferror(f) ? -EIO : 0;
}

int verdict_write_junit(const thresholds *t, const char *path) {
  return rundir_write_stream(NULL, path, fill_junit, (void *)t);
}
