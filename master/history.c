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
  char *text = line ? json_dumps(line, JSON_COMPACT | RUNDIR_JSON_REALS) : NULL;
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
