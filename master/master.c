/* master.c - the master's uv loop: wait for workers, assign shares, start in step, merge stats as they
 * come, rebalance on loss or join, drain, then thresholds and the report. Results go through
 * master/results.c (run directory, live view, report); this file is the protocol and the timeline. */
#include "master/master.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "common/clock.h"
#include "common/executor.h"
#include "common/exitcode.h"
#include "common/log.h"
#include "common/msg.h"
#include "common/scenarios.h"
#include "common/transport.h"
#include "master/aggregate.h"
#include "master/control.h"
#include "master/metrics.h"
#include "master/plan.h"
#include "master/registry.h"
#include "master/results.h"
#include "master/webapi.h"

#define TICK_MS 100
#define STALL_NS (1 * CLOCK_NS_PER_S) /* a tick this late: the master's own loop was stopped or starved */
#define STALL_HOLD_NS (3 * CLOCK_NS_PER_S) /* then for this long, intervals wait for every live worker */
#define HEARTBEAT_MS 1000
#define START_MARGIN_NS (1 * CLOCK_NS_PER_S)       /* START is sent this long before stage 0 begins */
#define READY_TIMEOUT_NS (30 * CLOCK_NS_PER_S)     /* assigned workers have this long to load the scenario */
#define READY_PER_WORKER_NS (20 * CLOCK_NS_PER_MS) /* ... plus this per active worker */
#define DRAIN_TIMEOUT_NS (10 * CLOCK_NS_PER_S)     /* after the last stage: wait this long for final stats */
#define ABORT_DRAIN_NS (3 * CLOCK_NS_PER_S)
#define EXPECT_TIMEOUT_NS \
  (30 * CLOCK_NS_PER_S)                       /* --expect-timeout's default: workers have this long to join */
#define ASSIGN_RESEND_NS (3 * CLOCK_NS_PER_S) /* an unanswered assign is sent again after this */
#define ASSIGN_RESEND_MANY_NS (10 * CLOCK_NS_PER_S) /* ... or this, with more than START_EACH_MAX workers */
#define PRERUN_MISSING_NS (10 * CLOCK_NS_PER_S)     /* before the run, silent this long = missing */
#define GRACE_INTERVALS 2
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

static void set_state(master *m, int state) {
  m->state = state;
  m->state_mono_ns = clock_mono_ns();
}

static void send_to(master *m, msg *x, const char *worker_id) {
  uint8_t *buf = NULL;
  size_t len = 0;
  int rc;

  snprintf(x->worker_id, sizeof x->worker_id, "%s", worker_id ? worker_id : "");
  snprintf(x->run_id, sizeof x->run_id, "%s", m->run_id);
  x->seq = ++m->seq;
  rc = msg_encode(x, &buf, &len);
  if (rc == 0) rc = transport_send(m->tp, buf, len);
  if (rc < 0) LOG(LOG_WARN, "master: cannot send %s: %s", msg_type_name(x->type), strerror(-rc));
  free(buf);
}

static void send_error(master *m, const char *worker_id, int code, const char *text) {
  msg x;
  msg_init(&x, MSG_ERROR);
  x.u.error.code = code;
  snprintf(x.u.error.message, sizeof x.u.error.message, "%s", text);
  send_to(m, &x, worker_id);
}

static int64_t run_length_ns(const master *m) {
  int64_t ns = 0;
  for (size_t i = 0; i < m->nstages; i++) ns += m->stages[i].duration_ns;
  return ns;
}

/* The scenario's options with the run's stages (command-line overrides applied). */
static options run_options(const master *m) {
  options full = *m->cfg->opt;
  memcpy(full.stages, m->stages, sizeof m->stages);
  full.nstages = m->nstages;
  return full;
}

/* Worker idx's slice of the run's weight (its threads among all): options.scenarios are cut from it. */
static scenarios_slice slice_of(const int *weights, size_t n, size_t idx) {
  scenarios_slice s = {0};
  for (size_t i = 0; i < n; i++) {
    if (i < idx) s.before += weights[i];
    s.wsum += weights[i];
  }
  s.weight = weights[idx];
  return s;
}

/* VU bases and peaks of a plan: plan_vu_bases for one scenario, the slices' peaks for several. */
static int vu_bases_of(const options *o, const int *weights, size_t n, int64_t *base, int64_t *peak) {
  int64_t sum = 0;
  if (o->nscenarios == 0) return plan_vu_bases(o, weights, n, base, peak);
  for (size_t i = 0; i < n; i++) {
    peak[i] = scenarios_peak(o, slice_of(weights, n, i));
    base[i] = sum;
    sum += peak[i];
  }
  return 0;
}

/* Worker idx's first VU id - 1 (with_script assigns only): before the run the plan's shares laid end to
 * end, so the VU ids of all workers are 1..N (data.csv():for_vu() rows do not collide); a worker joining
 * a running load gets ids after every id handed out so far (a running worker keeps its ids). */
static int64_t vu_base(master *m, const int *weights, size_t n, size_t idx) {
  options full = run_options(m);
  int64_t base;
  if (m->vu_bases_gen != m->gen || m->vu_bases_n != n || !m->vu_bases) { /* once per plan, not per worker */
    free(m->vu_bases);
    free(m->vu_peaks);
    m->vu_bases = malloc(n * sizeof *m->vu_bases);
    m->vu_peaks = malloc(n * sizeof *m->vu_peaks);
    m->vu_bases_n = n;
    m->vu_bases_gen = m->gen;
    if (!m->vu_bases || !m->vu_peaks || vu_bases_of(&full, weights, n, m->vu_bases, m->vu_peaks) < 0) {
      free(m->vu_bases);
      m->vu_bases = NULL;
    }
  }
  if (!m->vu_bases) return m->vu_ids_end; /* out of memory: unique, if not dense */
  base = m->state >= M_RUN ? m->vu_ids_end : m->vu_bases[idx];
  if (base + m->vu_peaks[idx] > m->vu_ids_end) m->vu_ids_end = base + m->vu_peaks[idx];
  return base;
}

/* Send worker w its share (index idx of n, weights = threads). with_script: first assign of this worker. */
static void assign_one(master *m, registry_worker *w, const int *weights, size_t n, size_t idx,
                       bool with_script) {
  options full = run_options(m), share;
  msg x;

  if (plan_share(&full, weights, n, idx, &share) < 0) return;
  if (with_script) w->vu_id_base = vu_base(m, weights, n, idx);
  msg_init(&x, MSG_ASSIGN);
  snprintf(x.u.assign.scenario_name, sizeof x.u.assign.scenario_name, "%s", m->cfg->script_name);
  if (with_script) {
    x.u.assign.scenario_source = (char *)m->cfg->script_source;
    x.u.assign.scenario_len = m->cfg->script_len;
  }
  memcpy(x.u.assign.stages, share.stages, sizeof x.u.assign.stages);
  x.u.assign.nstages = share.nstages;
  x.u.assign.max_vus = share.max_vus;
  x.u.assign.spawn_rate = share.spawn_rate;
  x.u.assign.vu_id_base = w->vu_id_base;
  if (full.nscenarios > 0) {
    scenarios_slice sl = slice_of(weights, n, idx);
    x.u.assign.slice_before = sl.before;
    x.u.assign.slice_weight = sl.weight;
    x.u.assign.slice_wsum = sl.wsum;
  }
  x.u.assign.threads = w->threads;
  if (m->state >= M_RUN && with_script) x.u.assign.start_wall_ns = m->start_wall_ns + w->offset_ns;
  send_to(m, &x, w->id);
  w->assigned_gen = m->gen;
  w->assign_due = false;
  w->assign_sent_mono_ns = clock_mono_ns();
  if (w->state == REGISTRY_JOINED) w->state = m->state >= M_RUN ? REGISTRY_RUNNING : REGISTRY_ASSIGNED;
}

/* Send up to ASSIGNS_PER_TICK due shares of the current plan (the rest go on the next ticks). */
static void send_due(master *m) {
  size_t n = registry_active(m->reg, m->act, MAX_WORKERS), sent = 0;
  size_t budget = n > 0 && FRAMES_PER_TICK / n > 0 ? FRAMES_PER_TICK / n : 1;
  int weights[n > 0 ? n : 1];

  for (size_t i = 0; i < n; i++) weights[i] = m->act[i]->threads;
  for (size_t i = 0; i < n && sent < budget; i++) {
    registry_worker *w = m->act[i];
    bool first = w->state == REGISTRY_JOINED || (m->state < M_RUN && w->state == REGISTRY_ASSIGNED);
    if (!w->assign_due) continue;
    assign_one(m, w, weights, n, i, first);
    sent++;
  }
}

/* Queue the shares: for all active workers, or (resend) only those whose assign is unanswered. */
static void send_plan(master *m, bool only_unready) {
  size_t n = registry_active(m->reg, m->act, MAX_WORKERS);
  int64_t now = clock_mono_ns(), resend_ns = n > START_EACH_MAX ? ASSIGN_RESEND_MANY_NS : ASSIGN_RESEND_NS;

  for (size_t i = 0; i < n; i++) {
    registry_worker *w = m->act[i];
    if (!only_unready || (w->state == REGISTRY_ASSIGNED && m->state < M_RUN && !w->assign_due &&
                          now - w->assign_sent_mono_ns >= resend_ns))
      w->assign_due = true;
  }
  send_due(m);
}

/* A new plan after workers came or went. */
static void rebalance(master *m, const char *why) {
  m->gen++;
  m->active_count = registry_active(m->reg, m->act, MAX_WORKERS);
  send_plan(m, false);
  if (why) LOG(LOG_INFO, "master: %s: load now split over %zu worker(s)", why, m->active_count);
}

static void on_hello(master *m, const char *peer, const msg *x) {
  bool rejoined = false, repeated;
  registry_worker *w = registry_find(m->reg, peer);
  char text[512];

  if (strcmp(x->u.hello.version, LOADCTL_VERSION) != 0) {
    snprintf(text, sizeof text,
             "version mismatch: worker '%s' on %s runs loadctl %s, this master runs %s; "
             "install the same version on both sides",
             peer, x->u.hello.hostname, x->u.hello.version, LOADCTL_VERSION);
    LOG(LOG_ERROR, "master: refused %s", text);
    send_error(m, peer, -EPROTO, text);
    return;
  }
  repeated = w && w->live && (w->state == REGISTRY_JOINED || w->state == REGISTRY_ASSIGNED);
  if (repeated) { /* hellos repeat until our assign arrives: no new plan, at most a resend */
    registry_seen(w, clock_mono_ns());
    if (w->state == REGISTRY_ASSIGNED && clock_mono_ns() - w->assign_sent_mono_ns >= ASSIGN_RESEND_NS)
      w->assign_due = true;
    return;
  }
  w = registry_hello(m->reg, peer, &x->u.hello, clock_mono_ns(), &rejoined);
  if (!w) return;
  LOG(LOG_INFO, "master: worker '%s' on %s %s (%d threads)", peer, w->hostname,
      rejoined ? "rejoined" : "joined", w->threads);
  if (m->state == M_ASSIGN || m->state == M_RUN)
    rebalance(m, rejoined ? "a worker rejoined" : "a worker joined");
}

static void on_stats(master *m, registry_worker *w, const msg *x, int64_t decode_ns) {
  master_counters *c = m->cfg->counters;
  int64_t t0 = clock_mono_ns(), took;
  int rc;

  if (!m->agg) return;
  rc = aggregate_add(m->agg, w->id, clock_ns_to_ms(w->offset_ns), x->u.stats);
  if (rc < 0) LOG(LOG_WARN, "master: cannot merge stats of '%s': %s", w->id, strerror(-rc));
  w->intervals++;
  w->users = x->u.stats->users;
  if (c) {
    took = clock_mono_ns() - t0;
    c->stats_msgs++;
    c->decode_ns += decode_ns;
    c->merge_ns += took;
    if (took + decode_ns > c->merge_max_ns) c->merge_max_ns = took + decode_ns;
  }
}

static void on_worker_error(master *m, registry_worker *w, const msg *x) {
  LOG(LOG_ERROR, "master: worker '%s' reports: %s", w->id, x->u.error.message);
  w->state = REGISTRY_FAILED;
  if (m->state <= M_ASSIGN) results_note_error(m->res, x->u.error.message);
  if (m->state == M_RUN) rebalance(m, "a worker failed");
}

static void dispatch(master *m, const char *peer, msg *x, int64_t decode_ns) {
  registry_worker *w = registry_find(m->reg, peer);

  if (x->type == MSG_HELLO) {
    on_hello(m, peer, x);
    return;
  }
  if (!w) {
    LOG(LOG_DEBUG, "master: %s from unknown worker '%s' ignored (it will say hello)", msg_type_name(x->type),
        peer);
    return;
  }
  if (registry_seen(w, clock_mono_ns()) && m->state == M_RUN && w->state == REGISTRY_RUNNING)
    rebalance(m, "a missing worker is back");
  switch (x->type) {
    case MSG_READY:
      if (w->state == REGISTRY_ASSIGNED) w->state = REGISTRY_READY;
      break;
    case MSG_STATS:
      on_stats(m, w, x, decode_ns);
      break;
    case MSG_HEARTBEAT:
      if (x->u.heartbeat.echo_wall_ns)
        registry_clock_sample(w, x->u.heartbeat.echo_wall_ns, x->u.heartbeat.recv_wall_ns,
                              x->u.heartbeat.sent_wall_ns, clock_wall_ns());
      if (m->state == M_RUN && w->state == REGISTRY_RUNNING &&
          registry_cpu_sample(w, x->u.heartbeat.cpu_permille, clock_mono_ns()))
        LOG(LOG_WARN,
            "master: worker '%s' has kept its engine threads above %d%% CPU for %d s: a saturated generator "
            "measures its own queueing as latency; add workers or --threads, or lower the load",
            w->id, REGISTRY_CPU_HOT_PERMILLE / 10, REGISTRY_CPU_HOT_SAMPLES);
      break;
    case MSG_QUIT:
      if (w->state == REGISTRY_RUNNING) w->state = REGISTRY_FINISHED;
      break;
    case MSG_ERROR:
      on_worker_error(m, w, x);
      break;
    default:
      LOG(LOG_WARN, "master: unexpected %s from '%s', ignored", msg_type_name(x->type), peer);
  }
}

static void on_message(void *ud, const char *peer, const uint8_t *body, size_t len) {
  master *m = ud;
  char err[256];
  int64_t t0 = clock_mono_ns(), decode_ns;
  msg x;

  if (msg_decode(body, len, &x, err, sizeof err) < 0) {
    LOG(LOG_WARN, "master: dropped a message from worker '%s': %s", peer, err);
    if (strstr(err, "version")) {
      char text[512];
      snprintf(text, sizeof text, "protocol version mismatch (%s); install the same loadctl version", err);
      send_error(m, peer, -EPROTO, text);
    }
    return;
  }
  decode_ns = clock_mono_ns() - t0;
  if (strcmp(x.worker_id, peer) != 0) {
    LOG(LOG_WARN, "master: dropped %s from '%s' claiming to be '%s'", msg_type_name(x.type), peer,
        x.worker_id);
  } else if (x.run_id[0] && strcmp(x.run_id, m->run_id) != 0 && x.type != MSG_HEARTBEAT &&
             x.type != MSG_HELLO) {
    LOG(LOG_WARN, "master: dropped %s from worker '%s' of another run (%s)", msg_type_name(x.type), peer,
        x.run_id);
  } else {
    dispatch(m, peer, &x, decode_ns);
  }
  msg_free(&x);
}

static size_t count_state(master *m, int state) {
  size_t n = 0, total = registry_active(m->reg, m->act, MAX_WORKERS);
  for (size_t i = 0; i < total; i++) n += m->act[i]->state == state;
  return n;
}

static void begin_run(master *m) {
  size_t n = registry_active(m->reg, m->act, MAX_WORKERS);
  int rc;

  m->start_wall_ns = clock_wall_ns() + START_MARGIN_NS;
  m->end_wall_ns = m->start_wall_ns + run_length_ns(m);
  rc = aggregate_create(clock_ns_to_ms(m->start_wall_ns), clock_ns_to_ms(m->cfg->opt->interval_ns),
                        GRACE_INTERVALS, &m->agg);
  if (rc < 0) {
    m->exit_code = EXIT_RUNTIME;
    set_state(m, M_DONE);
    return;
  }
  for (size_t i = 0; i < n; i++) {
    registry_worker *w = m->act[i];
    msg x;
    if (w->state != REGISTRY_READY) continue;
    if (n <= START_EACH_MAX) { /* in the worker's clock: stages in step despite clock offsets */
      msg_init(&x, MSG_START);
      x.u.start_wall_ns = m->start_wall_ns + w->offset_ns;
      send_to(m, &x, w->id);
    }
    w->state = REGISTRY_RUNNING;
  }
  if (n > START_EACH_MAX) { /* one frame for all: every frame reaches every worker anyway */
    msg x;
    msg_init(&x, MSG_START);
    x.u.start_wall_ns = m->start_wall_ns;
    send_to(m, &x, NULL);
  }
  results_started(m->res, m->start_wall_ns, m->reg, m->run_id);
  LOG(LOG_INFO, "master: run %s starts with %zu worker(s)", m->run_id, n);
  set_state(m, M_RUN);
}

static void state_wait(master *m, int64_t now) {
  size_t n = registry_active(m->reg, m->act, MAX_WORKERS);
  int64_t limit = m->cfg->expect_timeout_ns > 0 ? m->cfg->expect_timeout_ns : EXPECT_TIMEOUT_NS;

  if (n != m->active_count) {
    LOG(LOG_INFO, "master: %zu of %d worker(s) joined", n, m->cfg->expect_workers);
    m->active_count = n;
  }
  if ((int)n >= m->cfg->expect_workers) {
    set_state(m, M_ASSIGN);
    rebalance(m, NULL);
  } else if (now - m->state_mono_ns >= limit) {
    char d[32];
    LOG(LOG_ERROR,
        "master: only %zu of %d worker(s) joined within %s; start more workers or lower "
        "--expect-workers",
        n, m->cfg->expect_workers, clock_format_duration(limit, d, sizeof d));
    m->exit_code = EXIT_RUNTIME;
    set_state(m, M_DONE);
  }
}

static void state_assign(master *m, int64_t now) {
  size_t ready = count_state(m, REGISTRY_READY), active = registry_active(m->reg, m->act, MAX_WORKERS);

  if (results_error(m->res)) {
    LOG(LOG_ERROR, "master: the scenario failed on a worker; no load was sent");
    m->exit_code = EXIT_RUNTIME;
    set_state(m, M_DONE);
  } else if (active > 0 && ready == active) {
    begin_run(m);
  } else if (now - m->state_mono_ns >= READY_TIMEOUT_NS + (int64_t)active * READY_PER_WORKER_NS) {
    if (ready == 0) {
      char d[32];
      LOG(LOG_ERROR, "master: no worker became ready within %s",
          clock_format_duration(READY_TIMEOUT_NS + (int64_t)active * READY_PER_WORKER_NS, d, sizeof d));
      m->exit_code = EXIT_RUNTIME;
      set_state(m, M_DONE);
    } else {
      LOG(LOG_WARN, "master: starting with the %zu of %zu workers that are ready", ready, active);
      begin_run(m);
    }
  }
}

static int emit(void *ud, const stats_interval *iv) {
  master *m = ud;
  if (results_interval(m->res, iv, clock_wall_ns() - m->start_wall_ns)) m->threshold_abort = true;
  if (m->cfg->counters) m->cfg->counters->intervals++;
  if (m->met) metrics_update(m->met, results_cumulative(m->res), iv->users, (int64_t)m->active_count);
  return 0;
}

static void poll_aggregate(master *m) {
  size_t n = registry_active(m->reg, m->act, MAX_WORKERS), k = 0;
  const char *ids[n > 0 ? n : 1];
  for (size_t i = 0; i < n; i++)
    if (m->act[i]->state == REGISTRY_RUNNING) ids[k++] = m->act[i]->id;
  /* Right after a stall of our own, the workers' stats of that time are still in the socket: close
   * intervals as of the moment the stall began (so only those every live worker reported) until they
   * have had STALL_HOLD_NS to arrive. */
  int64_t now_ms =
      clock_mono_ns() < m->stall_hold_until_mono_ns ? m->stall_wall_ms : clock_ns_to_ms(clock_wall_ns());
  aggregate_poll(m->agg, now_ms, ids, k, emit, m);
}

static void stop_all(master *m, const char *why) {
  msg x;
  msg_init(&x, MSG_STOP);
  send_to(m, &x, NULL);
  LOG(LOG_WARN, "master: stopping the run: %s", why);
  m->aborted = true;
  m->drain_deadline_mono_ns = clock_mono_ns() + ABORT_DRAIN_NS;
  set_state(m, M_DRAIN);
}

/* ---- --web: the live page steers the run (master/webapi.c) ---- */

static const char *web_state(void *ud) {
  static const char *const names[] = {"waiting", "starting", "running", "stopping", "done"};
  const master *m = ud;
  return m->state == M_DRAIN && !m->aborted ? "finishing" : names[m->state];
}

/* New users (closed model) or rate (open model) from now on, ramped at spawn_rate; see control.h. */
static int web_scale(void *ud, double target, bool is_rate, char *why, size_t len) {
  master *m = ud;
  bool open = m->cfg->opt->model == OPTIONS_OPEN;
  int64_t at_ns = clock_wall_ns() - m->start_wall_ns;
  options_stage st[OPTIONS_MAX_STAGES];
  size_t n = 0;
  char label[64];
  int rc;

  if (m->state != M_RUN) return snprintf(why, len, "no run is going (%s)", web_state(m)), -EBUSY;
  if (m->cfg->opt->nscenarios > 0)
    return snprintf(why, len, "this run has several scenarios (options.scenarios): each keeps its own load"),
           -EINVAL;
  if (is_rate != open)
    return snprintf(why, len, "this run uses the %s model: set \"%s\"", open ? "open" : "closed",
                    open ? "rate" : "users"),
           -EINVAL;
  rc = control_override(m->stages, m->nstages, at_ns, target, m->cfg->opt->spawn_rate, st, &n);
  if (rc == -ERANGE) return snprintf(why, len, "the run's planned end has passed"), rc;
  if (rc == -ENOSPC)
    return snprintf(why, len, "too many changes for one run (%d stages)", OPTIONS_MAX_STAGES), rc;
  if (rc < 0) return snprintf(why, len, "cannot change the run: %s", strerror(-rc)), rc;
  memcpy(m->stages, st, n * sizeof *st);
  m->nstages = n;
  rebalance(m, NULL);
  snprintf(label, sizeof label, is_rate ? "rate %g/s" : "users %g", target);
  LOG(LOG_INFO, "master: %s from the web page", label);
  results_note_change(
      m->res, json_pack("{s:I,s:f,s:s,s:f,s:s,s:s}", "at_ms", (json_int_t)clock_ns_to_ms(clock_wall_ns()),
                        "elapsed_s", clock_ns_to_s(at_ns), "kind", "scale", is_rate ? "rate" : "users",
                        target, "label", label, "source", "web"));
  return 0;
}

static int web_stop(void *ud, char *why, size_t len) {
  master *m = ud;
  if (m->state != M_RUN) return snprintf(why, len, "no run is going (%s)", web_state(m)), -EBUSY;
  results_note_change(
      m->res, json_pack("{s:I,s:f,s:s,s:s,s:s}", "at_ms", (json_int_t)clock_ns_to_ms(clock_wall_ns()),
                        "elapsed_s", clock_ns_to_s(clock_wall_ns() - m->start_wall_ns), "kind", "stop",
                        "label", "stop", "source", "web"));
  stop_all(m, "stopped from the web page");
  return 0;
}

static const webapi_ops web_ops = {.scale = web_scale, .stop = web_stop, .state = web_state};

static int web_setup(master *m, char *err, size_t errlen) {
  json_t *info = results_run_info(m->res);
  webapi_config wc = {.listen = m->cfg->web_listen,
                      .token = m->cfg->web_token,
                      .run_id = m->run_id,
                      .dir = results_dir(m->res),
                      .model = m->cfg->opt->model == OPTIONS_OPEN ? "open" : "closed",
                      .run_info = info,
                      .rep = results_report(m->res),
                      .reg = m->reg,
                      .ops = &web_ops,
                      .ud = m,
                      .next_offered = m->cfg->web_next};
  int rc = webapi_open(&m->loop, &wc, &m->web, err, errlen);

  if (rc < 0) return rc;
  results_set_web(m->res, m->web);
  printf("live page: %s%s\n", webapi_url(m->web), m->cfg->web_token ? " (token required)" : "");
  fflush(stdout);
  return 0;
}

static void state_run(master *m, int64_t now_mono) {
  int64_t now_wall = clock_wall_ns();
  size_t active = registry_active(m->reg, m->act, MAX_WORKERS), running = count_state(m, REGISTRY_RUNNING);

  poll_aggregate(m);
  if (m->threshold_abort) {
    stop_all(m, "a threshold with abort_on_fail failed");
    return;
  }
  /* count executors and several scenarios keep each worker's VUs (and iteration shares): a finished
   * worker's are done, and the run ends early when every worker has finished */
  bool fixed = m->cfg->opt->iterations > 0 || m->cfg->opt->nscenarios > 0;
  if (now_wall < m->end_wall_ns && active != m->active_count && !fixed) rebalance(m, "workers changed");
  if ((now_wall >= m->end_wall_ns || fixed) && running == 0) {
    m->drain_deadline_mono_ns = now_mono;
    set_state(m, M_DRAIN);
  } else if (now_wall >= m->end_wall_ns + DRAIN_TIMEOUT_NS) {
    LOG(LOG_WARN,
        "master: %zu worker(s) did not report the end of their load in time; finishing without them",
        running);
    m->drain_deadline_mono_ns = now_mono;
    set_state(m, M_DRAIN);
  }
}

static void finish(master *m) {
  msg x;
  int rc;

  if (m->agg) aggregate_flush(m->agg, emit, m);
  msg_init(&x, MSG_QUIT);
  send_to(m, &x, NULL);
  rc = results_finish(m->res, m->aborted, m->agg ? aggregate_late(m->agg) : 0, m->reg);
  if (m->exit_code == 0) m->exit_code = rc;
  set_state(m, M_DONE);
}

static void on_tick(uv_timer_t *t) {
  master *m = t->data;
  int64_t now = clock_mono_ns();

  if (m->last_tick_mono_ns && now - m->last_tick_mono_ns > STALL_NS) {
    m->stall_wall_ms = m->last_tick_wall_ms;
    m->stall_hold_until_mono_ns = now + STALL_HOLD_NS;
  }
  m->last_tick_mono_ns = now;
  m->last_tick_wall_ms = clock_ns_to_ms(clock_wall_ns());

  if (m->state == M_ASSIGN || m->state == M_RUN) send_due(m);
  switch (m->state) {
    case M_WAIT:
      state_wait(m, now);
      break;
    case M_ASSIGN:
      state_assign(m, now);
      break;
    case M_RUN:
      state_run(m, now);
      break;
    case M_DRAIN:
      poll_aggregate(m);
      if (now >= m->drain_deadline_mono_ns || count_state(m, REGISTRY_RUNNING) == 0) finish(m);
      break;
    default:
      break;
  }
  if (m->state == M_DONE) uv_stop(&m->loop);
}

static void on_heartbeat(uv_timer_t *t) {
  master *m = t->data;
  int64_t now = clock_mono_ns();
  /* When this tick comes more than two periods late, the master itself was stalled (stopped, swapped,
   * starved of CPU): the workers' frames of that time are still waiting in the socket, read after the
   * timers of this loop pass, so nobody is judged silent on this tick. */
  bool stalled =
      m->last_heartbeat_mono_ns && now - m->last_heartbeat_mono_ns > 2 * clock_ms_to_ns(HEARTBEAT_MS);
  /* REGISTRY_MISSING_NS during the run; before it, a worker busy loading its scenario gets longer */
  size_t lost =
      stalled ? 0 : registry_expire(m->reg, now, m->state >= M_RUN ? REGISTRY_MISSING_NS : PRERUN_MISSING_NS);
  msg x;

  if (stalled)
    LOG(LOG_WARN,
        "master: its own loop stalled for %.1f s (paused or starved of CPU); workers are judged "
        "on the next heartbeat",
        clock_ns_to_s(now - m->last_heartbeat_mono_ns));
  m->last_heartbeat_mono_ns = now;

  msg_init(&x, MSG_HEARTBEAT);
  x.u.heartbeat.sent_wall_ns = clock_wall_ns();
  send_to(m, &x, NULL);
  if (lost)
    LOG(LOG_WARN, "master: %zu worker(s) silent for %d s, marked missing", lost, m->state >= M_RUN ? 3 : 10);
  if (lost && m->state == M_RUN && clock_wall_ns() < m->end_wall_ns) rebalance(m, "a worker went missing");
  if (m->state == M_ASSIGN) send_plan(m, true); /* an assign can be lost while a connection comes up */
}

static void on_signal(uv_signal_t *s, int signum) {
  master *m = s->data;
  m->signals++;
  if (m->signals > 1 || m->state < M_RUN) {
    LOG(LOG_WARN, "master: signal %d: leaving now", signum);
    m->aborted = true;
    m->exit_code = EXIT_RUNTIME;
    if (m->state >= M_RUN)
      finish(m);
    else
      set_state(m, M_DONE);
    uv_stop(&m->loop);
  } else if (m->state == M_RUN) {
    stop_all(m, "interrupted (press Ctrl-C again to leave at once)");
  }
}

static int master_setup(master *m, char *err, size_t errlen) {
  transport_config tc = {.url = m->cfg->listen,
                         .mode = TRANSPORT_BIND,
                         .key = m->cfg->key,
                         .self_id = "master",
                         .on_message = on_message,
                         .ud = m};
  int rc;

  rc = transport_open(&m->loop, &tc, &m->tp, err, errlen);
  if (rc < 0) return rc;
  if (m->cfg->metrics_listen) {
    rc = metrics_start(&m->loop, m->cfg->metrics_listen, &m->met, err, errlen);
    if (rc < 0) return -EINVAL;
    LOG(LOG_INFO, "master: metrics on http://%s/metrics", m->cfg->metrics_listen);
  }
  if (m->cfg->web_listen && (rc = web_setup(m, err, errlen)) < 0) return rc;
  uv_timer_init(&m->loop, &m->tick);
  uv_timer_init(&m->loop, &m->heartbeat);
  uv_signal_init(&m->loop, &m->sigint);
  uv_signal_init(&m->loop, &m->sigterm);
  m->tick.data = m->heartbeat.data = m->sigint.data = m->sigterm.data = m;
  uv_timer_start(&m->tick, on_tick, TICK_MS, TICK_MS);
  uv_timer_start(&m->heartbeat, on_heartbeat, HEARTBEAT_MS, HEARTBEAT_MS);
  uv_signal_start(&m->sigint, on_signal, SIGINT);
  uv_signal_start(&m->sigterm, on_signal, SIGTERM);
  return 0;
}

static void close_cb(uv_handle_t *h) {
  (void)h;
}

static void master_teardown(master *m) {
  uv_handle_t *handles[] = {(uv_handle_t *)&m->tick, (uv_handle_t *)&m->heartbeat, (uv_handle_t *)&m->sigint,
                            (uv_handle_t *)&m->sigterm};
  /* give the final quit a moment on the wire */
  uv_run(&m->loop, UV_RUN_NOWAIT);
  for (size_t i = 0; i < sizeof handles / sizeof handles[0]; i++)
    if (!uv_is_closing(handles[i])) uv_close(handles[i], close_cb);
  transport_close(m->tp);
  metrics_close(m->met);
  results_set_web(m->res, NULL);
  webapi_close(m->web);
  uv_run(&m->loop, UV_RUN_DEFAULT);
  uv_loop_close(&m->loop);
}

static void make_run_id(master *m) {
  char stamp[32];
  clock_format_wall(clock_ns_to_ms(clock_wall_ns()), stamp, sizeof stamp);
  snprintf(m->run_id, sizeof m->run_id, "%.28s-%.24s-%04x", stamp, m->cfg->opt->name,
           (unsigned)(clock_mono_ns() & 0xffff));
}

int master_run(const master_config *cfg) {
  master *m = calloc(1, sizeof *m);
  char err[1024] = "";
  int rc, code;

  if (!m) return 2;
  m->cfg = cfg;
  m->nstages = executor_stage_list(cfg->opt, m->stages);
  m->act = calloc(MAX_WORKERS, sizeof *m->act);
  make_run_id(m);
  rc = m->act ? registry_create(&m->reg) : -ENOMEM;
  if (rc == 0) rc = results_open(cfg, m->run_id, &m->res, err, sizeof err);
  if (rc == 0 && cfg->run_dir_out)
    snprintf(cfg->run_dir_out, cfg->run_dir_out_len, "%s", results_dir(m->res));
  if (rc < 0) {
    LOG(LOG_ERROR, "%s", err[0] ? err : strerror(-rc));
    code = rc == -EINVAL ? 1 : 2;
    goto out;
  }
  uv_loop_init(&m->loop);
  rc = master_setup(m, err, sizeof err);
  if (rc < 0) {
    LOG(LOG_ERROR, "master: %s", err);
    code = rc == -EPERM || rc == -EINVAL ? 1 : 2;
    results_close(m->res, true);
    m->res = NULL;
    if (m->tp) transport_close(m->tp);
    metrics_close(m->met);
    webapi_close(m->web);
    m->tp = NULL;
    uv_run(&m->loop, UV_RUN_DEFAULT);
    uv_loop_close(&m->loop);
    goto out;
  }
  LOG(LOG_INFO, "master: listening on %s%s", cfg->listen,
      cfg->key ? " (authenticated with the pre-shared key)" : " (no key: loopback and ipc only)");
  set_state(m, M_WAIT);
  if (cfg->on_listening) cfg->on_listening(cfg->ud);
  uv_run(&m->loop, UV_RUN_DEFAULT);
  code = m->exit_code;
  master_teardown(m);
  results_close(m->res, m->state != M_DONE || code == 2);
  m->res = NULL;
out:
  aggregate_destroy(m->agg);
  registry_destroy(m->reg);
  free(m->act);
  free(m->vu_bases);
  free(m->vu_peaks);
  free(m);
  return code;
}
