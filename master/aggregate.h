/* aggregate.h - the master's exact merge: stats intervals from all workers added bucket for bucket into
 * master-time intervals (each worker's start_ms corrected by its clock offset and snapped to the run's
 * interval grid), closed once every live worker has reported them or after a grace period, and the
 * cumulative totals the final summary comes from. */
#ifndef LOADCTL_AGGREGATE_H
#define LOADCTL_AGGREGATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/stats.h"

typedef struct aggregate aggregate;

/* Called once per closed interval, in time order; iv is borrowed for the call. Return 0 to go on. */
typedef int (*aggregate_emit_fn)(void *ud, const stats_interval *iv);

/* grid_origin_ms: the run's start in master wall ms (intervals start at origin + k * interval_ms);
 * grace_intervals: how many interval lengths past an interval's end it waits for missing workers.
 * *out owned by the caller, release with aggregate_destroy. 0 or -ENOMEM/-EINVAL. */
int aggregate_create(int64_t grid_origin_ms, int64_t interval_ms, int grace_intervals, aggregate **out);
void aggregate_destroy(aggregate *a);

/* Master-time interval start for a worker's start_ms: start_ms - offset_ms (offset = worker clock minus
 * master clock) rounded to the nearest grid point. */
int64_t aggregate_slot(const aggregate *a, int64_t worker_start_ms, int64_t offset_ms);

/* Merge one worker interval (borrowed) into its master-time interval. Stats for an interval already
 * closed are counted in the oldest open interval instead (and in aggregate_late()), so totals stay exact.
 * 0 or -ENOMEM. */
int aggregate_add(aggregate *a, const char *worker_id, int64_t offset_ms, const stats_interval *iv);

/* The same for a worker's numbered stats (msg.h's stats_no: 1, 2, ... per worker and run; 0 = not
 * numbered, merged as aggregate_add does). A number that has already arrived (a resend that crossed the
 * original) is not merged again: returns 1. 0 when merged, -ENOMEM. */
int aggregate_add_numbered(aggregate *a, const char *worker_id, int64_t offset_ms, uint64_t stats_no,
                           const stats_interval *iv);

/* The worker says it has sent its stats up to number sent_no (its heartbeats and its quit). */
void aggregate_sent(aggregate *a, const char *worker_id, uint64_t sent_no);

/* True (once) when worker_id has numbers missing and has said its highest number sent since the last
 * true: a worker's frames arrive in the order it sent them, so a number still missing when a later
 * report of its is read was dropped, while one asked for and not yet resent may only be queued behind
 * frames the master has not read (asking again would make the worker send it twice). */
bool aggregate_ask_due(aggregate *a, const char *worker_id);

/* n when worker_id's stats 1..n have all been merged and n is more than this returned before (0: nothing
 * new to acknowledge). The master acknowledges n to the worker, which then forgets them (worker/agent.c). */
uint64_t aggregate_ack_due(aggregate *a, const char *worker_id);

/* Numbers of worker_id's stats that it has sent (told by aggregate_sent or by a higher number that
 * arrived) and that have not arrived: the oldest up to max into out. Returns how many are missing in all
 * (can be more than max). */
uint64_t aggregate_missing(aggregate *a, const char *worker_id, uint64_t *out, size_t max);

/* The worker starts numbering from 1 again (it rejoined the run after dropping it): what it had missing
 * stays counted in aggregate_missing_total, its numbers are tracked afresh. */
void aggregate_renumber(aggregate *a, const char *worker_id);

/* aggregate_missing's total over every worker, with what aggregate_renumber left missing: stats sent and
 * never merged. */
uint64_t aggregate_missing_total(const aggregate *a);

/* Close and emit, oldest first, every open interval that each of the live workers (ids) has reported
 * (a worker's reports arrive in order, so its newest slot counts for all before it, unless some of its
 * numbered stats are missing: then only the grace period closes them), or whose end is
 * grace_intervals or more before now_ms. Closed intervals are folded into the cumulative totals.
 * Returns the number emitted, or the first negative return of emit/merge. */
int aggregate_poll(aggregate *a, int64_t now_ms, const char *const *live_ids, size_t nlive,
                   aggregate_emit_fn emit, void *ud);

/* Close and emit everything still open (end of run). Count or negative error. */
int aggregate_flush(aggregate *a, aggregate_emit_fn emit, void *ud);

/* Cumulative totals of every closed interval (borrowed; start_ms = first interval). */
const stats_interval *aggregate_cumulative(const aggregate *a);
/* Worker intervals that arrived after their own interval had closed. */
int64_t aggregate_late(const aggregate *a);
/* Intervals still open. */
size_t aggregate_open(const aggregate *a);

#endif
