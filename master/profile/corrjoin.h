/* corrjoin.h - whose a profile sample is: the request name and trace/span ids read from its labels (names as
 * the service wrote them: percent-decoded W3C baggage, loadctl.name, k6.name, http.route-style keys), and the
 * one exemplar join that both the tail finding (correlate.c) and the slow-vs-typical flame graph (flame.c)
 * use. Classes:
 * - slow: the sample's trace or span id is one of the slowest requests of its second measured slow (latency
 *   >= CORRELATE_SLOW_FACTOR x the median of its request name's typical exemplars);
 * - typical: it carries a trace/span id that is not slow (other requests measured, or never slowest), and
 *   is not a typical pick measured that slow (neither: named);
 * - named: a request name but no id, or such a pick (per-request methods only);
 * - unlabelled: no request label at all (background goroutines/threads), its own population.
 * Ownership: corrjoin_create's *out is released with corrjoin_free; returned strings live as long as it. */
#ifndef LOADCTL_CORRJOIN_H
#define LOADCTL_CORRJOIN_H

#include <jansson.h>
#include <stddef.h>

#include "master/profile/pprof.h"

enum { CORRJOIN_UNLABELLED = 0, CORRJOIN_NAMED = 1, CORRJOIN_TYPICAL = 2, CORRJOIN_SLOW = 3 };

typedef struct corrjoin corrjoin;

/* Build the join from exemplars.jsonl lines (t, name, slow[], typical[]; may be NULL) and the request names
 * of intervals.jsonl lines (may be NULL; used to map route-only labels onto loadctl's names). 0 or -ENOMEM.
 */
int corrjoin_create(const json_t *exemplars, const json_t *intervals, corrjoin **out);
void corrjoin_free(corrjoin *j);

/* Exemplars of name (NULL: all) classed slow. */
size_t corrjoin_nslow_name(const corrjoin *j, const char *name);

/* Exemplars classed slow, and exemplars seen in all. */
size_t corrjoin_nslow(const corrjoin *j);
size_t corrjoin_nexemplars(const corrjoin *j);

/* The request name of sample s, percent-decoded (a byte of an invalid UTF-8 sequence becomes '?') and mapped
 * onto a known request name when only a route matches ("/api/orders" -> "POST /api/orders"), or NULL when
 * unlabelled. Keys, first present wins: loadctl.name, k6.name, http.route, route, endpoint (with
 * http.method/http.request.method prefixed when a route alone is not a known name). */
const char *corrjoin_request(corrjoin *j, const pprof_profile *p, const pprof_sample *s);

/* Trace and span ids of s (labels trace_id, span_id, trace.id, span.id, traceID, spanID, or a whole
 * W3C traceparent label); NULL when absent. The strings are pooled in j. */
void corrjoin_ids(corrjoin *j, const pprof_profile *p, const pprof_sample *s, const char **trace,
                  const char **span);

/* Class of a sample with these ids and name (CORRJOIN_*); *slow_name (may be NULL) gets the slow exemplar's
 * request name. */
int corrjoin_class(const corrjoin *j, const char *trace, const char *span, const char *name,
                   const char **slow_name);

/* s pooled in j (equal strings give the same pointer, as corrjoin_request's do). */
const char *corrjoin_pool(corrjoin *j, const char *s);

/* The JSON objects of run_dir/name (common/jsonlines: torn and malformed lines skipped); NULL when the
 * file cannot be read. New reference. */
json_t *corrjoin_read_jsonl(const char *run_dir, const char *name);

/* The join of a run directory: its exemplars.jsonl and intervals.jsonl. 0 or -ENOMEM. */
int corrjoin_create_run(const char *run_dir, corrjoin **out);

/* Percent-decode src (%XX; an invalid escape stays as is) into dst (dstlen bytes, NUL-terminated). */
void corrjoin_decode(const char *src, char *dst, size_t dstlen);

#endif
