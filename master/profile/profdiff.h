/* profdiff.h - run vs run on profiles (DESIGN's correlation method 4, for `loadctl compare A B`): each
 * request name's labelled CPU time per function, normalised by the requests of that name each run served
 * inside its CPU windows (cost.h), and the functions whose CPU per request changed beyond noise. */
#ifndef LOADCTL_PROFDIFF_H
#define LOADCTL_PROFDIFF_H

#include <jansson.h>
#include <stddef.h>

#define PROFDIFF_ALL \
  "(all)" /* the request of findings made on every sample (no name labelled in both runs) */
#define PROFDIFF_MIN_SAMPLES 30 /* samples of the function in the larger of the two runs */
#define PROFDIFF_ALPHA 0.001    /* two-sided p of the Poisson rate test (samples per request) */
#define PROFDIFF_MIN_RATIO 1.25 /* after / before (or before / after for an improvement) */
#define PROFDIFF_MIN_SHARE \
  0.10 /* the change is >= this share of the request's CPU per request (larger run) */
#define PROFDIFF_TOLERANCE                                                            \
  0.95 /* named: the innermost function carrying >= this share of the largest change, \
        * or whose difference to the largest fails the gates above */

/* Append to out (a JSON array) one finding per request name whose CPU per request changed between the runs:
 * {"kind":"regression"|"improvement","request","function","path":[root .. function],"profile":"cpu",
 *  "cpu_ms_per_req":{"before","after"},"samples":{"before","after"},"requests":{"before","after"},
 *  "share","baseline_share","p_value","evidence","score"}; share = the function's part of the request's
 * CPU per request after, baseline_share before. When no request name is labelled in both runs, every sample
 * over every request measured inside the CPU windows, as request "(all)". Runs without CPU windows add
 * nothing. Returns
 * how many findings were added, or -ENOMEM / -errno (message in err). */
int profdiff_runs(const char *base_dir, const char *cur_dir, json_t *out, char *err, size_t errlen);

#endif
