/* corrhand.h - work handed to other threads: requests that hand a job to a pool of workers (a channel drained
 * by goroutines, a queue.Queue with worker threads, a ThreadPoolExecutor's Future) and wait for it are slow
 * when the workers are busy with something else, and the workers carry no request labels. When a request
 * name's slow requests wait in the hand-off machinery, the workers' busy samples (unlabelled, in service
 * code, not idle waiting for a job) in the profile windows where the waiters were mostly slow are contrasted
 * with those in the windows where they were mostly typical: the work that rose there is what the slow ones
 * waited behind (a scanner pool's archive unpacking, not the upload's `scan` where every upload waits).
 * Thresholds in correlate.h (CORRELATE_WAIT_SHARE, CORRELATE_PARK_REQUESTS, CORRELATE_HAND_SPLIT);
 * docs/report.md "How findings are made". Worker threads are those idle in hand-off machinery under a service
 * frame (their loop), or under a standard pool's loop (ThreadPoolExecutor's _worker, which idles in C); their
 * busy samples are the ones under that loop running service code, not so idle. */
#ifndef LOADCTL_CORRHAND_H
#define LOADCTL_CORRHAND_H

#include <jansson.h>
#include <stdint.h>

#include "master/profile/corrstack.h"

/* The frame s waits for another thread's work in: from the leaf, frames of the hand-off machinery only (Go's
 * gopark, select, channel receive/send, sync.Cond, WaitGroup, sleep; Python's Condition/Event waits,
 * queue.Queue.get/put, Future.result, Thread.join), then a frame of the service's own: its id. -1 when s is
 * running, waits elsewhere (a socket, a lock: library frames above the machinery) or has no such frame. */
int64_t corrhand_waiter(const corrstack *cs, const corr_sample *s);

/* Per request name with slow samples in cs (a goroutine or wall-clock set; cls: CORRJOIN_* per sample), the
 * hand-off finding when one passes: a "wait" finding object appended to out (profile: the set's type, for the
 * finding). Returns the number appended, or -ENOMEM. */
int corrhand_find(const corrstack *cs, const unsigned char *cls, const char *profile, json_t *out);

#endif
