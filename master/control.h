/* control.h - what a change made while the run goes does to its stages: `POST /api/scale` (or the live
 * page) sets a new users or rate target; the stages up to now stay as they were (so the open model's
 * arrival count so far is unchanged), the rest are replaced by a ramp at spawn_rate and a hold to the
 * run's planned end. Pure functions: the master applies the result with a rebalance. */
#ifndef LOADCTL_CONTROL_H
#define LOADCTL_CONTROL_H

#include <stddef.h>
#include <stdint.h>

#include "common/options.h"

/* New stages out (*nout of them, at most OPTIONS_MAX_STAGES) for a change at at_ns from the start:
 * st[0..n) up to at_ns (the stage running then cut at at_ns), then a ramp from the target at at_ns to
 * target at ramp_per_s units per second (0 = at once; a ramp longer than the time left stops where the run
 * ends), then target held to the end; the total length stays that of st. -ERANGE when at_ns is at or past
 * the end (the run is over), -ENOSPC when the stages would not fit, -EINVAL for a negative target.
 * out may not alias st. */
int control_override(const options_stage *st, size_t n, int64_t at_ns, double target, double ramp_per_s,
                     options_stage *out, size_t *nout);

#endif
