/* corrwait.h - where requests wait off-CPU, from profiles that see waiting: Go goroutine profiles polled
 * during the run (source.h) and wall-clock profiles (type "wall"). A slow request waiting on an upstream, a
 * timer or a channel is parked: its goroutine's leaf is runtime.gopark (or a syscall) under the function that
 * waits. The population contrasted (slow vs typical requests, or one request name vs the others) is set by
 * the caller, as for corrstack_contrast; thresholds in correlate.h. */
#ifndef LOADCTL_CORRWAIT_H
#define LOADCTL_CORRWAIT_H

#include "master/profile/corrstack.h"

/* Is leaf a frame a parked goroutine or blocked thread sits in (runtime.gopark, syscalls, ...)? */
int corrwait_parked(const char *leaf);

/* The frame sample c waits in: the innermost service frame above its parked leaf; -1 when c is not parked,
 * waits on a lock or in a closure (a handler). */
int64_t corrwait_waiter(const corrstack *cs, const corr_sample *c);

/* The frame a's samples wait in: the innermost service frame above the parked leaf that holds the most of
 * a's parked samples (>= CORRELATE_WAIT_SHARE of a), lifted past shared helpers. Samples without any service
 * frame (library goroutines that inherited a request's labels) are left out of both populations.
 * Observations are time-weighted, so with na and nb (requests behind a and b; 0 when unknown) the test is
 * on time per request in that frame (Poisson rates: a's >= CORRELATE_MIN_RATIO x b's, conditional binomial z
 * test p < CORRELATE_ALPHA), else a two-proportion z test on shares. When a has no parked sample at all (a
 * wall-clock profile), the plain contrast of corrstack_contrast with o. out as there (out->fn < 0: nothing).
 * 0 or -ENOMEM. */
int corrwait_find(const corrstack *cs, const unsigned char *a, const unsigned char *b, const corr_opts *o,
                  double na, double nb, corr_contrast *out);

/* Frames the requests of name run without the CPU work below them: requests of name seen parked in wait (off
 * a lock, in a service frame) that have no sample in cpu at all; frames (of cpu, by name) in >=
 * CORRELATE_KNOWN_SHARE of their observations are marked in known (cpu's nnames entries) when there are >=
 * CORRELATE_KNOWN_REQUESTS such requests. Their number (0: too few, nothing marked). */
size_t corrwait_idle_frames(const corrstack *wait, const corrstack *cpu, const char *name,
                            unsigned char *known);

#endif
