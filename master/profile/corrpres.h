/* corrpres.h - per-request presence: does a frame separate requests? A frame the slow requests run and few
 * typical requests run (counted by request: span id, else trace id) sets the slow ones apart; a helper that
 * most requests of both populations run does not, however its samples split. Used to move a finding from the
 * frame a contrast picked down to the call site of the library work that holds the slow requests' time
 * (docs/report.md "How findings are made", "The call site of library work"; constants in correlate.h). */
#ifndef LOADCTL_CORRPRES_H
#define LOADCTL_CORRPRES_H

#include <stdint.h>

#include "master/profile/corrstack.h"

/* Count x's presence (corr_presence in corrstack.h: among a's requests through fn, and among b's requests)
 * into *out. With o->more (o may be NULL), a request's samples there count too (CORRELATE_PRESENCE_POOL):
 * the same populations' wall-clock or goroutine samples (class and name as a's and b's: corrjoin's classes
 * in o->more_cls), matched by request id and frame name. Whether a request ran a frame is a question any
 * profile of the run answers; a wall-clock profile samples every request in flight, where the CPU profile
 * misses most short ones. 0, or -ENOMEM. */
int corrpres_count(const corrstack *cs, const unsigned char *a, const unsigned char *b, const corr_opts *o,
                   int64_t fn, int64_t x, corr_presence *out);

/* One-sided Fisher exact test: the probability of >= k1 of the k1 + k2 requests holding a frame falling among
 * the n1 of n1 + n2 requests by chance (hypergeometric). 1 when n1 or n2 is 0. */
double corrpres_fisher(double k1, double n1, double k2, double n2);

/* Does x separate a's requests from b's? k1/n1 >= CORRELATE_MIN_RATIO x k2/n2, k2/n2 < CORRELATE_KNOWN_SHARE
 * (not a frame most typical requests run) and Fisher p < CORRELATE_ALPHA (counts into *out when not NULL). */
int corrpres_separates(const corrstack *cs, const unsigned char *a, const unsigned char *b,
                       const corr_opts *o, int64_t fn, int64_t x, corr_presence *out);

/* From fn down a's hot path (corrstack_path) to the call site of library work: the innermost service frame x
 * below fn such that x hands >= CORRELATE_CALL_SITE of its value in a to library code it calls, or x is
 * reached through library frames (CORRELATE_CALLBACK: the library calls the service back), and every
 * service frame from fn's callee down to x is the service's own (corrdesc_own: not a shared helper), holds >=
 * CORRELATE_CALL_SITE of the excess of the service frame above it (excess(f) = ia[f] - scale * ib[f];
 * library frames between are passed through) and separates requests (corrpres_separates, with o). Returns
 * x, or fn when there is none (*out: x's counts when moved). */
int64_t corrpres_down(const corrstack *cs, const unsigned char *a, const unsigned char *b, const corr_opts *o,
                      const double *ia, const double *ib, double scale, int64_t fn, corr_presence *out);

/* Does fn set a's requests apart from their own name's typical requests (b's samples of a's request name,
 * with o->more's: corrpres_separates)? A frame that a rare
 * kind of request runs, not the handler every request of the name runs. 0 when a has no name. */
int corrpres_rare(const corrstack *cs, const unsigned char *a, const unsigned char *b, const corr_opts *o,
                  int64_t fn);

#endif
