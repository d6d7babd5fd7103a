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
 * "p99 of GET /x 152.0 ms vs median 10.0 ms". No spans when more than CORRELATE_WIN_MAX_FRAC of the judged
 * intervals stand out (an anomaly is a minority). A throughput dip must exceed counting noise: random
 * arrivals vary a second's count by about its square root, the least robust sigma of a throughput series.
 * 0 or -ENOMEM. An empty array when nothing stands out. */
int corrwin_spans(const json_t *intervals, json_t **spans, size_t *judged, size_t *bad, char *why,
                  size_t whylen);

/* When the requests that made the anomalous spans slow ran (new array of [t0_ms, t1_ms] into *out): each slow
 * exemplar (exemplars.jsonl) that completed in a span with a latency >= CORRELATE_WIN_REL x the run's median
 * p99 of all requests and no longer than one interval, from its start to its end. Latency is recorded when a
 * request completes: the work that delayed it ran while it was in flight, which may lie in the profile window
 * before the interval (a request slower than an interval queued through whole intervals: its in-flight time
 * locates nothing finer than they do). 0 or -ENOMEM. */
int corrwin_inflight(const json_t *exemplars, const json_t *intervals, const json_t *spans, json_t **out);

/* The times of a run the window method contrasts (corrwin_spans, corrwin_inflight). */
typedef struct corrwin_times {
  json_t *spans, *inflight;
  size_t judged, bad;
  char why[256]; /* the strongest signal in words */
} corrwin_times;

/* Fill *t from intervals and exemplars (may be NULL: no in-flight times). 0 or -ENOMEM (free *t either way
 * with corrwin_times_free). */
int corrwin_times_make(const json_t *intervals, const json_t *exemplars, corrwin_times *t);
void corrwin_times_free(corrwin_times *t);

/* A profile window [t0_ms, t1_ms) against t: CORRWIN_ANOMALOUS when >= CORRELATE_WIN_OVERLAP of it is
 * anomalous or a slow request of an anomalous span was in flight in it, CORRWIN_NORMAL when none of it is
 * anomalous or in flight, else CORRWIN_NEITHER. */
enum { CORRWIN_NEITHER, CORRWIN_ANOMALOUS, CORRWIN_NORMAL };
int corrwin_class(const corrwin_times *t, int64_t t0_ms, int64_t t1_ms);

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

/* Request work found at what every request of its name runs: r->fn (a CORRWIN_REQUEST contrast of a against
 * b, na and nb seconds of window) is the requests' shared context (plumbing, a closure, a middleware other
 * request names run too) or the entry of the request name whose samples in a hold most of it (its handler:
 * every frame above is context). That says only that those requests did more work. The finding moves down
 * that name's hot path in a: past the context to the name's first own frame when it holds >=
 * CORRELATE_ENTRY_SHARE of fn's excess (the name's samples per second of window in a minus in b, scaled),
 * then on to each callee that is the service's own (corrdesc_own: not a shared helper) and holds >=
 * ENTRY_SHARE of its caller's excess: the innermost frame still holding the work that rose. Only when the
 * frame reached passes the contrast's test (p < ALPHA); r's fn, a_fn, b_fn, p_value and path are then
 * replaced. 1 when moved. */
int corrwin_below_context(const corrstack *cs, const unsigned char *a, const unsigned char *b, double na,
                          double nb, corr_contrast *r);

/* A rare request's harm to everyone: is the request work fn of a window finding (a: the anomalous windows'
 * samples, spans: the anomalous seconds) mostly (> 1 - CORRELATE_WIN_UNLABELLED of its samples in a) one
 * request name's whose requests are <= CORRELATE_WIN_RARE of all requests of the run, while another name's
 * p99 (one with >= CORRELATE_WIN_MIN_COUNT requests a second) is >= CORRELATE_WIN_REL x higher in the
 * anomalous seconds than in the others (median over each)? Then that request's work made the others slow (a
 * yearly report materialising a heap every request pays for in GC assists): the window finding is kept
 * beside the request's own finding, and the other names' findings whose slow requests fall in its seconds
 * rank below it, as below background work. The name (borrowed from cs) with the words for the evidence in why
 * (its share of requests, the other name's p99s; "" when none), else NULL (always for fn < 0). */
const char *corrwin_harm_spread(const corrstack *cs, const unsigned char *a, int64_t fn,
                                const json_t *intervals, const json_t *spans, char *why, size_t whylen);

/* Drop win (a window finding of request work, CORRWIN_REQUEST; borrowed, may be NULL) from findings when a
 * request's finding (one with a "request") has win's function on its path or names it: that request's
 * finding says the same work finer, and a window finding says background work made requests slow. 1 when
 * dropped. */
int corrwin_drop_covered(json_t *findings, const json_t *win);

#endif
