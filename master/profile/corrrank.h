/* corrrank.h - one order for the findings of every correlation method (docs/report.md "How findings are
 * made", "Ranking"): a finding's score is its method's standing plus its effect, and evidence that would not
 * survive a correction for the many frames a method tests ranks below all evidence that would
 * (CORRELATE_STRONG_ALPHA, CORRELATE_WEAK_DROP in correlate.h); then the ranked list names each function and
 * each request's time once. */
#ifndef LOADCTL_CORRRANK_H
#define LOADCTL_CORRRANK_H

#include <jansson.h>

/* Methods' standing: how clean the baseline a finding is contrasted with is. Slow requests against the same
 * name's typical ones (tail; a wait RANK_WAIT lower, a CPU finding first), a lock's holder against the other
 * contending functions, one name against the other names (which run other code by design), the anomalous
 * seconds against the others (everything the process did). The effect (share - baseline_share, or a lock's
 * share of the delay) is added: in [-1, 1]. */
#define CORRRANK_TAIL 3.0
#define CORRRANK_LOCK 2.5
#define CORRRANK_ENDPOINT 2.0
#define CORRRANK_WINDOW 1.0
#define CORRRANK_WAIT 0.25

/* The score a finding ranks by: standing + effect, less CORRELATE_WEAK_DROP when p_value is not below
 * CORRELATE_STRONG_ALPHA (weak evidence, ranked below all strong evidence whatever its method). */
double corrrank_score(double standing, double effect, double p_value);

/* Sort raw (findings with "score") strongest first; a function already named by a stronger finding is not
 * named again, nor the same time of the same request (the same request, and one names the other's function
 * or holds it on its path), except that a finer finding of it takes the stronger one's place
 * (corrdesc_finer). New array (references to raw's findings), or NULL when out of memory. */
json_t *corrrank_rank(const json_t *raw);

#endif
