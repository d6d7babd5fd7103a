/* runner.c - one scenario's executor on one engine thread (see runner.h): closed users brought to their
 * target on a tick, open arrivals started on the arrival clock, count executors ended by quota. */
#include "worker/runner.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/executor.h"
#include "common/k6exec.h"
#include "common/log.h"
#include "worker/nstimer.h"
#include "worker/trace.h"

#define CLOSED_TICK_MS 20
#define GRACE_MAX_NS (10 * CLOCK_NS_PER_S)
/* The grace outlasts the request timeout by this much: a request sent just before the stop times out
 * (and is counted) before the grace cancels it, even when its timer is re-armed or the loop runs late. */
#define GRACE_SLACK_NS (250 * CLOCK_NS_PER_MS)

/* The arrival clock: while the next arrival is less than TICK_NS away it ticks every TICK_NS (a
 * periodic timerfd, re-armed by the kernel: under a hypervisor each timerfd_settime costs tens of us,
 * so one per arrival would cost more than the request); sparser arrivals get a one-shot wake-up each.
 * An arrival less than half a tick ahead starts now rather than at its time (its latency then counts
 * from the actual send, see vu.c), so starts land within +-250 us of their schedule. On the ms
 * fallback the window is 0.5 ms: starts within +-0.5 ms instead of 0..2 ms late. */
#define TICK_NS 500000
#define EARLY_NS_MS 500000

struct runner {
  runner_env env;
  runner_plan plan;
  vu_scenario sc; /* what its VUs are told about the scenario */
  uv_timer_t sched;
  uv_check_t pump;  /* open model: starts due arrivals after every poll, between the arrival clock's */
  nstimer *arrival; /* open model: fires when the next arrival is due */
  int64_t
      early_ns; /* open model: arrivals this close to due start now (half a tick, or 0.5 ms on ms timers) */
  vu **vus;
  size_t nvus, capvus;
  vu **idle; /* open model: VUs waiting for an arrival */
  size_t nidle;
  int64_t *backlog; /* open model: arrivals waiting for a VU that is still starting */
  size_t nbacklog, capbacklog;
  int64_t total_ns, max_vus, next_k, active;
  int64_t deal_n, deal_i; /* open model: this thread takes arrivals k == deal_i mod deal_n */
  double allowed;
  int running;          /* the start time has come and the executor timer runs */
  int stopping;         /* no new iterations; VUs finish their current one */
  int done;             /* stopped for good: VUs gone, on_done ran */
  int polled;           /* open model: the pool was full and the loop has polled I/O once since */
  executor_slots slots; /* user numbers of the live VUs: VU id = id_base + index + nthreads * number + 1 */
};

static int64_t rel_now(const runner *r) {
  return clock_mono_ns() - r->env.mono_start - r->plan.start_ns;
}

static void remove_vu(runner *r, vu *v) {
  for (size_t i = 0; i < r->nvus; i++) {
    if (r->vus[i] == v) {
      r->vus[i] = r->vus[--r->nvus];
      break;
    }
  }
  for (size_t i = 0; i < r->nidle; i++) {
    if (r->idle[i] == v) {
      r->idle[i] = r->idle[--r->nidle];
      break;
    }
  }
}

/* The VU's 0-based index among the scenario's VUs over all workers (count executors' quota). */
static int64_t quota_index(const runner *r, int64_t vu_id) {
  return r->plan.quota_base + (vu_id - r->plan.id_base - 1);
}

/* Count executors: where the iterations done by VU vu_id are kept (NULL: not kept). */
static int64_t *done_slot(const runner *r, int64_t vu_id) {
  int64_t j = quota_index(r, vu_id);
  return r->plan.iterations_done && j >= 0 && j < r->plan.vus_total ? &r->plan.iterations_done[j] : NULL;
}

/* Iterations v did before it started (an earlier engine of this run), plus its own. */
static int64_t iterations_of(const runner *r, const vu *v) {
  int64_t *done = done_slot(r, vu_id(v));
  return (done ? *done : 0) + vu_iterations(v);
}

/* v is gone: what it did is kept for the next VU with its id. */
static void keep_iterations(runner *r, const vu *v) {
  int64_t *done = done_slot(r, vu_id(v));
  if (done) *done += vu_iterations(v);
}

void runner_hard_stop(runner *r) {
  int cancelled = 0;
  while (r->nvus > 0) {
    keep_iterations(r, r->vus[--r->nvus]);
    cancelled += vu_cancel(r->vus[r->nvus]);
    vu_destroy(r->vus[r->nvus]);
  }
  if (cancelled > 0)
    LOG(LOG_WARN,
        "thread %d: scenario %s: %d requests in flight cancelled (counted as errors: other, cancelled)",
        r->env.index, r->plan.name, cancelled);
  r->nidle = 0;
  r->active = 0;
  r->stopping = 1;
  uv_timer_stop(&r->sched);
  uv_check_stop(&r->pump);
  if (r->arrival) nstimer_stop(r->arrival);
  if (r->done) return;
  r->done = 1;
  r->env.on_done(r->env.ud);
}

static void on_grace_over(uv_timer_t *timer) {
  runner *r = timer->data;
  if (r->nvus > 0)
    LOG(LOG_WARN, "thread %d: scenario %s: %zu VUs still busy after the grace period; cancelling",
        r->env.index, r->plan.name, r->nvus);
  runner_hard_stop(r);
}

void runner_stop(runner *r) {
  int64_t timeout = r->env.host->opt->timeout_ns + GRACE_SLACK_NS;
  int64_t grace = timeout < GRACE_MAX_NS ? timeout : GRACE_MAX_NS;
  if (r->stopping) return;
  r->stopping = 1;
  uv_check_stop(&r->pump);
  if (r->arrival) nstimer_stop(r->arrival);
  uv_timer_stop(&r->sched);
  uv_timer_start(&r->sched, on_grace_over, (uint64_t)clock_ns_to_ms(grace), 0);
  while (r->nidle > 0) vu_finish(r->idle[--r->nidle]);
  for (size_t i = 0; i < r->nvus; i++)
    if (vu_state(r->vus[i]) == VU_IDLE) vu_finish(r->vus[i]);
  if (r->nvus == 0) runner_hard_stop(r);
}

/* Count executors: the iterations VU vu_id runs in all. */
static int64_t quota_of(const runner *r, int64_t vu_id) {
  return k6exec_share(r->plan.iterations, r->plan.per_vu, r->plan.vus_total, quota_index(r, vu_id));
}

/* Closed model: think time (or a 1 ms breath) before the next iteration; 1 = start it now. */
static int closed_next(vu_host *h, vu *v) {
  const options *o = h->opt;
  if (o->think_max_ns > 0) {
    int64_t span = o->think_max_ns - o->think_min_ns;
    int64_t ns = o->think_min_ns +
                 (span > 0 ? (int64_t)((double)(trace_rand(&h->rng) >> 11) * 0x1.0p-53 * (double)span) : 0);
    uint64_t ms = (uint64_t)clock_ns_to_ms(ns);
    vu_go_after(v, ms > 0 || vu_iteration_yielded(v) ? ms : 1);
    return 0;
  }
  if (!vu_iteration_yielded(v)) {
    /* an iteration without I/O (or failing before any): let the loop run before the next. Not 0 ms: a
     * timer restarted at 0 from its own callback runs again in the same pass with libuv < 1.45 (Debian 12
     * has 1.44), so the loop's clock, the interval boundary and the stop timer would never come. */
    vu_go_after(v, 1);
    return 0;
  }
  return 1;
}

int runner_on_idle(vu_host *h, vu *v) {
  runner *r = vu_owner(v);
  if (r->stopping || vu_stop_requested(v)) {
    vu_finish(v);
    return 0;
  }
  if (r->plan.iterations > 0 && iterations_of(r, v) >= quota_of(r, vu_id(v))) {
    vu_request_stop(v); /* still counted active, so no VU replaces it: its iterations are done */
    vu_finish(v);
    return 0;
  }
  if (r->plan.model == OPTIONS_OPEN) {
    if (r->nbacklog > 0) {
      h->go_intended_ns = r->backlog[0];
      memmove(r->backlog, r->backlog + 1, --r->nbacklog * sizeof *r->backlog);
      return 1;
    }
    r->idle[r->nidle++] = v;
    return 0;
  }
  return closed_next(h, v);
}

void runner_on_exit(vu_host *h, vu *v) {
  runner *r = vu_owner(v);
  (void)h;
  if (!vu_stop_requested(v)) r->active--;
  executor_slot_put(&r->slots, (vu_id(v) - r->plan.id_base - 1 - r->env.index) / r->env.nthreads);
  remove_vu(r, v);
  keep_iterations(r, v);
  vu_destroy(v);
  if (r->stopping && r->nvus == 0) runner_hard_stop(r);
}

/* The VU id of user number on this thread (unique across threads and workers). */
static int64_t id_of(const runner *r, int64_t number) {
  return r->plan.id_base + r->env.index + (int64_t)r->env.nthreads * number + 1;
}

/* A new VU with user number on this thread, started (its on_start runs); NULL on -ENOMEM. */
static vu *spawn_as(runner *r, int64_t number) {
  vu *v;
  if (r->nvus == r->capvus) {
    size_t cap = r->capvus ? r->capvus * 2 : 64;
    vu **grown = realloc(r->vus, cap * sizeof *grown), **idle = realloc(r->idle, cap * sizeof *idle);
    if (grown) r->vus = grown;
    if (idle) r->idle = idle;
    if (!grown || !idle) return NULL;
    r->capvus = cap;
  }
  if (vu_create(r->env.host, id_of(r, number), &v) != 0) return NULL;
  vu_set_owner(v, r, &r->sc);
  r->vus[r->nvus++] = v;
  r->active++;
  vu_start(v);
  return v;
}

/* A new VU with the lowest free user number of this thread; NULL on -ENOMEM. */
static vu *spawn(runner *r) {
  int64_t number = executor_slot_take(&r->slots);
  vu *v = number >= 0 ? spawn_as(r, number) : NULL;
  if (!v && number >= 0) executor_slot_put(&r->slots, number);
  return v;
}

/* Closed model: one more user. A count executor's user that ran all its iterations before (an earlier
 * engine of this run) counts as a finished one, with no VU: it keeps its number. 0 when out of memory. */
static int add_user(runner *r) {
  int64_t number = executor_slot_take(&r->slots), *done;
  if (number < 0) return 0;
  done = done_slot(r, id_of(r, number));
  if (r->plan.iterations > 0 && done && *done >= quota_of(r, id_of(r, number))) {
    r->active++;
    return 1;
  }
  if (spawn_as(r, number)) return 1;
  executor_slot_put(&r->slots, number);
  return 0;
}

/* Closed model: every tick, bring this thread's users to its share of the (spawn-limited) target. */
static void closed_tick(uv_timer_t *timer) {
  runner *r = timer->data;
  int64_t rel = rel_now(r), want, total;
  double target;
  if (rel < 0) return;
  if (rel >= r->total_ns) {
    runner_stop(r);
    return;
  }
  target = executor_target_at(r->plan.stages, r->plan.nstages, rel);
  total = executor_spawn_step(&r->allowed, target, r->plan.spawn_rate, clock_ms_to_s(CLOSED_TICK_MS));
  want = executor_share(total, r->env.nthreads, r->env.index);
  while (r->active < want)
    if (!add_user(r)) break;
  if (r->plan.iterations > 0 && r->nvus == 0 && r->active == want && total == (int64_t)target) {
    runner_stop(r); /* count executor: every VU of this thread ran its iterations */
    return;
  }
  for (size_t i = r->nvus; i > 0 && r->active > want; i--) {
    vu *v = r->vus[i - 1];
    if (vu_stop_requested(v)) continue;
    vu_request_stop(v);
    r->active--;
    if (vu_state(v) == VU_IDLE) vu_finish(v);
  }
}

static void open_tick(uv_timer_t *timer);

static int arm_clock(runner *r, int64_t at, int64_t rel) {
  if (at - rel < TICK_NS) return nstimer_every(r->arrival, TICK_NS);
  return nstimer_start_at(r->arrival, r->env.mono_start + r->plan.start_ns + at - r->early_ns);
}

/* No arrival left: the clock stops, the scenario's end comes on the ms timer. */
static void open_last(runner *r, int64_t rel) {
  int64_t left = r->total_ns - rel;
  if (r->arrival) nstimer_stop(r->arrival);
  if (left <= 0)
    runner_stop(r);
  else
    uv_timer_start(&r->sched, open_tick, (uint64_t)clock_ns_to_ms_ceil(left), 0);
}

/* Open model: start every arrival due within the early window, each on a free VU, a new one, or count
 * it dropped; then set the arrival clock for the next one. */
static void open_dispatch(runner *r) {
  int64_t rel = rel_now(r), early = r->early_ns, origin = r->env.mono_start + r->plan.start_ns;
  for (;;) {
    int64_t at = executor_arrival_ns(r->plan.stages, r->plan.nstages, r->next_k);
    if (at < 0) {
      open_last(r, rel);
      return;
    }
    if (at > rel + early) {
      r->polled = 0;
      if (!r->arrival || arm_clock(r, at, rel) != 0)
        uv_timer_start(&r->sched, open_tick, (uint64_t)clock_ns_to_ms_ceil(at - rel - early), 0);
      return;
    }
    if (r->nidle == 0 && ((int64_t)r->nvus >= r->max_vus || r->nbacklog >= r->capbacklog) && !r->polled) {
      /* Pool exhausted: responses that already arrived may be waiting in the poll phase (after a
       * stall, timers run first). Let the loop poll once before counting the arrival as dropped. */
      r->polled = 1;
      uv_timer_start(&r->sched, open_tick, 0, 0);
      return;
    }
    r->next_k += r->deal_n;
    if (r->nidle > 0) {
      r->polled = 0;
      vu_go(r->idle[--r->nidle], origin + at);
    } else if ((int64_t)r->nvus < r->max_vus && r->nbacklog < r->capbacklog) {
      r->polled = 0;
      r->backlog[r->nbacklog++] = origin + at;
      spawn(r);
    } else {
      r->env.host->stats->dropped++;
    }
  }
}

/* After each poll: when an arrival is due, start it now rather than on the arrival clock's wake-up, so
 * under load (when the loop seldom sleeps) arrivals go out without an extra wake-up each. */
static void on_pump(uv_check_t *check) {
  runner *r = check->data;
  if (!r->running || r->stopping) return;
  int64_t at = executor_arrival_ns(r->plan.stages, r->plan.nstages, r->next_k);
  if (at >= 0 && at <= rel_now(r) + r->early_ns) open_dispatch(r);
}

static void open_tick(uv_timer_t *timer) {
  open_dispatch(timer->data);
}

static void on_arrival(void *ud) {
  runner *r = ud;
  if (r->running && !r->stopping) open_dispatch(r);
}

/* The first arrival this thread sends from rel_ns on: arrivals are dealt round-robin over the threads
 * (deal_n, deal_i). */
static void seek_arrivals(runner *r, int64_t rel_ns) {
  int64_t n = r->deal_n;
  int64_t k0 = rel_ns > 0 ? (int64_t)ceil(executor_arrivals_by(r->plan.stages, r->plan.nstages, rel_ns)) : 0;
  r->next_k = k0 + ((r->deal_i - k0 % n) + n) % n;
}

/* Pool sizes follow the plan: this thread's share of max_vus, a backlog slot per VU. */
static void size_pool(runner *r) {
  r->total_ns = executor_total_ns(r->plan.stages, r->plan.nstages);
  r->max_vus = executor_share(r->plan.max_vus, r->env.nthreads, r->env.index);
  if ((size_t)r->max_vus > r->capbacklog) {
    int64_t *grown = realloc(r->backlog, (size_t)r->max_vus * sizeof *grown);
    if (grown) r->backlog = grown, r->capbacklog = (size_t)r->max_vus;
  }
}

void runner_reassign(runner *r, const options_stage *stages, size_t nstages, int64_t max_vus) {
  if (r->done || nstages == 0 || nstages > OPTIONS_MAX_STAGES) return;
  memcpy(r->plan.stages, stages, nstages * sizeof *stages);
  r->plan.nstages = nstages;
  if (max_vus > 0) r->plan.max_vus = max_vus;
  size_pool(r);
  if (r->plan.model == OPTIONS_OPEN && r->running && !r->stopping) {
    seek_arrivals(r, rel_now(r));
    uv_timer_start(&r->sched, open_tick, 0, 0);
  }
}

static void on_start_time(uv_timer_t *timer) {
  runner *r = timer->data;
  r->running = 1;
  if (r->plan.model == OPTIONS_OPEN) {
    int64_t rel = rel_now(r); /* a late start (a worker joining a run under way): the arrivals due before
                               * it are not sent in a burst */
    seek_arrivals(r, rel >= r->env.host->opt->interval_ns ? rel : 0);
    uv_timer_start(&r->sched, open_tick, 0, 0);
    uv_check_start(&r->pump, on_pump);
  } else {
    uv_timer_start(&r->sched, closed_tick, 0, CLOSED_TICK_MS);
  }
}

void runner_arm(runner *r) {
  int64_t until_start = -rel_now(r);
  if (r->done) return;
  uv_timer_start(&r->sched, on_start_time, until_start > 0 ? (uint64_t)clock_ns_to_ms(until_start) : 0, 0);
}

void runner_preallocate(runner *r, const char *url) {
  int64_t want = executor_share(r->plan.pre_vus, r->env.nthreads, r->env.index);
  if (r->plan.model != OPTIONS_OPEN || want <= 0) return;
  if (want > r->max_vus) want = r->max_vus;
  while ((int64_t)r->nvus < want) {
    vu *v = spawn(r);
    if (!v) break;
    if (vu_state(v) == VU_IDLE) vu_preconnect(v, url); /* not one still busy in on_start */
  }
}

int runner_create(const runner_env *env, const runner_plan *plan, runner **out) {
  uv_loop_t *loop = env->host->loop;
  runner *r = calloc(1, sizeof *r);
  int rc;
  if (!r) return -ENOMEM;
  r->env = *env;
  r->plan = *plan;
  vu_scenario_init(&r->sc, plan->name, plan->lua_index > 0);
  uv_timer_init(loop, &r->sched);
  uv_check_init(loop, &r->pump);
  r->sched.data = r->pump.data = r;
  if (plan->model == OPTIONS_OPEN && (rc = nstimer_create(loop, on_arrival, r, &r->arrival)) != 0) {
    runner_close(r);
    *out = r; /* the caller frees it after the loop ran, like any closed runner */
    return rc;
  }
  r->deal_n = plan->deal_threads > 0 ? plan->deal_threads : env->nthreads;
  r->deal_i = (plan->deal_threads > 0 ? plan->deal_base : 0) + env->index;
  r->early_ns = r->arrival && nstimer_precise(r->arrival) ? TICK_NS / 2 : EARLY_NS_MS;
  size_pool(r);
  *out = r;
  return 0;
}

int runner_done(const runner *r) {
  return r->done;
}

int64_t runner_active(const runner *r) {
  return r->active;
}

double runner_rate(const runner *r, int64_t rel_ns) {
  int64_t rel = rel_ns - r->plan.start_ns;
  if (r->plan.model != OPTIONS_OPEN || rel < 0 || rel > r->total_ns) return 0;
  return executor_target_at(r->plan.stages, r->plan.nstages, rel) / (double)r->deal_n;
}

static void on_handle_closed(uv_handle_t *h) {
  (void)h;
}

void runner_close(runner *r) {
  if (!r) return;
  uv_timer_stop(&r->sched);
  uv_close((uv_handle_t *)&r->sched, on_handle_closed);
  uv_close((uv_handle_t *)&r->pump, on_handle_closed);
  nstimer_close(r->arrival);
  r->arrival = NULL;
}

void runner_free(runner *r) {
  if (!r) return;
  free(r->vus);
  free(r->idle);
  free(r->backlog);
  executor_slots_free(&r->slots);
  free(r);
}
