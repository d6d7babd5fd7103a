/* scensum.h - the run's scenarios in the report: summary.json's "scenarios" (each of options.scenarios
 * with what it was asked and what it did, from the metrics its VUs record per scenario (worker/vu.h
 * vu_scenario); or the one scenario of the top-level options) and report.html's Scenarios table. */
#ifndef LOADCTL_SCENSUM_H
#define LOADCTL_SCENSUM_H

#include <jansson.h>
#include <stdio.h>

#include "common/stats.h"

/* The "scenarios" list for run info run (run.json: its "scenarios" lists options.scenarios, if any) and
 * the cumulative stats of the run lasting secs. New reference, NULL on -ENOMEM. */
json_t *scensum_json(const json_t *run, const stats_interval *cum, double secs);

/* report.html's Scenarios section from summary.json sum (nothing for a run of one scenario). */
void scensum_html(FILE *out, const json_t *sum);

#endif
