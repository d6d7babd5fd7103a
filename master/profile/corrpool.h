/* corrpool.h - waits on a resource shared with unlabelled work: in the anomalous seconds (corrwin.h) the
 * requests pile up parked in one service function (a client's send, a pool's get), and goroutines that are no
 * request's, passing through that same function, appear in those seconds and not in the others (a background
 * job's workers holding the client's connections, a sync loop draining the same pool). CPU profiles see
 * neither: both sides wait. The window finding names the root of that background work (the outermost frame of
 * its goroutines that rose as much as the work did), not the function the requests wait in (the symptom).
 *
 * Goroutine profiles only (Go, polled during the run: source.h): a goroutine's leaf tells parked from
 * running, and a goroutine that is no request's carries no labels. Thresholds in correlate.h
 * (CORRELATE_POOL_*). */
#ifndef LOADCTL_CORRPOOL_H
#define LOADCTL_CORRPOOL_H

#include <jansson.h>

#include "master/profile/correlate.h"
#include "master/profile/corrstack.h"
#include "master/profile/corrwin.h"

/* What corrpool_find found (fn < 0: nothing). */
typedef struct corrpool_result {
  int64_t fn;          /* the root of the background work that rose (wait's frame id) */
  int64_t at;          /* the service frame the requests wait in, which that work passes through */
  double na, nb;       /* seconds of anomalous / normal goroutine windows */
  double a_fn, b_fn;   /* unlabelled observations holding fn in them */
  double a_tot, b_tot; /* unlabelled observations (with a service frame) in them */
  double wa, wb;       /* the requests' observations parked in at, in them */
  double through;      /* a_fn's observations that pass through at */
  double p_value;      /* fn's rise: conditional binomial test of the rates */
  json_t *path;        /* new array: fn ... at ... the hottest leaf (NULL when fn < 0) */
} corrpool_result;

/* The rule of the file comment, on the goroutine samples of wait (windows: the run's profile windows, which
 * wait's samples index; t: the anomalous spans). 0 or -ENOMEM; r->fn < 0 when the rule finds nothing. */
int corrpool_find(const correlate_window *windows, size_t nwindows, const corrstack *wait,
                  const corrwin_times *t, corrpool_result *r);

/* The window finding of r (new object, kind "window", profile "goroutine"; t's spans), scored; NULL on
 * -ENOMEM. */
json_t *corrpool_finding(const corrstack *wait, const corrwin_times *t, const corrpool_result *r);

#endif
