/* corrlat.h - the latency side of correlation, read from intervals.jsonl lines (t, name, count, p50_ms,
 * p99_ms, mean_ms; the "(all)" line of each interval is the total): how many requests a name had, how long
 * requests took, and whether a name's latency stands out against the other names' (the gate of the endpoint
 * method, thresholds CORRELATE_ENDPOINT_* in correlate.h). All functions read iv and keep nothing. */
#ifndef LOADCTL_CORRLAT_H
#define LOADCTL_CORRLAT_H

#include <jansson.h>
#include <stddef.h>

/* Requests of name over the run (NULL: all names); 0 when unknown. */
double corrlat_requests(const json_t *iv, const char *name);

/* Time requests took (ms) over the run at its typical pace: all requests x the median over intervals of the
 * totals' mean latency (a few stalled seconds do not decide); -1 when unknown. */
double corrlat_request_ms(const json_t *iv);

/* How name's latency stands out against the other names', two ways: [0] the run's count-weighted means (plain
 * when the fault's seconds are few), [1] the median over intervals of the per-interval ratio (robust when
 * overloaded seconds, where every name is slow, weigh on the means). */
typedef struct corrlat_standing {
  double p99[2], p50[2]; /* name's over the other names' median; -1: not measured (p99[1] < 0: no intervals
                          * with name and another, which counts as standing out) */
  size_t n;              /* intervals behind [1] */
} corrlat_standing;

corrlat_standing corrlat_stand(const json_t *iv, const char *name);

enum { CORRLAT_TAIL = 1, CORRLAT_BODY = 2 };

/* Does the latency stand out, either way? CORRLAT_TAIL: p99 >= CORRELATE_ENDPOINT_P99 x the other names' and
 * its p99 ratio that much above its p50 ratio (a part of its requests slow; an endpoint uniformly heavier by
 * design is not a tail); else CORRLAT_BODY: p50 >= CORRELATE_ENDPOINT_P50 x theirs (all of its requests
 * slow); else 0. The reason in words ("; its p99 is 2.1x the other requests' (the median interval)") into
 * why. */
int corrlat_stands_out(const corrlat_standing *st, char *why, size_t whylen);

#endif
