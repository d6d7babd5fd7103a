/* agent.h - the worker side of the protocol: connects to the master, says hello, loads the assigned
 * scenario, drives the engine (start, reassign, stop), ships its stats every interval, answers
 * heartbeats, and keeps the machine safe when the master goes away (stops load after 5 s of silence,
 * gives up after the orphan timeout). `loadctl worker` runs one (serving run after run unless --once);
 * `loadctl start` runs several as threads. */
#ifndef LOADCTL_AGENT_H
#define LOADCTL_AGENT_H

#include <stdatomic.h>
#include <stdint.h>

#include "common/options.h"
#include "common/transport.h"
#include "worker/engine.h"

#define AGENT_MASTER_SILENCE_NS 5000000000LL /* no word from the master this long: stop load */

/* The engine as the agent drives it: worker/engine.h by default; tests and benches plug in a fake
 * (same contracts as engine.h and options_load_source). */
typedef struct agent_engine_ops {
  int (*load)(const char *chunkname, const char *source, size_t len, options *out, char *err, size_t errlen);
  int (*start)(const engine_assignment *a, engine **out, char *err, size_t errlen);
  int (*collect)(engine *e, stats_interval **out);
  int (*reassign)(engine *e, const options_stage *stages, size_t nstages, int64_t max_vus);
  void (*stop)(engine *e);
  int (*done)(const engine *e);
  void (*destroy)(engine *e);
  int (*threads)(const engine *e);
  int (*cpu_permille)(const engine *e); /* may be NULL: CPU reported as 0 */
  void (*drain)(engine *e);             /* graceful stop (engine_drain); NULL: stop is used */
} agent_engine_ops;

typedef struct agent_config {
  const char *master_url;      /* "tcp://10.0.0.5:5557", "ipc:///tmp/loadctl-1.ipc" */
  const uint8_t *key;          /* TRANSPORT_KEY_LEN bytes or NULL */
  const char *id;              /* worker id (<= 64 bytes); NULL = "<hostname>-<pid>" */
  int threads;                 /* engine threads, 0 = one per core */
  int64_t orphan_timeout_ns;   /* exit after this long without the master; 0 = 60 s */
  atomic_int *cancel;          /* optional: set non-zero to make the agent leave (in-process workers) */
  int allow_exec;              /* let scenarios use os.execute/io.popen */
  int once;                    /* leave after one run; else wait for the next run (or master) */
  const agent_engine_ops *ops; /* NULL = the real engine */
} agent_config;

/* Run one worker. With cfg->once: until the master ends its run (returns 0). Without: serve run after
 * run, from this master or the next one on the same address, until cancel is set (returns 0); a master
 * that goes silent past the orphan timeout costs only its run. Either way a fatal condition ends it:
 * refused by the master, authentication failing, or (once) orphaned (returns 2 with a log line why). */
int agent_run(const agent_config *cfg);

#endif
