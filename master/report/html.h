/* html.h - report.html: one self-contained page (inline SVG drawn here, a little inline JS for hover
 * and zoom, no network) with throughput, errors, latency over time, the latency distribution,
 * users/rate, per-request and failures tables, thresholds, run metadata and plug-in sections. */
#ifndef LOADCTL_HTML_H
#define LOADCTL_HTML_H

#include <jansson.h>
#include <stdio.h>

#include "master/report/report.h"

/* Write the page for r to out. dir (may be NULL) is searched for sections/NN-name.html fragments to inline.
 */
int html_write(const report *r, const char *dir, FILE *out);

/* The charts' data (the page's loadctl-data JSON, read by assets/chart.js); the live page fetches the same
 * object from /api/chart. New reference, NULL on -ENOMEM. */
json_t *html_chart_data(const report *r);

/* Helpers shared with compare.c: the page head (title, CSS, the error/ok title script) and end. */
void html_begin(FILE *out, const char *title);
void html_end(FILE *out);
/* The chart and report scripts (after the page's loadctl-data JSON). */
void html_scripts(FILE *out);
void html_escape(FILE *out, const char *text);

#endif
