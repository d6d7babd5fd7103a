/* engine.c - the worker's load engine: one OS thread per core, each with its own uv loop, HTTP client,
 * Lua state, VUs and stats; the executor (closed users or open arrivals) runs on timers, and every
 * interval each thread hands its stats over through one short lock, never one per request. */
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
#include "common/k6exec.h"
#include "common/log.h"
#include "worker/nstimer.h"
#include "worker/script.h"
#include "worker/trace.h"
#include "worker/vu.h"

#define CLOSED_TICK_MS 20
#define GRACE_MAX_NS 10000000000LL

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
  uv_timer_t sched, boundary;
  int64_t conns_reported; /* the HTTP client's connections counted in intervals already handed over */
  uv_check_t pump;        /* open model: starts due arrivals after every poll, between the arrival clock's */
  nstimer *arrival;       /* open model: fires when the next arrival is due */
  int64_t
      early_ns; /* open model: arrivals this close to due start now (half a tick, or 0.5 ms on ms timers) */
  uv_async_t wake;
  vu **vus;
  size_t nvus, capvus;
  vu **idle; /* open model: VUs waiting for an arrival */
  size_t nidle;
  int64_t *backlog; /* open model: arrivals waiting for a VU that is still starting */
  size_t nbacklog, capbacklog;
  options_stage stages[OPTIONS_MAX_STAGES];
  size_t nstages;
  int64_t total_ns, max_vus, next_k, interval_index, active;
  double allowed;
  int reassign_gen, stopping, closing;
  int running;          /* the start time has come and the executor timer runs */
  int polled;           /* open model: the pool was full and the loop has polled I/O once since */
  int wake_open;        /* guarded by the engine lock: uv_async_send only while the handle is open */
  executor_slots slots; /* user numbers of the live VUs: VU id = vu_id_base + index + nthreads * number + 1 */
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
  int64_t mono_start, start_wall_ns, vu_id_base;
  double spawn_rate;
  uv_mutex_t lock; /* guards queue, pending_* */
  pending *queue;
  options_stage pending_stages[OPTIONS_MAX_STAGES];
  size_t pending_nstages;
  int64_t pending_max_vus;
  int64_t worker_max_vus; /* the assignment's max_vus: this worker's part of the scenario's */
  int reassign_gen;
  _Atomic int stop;
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
  cpu = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
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
  return (e->start_wall_ns + index * e->opt.interval_ns) / 1000000;
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
  if (stats_create(&next, interval_start_ms(t->e, t->interval_index + 1), t->e->opt.interval_ns / 1000000) !=
      0)
    return; /* out of memory: keep accumulating into the current one */
  done->users = t->active;
  count_conns(t, done);
  done->rate = t->e->opt.model == OPTIONS_OPEN
                   ? executor_target_at(t->stages, t->nstages, rel_now(t)) / t->e->nthreads
                   : 0;
  push_interval(t, done, t->interval_index);
  t->interval_index++;
  t->host.stats = next;
}

static void on_boundary(uv_timer_t *timer) {
  ethread *t = timer->data;
  int64_t next_ns;
  rotate(t);
  next_ns = (t->interval_index + 1) * t->e->opt.interval_ns - rel_now(t);
  uv_timer_start(&t->boundary, on_boundary, next_ns > 0 ? (uint64_t)((next_ns + 999999) / 1000000) : 0, 0);
}

static void on_handle_closed(uv_handle_t *h) {
  (void)h;
}

static void on_http_closed(void *ud) {
  (void)ud;
}

/* Everything has stopped: hand over the last partial interval and close the thread's handles. */
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
  uv_timer_stop(&t->sched);
  uv_timer_stop(&t->boundary);
  uv_close((uv_handle_t *)&t->sched, on_handle_closed);
  uv_close((uv_handle_t *)&t->boundary, on_handle_closed);
  uv_close((uv_handle_t *)&t->pump, on_handle_closed);
  uv_close((uv_handle_t *)&t->wake, on_handle_closed);
  nstimer_close(t->arrival);
  t->arrival = NULL;
  http_client_close(t->host.http, on_http_closed, t);
}

static void remove_vu(ethread *t, vu *v) {
  for (size_t i = 0; i < t->nvus; i++) {
    if (t->vus[i] == v) {
      t->vus[i] = t->vus[--t->nvus];
      break;
    }
  }
  for (size_t i = 0; i < t->nidle; i++) {
    if (t->idle[i] == v) {
      t->idle[i] = t->idle[--t->nidle];
      break;
    }
  }
}

static void hard_stop(ethread *t) {
  while (t->nvus > 0) {
    vu *v = t->vus[--t->nvus];
    vu_destroy(v);
  }
  t->nidle = 0;
  t->active = 0;
  close_thread(t);
}

static void on_grace_over(uv_timer_t *timer) {
  ethread *t = timer->data;
  if (t->nvus > 0)
    LOG(LOG_WARN, "thread %d: %zu VUs still busy after the grace period; cancelling", t->index, t->nvus);
  hard_stop(t);
}

/* The run's end (or a stop): no new iterations; VUs finish their current one, then on_stop runs. */
static void begin_stop(ethread *t) {
  int64_t grace = t->e->opt.timeout_ns < GRACE_MAX_NS ? t->e->opt.timeout_ns : GRACE_MAX_NS;
  if (t->stopping) return;
  t->stopping = 1;
  uv_check_stop(&t->pump);
  if (t->arrival) nstimer_stop(t->arrival);
  uv_timer_stop(&t->sched);
  uv_timer_start(&t->sched, on_grace_over, (uint64_t)(grace / 1000000), 0);
  while (t->nidle > 0) vu_finish(t->idle[--t->nidle]);
  for (size_t i = 0; i < t->nvus; i++)
    if (vu_state(t->vus[i]) == VU_IDLE) vu_finish(t->vus[i]);
  if (t->nvus == 0) hard_stop(t);
}

static int on_idle(vu_host *h, vu *v) {
  ethread *t = h->engine_ud;
  if (t->stopping || vu_stop_requested(v)) {
    vu_finish(v);
    return 0;
  }
  if (t->e->opt.iterations > 0 && vu_iterations(v) >= k6exec_quota(&t->e->opt, vu_id(v))) {
    vu_request_stop(v); /* still counted active, so no VU replaces it: its iterations are done */
    vu_finish(v);
    return 0;
  }
  if (t->e->opt.model == OPTIONS_OPEN) {
    if (t->nbacklog > 0) {
      h->go_intended_ns = t->backlog[0];
      memmove(t->backlog, t->backlog + 1, --t->nbacklog * sizeof *t->backlog);
      return 1;
    }
    t->idle[t->nidle++] = v;
    return 0;
  }
  if (t->e->opt.think_max_ns > 0) {
    int64_t span = t->e->opt.think_max_ns - t->e->opt.think_min_ns;
    int64_t ns = t->e->opt.think_min_ns +
                 (span > 0 ? (int64_t)((double)(trace_rand(&h->rng) >> 11) * 0x1.0p-53 * (double)span) : 0);
    uint64_t ms = (uint64_t)(ns / 1000000);
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

static void on_exit_vu(vu_host *h, vu *v) {
  ethread *t = h->engine_ud;
  if (!vu_stop_requested(v)) t->active--;
  executor_slot_put(&t->slots, (vu_id(v) - t->e->vu_id_base - 1 - t->index) / t->e->nthreads);
  remove_vu(t, v);
  vu_destroy(v);
  if (t->stopping && t->nvus == 0) hard_stop(t);
}

/* A new VU with the lowest free user number of this thread, started (its on_start runs); NULL on -ENOMEM. */
static vu *spawn(ethread *t) {
  vu *v;
  int64_t number;
  if (t->nvus == t->capvus) {
    size_t cap = t->capvus ? t->capvus * 2 : 64;
    vu **grown = realloc(t->vus, cap * sizeof *grown), **idle = realloc(t->idle, cap * sizeof *idle);
    if (grown) t->vus = grown;
    if (idle) t->idle = idle;
    if (!grown || !idle) return NULL;
    t->capvus = cap;
  }
  if ((number = executor_slot_take(&t->slots)) < 0) return NULL;
  if (vu_create(&t->host, t->e->vu_id_base + t->index + (int64_t)t->e->nthreads * number + 1, &v) != 0) {
    executor_slot_put(&t->slots, number);
    return NULL;
  }
  t->vus[t->nvus++] = v;
  t->active++;
  vu_start(v);
  return v;
}

/* Closed model: every tick, bring this thread's users to its share of the (spawn-limited) target. */
static void closed_tick(uv_timer_t *timer) {
  ethread *t = timer->data;
  engine *e = t->e;
  int64_t rel = rel_now(t), want, total;
  if (rel < 0) return;
  if (rel >= t->total_ns) {
    begin_stop(t);
    return;
  }
  total = executor_spawn_step(&t->allowed, executor_target_at(t->stages, t->nstages, rel), e->spawn_rate,
                              CLOSED_TICK_MS / 1000.0);
  want = executor_share(total, e->nthreads, t->index);
  while (t->active < want)
    if (!spawn(t)) break;
  if (e->opt.iterations > 0 && t->nvus == 0 && t->active == want &&
      total == (int64_t)executor_target_at(t->stages, t->nstages, rel)) {
    begin_stop(t); /* count executor: every VU of this thread ran its iterations */
    return;
  }
  for (size_t i = t->nvus; i > 0 && t->active > want; i--) {
    vu *v = t->vus[i - 1];
    if (vu_stop_requested(v)) continue;
    vu_request_stop(v);
    t->active--;
    if (vu_state(v) == VU_IDLE) vu_finish(v);
  }
}

/* The arrival clock: while the next arrival is less than TICK_NS away it ticks every TICK_NS (a
 * periodic timerfd, re-armed by the kernel: under a hypervisor each timerfd_settime costs tens of us,
 * so one per arrival would cost more than the request); sparser arrivals get a one-shot wake-up each.
 * An arrival less than half a tick ahead starts now rather than at its time (its latency then counts
 * from the actual send, see vu.c), so starts land within +-250 us of their schedule. On the ms
 * fallback the window is 0.5 ms: starts within +-0.5 ms instead of 0..2 ms late. */
#define TICK_NS 500000
#define EARLY_NS_MS 500000

static void open_tick(uv_timer_t *timer);

static int arm_clock(ethread *t, int64_t at, int64_t rel) {
  if (at - rel < TICK_NS) return nstimer_every(t->arrival, TICK_NS);
  return nstimer_start_at(t->arrival, t->e->mono_start + at - t->early_ns);
}

/* Open model: start every arrival due within the early window, each on a free VU, a new one, or count
 * it dropped; then set the arrival clock for the next one. */
static void open_dispatch(ethread *t) {
  engine *e = t->e;
  int64_t rel = rel_now(t), early = t->early_ns;
  for (;;) {
    int64_t at = executor_arrival_ns(t->stages, t->nstages, t->next_k);
    if (at < 0) { /* no arrival left: the clock stops, the run's end comes on the ms timer */
      int64_t left = t->total_ns - rel;
      if (t->arrival) nstimer_stop(t->arrival);
      if (left <= 0)
        begin_stop(t);
      else
        uv_timer_start(&t->sched, open_tick, (uint64_t)((left + 999999) / 1000000), 0);
      return;
    }
    if (at > rel + early) {
      t->polled = 0;
      if (!t->arrival || arm_clock(t, at, rel) != 0)
        uv_timer_start(&t->sched, open_tick, (uint64_t)((at - rel - early + 999999) / 1000000), 0);
      return;
    }
    if (t->nidle == 0 && ((int64_t)t->nvus >= t->max_vus || t->nbacklog >= t->capbacklog) && !t->polled) {
      /* Pool exhausted: responses that already arrived may be waiting in the poll phase (after a
       * stall, timers run first). Let the loop poll once before counting the arrival as dropped. */
      t->polled = 1;
      uv_timer_start(&t->sched, open_tick, 0, 0);
      return;
    }
    t->next_k += e->nthreads;
    if (t->nidle > 0) {
      t->polled = 0;
      vu_go(t->idle[--t->nidle], e->mono_start + at);
    } else if ((int64_t)t->nvus < t->max_vus && t->nbacklog < t->capbacklog) {
      t->polled = 0;
      t->backlog[t->nbacklog++] = e->mono_start + at;
      spawn(t);
    } else {
      t->host.stats->dropped++;
    }
  }
}

/* After each poll: when an arrival is due, start it now rather than on the arrival clock's wake-up, so
 * under load (when the loop seldom sleeps) arrivals go out without an extra wake-up each. */
static void on_pump(uv_check_t *check) {
  ethread *t = check->data;
  if (!t->running || t->stopping || t->closing) return;
  int64_t at = executor_arrival_ns(t->stages, t->nstages, t->next_k);
  if (at >= 0 && at <= rel_now(t) + t->early_ns) open_dispatch(t);
}

static void open_tick(uv_timer_t *timer) {
  open_dispatch(timer->data);
}

static void on_arrival(void *ud) {
  ethread *t = ud;
  if (t->running && !t->stopping && !t->closing) open_dispatch(t);
}

static void apply_reassign(ethread *t) {
  engine *e = t->e;
  uv_mutex_lock(&e->lock);
  if (t->reassign_gen != e->reassign_gen) {
    t->reassign_gen = e->reassign_gen;
    memcpy(t->stages, e->pending_stages, e->pending_nstages * sizeof *t->stages);
    t->nstages = e->pending_nstages;
    t->max_vus = executor_share(e->pending_max_vus, e->nthreads, t->index);
  }
  uv_mutex_unlock(&e->lock);
  t->total_ns = executor_total_ns(t->stages, t->nstages);
  if ((size_t)t->max_vus > t->capbacklog) {
    int64_t *grown = realloc(t->backlog, (size_t)t->max_vus * sizeof *grown);
    if (grown) t->backlog = grown, t->capbacklog = (size_t)t->max_vus;
  }
  if (e->opt.model == OPTIONS_OPEN && t->running && !t->stopping) {
    int64_t k0 = (int64_t)ceil(executor_arrivals_by(t->stages, t->nstages, rel_now(t)));
    t->next_k = k0 + ((t->index - k0 % e->nthreads) + e->nthreads) % e->nthreads;
    uv_timer_start(&t->sched, open_tick, 0, 0);
  }
}

static void on_wake(uv_async_t *a) {
  ethread *t = a->data;
  if (t->closing) return;
  if (atomic_load(&t->e->stop)) {
    hard_stop(t);
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

static void on_start_time(uv_timer_t *timer) {
  ethread *t = timer->data;
  t->running = 1;
  if (t->e->opt.model == OPTIONS_OPEN) {
    int nthreads = t->e->nthreads;
    int64_t k0 = 0; /* late start: the arrivals due before it are not sent in a burst */
    if (current_interval(t->e) > 0)
      k0 = (int64_t)ceil(executor_arrivals_by(t->stages, t->nstages, rel_now(t)));
    t->next_k = k0 + ((t->index - k0 % nthreads) + nthreads) % nthreads;
    uv_timer_start(&t->sched, open_tick, 0, 0);
    uv_check_start(&t->pump, on_pump);
  } else {
    uv_timer_start(&t->sched, closed_tick, 0, CLOSED_TICK_MS);
  }
}

/* Open model: create this thread's share of the pre-allocated VUs before the start, each with its
 * connection to options.target open (h1), so the first arrivals find idle, connected VUs instead of
 * each paying for a new VU and a connect while the next ones queue up behind it. */
static void preallocate(ethread *t) {
  engine *e = t->e;
  int64_t total = e->opt.pre_vus, want;
  if (e->opt.model != OPTIONS_OPEN || total <= 0) return;
  if (e->worker_max_vus > 0 && e->opt.max_vus > 0 && e->worker_max_vus < e->opt.max_vus)
    total = (total * e->worker_max_vus + e->opt.max_vus - 1) / e->opt.max_vus; /* this worker's part */
  want = executor_share(total, e->nthreads, t->index);
  if (want > t->max_vus) want = t->max_vus;
  while ((int64_t)t->nvus < want) {
    vu *v = spawn(t);
    if (!v) break;
    if (vu_state(v) == VU_IDLE) vu_preconnect(v, e->opt.target); /* not one still busy in on_start */
  }
}

static void thread_main(void *arg) {
  ethread *t = arg;
  char name[16];
  snprintf(name, sizeof name, "lc-engine-%d", t->index % 1000);
  prctl(PR_SET_NAME, name, 0, 0, 0); /* top -H, perf and bench/run tell the threads apart */
  preallocate(t);
  int64_t until_start = -rel_now(t);
  int64_t first_boundary = (t->interval_index + 1) * t->e->opt.interval_ns - rel_now(t);
  uv_timer_start(&t->sched, on_start_time, until_start > 0 ? (uint64_t)(until_start / 1000000) : 0, 0);
  uv_timer_start(&t->boundary, on_boundary, first_boundary > 0 ? (uint64_t)(first_boundary / 1000000) : 0, 0);
  uv_run(&t->loop, UV_RUN_DEFAULT);
  if (uv_loop_close(&t->loop) != 0) LOG(LOG_WARN, "thread %d: uv loop closed with handles left", t->index);
  atomic_store(&t->finished, 1);
}

/* Everything a thread needs before its OS thread starts; errors (scenario) come back to the caller. */
static int thread_init(engine *e, ethread *t, int index, char *err, size_t errlen) {
  http_client_options hopt = {.backend = e->opt.http_backend,
                              .insecure_tls = e->opt.insecure_tls,
                              .tls_ca_file = e->opt.tls_ca_file,
                              .tls_cert_file = e->opt.tls_cert_file,
                              .tls_key_file = e->opt.tls_key_file,
                              .h2_connections = e->opt.h2_connections,
                              .default_timeout_ms = e->opt.timeout_ns / 1000000};
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
  uv_timer_init(&t->loop, &t->sched);
  uv_timer_init(&t->loop, &t->boundary);
  uv_check_init(&t->loop, &t->pump);
  uv_async_init(&t->loop, &t->wake, on_wake);
  t->wake_open = 1;
  if (e->opt.model == OPTIONS_OPEN && (rc = nstimer_create(&t->loop, on_arrival, t, &t->arrival)) != 0)
    return rc;
  t->early_ns = t->arrival && nstimer_precise(t->arrival) ? TICK_NS / 2 : EARLY_NS_MS;
  if ((rc = http_client_create(&t->loop, &hopt, &t->host.http)) != 0) return rc;
  t->interval_index = current_interval(e);
  rc = stats_create(&t->host.stats, interval_start_ms(e, t->interval_index), e->opt.interval_ns / 1000000);
  if (rc != 0) return rc;
  t->host.opt = &e->opt;
  t->host.run_id = e->run_id;
  t->host.scenario = e->opt.name;
  t->host.on_idle = on_idle;
  t->host.on_exit = on_exit_vu;
  t->host.engine_ud = t;
  t->sched.data = t->boundary.data = t->wake.data = t->pump.data = t;
  t->reassign_gen = -1;
  apply_reassign(t);
  return 0;
}

/* Stages for this worker: the assignment's, else the scenario's, else constant users/rate. */
static void default_stages(engine *e, const engine_assignment *a) {
  const options *o = &e->opt;
  if (a->nstages > 0) {
    memcpy(e->pending_stages, a->stages, a->nstages * sizeof *a->stages);
    e->pending_nstages = a->nstages;
  } else if (o->nstages > 0) {
    memcpy(e->pending_stages, o->stages, o->nstages * sizeof *o->stages);
    e->pending_nstages = o->nstages;
  } else {
    double target = o->model == OPTIONS_OPEN ? o->rate : o->users;
    e->pending_stages[0] = (options_stage){.duration_ns = 0, .target = target};
    e->pending_stages[1] = (options_stage){.duration_ns = o->duration_ns, .target = target};
    e->pending_nstages = 2;
  }
  e->pending_max_vus = a->max_vus > 0 ? a->max_vus : o->max_vus;
  e->worker_max_vus = a->max_vus;
  e->spawn_rate = a->spawn_rate > 0 ? a->spawn_rate : o->spawn_rate;
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
  e->vu_id_base = a->vu_id_base;
  e->start_wall_ns = a->start_wall_ns > 0 ? a->start_wall_ns : clock_wall_ns();
  e->mono_start = clock_mono_ns() + (e->start_wall_ns - clock_wall_ns());
  default_stages(e, a);
  return 0;
}

static int cpu_count(void) {
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  return n > 0 ? (int)n : 1;
}

static void free_engine(engine *e) {
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
    uv_close((uv_handle_t *)&t->sched, NULL);
    uv_close((uv_handle_t *)&t->boundary, NULL);
    uv_close((uv_handle_t *)&t->pump, NULL);
    uv_close((uv_handle_t *)&t->wake, NULL);
    nstimer_close(t->arrival);
    if (t->host.http) http_client_close(t->host.http, on_http_closed, t);
    uv_run(&t->loop, UV_RUN_DEFAULT);
    uv_loop_close(&t->loop);
  }
  free(t->backlog);
}

int engine_start(const engine_assignment *a, engine **out, char *err, size_t errlen) {
  engine *e;
  int rc, i;
  if (!a || !a->script_source || !out) return -EINVAL;
  if (!(e = calloc(1, sizeof *e))) return -ENOMEM;
  uv_mutex_init(&e->lock);
  rc = copy_assignment(e, a, err, errlen);
  if (rc) goto fail;
  e->nthreads = a->threads > 0 ? a->threads : cpu_count();
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
    free(e->threads[i].vus);
    executor_slots_free(&e->threads[i].slots);
    free(e->threads[i].idle);
    free(e->threads[i].backlog);
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
