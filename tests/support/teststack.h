/* teststack.h - a pprof sample's stack from text, for the correlation unit suites: "root;mid;leaf". */
#ifndef LOADCTL_TESTS_TESTSTACK_H
#define LOADCTL_TESTS_TESTSTACK_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "master/profile/pprof.h"

/* frames, root first separated by ';', interned in p and written to st leaf first (pprof's order);
 * at most cap frames (the rest are dropped). Returns how many were written. */
static inline size_t test_stack(pprof_profile *p, const char *frames, uint32_t *st, size_t cap) {
  char buf[512];
  size_t n = 0;
  snprintf(buf, sizeof buf, "%s", frames);
  for (char *t = buf, *e; t && n < cap; t = e) {
    e = strchr(t, ';');
    if (e) *e++ = '\0';
    st[n++] = (uint32_t)pprof_function_intern(p, t, NULL);
  }
  for (size_t i = 0; i < n / 2; i++) {
    uint32_t x = st[i];
    st[i] = st[n - 1 - i];
    st[n - 1 - i] = x;
  }
  return n;
}

#endif
