/* cmd_worker.c - `loadctl worker --master URL`: one worker agent (worker/agent.c) in this process. */
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cmd.h"
#include "cli/scenario.h"
#include "common/log.h"
#include "common/transport.h"
#include "worker/agent.h"

static const char help_text[] =
    "usage: loadctl worker --master URL [flags]\n"
    "\n"
    "Connect to a master and run the share of the load it assigns; when the run ends, stay connected\n"
    "and serve the next run (of this master or the next one on the same address) until stopped, like\n"
    "a locust worker. Stops sending load when the master is silent for 5 s, keeps reconnecting, and\n"
    "drops the run after --orphan-timeout without it (--once: exits instead).\n"
    "\n"
    "flags:\n"
    "  --master URL            the master (tcp://10.0.0.5:5557, ipc:///path)\n"
    "  --threads N             engine threads (default 0 = one per core)\n"
    "  --key-file FILE         pre-shared key (hex, from `loadctl keygen FILE`); also LOADCTL_KEY\n"
    "  --once                  exit after one run (when the master ends it, or after --orphan-timeout)\n"
    "  --orphan-timeout D      drop a run after D without its master (--once: exit; default 60s)\n"
    "  --id NAME               worker id (default <hostname>-<pid>; at most 64 bytes)\n"
    "  --allow-exec            let scenarios run commands (os.execute, io.popen)\n"
    "  -h, --help              this text\n"
    "\n"
    "exit codes: 0 the master ended the run (--once) or SIGTERM/SIGINT, 1 usage error, 2 refused, wrong\n"
    "key or orphaned (--once)\n";

static atomic_int stop_requested;

/* SIGTERM/SIGINT: leave at the next tick (last stats out first), exit 0. */
static void on_stop_signal(int signum) {
  (void)signum;
  atomic_store(&stop_requested, 1);
}

int cmd_worker(int argc, char **argv) {
  agent_config cfg = {.orphan_timeout_ns = 60000000000LL};
  const char *key_file = NULL;
  uint8_t key[TRANSPORT_KEY_LEN];
  bool have_key = false;
  char err[1024];
  int rc = 0;

  for (int i = 1; i < argc && rc == 0; i++) {
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
    char *end = NULL;
    if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
      fputs(help_text, stdout);
      return 0;
    } else if (!strcmp(a, "--master") && v)
      cfg.master_url = argv[++i];
    else if (!strcmp(a, "--key-file") && v)
      key_file = argv[++i];
    else if (!strcmp(a, "--id") && v)
      cfg.id = argv[++i];
    else if (!strcmp(a, "--allow-exec"))
      cfg.allow_exec = 1;
    else if (!strcmp(a, "--once"))
      cfg.once = 1;
    else if (!strcmp(a, "--orphan-timeout")) {
      if ((rc = scenario_parse_duration_flag(argv[0], a, v, &cfg.orphan_timeout_ns)) == 0) i++;
    } else if (!strcmp(a, "--threads") && v) {
      long n = strtol(v, &end, 10);
      if (end == v || *end || n < 0 || n > 4096) rc = cmd_usage_error(argv[0], "--threads '%s': 0..4096", v);
      cfg.threads = (int)n;
      i++;
    } else
      rc = cmd_usage_error(argv[0], "unknown flag or argument '%s' (or missing value)", a);
  }
  if (rc) return rc;
  if (!cfg.master_url) return cmd_usage_error(argv[0], "missing --master URL");
  if (cfg.id && (!cfg.id[0] || strlen(cfg.id) > TRANSPORT_ID_MAX))
    return cmd_usage_error(argv[0], "--id must be 1..64 bytes");
  if (transport_key_load(key_file, key, &have_key, err, sizeof err) < 0) {
    fprintf(stderr, "loadctl worker: %s\n", err);
    return EXIT_USAGE;
  }
  cfg.key = have_key ? key : NULL;
  cfg.cancel = &stop_requested;
  struct sigaction sa = {.sa_handler = on_stop_signal};
  sigemptyset(&sa.sa_mask);
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);
  return agent_run(&cfg);
}
