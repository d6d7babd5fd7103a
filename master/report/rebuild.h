/* rebuild.h - `loadctl report DIR`: read a run directory back (latency.hlog histograms, exact; counts,
 * errors, users from intervals.jsonl; exemplars.jsonl; run.json) into a report, tolerating a truncated
 * last line after kill -9, and regenerate summary.json, the CSVs and report.html. */
#ifndef LOADCTL_REBUILD_H
#define LOADCTL_REBUILD_H

#include <stddef.h>
#include <stdio.h>

#include "master/report/report.h"

/* Load dir into a new report (*out owned by caller). Thresholds listed in run.json are re-evaluated
 * (and returned in *th when th is non-NULL: owned by the caller, NULL when run.json lists none);
 * findings/extra keys of an existing summary.json are kept. Problems that still leave a report
 * (truncated lines, missing exemplars) are written as one line each to notes (may be NULL).
 * -ENOENT / -EINVAL with a message in err when dir is not a run directory or holds no full interval. */
int rebuild_load(const char *dir, report **out, thresholds **th, FILE *notes, char *err, size_t errlen);

/* rebuild_load + report_write into dir. *thresholds_ok (may be NULL) tells whether all thresholds
 * passed. 0 or negative errno with err. */
int rebuild_run(const char *dir, FILE *notes, bool *thresholds_ok, char *err, size_t errlen);

#endif
