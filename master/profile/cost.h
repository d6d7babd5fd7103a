/* cost.h - what one request costs the service in CPU (capacity planning): the CPU time of the samples
 * labelled with a request name (loadctl.name, else k6.name) divided by the requests of that name measured
 * while the CPU profile windows ran. Unlabelled CPU (background work, the runtime outside a request) is not
 * charged to any request. */
#ifndef LOADCTL_COST_H
#define LOADCTL_COST_H

#include <jansson.h>
#include <stddef.h>

#include "master/profile/pprof.h"

#define COST_Z95 1.96 /* two-sided 95% normal quantile for the Poisson interval on the sample count */

/* CPU cost per request name of the run in run_dir (profiles/index.jsonl "ok" pprof windows of type cpu,
 * intervals.jsonl). *out is a new object {name: {"cpu_ms_per_req", "cpu_ms_per_req_ci95": [lo, hi],
 * "cpu_samples", "requests_profiled"}} with one entry per name that had requests during a CPU window
 * (empty when the run has no CPU window or none of its samples is labelled). The interval treats the labelled
 * sample count n as Poisson: n -/+ 1.96 sqrt(n) samples (n = 0: [0, 3] samples), at the run's mean CPU time
 * per sample. 0, -ENOMEM, or -errno when run_dir/profiles cannot be read (message in err). */
int cost_run(const char *run_dir, json_t **out, char *err, size_t errlen);

/* All requests (every name) measured inside the run's cpu windows, labelled or not, into *requests.
 * 0 (0 requests when the run has no CPU window), -ENOMEM, -errno (message in err). */
int cost_requests_profiled(const char *run_dir, double *requests, char *err, size_t errlen);

/* The cost entry of name in costs (borrowed; NULL when none or costs is NULL). */
const json_t *cost_get(const json_t *costs, const char *name);

#endif
