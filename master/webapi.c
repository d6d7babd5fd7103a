/* webapi.c - the routes of the master's --web server: the live page, its JSON API and event stream, and
 * the control requests (scale, stop), with a clear 400 naming what is wrong in a bad body. */
#include "master/webapi.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/hist.h"
#include "common/rundir.h"
#include "master/profile/timeline.h"
#include "master/report/html.h"
#include "master/report/htmlasset.h"
#include "master/web.h"

#define TARGET_MAX 10000000.0 /* users or iterations/s a change may ask for */
#define FAILURES_SHOWN 20
#define WORKERS_SHOWN 100 /* workers in each interval event (all of them in /api/run) */

struct webapi {
  webapi_config cfg;
  web *srv;
  json_t *last;  /* the last interval's figures (/api/stats), NULL before the first */
  json_t *final; /* the "done" event, NULL while the run goes */
  timeline *tl;  /* the target's heap and GC so far (/api/timeline), built as windows arrive */
};

static const char *const worker_states[] = {"joined", "assigned", "ready", "running", "finished", "failed"};

char *webapi_json_text(const json_t *v) {
  return v ? json_dumps(v, JSON_COMPACT | RUNDIR_JSON_REALS) : NULL;
}

static void reply_json(web_request *req, int status, json_t *body) {
  char *text = webapi_json_text(body);
  if (text)
    web_respond(req, status, "application/json", text, strlen(text));
  else
    web_respond(req, 500, "application/json", "{\"error\":\"out of memory\"}", 25);
  free(text);
  json_decref(body);
}

static void reply_error(web_request *req, int status, const char *why) {
  reply_json(req, status, json_pack("{s:s}", "error", why));
}

/* The first max workers in join order (SIZE_MAX: all). */
static json_t *workers_json(registry *reg, size_t max) {
  json_t *arr = json_array();
  for (size_t i = 0; reg && i < registry_count(reg) && i < max; i++) {
    registry_worker *w = registry_at(reg, i);
    const char *state = w->state >= 0 && w->state <= REGISTRY_FAILED ? worker_states[w->state] : "?";
    json_t *o =
        json_pack("{s:s,s:s,s:i,s:i,s:s,s:b,s:I,s:I}", "id", w->id, "hostname", w->hostname, "threads",
                  w->threads, "cores", w->cores, "state", w->live ? state : "missing", "live", w->live,
                  "users", (json_int_t)w->users, "intervals", (json_int_t)w->intervals);
    json_object_set_new(o, "cpu", w->cpu_samples ? json_real(w->cpu_permille / 10.0) : json_null());
    json_array_append_new(arr, o);
  }
  return arr;
}

/* ---- interval figures ---- */

static json_t *point(const char *name, int64_t count, int64_t errors, const hist *h, double secs) {
  json_t *o = json_pack("{s:s,s:I,s:I,s:f,s:f}", "name", name, "count", (json_int_t)count, "errors",
                        (json_int_t)errors, "rps", (double)count / secs, "eps", (double)errors / secs);
  static const double pcts[] = {50, 90, 95, 99};
  static const char *const keys[] = {"p50_ms", "p90_ms", "p95_ms", "p99_ms"};

  for (size_t k = 0; k < 4; k++)
    json_object_set_new(o, keys[k], count > 0 && h ? json_real(hist_pct_ms(h, pcts[k])) : json_null());
  json_object_set_new(o, "max_ms",
                      count > 0 && h ? json_real(clock_us_to_ms((double)hist_max(h))) : json_null());
  return o;
}

/* Totals and per-name cumulative figures (count, errors, p95) for the table. */
static json_t *totals_json(const stats_interval *cum, double elapsed_s, json_t *names) {
  int64_t count = 0, errors = 0;
  hist *all = NULL;
  json_t *t;

  hist_create(&all);
  for (size_t i = 0; i < cum->nentries; i++) {
    const stats_entry *e = &cum->entries[i];
    count += e->count;
    errors += e->errors;
    if (all && e->latency) hist_add(all, e->latency);
    for (size_t k = 0; k < json_array_size(names); k++) {
      json_t *n = json_array_get(names, k);
      if (strcmp(json_string_value(json_object_get(n, "name")), e->name) != 0) continue;
      json_object_set_new(n, "total_count", json_integer(e->count));
      json_object_set_new(n, "total_errors", json_integer(e->errors));
      json_object_set_new(n, "total_p95_ms", e->count ? json_real(hist_pct_ms(e->latency, 95)) : json_null());
    }
  }
  t = point("(all)", count, errors, all, elapsed_s > 0 ? elapsed_s : 1);
  json_object_set_new(t, "error_rate", json_real(count ? (double)errors / (double)count : 0));
  hist_destroy(all);
  return t;
}

static json_t *failures_json(const stats_interval *cum) {
  json_t *arr = json_array();
  for (size_t i = 0; i < cum->nentries; i++)
    for (int k = 0; k < cum->entries[i].nfailures && json_array_size(arr) < FAILURES_SHOWN; k++) {
      const stats_failure *f = &cum->entries[i].failures[k];
      json_array_append_new(
          arr, json_pack("{s:s,s:s,s:s,s:I}", "name", cum->entries[i].name, "kind", stats_err_name(f->kind),
                         "message", f->message, "count", (json_int_t)f->count));
    }
  return arr;
}

static json_t *interval_json(const webapi *a, const stats_interval *iv, const stats_interval *cum,
                             int64_t elapsed_ns) {
  double secs = iv->interval_ms > 0 ? clock_ms_to_s((double)iv->interval_ms) : 1.0;
  int64_t count = 0, errors = 0;
  json_t *o, *names = json_array(), *all;
  hist *h = NULL;

  hist_create(&h);
  for (size_t i = 0; i < iv->nentries; i++) {
    const stats_entry *e = &iv->entries[i];
    json_t *p = point(e->name, e->count, e->errors, e->latency, secs);
    json_object_set_new(p, "method", json_string(e->method));
    json_array_append_new(names, p);
    count += e->count;
    errors += e->errors;
    if (h && e->latency) hist_add(h, e->latency);
  }
  all = point("(all)", count, errors, h, secs);
  hist_destroy(h);
  o = json_pack("{s:s,s:s,s:f,s:I,s:I,s:I,s:f,s:I,s:I,s:f,s:f}", "state", a->cfg.ops->state(a->cfg.ud),
                "model", a->cfg.model, "elapsed_s", clock_ns_to_s(elapsed_ns), "start_ms",
                (json_int_t)iv->start_ms, "interval_ms", (json_int_t)iv->interval_ms, "users",
                (json_int_t)iv->users, "rate", iv->rate, "dropped", (json_int_t)iv->dropped, "iterations",
                (json_int_t)iv->iterations, "rps", (double)count / secs, "eps", (double)errors / secs);
  json_object_set_new(o, "all", all);
  json_object_set_new(o, "totals", totals_json(cum, clock_ns_to_s(elapsed_ns), names));
  json_object_set_new(o, "names", names);
  json_object_set_new(o, "failures", failures_json(cum));
  return o;
}

static void broadcast(webapi *a, const char *event, const json_t *data) {
  char *text;
  if (!a || web_sse_clients(a->srv) == 0) return;
  text = webapi_json_text(data);
  if (text) web_sse_send(a->srv, event, text);
  free(text);
}

void webapi_interval(webapi *a, const stats_interval *iv, const stats_interval *cumulative, const json_t *ths,
                     int64_t elapsed_ns) {
  json_t *o;
  if (!a) return;
  o = interval_json(a, iv, cumulative, elapsed_ns);
  json_object_set_new(o, "thresholds", ths ? json_deep_copy(ths) : json_array());
  json_object_set_new(o, "workers", workers_json(a->cfg.reg, WORKERS_SHOWN));
  json_object_set_new(o, "workers_total",
                      json_integer(a->cfg.reg ? (json_int_t)registry_count(a->cfg.reg) : 0));
  json_decref(a->last);
  a->last = o;
  broadcast(a, "interval", o);
}

void webapi_change(webapi *a, const json_t *change) {
  broadcast(a, "change", change);
}

void webapi_finished(webapi *a, const char *status, const json_t *summary) {
  json_t *o;
  if (!a) return;
  o = json_pack("{s:s,s:s,s:s,s:b}", "status", status, "report", "/report.html", "dir", a->cfg.dir, "next",
                a->cfg.next_offered);
  if (summary) {
    json_object_set(o, "totals", json_object_get(summary, "totals"));
    json_object_set(o, "thresholds", json_object_get(summary, "thresholds"));
    json_object_set(o, "findings", json_object_get(summary, "findings"));
  }
  json_decref(a->final);
  a->final = o;
  broadcast(a, "done", o);
}

static json_t *load_json(const char *dir, const char *name) {
  char path[4200];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  return json_load_file(path, 0, NULL);
}

json_t *webapi_final_of(const char *dir, bool next_offered) {
  json_t *run = load_json(dir, RUNDIR_RUN), *sum = load_json(dir, RUNDIR_SUMMARY), *o;
  const char *status = json_string_value(json_object_get(run, "status"));

  if (!run) {
    json_decref(sum);
    return NULL;
  }
  o = json_pack("{s:s,s:s,s:s,s:b}", "status", status ? status : "unknown", "report", "/report.html", "dir",
                dir, "next", next_offered);
  if (sum) {
    json_object_set(o, "totals", json_object_get(sum, "totals"));
    json_object_set(o, "thresholds", json_object_get(sum, "thresholds"));
    json_object_set(o, "findings", json_object_get(sum, "findings"));
  }
  json_decref(run);
  json_decref(sum);
  return o;
}

size_t webapi_clients(const webapi *a) {
  return a ? web_sse_clients(a->srv) : 0;
}

/* ---- routes ---- */

static void get_stats(webapi *a, web_request *req) {
  json_t *o = a->last ? json_deep_copy(a->last)
                      : json_pack("{s:I,s:f,s:o}", "users", (json_int_t)0, "rps", 0.0, "names", json_array());
  json_object_set_new(o, "state", json_string(a->cfg.ops->state(a->cfg.ud)));
  json_object_set_new(o, "workers", workers_json(a->cfg.reg, WORKERS_SHOWN));
  reply_json(req, 200, o);
}

static void get_run(webapi *a, web_request *req) {
  json_t *o = json_pack("{s:s,s:s,s:s,s:O,s:o,s:b}", "run_id", a->cfg.run_id, "state",
                        a->cfg.ops->state(a->cfg.ud), "dir", a->cfg.dir, "run", a->cfg.run_info, "workers",
                        workers_json(a->cfg.reg, SIZE_MAX), "next", a->cfg.next_offered);
  if (a->final) json_object_set(o, "final", a->final);
  reply_json(req, 200, o);
}

static void get_file(webapi *a, web_request *req, const char *name, const char *type) {
  char path[4200], *text = NULL;
  size_t len = 0;
  FILE *f;

  snprintf(path, sizeof path, "%s/%s", a->cfg.dir, name);
  if (!a->final || !(f = fopen(path, "rb"))) {
    reply_error(req, 404,
                a->final ? "the report was not written (see the master's log)"
                         : "the report is written when the run ends");
    return;
  }
  if (fseek(f, 0, SEEK_END) == 0 && (len = (size_t)ftell(f)) > 0 && fseek(f, 0, SEEK_SET) == 0 &&
      (text = malloc(len)) && fread(text, 1, len, f) == len)
    web_respond(req, 200, type, text, len);
  else
    reply_error(req, 500, "cannot read the report");
  fclose(f);
  free(text);
}

/* "duration": "30s" or seconds; 0 or -EINVAL with why. */
static int parse_duration(json_t *v, int64_t *out_ns, char *why, size_t len) {
  double secs = json_number_value(v);
  if (json_is_string(v) && clock_parse_duration(json_string_value(v), out_ns) == 0 && *out_ns > 0) return 0;
  if (json_is_number(v) && isfinite(secs) && secs > 0 && secs <= 86400.0 * 365) {
    *out_ns = clock_s_to_ns(secs);
    return 0;
  }
  return snprintf(why, len, "\"duration\" must be a duration like \"30s\" or \"2m\", or seconds > 0"),
         -EINVAL;
}

/* {"users": N} or {"rate": R}, and with duration_ns (POST /api/next) an optional "duration"; 0 or 400 with
 * the reason in why. */
static int parse_target(const web_request *req, double *target, bool *is_rate, int64_t *duration_ns,
                        char *why, size_t len) {
  json_error_t jerr;
  json_t *body;
  const char *key = NULL, *k;
  json_t *v = NULL, *x;

  if (req->content_type[0] && strncmp(req->content_type, "application/json", 16) != 0)
    return snprintf(why, len, "Content-Type '%s' is not application/json", req->content_type), -EINVAL;
  if (!(body = json_loadb(req->body, req->body_len, 0, &jerr)))
    return snprintf(why, len, "body:%d:%d: not JSON: %s", jerr.line, jerr.column, jerr.text), -EINVAL;
  if (!json_is_object(body)) {
    json_decref(body);
    return snprintf(why, len, "the body must be an object: {\"users\": 50} or {\"rate\": 20}"), -EINVAL;
  }
  json_object_foreach(body, k, x) {
    if (duration_ns && strcmp(k, "duration") == 0) {
      if (parse_duration(x, duration_ns, why, len) == 0) continue;
      json_decref(body);
      return -EINVAL;
    }
    if (strcmp(k, "users") != 0 && strcmp(k, "rate") != 0) {
      snprintf(why, len, "unknown key '%.64s' (expected \"users\" or \"rate\"%s)", k,
               duration_ns ? " and \"duration\"" : "");
      json_decref(body);
      return -EINVAL;
    }
    if (key) {
      json_decref(body);
      return snprintf(why, len, "give one of \"users\" or \"rate\", not both"), -EINVAL;
    }
    key = k, v = x;
  }
  if (!key) {
    json_decref(body);
    return snprintf(why, len, "the body names no target: {\"users\": 50} or {\"rate\": 20}"), -EINVAL;
  }
  *is_rate = strcmp(key, "rate") == 0;
  *target = json_number_value(v);
  if (!json_is_number(v) || !isfinite(*target) || *target < 0 || *target > TARGET_MAX ||
      (!*is_rate && *target != floor(*target))) {
    snprintf(why, len, "\"%s\" must be a %snumber from 0 to %.0f", key, *is_rate ? "" : "whole ", TARGET_MAX);
    json_decref(body);
    return -EINVAL;
  }
  json_decref(body);
  return 0;
}

static int status_of(int rc) {
  return rc == -EINVAL ? 400 : 409;
}

static void post_scale(webapi *a, web_request *req) {
  char why[512] = "";
  double target = 0;
  bool is_rate = false;
  int rc = parse_target(req, &target, &is_rate, NULL, why, sizeof why);

  if (rc == 0) rc = a->cfg.ops->scale(a->cfg.ud, target, is_rate, why, sizeof why);
  if (rc < 0) {
    reply_error(req, status_of(rc), why);
    return;
  }
  reply_json(req, 200, json_pack("{s:s,s:f}", "scaled", is_rate ? "rate" : "users", "target", target));
}

static void post_next(webapi *a, web_request *req) {
  char why[512] = "";
  double target = 0;
  bool is_rate = false;
  int64_t duration_ns = 0;
  int rc;

  if (!a->cfg.next_offered) {
    reply_error(req, 409, "this master runs one test (start `loadctl master --web` for run after run)");
    return;
  }
  if (!a->cfg.ops->next) {
    reply_error(req, 409, "a run is going; stop it first");
    return;
  }
  rc = parse_target(req, &target, &is_rate, &duration_ns, why, sizeof why);
  if (rc == 0) rc = a->cfg.ops->next(a->cfg.ud, target, is_rate, duration_ns, why, sizeof why);
  if (rc < 0)
    reply_error(req, status_of(rc), why);
  else
    reply_json(req, 200,
               json_pack("{s:s,s:f,s:f}", "next", is_rate ? "rate" : "users", "target", target, "duration_s",
                         clock_ns_to_s(duration_ns)));
}

static void post_stop(webapi *a, web_request *req) {
  char why[512] = "";
  int rc = a->cfg.ops->stop(a->cfg.ud, why, sizeof why);
  if (rc < 0)
    reply_error(req, status_of(rc), why);
  else
    reply_json(req, 200, json_pack("{s:s}", "state", a->cfg.ops->state(a->cfg.ud)));
}

typedef struct asset {
  const char *path, *type, *text;
} asset;

static bool serve_asset(web_request *req) {
  const asset assets[] = {{"/", "text/html; charset=utf-8", htmlasset_live_html},
                          {"/assets/style.css", "text/css; charset=utf-8", htmlasset_css},
                          {"/assets/guard.js", "text/javascript; charset=utf-8", htmlasset_guard_js},
                          {"/assets/chart.js", "text/javascript; charset=utf-8", htmlasset_chart_js},
                          {"/assets/live.js", "text/javascript; charset=utf-8", htmlasset_live_js}};
  for (size_t i = 0; i < sizeof assets / sizeof assets[0]; i++)
    if (strcmp(req->path, assets[i].path) == 0) {
      web_respond(req, 200, assets[i].type, assets[i].text, strlen(assets[i].text));
      return true;
    }
  return false;
}

static void get_chart(webapi *a, web_request *req) {
  json_t *d;
  if (!a->cfg.rep) {
    reply_error(req, 404, "no run is going");
    return;
  }
  d = html_chart_data(a->cfg.rep);
  reply_json(req, d ? 200 : 500, d);
}

/* The target's heap, allocation rate and GC share so far (timeline.h): only the windows saved since the
 * last call are decoded. */
static void get_timeline(webapi *a, web_request *req) {
  if (!a->tl && timeline_create(&a->tl) < 0) {
    reply_error(req, 500, "out of memory");
    return;
  }
  if (timeline_update(a->tl, a->cfg.dir) < 0) {
    reply_error(req, 500, "out of memory");
    return;
  }
  reply_json(req, 200, timeline_json(a->tl));
}

static void handle(void *ud, web_request *req) {
  webapi *a = ud;
  const char *p = req->path;
  bool get = strcmp(req->method, "GET") == 0, post = strcmp(req->method, "POST") == 0;

  if (get && serve_asset(req))
    return;
  else if (get && strcmp(p, "/api/stats") == 0)
    get_stats(a, req);
  else if (get && strcmp(p, "/api/run") == 0)
    get_run(a, req);
  else if (get && strcmp(p, "/api/chart") == 0)
    get_chart(a, req);
  else if (get && strcmp(p, "/api/timeline") == 0)
    get_timeline(a, req);
  else if (get && strcmp(p, "/api/events") == 0)
    web_sse_begin(req);
  else if (get && strcmp(p, "/report.html") == 0)
    get_file(a, req, RUNDIR_HTML, "text/html; charset=utf-8");
  else if (get && strcmp(p, "/api/summary") == 0)
    get_file(a, req, RUNDIR_SUMMARY, "application/json");
  else if (post && strcmp(p, "/api/scale") == 0)
    post_scale(a, req);
  else if (post && strcmp(p, "/api/stop") == 0)
    post_stop(a, req);
  else if (post && strcmp(p, "/api/next") == 0)
    post_next(a, req);
  else if (strcmp(p, "/api/scale") == 0 || strcmp(p, "/api/stop") == 0 || strcmp(p, "/api/next") == 0)
    reply_error(req, 405, "use POST");
  else
    reply_error(req, 404, "no such page; see / and /api/stats, /api/run, /api/scale, /api/stop");
}

int webapi_open(uv_loop_t *loop, const webapi_config *cfg, webapi **out, char *err, size_t errlen) {
  webapi *a = calloc(1, sizeof *a);
  web_config wc = {.listen = cfg->listen, .token = cfg->token, .handler = handle};
  int rc;

  if (!a) return -ENOMEM;
  a->cfg = *cfg;
  a->cfg.final = NULL;
  a->final = cfg->final ? json_deep_copy(cfg->final) : NULL;
  wc.ud = a;
  rc = web_start(loop, &wc, &a->srv, err, errlen);
  if (rc < 0) {
    free(a);
    return rc;
  }
  *out = a;
  return 0;
}

const char *webapi_url(const webapi *a) {
  return web_url(a->srv);
}

void webapi_close(webapi *a) {
  if (!a) return;
  web_close(a->srv);
  json_decref(a->last);
  json_decref(a->final);
  timeline_free(a->tl);
  free(a);
}
