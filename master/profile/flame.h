/* flame.h - the profile side of report.html: flame graph (zoom, search), differential flame graph (slow vs
 * typical requests, or run vs run), per-request flame graphs, a treemap of self time, a sunburst, a call
 * graph, a top-functions table with file:line and a by-line view; all drawn by one small inline JS renderer
 * from JSON data (no network). */
#ifndef LOADCTL_FLAME_H
#define LOADCTL_FLAME_H

#include <jansson.h>
#include <stdio.h>

#include "master/profile/pprof.h"

#define FLAME_TOP 30 /* rows of the top-functions table; the call graph shows the top 15 */

/* Call tree of value vi of p: {"n":"all","v":total,"s":self,"c":[children sorted by v desc]} with stacks
 * root first; zero-valued samples are skipped. New reference in *out. 0, -EINVAL, -ENOMEM. */
int flame_tree(const pprof_profile *p, size_t vi, json_t **out);

/* Differential tree: nodes of a and b merged, "v" = a's value (slow / new), "b" = b's value (typical /
 * base). Value index 0 of both. 0 or -ENOMEM. */
int flame_diff_tree(const pprof_profile *a, const pprof_profile *b, json_t **out);

/* Top functions [{"f","flat","cum"}] (cum desc, FLAME_TOP at most) and call edges among the top 15
 * [{"from","to","v"}] of value vi. 0, -EINVAL, -ENOMEM. */
int flame_top(const pprof_profile *p, size_t vi, json_t **top, json_t **edges);

/* Page data for p (the merged CPU profile): {"unit","flame","top","edges","requests":{name:tree},"diff"}.
 * slow (may be NULL) is the slow-request part and typical the rest, for the differential graph; requests
 * come from the loadctl.name / k6.name labels. New reference in *out. 0 or -ENOMEM. */
int flame_data(const pprof_profile *p, const pprof_profile *slow, const pprof_profile *typical, json_t **out);

/* Build the data for a run directory: merged cpu windows, slow = samples whose trace_id/span_id is a slow
 * exemplar in exemplars.jsonl; "lines" (proflines.h) and "types" (proftypes.h) added. *out NULL (and 0) when
 * the run has no cpu profile. 0 or -ENOMEM. */
int flame_run_data(const char *run_dir, json_t **out);

/* For compare.html: flame_data of run cur_dir's merged CPU profile (with its "lines"), its differential graph
 * against base_dir's ("diff_title"/"diff_note" say so). *out NULL (and 0) when either run has no CPU profile.
 * 0 or -ENOMEM. */
int flame_compare_data(const char *base_dir, const char *cur_dir, json_t **out);

/* Write the HTML fragment (containers + embedded JSON + renderer) for data; data's "diff_title" and
 * "diff_note" (plain text) replace the differential graph's heading and note. 0 or -EIO. */
int flame_write_html(FILE *out, const json_t *data);

/* flame_run_data + flame_write_html into run_dir/sections/50-profile.html (picked up by report.html,
 * also on `loadctl report DIR`). 1 written, 0 nothing to show, negative errno. */
int flame_write_section(const char *run_dir);

#endif
