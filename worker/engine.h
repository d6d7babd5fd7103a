/* engine.h - the worker's load engine: N threads, each with its own uv loop, HTTP client, LuaJIT state,
 * VUs and stats; driven by an assignment (this worker's share of the plan) and emitting one merged
 * stats_interval per interval. The agent (worker side of the protocol) and tests drive it. */
#ifndef LOADCTL_ENGINE_H
#define LOADCTL_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#include "common/options.h"
#include "common/stats.h"

#define ENGINE_MAX_RUNNERS OPTIONS_MAX_SCENARIOS /* scenarios run side by side on every thread */

typedef struct engine engine;

typedef struct engine_assignment {
  const char *script_name;   /* for messages: "checkout.lua" */
  const char *script_source; /* the scenario text (shipped by the master) */
  size_t script_len;
  const options *opt; /* parsed options of that scenario (target, model, timeouts...) */
  /* This worker's share of the plan: stage targets already scaled to this worker. In the closed
   * model target = users, in the open model target = iterations/s. */
  options_stage stages[OPTIONS_MAX_STAGES];
  size_t nstages;
  int64_t max_vus;       /* open model pool for this worker */
  double spawn_rate;     /* closed model, this worker's share */
  int64_t start_wall_ns; /* when stage 0 begins, in this machine's wall clock */
  int64_t vu_id_base;    /* VU ids start here (unique across workers) */
  /* options.scenarios: this worker's slice of the run's weight (msg.h); wsum 0 = the whole run */
  int64_t slice_before, slice_weight, slice_wsum;
  int threads;        /* 0 = one per core */
  const char *run_id; /* for baggage: loadctl.run and k6.test_run_id */
  int allow_exec;     /* allow os.execute/io.popen in the scenario */
  /* A finished engine of the same run and assignment (stopped for the master's silence, now resumed):
   * count executors' VUs go on from the iterations they did there instead of starting again. NULL = a
   * fresh start. Read during engine_start only. */
  const struct engine *resume_from;
} engine_assignment;

/* Create and start the engine's threads; they wait for start_wall_ns, then follow the stages and
 * stop when the last stage ends (on_stop runs for each VU). The assignment is copied.
 * Scenario errors are returned as -EINVAL with file:line in err. Caller owns *out. */
int engine_start(const engine_assignment *a, engine **out, char *err, size_t errlen);

/* Collect the interval that ended at or before now: every thread's snapshot merged into *out
 * (owned by caller). Returns 0, -EAGAIN when no full interval is ready yet. Call from one thread. */
int engine_collect(engine *e, stats_interval **out);

/* Change this worker's share mid-run (rebalance after a worker joined or left). A run of several
 * scenarios keeps the slice it started with (the master does not rebalance it). */
int engine_reassign(engine *e, const options_stage *stages, size_t nstages, int64_t max_vus);

/* Stop load now (stop message, leaving): VUs are cancelled; their requests in flight are not counted. */
void engine_stop(engine *e);
/* Stop load gracefully (the master went silent), as the last stage's end does: no new iterations, VUs
 * finish the one under way (bounded by the request timeout plus 250 ms, at most 10 s) and what they
 * measure goes into the intervals; engine_done turns nonzero after. engine_stop still cuts it short. */
void engine_drain(engine *e);
/* Nonzero once every thread has finished (after the last stage or engine_stop). */
int engine_done(const engine *e);
/* Join threads and free everything; collect the final partial interval first if you want it. */
void engine_destroy(engine *e);

/* Threads the engine actually runs. */
int engine_threads(const engine *e);
/* How busy its threads are: the mean over its threads of each one's CPU time during its last interval
 * as a share of that interval, in tenths of a percent (1000 = every thread saturated); -1 before any
 * thread has measured a whole interval. Any thread may call it. */
int engine_cpu_permille(const engine *e);

#endif
