/* corrrank.h - one order for the findings of every correlation method (docs/report.md "How findings are
 * made", "Ranking"): a finding's score is its method's standing plus its effect, and evidence that would not
 * survive a correction for the many frames a method tests ranks below all evidence that would
 * (CORRELATE_STRONG_ALPHA, CORRELATE_WEAK_DROP in correlate.h); then the ranked list names each function and
 * each request's time once. */
#ifndef LOADCTL_CORRELATE_RANK_H
#define LOADCTL_CORRELATE_RANK_H

#include <jansson.h>

/* The standing of an endpoint finding: from wait observations (wait_set) of kind "wait",
 * CORRELATE_RANK_ENDPOINT_WAIT; from wait observations found on CPU after all, CORRELATE_RANK_ENDPOINT -
 * CORRELATE_RANK_WAIT; else CORRELATE_RANK_ENDPOINT. kind: the finding's kind when not the method's own
 * ("wait", "alloc"), or NULL. */
double corrrank_endpoint(int wait_set, const char *kind);

/* The score a finding ranks by: standing + effect, less CORRELATE_WEAK_DROP when p_value is not below
 * CORRELATE_STRONG_ALPHA (weak evidence, ranked below all strong evidence whatever its method). */
double corrrank_score(double standing, double effect, double p_value);

/* Weigh each request's finding (one with a "request", other than a window) by how heavy that request's tail
 * is: its score loses CORRELATE_RANK_TAIL_WEIGHT x (1 - p99 / worst), where p99 is its request's
 * count-weighted mean of the per-interval p99 in intervals (intervals.jsonl lines) and worst the largest such
 * p99 among the findings' requests; the finding about the worst tail keeps its score. A name without interval
 * lines is not weighed. Evidence says so when the score moved. Findings changed in place. */
void corrrank_weigh_tails(json_t *findings, const json_t *intervals);

/* Sort raw (findings with "score") strongest first; a function already named by a stronger finding is not
 * named again, nor the same time of the same request (the same request, and one names the other's function
 * or holds it on its path), except that a finer finding of it takes the stronger one's place
 * (corrdesc_finer). New array (references to raw's findings), or NULL when out of memory. */
json_t *corrrank_rank(const json_t *raw);

#endif
