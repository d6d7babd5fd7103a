/* summary.h - the machine-readable end of a run: summary.json (DESIGN.md's stable schema) and locust's
 * stats.csv / failures.csv, built from a report. */
#ifndef LOADCTL_SUMMARY_H
#define LOADCTL_SUMMARY_H

#include <jansson.h>
#include <stddef.h>

#include "master/report/report.h"

/* {"run","totals":{"requests","errors","rps","dropped","duration_s",...},"requests":[{"name","method","count",
 * "errors","rps","p50_ms","p90_ms","p95_ms","p99_ms","p999_ms","max_ms","min_ms","mean_ms","errors_by_kind",
 * "cpu_ms_per_req","cpu_ms_per_req_ci95","cpu_samples","requests_profiled" (cost.h; when profiled)}],
 * "groups":[{"name","requests","count","errors","rps","error_rate","p50_ms",...}],
 * "tags":{"KEY":{"VALUE":{"count","errors","error_rate","rps","requests","p50_ms",...}}} (tagsum.h),
 * "checks":[...],"thresholds":[...],"findings":[...], extras...}. New reference, NULL on -ENOMEM. */
json_t *summary_json(const report *r);

/* stats.csv columns: locust's, then "CPU ms/req" (cost.h; empty when the run has no labelled CPU profile). */
#define SUMMARY_STATS_HEADER                                                                            \
  "Type,Name,Request Count,Failure Count,Median Response Time,Average Response Time,Min Response Time," \
  "Max Response Time,Average Content "                                                                  \
  "Size,Requests/s,Failures/s,50%,66%,75%,80%,90%,95%,98%,99%,99.9%,99.99%,"                            \
  "100%,CPU ms/req"
#define SUMMARY_FAILURES_HEADER "Method,Name,Error,Occurrences"

/* Write summary.json, stats.csv and failures.csv into dir atomically. 0 or negative errno + err. */
int summary_write(const report *r, const char *dir, char *err, size_t errlen);

#endif
