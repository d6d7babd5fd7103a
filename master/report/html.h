/* html.h - report.html: one self-contained page (inline SVG drawn here, a little inline JS for hover
 * and zoom, no network) with throughput, errors, latency over time, the latency distribution,
 * users/rate, per-request and failures tables, thresholds, run metadata and plug-in sections. */
#ifndef LOADCTL_HTML_H
#define LOADCTL_HTML_H

#include <jansson.h>
#include <stdio.h>

#include "master/report/report.h"

/* The target's heap, allocation rate and GC share next to latency (summary.json's profile_timeline,
 * drawn by assets/chart.js); the live page has the same section (assets/live.html). */
#define HTML_MEMORY_SECTION                                                                                \
  "<section id=\"memory\"><h2>Target memory and GC over time</h2><div data-chart=\"heap\"></div>"          \
  "<div class=\"row2\"><div data-chart=\"alloc\"></div><div data-chart=\"gc\"></div></div><p "             \
  "class=\"note\">"                                                                                        \
  "from the target's heap and CPU profile windows: heap in use, bytes allocated per second and the share " \
  "of CPU samples in the garbage collector, on the latency chart's time axis "                             \
  "(docs/report.md)</p></section>\n"

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
