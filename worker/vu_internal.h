/* vu_internal.h - the VU's private state, shared by vu.c (the coroutine and its primitives) and vureq.c
 * (the request an http.* call describes) only; nothing else includes it. */
#ifndef LOADCTL_VU_INTERNAL_H
#define LOADCTL_VU_INTERNAL_H

#include "worker/vu.h"

#define VU_MAX_HEADERS 64
#define VU_URL_MAX 8192
#define VU_BATCH_MAX 64
#define VU_ITERATION_METRIC \
  "iteration_duration" /* a built-in Trend, as k6 reports it */    /* requests in one http.batch */
#define VU_AUTH_PART_MAX 255                                       /* bytes of an auth user or password */
#define VU_AUTH_MAX (6 + 4 * ((2 * VU_AUTH_PART_MAX + 3) / 3) + 1) /* "Basic " + base64 + NUL */

typedef struct vu_slot vu_slot;

struct vu {
  vu_host *host;
  void *owner;           /* the engine's runner */
  const vu_scenario *sc; /* NULL = host->scenario, not a listed one */
  int64_t id;
  lua_State *co;
  int co_ref;
  int state;
  int nargs; /* values pushed on co for the next resume */
  int stop_requested;
  int yields;        /* yields in the current iteration */
  int first_pending; /* the next request is the iteration's first (measured from intended_ns) */
  int in_iteration;
  int in_request;             /* a request of http.* is in flight (its response not in yet) */
  int64_t iterations;         /* iterations completed */
  int64_t iteration_start_ns; /* when the current iteration started (clock_mono_ns) */
  int64_t intended_ns;
  int64_t call_ns;
  uint64_t rng; /* this VU's math.random stream (never zero) */
  http_conn *conn;
  uv_timer_t timer;
  char trace_id[33];
  char span_id[17];
  char method[16];
  char name[STATS_NAME_MAX];
  char tags[TAGSET_MAX]; /* the request's canonical tag set, "" = none */
  int expect[16];
  int nexpect;
  http_header headers[VU_MAX_HEADERS + 3]; /* + traceparent, baggage, Authorization (basic auth) */
  char authorization[VU_AUTH_MAX];         /* "Basic <base64(user:password)>" */
  char traceparent[56];
  char baggage[1024];
  char baggage_name[STATS_NAME_MAX]; /* the name baggage was built for ("" = not built) */
  size_t entry_hint;                 /* index of this VU's last stats entry, tried before a search */
  char url[VU_URL_MAX];
  char url_arg[VU_URL_MAX]; /* the url argument v->url was built from ("" = none) */
  vu_slot *slots;           /* http.batch: one connection each, kept for the next batch */
  int nslots, batch_pending, batch_ref;
};

/* One request of an http.batch on a connection of its own. */
struct vu_slot {
  vu *v;
  int index; /* 1-based position in the batch */
  http_conn *conn;
  char name[STATS_NAME_MAX];
  char tags[TAGSET_MAX];
  char method[16];
  int expect[16];
  int nexpect;
  int64_t call_ns;
  int in_flight; /* sent, its response not in yet */
};

#endif
