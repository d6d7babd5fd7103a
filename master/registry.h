/* registry.h - the master's list of workers: hello (id, cores, threads, version, hostname), last heard,
 * clock offset from heartbeat round trips, live or missing (silent 3 s), rejoin under the same id. */
#ifndef LOADCTL_REGISTRY_H
#define LOADCTL_REGISTRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/clock.h"
#include "common/msg.h"

#define REGISTRY_MISSING_NS (3 * CLOCK_NS_PER_S) /* silent this long = missing */
#define REGISTRY_CPU_HOT_PERMILLE 900            /* a worker's engine threads this busy (90 %) ... */
#define REGISTRY_CPU_HOT_SAMPLES 5 /* ... for this many heartbeats in a row (5 s): it is saturated */

enum registry_state {
  REGISTRY_JOINED = 0, /* said hello, nothing assigned yet */
  REGISTRY_ASSIGNED,   /* assign sent, waiting for ready */
  REGISTRY_READY,      /* scenario loaded */
  REGISTRY_RUNNING,    /* start sent */
  REGISTRY_FINISHED,   /* sent quit: its load is done and its stats are in */
  REGISTRY_FAILED,     /* sent an error (scenario failed to load, version mismatch) */
};

/* One worker; plain data the master reads and updates. */
typedef struct registry_worker {
  char id[MSG_ID_MAX];
  char hostname[MSG_HOST_MAX];
  char version[MSG_VERSION_STR_MAX];
  int cores, threads;
  int state; /* enum registry_state */
  bool live; /* heard from within REGISTRY_MISSING_NS */
  int64_t joined_mono_ns, last_mono_ns;
  int64_t offset_ns; /* worker wall clock minus master wall clock (min-RTT sample) */
  int64_t rtt_ns;    /* round trip of that sample; -1 before the first */
  int64_t vu_id_base;
  int64_t intervals; /* stats intervals received */
  int64_t users;     /* VUs in its last stats */
  int assigned_gen;  /* plan generation of the last assign sent */
  bool assign_due;   /* an assign waits in the master's paced send queue */
  int64_t assign_sent_mono_ns;
  /* CPU of its engine threads from its heartbeats while it runs load, in tenths of a percent */
  int cpu_permille, cpu_max_permille;
  int64_t cpu_sum_permille, cpu_samples;
  int cpu_hot, cpu_hot_longest; /* samples (~1 s apart) in a row at or above REGISTRY_CPU_HOT_PERMILLE */
  int64_t cpu_sample_mono_ns;
} registry_worker;

typedef struct registry registry;

int registry_create(registry **out);
void registry_destroy(registry *r);

/* A hello from id: adds the worker, or brings a known one back (live again, same slot).
 * *rejoined = true when the id was known. NULL on -ENOMEM. */
registry_worker *registry_hello(registry *r, const char *id, const msg_hello *h, int64_t now_mono_ns,
                                bool *rejoined);

registry_worker *registry_find(registry *r, const char *id);
/* Any message from a known worker: it is live. Returns true when it was missing (it came back). */
bool registry_seen(registry_worker *w, int64_t now_mono_ns);

/* NTP-style sample: t0 master send, t1 worker receive, t2 worker send, t3 master receive (wall ns).
 * offset = ((t1 - t0) + (t2 - t3)) / 2, round trip = (t3 - t0) - (t2 - t1); the sample with the smallest
 * round trip is kept. Ignores samples with a negative round trip. */
void registry_clock_sample(registry_worker *w, int64_t t0, int64_t t1, int64_t t2, int64_t t3);

/* One CPU figure from w's heartbeats while it runs load; unknown ones (< 0) and figures less than 0.9 s
 * after the last one taken are ignored (a worker's own heartbeats and its answers both carry one). Returns
 * true when w has just been at or above REGISTRY_CPU_HOT_PERMILLE for REGISTRY_CPU_HOT_SAMPLES samples in a
 * row (once per streak): the caller warns that the generator is saturated. */
bool registry_cpu_sample(registry_worker *w, int permille, int64_t now_mono_ns);

/* Mark workers silent for silence_ns (REGISTRY_MISSING_NS during a run) as missing; returns how many
 * became missing now. */
size_t registry_expire(registry *r, int64_t now_mono_ns, int64_t silence_ns);

size_t registry_count(const registry *r);
registry_worker *registry_at(registry *r, size_t i); /* in join order */
/* Live workers that take load (not failed or finished), in join order, into out (up to max). */
size_t registry_active(registry *r, registry_worker **out, size_t max);

#endif
