/* trend.c - `loadctl history --html`: the runs of runs/index.jsonl (as master/history.c loads them) drawn
 * as a self-contained page, the p99 trend per request name and the runs table. */
#include "master/report/trend.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/rundir.h"
#include "master/report/html.h"

/* {"x":[0..],"labels":[...],"series":[{"name","y":[...]}]}: "(all)" first, then up to TREND_NAMES
 * names, the first recorded from the earliest run shown on (more lines than that are unreadable). */
static json_t *trend_data(const json_t *runs, size_t from) {
  json_t *x = json_array(), *labels = json_array(), *series = json_array(), *all = json_array(),
         *names = json_array();
  const char *key;
  json_t *v;

  for (size_t i = from; i < json_array_size(runs); i++) {
    const json_t *r = json_array_get(runs, i);
    char stamp[32], label[32];
    clock_format_wall((int64_t)json_integer_value(json_object_get(r, "start_ms")), stamp, sizeof stamp);
    snprintf(label, sizeof label, "%.5s %.2s:%.2s", stamp + 5, stamp + 11, stamp + 14); /* "11-24 21:30" */
    json_array_append_new(x, json_integer((json_int_t)(i - from)));
    json_array_append_new(labels, json_string(label));
    json_array_append(all, json_object_get(r, "p99_all_ms") ? json_object_get(r, "p99_all_ms") : json_null());
    json_object_foreach(json_object_get(r, "p99_ms"), key, v) {
      bool seen = false;
      for (size_t k = 0; k < json_array_size(names); k++)
        seen |= !strcmp(json_string_value(json_array_get(names, k)), key);
      if (!seen && json_array_size(names) < TREND_NAMES) json_array_append_new(names, json_string(key));
    }
  }
  json_array_append_new(series, json_pack("{s:s,s:o}", "name", "all requests", "y", all));
  for (size_t k = 0; k < json_array_size(names); k++) {
    const char *name = json_string_value(json_array_get(names, k));
    json_t *y = json_array();
    for (size_t i = from; i < json_array_size(runs); i++) {
      const json_t *p = json_object_get(json_object_get(json_array_get(runs, i), "p99_ms"), name);
      json_array_append(y, json_is_number(p) ? (json_t *)p : json_null());
    }
    json_array_append_new(series, json_pack("{s:s,s:o}", "name", name, "y", y));
  }
  json_decref(names);
  return json_pack("{s:{s:o,s:o,s:o}}", "trend", "x", x, "labels", labels, "series", series);
}

static void runs_table(FILE *f, const json_t *runs, size_t from) {
  fputs(
      "<section><h2>Runs</h2><table><tr><th class=\"l\">start (UTC)</th><th class=\"l\">scenario</th>"
      "<th class=\"l\">status</th><th>requests</th><th>rps</th><th>errors</th><th>p99 ms</th>"
      "<th>thresholds</th><th class=\"l\">dir</th></tr>\n",
      f);
  for (size_t i = from; i < json_array_size(runs); i++) {
    const json_t *r = json_array_get(runs, i);
    char stamp[32];
    bool ok = !json_is_false(json_object_get(r, "thresholds_ok"));
    clock_format_wall((int64_t)json_integer_value(json_object_get(r, "start_ms")), stamp, sizeof stamp);
    fprintf(f, "<tr><td class=\"l\">%s</td><td class=\"l\">", stamp);
    html_escape(f, json_string_value(json_object_get(r, "scenario")));
    fputs("</td><td class=\"l\">", f);
    html_escape(f, json_string_value(json_object_get(r, "status")));
    fprintf(f,
            "</td><td>%" JSON_INTEGER_FORMAT "</td><td>%.1f</td><td>%" JSON_INTEGER_FORMAT
            "</td><td>%.2f</td>"
            "<td class=\"%s\">%s</td><td class=\"l\">",
            json_integer_value(json_object_get(r, "requests")), json_number_value(json_object_get(r, "rps")),
            json_integer_value(json_object_get(r, "errors")),
            json_number_value(json_object_get(r, "p99_all_ms")), ok ? "pass" : "fail", ok ? "pass" : "FAIL");
    html_escape(f, json_string_value(json_object_get(r, "dir")));
    fputs("</td></tr>\n", f);
  }
  fputs("</table></section>\n", f);
}

typedef struct page {
  const json_t *runs;
  size_t from;
  const char *data; /* the trend chart's JSON */
} page;

/* The page, printed into the stream rundir_write_stream gives. */
static int fill_html(FILE *f, void *ctx) {
  const page *p = ctx;

  html_begin(f, "loadctl history");
  fprintf(f, "<header><h1>loadctl history</h1><div class=\"meta\">%zu run(s)</div></header>\n<main>\n",
          json_array_size(p->runs) - p->from);
  fputs("<section><h2>p99 per request across runs</h2><div data-chart=\"trend\"></div></section>\n", f);
  runs_table(f, p->runs, p->from);
  fprintf(f, "</main>\n<script type=\"application/json\" id=\"loadctl-data\">%s</script>\n", p->data);
  html_scripts(f);
  html_end(f);
  return ferror(f) ? -EIO : 0;
}

int trend_write_html(const json_t *runs, size_t from, const char *path) {
  json_t *d = trend_data(runs, from);
  char *data = d ? json_dumps(d, JSON_COMPACT | JSON_ESCAPE_SLASH | RUNDIR_JSON_REALS) : NULL;
  page pg = {runs, from, data};
  int rc = data ? rundir_write_stream(NULL, path, fill_html, &pg) : -ENOMEM;

  free(data);
  json_decref(d);
  return rc;
}
