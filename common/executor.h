/* executor.h - the scheduling maths of the two load models, as pure functions: how many users a closed
 * model wants at time t, and when the k-th arrival of an open model is due (exact, no drift). */
#ifndef LOADCTL_EXECUTOR_H
#define LOADCTL_EXECUTOR_H

#include <stddef.h>
#include <stdint.h>

#include "common/options.h"

/* The run's stage list of the top-level options: o's stages, or one constant stage of users (closed)
 * or rate (open) lasting the duration, as {0 s, target}, {duration, target}. out holds
 * OPTIONS_MAX_STAGES; returns the count. The one place such a list is made (master and engine use it;
 * options.scenarios get theirs from common/scenarios.c). */
size_t executor_stage_list(const options *o, options_stage *out);

/* Total length of the stages in ns. */
int64_t executor_total_ns(const options_stage *stages, size_t n);

/* Target (users or rate) at t_ns from the start: linear ramps from 0 to stage[0].target, then from
 * each stage's target to the next; a zero-length stage jumps. Past the end: the last target. */
double executor_target_at(const options_stage *stages, size_t n, int64_t t_ns);

/* Integral of the rate (per second) from 0 to t_ns: the number of arrivals due by t. */
double executor_arrivals_by(const options_stage *stages, size_t n, int64_t t_ns);

/* Time (ns from start) of arrival k (k = 0, 1, ...): when the integral of the rate reaches k.
 * -1 when it falls at or after the end of the last stage. */
int64_t executor_arrival_ns(const options_stage *stages, size_t n, int64_t k);

/* Of `users` users numbered 0..users-1 and dealt round-robin over `threads`, how many thread `index`
 * runs. Used for users and for max_vus. */
int64_t executor_share(int64_t users, int threads, int index);

/* Closed-model users allowed at once given a spawn rate: moves *allowed toward target by at most
 * spawn_rate * dt_s (spawn_rate 0 = jump), never above target; returns floor of the result. */
int64_t executor_spawn_step(double *allowed, double target, double spawn_rate, double dt_s);

/* The user numbers of one thread's live VUs: a new VU takes the lowest free number and gives it back
 * when it exits, so VU ids stay dense (a thread's k-th number is user index + threads * k) however
 * often users stop and start. Zero-initialised is empty; executor_slots_free releases it. */
typedef struct executor_slots {
  unsigned char *used; /* used[k]: number k is taken */
  size_t cap;
  size_t first_free; /* no free number below this one */
} executor_slots;

/* The lowest free number, now taken; -ENOMEM. */
int64_t executor_slot_take(executor_slots *s);
/* Give number k back (a number not taken is ignored). */
void executor_slot_put(executor_slots *s, int64_t k);
void executor_slots_free(executor_slots *s);

#endif
