/* leak.h - the `leak` finding: in-use heap memory that grows steadily at one allocation site over the
 * run's heap windows (delta profiles, Go's /debug/pprof/heap?seconds=W). */
#ifndef LOADCTL_LEAK_H
#define LOADCTL_LEAK_H

#include <jansson.h>

#define LEAK_MIN_WINDOWS                                                                     \
  4                      /* heap windows that changed needed (Go updates its heap profile at \
                          * each GC: a window without a GC shows no change and is not counted) */
#define LEAK_GROWING 0.6 /* share of those windows in which the site's in-use bytes grew */
#define LEAK_MIN_BYTES ((double)(1 << 20)) /* the site's growth over the run */
#define LEAK_MIN_SHARE 0.10                /* and its share of the growth of all growing sites */
#define LEAK_STEADY_R 0.9                  /* Pearson r of the site's cumulative growth against time */

/* Replace the "leak" findings in out (a JSON array) with those of run_dir's heap windows:
 * {"kind":"leak","request":null,"function","path":[root .. function],"profile":"heap","share",
 *  "baseline_share":0,"window":[start_ms,end_ms],"growth_bytes","bytes_per_s","samples":{"windows"
 *  (that changed), "growing"},"steadiness","evidence","score"}. The site is the first frame from the
 * allocation that is not the runtime's. Returns how many were added, or -ENOMEM. */
int leak_run(const char *run_dir, json_t *out);

#endif
