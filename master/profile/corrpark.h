/* corrpark.h - do the slow requests stay longer in a frame than the typical requests that pass through it?
 * A wait finding from a wall-clock profile says the slow requests spend their time in a frame; that is a
 * fault only when they spend more there than the typical requests of the same name that reach it do. A
 * dependency call that always takes ~N ms is the service's normal shape: the requests that make it are the
 * slow ones, but each waits there no longer than a typical request making the same call. Thresholds in
 * correlate.h (CORRELATE_PARK_*). */
#ifndef LOADCTL_CORRPARK_H
#define LOADCTL_CORRPARK_H

#include "master/profile/corrstack.h"

/* Per request (span id, else trace id) reaching fn: the time of its samples holding fn, in a (slow) and in b
 * (typical). */
typedef struct corrpark_stay {
  size_t na, nb;         /* requests of a and of b with a sample holding fn */
  double mean_a, mean_b; /* their mean time in fn (sample values) */
  double p_value;        /* one-sided Mann-Whitney U test (normal approximation, mid-ranks): a's > b's */
  double a_time, a_loop; /* a's samples holding fn: their values, and those on an event loop's thread */
} corrpark_stay;

/* Fill *st for frame fn of cs; 0 or -ENOMEM. */
int corrpark_measure(const corrstack *cs, const unsigned char *a, const unsigned char *b, int64_t fn,
                     corrpark_stay *st);

/* Is fn a wait of a's own: fewer than CORRELATE_PARK_REQUESTS typical requests reach it (no baseline: the
 * slow requests' presence there is the difference), most of a's time in it runs on an event loop's thread
 * (asyncio's dispatch below it: a request blocking there holds the loop, and every request in flight waits
 * with it, which its own stay does not measure), or a's requests stay longer in it (mean >=
 * CORRELATE_MIN_RATIO x b's and p < CORRELATE_ALPHA)? 1 yes, 0 no (or out of memory: 1). */
int corrpark_longer(const corrstack *cs, const unsigned char *a, const unsigned char *b, int64_t fn);

#endif
