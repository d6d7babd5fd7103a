/* cmd_history.c - `loadctl history`: the runs recorded in runs/index.jsonl, newest last; with --name, the
 * p99 trend of one request across runs (a text sparkline) so a slow drift is visible. */
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cmd.h"
#include "common/clock.h"
#include "master/history.h"
#include "master/report/trend.h"

static const char help[] =
    "usage: loadctl history [--runs DIR] [--name REQUEST] [--last N] [--json] [--html FILE]\n"
    "\n"
    "List runs from DIR/index.jsonl (default runs/): time, scenario, status, requests, rps, errors, p99,\n"
    "thresholds. --name shows that request's p99 per run with a trend bar; --html FILE writes a page\n"
    "with the p99 trend across runs of all requests together and of up to 9 request names (the first\n"
    "ones recorded, from the earliest run shown on; --name REQUEST for any other).\n";

static void list_runs(const json_t *runs, size_t from) {
  printf("%-22s %-16s %-8s %10s %10s %8s %10s  %s\n", "start (UTC)", "scenario", "status", "requests", "rps",
         "errors", "p99 ms", "dir");
  for (size_t i = from; i < json_array_size(runs); i++) {
    const json_t *r = json_array_get(runs, i);
    char stamp[32];
    const json_t *ok = json_object_get(r, "thresholds_ok");
    clock_format_wall((int64_t)json_integer_value(json_object_get(r, "start_ms")), stamp, sizeof stamp);
    printf(
        "%-22s %-16.16s %-8.8s %10" JSON_INTEGER_FORMAT " %10.1f %8" JSON_INTEGER_FORMAT " %10.2f  %s%s\n",
        stamp,
        json_string_value(json_object_get(r, "scenario")) ? json_string_value(json_object_get(r, "scenario"))
                                                          : "?",
        json_string_value(json_object_get(r, "status")) ? json_string_value(json_object_get(r, "status"))
                                                        : "?",
        json_integer_value(json_object_get(r, "requests")), json_number_value(json_object_get(r, "rps")),
        json_integer_value(json_object_get(r, "errors")), json_number_value(json_object_get(r, "p99_all_ms")),
        json_string_value(json_object_get(r, "dir")), json_is_false(ok) ? "  (thresholds failed)" : "");
  }
}

static void trend(const json_t *runs, size_t from, const char *name) {
  double max = 0;
  size_t shown = 0;

  for (size_t i = from; i < json_array_size(runs); i++) {
    const json_t *v = json_object_get(json_object_get(json_array_get(runs, i), "p99_ms"), name);
    if (json_is_number(v) && json_number_value(v) > max) max = json_number_value(v);
  }
  printf("p99 of '%s' per run\n", name);
  for (size_t i = from; i < json_array_size(runs); i++) {
    const json_t *r = json_array_get(runs, i), *v = json_object_get(json_object_get(r, "p99_ms"), name);
    char stamp[32];
    int bar;
    if (!json_is_number(v)) continue;
    clock_format_wall((int64_t)json_integer_value(json_object_get(r, "start_ms")), stamp, sizeof stamp);
    bar = max > 0 ? (int)lround(40.0 * json_number_value(v) / max) : 0;
    printf("%-22s %10.2f ms  %.*s\n", stamp, json_number_value(v), bar,
           "########################################");
    shown++;
  }
  if (!shown) printf("(no run recorded a request named '%s')\n", name);
}

int cmd_history(int argc, char **argv) {
  const char *root = "runs", *name = NULL, *html = NULL;
  long last = 0;
  bool as_json = false;
  json_t *runs;
  int bad = 0, rc;
  size_t from = 0;

  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
      fputs(help, stdout);
      return 0;
    } else if (!strcmp(argv[i], "--runs") && i + 1 < argc) {
      root = argv[++i];
    } else if (!strcmp(argv[i], "--name") && i + 1 < argc) {
      name = argv[++i];
    } else if (!strcmp(argv[i], "--last") && i + 1 < argc) {
      char *end;
      last = strtol(argv[++i], &end, 10);
      if (*end || last < 0) return cmd_usage_error("history", "bad --last '%s'", argv[i]);
    } else if (!strcmp(argv[i], "--html") && i + 1 < argc) {
      html = argv[++i];
    } else if (!strcmp(argv[i], "--json")) {
      as_json = true;
    } else {
      return cmd_usage_error("history", "unexpected argument '%s'", argv[i]);
    }
  }
  rc = history_load(root, &runs, &bad);
  if (rc < 0) {
    fprintf(stderr, "loadctl history: no %s/%s (%s); runs are recorded there when they finish\n", root,
            HISTORY_INDEX, strerror(-rc));
    return EXIT_RUNTIME;
  }
  if (bad)
    fprintf(stderr, "loadctl history: %d unreadable line(s) in %s/%s skipped\n", bad, root, HISTORY_INDEX);
  if (last > 0 && json_array_size(runs) > (size_t)last) from = json_array_size(runs) - (size_t)last;
  if (as_json) {
    json_dumpf(runs, stdout, JSON_INDENT(2));
    fputc('\n', stdout);
  } else if (name) {
    trend(runs, from, name);
  } else {
    list_runs(runs, from);
  }
  if (html && trend_write_html(runs, from, html) < 0) {
    fprintf(stderr, "loadctl history: cannot write %s\n", html);
    json_decref(runs);
    return EXIT_RUNTIME;
  }
  if (html) printf("history: %s\n", html);
  json_decref(runs);
  return 0;
}
