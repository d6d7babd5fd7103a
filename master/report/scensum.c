/* scensum.c - the run's scenarios in summary.json and report.html (scensum.h). */
#include "master/report/scensum.h"

#include <string.h>

#include "master/report/htmltable.h"

/* The custom metric called name in cum, or NULL. */
static const metric_state *metric_named(const stats_interval *cum, const char *name) {
  for (size_t i = 0; i < cum->nmetrics; i++)
    if (!strcmp(cum->metrics[i].name, name)) return &cum->metrics[i];
  return NULL;
}

/* One scenario of options.scenarios (run.scenarios entry sc): what it was asked to do, and from its own
 * metrics (worker/vu.h vu_scenario) its iterations, iteration_duration, requests, errors and latency. */
static json_t *listed_json(const json_t *sc, const stats_interval *cum, double secs) {
  const char *name = json_string_value(json_object_get(sc, "name"));
  char key[128];
  const metric_state *it, *req, *failed;
  json_t *o = json_deep_copy(sc);
  snprintf(key, sizeof key, "iteration_duration{scenario=%s}", name ? name : "");
  it = metric_named(cum, key);
  snprintf(key, sizeof key, "http_req_duration{scenario=%s}", name ? name : "");
  req = metric_named(cum, key);
  snprintf(key, sizeof key, "http_req_failed{scenario=%s}", name ? name : "");
  failed = metric_named(cum, key);
  json_object_set_new(o, "iterations", json_integer(it ? it->count : 0));
  json_object_set_new(o, "iterations_per_s", json_real(secs > 0 && it ? (double)it->count / secs : 0.0));
  if (it) json_object_set_new(o, "iteration_duration", metric_json(it, 1));
  json_object_set_new(o, "requests", json_integer(req ? req->count : 0));
  json_object_set_new(o, "errors", json_integer(failed ? failed->passes : 0));
  json_object_set_new(
      o, "error_rate",
      json_real(failed && failed->count ? (double)failed->passes / (double)failed->count : 0.0));
  json_object_set_new(o, "rps", json_real(secs > 0 && req ? (double)req->count / secs : 0.0));
  json_object_set_new(o, "p50_ms", json_real(req ? metric_percentile(req, 50) : 0.0));
  json_object_set_new(o, "p95_ms", json_real(req ? metric_percentile(req, 95) : 0.0));
  json_object_set_new(o, "p99_ms", json_real(req ? metric_percentile(req, 99) : 0.0));
  return o;
}

json_t *scensum_json(const json_t *run, const stats_interval *cum, double secs) {
  const json_t *listed = json_object_get(run, "scenarios");
  const char *name = json_string_value(json_object_get(run, "scenario"));
  if (json_array_size(listed) > 0) {
    json_t *all = json_array(), *sc;
    size_t i;
    json_array_foreach(listed, i, sc) json_array_append_new(all, listed_json(sc, cum, secs));
    return all;
  }
  json_t *o = json_pack("{s:s,s:I,s:f}", "name", name ? name : "", "iterations", (json_int_t)cum->iterations,
                        "iterations_per_s", secs > 0 ? (double)cum->iterations / secs : 0.0);
  const metric_state *m = metric_named(cum, "iteration_duration");
  if (o && m && m->kind == METRIC_TREND) json_object_set_new(o, "iteration_duration", metric_json(m, 1));
  return json_pack("[o]", o);
}

void scensum_html(FILE *out, const json_t *sum) {
  static const htmltable_col cols[] = {
      {"scenario", "name", HTMLTABLE_TEXT, NULL},
      {"executor", "executor", HTMLTABLE_TEXT, NULL},
      {"exec", "exec", HTMLTABLE_TEXT, NULL},
      {"start s", "start_s", HTMLTABLE_NUMBER, NULL},
      {"iterations", "iterations", HTMLTABLE_COUNT, NULL},
      {"requests", "requests", HTMLTABLE_COUNT, NULL},
      {"errors", "errors", HTMLTABLE_ERRORS, NULL},
      {"rps", "rps", HTMLTABLE_RATE, NULL},
      {"p50 ms", "p50_ms", HTMLTABLE_MS, NULL},
      {"p95 ms", "p95_ms", HTMLTABLE_MS, NULL},
      {"p99 ms", "p99_ms", HTMLTABLE_MS, NULL},
  };
  const json_t *list = json_object_get(sum, "scenarios");

  if (!json_object_get(json_array_get(list, 0), "executor")) return;
  htmltable_write(out, "scenarios", "Scenarios", cols, sizeof cols / sizeof cols[0], list);
}
