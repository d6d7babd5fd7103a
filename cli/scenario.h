/* scenario.h - a scenario file read for `loadctl start`, `master` and `check`: its text, command-line
 * overrides (--duration, --users, --rate) appended as Lua so the workers see the same options, --env
 * variables put before the text (on its first line, so line numbers stay), and the options parsed and
 * validated from the result (errors name file:line before any load). */
#ifndef LOADCTL_SCENARIO_H
#define LOADCTL_SCENARIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/options.h"

#define SCENARIO_MAX_ENV 64

/* One --env NAME[=VALUE]: shipped with the scenario, returned by env(NAME) before the local environment. */
typedef struct scenario_env {
  char name[128];
  const char *value; /* borrowed: from argv or this process's environment */
  int secret;        /* --secret: also hidden from every file, log line, report and page (common/secret.h) */
} scenario_env;

typedef struct scenario_overrides {
  int64_t duration_ns; /* 0 = keep */
  double users;        /* < 0 = keep; else closed model with this many users, stages dropped */
  double rate;         /* < 0 = keep; else open model at this rate, stages dropped */
  int64_t iterations;  /* 0 = keep; else the run ends after this many iterations (shared-iterations) */
  scenario_env env[SCENARIO_MAX_ENV];
  size_t nenv;
} scenario_overrides;

typedef struct scenario {
  char name[256]; /* basename, shipped to workers */
  char *source;   /* file text + overrides; owned, NUL-terminated */
  size_t len;
  options opt;
} scenario;

/* Read path, apply ov (may be NULL), parse. 0, or negative errno with "file:line: message" in err.
 * Release with scenario_free (also after a failure). */
int scenario_load(const char *path, const scenario_overrides *ov, scenario *out, char *err, size_t errlen);
void scenario_free(scenario *s);

/* Run the scenario's setup() once (worker/lifecycle.h) and ship what it returned with the scenario, so
 * every VU on every worker gets it as `data`. 0 (also without a setup()), or negative errno with
 * "file:line: message" in err: the run must not start. */
int scenario_setup(const char *path, scenario *s, bool allow_exec, char *err, size_t errlen);
/* Run teardown(data) once after the run. 0 (also without a teardown()), or negative errno with err set. */
int scenario_teardown(const char *path, const scenario *s, bool allow_exec, char *err, size_t errlen);

/* What scenario_load checks beyond options_load_source (which already refuses unknown options, profile
 * sources and a scenario without tasks): every threshold expression parses. `loadctl check`, `start`
 * and `master` all go through scenario_load, so they refuse the same scenarios with the same
 * "file:line: why" in err. 0 or -EINVAL. */
int scenario_validate(const char *path, const options *o, char *err, size_t errlen);

/* Add one `--env NAME[=VALUE]` (NAME alone takes this process's value, which must be set). 0, or
 * EXIT_USAGE after printing the problem for cmd. */
int scenario_parse_env(const char *cmd, const char *arg, scenario_overrides *ov);
/* The same for `--secret NAME[=VALUE]`: shipped as --env is, and its value (at least SECRET_MIN_LEN
 * bytes) registered as a secret in this process and, through the scenario, in every worker. */
int scenario_parse_secret(const char *cmd, const char *arg, scenario_overrides *ov);

/* Parse a duration flag value; prints a usage error for cmd and returns EXIT_USAGE on failure, else 0. */
int scenario_parse_duration_flag(const char *cmd, const char *flag, const char *value, int64_t *out_ns);

/* Flags shared by `loadctl master` and `loadctl start`. */
typedef struct scenario_flags {
  const char *scenario, *listen, *key_file, *out, *metrics, *junit;
  const char *web, *web_token_file; /* --web [HOST:]PORT, --web-token FILE */
  int expect, workers, threads;
  int64_t expect_timeout_ns;
  bool quiet, allow_exec;
  scenario_overrides ov;
} scenario_flags;

/* Read --web-token's file into token (when given): 0, or EXIT_USAGE after printing the problem. */
int scenario_web_token(const char *cmd, const scenario_flags *f, char *token, size_t len);

/* Parse argv[1..] into f (defaults preset by the caller). 0, or EXIT_USAGE after printing the problem. */
int scenario_parse_flags(int argc, char **argv, scenario_flags *f);

#endif
