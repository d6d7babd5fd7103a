/* cmd_start.c - `loadctl start SCENARIO.lua`: the master loop and N workers in one process (workers as
 * threads) talking over ipc:///tmp/loadctl-<pid>.ipc with a random per-run key: the same master and
 * worker code as a distributed run, one path, not two. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "cli/cmd.h"
#include "cli/scenario.h"
#include "common/clock.h"
#include "common/log.h"
#include "common/transport.h"
#include "master/master.h"
#include "worker/agent.h"

static const char help_text[] =
    "usage: loadctl start SCENARIO.lua [flags]\n"
    "\n"
    "Run a scenario on this machine: a master and local workers in one process, a live table each\n"
    "second, and a run directory with summary.json, CSVs and report.html at the end.\n"
    "\n"
    "flags:\n"
    "  --threads N             engine threads in all (default 0 = one per core)\n"
    "  --workers N             local workers (default 1); threads are split between them\n"
    "  --duration D            override options.duration (e.g. 30s, 2m; drops stages)\n"
    "  --users N               override: closed model with N users (drops stages)\n"
    "  --rate R                override: open model at R iterations/s (drops stages)\n"
    "  -i, --iterations N      end after N iterations in all, shared by the VUs of every worker (k6's\n"
    "                          shared-iterations; --duration is then the longest it may take)\n"
    "  -e, --env NAME[=VALUE]  ship NAME (this value, or this process's) with the scenario: env(\"NAME\")\n"
    "                          returns it on every worker before their own environment; repeatable\n"
    "  --secret NAME[=VALUE]   as --env, and the value (4 bytes or more) is shown as *** in every file,\n"
    "                          log line, report and web page of the run (docs/distributed.md)\n"
    "  --out DIR               run directory (default runs/<UTC time>-<scenario>)\n"
    "  --junit FILE            write thresholds as JUnit XML\n"
    "  --web [HOST:]PORT       live page and control API (docs/web.md); loopback unless a token is set\n"
    "  --web-token FILE        bearer token (first line, >= 16 characters) every web request must carry\n"
    "  --metrics-listen H:P    serve Prometheus metrics on H:P while running\n"
    "  --quiet                 no live table, only the final summary\n"
    "  --allow-exec            let the scenario's tasks run commands (os.execute, io.popen, ffi)\n"
    "  -h, --help              this text\n"
    "\n"
    "exit codes: 0 ok, 1 usage or scenario error (file:line), 2 runtime failure, 99 thresholds failed\n";

/* The master is in this process: its silence is a stall (the process stopped or starved of CPU), not a
 * loss, so the local workers keep what they measured until it is back (they stop their load after 5 s of
 * silence all the same); join_workers ends them when the run is over. */
#define START_ORPHAN_NS (600 * CLOCK_NS_PER_S)

typedef struct local_workers {
  int n, threads_each;
  char url[128];
  uint8_t key[TRANSPORT_KEY_LEN];
  pthread_t *tids;
  agent_config *cfgs;
  char (*ids)[32];
  int started, allow_exec;
  atomic_int cancel;
} local_workers;

static void *worker_main(void *arg) {
  prctl(PR_SET_NAME, "lc-agent", 0, 0, 0);
  agent_run(arg);
  return NULL;
}

/* master_config.on_listening: the socket is bound, start the workers. */
static void spawn_workers(void *ud) {
  local_workers *lw = ud;
  for (int i = 0; i < lw->n; i++) {
    snprintf(lw->ids[i], sizeof lw->ids[i], "local-%d", i + 1);
    lw->cfgs[i] = (agent_config){.master_url = lw->url,
                                 .key = lw->key,
                                 .id = lw->ids[i],
                                 .threads = lw->threads_each,
                                 .orphan_timeout_ns = START_ORPHAN_NS,
                                 .allow_exec = lw->allow_exec,
                                 .once = 1,
                                 .cancel = &lw->cancel};
    if (pthread_create(&lw->tids[i], NULL, worker_main, &lw->cfgs[i]) != 0) {
      LOG(LOG_ERROR, "start: cannot start worker thread %d", i + 1);
      break;
    }
    lw->started++;
  }
}

static void join_workers(local_workers *lw) {
  atomic_store(&lw->cancel, 1);
  for (int i = 0; i < lw->started; i++) pthread_join(lw->tids[i], NULL);
}

static int threads_per_worker(int threads, int workers) {
  long cores = sysconf(_SC_NPROCESSORS_ONLN);
  int total = threads > 0 ? threads : (int)(cores > 0 ? cores : 1);
  return total / workers > 0 ? total / workers : 1;
}

static int run_local(const char *path, scenario *sc, const scenario_flags *f, const char *token) {
  local_workers lw = {.n = f->workers > 0 ? f->workers : 1, .allow_exec = f->allow_exec};
  master_config mc;
  int rc = EXIT_RUNTIME;

  lw.threads_each = threads_per_worker(f->threads, lw.n);
  snprintf(lw.url, sizeof lw.url, "ipc:///tmp/loadctl-%d.ipc", (int)getpid());
  transport_key_random(lw.key);
  lw.tids = calloc((size_t)lw.n, sizeof *lw.tids);
  lw.cfgs = calloc((size_t)lw.n, sizeof *lw.cfgs);
  lw.ids = calloc((size_t)lw.n, sizeof *lw.ids);
  if (!lw.tids || !lw.cfgs || !lw.ids) goto out;
  atomic_init(&lw.cancel, 0);
  mc = (master_config){.scenario_path = path,
                       .script_name = strlen(path) < sizeof sc->name
                                          ? path
                                          : sc->name, /* workers resolve data.csv beside it */
                       .script_source = sc->source,
                       .script_len = sc->len,
                       .opt = &sc->opt,
                       .listen = lw.url,
                       .key = lw.key,
                       .expect_workers = lw.n,
                       .expect_timeout_ns = 10 * CLOCK_NS_PER_S,
                       .out_dir = f->out,
                       .metrics_listen = f->metrics,
                       .junit_path = f->junit,
                       .web_listen = f->web,
                       .web_token = token && token[0] ? token : NULL,
                       .quiet = f->quiet,
                       .on_listening = spawn_workers,
                       .ud = &lw};
  rc = master_run(&mc);
  join_workers(&lw);
out:
  unlink(lw.url + strlen("ipc://"));
  free(lw.tids);
  free(lw.cfgs);
  free(lw.ids);
  return rc;
}

int cmd_start(int argc, char **argv) {
  scenario_flags f = {.ov = {.users = -1, .rate = -1}};
  char err[2048] = "", token[256];
  scenario sc;
  int rc;

  for (int i = 1; i < argc; i++)
    if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
      fputs(help_text, stdout);
      return 0;
    }
  if ((rc = scenario_parse_flags(argc, argv, &f)) != 0) return rc;
  if (f.listen || f.key_file || f.expect || f.expect_timeout_ns)
    return cmd_usage_error(argv[0], "--listen/--key-file/--expect-* belong to `loadctl master`");
  if ((rc = scenario_web_token(argv[0], &f, token, sizeof token)) != 0) return rc;
  if (scenario_load(f.scenario, &f.ov, &sc, err, sizeof err) < 0) {
    fprintf(stderr, "loadctl start: %s\n", err);
    scenario_free(&sc);
    return EXIT_USAGE;
  }
  /* the in-process workers are chatty at info level; keep the terminal for the live table and the
   * scenario's own log() lines (log_scenario_threshold stays at info) */
  if (!getenv("LOADCTL_LOG") && log_threshold == LOG_INFO) log_threshold = LOG_WARN;
  if (scenario_setup(f.scenario, &sc, f.allow_exec, err, sizeof err) < 0) {
    fprintf(stderr, "loadctl start: %s\n", err);
    scenario_free(&sc);
    return EXIT_RUNTIME;
  }
  rc = run_local(f.scenario, &sc, &f, token);
  if (scenario_teardown(f.scenario, &sc, f.allow_exec, err, sizeof err) < 0) LOG(LOG_ERROR, "start: %s", err);
  scenario_free(&sc);
  return rc;
}
