/* cmd_master.c - `loadctl master SCENARIO.lua`: validate the scenario, then run the master loop for
 * remote workers (master/master.c), authenticated with a pre-shared key unless it listens locally. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cmd.h"
#include "cli/scenario.h"
#include "common/log.h"
#include "common/transport.h"
#include "master/lobby.h"
#include "master/master.h"

static const char help_text[] =
    "usage: loadctl master SCENARIO.lua [flags]\n"
    "\n"
    "Coordinate remote workers: wait for them, ship the scenario and each one's share, merge their stats,\n"
    "write the run directory and the report.\n"
    "\n"
    "flags:\n"
    "  --listen URL            where workers connect (default tcp://127.0.0.1:5557; tcp://0.0.0.0:5557 for "
    "all\n"
    "                          interfaces, which needs a key; ipc:///path for local workers)\n"
    "  --expect-workers N      start once N workers joined (default 1)\n"
    "  --expect-timeout D      give up when they have not joined after D (default 30s)\n"
    "  --key-file FILE         pre-shared key (hex, from `loadctl keygen FILE`); also LOADCTL_KEY.\n"
    "                          Without a key the master only listens on 127.0.0.1 or ipc://\n"
    "  --out DIR               run directory (default runs/<UTC time>-<scenario>)\n"
    "  --duration D            override options.duration (drops stages)\n"
    "  --users N               override: closed model with N users (drops stages)\n"
    "  --rate R                override: open model at R iterations/s (drops stages)\n"
    "  -i, --iterations N      end after N iterations in all, shared by the VUs of every worker (k6's\n"
    "                          shared-iterations; --duration is then the longest it may take)\n"
    "  -e, --env NAME[=VALUE]  ship NAME (this value, or this process's) with the scenario: env(\"NAME\")\n"
    "                          returns it on every worker before their own environment; repeatable\n"
    "  --secret NAME[=VALUE]   as --env, and the value (4 bytes or more) is shown as *** in every file,\n"
    "                          log line, report and web page of the run (docs/distributed.md)\n"
    "  --metrics-listen H:P    serve Prometheus metrics on H:P while running\n"
    "  --junit FILE            write thresholds as JUnit XML\n"
    "  --web [HOST:]PORT       live page and control API (docs/web.md); loopback unless a token is set;\n"
    "                          the master then serves run after run, the next one started from the page\n"
    "  --web-token FILE        bearer token (first line, >= 16 characters) every web request must carry\n"
    "  --quiet                 no live table, only the final summary\n"
    "  -h, --help              this text\n"
    "\n"
    "exit codes: 0 ok, 1 usage or scenario error, 2 runtime failure, 99 thresholds failed\n";

/* --web: run after run (the workers stay connected), the next one asked from the live page with other
 * users/rate/duration (master/lobby.h), until Ctrl-C between runs. Returns the last run's exit code. */
static int run_series(const scenario_flags *f, scenario *sc, master_config *mc) {
  char listen[300], dir[4096] = "", out[4200], err[2048] = "";
  scenario_overrides ov;
  lobby_next next;
  int rc, runs = 1;

  if (lobby_fix_port(f->web, listen, sizeof listen) < 0) snprintf(listen, sizeof listen, "%s", f->web);
  mc->web_listen = listen;
  mc->web_next = true;
  mc->run_dir_out = dir;
  mc->run_dir_out_len = sizeof dir;
  for (;;) {
    rc = master_run(mc);
    if (scenario_teardown(f->scenario, sc, false, err, sizeof err) < 0) LOG(LOG_ERROR, "master: %s", err);
    err[0] = 0;
    if (!dir[0]) return rc;
    if (lobby_wait(listen, mc->web_token, dir, &next, err, sizeof err) < 0) {
      if (err[0]) fprintf(stderr, "loadctl master: %s\n", err);
      return rc;
    }
    ov = f->ov;
    ov.users = next.is_rate ? -1 : next.target;
    ov.rate = next.is_rate ? next.target : -1;
    ov.duration_ns = next.duration_ns;
    scenario_free(sc);
    if (scenario_load(f->scenario, &ov, sc, err, sizeof err) < 0) {
      fprintf(stderr, "loadctl master: %s\n", err);
      return EXIT_USAGE;
    }
    if (scenario_setup(f->scenario, sc, false, err, sizeof err) < 0) {
      fprintf(stderr, "loadctl master: %s\n", err);
      return EXIT_RUNTIME;
    }
    mc->script_source = sc->source;
    mc->script_len = sc->len;
    mc->opt = &sc->opt;
    if (f->out) {
      snprintf(out, sizeof out, "%s-%d", f->out, ++runs);
      mc->out_dir = out;
    }
    dir[0] = 0;
    LOG(LOG_INFO, "master: next run from the page: %s %g%s", next.is_rate ? "rate" : "users", next.target,
        next.duration_ns ? "" : " (the scenario's duration)");
  }
}

int cmd_master(int argc, char **argv) {
  scenario_flags f = {.listen = "tcp://127.0.0.1:5557",
                      .expect = 1,
                      .expect_timeout_ns = 30000000000LL,
                      .ov = {.users = -1, .rate = -1}};
  uint8_t key[TRANSPORT_KEY_LEN];
  bool have_key = false;
  char err[2048] = "", token[256];
  scenario sc;
  master_config mc;
  int rc;

  for (int i = 1; i < argc; i++)
    if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
      fputs(help_text, stdout);
      return 0;
    }
  if ((rc = scenario_parse_flags(argc, argv, &f)) != 0) return rc;
  if (f.workers || f.threads)
    return cmd_usage_error(argv[0], "--workers/--threads belong to `loadctl start`");
  if (f.allow_exec)
    return cmd_usage_error(argv[0],
                           "--allow-exec belongs to `loadctl worker`: each worker decides whether its "
                           "scenarios may run commands");
  if ((rc = scenario_web_token(argv[0], &f, token, sizeof token)) != 0) return rc;
  if (transport_key_load(f.key_file, key, &have_key, err, sizeof err) < 0) {
    fprintf(stderr, "loadctl master: %s\n", err);
    return EXIT_USAGE;
  }
  if (scenario_load(f.scenario, &f.ov, &sc, err, sizeof err) < 0) {
    fprintf(stderr, "loadctl master: %s\n", err);
    scenario_free(&sc);
    return EXIT_USAGE;
  }
  if (scenario_setup(f.scenario, &sc, false, err, sizeof err) < 0) {
    fprintf(stderr, "loadctl master: %s\n", err);
    scenario_free(&sc);
    return EXIT_RUNTIME;
  }
  mc = (master_config){.scenario_path = f.scenario,
                       .script_name = sc.name,
                       .script_source = sc.source,
                       .script_len = sc.len,
                       .opt = &sc.opt,
                       .listen = f.listen,
                       .key = have_key ? key : NULL,
                       .expect_workers = f.expect,
                       .expect_timeout_ns = f.expect_timeout_ns,
                       .out_dir = f.out,
                       .metrics_listen = f.metrics,
                       .junit_path = f.junit,
                       .web_listen = f.web,
                       .web_token = token[0] ? token : NULL,
                       .quiet = f.quiet};
  LOG(LOG_INFO, "master: waiting for %d worker(s) on %s", f.expect, f.listen);
  if (f.web) {
    rc = run_series(&f, &sc, &mc); /* setup() and teardown() around each run */
  } else {
    rc = master_run(&mc);
    if (scenario_teardown(f.scenario, &sc, false, err, sizeof err) < 0) LOG(LOG_ERROR, "master: %s", err);
  }
  scenario_free(&sc);
  return rc;
}
