/* teststack.h - the correlation suites' inputs from text: a pprof sample's stack "root;mid;leaf" (a frame
 * "name@file" names its source file), the exemplars of slow and typical requests, and one window's
 * findings. */
#ifndef LOADCTL_TESTS_TESTSTACK_H
#define LOADCTL_TESTS_TESTSTACK_H

#include <check.h>
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "master/profile/correlate.h"
#include "master/profile/pprof.h"

/* frames, root first separated by ';', interned in p (each frame's file: the one after '@', else file, which
 * may be NULL) and written to st leaf first (pprof's order); at most cap frames (the rest are dropped).
 * Returns how many were written. */
static inline size_t test_stack_in(pprof_profile *p, const char *frames, const char *file, uint32_t *st,
                                   size_t cap) {
  char buf[1024];
  size_t n = 0;
  snprintf(buf, sizeof buf, "%s", frames);
  for (char *t = buf, *e; t && n < cap; t = e) {
    e = strchr(t, ';');
    if (e) *e++ = '\0';
    char *at = strchr(t, '@');
    if (at) *at++ = '\0';
    st[n++] = (uint32_t)pprof_function_intern(p, t, at ? at : file);
  }
  for (size_t i = 0; i < n / 2; i++) {
    uint32_t x = st[i];
    st[i] = st[n - 1 - i];
    st[n - 1 - i] = x;
  }
  return n;
}

/* test_stack_in without a default file. */
static inline size_t test_stack(pprof_profile *p, const char *frames, uint32_t *st, size_t cap) {
  return test_stack_in(p, frames, NULL, st, cap);
}

/* Append to list the exemplar of a request with trace tid that took latency_ms. */
static inline void test_exemplar(json_t *list, const char *tid, double latency_ms) {
  json_array_append_new(list,
                        json_pack("{s:s,s:s,s:f}", "trace_id", tid, "span_id", "", "latency_ms", latency_ms));
}

/* exemplars.jsonl's content for request name at t 0: its slow and typical lists (references taken). */
static inline json_t *test_exemplars(const char *name, json_t *slow, json_t *typical) {
  return json_pack("[{s:I,s:s,s:o,s:o}]", "t", (json_int_t)0, "name", name, "slow", slow, "typical", typical);
}

/* The findings of windows [0, 60 s): type with profile p and, when q is not NULL, type_q with profile q
 * over the same time; intervals iv and exemplars ex (either may be NULL). Asserted to succeed. */
static inline json_t *test_findings2(const char *type, pprof_profile *p, const char *type_q, pprof_profile *q,
                                     json_t *iv, json_t *ex) {
  correlate_window w[2] = {{0, 60000, type, p}, {0, 60000, type_q, q}};
  correlate_input in = {w, q ? 2 : 1, iv, ex};
  json_t *out = NULL;
  ck_assert_int_eq(correlate_findings(&in, &out), 0);
  return out;
}

/* The findings of one window [0, 60 s) of type with profile p (test_findings2 without a second). */
static inline json_t *test_findings(const char *type, pprof_profile *p, json_t *iv, json_t *ex) {
  return test_findings2(type, p, NULL, NULL, iv, ex);
}

#endif
