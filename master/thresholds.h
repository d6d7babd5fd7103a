/* thresholds.h - pass/fail criteria from options.thresholds ("p99{name=POST /api/orders} < 250ms",
 * "errors rate < 1%", "rps > 100"): parsed before any load is sent, evaluated against the cumulative
 * merged stats at the end (and, for abort_on_fail ones, during the run). Exit code 99 is the caller's. */
#ifndef LOADCTL_THRESHOLDS_H
#define LOADCTL_THRESHOLDS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "common/options.h"
#include "common/stats.h"

/* The grammar (docs/scenario-api.md "Thresholds" has it as one table):
 *   METRIC[{SELECTOR, ...}] [AGGREGATE] OP VALUE
 * where a SELECTOR is name=REQUEST NAME, group=GROUP NAME (one of the two) or TAG=VALUE (any number:
 * {kind=api}, {scenario=buy}; k6's {kind:api} too): a request counts when all of them hold.
 * Metrics: pNN[.N] and p(NN[.N]) (p999 = p99.9), median/med, max, min, mean/avg, rps, errors (AGGREGATE
 * rate, the default, or count), dropped [count], requests [count] (requests rate = rps), checks (rate
 * of passed check() assertions; {name=CHECK NAME} for one check). k6's metric names are accepted:
 * http_req_duration, http_req_failed, http_reqs, dropped_iterations, checks. Operators < <= > >= ==.
 * Latency values take ns/us/ms/s/m units (bare = ms); rates take "%" or a fraction. */
enum thresholds_metric {
  THRESHOLDS_PCT = 0,
  THRESHOLDS_MAX,
  THRESHOLDS_MIN,
  THRESHOLDS_MEAN,
  THRESHOLDS_RPS,
  THRESHOLDS_ERR_RATE,
  THRESHOLDS_ERR_COUNT,
  THRESHOLDS_DROPPED,
  THRESHOLDS_REQUESTS,
  THRESHOLDS_CHECKS, /* fraction of check() assertions that passed */
  THRESHOLDS_CUSTOM  /* a custom metric (common/metric.h): name, then aggregate */
};
enum thresholds_op { THRESHOLDS_LT = 0, THRESHOLDS_LE, THRESHOLDS_GT, THRESHOLDS_GE, THRESHOLDS_EQ };

/* One parsed threshold; plain data so tests and reports can look inside. */
typedef struct threshold {
  char expr[512];            /* as written */
  int metric;                /* enum thresholds_metric */
  double percentile;         /* THRESHOLDS_PCT: 50, 99.9 ... */
  char name[STATS_NAME_MAX]; /* "" = all requests */
  bool group;                /* name is a group: every request inside it ({group=NAME}) */
  char tags[TAGSET_MAX];     /* tag pairs every counted request carries (canonical), "" = any */
  int op;                    /* enum thresholds_op */
  double limit;              /* latency in ms, rate as a fraction, rps, or a count */
  bool abort_on_fail;
  int64_t delay_abort_ns; /* abort_on_fail is not evaluated before this much run time (delayAbortEval) */
  bool evaluated, ok;
  double value;       /* last evaluated value, same unit as limit */
  char aggregate[16]; /* THRESHOLDS_CUSTOM: "p95", "rate", "count", "value", "sum", "min", "max", "avg" */
} threshold;

typedef struct thresholds thresholds;

/* Parse one expression into *out. -EINVAL and a message quoting the expression in err
 * (e.g. "threshold 'p98.x < 2': unknown metric 'p98.x' (use p50..p99.9, max, mean, rps, errors, dropped)").
 */
int thresholds_parse_one(const char *expr, threshold *out, char *err, size_t errlen);

/* Parse all of o->thresholds (o may be NULL or have none: an empty set). *out owned by caller,
 * release with thresholds_destroy. -EINVAL with the first bad expression quoted in err, or -ENOMEM. */
int thresholds_parse(const options *o, thresholds **out, char *err, size_t errlen);
/* Same from an array of expression strings (used when rebuilding a report from run.json). */
int thresholds_parse_list(const char *const *exprs, const bool *abort_on_fail, size_t n, thresholds **out,
                          char *err, size_t errlen);
void thresholds_destroy(thresholds *t);

size_t thresholds_count(const thresholds *t);
const threshold *thresholds_get(const thresholds *t, size_t i);

/* Evaluate all against cumulative stats over duration_s seconds (for rps). Returns true when every
 * threshold passed (also when there are none). A per-name threshold whose name never appeared fails
 * with value NaN (JSON null). */
bool thresholds_eval(thresholds *t, const stats_interval *cumulative, double duration_s);

/* During the run: evaluate only abort_on_fail thresholds whose delay_abort_ns has passed (duration_s is
 * the run time so far); true when one of them fails (stop the run). */
bool thresholds_should_abort(thresholds *t, const stats_interval *cumulative, double duration_s);

/* The value with its unit ("182.3ms", "0.50%", "1200.0/s", "3"; "-" before evaluation, "no data"). */
void thresholds_format_value(const threshold *th, char *buf, size_t size);

#endif
