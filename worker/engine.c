/* engine.c - the worker's load engine: one OS thread per core, each with its own uv loop, HTTP client,
 * Lua state and stats, running one runner per scenario (worker/runner.h: the executors and their VUs);
 * every interval each thread hands its stats over through one short lock, never one per request. */
#include "worker/engine.h"

#include <errno.h>
#include <lua.h>
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#include "common/clock.h"
#include "common/executor.h"
#include "common/log.h"
#include "common/scenarios.h"
#include "worker/runner.h"
#include "worker/script.h"
#include "worker/vu.h"

typedef struct pending {
  int64_t index;
  stats_interval *stats;
  struct pending *next;
} pending;

typedef struct ethread {
  engine *e;
  int index;
  uv_thread_t tid;
  uv_loop_t loop;
  vu_host host;
  uv_timer_t boundary;
  int64_t conns_reported; /* the HTTP client's connections counted in intervals already handed over */
  uv_async_t wake;
  runner *runners[ENGINE_MAX_RUNNERS]; /* one per scenario, in the engine's plan order */
  size_t nrunners;
  int64_t interval_index;
  int reassign_gen, closing;
  int wake_open; /* guarded by the engine lock: uv_async_send only while the handle is open */
  _Atomic int pushed_upto_valid;
  _Atomic int64_t pushed_upto;
  _Atomic int finished;
  int64_t cpu_ns, cpu_mono_ns; /* this thread's CPU time and the clock at its last hand-off */
  _Atomic int cpu_permille;    /* its CPU share between its last two hand-offs, tenths of a percent;
                                * -1 until it has two */
} ethread;

struct engine {
  options opt;
  char *source, *script_name, *run_id;
  size_t source_len;
  int nthreads, allow_exec;
  ethread *threads;
  int64_t mono_start, start_wall_ns;
  runner_plan plans[ENGINE_MAX_RUNNERS]; /* this worker's share of each scenario */
  size_t nplans;
  uv_mutex_t lock; /* guards queue, pending_* */
  pending *queue;
  options_stage pending_stages[OPTIONS_MAX_STAGES];
  size_t pending_nstages;
  int64_t pending_max_vus;
  int reassign_gen;
  _Atomic int stop, drain;
};

static int64_t rel_now(const ethread *t) {
  return clock_mono_ns() - t->e->mono_start;
}

/* On the engine thread at each hand-off: its CPU share since the previous one (a saturated generator
 * measures itself: the agent reports this to the master, which warns). */
static void measure_cpu(ethread *t) {
  struct timespec ts;
  int64_t cpu, now = clock_mono_ns();
  if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0) return;
  cpu = (int64_t)ts.tv_sec * CLOCK_NS_PER_S + ts.tv_nsec;
  if (t->cpu_mono_ns > 0 && now > t->cpu_mono_ns)
    atomic_store(&t->cpu_permille, (int)((cpu - t->cpu_ns) * 1000 / (now - t->cpu_mono_ns)));
  t->cpu_ns = cpu;
  t->cpu_mono_ns = now;
}

static void push_interval(ethread *t, stats_interval *s, int64_t index) {
  pending *p = malloc(sizeof *p);
  engine *e = t->e;
  if (!p) {
    stats_destroy(s);
    return;
  }
  p->index = index;
  p->stats = s;
  p->next = NULL;
  measure_cpu(t);
  uv_mutex_lock(&e->lock);
  pending **tail = &e->queue;
  while (*tail) tail = &(*tail)->next;
  *tail = p;
  atomic_store(&t->pushed_upto, index);
  atomic_store(&t->pushed_upto_valid, 1);
  uv_mutex_unlock(&e->lock);
}

static int64_t interval_start_ms(const engine *e, int64_t index) {
  return clock_ns_to_ms(e->start_wall_ns + index * e->opt.interval_ns);
}

/* The connections opened since the last interval handed over go into s. */
static void count_conns(ethread *t, stats_interval *s) {
  int64_t opened = http_client_conns_opened(t->host.http);
  s->new_conns = opened - t->conns_reported;
  t->conns_reported = opened;
}

/* Hand the current interval over and start the next one. */
static void rotate(ethread *t) {
  stats_interval *next = NULL, *done = t->host.stats;
  int64_t rel = rel_now(t);
  if (stats_create(&next, interval_start_ms(t->e, t->interval_index + 1),
                   clock_ns_to_ms(t->e->opt.interval_ns)) != 0)
    return; /* out of memory: keep accumulating into the current one */
  done->users = 0;
  done->rate = 0;
  for (size_t i = 0; i < t->nrunners; i++) {
    done->users += runner_active(t->runners[i]);
    done->rate += runner_rate(t->runners[i], rel);
  }
  count_conns(t, done);
  push_interval(t, done, t->interval_index);
  t->interval_index++;
  t->host.stats = next;
}

static void on_boundary(uv_timer_t *timer) {
  ethread *t = timer->data;
  int64_t next_ns;
  rotate(t);
  next_ns = (t->interval_index + 1) * t->e->opt.interval_ns - rel_now(t);
  uv_timer_start(&t->boundary, on_boundary, next_ns > 0 ? (uint64_t)clock_ns_to_ms_ceil(next_ns) : 0, 0);
}

static void on_handle_closed(uv_handle_t *h) {
  (void)h;
}

static void on_http_closed(void *ud) {
  (void)ud;
}

/* Every runner has stopped: hand over the last partial interval and close the thread's handles. */
static void close_thread(ethread *t) {
  if (t->closing) return;
  t->closing = 1;
  uv_mutex_lock(&t->e->lock);
  t->wake_open = 0;
  uv_mutex_unlock(&t->e->lock);
  t->host.stats->users = 0;
  count_conns(t, t->host.stats);
  push_interval(t, t->host.stats, t->interval_index);
  t->host.stats = NULL;
  uv_timer_stop(&t->boundary);
  uv_close((uv_handle_t *)&t->boundary, on_handle_closed);
  uv_close((uv_handle_t *)&t->wake, on_handle_closed);
  for (size_t i = 0; i < t->nrunners; i++) runner_close(t->runners[i]);
  http_client_close(t->host.http, on_http_closed, t);
}

/* A runner stopped for good: the thread closes after the last one (the run ends when its last scenario
 * does). */
static void on_runner_done(void *ud) {
  ethread *t = ud;
  for (size_t i = 0; i < t->nrunners; i++)
    if (!runner_done(t->runners[i])) return;
  close_thread(t);
}

static void hard_stop(ethread *t) {
  for (size_t i = 0; i < t->nrunners; i++) runner_hard_stop(t->runners[i]);
  if (t->nrunners == 0) close_thread(t);
}

/* A rebalance: the single scenario's new stages (several scenarios keep their plan, see engine.h). */
static void apply_reassign(ethread *t) {
  engine *e = t->e;
  options_stage stages[OPTIONS_MAX_STAGES];
  size_t nstages = 0;
  int64_t max_vus = 0;
  uv_mutex_lock(&e->lock);
  if (t->reassign_gen != e->reassign_gen) {
    t->reassign_gen = e->reassign_gen;
    memcpy(stages, e->pending_stages, e->pending_nstages * sizeof *stages);
    nstages = e->pending_nstages;
    max_vus = e->pending_max_vus;
  }
  uv_mutex_unlock(&e->lock);
  if (nstages > 0 && e->nplans == 1 && t->nrunners == 1)
    runner_reassign(t->runners[0], stages, nstages, max_vus);
}

static void on_wake(uv_async_t *a) {
  ethread *t = a->data;
  if (t->closing) return;
  if (atomic_load(&t->e->stop)) {
    hard_stop(t);
    return;
  }
  if (atomic_load(&t->e->drain)) {
    for (size_t i = 0; i < t->nrunners; i++) runner_stop(t->runners[i]);
    if (t->nrunners == 0) close_thread(t);
    return;
  }
  apply_reassign(t);
}

/* Index of the interval under way now: 0 at or before the start time, later for a late start (a worker
 * that joins or resumes a run under way), so no empty intervals are sent for the time before it came. */
static int64_t current_interval(const engine *e) {
  int64_t rel = clock_mono_ns() - e->mono_start;
  return rel > 0 && e->opt.interval_ns > 0 ? rel / e->opt.interval_ns : 0;
}

static void thread_main(void *arg) {
  ethread *t = arg;
  char name[16];
  snprintf(name, sizeof name, "lc-engine-%d", t->index % 1000);
  prctl(PR_SET_NAME, name, 0, 0, 0); /* top -H, perf and bench/run tell the threads apart */
  for (size_t i = 0; i < t->nrunners; i++) runner_preallocate(t->runners[i], t->e->opt.target);
  int64_t first_boundary = (t->interval_index + 1) * t->e->opt.interval_ns - rel_now(t);
  for (size_t i = 0; i < t->nrunners; i++) runner_arm(t->runners[i]);
  uv_timer_start(&t->boundary, on_boundary, first_boundary > 0 ? (uint64_t)clock_ns_to_ms(first_boundary) : 0,
                 0);
  if (t->nrunners == 0) close_thread(t);
  uv_run(&t->loop, UV_RUN_DEFAULT);
  if (uv_loop_close(&t->loop) != 0) LOG(LOG_WARN, "thread %d: uv loop closed with handles left", t->index);
  atomic_store(&t->finished, 1);
}

/* The thread's runners, one per plan. */
static int make_runners(engine *e, ethread *t) {
  runner_env env = {.host = &t->host,
                    .mono_start = e->mono_start,
                    .nthreads = e->nthreads,
                    .index = t->index,
                    .on_done = on_runner_done,
                    .ud = t};
  for (size_t i = 0; i < e->nplans; i++) {
    int rc = runner_create(&env, &e->plans[i], &t->runners[t->nrunners]);
    if (t->runners[t->nrunners]) t->nrunners++;
    if (rc) return rc;
  }
  return 0;
}

static int on_idle(vu_host *h, vu *v) {
  return runner_on_idle(h, v);
}

static void on_exit_vu(vu_host *h, vu *v) {
  runner_on_exit(h, v);
}

/* Everything a thread needs before its OS thread starts; errors (scenario) come back to the caller. */
static int thread_init(engine *e, ethread *t, int index, char *err, size_t errlen) {
  http_client_options hopt = {.backend = e->opt.http_backend,
                              .insecure_tls = e->opt.insecure_tls,
                              .tls_ca_file = e->opt.tls_ca_file,
                              .tls_cert_file = e->opt.tls_cert_file,
                              .tls_key_file = e->opt.tls_key_file,
                              .h2_connections = e->opt.h2_connections,
                              .default_timeout_ms = clock_ns_to_ms(e->opt.timeout_ns)};
  int rc;
  t->e = e;
  t->index = index;
  t->host.rng = ((uint64_t)clock_wall_ns() ^ ((uint64_t)getpid() << 32)) +
                0x9E3779B97F4A7C15ULL * (uint64_t)(index + 1);
  if (!t->host.rng) t->host.rng = 1;
  rc = script_open(e->script_name, e->source, e->source_len, e->allow_exec, t->host.rng, &t->host.L, err,
                   errlen);
  if (rc) return rc;
  if ((rc = uv_loop_init(&t->loop)) != 0) return rc;
  t->host.loop = &t->loop;
  uv_timer_init(&t->loop, &t->boundary);
  uv_async_init(&t->loop, &t->wake, on_wake);
  t->wake_open = 1;
  t->boundary.data = t->wake.data = t;
  if ((rc = http_client_create(&t->loop, &hopt, &t->host.http)) != 0) return rc;
  t->interval_index = current_interval(e);
  rc = stats_create(&t->host.stats, interval_start_ms(e, t->interval_index),
                    clock_ns_to_ms(e->opt.interval_ns));
  if (rc != 0) return rc;
  t->host.opt = &e->opt;
  t->host.run_id = e->run_id;
  t->host.scenario = e->opt.name;
  t->host.on_idle = on_idle;
  t->host.on_exit = on_exit_vu;
  t->host.engine_ud = t;
  t->reassign_gen = e->reassign_gen;
  return make_runners(e, t);
}

/* The single scenario's plan for this worker: the assignment's stages and pool (the master's share),
 * else the scenario's own (a local run). */
static void single_plan(engine *e, const engine_assignment *a) {
  const options *o = &e->opt;
  runner_plan *p = &e->plans[0];
  memset(p, 0, sizeof *p);
  p->name = o->name;
  p->model = o->model;
  if (a->nstages > 0) {
    memcpy(p->stages, a->stages, a->nstages * sizeof *a->stages);
    p->nstages = a->nstages;
  } else {
    p->nstages = executor_stage_list(o, p->stages);
  }
  p->max_vus = a->max_vus > 0 ? a->max_vus : o->max_vus;
  p->pre_vus = o->model == OPTIONS_OPEN ? o->pre_vus : 0;
  if (p->pre_vus > 0 && a->max_vus > 0 && o->max_vus > 0 && a->max_vus < o->max_vus)
    p->pre_vus = (p->pre_vus * a->max_vus + o->max_vus - 1) / o->max_vus; /* this worker's part */
  p->spawn_rate = a->spawn_rate > 0 ? a->spawn_rate : o->spawn_rate;
  p->iterations = o->iterations;
  p->per_vu = o->iterations_per_vu;
  p->vus_total = (int64_t)o->users;
  p->quota_base = a->vu_id_base;
  p->id_base = a->vu_id_base;
  e->nplans = 1;
}

/* options.scenarios: one plan per scenario, this worker's part cut from its slice of the run; VU ids
 * of the scenarios follow each other from the worker's base. */
static void scenario_plans(engine *e, const engine_assignment *a) {
  scenarios_slice slice = {.before = a->slice_before, .weight = a->slice_weight, .wsum = a->slice_wsum};
  int64_t id_base = a->vu_id_base;
  for (size_t i = 0; i < e->opt.nscenarios; i++) {
    const options_scenario *sc = &e->opt.scenarios[i];
    runner_plan *p = &e->plans[i];
    scenarios_share sh;
    scenarios_share_of(sc, slice, &sh);
    memset(p, 0, sizeof *p);
    p->name = sc->name;
    p->lua_index = (int)i + 1;
    p->model = sc->model;
    memcpy(p->stages, sh.stages, sh.nstages * sizeof *sh.stages);
    p->nstages = sh.nstages;
    if (sc->model == OPTIONS_OPEN && slice.wsum > 0 && slice.weight == e->nthreads) {
      memcpy(p->stages, sc->stages, sc->nstages * sizeof *sc->stages); /* k6's schedule, dealt over all */
      p->deal_threads = slice.wsum;
      p->deal_base = slice.before;
    }
    p->start_ns = sc->start_ns;
    p->max_vus = sh.max_vus;
    p->pre_vus = sh.pre_vus;
    p->iterations = sc->iterations;
    p->per_vu = sc->iterations_per_vu;
    p->vus_total = (int64_t)sc->vus;
    p->quota_base = sh.vus_before;
    p->id_base = id_base;
    id_base += sh.peak;
  }
  e->nplans = e->opt.nscenarios;
}

/* Count executors keep each VU's iterations done (runner_plan.iterations_done), taken over from the
 * engine this one resumes, if any. */
static int carry_iterations(engine *e, const engine *from) {
  for (size_t i = 0; i < e->nplans; i++) {
    runner_plan *p = &e->plans[i];
    if (p->iterations <= 0 || p->vus_total <= 0) continue;
    if (!(p->iterations_done = calloc((size_t)p->vus_total, sizeof *p->iterations_done))) return -ENOMEM;
    if (from && i < from->nplans && from->plans[i].iterations_done &&
        from->plans[i].vus_total == p->vus_total)
      memcpy(p->iterations_done, from->plans[i].iterations_done,
             (size_t)p->vus_total * sizeof *p->iterations_done);
  }
  return 0;
}

static int copy_assignment(engine *e, const engine_assignment *a, char *err, size_t errlen) {
  int rc;
  e->source = malloc(a->script_len + 1);
  e->script_name = strdup(a->script_name ? a->script_name : "scenario.lua");
  e->run_id = strdup(a->run_id ? a->run_id : "local");
  if (!e->source || !e->script_name || !e->run_id) return -ENOMEM;
  memcpy(e->source, a->script_source, a->script_len);
  e->source[a->script_len] = '\0';
  e->source_len = a->script_len;
  if (a->opt) {
    e->opt = *a->opt;
  } else if ((rc = options_load_source(e->script_name, e->source, e->source_len, &e->opt, err, errlen)) !=
             0) {
    return rc;
  }
  e->allow_exec = a->allow_exec;
  e->start_wall_ns = a->start_wall_ns > 0 ? a->start_wall_ns : clock_wall_ns();
  e->mono_start = clock_mono_ns() + (e->start_wall_ns - clock_wall_ns());
  if (e->opt.nscenarios > 0)
    scenario_plans(e, a);
  else
    single_plan(e, a);
  return carry_iterations(e, a->resume_from);
}

static int cpu_count(void) {
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  return n > 0 ? (int)n : 1;
}

static void free_engine(engine *e) {
  for (size_t i = 0; i < e->nplans; i++) free(e->plans[i].iterations_done);
  while (e->queue) {
    pending *p = e->queue;
    e->queue = p->next;
    stats_destroy(p->stats);
    free(p);
  }
  free(e->threads);
  free(e->source);
  free(e->script_name);
  free(e->run_id);
  free(e);
}

/* Release a thread that was initialised but never started. */
static void thread_abandon(ethread *t) {
  if (t->host.L) lua_close(t->host.L);
  if (t->host.stats) stats_destroy(t->host.stats);
  if (t->host.loop) {
    uv_close((uv_handle_t *)&t->boundary, NULL);
    uv_close((uv_handle_t *)&t->wake, NULL);
    for (size_t i = 0; i < t->nrunners; i++) runner_close(t->runners[i]);
    if (t->host.http) http_client_close(t->host.http, on_http_closed, t);
    uv_run(&t->loop, UV_RUN_DEFAULT);
    uv_loop_close(&t->loop);
  }
  for (size_t i = 0; i < t->nrunners; i++) runner_free(t->runners[i]);
  t->nrunners = 0;
}

int engine_start(const engine_assignment *a, engine **out, char *err, size_t errlen) {
  engine *e;
  int rc, i;
  if (!a || !a->script_source || !out) return -EINVAL;
  if (!(e = calloc(1, sizeof *e))) return -ENOMEM;
  uv_mutex_init(&e->lock);
  e->nthreads = a->threads > 0 ? a->threads : cpu_count(); /* before the plans: they deal over threads */
  rc = copy_assignment(e, a, err, errlen);
  if (rc) goto fail;
  e->reassign_gen = 0;
  if (!(e->threads = calloc((size_t)e->nthreads, sizeof *e->threads))) {
    rc = -ENOMEM;
    goto fail;
  }
  for (i = 0; i < e->nthreads; i++) {
    atomic_init(&e->threads[i].cpu_permille, -1);
    if ((rc = thread_init(e, &e->threads[i], i, err, errlen)) != 0) {
      for (int j = 0; j <= i; j++) thread_abandon(&e->threads[j]);
      goto fail;
    }
  }
  for (i = 0; i < e->nthreads; i++) uv_thread_create(&e->threads[i].tid, thread_main, &e->threads[i]);
  *out = e;
  return 0;
fail:
  uv_mutex_destroy(&e->lock);
  free_engine(e);
  return rc;
}

/* Every thread has handed over interval index, or has finished. Called with the lock held. */
static int interval_complete(engine *e, int64_t index) {
  for (int i = 0; i < e->nthreads; i++) {
    ethread *t = &e->threads[i];
    if (atomic_load(&t->finished)) continue;
    if (!atomic_load(&t->pushed_upto_valid) || atomic_load(&t->pushed_upto) < index) return 0;
  }
  return 1;
}

int engine_collect(engine *e, stats_interval **out) {
  int64_t oldest;
  stats_interval *merged = NULL;
  pending **pp;
  if (!e || !out) return -EINVAL;
  uv_mutex_lock(&e->lock);
  if (!e->queue) goto again;
  oldest = e->queue->index;
  for (pending *p = e->queue; p; p = p->next)
    if (p->index < oldest) oldest = p->index;
  if (!interval_complete(e, oldest)) goto again;
  for (pp = &e->queue; *pp;) {
    pending *p = *pp;
    if (p->index != oldest) {
      pp = &p->next;
      continue;
    }
    *pp = p->next;
    if (!merged) {
      merged = p->stats;
    } else {
      stats_merge(merged, p->stats);
      stats_destroy(p->stats);
    }
    free(p);
  }
  uv_mutex_unlock(&e->lock);
  *out = merged;
  return 0;
again:
  uv_mutex_unlock(&e->lock);
  return -EAGAIN;
}

static void wake_all(engine *e) {
  uv_mutex_lock(&e->lock);
  for (int i = 0; i < e->nthreads; i++)
    if (e->threads[i].wake_open) uv_async_send(&e->threads[i].wake);
  uv_mutex_unlock(&e->lock);
}

int engine_reassign(engine *e, const options_stage *stages, size_t nstages, int64_t max_vus) {
  if (!e || !stages || nstages == 0 || nstages > OPTIONS_MAX_STAGES) return -EINVAL;
  uv_mutex_lock(&e->lock);
  memcpy(e->pending_stages, stages, nstages * sizeof *stages);
  e->pending_nstages = nstages;
  if (max_vus > 0) e->pending_max_vus = max_vus;
  e->reassign_gen++;
  uv_mutex_unlock(&e->lock);
  wake_all(e);
  return 0;
}

void engine_stop(engine *e) {
  if (!e || atomic_exchange(&e->stop, 1)) return;
  wake_all(e);
}

void engine_drain(engine *e) {
  if (!e || atomic_exchange(&e->drain, 1)) return;
  wake_all(e);
}

int engine_done(const engine *e) {
  for (int i = 0; i < e->nthreads; i++)
    if (!atomic_load(&e->threads[i].finished)) return 0;
  return 1;
}

void engine_destroy(engine *e) {
  if (!e) return;
  engine_stop(e);
  for (int i = 0; i < e->nthreads; i++) {
    uv_thread_join(&e->threads[i].tid);
    lua_close(e->threads[i].host.L);
    for (size_t j = 0; j < e->threads[i].nrunners; j++) runner_free(e->threads[i].runners[j]);
  }
  uv_mutex_destroy(&e->lock);
  free_engine(e);
}

int engine_threads(const engine *e) {
  return e->nthreads;
}

int engine_cpu_permille(const engine *e) {
  int64_t sum = 0;
  int n = 0;
  for (int i = 0; i < e->nthreads; i++) {
    int v = atomic_load(&e->threads[i].cpu_permille);
    if (v >= 0) sum += v, n++;
  }
  return n > 0 ? (int)(sum / n) : -1;
}
