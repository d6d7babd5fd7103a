/* corrdesc.h - where a contrast without a baseline of its own diverges (below the entry every request of a
 * name runs), and where the frame a contrast picked is only the way to the fault: the finding moves down a's
 * hot path to the callee that holds the time (docs/profiling.md "Down to the work"; constants in
 * correlate.h). */
#ifndef LOADCTL_CORRDESC_H
#define LOADCTL_CORRDESC_H

#include <jansson.h>
#include <stdint.h>

#include "master/profile/corrstack.h"

/* No baseline of a's own requests (b's samples too few for shares, or other names' only): every frame of a's
 * hot path has the same excess, and its leaf is no more the answer than its handler. Context is what a's
 * requests share with others: plumbing, frames of other request names' samples (middleware), and o->known
 * (frames their typical requests were seen running in any profile). The divergence is the first frame of a's
 * hot path below that context; when nothing shows a's typical requests, that first frame is their entry (the
 * handler, which every request of the name runs) and the divergence is below it. Closures and shared helpers
 * (CORRELATE_HELPER_CALLERS callers in the run) are passed over, never named. -1 when the path shows none;
 * *how: CORR_BELOW_ENTRY or CORR_BELOW_KNOWN (0 when none). Used by corrstack_contrast with corr_opts.entry.
 */
int64_t corrdesc_entry(const corrstack *cs, const unsigned char *a, const corr_opts *o, int *how);

/* How the frame passed to corrdesc_below was placed: picked by a contrast (or placed below the entry by the
 * no-baseline rule), a wait (the frame that waits is named, not its callers), or placed by the no-baseline
 * rule below frames the typical requests are seen running (corrdesc_entry's CORR_BELOW_KNOWN). */
enum { CORRDESC_PICKED = 0, CORRDESC_WAIT = 1, CORRDESC_KNOWN = 2 };

/* From fn down a's hot path (corrstack_path), one callee at a step while the callee is the service's own (not
 * plumbing, not a closure, fewer than CORRELATE_HELPER_CALLERS callers in the run, under HELPER_BASE of the
 * samples of other request names and of no request's) and either
 *  - how is CORRDESC_WAIT, the callee is the innermost service frame of the path and calls library code
 *    (where it waits: a socket read, a sleep) and it holds (within CORRELATE_TOLERANCE) all of fn's value in
 *    a and in b: fn only passes the wait on; or
 *  - how is CORRDESC_PICKED, fn is a's entry (every frame above it plumbing, a closure or run by other
 *    request names: the frame every request of the name runs) and the callee holds >= ENTRY_SHARE of fn's
 *    excess of a over b, excess(f) = ia[f] - scale * ib[f] (scale: a's total over b's, or a's requests over
 *    b's for rates); or
 *  - how is not CORRDESC_WAIT (CORRELATE_DOWN_COMMON), the callee holds >= ENTRY_SHARE of fn's excess and,
 *    of fn's value, a larger share in a than in b (>= MIN_DELTA, two-proportion z test p < ALPHA): fn's
 *    other work is alike in both, the callee is where a's extra time goes.
 * ia, ib: inclusive values of a and b (corrstack_inclusive). Returns the frame reached (fn when none). */
int64_t corrdesc_below(const corrstack *cs, const unsigned char *a, const double *ia, const double *ib,
                       double scale, int how, int64_t fn);

/* Is frame id the service's own and not a shared helper, as corrdesc_below judges a callee (fewer than
 * HELPER_CALLERS callers, under HELPER_BASE of the samples outside a's request name, not plumbing/closure)?
 */
int corrdesc_own(const corrstack *cs, const unsigned char *a, int64_t id);

/* Of two findings of one request's same time, kept (stronger) and g: is g the finer, to take kept's place?
 * kept an "endpoint" one (the name against other names, which cannot say what the name's typical requests
 * run) and g a "tail", "wait" or "alloc" one (its slow requests against its typical ones) naming a frame
 * below kept's on kept's path: the entry every request of the name runs is kept's, the divergence g's. */
int corrdesc_finer(const json_t *kept, const json_t *g);

/* What a no-baseline tail finding's frame is below, for its evidence (corr_contrast.no_baseline's value). */
const char *corrdesc_why(int no_baseline);

#endif
