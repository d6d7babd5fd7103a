/* history.c - runs/index.jsonl, the list of runs `loadctl history` reads: one small line per run with
 * the numbers a trend needs, appended and synced, a later line for the same dir superseding an earlier. */
#include "master/history.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/jsonlines.h"
#include "common/rundir.h"
#include "common/secret.h"
#include "master/report/html.h"

void history_root_of(const char *run_dir, char *buf, size_t size) {
  size_t len = strlen(run_dir);
  const char *slash;

  while (len > 1 && run_dir[len - 1] == '/') len--;
  slash = memrchr(run_dir, '/', len);
  if (!slash)
    snprintf(buf, size, ".");
  else if (slash == run_dir)
    snprintf(buf, size, "/");
  else
    snprintf(buf, size, "%.*s", (int)(slash - run_dir), run_dir);
}

/* {name: summary.requests[i][key]} for one key. */
static json_t *by_name(const json_t *summary, const char *key) {
  const json_t *reqs = json_object_get(summary, "requests"), *q;
  json_t *o = json_object();
  size_t i;

  json_array_foreach(reqs, i, q) {
    const char *name = json_string_value(json_object_get(q, "name"));
    if (name) json_object_set(o, name, json_object_get(q, key) ? json_object_get(q, key) : json_null());
  }
  return o;
}

static json_t *index_line(const char *run_dir, const json_t *summary) {
  const json_t *run = json_object_get(summary, "run"), *tot = json_object_get(summary, "totals");
  const json_t *ths = json_object_get(summary, "thresholds"), *t;
  json_t *o = json_object();
  bool ok = true;
  size_t i;

  json_array_foreach(ths, i, t) ok = ok && json_is_true(json_object_get(t, "ok"));
  char clean[4096], abs[PATH_MAX];
  size_t len = strlen(run_dir);

  while (len > 1 && run_dir[len - 1] == '/') len--;
  snprintf(clean, sizeof clean, "%.*s", (int)len, run_dir);
  json_object_set_new(o, "dir", json_string(clean));
  if (realpath(clean, abs)) json_object_set_new(o, "abs", json_string(abs)); /* dedupe key across cwds */
  json_object_set(o, "scenario",
                  json_object_get(run, "scenario") ? json_object_get(run, "scenario") : json_null());
  json_object_set(o, "status", json_object_get(run, "status") ? json_object_get(run, "status") : json_null());
  json_object_set(o, "start_ms",
                  json_object_get(tot, "start_ms") ? json_object_get(tot, "start_ms") : json_null());
  json_object_set(o, "duration_s", json_object_get(tot, "duration_s"));
  json_object_set(o, "requests", json_object_get(tot, "requests"));
  json_object_set(o, "errors", json_object_get(tot, "errors"));
  json_object_set(o, "rps", json_object_get(tot, "rps"));
  json_object_set(o, "p99_all_ms", json_object_get(tot, "p99_ms"));
  json_object_set_new(o, "thresholds_ok", json_boolean(ok));
  json_object_set_new(o, "p50_ms", by_name(summary, "p50_ms"));
  json_object_set_new(o, "p99_ms", by_name(summary, "p99_ms"));
  json_object_set_new(o, "rps_by_name", by_name(summary, "rps"));
  return o;
}

int history_append(const char *runs_root, const char *run_dir, const json_t *summary) {
  char path[4096];
  json_t *line = index_line(run_dir, summary);
  char *text = line ? json_dumps(line, JSON_COMPACT | JSON_REAL_PRECISION(10)) : NULL;
  FILE *f;
  int rc = 0;

  json_decref(line);
  if (!text) return -ENOMEM;
  secret_scrub(text);
  snprintf(path, sizeof path, "%s/%s", runs_root, HISTORY_INDEX);
  f = fopen(path, "a");
  if (!f) {
    rc = -errno;
    goto out;
  }
  if (fprintf(f, "%s\n", text) < 0 || fflush(f) != 0 || fdatasync(fileno(f)) != 0) rc = errno ? -errno : -EIO;
  if (fclose(f) != 0 && rc == 0) rc = -errno;
out:
  free(text);
  return rc;
}

/* Replace an earlier line with the same dir, or append. */
static void put_run(json_t *runs, json_t *line) {
  const char *key = json_object_get(line, "abs") ? "abs" : "dir";
  const char *dir = json_string_value(json_object_get(line, key));
  const json_t *r;
  size_t i;

  json_array_foreach(runs, i, r) {
    const char *d = json_string_value(json_object_get(r, key));
    if (dir && d && strcmp(dir, d) == 0) {
      json_array_set_new(runs, i, line);
      return;
    }
  }
  json_array_append_new(runs, line);
}

int history_load(const char *runs_root, json_t **out, int *bad_lines) {
  char path[4096];
  json_t *runs, *line;
  jsonlines *j;
  int rc;

  snprintf(path, sizeof path, "%s/%s", runs_root, HISTORY_INDEX);
  if ((rc = jsonlines_open(path, NULL, NULL, &j)) < 0) return rc;
  runs = json_array();
  while ((line = jsonlines_next(j))) put_run(runs, line);
  if (bad_lines) *bad_lines = jsonlines_skipped(j);
  jsonlines_close(j);
  *out = runs;
  return 0;
}

/* {"x":[0..],"labels":[...],"series":[{"name","y":[...]}]}: "(all)" first, then up to HISTORY_TREND_NAMES
 * names, the first recorded from the earliest run shown on (more lines than that are unreadable). */
static json_t *trend_data(const json_t *runs, size_t from) {
  json_t *x = json_array(), *labels = json_array(), *series = json_array(), *all = json_array(),
         *names = json_array();
  const char *key;
  json_t *v;

  for (size_t i = from; i < json_array_size(runs); i++) {
    const json_t *r = json_array_get(runs, i);
    char stamp[32], label[32];
    rundir_format_time((int64_t)json_integer_value(json_object_get(r, "start_ms")), stamp, sizeof stamp);
    snprintf(label, sizeof label, "%.5s %.2s:%.2s", stamp + 5, stamp + 11, stamp + 14); /* "11-24 21:30" */
    json_array_append_new(x, json_integer((json_int_t)(i - from)));
    json_array_append_new(labels, json_string(label));
    json_array_append(all, json_object_get(r, "p99_all_ms") ? json_object_get(r, "p99_all_ms") : json_null());
    json_object_foreach(json_object_get(r, "p99_ms"), key, v) {
      bool seen = false;
      for (size_t k = 0; k < json_array_size(names); k++)
        seen |= !strcmp(json_string_value(json_array_get(names, k)), key);
      if (!seen && json_array_size(names) < HISTORY_TREND_NAMES) json_array_append_new(names, json_string(key));
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
    rundir_format_time((int64_t)json_integer_value(json_object_get(r, "start_ms")), stamp, sizeof stamp);
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

int history_write_html(const json_t *runs, size_t from, const char *path) {
  json_t *d = trend_data(runs, from);
  char *data = d ? json_dumps(d, JSON_COMPACT | JSON_ESCAPE_SLASH | JSON_REAL_PRECISION(6)) : NULL;
  page pg = {runs, from, data};
  int rc = data ? rundir_write_stream(NULL, path, fill_html, &pg) : -ENOMEM;

  free(data);
  json_decref(d);
  return rc;
}
