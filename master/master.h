/* master.h - the master's run loop: listens (transport), registers workers, ships the scenario and each
 * worker's share, starts them in step, merges their stats into the run directory, live view and report,
 * rebalances when workers come and go, and ends with thresholds and the report. `loadctl master` and
 * `loadctl start` (with in-process workers over ipc://) both run exactly this. */
#ifndef LOADCTL_MASTER_H
#define LOADCTL_MASTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/options.h"

/* Optional counters the master fills in (bench, tests); read them after master_run returns. */
typedef struct master_counters {
  int64_t stats_msgs;   /* stats messages merged */
  int64_t decode_ns;    /* total time decoding them (msg_decode) */
  int64_t merge_ns;     /* total time merging them (aggregate_add) */
  int64_t merge_max_ns; /* slowest single decode + merge */
  int64_t intervals;    /* merged intervals emitted */
} master_counters;

typedef struct master_config {
  const char *scenario_path; /* as given on the command line (run.json, messages) */
  const char *script_name;   /* basename shipped to workers ("checkout.lua") */
  const char *script_source; /* scenario text shipped to workers (with command-line overrides) */
  size_t script_len;
  const options *opt;         /* parsed options, overrides applied */
  const char *listen;         /* "tcp://0.0.0.0:5557", "ipc:///tmp/loadctl-<pid>.ipc" */
  const uint8_t *key;         /* TRANSPORT_KEY_LEN bytes or NULL (then loopback/ipc only) */
  int expect_workers;         /* start once this many joined (>= 1) */
  int64_t expect_timeout_ns;  /* give up waiting after this long (0 = 30 s) */
  const char *out_dir;        /* --out, or NULL for runs/<time>-<name> */
  const char *metrics_listen; /* --metrics-listen host:port or NULL */
  const char *junit_path;     /* --junit file or NULL */
  const char *web_listen;     /* --web [HOST:]PORT: live page and control API (master/webapi.h), or NULL */
  const char *web_token;      /* --web-token file's token (required off loopback) or NULL */
  bool web_next;              /* the page may ask for another run when this one ends (master/lobby.h) */
  char *run_dir_out;          /* optional: the run directory's path is written here (run_dir_out_len bytes) */
  size_t run_dir_out_len;
  bool quiet; /* no live view (final summary still printed) */
  /* Called once the socket is bound, before waiting for workers (loadctl start spawns its workers). */
  void (*on_listening)(void *ud);
  void *ud;
  master_counters *counters; /* optional */
} master_config;

/* Run one test to the end. Returns the process exit code: 0 ok, 1 configuration error found before any
 * load (bad threshold, listen refused), 2 runtime failure (no workers, all workers lost, run directory
 * unwritable, scenario rejected by a worker), 99 thresholds failed. */
int master_run(const master_config *cfg);

#endif
