/* runner.h - one scenario's executor on one engine thread: the closed model's spawn ticks, the open
 * model's arrival clock, the count executors' quotas, the VUs they run and the scenario's end. An
 * engine thread runs one runner per scenario side by side on its loop; the engine keeps the thread,
 * the interval hand-off and the stop/reassign signals (worker/engine.h). */
#ifndef LOADCTL_RUNNER_H
#define LOADCTL_RUNNER_H

#include <stdint.h>
#include <uv.h>

#include "common/options.h"
#include "worker/vu.h"

typedef struct runner runner;

/* This worker's share of one scenario (the engine builds it from the assignment or options.scenarios). */
typedef struct runner_plan {
  const char *name; /* scenario name (VU baggage, vu.scenario); storage outlives the runner */
  int lua_index;    /* 0: the weighted tasks; k > 0: options.scenarios entry k's exec (vu.scenario) */
  int model;        /* enum options_model */
  options_stage stages[OPTIONS_MAX_STAGES]; /* this worker's share, timed from the scenario's start */
  size_t nstages;
  int64_t start_ns;   /* the scenario's start after the run's start (k6 startTime) */
  int64_t max_vus;    /* open model: this worker's VU pool */
  int64_t pre_vus;    /* open model: this worker's VUs created before the start */
  double spawn_rate;  /* closed model: this worker's users started per second (0 = at once) */
  int64_t iterations; /* count executors: iterations in all (or per VU); 0 = the scenario ends by time */
  int per_vu;         /* per-vu-iterations */
  int64_t vus_total;  /* count executors: the scenario's VUs over all workers */
  int64_t quota_base; /* count executors: scenario-wide index of this worker's first VU (0-based) */
  int64_t id_base;    /* VU ids: id_base + thread index + threads * number + 1 */
  /* open model: arrival k of the stages goes to the thread with deal_base + its index == k mod
   * deal_threads. 0 = this worker's threads deal the stages alone (deal_threads = threads, base 0); a
   * scenario's whole stages dealt over every worker's threads keep k6's exact schedule across workers. */
  int64_t deal_threads, deal_base;
  /* count executors: iterations done so far per scenario-wide VU index (quota_base + local index), vus_total
   * entries, or NULL. A VU starts from what it has done (a resumed run goes on, never restarts its counts)
   * and its count is written back when it exits or is stopped. Shared by the engine's threads: each writes
   * only the entries of its own VUs; owned by the engine. */
  int64_t *iterations_done;
} runner_plan;

/* What the engine thread lends its runners (read only; owned by the thread). */
typedef struct runner_env {
  vu_host *host;             /* the thread's VU host: loop, Lua state, HTTP client, stats */
  int64_t mono_start;        /* clock_mono_ns of the run's start */
  int nthreads, index;       /* threads of the engine, and this one */
  void (*on_done)(void *ud); /* a runner has stopped for good (its VUs are gone) */
  void *ud;
} runner_env;

/* A stopped runner for plan (copied) on env's loop; *out owned by the caller: runner_close, then
 * runner_free once the loop has run. 0 or -errno. */
int runner_create(const runner_env *env, const runner_plan *plan, runner **out);
/* Before the start: the open model's pre-allocated VUs, each connected to url (h1). */
void runner_preallocate(runner *r, const char *url);
/* Start the executor at the plan's start time (now if that has passed; a late open-model start skips
 * the arrivals due before it). */
void runner_arm(runner *r);
/* New stages and pool for this worker (a rebalance); max_vus 0 keeps it. */
void runner_reassign(runner *r, const options_stage *stages, size_t nstages, int64_t max_vus);
/* Stop gracefully, as at the scenario's end: no new iterations, VUs finish their current one (bounded by
 * the request timeout plus a little, at most 10 s; VUs still busy then are cancelled), then on_done runs. */
void runner_stop(runner *r);
/* Stop now: VUs are cancelled and freed; on_done runs (once). */
void runner_hard_stop(runner *r);
/* 1 once the runner has stopped for good. */
int runner_done(const runner *r);
/* VUs counted active now (users in intervals). */
int64_t runner_active(const runner *r);
/* Open model: this thread's target arrivals/s at rel_ns after the run's start; 0 in the closed model. */
double runner_rate(const runner *r, int64_t rel_ns);
/* Close the runner's handles (after runner_hard_stop); runner_free after the loop ran. */
void runner_close(runner *r);
void runner_free(runner *r);

/* The VU callbacks of vu_host: the engine forwards on_idle and on_exit of VUs a runner made. */
int runner_on_idle(vu_host *h, vu *v);
void runner_on_exit(vu_host *h, vu *v);

#endif
