/* webapi.h - the live page and the control API of a running master (--web): the page and its assets,
 * GET /api/stats, /api/run, /api/chart, /api/events (server-sent events, one per interval), /report.html,
 * /api/summary, and POST /api/scale, /api/stop. It reads the run's figures as they come (results.c calls
 * webapi_interval) and steers the run through the master's callbacks (webapi_ops). */
#ifndef LOADCTL_WEBAPI_H
#define LOADCTL_WEBAPI_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "common/stats.h"
#include "master/registry.h"
#include "master/report/report.h"

typedef struct webapi webapi;

/* What the page may do to the run; each returns 0, or a negative errno with the reason in why:
 * -EINVAL (400: wrong for this run, e.g. users on an open-model run), -EBUSY / -ERANGE (409: no run is
 * going, or it is over), -ENOSPC (409: too many changes). */
typedef struct webapi_ops {
  int (*scale)(void *ud, double target, bool is_rate, char *why, size_t len);
  int (*stop)(void *ud, char *why, size_t len);
  const char *(*state)(void *ud); /* "waiting", "starting", "running", "stopping", "finishing", "idle" */
  /* POST /api/next between runs (loadctl master --web): another run with this target (users or rate) and
   * duration (0 = the scenario's); NULL while a run goes (409). */
  int (*next)(void *ud, double target, bool is_rate, int64_t duration_ns, char *why, size_t len);
} webapi_ops;

typedef struct webapi_config {
  const char *listen;  /* --web [HOST:]PORT */
  const char *token;   /* bearer token or NULL */
  const char *run_id;  /* borrowed for the webapi's life */
  const char *dir;     /* run directory */
  const char *model;   /* "closed" or "open" */
  json_t *run_info;    /* run.json content (borrowed, read on /api/run) */
  const report *rep;   /* the run's report (borrowed: /api/chart), NULL between runs */
  registry *reg;       /* workers (borrowed, may be NULL) */
  bool next_offered;   /* the page may start another run when this one ends (loadctl master --web) */
  const json_t *final; /* between runs: the last run's "done" event (copied), else NULL */
  const webapi_ops *ops;
  void *ud;
} webapi_config;

/* Start serving on loop. *out owned by the caller, release with webapi_close. 0 or negative errno with the
 * message in err (-EINVAL: bad --web address or a non-loopback bind without --web-token). */
int webapi_open(uv_loop_t *loop, const webapi_config *cfg, webapi **out, char *err, size_t errlen);

/* The page's address ("http://127.0.0.1:8089/"). */
const char *webapi_url(const webapi *a);

/* One merged interval: the /api/stats figures are replaced and an "interval" event goes to every open
 * page. ths: the thresholds evaluated so far (borrowed JSON array, may be NULL). NULL a is fine. */
void webapi_interval(webapi *a, const stats_interval *iv, const stats_interval *cumulative, const json_t *ths,
                     int64_t elapsed_ns);

/* A change was made (run.json "changes" entry, borrowed): a "change" event (the page marks its charts). */
void webapi_change(webapi *a, const json_t *change);

/* The run ended: a "done" event with the status, the report's link, summary.json's totals, thresholds and
 * findings (summary borrowed, may be NULL) and "next" (whether the page may start another run). */
void webapi_finished(webapi *a, const char *status, const json_t *summary);

/* The "done" event for a run directory's files (run.json status, summary.json): what the page between
 * runs shows. New reference; NULL when dir has no run.json. */
json_t *webapi_final_of(const char *dir, bool next_offered);

/* The text of every reply and event the page reads (malloc'd, NULL for NULL or -ENOMEM): reals with
 * RUNDIR_JSON_REALS' 15 digits, so a finding's window (epoch seconds) and large figures come exact. */
char *webapi_json_text(const json_t *v);

/* Open event streams (bench). */
size_t webapi_clients(const webapi *a);

/* Stop serving (streams get what was queued, then close); memory freed once the loop closed the handles. */
void webapi_close(webapi *a);

#endif
