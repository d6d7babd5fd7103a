/* results.h - where the master's merged numbers go: thresholds (parsed before any load), the run
 * directory (written as the run goes), the live view, the report, JUnit and the run history; used by
 * master.c so that the protocol loop stays apart from the files. */
#ifndef LOADCTL_RESULTS_H
#define LOADCTL_RESULTS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/stats.h"
#include "master/master.h"
#include "master/registry.h"

typedef struct results results;

/* Parse thresholds, create the run directory (run.json "waiting"), report and live view. -EINVAL for a bad
 * threshold (a scenario error: exit 1), other negative errno for the run directory; message in err. */
int results_open(const master_config *cfg, const char *run_id, results **out, char *err, size_t errlen);

/* The first fatal error a worker reported before the load (scenario rejected); NULL when none. */
void results_note_error(results *r, const char *text);
const char *results_error(const results *r);

/* The load starts at start_wall_ns with the workers in reg: run.json "running"; profile collectors start. */
void results_started(results *r, int64_t start_wall_ns, registry *reg, const char *run_id);

/* One closed, merged interval: run directory, report, live view. Returns true when an abort_on_fail
 * threshold failed. */
bool results_interval(results *r, const stats_interval *iv, int64_t elapsed_ns);

/* Cumulative merged stats so far (borrowed). */
const stats_interval *results_cumulative(const results *r);

/* End: thresholds, summary/CSV/HTML, JUnit, history, run.json "done"/"aborted", final table, the report's
 * path on stdout. Returns 0, 99 (thresholds failed) or 2 (nothing measured / report not written). */
int results_finish(results *r, bool aborted, int64_t late_intervals, registry *reg);

/* --web: the live page server (borrowed) gets every interval, change and the end. NULL = none. */
struct webapi;
void results_set_web(results *r, struct webapi *web);

/* A change made while the run goes (a run.json "changes" entry: at_ms, elapsed_s, kind, label, ...;
 * stolen): appended to run.json now, marked on the report's charts, sent to the live page. */
void results_note_change(results *r, json_t *change);

/* For the live page: the report so far, run.json's content and the run directory (borrowed). */
const struct report *results_report(const results *r);
json_t *results_run_info(const results *r);
const char *results_dir(const results *r);

/* Free everything; failed marks run.json "failed" when the run never finished. NULL is fine. */
void results_close(results *r, bool failed);

#endif
