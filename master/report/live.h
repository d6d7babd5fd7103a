/* live.h - the terminal view while a run goes: on a TTY a table redrawn in place every interval (per
 * name: reqs, rps, errors with %, p50, p95, p99, max; totals; users or rate; elapsed/remaining; a
 * progress bar), colour unless NO_COLOR; otherwise one plain line per interval. Final table at the end. */
#ifndef LOADCTL_LIVE_H
#define LOADCTL_LIVE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "common/stats.h"
#include "master/thresholds.h"

typedef struct live live;

/* Should output to fd be a redrawn coloured table? *tty = isatty(fd); *color = tty && NO_COLOR unset
 * (or empty) and TERM != "dumb". */
void live_detect(int fd, bool *tty, bool *color);

/* out is borrowed (stdout usually). duration_ns is the planned run length (0 = unknown: no bar).
 * *lv owned by the caller, release with live_destroy. 0 or -ENOMEM. */
int live_create(FILE *out, bool tty, bool color, int64_t duration_ns, live **lv);
void live_destroy(live *lv);

/* Optional: thresholds shown under the table during the run; abort_on_fail ones are evaluated and
 * coloured. Borrowed until live_destroy. */
void live_set_thresholds(live *lv, thresholds *t);

/* Optional: findings (summary.json's "findings" array, strongest first) listed under the final summary,
 * one line each, the first few. NULL = nothing listed; an empty array says "none". Borrowed until
 * live_destroy. */
void live_set_findings(live *lv, const json_t *findings);

/* Optional, before each live_update: the busiest running worker's CPU (its engine threads' share of
 * their time, in %; < 0 = none known), its id, how many workers report CPU, and whether it has stayed
 * above 90 % (then the figure is flagged: a saturated generator measures itself). id is copied. */
void live_set_cpu(live *lv, double pct, const char *id, size_t nworkers, bool hot);

/* Optional: run.json's "workers" array (with cpu_mean_pct, cpu_max_pct, cpu_hot_s); the final summary
 * names each worker that stayed above 90 % CPU. Borrowed until live_destroy. */
void live_set_workers(live *lv, const json_t *workers);

/* Show one interval. interval = the last merged interval: rps, errors, p50/p95/p99/max and users/rate
 * are that interval's (what a person watching needs); cumulative gives each name's total count so far
 * and the rows' names. Both borrowed for the call only. */
void live_update(live *lv, const stats_interval *interval, const stats_interval *cumulative,
                 int64_t elapsed_ns);

/* The final summary table (both modes): the whole run's figures (exact percentiles of the merged
 * histograms), then thresholds, if set and evaluated, then findings, if set. */
void live_final(live *lv, const stats_interval *cumulative, int64_t elapsed_ns);

#endif
