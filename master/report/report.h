/* report.h - the end-of-run report: accumulates merged intervals (exact cumulative histograms plus the
 * per-interval series the charts need) and writes summary.json, stats.csv, failures.csv
 * and report.html into a run directory. The same path serves a live run and
 * `loadctl report DIR` (see rebuild.h), so a kill -9'd run is reported like a finished one.
 *
 * How the master uses it (cmd_start / master):
 *   thresholds_parse(opts) -> rundir_open -> rundir_write_run(report_run_json(opts, path)) -> report_create
 *   each interval: rundir_append_interval(rd, iv); report_add_interval(rep, iv);
 *                  live_update(lv, iv, report_cumulative(rep), elapsed);
 *                  thresholds_should_abort(th, report_cumulative(rep), report_duration_s(rep))
 *   end: ok = thresholds_eval(th, report_cumulative(rep), report_duration_s(rep));
 *        report_set_thresholds(rep, th); [profile side: report_set_findings, report_add_html_section]
 *        run.json status "done"; report_write(rep, rundir_path(rd)); history_append(...); live_final. */
#ifndef LOADCTL_REPORT_H
#define LOADCTL_REPORT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "common/options.h"
#include "common/stats.h"
#include "master/thresholds.h"

typedef struct report report;

/* Points kept per series (and ticks kept): a run longer than this many intervals has its older half
 * merged pairwise into coarser buckets whenever the count reaches it, so the newest intervals stay at full
 * resolution, older ones are 2, 4, 8 ... intervals wide, the whole run stays covered and the master's
 * memory for the charts is bounded whatever the run's length. */
#define REPORT_MAX_POINTS 1024

/* One point of a per-name time series (one per name per interval, or a bucket of `intervals` merged
 * intervals); plain data for html/summary. A bucket's count, errors and mean are exact over its intervals
 * and max_ms is their true maximum; its percentiles are the highest of its intervals' percentiles (an
 * upper envelope: per-interval histograms are not kept). */
typedef struct report_point {
  int64_t start_ms, interval_ms;
  int64_t count, errors;
  int64_t intervals;
  double p50_ms, p90_ms, p95_ms, p99_ms, max_ms, mean_ms;
} report_point;

/* One interval's run-level values (a bucket of `intervals` intervals once merged: dropped and iterations
 * summed, users and rate the highest level seen). */
typedef struct report_tick {
  int64_t start_ms, interval_ms;
  int64_t users, dropped, iterations;
  int64_t intervals;
  double rate;
} report_tick;

/* Empty report; owned by the caller, release with report_destroy. 0 or -ENOMEM. */
int report_create(report **out);
void report_destroy(report *r);

/* Fold one merged interval in (copied; iv stays the caller's). 0 or -ENOMEM. */
int report_add_interval(report *r, const stats_interval *iv);

/* Cumulative stats over all intervals added (borrowed, valid until the next add or destroy). */
const stats_interval *report_cumulative(const report *r);
/* Wall span covered: first interval start to last interval end, in seconds (0 before any); when the run
 * info (report_set_run: options.duration_s) says the load was planned to end inside the last interval,
 * the planned duration (the last grid slot then only holds requests that completed after the end). */
double report_duration_s(const report *r);
int64_t report_start_ms(const report *r);
/* Ticks (one per interval or bucket, oldest first; at most REPORT_MAX_POINTS). */
size_t report_ticks(const report *r, const report_tick **out);
/* Intervals folded into buckets of more than one so far (0 while the run is at full resolution). */
int64_t report_merged_intervals(const report *r);
/* Series of one name (index into report_cumulative()->entries order), or the "(all)" series for -1. */
size_t report_series(const report *r, long name_index, const report_point **out);

/* run.json content for these options: scenario, scenario_path, version, options (target, model, users,
 * rate, duration_s, ...) and "thresholds": [{"expr","abort_on_fail"}] (so a rebuild can re-evaluate).
 * The caller adds workers, start_ms, end_ms, status. New reference (NULL on -ENOMEM). */
json_t *report_run_json(const options *o, const char *scenario_path);
/* Attach run metadata (run.json content) shown in summary.json "run" and the HTML; borrowed (increfs). */
void report_set_run(report *r, json_t *run_info);
/* Evaluated thresholds -> summary "thresholds" + HTML table (copied). */
void report_set_thresholds(report *r, const thresholds *t);

/* --- plug-in points for the profile / correlation side (issue 7); no edit of report files needed --- */
/* summary.json "findings" (array of objects with DESIGN.md's keys); steals the reference. */
void report_set_findings(report *r, json_t *findings);
/* CPU cost per request name (cost.h's object: name -> {"cpu_ms_per_req", "cpu_ms_per_req_ci95",
 * "cpu_samples", "requests_profiled"}): merged into summary.json's "requests" entries, a stats.csv column
 * and the HTML requests table. Steals the reference. */
void report_set_costs(report *r, json_t *costs);
/* Any other top-level summary.json key (e.g. "profiles"); steals the reference. */
int report_set_extra(report *r, const char *key, json_t *value);
/* An HTML section: fn writes a fragment (inline SVG/JS allowed, no network) inside
 * <section id="id"><h2>title</h2> ... </section>, after the built-in charts, in the order added.
 * Files DIR/sections/NN-name.html (sorted by name) are also inlined as they are, so a section written to disk
 * during the run survives `loadctl report DIR`. fn returns 0 or negative errno (the section is then
 * replaced by a note). */
typedef int (*report_html_fn)(FILE *out, const report *r, void *ud);
int report_add_html_section(report *r, const char *id, const char *title, report_html_fn fn, void *ud);

/* Write summary.json, stats.csv, failures.csv and report.html into dir (each atomically;
 * stats_history.csv is rundir's, streamed during the run and rewritten by the rebuild).
 * 0 or negative errno with a message naming the file in err. */
int report_write(const report *r, const char *dir, char *err, size_t errlen);

/* Accessors for the writers in this directory (summary.c, html.c). */
json_t *report_run_info(const report *r);        /* borrowed, may be NULL */
json_t *report_thresholds_json(const report *r); /* borrowed, may be NULL */
json_t *report_findings(const report *r);        /* borrowed, may be NULL */
json_t *report_costs(const report *r);           /* borrowed, may be NULL */
json_t *report_extras(const report *r);          /* borrowed object, may be NULL */
size_t report_sections(const report *r);
int report_section_write(const report *r, size_t i, FILE *out); /* writes the whole <section> */

#endif
