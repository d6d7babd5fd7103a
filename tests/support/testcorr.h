/* testcorr.h - synthetic inputs of the correlation suites (tests/unit/test_corr*.c): a CPU/wall sample from
 * a stack's text with a request's labels, one interval line of intervals.jsonl, and the function a request's
 * first finding names. Stacks are read by teststack.h's test_stack_in. */
#ifndef LOADCTL_TESTS_TESTCORR_H
#define LOADCTL_TESTS_TESTCORR_H

#include <jansson.h>
#include <stdint.h>

#include "master/profile/pprof.h"

/* Add to p one sample of value v on frames ("root;mid;leaf", a frame "name@file" names its file, else file,
 * which may be NULL; at most 32 frames), labelled loadctl.name=name and trace_id=tid; name NULL: no label at
 * all (a background thread), tid NULL: the name only. Asserted (check) to succeed. */
void testcorr_sample(pprof_profile *p, const char *frames, const char *file, int64_t v, const char *name,
                     const char *tid);

/* Add to p one unlabelled sample with two values (a count and a delay or a size; mutex/block/heap). */
void testcorr_sample2(pprof_profile *p, const char *frames, int64_t v0, int64_t v1);

/* Append to iv the intervals.jsonl line of request name at t_ms: count requests, p50/p99/mean in ms. */
void testcorr_interval(json_t *iv, int64_t t_ms, const char *name, int64_t count, double p50, double p99,
                       double mean);

/* The function of the first finding in fs about request name, or "" when there is none. */
const char *testcorr_named(const json_t *fs, const char *name);

#endif
