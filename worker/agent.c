/* agent.c - one worker's protocol loop on its own uv loop: hello until assigned, scenario check on assign,
 * engine start at the master's start time, stats every interval, heartbeats, reassign, stop and quit;
 * master silence stops the load (measured data kept and sent once the master is back). */
#include "worker/agent.h"

#include <errno.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

#include "common/clock.h"
#include "common/exitcode.h"
#include "common/log.h"
#include "common/msg.h"
#include "common/options.h"
#include "worker/engine.h"

#define TICK_MS 100
#define HELLO_EVERY_NS CLOCK_NS_PER_S
#define HEARTBEAT_EVERY_NS CLOCK_NS_PER_S
#define QUIET_HOLD_NS 2000000000LL    /* master silent this long: hold stats until it is back */
#define AUTH_FAILS_FATAL 3            /* frames failing authentication before any good one */
#define PENDING_MAX 3600              /* held stats messages (an hour of intervals) */
#define PENDING_BYTES_MAX (64u << 20) /* and their bytes: 3600 frames of 1,000 request names would be GBs */
/* Give free heap pages back this often, and when a stopped engine is destroyed: the open model grows its
 * VUs to max_vus when the target stalls (~19 KB each) and a master pause frees them, but glibc kept those
 * pages resident in the engine threads' arenas: 200 VUs freed left a worker +2.2 MB, then +3.3 MB after a
 * second burst, for good (docs/faults.md, soak). malloc_trim(0) returns free pages of every arena. */
#define TRIM_EVERY_NS (30 * CLOCK_NS_PER_S)
#define DONE_LINGER_NS                                                                               \
  15000000000LL /* after our quit, wait this long for the master's (on while it is heard and has not \
                   acknowledged all our stats) */
/* A sent stats message is kept until the master acknowledges it merged (its heartbeat to this worker
 * says "1..n merged"): nanomsg's bus drops a frame, without a word, when the pipe to the master is still
 * busy with an earlier one (a master that is not reading: stalled, starved, or busy merging), and the
 * master asks again (MSG_RESEND) for as long as it takes to catch up. */
#define SEND_BURST_BYTES (128 * 1024) /* held and resent stats per tick: a big frame goes alone */

typedef struct held {
  uint8_t *buf;
  size_t len;
  uint64_t no;    /* its stats number */
  int resend_due; /* sent, and the master asked for it again */
} held;

static const agent_engine_ops real_engine = {
    .load = options_load_source,
    .start = engine_start,
    .collect = engine_collect,
    .reassign = engine_reassign,
    .stop = engine_stop,
    .done = engine_done,
    .destroy = engine_destroy,
    .threads = engine_threads,
    .cpu_permille = engine_cpu_permille,
    .drain = engine_drain,
};

typedef struct agent {
  agent_config cfg;
  const agent_engine_ops *ops;
  uv_loop_t loop;
  uv_timer_t tick;
  transport *tp;
  char id[MSG_ID_MAX];
  char run_id[MSG_ID_MAX];
  uint64_t seq;
  /* the assignment */
  int assigned; /* scenario checked, ready sent */
  char script_name[STATS_NAME_MAX];
  char *script;
  size_t script_len;
  options opt;
  engine_assignment asg;
  engine *eng;
  int stopped_for_silence, finished;
  int resume_due; /* the master is back after a silence stop: restart the load once the engine is done */
  int64_t finished_mono_ns;
  /* timing */
  int64_t last_master_mono_ns, last_hello_mono_ns, last_hb_mono_ns, started_mono_ns, last_trim_mono_ns;
  int heard_master;
  held pending[PENDING_MAX]; /* stats not sent yet (held while the master is away), and sent ones kept for a
                               resend until acknowledged: in number order, the sent ones first */
  size_t npending, nsent;    /* entries, and how many of the first are sent */
  size_t pending_bytes;      /* their lengths summed */
  uint64_t stats_no;         /* the last number given to a stats message of this run */
  uint64_t sent_no;          /* the highest number sent */
  uint64_t gone_logged_no;   /* the highest number asked for again and no longer held, logged */
  msg_heartbeat reply;       /* the answer to the master's last heartbeat, sent from the tick (reply_due) */
  int reply_due;
  int exit_code, leaving;
} agent;

static void send_msg(agent *a, msg *m) {
  uint8_t *buf = NULL;
  size_t len = 0;
  int rc;

  snprintf(m->worker_id, sizeof m->worker_id, "%s", a->id);
  snprintf(m->run_id, sizeof m->run_id, "%s", a->run_id);
  m->seq = ++a->seq;
  rc = msg_encode(m, &buf, &len);
  if (rc == 0) rc = transport_send(a->tp, buf, len);
  if (rc < 0) LOG(LOG_WARN, "worker %s: cannot send %s: %s", a->id, msg_type_name(m->type), strerror(-rc));
  free(buf);
}

static void send_error(agent *a, int code, const char *text) {
  msg m;
  msg_init(&m, MSG_ERROR);
  m.u.error.code = code;
  snprintf(m.u.error.message, sizeof m.u.error.message, "%s", text);
  send_msg(a, &m);
}

static void send_hello(agent *a) {
  msg m;
  const char *fake = getenv("LOADCTL_TEST_VERSION"); /* integration tests: pretend another version */
  long cores = sysconf(_SC_NPROCESSORS_ONLN);

  msg_init(&m, MSG_HELLO);
  if (gethostname(m.u.hello.hostname, sizeof m.u.hello.hostname - 1) != 0)
    snprintf(m.u.hello.hostname, sizeof m.u.hello.hostname, "unknown");
  m.u.hello.cores = cores > 0 ? (int32_t)cores : 1;
  m.u.hello.threads = a->cfg.threads > 0 ? a->cfg.threads : m.u.hello.cores;
  snprintf(m.u.hello.version, sizeof m.u.hello.version, "%s", fake && *fake ? fake : LOADCTL_VERSION);
  send_msg(a, &m);
  a->last_hello_mono_ns = clock_mono_ns();
}

/* Put entry e on the wire; false when the transport refused it (it stays to send later). */
static bool send_held(agent *a, held *e) {
  if (transport_send(a->tp, e->buf, e->len) != 0) return false;
  e->resend_due = 0;
  if (e->no > a->sent_no) a->sent_no = e->no;
  return true;
}

/* Forget the oldest entry (full, or kept long enough). */
static void drop_oldest(agent *a) {
  a->pending_bytes -= a->pending[0].len;
  free(a->pending[0].buf);
  memmove(a->pending, a->pending + 1, (a->npending - 1) * sizeof *a->pending);
  a->npending--;
  if (a->nsent) a->nsent--;
}

/* The master merged our stats 1..no: forget them. */
static void on_ack(agent *a, uint64_t no) {
  while (a->nsent && a->pending[0].no <= no) drop_oldest(a);
}

/* Send stats number no now, or hold it while the master is silent (it may come back); keep it either
 * way until the master has had time to ask for it again. */
static void ship(agent *a, uint8_t *buf, size_t len, uint64_t no) {
  int64_t quiet = clock_mono_ns() - a->last_master_mono_ns;
  held *e;

  while (a->npending == PENDING_MAX || (a->npending && a->pending_bytes + len > PENDING_BYTES_MAX)) {
    LOG(LOG_WARN,
        "worker %s: too many stats the master has not acknowledged (away or behind); dropping the oldest, "
        "number %llu",
        a->id, (unsigned long long)a->pending[0].no);
    drop_oldest(a);
  }
  a->pending_bytes += len;
  e = &a->pending[a->npending++];
  *e = (held){buf, len, no, 0};
  if (quiet < QUIET_HOLD_NS && a->nsent == a->npending - 1 && send_held(a, e)) a->nsent++;
}

/* Send, within one tick's budget, the stats the master asked for again, then those held while it was
 * away (in order): a burst of big frames would find the pipe busy and be dropped. */
static void flush_pending(agent *a) {
  size_t bytes = 0, sent = 0, resent = 0;
  for (size_t i = 0; i < a->nsent && bytes < SEND_BURST_BYTES; i++) {
    if (!a->pending[i].resend_due || !send_held(a, &a->pending[i])) continue;
    bytes += a->pending[i].len;
    resent++;
  }
  while (a->nsent < a->npending && bytes < SEND_BURST_BYTES && send_held(a, &a->pending[a->nsent])) {
    bytes += a->pending[a->nsent++].len;
    sent++;
  }
  if (sent) LOG(LOG_INFO, "worker %s: sent %zu stats intervals held while the master was away", a->id, sent);
  if (resent)
    LOG(LOG_INFO, "worker %s: sent %zu stats intervals again at the master's request", a->id, resent);
}

/* The master did not get stats number no: mark it to go out again. */
static void on_resend(agent *a, uint64_t no) {
  for (size_t i = 0; i < a->nsent; i++)
    if (a->pending[i].no == no) {
      a->pending[i].resend_due = 1;
      return;
    }
  if (no <= a->gone_logged_no) return; /* it asks once a second: say it once */
  a->gone_logged_no = no;
  LOG(LOG_WARN, "worker %s: the master asked again for stats %llu, which this worker no longer holds", a->id,
      (unsigned long long)no);
}

/* Drain every interval the engine has ready into stats messages. */
static void collect(agent *a) {
  stats_interval *iv = NULL;

  while (a->eng && a->ops->collect(a->eng, &iv) == 0) {
    msg m;
    uint8_t *buf = NULL;
    size_t len = 0;
    msg_init(&m, MSG_STATS);
    m.u.stats = iv;
    snprintf(m.worker_id, sizeof m.worker_id, "%s", a->id);
    snprintf(m.run_id, sizeof m.run_id, "%s", a->run_id);
    m.seq = ++a->seq;
    m.stats_no = ++a->stats_no;
    if (msg_encode(&m, &buf, &len) == 0)
      ship(a, buf, len, m.stats_no);
    else
      LOG(LOG_WARN, "worker %s: cannot encode stats of %lld", a->id, (long long)iv->start_ms);
    stats_destroy(iv);
    iv = NULL;
  }
}

static void forget_run(agent *a) {
  if (a->eng) {
    a->ops->stop(a->eng);
    a->ops->destroy(a->eng);
    a->eng = NULL;
  }
  free(a->script);
  a->script = NULL;
  a->assigned = a->finished = a->stopped_for_silence = a->resume_due = 0;
  for (size_t i = 0; i < a->npending; i++) free(a->pending[i].buf);
  a->npending = a->nsent = a->pending_bytes = 0;
  a->stats_no = a->sent_no = a->gone_logged_no = 0;
}

/* The run is over (or lost): with --once leave, else forget it and say hello until the next assign. */
static void run_over(agent *a, const char *why) {
  if (a->cfg.once) {
    a->leaving = 1;
    return;
  }
  LOG(LOG_INFO, "worker %s: %s; waiting for the next run", a->id, why);
  forget_run(a);
  a->run_id[0] = 0;
  a->last_hello_mono_ns = 0;
}

static void apply_share(agent *a, const msg_assign *as) {
  memcpy(a->asg.stages, as->stages, sizeof a->asg.stages);
  a->asg.nstages = as->nstages;
  a->asg.max_vus = as->max_vus;
  a->asg.spawn_rate = as->spawn_rate;
  a->asg.vu_id_base = as->vu_id_base;
  a->asg.slice_before = as->slice_before;
  a->asg.slice_weight = as->slice_weight;
  a->asg.slice_wsum = as->slice_wsum;
}

static void start_engine(agent *a, int64_t start_wall_ns) {
  char err[1024] = "";
  double ahead;
  int rc;

  a->asg.start_wall_ns = start_wall_ns;
  rc = a->ops->start(&a->asg, &a->eng, err, sizeof err);
  if (rc < 0) {
    LOG(LOG_ERROR, "worker %s: engine failed to start: %s", a->id, err[0] ? err : strerror(-rc));
    send_error(a, rc, err[0] ? err : strerror(-rc));
    a->eng = NULL;
    return;
  }
  a->started_mono_ns = clock_mono_ns();
  ahead = clock_ns_to_s(start_wall_ns - clock_wall_ns());
  if (ahead >= 0)
    LOG(LOG_INFO, "worker %s: load starts in %.1f s (%d threads)", a->id, ahead, a->ops->threads(a->eng));
  else
    LOG(LOG_INFO, "worker %s: load starts now, %.1f s into the run (%d threads)", a->id, -ahead,
        a->ops->threads(a->eng));
}

static void on_assign(agent *a, msg *m) {
  msg_assign *as = &m->u.assign;
  char err[1024] = "";
  int rc;

  if (a->assigned && a->eng && !strcmp(m->run_id, a->run_id)) { /* reassign mid-run */
    apply_share(a, as);
    rc = a->ops->reassign(a->eng, as->stages, as->nstages, as->max_vus);
    LOG(LOG_INFO, "worker %s: share changed (%s)", a->id, rc == 0 ? "applied" : strerror(-rc));
    return;
  }
  if (a->assigned && !strcmp(m->run_id, a->run_id)) { /* repeated assign before start */
    apply_share(a, as);
    msg r;
    msg_init(&r, MSG_READY);
    send_msg(a, &r);
    return;
  }
  forget_run(a);
  snprintf(a->run_id, sizeof a->run_id, "%s", m->run_id);
  snprintf(a->script_name, sizeof a->script_name, "%s", as->scenario_name);
  a->script = as->scenario_source; /* take ownership */
  a->script_len = as->scenario_len;
  as->scenario_source = NULL;
  as->scenario_len = 0;
  rc = a->ops->load(a->script_name, a->script ? a->script : "", a->script_len, &a->opt, err, sizeof err);
  if (rc < 0) {
    LOG(LOG_ERROR, "worker %s: scenario rejected: %s", a->id, err);
    send_error(a, rc, err);
    return;
  }
  memset(&a->asg, 0, sizeof a->asg);
  a->asg.script_name = a->script_name;
  a->asg.script_source = a->script;
  a->asg.script_len = a->script_len;
  a->asg.opt = &a->opt;
  a->asg.threads = a->cfg.threads;
  a->asg.run_id = a->run_id;
  a->asg.allow_exec = a->cfg.allow_exec; /* the worker decides, never the master (its assign only asks) */
  apply_share(a, as);
  a->assigned = 1;
  LOG(LOG_INFO, "worker %s: assigned %s (run %s)", a->id, a->script_name, a->run_id);
  if (as->start_wall_ns) {
    start_engine(a, as->start_wall_ns);
  } else {
    msg r;
    msg_init(&r, MSG_READY);
    send_msg(a, &r);
  }
}

/* How busy the engine's threads are (engine_cpu_permille); -1 when not known (no running engine yet). */
static int32_t cpu_permille(const agent *a) {
  return a->eng && a->ops->cpu_permille && !a->ops->done(a->eng) ? a->ops->cpu_permille(a->eng) : -1;
}

static void send_quit(agent *a) {
  msg m;
  msg_init(&m, MSG_QUIT);
  m.stats_no = a->sent_no;
  send_msg(a, &m);
}

/* The master's heartbeat: to this worker alone with a number, an acknowledgement of stats merged; to all,
 * answered from the next tick (send_heartbeat), after the stats the master asked for again before it. */
static void on_heartbeat(agent *a, const msg *m) {
  if (m->worker_id[0] && m->stats_no) {
    if (!strcmp(m->run_id, a->run_id)) on_ack(a, m->stats_no);
    return;
  }
  if (m->u.heartbeat.echo_wall_ns) return; /* an answer to ours: liveness only */
  a->reply = (msg_heartbeat){.echo_wall_ns = m->u.heartbeat.sent_wall_ns, .recv_wall_ns = clock_wall_ns()};
  a->reply_due = 1;
}

/* Our heartbeat (an answer to the master's, or every HEARTBEAT_EVERY_NS without one): the highest stats
 * number sent, so the master asks again for those it lacks. Sent after this tick's stats: a number the
 * master asked for before its heartbeat is then on the wire ahead of this answer, and the master does not
 * ask for it twice (aggregate_ask_due). */
static void send_heartbeat(agent *a, int64_t now) {
  msg m;
  if (!a->reply_due && now - a->last_hb_mono_ns < HEARTBEAT_EVERY_NS) return;
  msg_init(&m, MSG_HEARTBEAT);
  if (a->reply_due) m.u.heartbeat = a->reply;
  m.u.heartbeat.sent_wall_ns = clock_wall_ns();
  m.u.heartbeat.cpu_permille = cpu_permille(a);
  m.stats_no = a->sent_no;
  send_msg(a, &m);
  a->reply_due = 0;
  a->last_hb_mono_ns = now;
  if (a->finished) send_quit(a); /* so the quit repeats (a dropped one is not the last) */
}

/* Master messages addressed to us (or to all) of our run, or a new run's assign when we are free. */
static int accept_run(agent *a, const msg *m) {
  if (!a->run_id[0] || !m->run_id[0] || !strcmp(a->run_id, m->run_id)) return 1;
  if (m->type == MSG_ASSIGN && (!a->eng || a->ops->done(a->eng) || a->stopped_for_silence)) return 1;
  if (m->type == MSG_HEARTBEAT) { /* a new master (restarted): leave the dead run, say hello again */
    if (!a->eng || a->ops->done(a->eng) || a->stopped_for_silence) {
      LOG(LOG_INFO, "worker %s: a new master (run %s): joining it", a->id, m->run_id);
      forget_run(a);
      a->run_id[0] = 0;
      a->last_hello_mono_ns = 0;
    }
    return 1;
  }
  LOG(LOG_WARN, "worker %s: dropped %s of run %s (ours is %s)", a->id, msg_type_name(m->type), m->run_id,
      a->run_id);
  return 0;
}

static void dispatch(agent *a, msg *m) {
  switch (m->type) {
    case MSG_ASSIGN:
      on_assign(a, m);
      break;
    case MSG_START:
      if (a->assigned && !a->eng) start_engine(a, m->u.start_wall_ns);
      break;
    case MSG_HEARTBEAT:
      on_heartbeat(a, m);
      break;
    case MSG_STOP:
      if (a->eng) a->ops->stop(a->eng);
      a->resume_due = 0;
      LOG(LOG_INFO, "worker %s: stop from the master", a->id);
      break;
    case MSG_RESEND:
      on_resend(a, m->stats_no);
      break;
    case MSG_QUIT:
      LOG(LOG_INFO, "worker %s: the master ended the run", a->id);
      run_over(a, "run ended");
      break;
    case MSG_ERROR:
      LOG(LOG_ERROR, "worker %s: refused by the master: %s", a->id, m->u.error.message);
      a->exit_code = EXIT_RUNTIME;
      a->leaving = 1;
      break;
    default:
      LOG(LOG_WARN, "worker %s: unexpected %s from the master, ignored", a->id, msg_type_name(m->type));
  }
}

static void on_message(void *ud, const char *peer, const uint8_t *body, size_t len) {
  agent *a = ud;
  char err[256];
  msg m;

  if (strcmp(peer, "master") != 0) {
    LOG(LOG_WARN, "worker %s: dropped a message from '%s' (only the master talks to workers)", a->id, peer);
    return;
  }
  if (msg_decode(body, len, &m, err, sizeof err) < 0) {
    LOG(LOG_WARN, "worker %s: dropped a message from the master: %s", a->id, err);
    return;
  }
  if ((m.worker_id[0] && strcmp(m.worker_id, a->id) != 0) || !accept_run(a, &m)) goto out;
  a->last_master_mono_ns = clock_mono_ns();
  if (!a->heard_master) LOG(LOG_INFO, "worker %s: connected to the master", a->id);
  a->heard_master = 1;
  if (a->stopped_for_silence) {
    LOG(LOG_INFO, "worker %s: the master is back: resuming the load", a->id);
    a->resume_due = a->eng != NULL;
  }
  a->stopped_for_silence = 0;
  dispatch(a, &m); /* held stats go out from the tick, paced (flush_pending) */
out:
  msg_free(&m);
}

/* The master is back after a silence stop: once the stopped engine has wound down and its last stats are
 * out, a fresh engine takes the current share on the run's own timeline (stages go on where they are,
 * count executors' VUs from the iterations they did). */
static void check_resume(agent *a) {
  engine *stopped = a->eng;
  if (!a->resume_due || !a->eng || !a->ops->done(a->eng)) return;
  collect(a);
  a->eng = NULL;
  a->resume_due = 0;
  a->asg.resume_from = stopped;
  start_engine(a, a->asg.start_wall_ns);
  a->asg.resume_from = NULL;
  a->ops->destroy(stopped);
  a->last_trim_mono_ns = 0; /* its VUs are freed: give their pages back on this tick */
}

/* After the engine finished: send the last stats, then tell the master we are done (again with every
 * heartbeat of ours until the master ends the run: a frame behind a big one can be dropped). */
static void check_finished(agent *a, int64_t now) {
  if (!a->eng || a->finished || !a->ops->done(a->eng) || a->stopped_for_silence || a->resume_due) return;
  collect(a);
  if (a->nsent < a->npending) return; /* stats held while the master was quiet go out before QUIT */
  a->finished = 1;
  a->finished_mono_ns = now;
  send_quit(a);
  LOG(LOG_INFO, "worker %s: load finished", a->id);
}

/* Master silence: stop load after 5 s, give up after the orphan timeout. */
static void check_master(agent *a, int64_t now) {
  int64_t quiet = now - a->last_master_mono_ns, orphan = a->cfg.orphan_timeout_ns;

  if (a->eng && !a->stopped_for_silence && !a->ops->done(a->eng) && quiet >= AGENT_MASTER_SILENCE_NS) {
    LOG(LOG_WARN,
        "worker %s: no word from the master for %.0f s: stopping load (requests under way finish; "
        "measurements kept)",
        a->id, clock_ns_to_s(quiet));
    (a->ops->drain ? a->ops->drain : a->ops->stop)(a->eng);
    a->stopped_for_silence = 1;
  }
  if (quiet >= orphan && a->cfg.once) {
    LOG(LOG_ERROR, "worker %s: no word from the master for %.0f s (--orphan-timeout): exiting", a->id,
        clock_ns_to_s(quiet));
    a->exit_code = EXIT_RUNTIME;
    a->leaving = 1;
  } else if (quiet >= orphan && a->run_id[0]) {
    LOG(LOG_WARN, "worker %s: no word from the master for %.0f s (--orphan-timeout): dropping its run", a->id,
        clock_ns_to_s(quiet));
    run_over(a, "master lost");
  }
  if (!a->heard_master && transport_received(a->tp) == 0 &&
      transport_drops(a->tp, TRANSPORT_DROP_AUTH) + transport_drops(a->tp, TRANSPORT_DROP_KEYMODE) >=
          AUTH_FAILS_FATAL) {
    LOG(LOG_ERROR,
        "worker %s: every message from the master fails authentication: wrong key? (check --key-file "
        "or LOADCTL_KEY on both sides)",
        a->id);
    a->exit_code = EXIT_RUNTIME;
    a->leaving = 1;
  }
}

/* Return the heap's free pages to the system every TRIM_EVERY_NS (all arenas; 20-75 us measured on a
 * worker's few MB), so the RSS follows what is live rather than the highest it ever was. */
static void trim_heap(agent *a, int64_t now) {
  if (now - a->last_trim_mono_ns < TRIM_EVERY_NS) return;
  a->last_trim_mono_ns = now;
#if defined(__GLIBC__) && !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
  malloc_trim(0); /* not under a sanitizer: its allocator is not glibc's, and glibc's malloc_trim there set up
                   * arenas that a thread's exit then aborted on ("a->attached_threads > 0") */
#endif
}

static void on_tick(uv_timer_t *t) {
  agent *a = t->data;
  int64_t now = clock_mono_ns();

  if (a->cfg.cancel && atomic_load(a->cfg.cancel)) a->leaving = 1;
  if (!a->assigned && now - a->last_hello_mono_ns >= HELLO_EVERY_NS) send_hello(a);
  collect(a);
  if (now - a->last_master_mono_ns < QUIET_HOLD_NS) flush_pending(a);
  send_heartbeat(a, now);
  check_resume(a);
  check_finished(a, now);
  check_master(a, now);
  trim_heap(a, now);
  /* stats the master has not acknowledged: wait on while it is there (it may be behind on merging) */
  if (a->finished && now - a->finished_mono_ns > DONE_LINGER_NS &&
      (!a->npending || now - a->last_master_mono_ns >= AGENT_MASTER_SILENCE_NS))
    run_over(a, "no end of run from the master");
  if (a->leaving) uv_stop(&a->loop);
}

static int agent_setup(agent *a, const agent_config *cfg) {
  char err[512], host[128] = "worker";
  transport_config tc;
  int rc;

  a->cfg = *cfg;
  a->ops = cfg->ops ? cfg->ops : &real_engine;
  if (a->cfg.orphan_timeout_ns <= 0) a->cfg.orphan_timeout_ns = 60000000000LL;
  gethostname(host, sizeof host - 1);
  if (cfg->id && cfg->id[0])
    snprintf(a->id, sizeof a->id, "%s", cfg->id);
  else
    snprintf(a->id, sizeof a->id, "%.40s-%d", host, (int)getpid());
  if (uv_loop_init(&a->loop) < 0) return -ENOMEM;
  tc = (transport_config){.url = cfg->master_url,
                          .mode = TRANSPORT_CONNECT,
                          .key = cfg->key,
                          .self_id = a->id,
                          .on_message = on_message,
                          .ud = a};
  rc = transport_open(&a->loop, &tc, &a->tp, err, sizeof err);
  if (rc < 0) {
    LOG(LOG_ERROR, "worker %s: %s", a->id, err);
    return rc;
  }
  uv_timer_init(&a->loop, &a->tick);
  a->tick.data = a;
  uv_timer_start(&a->tick, on_tick, TICK_MS, TICK_MS);
  a->last_master_mono_ns = clock_mono_ns();
  return 0;
}

int agent_run(const agent_config *cfg) {
  agent *a = calloc(1, sizeof *a);
  int rc, code;

  if (!a) return 2;
  rc = agent_setup(a, cfg);
  if (rc < 0) {
    uv_run(&a->loop, UV_RUN_NOWAIT);
    uv_loop_close(&a->loop);
    free(a);
    return 2;
  }
  LOG(LOG_INFO, "worker %s: connecting to %s%s", a->id, cfg->master_url, cfg->key ? " (authenticated)" : "");
  send_hello(a);
  uv_run(&a->loop, UV_RUN_DEFAULT);
  /* leaving: last stats out, give the socket a moment to deliver them */
  if (a->eng) {
    if (!a->ops->done(a->eng)) a->ops->stop(a->eng);
    collect(a);
    while (a->heard_master && a->nsent < a->npending && send_held(a, &a->pending[a->nsent])) a->nsent++;
  }
  uv_timer_stop(&a->tick);
  uv_run(&a->loop, UV_RUN_NOWAIT);
  usleep(100000);
  code = a->exit_code;
  forget_run(a);
  transport_close(a->tp);
  uv_close((uv_handle_t *)&a->tick, NULL);
  uv_run(&a->loop, UV_RUN_DEFAULT);
  uv_loop_close(&a->loop);
  free(a);
  return code;
}
