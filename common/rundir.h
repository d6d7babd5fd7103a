/* rundir.h - the run directory, written as the run goes so a run killed with kill -9 still leaves
 * everything up to its last full interval: runs/<UTC time>-<scenario>/ with run.json, intervals.jsonl,
 * latency.hlog, exemplars.jsonl and stats_history.csv (each appended, fflush'd and fdatasync'd per interval).
 * The final files (summary.json, stats.csv, failures.csv, report.html) are master/report/report.h's job. */
#ifndef LOADCTL_RUNDIR_H
#define LOADCTL_RUNDIR_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "common/stats.h"

typedef struct rundir rundir;

/* File names inside a run directory (shared with the readers in master/report/rebuild). */
#define RUNDIR_RUN "run.json"
#define RUNDIR_INTERVALS "intervals.jsonl"
#define RUNDIR_HLOG "latency.hlog"
#define RUNDIR_HLOG_SERVICE "service:" /* latency.hlog tag prefix of a name's service-time histogram */
#define RUNDIR_HLOG_PHASE "phase."     /* "phase.<k6 phase name>:<name>": a name's timing-phase histogram */
#define RUNDIR_EXEMPLARS "exemplars.jsonl"
#define RUNDIR_HISTORY_CSV "stats_history.csv"
#define RUNDIR_SUMMARY "summary.json"
#define RUNDIR_STATS_CSV "stats.csv"
#define RUNDIR_FAILURES_CSV "failures.csv"
#define RUNDIR_HTML "report.html"
#define RUNDIR_SECTIONS "sections" /* sections/<NN>-<id>.html: fragments report.html inlines (plug-in) */
#define RUNDIR_TOTAL_NAME "(all)"  /* the name of the all-requests line in intervals.jsonl */

/* Create the run directory and open its streaming files. out_dir (--out) is used as is when non-NULL
 * (created if missing; files of an earlier run there are replaced or removed, sections/ emptied); otherwise
 * <runs_root or "runs">/<UTC time YYYY-MM-DDTHH-MM-SSZ>-<scenario_name>/ (a "-2", "-3"... suffix if taken).
 * Fails before any load is sent: negative errno and a message naming the path in err.
 * *out is owned by the caller, released with rundir_close. */
int rundir_open(const char *out_dir, const char *scenario_name, const char *runs_root, rundir **out,
                char *err, size_t errlen);

/* The directory's path (owned by rd, valid until rundir_close). */
const char *rundir_path(const rundir *rd);

/* Write run.json atomically (tmp file + fsync + rename). run_info is borrowed. Keys by convention:
 * scenario, options, version, workers, start_ms, end_ms, status ("running", "done", "aborted"). */
int rundir_write_run(rundir *rd, const json_t *run_info);

/* Append one merged interval: intervals.jsonl (one line per name plus an "(all)" line), latency.hlog
 * (one tagged histogram per name), exemplars.jsonl, stats_history.csv; then fflush + fdatasync all.
 * iv is borrowed. Intervals must come in time order. 0 or negative errno (the run goes on; the caller logs
 * rundir_error). On failure (disk full) every file is cut back to the end of the last full interval: an
 * interval is in all of them or in none, never half-written; a later append may succeed again. */
int rundir_append_interval(rundir *rd, const stats_interval *iv);
/* h's latency fields as intervals.jsonl writes them (p50_ms, p90_ms, p95_ms, p99_ms, p999_ms, max_ms,
 * min_ms, mean_ms; 0 for an empty or absent histogram) set on o; summary.json's lines start from them. */
void rundir_put_latency(json_t *o, const hist *h);

/* The last append failure as "<dir>/<file>: <reason>" (owned by rd), or NULL if none failed yet. */
const char *rundir_error(const rundir *rd);

/* Flush and close the streaming files and free rd (NULL is fine). 0 or the first write error. */
int rundir_close(rundir *rd);

/* Write data to dir/name atomically (name.tmp, fsync, rename). 0 or negative errno. */
int rundir_write_file(const char *dir, const char *name, const char *data, size_t len);

/* What fill prints into f (a memory stream), written as rundir_write_file writes (secrets hidden, whole
 * file or nothing). name is relative to dir, or, with dir NULL, a path of its own ("x.xml", "out/x.xml").
 * fill returns 0 or -errno; its error, else the write's, is returned. */
typedef int (*rundir_fill_fn)(FILE *f, void *ctx);
int rundir_write_stream(const char *dir, const char *name, rundir_fill_fn fill, void *ctx);

/* Write JSON to dir/name atomically, indented. 0 or negative errno. */
int rundir_write_json(const char *dir, const char *name, const json_t *value);

/* The json_dumps flag for reals in every JSON loadctl writes (run directory files, the history index, the
 * JSON the HTML pages embed, the web UI's API and events): 15 significant digits keep epoch seconds to the
 * ms (1796652243.479, which 6 digits write as 1.79665e+09 and 10 as 1796652243) and values up to 10^15
 * whole, while 0.31 stays 0.31 (17 digits would write 0.31000000000000000). */
#define RUNDIR_JSON_REALS JSON_REAL_PRECISION(15)

/* stats_history.csv (locust's columns): the header line, and the rows for one interval (one per name,
 * then "Aggregated"): interval rps/percentiles from iv, "Total ..." columns from cum (iv already merged
 * into it). Used while running and by the rebuild. 0 or -EIO. */
int rundir_history_header(FILE *f);
int rundir_history_rows(FILE *f, const stats_interval *iv, const stats_interval *cum);

#endif
