/* compare.h - `loadctl compare RUN_A RUN_B`: per request name, rps, p50, p95, p99 and error rate of B
 * against A with a verdict (regression / improvement / same) outside noise margins; text table and
 * compare.html. */
#ifndef LOADCTL_COMPARE_H
#define LOADCTL_COMPARE_H

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

/* Noise margins: rps and latencies change only when above rel (fraction, default 0.10) and, for
 * latencies, abs_ms (default 1 ms). The error rate has its own: it changes when it moves by more than
 * errors (a fraction of requests, absolute: default 0.005 = half a percentage point). */
typedef struct compare_margin {
  double rel;
  double abs_ms;
  double errors;
} compare_margin;

/* Compare two summary.json objects (borrowed). Returns a new object:
 * {"a":dir,"b":dir,"requests":[{"name","verdict","metrics":{"rps":{"a","b","change","verdict"},"p50_ms":
 *  ..., "error_rate":...}}], "regressions":N,"improvements":N,"margin":{"rel","abs_ms","errors"}}.
 * A request whose error rate is worse is a regression even when its latency is the same. */
json_t *compare_summaries(const json_t *a, const json_t *b, compare_margin margin);

/* Load DIR/summary.json (rebuilding it first if missing). New reference or NULL with err. */
json_t *compare_load(const char *dir, char *err, size_t errlen);

/* Text table to out; colour when color. */
void compare_print(const json_t *result, FILE *out, bool color);

/* Self-contained compare.html at path; with profile (flame_compare_data's, may be NULL) run B's flame
 * graphs and its differential flame graph against A. 0 or negative errno. */
int compare_write_html(const json_t *result, const json_t *profile, const char *path);

#endif
