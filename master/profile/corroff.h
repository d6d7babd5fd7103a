/* corroff.h - the window method on time off CPU: perf's sched:sched_switch waits (windows of type "offcpu",
 * perfsplit.h) of the profile windows overlapping the anomalous seconds against the others. A process that
 * stalls in a blocking call (a single event loop waiting in recv on a slow dependency, a job sleeping on the
 * disk) shows nothing in CPU samples; its stacks off CPU show where it waited.
 *
 * Waits on another thread of the same process (futex: mutexes, rwlocks, conditions, semaphores) are left
 * out: a thread queued behind a holder is that holder's effect, and the holder's own time (on CPU, or its
 * own wait outside the process) is where the cause shows. Frames are compared on off-CPU ticks per second of
 * window; of the frames within CORRELATE_TOLERANCE of the largest rise, those that the CPU samples of the
 * normal windows run least (within TOLERANCE of the least: the router and handler chain every request runs
 * on CPU are context, not the work that began to wait) and of them the outermost (the root of the work that
 * rose) is named. The rise passes the conditional binomial test of the rates (p < CORRELATE_ALPHA), >=
 * MIN_RATIO x, with >= MIN_SAMPLES ticks in the anomalous windows. Thresholds in correlate.h.
 *
 * The normal windows count from the first anomalous one: a thread that was waiting when perf attached is
 * invisible until it first runs (its switch-out came before the recording), and an idle thread that only
 * wakes in the first slow seconds (the accept loop, when an open model opens new connections) would read as
 * a rise from nothing there. */
#ifndef LOADCTL_CORROFF_H
#define LOADCTL_CORROFF_H

#include <jansson.h>

#include "master/profile/correlate.h"
#include "master/profile/corrstack.h"
#include "master/profile/corrwin.h"

/* The finding (kind "window", profile "offcpu", a new reference) of the off-CPU windows of win against tm,
 * or NULL when there are none or nothing passes. cpu: the run's CPU samples (cpu_normal: those of normal
 * windows, for the context rule). *excess: the named frame's rise in ticks per second of window. */
json_t *corroff_window(const correlate_window *win, size_t nw, const corrwin_times *tm, const corrstack *cpu,
                       const unsigned char *cpu_normal, double *excess);

#endif
