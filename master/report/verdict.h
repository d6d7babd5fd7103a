/* verdict.h - the thresholds' results written out: JSON, the terminal table, JUnit XML. */
#ifndef LOADCTL_VERDICT_H
#define LOADCTL_VERDICT_H

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

#include "master/thresholds.h"

/* [{"expr": "...", "ok": true, "value": x}] (value null when NaN); new reference. */
json_t *verdict_json(const thresholds *t);

/* Print a table "threshold  value  result" (colour when color is true). */
void verdict_print(const thresholds *t, FILE *out, bool color);

/* Write JUnit XML (one testsuite "loadctl thresholds", one testcase per threshold, <failure> on fail)
 * to path atomically. 0 or negative errno. */
int verdict_write_junit(const thresholds *t, const char *path);

#endif
