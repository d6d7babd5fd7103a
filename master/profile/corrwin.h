/* corrwin.h - which seconds of a run were bad: per-interval signals of intervals.jsonl (p50, p99, mean
 * latency, throughput, error rate; per request name and for the total) against a robust baseline (median and
 * MAD over the steady intervals), so that a minority of anomalous seconds, periodic or one-off, stands out.
 * Steady intervals: not the first or the last, and with the offered load at >= 90% of the run's median (ramps
 * are left out): the arrival rate of an open model (whose users only follow the latency), else the users.
 * Thresholds: CORRELATE_WIN_* in correlate.h. */
#ifndef LOADCTL_CORRWIN_H
#define LOADCTL_CORRWIN_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "master/profile/corrstack.h"

/* Anomalous spans (new array of [t0_ms, t1_ms], adjacent intervals merged) into *spans; *judged = steady
 * intervals judged, *bad = anomalous ones; why (may be NULL) gets the strongest signal in words, e.g.
 * "p99 of GET /x 152.0 ms vs median 10.0 ms". 0 or -ENOMEM. An empty array when nothing stands out. */
int corrwin_spans(const json_t *intervals, json_t **spans, size_t *judged, size_t *bad, char *why,
                  size_t whylen);

/* Share of [t0_ms, t1_ms) covered by spans (0..1). */
double corrwin_overlap(const json_t *spans, int64_t t0_ms, int64_t t1_ms);

/* The intervals' length in ms (the first line's interval_ms; 1000 when there is none). */
int64_t corrwin_step(const json_t *intervals);

/* Whose work a window finding's frame fn is (a, b: the samples of the anomalous and the other windows; a_fn:
 * the value of a's samples holding fn). CORRWIN_BACKGROUND: more than CORRELATE_WIN_UNLABELLED of a_fn is no
 * request's. Else request work: CORRWIN_MORE_REQUESTS when the requests of the names that run fn in a hold
 * >= WIN_REQ_BASE samples in b and fn's share of them in a is not above its share in b (by MIN_DELTA, z test
 * p < ALPHA): their requests run as much of it per sample in the other seconds, so its rise is more or slower
 * requests, the effect of the bad seconds (the request methods explain slow requests). CORRWIN_REQUEST
 * otherwise (the requests run more of it in those seconds, or there are too few of theirs in b to say). */
enum { CORRWIN_BACKGROUND, CORRWIN_REQUEST, CORRWIN_MORE_REQUESTS };
int corrwin_whose(const corrstack *cs, const unsigned char *a, const unsigned char *b, int64_t fn,
                  double a_fn);

/* Drop win (a window finding of request work, CORRWIN_REQUEST; borrowed, may be NULL) from findings when a
 * request's finding (one with a "request") has win's function on its path or names it: that request's
 * finding says the same work finer, and a window finding says background work made requests slow. 1 when
 * dropped. */
int corrwin_drop_covered(json_t *findings, const json_t *win);

#endif
