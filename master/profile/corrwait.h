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
/* Is the wait at c's leaf a sleep its own code chose (Go's time.Sleep, or time.sleep / asyncio.tasks.sleep
 * where a profile shows them as a frame: the first frame above the parked leaf, or the leaf itself)? */
int corrwait_sleeps(const corrstack *cs, const corr_sample *c);

/* Of a's samples holding fn, those parked in a sleep (corrwait_sleeps): their value (returned) and the
 * distinct requests behind them (span id, else trace id; *nreq). A sleep is the one wait nothing outside the
 * code causes: the host's load or a slow peer cannot put a request there, only its code. */
double corrwait_sleeping(const corrstack *cs, const unsigned char *a, int64_t fn, double *nreq);

/* Is r (a finding's contrast, a: its population) thin evidence, ranked weak: fewer than MIN_SAMPLES in a,
 * unless (wait set) >= WAIT_SHARE of them are parked in a sleep under the frame named, from >= MIN_BASELINE
 * distinct requests, with a strong test (p < STRONG_ALPHA; CORRELATE_SLEEP)? */
int corrwait_thin(const corrstack *cs, const unsigned char *a, const corr_contrast *r, int wait);

/* The effect of r's finding (share - baseline share). When r was tested on rates per request (na, nb
 * requests) from a baseline of fewer than MIN_BASELINE samples (wait set: typical requests are rarely caught
 * parked), the baseline share is not a measured one: the typical requests' time per request in the frame
 * relative to the slow ones' stands for it (CORRELATE_SLEEP). */
double corrwait_effect(const corr_contrast *r, double na, double nb, int wait);

size_t corrwait_idle_frames(const corrstack *wait, const corrstack *cpu, const char *name,
                            unsigned char *known);

#endif
