/* main.c - loadctl's entry: global flags, then dispatch to a subcommand in cli/cmd_*.c. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cmd.h"
#include "common/log.h"

static const char usage_text[] =
    "loadctl - a distributed HTTP load generator that explains its own numbers\n"
    "\n"
    "usage: loadctl <command> [flags] [args]\n"
    "\n"
    "commands:\n"
    "  start SCENARIO.lua      run a scenario: local master + workers, live view, report at the end\n"
    "  master SCENARIO.lua     coordinate remote workers (--listen, --expect-workers)\n"
    "  worker                  connect to a master and run its load (--master, --threads)\n"
    "  report RUN_DIR          rebuild summary.json, CSVs and report.html from a run directory\n"
    "  compare RUN_A RUN_B     per-request regression verdict between two runs\n"
    "  history                 list the runs recorded in runs/index.jsonl\n"
    "  check SCENARIO.lua      validate a scenario without sending load\n"
    "  keygen FILE             write a new pre-shared key for master/worker authentication\n"
    "\n"
    "global flags:\n"
    "  -h, --help              this text; `loadctl <command> --help` for a command's flags\n"
    "  -V, --version           print the version\n"
    "  --log-level LEVEL       error, warn, info (default) or debug; also LOADCTL_LOG\n"
    "\n"
    "exit codes: 0 ok, 1 usage or scenario error, 2 runtime failure, 99 thresholds failed\n";

static const struct {
  const char *name;
  int (*fn)(int, char **);
} commands[] = {
    {"start", cmd_start},     {"master", cmd_master},   {"worker", cmd_worker}, {"report", cmd_report},
    {"compare", cmd_compare}, {"history", cmd_history}, {"check", cmd_check},   {"keygen", cmd_keygen},
};

int cmd_usage_error(const char *cmd, const char *fmt, ...) {
  va_list ap;
  fprintf(stderr, "loadctl %s: ", cmd);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fprintf(stderr, "\nrun `loadctl %s --help` for its flags\n", cmd);
  return EXIT_USAGE;
}

int main(int argc, char **argv) {
  int i = 1;
  const char *env_level = getenv("LOADCTL_LOG");

  if (env_level && log_set_level(env_level) != 0)
    fprintf(stderr, "loadctl: ignoring LOADCTL_LOG=%s (use error, warn, info or debug)\n", env_level);
  for (; i < argc && argv[i][0] == '-'; i++) {
    if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
      fputs(usage_text, stdout);
      return 0;
    } else if (!strcmp(argv[i], "-V") || !strcmp(argv[i], "--version")) {
      printf("loadctl %s\n", LOADCTL_VERSION);
      return 0;
    } else if (!strcmp(argv[i], "--log-level") && i + 1 < argc) {
      if (log_set_level(argv[++i]) != 0) {
        fprintf(stderr, "loadctl: unknown log level '%s' (use error, warn, info or debug)\n", argv[i]);
        return EXIT_USAGE;
      }
    } else {
      fprintf(stderr, "loadctl: unknown flag '%s'\n\n%s", argv[i], usage_text);
      return EXIT_USAGE;
    }
  }
  if (i >= argc) {
    fprintf(stderr, "loadctl: missing command\n\n%s", usage_text);
    return EXIT_USAGE;
  }
  for (size_t c = 0; c < sizeof commands / sizeof commands[0]; c++)
    if (!strcmp(argv[i], commands[c].name)) return commands[c].fn(argc - i, argv + i);
  fprintf(stderr, "loadctl: unknown command '%s'\n\n%s", argv[i], usage_text);
  return EXIT_USAGE;
}
