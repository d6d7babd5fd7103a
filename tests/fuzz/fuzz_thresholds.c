/* fuzz_thresholds.c - libFuzzer harness (LOADCTL_FUZZ=ON) for the threshold expressions of
 * options.thresholds ("p99{name=POST /api/orders} < 250ms"): thresholds_parse_one on any text, and an
 * accepted one must have a known metric and operator and a finite limit. Seeds: corpus/thresholds/. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "master/thresholds.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char text[600], err[512];
  threshold t;

  if (size >= sizeof text) return 0;
  memcpy(text, data, size);
  text[size] = '\0';
  memset(&t, 0, sizeof t);
  if (thresholds_parse_one(text, &t, err, sizeof err) == 0) {
    static const char *const aggregates[] = {"p",   "rate", "count", "value", "sum",
                                             "min", "max",  "avg",   "mean",  "med"};
    int agg_ok = 0;
    for (size_t i = 0; i < sizeof aggregates / sizeof aggregates[0]; i++)
      agg_ok |= strncmp(t.aggregate, aggregates[i], strlen(aggregates[i])) == 0 && t.aggregate[0];
    if (t.metric < THRESHOLDS_PCT || t.metric > THRESHOLDS_CUSTOM) abort();
    if (t.metric == THRESHOLDS_CUSTOM && (!agg_ok || !t.name[0]))
      abort(); /* custom metrics: name + aggregate */
    if (t.op < THRESHOLDS_LT || t.op > THRESHOLDS_EQ) abort();
    if (!isfinite(t.limit)) abort();
    if (t.metric == THRESHOLDS_PCT && !(t.percentile >= 0 && t.percentile <= 100)) abort();
  } else if (strlen(err) == 0) {
    abort(); /* a rejected expression always says why */
  }
  return 0;
}
