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

/* Anomalous spans (new array of [t0_ms, t1_ms], adjacent intervals merged) into *spans; *judged = steady
 * intervals judged, *bad = anomalous ones; why (may be NULL) gets the strongest signal in words, e.g.
 * "p99 of GET /x 152.0 ms vs median 10.0 ms". 0 or -ENOMEM. An empty array when nothing stands out. */
int corrwin_spans(const json_t *intervals, json_t **spans, size_t *judged, size_t *bad, char *why,
                  size_t whylen);

/* Share of [t0_ms, t1_ms) covered by spans (0..1). */
double corrwin_overlap(const json_t *spans, int64_t t0_ms, int64_t t1_ms);

#endif
