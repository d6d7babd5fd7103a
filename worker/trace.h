/* trace.h - W3C trace context and baggage for every request, so profilers on the target can label
 * samples by request (Pyroscope's k6 middleware, OpenTelemetry) and slow requests can be joined. */
#ifndef LOADCTL_TRACE_H
#define LOADCTL_TRACE_H

#include <stddef.h>
#include <stdint.h>

/* xorshift64* step; *state must be non-zero. */
uint64_t trace_rand(uint64_t *state);
/* 32 lowercase hex chars + NUL (a trace id), never all zero. */
void trace_new_trace_id(uint64_t *rng, char out[33]);
/* 16 lowercase hex chars + NUL (a span id), never all zero. */
void trace_new_span_id(uint64_t *rng, char out[17]);
/* "00-<trace>-<span>-01" into out (56 bytes). */
void trace_traceparent(const char *trace_id, const char *span_id, char out[56]);
/* "loadctl.run=..,loadctl.scenario=..,loadctl.name=..,k6.test_run_id=..,k6.scenario=..,k6.name=.." with
 * values percent-encoded (RFC 3986 unreserved kept). Returns the length, or -1 if it did not fit. */
int trace_baggage(char *out, size_t size, const char *run_id, const char *scenario, const char *name);

#endif
