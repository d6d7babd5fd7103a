/* plan.h - who runs how much: splits users (closed model) or rate (open model) over the live workers in
 * proportion to their threads with exact totals, and scales every stage target to one worker's share. */
#ifndef LOADCTL_PLAN_H
#define LOADCTL_PLAN_H

#include <stddef.h>
#include <stdint.h>

#include "common/options.h"

/* Split total (>= 0) integer units over n weights (>= 0; all 0 = equal) in proportion, exactly:
 * floor shares, then the remainder one unit each to the largest fractional parts, ties to the lower index.
 * 7 over 5 equal weights = 2,2,1,1,1. 0 or -EINVAL (n == 0, negative input). */
int plan_split(int64_t total, const int *weights, size_t n, int64_t *out);

/* Users (rounded to whole users) split with plan_split. */
int plan_split_users(double users, const int *weights, size_t n, double *out);

/* Rate split in hundredths (1000 over 3 = 333.34, 333.33, 333.33). */
int plan_split_rate(double rate, const int *weights, size_t n, double *out);

/* One worker's share of a scenario: a copy of o with users, rate, spawn_rate, max_vus and every stage
 * target scaled to worker index idx of n (weights = threads). Totals over all workers equal o's exactly
 * (users whole, rates to the hundredth). 0 or -EINVAL. */
int plan_share(const options *o, const int *weights, size_t n, size_t idx, options *out);

/* VU ids per worker: peak_out[i] is the most VUs worker i's share ever runs (closed: its largest stage
 * target or users; open: its max_vus), base_out[i] the sum of the peaks before it, so worker i's VUs are
 * numbered base_out[i] + 1 .. base_out[i] + peak_out[i] and the ids of all workers are 1..N without a
 * gap. The splits are plan_share's. 0 or -EINVAL. */
int plan_vu_bases(const options *o, const int *weights, size_t n, int64_t *base_out, int64_t *peak_out);

#endif
