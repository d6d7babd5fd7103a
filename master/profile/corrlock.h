/* corrlock.h - the lock method of correlation: from mutex (or block) profiles, the function releasing a
 * contended lock, what runs under it in the CPU samples and the request name that holds it; thresholds
 * CORRELATE_LOCK_* in correlate.h. correlate.c turns the result into a finding. */
#ifndef LOADCTL_CORRLOCK_H
#define LOADCTL_CORRLOCK_H

#include <jansson.h>
#include <stddef.h>

#include "master/profile/correlate.h"
#include "master/profile/corrstack.h"

typedef struct corrlock_result {
  char fn[512];        /* the function named: the holder, or under a closure the heaviest frame it calls */
  const char *request; /* the request name owning >= CORRELATE_LOCK_NAME_SHARE of the holder's CPU samples */
  double share, base;  /* holder's share of the delay; an even split's (1 / functions contending; 0: one) */
  double x, ncont;     /* holder's delay-weighted contentions, all contentions */
  double p_value;      /* binomial z test of x against an even split */
  json_t *path;        /* new array: the CPU hot path through fn (or [holder]) */
  double delay_ms;     /* the holder's delay (ms; -1 when counted in observations) */
  int minor;           /* its delay explains < CORRELATE_LOCK_EXPLAINS of the time the requests lost */
  char waited[512];    /* hold: the function where the waiters wait for what the holder took; else "" */
  const char *waiters; /* a holder no request owns: the request name owning >= LOCK_NAME_SHARE of the lock
                        * waits of the block profile (by the service frame that waits), else NULL */
  const corrstack *polls; /* in (kept by corrlock_find): the run's goroutine or wall-clock samples, whose
                           * labels name the requests of a waiting frame no CPU sample shows; or NULL */
  char evidence[1024];
} corrlock_result;

/* The lock behind the contention in the windows of type ("mutex", or "block": only samples waiting on a
 * sync.Mutex/RWMutex), with cpu (the run's labelled CPU samples) and iv (intervals.jsonl, or NULL) to judge
 * its cost to requests. 1 and *out filled when a lock passes the thresholds, else 0. */
int corrlock_find(const correlate_window *w, size_t nw, const char *type, const corrstack *cpu,
                  const json_t *iv, corrlock_result *out);

/* Findings of kind wait (in findings) whose path runs to r's waited function are requests waiting for r's
 * holder: each is ranked just below lock (the finding made of r), with that said in its evidence. r's waiters
 * (if any) are set on lock as "waiters" (CORRELATE_LOCK_WAITERS: its tail is theirs, corrrank.h). */
void corrlock_effects(json_t *findings, json_t *lock, const corrlock_result *r);

#endif
