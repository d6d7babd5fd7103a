/* master.c - the master's uv loop: wait for workers, assign shares, start in step, merge stats as they
 * come, rebalance on loss or join, drain, then thresholds and the report. Results go through
 * master/results.c (run directory, live view, report); this file is the protocol and the timeline. */
#include "master/master.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <uv.h>

#include "common/clock.h"
#include "common/executor.h"
#include "common/exitcode.h"
#include "common/log.h"
#include "common/msg.h"
#include "common/scenarios.h"
#include "common/transport.h"
#include "master/aggregate.h"
#include "master/assign.h"
#include "master/control.h"
#include "master/master_internal.h"
#include "master/metrics.h"
#include "master/plan.h"
#include "master/registry.h"
#include "master/results.h"
#include "master/tally.h"
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
  (30 * CLOCK_NS_PER_S) /* --expect-timeout's default: workers have this long to join */
#define PRERUN_MISSING_NS (10 * CLOCK_NS_PER_S) /* before the run, silent this long = missing */
#define GRACE_INTERVALS 2
#define RESEND_DRAIN_NS (5 * CLOCK_NS_PER_S) /* after the last quit: this long for stats asked for again */
#define DRAIN_MAX_NS (60 * CLOCK_NS_PER_S)   /* ... and after each stats merged then, up to this in all */

static void set_state(master *m, int state) {
  m->state = state;
  m->state_mono_ns = clock_mono_ns();
}

void master_send(master *m, msg *x, const char *worker_id) {
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
  master_send(m, &x, worker_id);
}

static int64_t run_length_ns(const master *m) {
  int64_t ns = 0;
  for (size_t i = 0; i < m->nstages; i++) ns += m->stages[i].duration_ns;
  return ns;
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
    registry_seen(w, tally_awake_ns(m));
    if (w->state == REGISTRY_ASSIGNED && clock_mono_ns() - w->assign_sent_mono_ns >= ASSIGN_RESEND_NS)
      w->assign_due = true;
    return;
  }
  w = registry_hello(m->reg, peer, &x->u.hello, tally_awake_ns(m), &rejoined);
  if (!w) return;
  LOG(LOG_INFO, "master: worker '%s' on %s %s (%d threads)", peer, w->hostname,
      rejoined ? "rejoined" : "joined", w->threads);
  if (rejoined && m->agg) aggregate_renumber(m->agg, peer); /* it dropped the run: its stats start at 1 */
  if (m->state == M_ASSIGN || m->state == M_RUN)
    assign_rebalance(m, rejoined ? "a worker rejoined" : "a worker joined");
}

static void on_stats(master *m, registry_worker *w, const msg *x, int64_t decode_ns) {
  master_counters *c = m->cfg->counters;
  int64_t t0 = clock_mono_ns(), took;
  int rc;

  if (!m->agg) return;
  rc = aggregate_add_numbered(m->agg, w->id, clock_ns_to_ms(w->offset_ns), x->stats_no, x->u.stats);
  if (rc < 0) LOG(LOG_WARN, "master: cannot merge stats of '%s': %s", w->id, strerror(-rc));
  if (rc == 1) return;                  /* a resend that crossed the original: merged once already */
  if (rc == 0 && m->state == M_DRAIN) { /* stats still coming in (a master behind on merging, or resends) */
    int64_t until = clock_mono_ns() + RESEND_DRAIN_NS, cap = m->state_mono_ns + DRAIN_MAX_NS;
    if (until > cap) until = cap;
    if (until > m->drain_deadline_mono_ns) m->drain_deadline_mono_ns = until;
  }
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
  if (m->state == M_RUN) assign_rebalance(m, "a worker failed");
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
  if (registry_seen(w, tally_awake_ns(m)) && m->state == M_RUN && w->state == REGISTRY_RUNNING)
    assign_rebalance(m, "a missing worker is back");
  /* its stats numbers are per run: a heartbeat from a worker still on an earlier run does not count */
  if (m->agg && (x->type == MSG_HEARTBEAT || x->type == MSG_QUIT) && x->stats_no &&
      !strcmp(x->run_id, m->run_id))
    aggregate_sent(m->agg, w->id, x->stats_no);
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
      master_send(m, &x, w->id);
    }
    w->state = REGISTRY_RUNNING;
  }
  if (n > START_EACH_MAX) { /* one frame for all: every frame reaches every worker anyway */
    msg x;
    msg_init(&x, MSG_START);
    x.u.start_wall_ns = m->start_wall_ns;
    master_send(m, &x, NULL);
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
    assign_rebalance(m, NULL);
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
  master_send(m, &x, NULL);
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
  assign_rebalance(m, NULL);
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
  size_t active = registry_active(m->reg, m->act, MAX_WORKERS), running = tally_unfinished(m);

  poll_aggregate(m);
  if (m->threshold_abort) {
    stop_all(m, "a threshold with abort_on_fail failed");
    return;
  }
  /* count executors and several scenarios keep each worker's VUs (and iteration shares): a finished
   * worker's are done, and the run ends early when every worker has finished */
  bool fixed = m->cfg->opt->iterations > 0 || m->cfg->opt->nscenarios > 0;
  if (now_wall < m->end_wall_ns && active != m->active_count && !fixed)
    assign_rebalance(m, "workers changed");
  if ((now_wall >= m->end_wall_ns || fixed) && running == 0) {
    m->drain_deadline_mono_ns =
        now_mono + RESEND_DRAIN_NS; /* for stats asked for again (tally_ask_resends) */
    set_state(m, M_DRAIN);
  } else if (now_wall >= m->end_wall_ns + DRAIN_TIMEOUT_NS +
                             (m->stalled_ns < DRAIN_MAX_NS ? m->stalled_ns : DRAIN_MAX_NS)) {
    /* our own stalls (and reading behind) are not the workers' delay: up to DRAIN_MAX_NS of them */
    LOG(LOG_WARN,
        "master: %zu worker(s) did not report the end of their load in time; finishing without them",
        running);
    m->drain_deadline_mono_ns = now_mono;
    set_state(m, M_DRAIN);
  }
}

static void finish(master *m) {
  msg x;
  int rc, lost_rc;

  if (m->agg) aggregate_flush(m->agg, emit, m);
  msg_init(&x, MSG_QUIT);
  master_send(m, &x, NULL);
  lost_rc = m->agg ? tally_losses(m) : 0;
  rc = results_finish(m->res, m->aborted, m->agg ? aggregate_late(m->agg) : 0, m->reg);
  if (m->exit_code == 0) m->exit_code = rc;
  if (lost_rc) m->exit_code = lost_rc; /* over thresholds (99): the figures they judged are incomplete */
  set_state(m, M_DONE);
}

/* Integration tests only: LOADCTL_TEST_MASTER_STALL="AT:SECONDS" stands the master's loop still for
 * SECONDS once, AT seconds into the run, as a starved master's does; in `loadctl start` the worker
 * threads go on meanwhile (a SIGSTOP would stop them too). */
static void test_stall_parse(master *m) {
  const char *v = getenv("LOADCTL_TEST_MASTER_STALL");
  char *end = NULL;
  double at_s, len_s;

  if (!v || !*v) return;
  at_s = strtod(v, &end);
  if (end != v && *end == ':') {
    const char *l = end + 1;
    len_s = strtod(l, &end);
    if (end != l && !*end && at_s >= 0 && len_s > 0 && len_s <= 60) {
      m->test_stall_at_ns = (int64_t)(at_s * 1e9);
      m->test_stall_ns = (int64_t)(len_s * 1e9);
      return;
    }
  }
  LOG(LOG_WARN, "master: LOADCTL_TEST_MASTER_STALL='%s' ignored: expected AT:SECONDS (0 < SECONDS <= 60)", v);
}

static void test_stall(master *m) {
  if (!m->test_stall_ns || m->state != M_RUN || clock_wall_ns() - m->start_wall_ns < m->test_stall_at_ns)
    return;
  LOG(LOG_WARN, "master: LOADCTL_TEST_MASTER_STALL: the loop stands still for %.1f s",
      clock_ns_to_s(m->test_stall_ns));
  struct timespec left = {(time_t)(m->test_stall_ns / CLOCK_NS_PER_S),
                          (long)(m->test_stall_ns % CLOCK_NS_PER_S)};
  while (nanosleep(&left, &left) != 0 && errno == EINTR) {
  }
  m->test_stall_ns = 0;
}

static void on_tick(uv_timer_t *t) {
  master *m = t->data;
  int64_t now;

  test_stall(m);
  now = clock_mono_ns();
  if (m->last_tick_mono_ns && now - m->last_tick_mono_ns > STALL_NS) {
    m->stall_wall_ms = m->last_tick_wall_ms;
    m->stall_hold_until_mono_ns = now + STALL_HOLD_NS;
    m->stalled_ns += now - m->last_tick_mono_ns - clock_ms_to_ns(TICK_MS);
  } else if (m->last_tick_mono_ns && transport_behind(m->tp)) {
    m->stalled_ns += now - m->last_tick_mono_ns; /* frames wait unread: the workers are not silent for it */
  }
  m->last_tick_mono_ns = now;
  m->last_tick_wall_ms = clock_ns_to_ms(clock_wall_ns());

  if (m->state == M_ASSIGN || m->state == M_RUN) assign_send_due(m);
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
    case M_DRAIN: /* until every worker quit (or is lost) and every stats interval asked again is in */
      poll_aggregate(m);
      if (now >= m->drain_deadline_mono_ns ||
          (tally_unfinished(m) == 0 && (!m->agg || aggregate_missing_total(m->agg) == 0)))
        finish(m);
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
  size_t lost = stalled ? 0
                        : registry_expire(m->reg, tally_awake_ns(m),
                                          m->state >= M_RUN ? REGISTRY_MISSING_NS : PRERUN_MISSING_NS);
  msg x;

  if (stalled)
    LOG(LOG_WARN,
        "master: its own loop stalled for %.1f s (paused or starved of CPU); workers are judged "
        "on the next heartbeat",
        clock_ns_to_s(now - m->last_heartbeat_mono_ns));
  m->last_heartbeat_mono_ns = now;
  /* asked for again before the heartbeat: the worker answers it after those resends (worker/agent.c) */
  tally_ask_resends(m);
  tally_ack(m);
  msg_init(&x, MSG_HEARTBEAT);
  x.u.heartbeat.sent_wall_ns = clock_wall_ns();
  master_send(m, &x, NULL);
  if (lost)
    LOG(LOG_WARN, "master: %zu worker(s) silent for %d s, marked missing", lost, m->state >= M_RUN ? 3 : 10);
  if (lost && m->state == M_RUN && clock_wall_ns() < m->end_wall_ns)
    assign_rebalance(m, "a worker went missing");
  if (m->state == M_ASSIGN) assign_send_plan(m, true); /* an assign can be lost while a connection comes up */
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
  test_stall_parse(m);
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
