/* correlate.h - turns a run's profiles, latency intervals and slow-request exemplars into "findings":
 * which function explains the tail, an endpoint, a bad time window or a run-to-run regression.
 *
 * Methods, strongest evidence first (DESIGN.md "Profiles and correlation"):
 *   tail       - CPU samples labelled trace_id/span_id of requests measured slow vs other traced samples;
 *   endpoint   - samples labelled loadctl.name / k6.name: one request's function share vs the rest;
 *   window     - per profile window latency vs function share (Spearman rank + bad-window share), and
 *                mutex/block profiles: a function dominating contention ("profile":"mutex"|"block");
 *   regression - run vs run differential (correlate_compare).
 * A function is the first frame from the leaf that is not runtime./sync./internal code (the user frame
 * that caused the work); a stack of runtime frames only keeps its leaf. Nothing is claimed under
 * CORRELATE_MIN_SAMPLES samples in the group the claim is about.
 * Each finding: {"kind","request","function","share","baseline_share","window","evidence"} plus
 * "samples","score" and "profile"; the array is sorted by score, strongest first. */
#ifndef LOADCTL_CORRELATE_H
#define LOADCTL_CORRELATE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "master/profile/pprof.h"

#define CORRELATE_MIN_SAMPLES 50

/* One decoded profile window. */
typedef struct correlate_window {
  int64_t start_ms, end_ms; /* wall clock */
  const char *type;         /* "cpu", "mutex", "block", "folded", ... */
  const pprof_profile *prof;
} correlate_window;

/* In-memory inputs (what correlate_run reads from a run directory). All borrowed. */
typedef struct correlate_input {
  const correlate_window *windows;
  size_t nwindows;
  const json_t
      *intervals; /* array of intervals.jsonl objects (t, interval_ms, name, count, p99_ms), or NULL */
  const json_t *exemplars; /* array of exemplars.jsonl objects (t, name, slow[], typical[]), or NULL */
} correlate_input;

/* Findings (new JSON array, sorted strongest first; empty when nothing is supported by enough samples)
 * into *out. 0 or -ENOMEM. */
int correlate_findings(const correlate_input *in, json_t **out);

/* Read run_dir/intervals.jsonl, exemplars.jsonl, profiles/index.jsonl and the "ok" profile windows, and
 * compute the findings (*out, new array). Missing files mean fewer methods apply (not an error); a window
 * that does not decode is skipped. 0, -ENOMEM, or -errno when run_dir is unreadable (message in err). */
int correlate_run(const char *run_dir, json_t **out, char *err, size_t errlen);

/* Run vs run: functions whose share of cur exceeds their share of base (both with enough samples, value
 * index 0 of each). Appends "regression" findings to out (a JSON array). Returns how many were added, or
 * -ENOMEM. */
int correlate_compare(const pprof_profile *base, const pprof_profile *cur, json_t *out);

/* correlate_compare on two run directories' merged CPU profiles (export_merge_run). Returns findings added,
 * 0 when either run has no CPU profile, or -ENOMEM. For `loadctl compare BASE NEW`. */
int correlate_compare_runs(const char *base_dir, const char *cur_dir, json_t *out);

typedef struct report report;

/* Everything the profile side adds to a finished run, in one call for the master loop and
 * `loadctl report DIR`: correlate_run -> report_set_findings(r) (when r is not NULL), the profile section
 * run_dir/sections/50-profile.html (flame graphs etc., flame.h) and the merged exports
 * run_dir/profile-<type>.{pb.gz,folded,speedscope.json} (export.h). A run without profiles gets an empty
 * findings array and no section. Returns the number of findings, or a negative errno (message in err). */
int correlate_attach(const char *run_dir, report *r, char *err, size_t errlen);

/* The user frame a sample is attributed to (see above). Never NULL for a sample with a stack. */
const char *correlate_frame(const pprof_profile *p, const pprof_sample *s);

#endif
