/* compare.h - `loadctl compare RUN_A RUN_B`: per request name, rps, p50, p95, p99 of B against A with a
 * verdict (regression / improvement / same) outside a noise margin; text table and compare.html. */
#ifndef LOADCTL_COMPARE_H
#define LOADCTL_COMPARE_H

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

/* Noise margin: a change counts only when it is above both rel (fraction, default 0.10) and, for
 * latencies, abs_ms (default 1 ms). */
typedef struct compare_margin {
  double rel;
  double abs_ms;
} compare_margin;

/* Compare two summary.json objects (borrowed). Returns a new object:
 * {"a":dir,"b":dir,"requests":[{"name","verdict","metrics":{"rps":{"a","b","change"},"p50_ms":...}}],
 *  "regressions":N,"improvements":N}. NULL on -ENOMEM. */
json_t *compare_summaries(const json_t *a, const json_t *b, compare_margin margin);

/* Load DIR/summary.json (rebuilding it first if missing). New reference or NULL with err. */
json_t *compare_load(const char *dir, char *err, size_t errlen);

/* Text table to out; colour when color. */
void compare_print(const json_t *result, FILE *out, bool color);

/* Self-contained compare.html at path. 0 or negative errno. */
int compare_write_html(const json_t *result, const char *path);

#endif
