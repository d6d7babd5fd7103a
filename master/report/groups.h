/* groups.h - the scenario's group() blocks as reported: a request made inside group("checkout", fn) is
 * named "checkout::POST /api/orders" (nested: "a::b::GET /x"), and a group's figures are those of every
 * request named under it, nested groups included. Built from the run's cumulative stats. */
#ifndef LOADCTL_GROUPS_H
#define LOADCTL_GROUPS_H

#include <stddef.h>
#include <stdint.h>

#include "common/hist.h"
#include "common/stats.h"

typedef struct report_group {
  char name[STATS_NAME_MAX]; /* "checkout", "a::b" */
  hist *latency;             /* its requests' latencies merged; owned */
  int64_t count, errors, bytes_in;
  size_t nrequests; /* distinct request names under it */
} report_group;

/* Every group named in cum's request names, in order of first appearance (an outer group before its
 * inner ones). *out is owned by the caller, released with groups_free(*out, *n). 0 or -ENOMEM. */
int groups_collect(const stats_interval *cum, report_group **out, size_t *n);
void groups_free(report_group *groups, size_t n);

#endif
