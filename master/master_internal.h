/* master_internal.h - the master's private state, shared by master.c (the run loop) and assign.c (the
 * shares it sends) only; nothing else includes it. */
#ifndef LOADCTL_MASTER_INTERNAL_H
#define LOADCTL_MASTER_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "common/clock.h"
#include "common/msg.h"
#include "common/options.h"
#include "common/transport.h"
#include "master/aggregate.h"
#include "master/master.h"
#include "master/metrics.h"
#include "master/registry.h"
#include "master/results.h"
#include "master/webapi.h"

#define ASSIGN_RESEND_NS (3 * CLOCK_NS_PER_S)       /* an unanswered assign is sent again after this */
#define ASSIGN_RESEND_MANY_NS (10 * CLOCK_NS_PER_S) /* ... or this, with more than START_EACH_MAX workers */
#define MAX_WORKERS 100000
#define FRAMES_PER_TICK 20000 /* bus frames reach every worker: per-worker sends are paced to this */
#define START_EACH_MAX 64     /* up to this many workers get their own offset-corrected START */

enum master_state { M_WAIT = 0, M_ASSIGN, M_RUN, M_DRAIN, M_DONE };

typedef struct master {
  const master_config *cfg;
  uv_loop_t loop;
  uv_timer_t tick, heartbeat;
  uv_signal_t sigint, sigterm;
  transport *tp;
  registry *reg;
  aggregate *agg;
  results *res;
  metrics *met;
  webapi *web;
  char run_id[MSG_ID_MAX];
  uint64_t seq;
  int state, signals, exit_code;
  bool aborted, threshold_abort;
  int64_t state_mono_ns, start_wall_ns, end_wall_ns, drain_deadline_mono_ns;
  int64_t last_heartbeat_mono_ns; /* when on_heartbeat last ran: a late one means our own loop stalled */
  int64_t last_tick_mono_ns, last_tick_wall_ms;    /* the same for on_tick */
  int64_t stall_wall_ms, stall_hold_until_mono_ns; /* after a stall: intervals close as of stall_wall_ms */
  int64_t stalled_ns; /* how long the loop has stood still in all (ticks late by more than STALL_NS) */
  int64_t test_stall_at_ns, test_stall_ns; /* LOADCTL_TEST_MASTER_STALL (tests only); 0 = none */
  options_stage stages[OPTIONS_MAX_STAGES];
  size_t nstages;
  int gen;            /* plan generation: bumped on every rebalance */
  int64_t vu_ids_end; /* VU ids 1..vu_ids_end are handed out; a worker joining a running load gets the next */
  int64_t *vu_bases, *vu_peaks; /* plan_vu_bases of plan vu_bases_gen over vu_bases_n workers */
  size_t vu_bases_n;
  int vu_bases_gen;
  size_t active_count; /* active workers the current plan was made for */
  registry_worker **act;
} master;

/* Send x to worker_id (NULL: every worker) with the run id and the next sequence number; a failure is
 * logged, not returned. */
void master_send(master *m, msg *x, const char *worker_id);

#endif
