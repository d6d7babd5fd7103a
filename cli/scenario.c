/* scenario.c - read a scenario, append command-line overrides as Lua (so the master and every worker
 * parse the same options from the same text), and parse it. */
#include "cli/scenario.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cmd.h"
#include "common/clock.h"
#include "common/secret.h"
#include "master/thresholds.h"
#include "master/web.h"
#include "worker/lifecycle.h"

static int read_all(const char *path, char **out, size_t *len, size_t extra, char *err, size_t errlen) {
  FILE *f = fopen(path, "rb");
  size_t cap = 8192, n = 0;
  char *buf;

  if (!f) {
    int rc = -errno;
    snprintf(err, errlen, "%s: cannot read: %s", path, strerror(errno));
    return rc;
  }
  buf = malloc(cap + extra + 1);
  while (buf) {
    n += fread(buf + n, 1, cap - n, f);
    if (n < cap) break;
    cap *= 2;
    char *grown = cap > ((size_t)4 << 20) * 2 ? NULL : realloc(buf, cap + extra + 1);
    if (!grown) {
      free(buf);
      buf = NULL;
    }
    buf = grown;
  }
  fclose(f);
  if (!buf) {
    snprintf(err, errlen, "%s: too large or out of memory", path);
    return -ENOMEM;
  }
  buf[n] = 0;
  *out = buf;
  *len = n;
  return 0;
}

/* Append text to s->source (room for it was reserved). */
static void append(scenario *s, const char *text) {
  size_t n = strlen(text);
  memcpy(s->source + s->len, text, n + 1);
  s->len += n;
}

/* Lua source for s: a string literal, bytes other than plain printable ASCII as \ddd. */
static void lua_quote(FILE *f, const char *s) {
  fputc('"', f);
  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\')
      fputc(c, f);
    else
      fprintf(f, "\\%03u", c);
  }
  fputc('"', f);
}

/* Close the memstream f that wrote *text and put its text before s's source (extra bytes of room kept
 * after it). Closing first: len and *text are final only then. 0 or -ENOMEM (the source as it was). */
static int join_prefix(scenario *s, FILE *f, char **text, const size_t *len, size_t extra) {
  if (fclose(f) != 0) {
    free(*text);
    return -ENOMEM;
  }
  char *joined = realloc(*text, *len + s->len + extra + 1);
  if (!joined) {
    free(*text);
    return -ENOMEM;
  }
  memcpy(joined + *len, s->source, s->len + 1);
  free(s->source);
  s->source = joined;
  s->len += *len;
  return 0;
}

/* Put "__loadctl_env = {...}; " before the file's first line (prelude.c's env() reads it first). */
static int prepend_env(scenario *s, const scenario_overrides *ov, size_t extra) {
  char *text = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&text, &len);
  if (!f) return -ENOMEM;
  fputs("__loadctl_env = {", f);
  for (size_t i = 0; i < ov->nenv; i++) {
    fprintf(f, "[\"%s\"] = ", ov->env[i].name);
    lua_quote(f, ov->env[i].value);
    fputs(", ", f);
  }
  fputs("}; __loadctl_secret = {", f); /* options.c registers these values as secrets wherever it runs */
  for (size_t i = 0; i < ov->nenv; i++)
    if (ov->env[i].secret) fprintf(f, "[\"%s\"] = true, ", ov->env[i].name);
  fputs("}; ", f);
  return join_prefix(s, f, &text, &len, extra);
}

int scenario_load(const char *path, const scenario_overrides *ov, scenario *out, char *err, size_t errlen) {
  const char *base = strrchr(path, '/');
  char line[256];
  int rc;

  memset(out, 0, sizeof *out);
  snprintf(out->name, sizeof out->name, "%s", base ? base + 1 : path);
  rc = read_all(path, &out->source, &out->len, 1024, err, errlen);
  if (rc < 0) return rc;
  if (ov && ov->nenv && (rc = prepend_env(out, ov, 1024)) < 0) {
    snprintf(err, errlen, "%s: out of memory", path);
    return rc;
  }
  if (ov && (ov->duration_ns > 0 || ov->users >= 0 || ov->rate >= 0 || ov->iterations > 0)) {
    /* one line, after the file's own text, so line numbers of the file stay right */
    append(out,
           "\noptions = options or {}; options.stages = nil; options.start_users = nil; options.start_rate = "
           "nil;");
    if (ov->users >= 0) {
      snprintf(line, sizeof line,
               " options.rate = nil; options.max_vus = nil; options.vus = nil; options.users = %.0f;",
               ov->users);
      append(out, line);
    }
    if (ov->rate >= 0) {
      snprintf(line, sizeof line,
               " options.users = nil; options.vus = nil; options.executor = nil; options.iterations = nil;"
               " options.spawn_rate = nil; options.rate = %.2f;",
               ov->rate);
      append(out, line);
    }
    if (ov->iterations > 0) {
      snprintf(line, sizeof line, " options.iterations = %lld;", (long long)ov->iterations);
      append(out, line);
    }
    if (ov->duration_ns > 0) {
      snprintf(line, sizeof line, " options.duration = \"%lldms\";",
               (long long)clock_ns_to_ms(ov->duration_ns));
      append(out, line);
    }
    append(out, " -- loadctl command-line overrides\n");
  }
  rc = options_load_source(path, out->source, out->len, &out->opt, err, errlen);
  if (rc == 0) rc = scenario_validate(path, &out->opt, err, errlen);
  return rc < 0 ? rc : 0;
}

/* Put "__setup_json = <json as a Lua string>; " before the first line (worker/script.c decodes it). */
static int prepend_data(scenario *s, const char *json) {
  char *text = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&text, &len);
  if (!f) return -ENOMEM;
  fputs("__setup_json = ", f);
  lua_quote(f, json);
  fputs("; ", f);
  return join_prefix(s, f, &text, &len, 0);
}

int scenario_setup(const char *path, scenario *s, bool allow_exec, char *err, size_t errlen) {
  char *json = NULL;
  int rc = lifecycle_run(path, s->source, s->len, &s->opt, allow_exec, "setup", &json, err, errlen);
  if (rc == 0 && json) rc = prepend_data(s, json);
  if (rc == -ENOMEM) snprintf(err, errlen, "%s: setup(): out of memory", path);
  free(json);
  return rc;
}

int scenario_teardown(const char *path, const scenario *s, bool allow_exec, char *err, size_t errlen) {
  return lifecycle_run(path, s->source, s->len, &s->opt, allow_exec, "teardown", NULL, err, errlen);
}

int scenario_validate(const char *path, const options *o, char *err, size_t errlen) {
  char why[768];
  threshold t;
  for (size_t i = 0; i < o->nthresholds; i++) {
    if (thresholds_parse_one(o->thresholds[i].expr, &t, why, sizeof why) == 0) continue;
    snprintf(err, errlen, "%s:%d: %s", path, o->thresholds[i].line, why);
    return -EINVAL;
  }
  return 0;
}

void scenario_free(scenario *s) {
  free(s->source);
  s->source = NULL;
}

int scenario_parse_env(const char *cmd, const char *arg, scenario_overrides *ov) {
  const char *eq = arg ? strchr(arg, '=') : NULL;
  size_t n = eq ? (size_t)(eq - arg) : arg ? strlen(arg) : 0;
  scenario_env *e;

  if (!arg) return cmd_usage_error(cmd, "--env needs NAME or NAME=VALUE");
  for (size_t i = 0; i < n; i++)
    if (!(arg[i] == '_' || (arg[i] >= 'A' && arg[i] <= 'Z') || (arg[i] >= 'a' && arg[i] <= 'z') ||
          (i > 0 && arg[i] >= '0' && arg[i] <= '9')))
      n = 0;
  if (n == 0 || n >= sizeof ov->env[0].name)
    return cmd_usage_error(cmd, "--env '%s': NAME must be letters, digits and _ (not starting with a digit)",
                           arg);
  if (ov->nenv >= SCENARIO_MAX_ENV) return cmd_usage_error(cmd, "at most %d --env flags", SCENARIO_MAX_ENV);
  e = &ov->env[ov->nenv];
  memcpy(e->name, arg, n);
  e->name[n] = '\0';
  e->value = eq ? eq + 1 : getenv(e->name);
  if (!e->value)
    return cmd_usage_error(cmd, "--env %s: %s is not set here; write --env %s=VALUE", arg, e->name, e->name);
  e->secret = 0;
  for (size_t i = 0; i < ov->nenv; i++) /* the last one given wins, as in k6 */
    if (!strcmp(ov->env[i].name, e->name)) {
      ov->env[i].value = e->value;
      return 0;
    }
  ov->nenv++;
  return 0;
}

int scenario_parse_secret(const char *cmd, const char *arg, scenario_overrides *ov) {
  int rc = scenario_parse_env(cmd, arg, ov);
  size_t n = arg ? strcspn(arg, "=") : 0, i;

  if (rc != 0) return rc;
  for (i = 0; i < ov->nenv && (strlen(ov->env[i].name) != n || strncmp(ov->env[i].name, arg, n)); i++) {
  }
  if (i == ov->nenv) return cmd_usage_error(cmd, "--secret %s: not recorded", arg);
  if (strlen(ov->env[i].value) < SECRET_MIN_LEN)
    return cmd_usage_error(cmd,
                           "--secret %s: a secret must be at least %d bytes (shorter ones would hide "
                           "ordinary text)",
                           ov->env[i].name, SECRET_MIN_LEN);
  ov->env[i].secret = 1;
  rc = secret_add(ov->env[i].value);
  return rc == 0 ? 0 : cmd_usage_error(cmd, "--secret %s: %s", ov->env[i].name, strerror(-rc));
}

int scenario_parse_duration_flag(const char *cmd, const char *flag, const char *value, int64_t *out_ns) {
  if (!value) return cmd_usage_error(cmd, "%s needs a value", flag);
  if (clock_parse_duration(value, out_ns) != 0)
    return cmd_usage_error(cmd, "%s '%s' is not a duration (e.g. 30s, 2m, 1m30s)", flag, value);
  return 0;
}

/* A numeric flag value >= min; 0 or EXIT_USAGE after printing the problem. */
static int parse_number(const char *cmd, const char *flag, const char *v, double min, double *out) {
  char *end = NULL;
  double d;
  if (!v) return cmd_usage_error(cmd, "%s needs a value", flag);
  d = strtod(v, &end);
  if (end == v || *end || !(d >= min))
    return cmd_usage_error(cmd, "%s '%s' is not a number >= %g", flag, v, min);
  *out = d;
  return 0;
}

int scenario_web_token(const char *cmd, const scenario_flags *f, char *token, size_t len) {
  char err[600];
  token[0] = 0;
  if (!f->web_token_file) return 0;
  if (!f->web) return cmd_usage_error(cmd, "--web-token needs --web [HOST:]PORT");
  if (web_token_load(f->web_token_file, token, len, err, sizeof err) < 0) {
    fprintf(stderr, "%s: %s\n", cmd, err);
    return EXIT_USAGE;
  }
  return 0;
}

int scenario_parse_flags(int argc, char **argv, scenario_flags *f) {
  double d = 0;
  int rc = 0;

  for (int i = 1; i < argc && rc == 0; i++) {
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (!strcmp(a, "--listen") && v)
      f->listen = argv[++i];
    else if (!strcmp(a, "--key-file") && v)
      f->key_file = argv[++i];
    else if (!strcmp(a, "--out") && v)
      f->out = argv[++i];
    else if (!strcmp(a, "--metrics-listen") && v)
      f->metrics = argv[++i];
    else if (!strcmp(a, "--web") && v)
      f->web = argv[++i];
    else if (!strcmp(a, "--web-token") && v)
      f->web_token_file = argv[++i];
    else if (!strcmp(a, "--junit") && v)
      f->junit = argv[++i];
    else if (!strcmp(a, "--quiet"))
      f->quiet = true;
    else if (!strcmp(a, "--allow-exec"))
      f->allow_exec = true;
    else if (!strcmp(a, "--expect-workers")) {
      if ((rc = parse_number(argv[0], a, v, 1, &d)) == 0) f->expect = (int)d, i++;
    } else if (!strcmp(a, "--expect-timeout")) {
      if ((rc = scenario_parse_duration_flag(argv[0], a, v, &f->expect_timeout_ns)) == 0) i++;
    } else if (!strcmp(a, "--duration")) {
      if ((rc = scenario_parse_duration_flag(argv[0], a, v, &f->ov.duration_ns)) == 0) i++;
    } else if (!strcmp(a, "--iterations") || !strcmp(a, "-i")) {
      if ((rc = parse_number(argv[0], a, v, 1, &d)) == 0) f->ov.iterations = (int64_t)d, i++;
    } else if (!strcmp(a, "--users")) {
      if ((rc = parse_number(argv[0], a, v, 0, &f->ov.users)) == 0) i++;
    } else if (!strcmp(a, "--env") || !strcmp(a, "-e")) {
      if ((rc = scenario_parse_env(argv[0], v, &f->ov)) == 0) i++;
    } else if (!strcmp(a, "--secret")) {
      if ((rc = scenario_parse_secret(argv[0], v, &f->ov)) == 0) i++;
    } else if (!strcmp(a, "--rate")) {
      if ((rc = parse_number(argv[0], a, v, 0, &f->ov.rate)) == 0) i++;
    } else if (!strcmp(a, "--workers")) {
      if ((rc = parse_number(argv[0], a, v, 1, &d)) == 0) f->workers = (int)d, i++;
    } else if (!strcmp(a, "--threads")) {
      if ((rc = parse_number(argv[0], a, v, 0, &d)) == 0) f->threads = (int)d, i++;
    } else if (a[0] == '-')
      rc = cmd_usage_error(argv[0], "unknown flag '%s' (or missing value)", a);
    else if (!f->scenario)
      f->scenario = a;
    else
      rc = cmd_usage_error(argv[0], "unexpected argument '%s'", a);
  }
  if (rc == 0 && !f->scenario) rc = cmd_usage_error(argv[0], "missing SCENARIO.lua");
  return rc;
}
