/* tagsum.h - tags in the report: the figures of every request that carried a tag value, per tag key
 * and value (summary.json "tags"), and the report's Tags table with a selector of the tag key. Built from
 * the cumulative tagged series (common/stats.h), so counts and percentiles are exact across workers. */
#ifndef LOADCTL_TAGSUM_H
#define LOADCTL_TAGSUM_H

#include <jansson.h>
#include <stdio.h>

#include "common/stats.h"

/* {"KEY": {"VALUE": {"count", "errors", "error_rate", "rps", "requests" (distinct request names),
 * "p50_ms", "p90_ms", "p95_ms", "p99_ms", "p999_ms", "max_ms", "mean_ms"}}}; {} for a run without tags.
 * secs is the run's duration (for rps). New reference, NULL on -ENOMEM. */
json_t *tagsum_json(const stats_interval *cum, double secs);

/* The Tags section of report.html from summary.json's "tags" (nothing when it is empty). */
void tagsum_html(FILE *out, const json_t *sum);

#endif
