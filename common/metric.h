/* metric.h - custom metrics a scenario records (k6's Counter, Gauge, Rate and Trend): one per name per
 * stats interval, merged exactly across threads, workers and intervals (a Trend's values in an HDR
 * histogram), and written to / read from JSON for intervals.jsonl, summary.json and `loadctl report`. */
#ifndef LOADCTL_METRIC_H
#define LOADCTL_METRIC_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "common/hist.h"

#define METRIC_NAME_MAX 256
#define METRIC_MAX 256          /* distinct custom metrics per run; more are refused with a script error */
#define METRIC_TREND_SCALE 1000 /* Trend values are kept in the histogram in thousandths */

enum metric_kind { METRIC_COUNTER = 1, METRIC_GAUGE, METRIC_RATE, METRIC_TREND };

typedef struct metric_state {
  char name[METRIC_NAME_MAX];
  int kind;         /* enum metric_kind */
  int64_t count;    /* counter: adds; rate: samples; trend: values; gauge: sets */
  int64_t passes;   /* rate: samples that were true */
  double sum;       /* counter: the total; trend: the sum of values */
  double value;     /* gauge: the last value set */
  int64_t value_ms; /* gauge: wall ms of that set (the latest wins in a merge) */
  double min, max;  /* gauge and trend (valid when count > 0) */
  hist *values;     /* trend: values x METRIC_TREND_SCALE; owned */
} metric_state;

/* "counter", "gauge", "rate", "trend"; metric_kind_parse returns 0 for an unknown name. */
const char *metric_kind_name(int kind);
int metric_kind_parse(const char *name);

/* Find name in arr[0..*n) or append it (growing *cap). NULL on -ENOMEM, when METRIC_MAX is reached, or
 * when name exists with another kind (*kind_clash set to 1 then). Pointers move when one is appended. */
metric_state *metric_get(metric_state **arr, size_t *n, size_t *cap, const char *name, int kind,
                         int *kind_clash);
/* One sample: counter and trend add value, rate counts value != 0 as a pass, gauge sets it (at now_ms). */
void metric_record(metric_state *m, double value, int64_t now_ms);
/* dst += src exactly (same name and kind). 0, or -EINVAL for a kind mismatch. */
int metric_merge(metric_state *dst, const metric_state *src);
void metric_clear(metric_state *m);   /* empty, keeping the name, kind and memory */
void metric_release(metric_state *m); /* free what m owns */

/* A Trend's percentile (0..100) in the values' unit, to HDR's 3 significant digits (0 when empty). */
double metric_percentile(const metric_state *m, double percentile);
/* The value thresholds compare for aggregate ("count", "rate", "value", "min", "max", "avg", "sum",
 * "pNN"): NaN when it does not apply to m's kind or no sample was recorded. */
double metric_aggregate(const metric_state *m, const char *aggregate);

/* JSON for m: kind, counts and (summary = 1) what a person reads (rate, percentiles), or (summary = 0)
 * the exact state with the histogram in base64 for intervals.jsonl. NULL on -ENOMEM. */
json_t *metric_json(const metric_state *m, int summary);
/* Add the state metric_json(m, 0) wrote to arr (a metric_state of that name and kind). 0 or -EINVAL/-ENOMEM.
 */
int metric_from_json(metric_state **arr, size_t *n, size_t *cap, const json_t *o);

#endif
