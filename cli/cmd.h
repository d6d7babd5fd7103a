/* cmd.h - the subcommands main.c dispatches to; each lives in cli/cmd_<name>.c.
 * Contract: argv[0] is the subcommand name; return the process exit code
 * (0 ok, 1 usage/scenario error, 2 runtime failure, 99 thresholds failed). */
#ifndef LOADCTL_CMD_H
#define LOADCTL_CMD_H

#include "common/exitcode.h"

int cmd_start(int argc, char **argv);
int cmd_master(int argc, char **argv);
int cmd_worker(int argc, char **argv);
int cmd_keygen(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_compare(int argc, char **argv);
int cmd_history(int argc, char **argv);
int cmd_check(int argc, char **argv);

/* Print "loadctl <cmd>: <what is wrong>" and a hint to run --help, on stderr; returns EXIT_USAGE. */
int cmd_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
