/* corrdemote.h - findings that a window finding's background work explains. When the window method names work
 * no request runs (a GC, a job thread holding the GIL) or a rare request's harm, the other requests' slowness
 * and lock contention in its anomalous seconds are that work's effect: their slow requests are left out of
 * the tail contrast, and findings whose slowness falls mostly there are ranked just below the window finding.
 * Thresholds in correlate.h (CORRELATE_WIN_EXPLAINS, CORRELATE_ALPHA). */
#ifndef LOADCTL_CORRDEMOTE_H
#define LOADCTL_CORRDEMOTE_H

#include <jansson.h>

#include "master/profile/correlate.h"
#include "master/profile/corrjoin.h"

/* The window finding's background work. in and join are borrowed; spans and slow are owned (released by
 * corrdemote_free). Zeroed: no such finding, every call below does nothing. */
typedef struct corrdemote {
  const correlate_input *in;
  corrjoin *join;
  json_t *spans;    /* the window finding's spans ([from_ms, to_ms] pairs), or NULL */
  json_t *slow;     /* ids (span, else trace) of slow exemplars in spans or the interval after: its effect */
  double score;     /* the window finding's score */
  char fn[400];     /* the window finding's function, and whose work it is */
  const char *skip; /* the request name whose work it is (a rare request's harm), else NULL */
} corrdemote;

/* Collect d->slow: the slow exemplars (any name but d->skip) in d->spans or begun in the interval after one
 * (the queue the work built drains there). Call once d->spans is set. */
void corrdemote_collect(corrdemote *d);

/* Is the request (span id, else trace id) a slow one collected by corrdemote_collect? */
int corrdemote_slow(const corrdemote *d, const char *trace_id, const char *span_id);

/* Rank just below the window finding (score - 0.001, evidence extended) every request finding of out (not
 * "lock") whose slow requests mostly (>= CORRELATE_WIN_EXPLAINS) fall in d->spans, more than its typical
 * requests do (two-proportion z test p < CORRELATE_ALPHA). */
void corrdemote_requests(const corrdemote *d, json_t *out);

/* The same for lock finding f of profile type: when the contention delay of the windows of that type falls
 * mostly in windows overlapping d->spans (or begun an interval after), more than those windows' share of the
 * profiled time (binomial z test p < CORRELATE_ALPHA). A lock of d->skip's own request is left. */
void corrdemote_lock(const corrdemote *d, json_t *f, const char *type);

/* Release d->spans and d->slow. */
void corrdemote_free(corrdemote *d);

#endif
