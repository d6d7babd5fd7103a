/* scensum.c - the run's scenarios in summary.json and report.html (scensum.h). */
#include "master/report/scensum.h"

#include <string.h>

#include "master/report/html.h"

static const char *jstr(const json_t *o, const char *key, const char *dflt) {
  const char *s = json_string_value(json_object_get(o, key));
  return s ? s : dflt;
}

static double jnum(const json_t *o, const char *key) {
  return json_number_value(json_object_get(o, key));
}

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
  const json_t *list = json_object_get(sum, "scenarios");
  size_t i;
  json_t *sc;

  if (!json_object_get(json_array_get(list, 0), "executor")) return;
  fputs(
      "<section id=\"scenarios\"><h2>Scenarios</h2><table><tr><th class=\"l\">scenario</th>"
      "<th class=\"l\">executor</th><th class=\"l\">exec</th><th>start s</th><th>iterations</th>"
      "<th>requests</th><th>errors</th><th>rps</th><th>p50 ms</th><th>p95 ms</th><th>p99 ms</th></tr>\n",
      out);
  json_array_foreach(list, i, sc) {
    fputs("<tr><td class=\"l\">", out);
    html_escape(out, jstr(sc, "name", ""));
    fputs("</td><td class=\"l\">", out);
    html_escape(out, jstr(sc, "executor", ""));
    fputs("</td><td class=\"l\">", out);
    html_escape(out, jstr(sc, "exec", ""));
    fprintf(out, "</td><td>%g</td><td>%.0f</td><td>%.0f</td><td%s>%.0f</td><td>%.1f</td>",
            jnum(sc, "start_s"), jnum(sc, "iterations"), jnum(sc, "requests"),
            jnum(sc, "errors") > 0 ? " class=\"err\"" : "", jnum(sc, "errors"), jnum(sc, "rps"));
    fprintf(out, "<td>%.2f</td><td>%.2f</td><td>%.2f</td></tr>\n", jnum(sc, "p50_ms"), jnum(sc, "p95_ms"),
            jnum(sc, "p99_ms"));
  }
  fputs("</table></section>\n", out);
}
