/* msg.h - the master <-> worker wire format: one msgpack map per message, encoded from and decoded
 * into the open struct msg below. Authentication is the transport's job, around these bytes. */
#ifndef LOADCTL_MSG_H
#define LOADCTL_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/options.h"
#include "common/stats.h"

#define MSG_VERSION 1
#define MSG_ID_MAX 65               /* worker id, run id: 64 bytes + NUL */
#define MSG_HOST_MAX 256            /* hostname */
#define MSG_VERSION_STR_MAX 32      /* software version "0.1.0" */
#define MSG_TEXT_MAX 1024           /* error message */
#define MSG_SCENARIO_MAX (4u << 20) /* scenario source bytes */
#define MSG_MAX_DEPTH 8             /* deeper msgpack nesting is rejected */

/* Wire names ("t" key) are msg_type_name(): "hello", "assign", ... Decoding also accepts the number. */
enum msg_type {
  MSG_HELLO = 1, /* worker -> master: who I am */
  MSG_ASSIGN,    /* master -> worker: the run, the scenario and this worker's share (again = reassign) */
  MSG_READY,     /* worker -> master: scenario loaded, waiting for start */
  MSG_START,     /* master -> worker: begin stage 0 at start_wall_ns (master clock, offset-corrected) */
  MSG_STATS,     /* worker -> master: one interval */
  MSG_HEARTBEAT, /* both ways, every second */
  MSG_STOP,      /* master -> worker: stop load now, keep connection */
  MSG_QUIT,      /* either way: end of session, close */
  MSG_ERROR,     /* either way: code + message, e.g. scenario failed to load on the worker */
  MSG_RESEND,    /* master -> worker: stats number stats_no did not arrive, send it again */
  MSG_TYPE_END
};

typedef struct msg_hello {
  char hostname[MSG_HOST_MAX];
  int32_t cores;                     /* online CPUs */
  int32_t threads;                   /* engine threads the worker will run */
  char version[MSG_VERSION_STR_MAX]; /* LOADCTL_VERSION */
} msg_hello;

typedef struct msg_assign {
  char scenario_name[STATS_NAME_MAX];       /* "checkout.lua" */
  char *scenario_source;                    /* owned, NUL-terminated; may be NULL when scenario_len == 0 */
  size_t scenario_len;                      /* <= MSG_SCENARIO_MAX */
  options_stage stages[OPTIONS_MAX_STAGES]; /* this worker's share: users or iterations/s */
  size_t nstages;
  int64_t max_vus;
  double spawn_rate;
  int64_t start_wall_ns; /* 0 = wait for MSG_START */
  int64_t vu_id_base;
  /* options.scenarios: this worker's slice [before, before + weight) of the run's weight wsum (its
   * threads among all workers' threads); each scenario's share is cut from it (common/scenarios.h).
   * All 0 (an older master, or no scenarios) = the stages above. */
  int64_t slice_before, slice_weight, slice_wsum;
  int32_t threads; /* 0 = one per core */
  bool allow_exec; /* on the wire for protocol version 1; masters send false and workers ignore it:
                      only a worker's own --allow-exec grants exec */
} msg_assign;

typedef struct msg_heartbeat {
  /* Round trip offset estimate: A sends sent_wall_ns; B answers with echo_wall_ns = A's sent and
   * recv_wall_ns = B's clock when it got it (and its own sent_wall_ns). 0 = not set. */
  int64_t sent_wall_ns, echo_wall_ns, recv_wall_ns;
  int32_t cpu_permille; /* worker -> master: its engine threads' CPU in their last interval, in tenths
                         * of a percent of those threads' time (1000 = every thread busy); -1 unknown */
} msg_heartbeat;

typedef struct msg_error {
  int32_t code; /* negative errno */
  char message[MSG_TEXT_MAX];
} msg_error;

/* One message. Common fields ("v", "w", "s", "r") first; the union member named by type next.
 * Ownership: assign.scenario_source and stats (the interval) are owned by the msg after msg_decode
 * and released by msg_free. To encode, point them at your own data and do not msg_free. */
typedef struct msg {
  int type;                   /* enum msg_type */
  uint32_t version;           /* decoded "v"; msg_encode always writes MSG_VERSION */
  char worker_id[MSG_ID_MAX]; /* "w": sender's or addressee's worker id ("" from master when n/a) */
  uint64_t seq;               /* "s": per-sender sequence number */
  char run_id[MSG_ID_MAX];    /* "r": "" before assign */
  /* "n": a worker's stats are numbered 1, 2, ... in a run, so the master can tell a frame the transport
   * dropped (nanomsg's bus drops frames to a peer that is not reading) and ask for it again.
   * MSG_STATS: this interval's number; MSG_HEARTBEAT and MSG_QUIT from a worker: the highest number it
   * has sent; MSG_HEARTBEAT from the master to one worker (worker_id set): its stats 1..n are merged, it
   * may forget them; MSG_RESEND: the number to send again. 0 = not numbered (absent on the wire). */
  uint64_t stats_no;
  union {
    msg_hello hello;
    msg_assign assign;
    int64_t start_wall_ns; /* MSG_START */
    stats_interval *stats; /* MSG_STATS */
    msg_heartbeat heartbeat;
    msg_error error;
  } u; /* MSG_READY, MSG_STOP, MSG_QUIT carry nothing more */
} msg;

/* "hello", "assign", ... or "unknown". */
const char *msg_type_name(int type);

/* Zero m and set type (convenience for senders). */
void msg_init(msg *m, int type);

/* Encode m into a malloc'd buffer *buf (caller frees) of *len bytes. 0, -EINVAL (bad type, NULL
 * stats, oversize scenario), or -ENOMEM. */
int msg_encode(const msg *m, uint8_t **buf, size_t *len);

/* Decode one message. On success *out is filled (free owned parts with msg_free). On failure returns
 * -EPROTO (malformed, wrong type, missing or mistyped field, wrong version, trailing bytes),
 * -E2BIG (string, array or scenario over its cap) or -EINVAL/-ENOMEM, writes a one-line reason
 * into err (may be NULL), and leaves *out zeroed with nothing to free. */
int msg_decode(const uint8_t *buf, size_t len, msg *out, char *err, size_t errlen);

/* Release what a decoded msg owns and zero it. Safe on a zeroed msg. */
void msg_free(msg *m);

#endif
