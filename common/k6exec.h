/* k6exec.h - k6's executor spelling of a scenario's load shape (`executor`, `vus`, `iterations`) read
 * into options: the names of the closed and open models (constant-vus, ramping-vus,
 * constant-arrival-rate, ramping-arrival-rate) checked against what the options say, and the two that
 * end by count (shared-iterations, per-vu-iterations; also locust's `--iterations N`). */
#ifndef LOADCTL_K6EXEC_H
#define LOADCTL_K6EXEC_H

#include <lua.h>
#include <stddef.h>

#include "common/options.h"

#define K6EXEC_MAX_DURATION_NS 600000000000LL /* k6's maxDuration default for the count executors: 10 m */

/* Read executor/vus/iterations of the options table at index t (stages and the model already read into
 * o) and apply them to o. 0, or -EINVAL with the reason (no file:line) in why. */
int k6exec_read(lua_State *L, int t, options *o, char *why, size_t len);

/* Iterations the VU with this id (1..o->users over all workers) runs under a count executor: each VU
 * its own o->iterations (per-vu-iterations), or its part of o->iterations split so that the parts of
 * VUs 1..users add up to it exactly (shared-iterations). */
int64_t k6exec_quota(const options *o, int64_t vu_id);
/* The same for the VU with 0-based index j of vus: iterations each (per_vu) or its exact part of them. */
int64_t k6exec_share(int64_t iterations, int per_vu, int64_t vus, int64_t j);

#endif
