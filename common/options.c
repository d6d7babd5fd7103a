/* options.c - read a scenario's `options` table into struct options, validating every key and type, so
 * that `loadctl check`, the master and the workers reject the same mistakes with the same file:line. */
#include "common/options.h"

#include <ctype.h>
#include <errno.h>
#include <lauxlib.h>
#include <lualib.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/k6exec.h"
#include "common/prelude.h"
#include "common/scenarios.h"
#include "common/secret.h"
#include "common/tagset.h"

typedef struct loader {
  lua_State *L;
  const char *chunk;
  int line;        /* line messages name: the offending key's, else where `options` was assigned */
  int assign_line; /* line where `options` was assigned */
  const char *source;
  size_t len;
  char *err;
  size_t errlen;
} loader;

static const char *const known_keys[] = {
    "name",        "target",     "users",       "spawn_rate",    "duration",      "stages",
    "rate",        "max_vus",    "thresholds",  "profile",       "http",          "timeout",
    "interval",    "think",      "max_body",    "insecure_tls",  "max_redirects", "pre_allocated_vus",
    "start_users", "start_rate", "tls_ca_file", "tls_cert_file", "tls_key_file",  "h2_connections",
    "executor",    "vus",        "iterations",  "tags",          "scenarios",
};

static int fail(loader *ld, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(loader *ld, const char *fmt, ...) {
  va_list ap;
  int used = snprintf(ld->err, ld->errlen, "%s:%d: ", ld->chunk, ld->line);
  if (used < 0 || (size_t)used >= ld->errlen) return -EINVAL;
  va_start(ap, fmt);
  vsnprintf(ld->err + used, ld->errlen - (size_t)used, fmt, ap);
  va_end(ap);
  return -EINVAL;
}

/* Does the line [begin, end) set key, as `key =` or `["key"] =`? */
static int line_has_key(const char *begin, const char *end, const char *key) {
  size_t klen = strlen(key);
  for (const char *p = begin; p + klen <= end; p++) {
    const char *q = p + klen;
    if (*p != *key || memcmp(p, key, klen) != 0) continue;
    if (p > begin && (p[-1] == '_' || isalnum((unsigned char)p[-1]))) continue;
    if (q < end && (*q == '"' || *q == '\'')) q++;
    if (q < end && *q == ']') q++;
    while (q < end && (*q == ' ' || *q == '\t')) q++;
    if (q < end && *q == '=' && (q + 1 >= end || q[1] != '=')) return 1;
  }
  return 0;
}

/* Point messages at the line that sets key inside the options table (searched backwards from the
 * assignment up to the line that sets `options`), else at the assignment itself. */
static void at_key(loader *ld, const char *key) {
  const char *end = ld->source + ld->len;
  int l = 1, found = 0, options_line = 0;
  ld->line = ld->assign_line;
  if (!ld->source || ld->assign_line <= 0) return;
  for (const char *p = ld->source; p < end && l <= ld->assign_line; l++) {
    const char *e = memchr(p, '\n', (size_t)(end - p));
    if (!e) e = end;
    if (line_has_key(p, e, "options")) options_line = l, found = 0;
    if (options_line && !found && line_has_key(p, e, key)) found = l;
    p = e + 1;
  }
  if (found) ld->line = found;
}

/* Edit distance, for "did you mean" hints on unknown keys. */
static size_t distance(const char *a, const char *b) {
  size_t la = strlen(a), lb = strlen(b), row[64];
  if (la >= 63 || lb >= 63) return 99;
  for (size_t j = 0; j <= lb; j++) row[j] = j;
  for (size_t i = 1; i <= la; i++) {
    size_t prev = row[0], tmp;
    row[0] = i;
    for (size_t j = 1; j <= lb; j++) {
      tmp = row[j];
      size_t sub = prev + (a[i - 1] != b[j - 1]);
      size_t best = row[j] + 1 < row[j - 1] + 1 ? row[j] + 1 : row[j - 1] + 1;
      row[j] = sub < best ? sub : best;
      prev = tmp;
    }
  }
  return row[lb];
}

static int check_keys(loader *ld, int idx) {
  lua_pushnil(ld->L);
  while (lua_next(ld->L, idx)) {
    const char *key = lua_type(ld->L, -2) == LUA_TSTRING ? lua_tostring(ld->L, -2) : NULL;
    size_t i, best = 0, best_d = 99;
    lua_pop(ld->L, 1);
    if (!key) return fail(ld, "options: keys must be names, found a %s key", luaL_typename(ld->L, -1));
    for (i = 0; i < sizeof known_keys / sizeof known_keys[0]; i++) {
      size_t d = distance(key, known_keys[i]);
      if (d == 0) break;
      if (d < best_d) best_d = d, best = i;
    }
    if (i == sizeof known_keys / sizeof known_keys[0]) {
      lua_pop(ld->L, 1);
      at_key(ld, key);
      if (best_d <= 2) return fail(ld, "unknown option '%s' (did you mean '%s'?)", key, known_keys[best]);
      return fail(ld, "unknown option '%s'", key);
    }
  }
  return 0;
}

/* Duration at t[key]: a string ("1m30s") or a number of seconds. absent -> 0 and *out untouched. */
static int get_duration(loader *ld, int idx, const char *key, int64_t *out) {
  int rc = 0;
  at_key(ld, key);
  lua_getfield(ld->L, idx, key);
  if (lua_type(ld->L, -1) == LUA_TNUMBER) {
    double s = lua_tonumber(ld->L, -1);
    if (!(s >= 0) || s > 9e9)
      rc = fail(ld, "option '%s': %g is not a valid number of seconds", key, s);
    else
      *out = (int64_t)llround(s * 1e9);
  } else if (lua_type(ld->L, -1) == LUA_TSTRING) {
    if (clock_parse_duration(lua_tostring(ld->L, -1), out) != 0)
      rc = fail(ld, "option '%s': '%s' is not a duration (use e.g. \"250ms\", \"1m30s\", \"2h\")", key,
                lua_tostring(ld->L, -1));
  } else if (!lua_isnil(ld->L, -1)) {
    rc =
        fail(ld, "option '%s' must be a duration string or seconds, not a %s", key, luaL_typename(ld->L, -1));
  }
  lua_pop(ld->L, 1);
  return rc;
}

static int get_number(loader *ld, int idx, const char *key, double *out) {
  int rc = 0;
  at_key(ld, key);
  lua_getfield(ld->L, idx, key);
  if (lua_type(ld->L, -1) == LUA_TNUMBER) {
    *out = lua_tonumber(ld->L, -1);
    if (!(*out >= 0) || !isfinite(*out)) rc = fail(ld, "option '%s' must be a number >= 0", key);
  } else if (!lua_isnil(ld->L, -1)) {
    rc = fail(ld, "option '%s' must be a number, not a %s (%s = %s)", key, luaL_typename(ld->L, -1), key,
              lua_type(ld->L, -1) == LUA_TSTRING ? lua_tostring(ld->L, -1) : "...");
  }
  lua_pop(ld->L, 1);
  return rc;
}

static int get_string(loader *ld, int idx, const char *key, char *out, size_t size) {
  int rc = 0;
  at_key(ld, key);
  lua_getfield(ld->L, idx, key);
  if (lua_type(ld->L, -1) == LUA_TSTRING) {
    size_t len;
    const char *s = lua_tolstring(ld->L, -1, &len);
    if (len >= size)
      rc = fail(ld, "option '%s' is too long (%zu bytes, max %zu)", key, len, size - 1);
    else
      memcpy(out, s, len + 1);
  } else if (!lua_isnil(ld->L, -1)) {
    rc = fail(ld, "option '%s' must be a string, not a %s", key, luaL_typename(ld->L, -1));
  }
  lua_pop(ld->L, 1);
  return rc;
}

static int get_stages(loader *ld, int idx, options *o) {
  int rc = 0, t;
  lua_getfield(ld->L, idx, "stages");
  if (lua_isnil(ld->L, -1)) goto out;
  if (!lua_istable(ld->L, -1)) {
    rc = fail(ld, "option 'stages' must be a list of {duration=..., users=... or rate=...}");
    goto out;
  }
  t = lua_gettop(ld->L);
  for (int i = 1; rc == 0; i++) {
    double users = -1, rate = -1, target = -1;
    lua_rawgeti(ld->L, t, i);
    if (lua_isnil(ld->L, -1)) {
      lua_pop(ld->L, 1);
      break;
    }
    if (!lua_istable(ld->L, -1) || o->nstages >= OPTIONS_MAX_STAGES) {
      rc = fail(ld, "stages[%d] must be a table {duration=..., users=...} (at most %d stages)", i,
                OPTIONS_MAX_STAGES);
    } else {
      options_stage *s = &o->stages[o->nstages];
      int e = lua_gettop(ld->L);
      rc = get_duration(ld, e, "duration", &s->duration_ns);
      if (!rc) rc = get_number(ld, e, "users", &users);
      if (!rc) rc = get_number(ld, e, "rate", &rate);
      if (!rc) rc = get_number(ld, e, "target", &target);
      if (!rc && rate >= 0) o->model = OPTIONS_OPEN;
      s->target = users >= 0 ? users : rate >= 0 ? rate : target;
      if (!rc && s->target < 0) rc = fail(ld, "stages[%d] needs users=, rate= or target=", i);
      o->nstages++;
    }
    lua_pop(ld->L, 1);
  }
out:
  lua_pop(ld->L, 1);
  return rc;
}

/* Point messages at the first line inside the options table (from the line that sets `options` to the
 * assignment) that contains text as written, else where at_key would. */
static void at_text(loader *ld, const char *text, const char *key) {
  const char *end = ld->source ? ld->source + ld->len : NULL;
  size_t tlen = strlen(text);
  int l = 1, options_line = 0;
  at_key(ld, key);
  if (!ld->source || ld->assign_line <= 0 || tlen == 0) return;
  for (const char *p = ld->source; p < end && l <= ld->assign_line; l++) {
    const char *e = memchr(p, '\n', (size_t)(end - p));
    if (!e) e = end;
    if (line_has_key(p, e, "options")) options_line = l;
    if (options_line && memmem(p, (size_t)(e - p), text, tlen)) {
      ld->line = l;
      return;
    }
    p = e + 1;
  }
}

/* One threshold. value: the expression after the key (or the whole one in list form); the table at
 * index opts (0 = none) may say abort_on_fail/abortOnFail and delay_abort_eval/delayAbortEval. */
static int add_threshold(loader *ld, options *o, const char *key, const char *value, int opts) {
  options_threshold *t;
  int rc = 0;
  at_text(ld, key ? key : value, key ? key : "thresholds");
  if (o->nthresholds >= OPTIONS_MAX_THRESHOLDS)
    return fail(ld, "too many thresholds (max %d)", OPTIONS_MAX_THRESHOLDS);
  t = &o->thresholds[o->nthresholds++];
  if (key)
    snprintf(t->expr, sizeof t->expr, "%s %s", key, value);
  else
    snprintf(t->expr, sizeof t->expr, "%s", value);
  t->line = ld->line;
  if (!opts) return 0;
  for (int i = 0; i < 2; i++) {
    lua_getfield(ld->L, opts, i ? "abortOnFail" : "abort_on_fail");
    t->abort_on_fail |= lua_toboolean(ld->L, -1);
    lua_pop(ld->L, 1);
  }
  rc = get_duration(ld, opts, "delay_abort_eval", &t->delay_abort_ns);
  if (!rc) rc = get_duration(ld, opts, "delayAbortEval", &t->delay_abort_ns);
  ld->line = t->line;
  return rc;
}

/* A table entry {threshold = "...", abortOnFail = true, delayAbortEval = "10s"} at the stack top. */
static int threshold_table(loader *ld, options *o, const char *key) {
  int v = lua_gettop(ld->L), rc;
  lua_getfield(ld->L, v, "threshold");
  if (lua_type(ld->L, -1) != LUA_TSTRING) {
    lua_pop(ld->L, 1);
    at_text(ld, key ? key : "threshold", "thresholds");
    return fail(ld, "thresholds['%s']: a table entry needs threshold = \"...\" (a string)", key ? key : "?");
  }
  rc = add_threshold(ld, o, key, lua_tostring(ld->L, -1), v);
  lua_pop(ld->L, 1);
  return rc;
}

/* One thresholds entry: value on the stack top; key a string or NULL (list form). */
static int threshold_value(loader *ld, options *o, const char *key) {
  int v = lua_gettop(ld->L), rc = 0;
  if (lua_type(ld->L, v) == LUA_TSTRING) return add_threshold(ld, o, key, lua_tostring(ld->L, v), 0);
  if (!lua_istable(ld->L, v)) {
    at_text(ld, key ? key : "thresholds", "thresholds");
    return fail(ld, "thresholds['%s'] must be a string like \"< 250ms\"", key ? key : "?");
  }
  lua_getfield(ld->L, v, "threshold");
  if (!lua_isnil(ld->L, -1)) {
    lua_pop(ld->L, 1);
    return threshold_table(ld, o, key);
  }
  lua_pop(ld->L, 1);
  for (int i = 1; rc == 0;
       i++) { /* k6 list form: key = {"p(95) < 200", {threshold = ..., abortOnFail = true}} */
    lua_rawgeti(ld->L, v, i);
    if (lua_isnil(ld->L, -1)) {
      lua_pop(ld->L, 1);
      if (i > 1) break;
      at_text(ld, key ? key : "thresholds", "thresholds");
      return fail(ld, "thresholds['%s'] must be a string like \"< 250ms\"", key ? key : "?");
    }
    if (lua_type(ld->L, -1) == LUA_TSTRING)
      rc = add_threshold(ld, o, key, lua_tostring(ld->L, -1), 0);
    else if (lua_istable(ld->L, -1))
      rc = threshold_table(ld, o, key);
    else {
      at_text(ld, key ? key : "thresholds", "thresholds");
      rc = fail(ld, "thresholds['%s'][%d] must be a string or {threshold = \"...\"}", key ? key : "?", i);
    }
    lua_pop(ld->L, 1);
  }
  return rc;
}

static int get_thresholds(loader *ld, int idx, options *o) {
  int rc = 0, t;
  lua_getfield(ld->L, idx, "thresholds");
  if (lua_isnil(ld->L, -1)) goto out;
  if (!lua_istable(ld->L, -1)) {
    rc = fail(ld, "option 'thresholds' must be a table like { [\"p99\"] = \"< 250ms\" }");
    goto out;
  }
  t = lua_gettop(ld->L);
  lua_pushnil(ld->L);
  while (rc == 0 && lua_next(ld->L, t)) {
    const char *key = lua_type(ld->L, -2) == LUA_TSTRING ? lua_tostring(ld->L, -2) : NULL;
    rc = threshold_value(ld, o, key);
    lua_pop(ld->L, 1);
  }
  if (rc) lua_pop(ld->L, 1); /* the key left by the interrupted lua_next */
out:
  lua_pop(ld->L, 1);
  return rc;
}

static int get_profiles(loader *ld, int idx, options *o) {
  int rc = 0, t;
  lua_getfield(ld->L, idx, "profile");
  if (lua_isnil(ld->L, -1)) goto out;
  if (!lua_istable(ld->L, -1)) {
    rc = fail(ld, "option 'profile' must be a list of {source=..., url=...}");
    goto out;
  }
  t = lua_gettop(ld->L);
  for (int i = 1; rc == 0; i++) {
    options_profile *p;
    lua_rawgeti(ld->L, t, i);
    if (lua_isnil(ld->L, -1)) {
      lua_pop(ld->L, 1);
      break;
    }
    if (!lua_istable(ld->L, -1) || o->nprofiles >= OPTIONS_MAX_PROFILES) {
      rc = fail(ld, "profile[%d] must be a table {source=\"pprof\", url=...}", i);
    } else {
      int e = lua_gettop(ld->L);
      p = &o->profiles[o->nprofiles++];
      snprintf(p->source, sizeof p->source, "pprof");
      snprintf(p->type, sizeof p->type, "cpu");
      p->window_ns = 0;
      rc = get_string(ld, e, "source", p->source, sizeof p->source);
      if (!rc && strcmp(p->source, "pprof") && strcmp(p->source, "command") && strcmp(p->source, "file")) {
        at_text(ld, p->source, "profile");
        rc = fail(ld,
                  "profile[%d]: unknown source '%s' (use \"pprof\", \"command\" or \"file\"; see "
                  "docs/profiling.md)",
                  i, p->source);
      }
      if (!rc) rc = get_string(ld, e, "type", p->type, sizeof p->type);
      if (!rc) rc = get_string(ld, e, "url", p->url, sizeof p->url);
      if (!rc && !p->url[0]) rc = get_string(ld, e, "command", p->url, sizeof p->url);
      if (!rc && !p->url[0]) rc = get_string(ld, e, "path", p->url, sizeof p->url);
      if (!rc) rc = get_duration(ld, e, "window", &p->window_ns);
      if (!rc && !p->window_ns) /* short pprof windows resolve bad seconds (docs/profiling.md) */
        p->window_ns = strcmp(p->source, "pprof") == 0 ? OPTIONS_PPROF_WINDOW_NS : OPTIONS_PROFILE_WINDOW_NS;
      if (!rc && !p->url[0]) rc = fail(ld, "profile[%d] needs url= (or command= / path=)", i);
      if (!rc && p->window_ns < CLOCK_NS_PER_S) rc = fail(ld, "profile[%d]: window must be at least 1s", i);
    }
    lua_pop(ld->L, 1);
  }
out:
  lua_pop(ld->L, 1);
  return rc;
}

static int get_think(loader *ld, int idx, options *o) {
  int rc = 0;
  lua_getfield(ld->L, idx, "think");
  if (lua_istable(ld->L, -1)) {
    int t = lua_gettop(ld->L);
    at_key(ld, "think");
    lua_rawgeti(ld->L, t, 1);
    if (lua_isnil(ld->L, -1)) lua_pop(ld->L, 1), lua_getfield(ld->L, t, "min");
    lua_rawgeti(ld->L, t, 2);
    if (lua_isnil(ld->L, -1)) lua_pop(ld->L, 1), lua_getfield(ld->L, t, "max");
    if (!lua_isnumber(ld->L, -2) || !lua_isnumber(ld->L, -1) || lua_tonumber(ld->L, -2) < 0 ||
        lua_tonumber(ld->L, -1) < lua_tonumber(ld->L, -2))
      rc = fail(ld, "option 'think' must be {min_seconds, max_seconds} or {min=, max=} with 0 <= min <= max");
    else
      o->think_min_ns = clock_s_to_ns(lua_tonumber(ld->L, -2)),
      o->think_max_ns = clock_s_to_ns(lua_tonumber(ld->L, -1));
    lua_pop(ld->L, 3);
    return rc;
  }
  lua_pop(ld->L, 1);
  rc = get_duration(ld, idx, "think", &o->think_min_ns);
  o->think_max_ns = o->think_min_ns;
  return rc;
}

static int get_http(loader *ld, int idx, options *o) {
  char mode[16] = "auto";
  int rc = get_string(ld, idx, "http", mode, sizeof mode);
  static const char *const modes[] = {"auto", "h1", "curl", "h2"}; /* enum http_backend's order */
  for (o->http_backend = 0; !rc && o->http_backend < 4; o->http_backend++)
    if (!strcmp(mode, modes[o->http_backend])) return 0;
  return rc ? rc : fail(ld, "option 'http' must be \"auto\", \"h1\", \"h2\" or \"curl\", not \"%s\"", mode);
}

/* A file option: a string naming a file this process can read. */
static int get_file(loader *ld, int idx, const char *key, char *out, size_t size) {
  int rc = get_string(ld, idx, key, out, size);
  if (rc || !out[0] || access(out, R_OK) == 0) return rc;
  return fail(ld, "option '%s': cannot read \"%s\" (%s)", key, out, strerror(errno));
}

static int get_tls(loader *ld, int idx, options *o) {
  int rc = get_file(ld, idx, "tls_ca_file", o->tls_ca_file, sizeof o->tls_ca_file);
  if (!rc) rc = get_file(ld, idx, "tls_cert_file", o->tls_cert_file, sizeof o->tls_cert_file);
  if (!rc) rc = get_file(ld, idx, "tls_key_file", o->tls_key_file, sizeof o->tls_key_file);
  if (!rc && o->tls_key_file[0] && !o->tls_cert_file[0])
    rc = fail(ld, "option 'tls_key_file' needs 'tls_cert_file' (the client certificate it belongs to)");
  return rc;
}

static void set_defaults(options *o, const char *chunk) {
  const char *base = strrchr(chunk, '/');
  memset(o, 0, sizeof *o);
  snprintf(o->name, sizeof o->name, "%s", base ? base + 1 : chunk);
  if (strlen(o->name) > 4 && !strcmp(o->name + strlen(o->name) - 4, ".lua"))
    o->name[strlen(o->name) - 4] = '\0';
  snprintf(o->target, sizeof o->target, "http://127.0.0.1:8080");
  o->users = 1;
  o->duration_ns = 10 * CLOCK_NS_PER_S;
  o->timeout_ns = 30000000000LL;
  o->interval_ns = CLOCK_NS_PER_S;
  o->max_body = 1 << 20;
}

/* start_users / start_rate (k6's startVUs / startRate): where the first stage ramps from, as a
 * zero-length first stage (a jump). Only with stages, and only the one of the stages' model. */
static int get_start(loader *ld, int t, options *o) {
  double users = -1, rate = -1;
  int rc = get_number(ld, t, "start_users", &users);
  if (!rc) rc = get_number(ld, t, "start_rate", &rate);
  if (rc || (users < 0 && rate < 0)) return rc;
  const char *key = users >= 0 ? "start_users" : "start_rate";
  if (users >= 0 && rate >= 0)
    return fail(ld, "set start_users (closed model) or start_rate (open model), not both");
  if (o->nstages == 0) return fail(ld, "option '%s' is where stages start from: it needs stages=", key);
  if ((rate >= 0) != (o->model == OPTIONS_OPEN))
    return fail(ld, "option '%s' does not fit the stages' model (%s): use %s", key,
                o->model == OPTIONS_OPEN ? "open, rate=" : "closed, users=",
                o->model == OPTIONS_OPEN ? "start_rate" : "start_users");
  if (o->nstages >= OPTIONS_MAX_STAGES)
    return fail(ld, "option '%s' takes a stage: at most %d stages with it", key, OPTIONS_MAX_STAGES - 1);
  memmove(o->stages + 1, o->stages, o->nstages * sizeof *o->stages);
  o->stages[0] = (options_stage){.duration_ns = 0, .target = users >= 0 ? users : rate};
  o->nstages++;
  return 0;
}

static int read_scalars(loader *ld, int t, options *o) {
  double max_vus = -1, max_body = -1, rate = -1, max_redirects = -1, pre_vus = -1, h2_conns = -1;
  int rc = check_keys(ld, t);
  if (!rc) rc = get_string(ld, t, "name", o->name, sizeof o->name);
  if (!rc) rc = get_string(ld, t, "target", o->target, sizeof o->target);
  if (!rc) rc = get_number(ld, t, "users", &o->users);
  if (!rc) rc = get_number(ld, t, "spawn_rate", &o->spawn_rate);
  if (!rc) rc = get_number(ld, t, "rate", &rate);
  if (!rc) rc = get_number(ld, t, "max_vus", &max_vus);
  if (!rc) rc = get_number(ld, t, "pre_allocated_vus", &pre_vus);
  if (!rc) rc = get_number(ld, t, "max_body", &max_body);
  if (!rc) rc = get_number(ld, t, "max_redirects", &max_redirects);
  if (!rc) rc = get_number(ld, t, "h2_connections", &h2_conns);
  if (!rc) rc = get_duration(ld, t, "duration", &o->duration_ns);
  if (!rc) rc = get_duration(ld, t, "timeout", &o->timeout_ns);
  if (!rc) rc = get_duration(ld, t, "interval", &o->interval_ns);
  if (rc) return rc;
  if (rate >= 0) o->model = OPTIONS_OPEN, o->rate = rate;
  if (max_vus > OPTIONS_MAX_VUS || pre_vus > OPTIONS_MAX_VUS || max_body > OPTIONS_MAX_BODY) /* int64 UB */
    return fail(ld, "options 'max_vus' and 'pre_allocated_vus' must be at most %d, 'max_body' at most %.0f",
                OPTIONS_MAX_VUS, OPTIONS_MAX_BODY);
  if (max_vus >= 0) o->max_vus = (int64_t)max_vus;
  o->pre_vus = pre_vus >= 0 ? (int64_t)pre_vus : -1;
  if (max_body >= 0) o->max_body = (int64_t)max_body;
  if (max_redirects > OPTIONS_MAX_REDIRECTS)
    return fail(ld, "option 'max_redirects' must be at most %d (got %g)", OPTIONS_MAX_REDIRECTS,
                max_redirects);
  if (max_redirects >= 0) o->max_redirects = (int64_t)max_redirects;
  if (h2_conns != -1 &&
      (h2_conns < 1 || h2_conns > OPTIONS_MAX_H2_CONNECTIONS || h2_conns != floor(h2_conns)))
    return fail(ld, "option 'h2_connections' must be a whole number from 1 to %d (got %g)",
                OPTIONS_MAX_H2_CONNECTIONS, h2_conns);
  o->h2_connections = h2_conns > 0 ? (int)h2_conns : 1;
  lua_getfield(ld->L, t, "insecure_tls");
  o->insecure_tls = lua_toboolean(ld->L, -1);
  lua_pop(ld->L, 1);
  secret_add_url(o->target); /* a user:password in the target never reaches a file or a log */
  if (strncmp(o->target, "http://", 7) && strncmp(o->target, "https://", 8))
    return fail(ld, "option 'target' must start with http:// or https:// (got \"%s\")", o->target);
  if (o->interval_ns < 100 * CLOCK_NS_PER_MS) return fail(ld, "option 'interval' must be at least 100ms");
  return 0;
}

/* options.scenarios: the run's length and the exec functions (common/scenarios.h). */
static int finish_scenarios(loader *ld, options *o) {
  char why[256];
  const char *key = "scenarios";
  if (scenarios_finish(ld->L, o, why, sizeof why, &key) == 0) return 0;
  at_key(ld, key);
  return fail(ld, "%s", why);
}

static int finish(loader *ld, options *o) {
  double peak = o->model == OPTIONS_OPEN ? o->rate : o->users;
  if (o->nstages > 0) {
    o->duration_ns = 0;
    for (size_t i = 0; i < o->nstages; i++) {
      o->duration_ns += o->stages[i].duration_ns;
      if (o->stages[i].target > peak) peak = o->stages[i].target;
    }
  }
  if (o->duration_ns <= 0) return fail(ld, "the run has no duration (set duration= or stages=)");
  if (o->model == OPTIONS_OPEN && o->max_vus <= 0) { /* the peak, at most an explicit max_vus's bound */
    o->max_vus = peak > 100 ? (int64_t)ceil(fmin(peak, OPTIONS_MAX_VUS)) : 100;
    if (o->pre_vus > o->max_vus) o->max_vus = o->pre_vus; /* like k6: maxVUs defaults up to preAllocatedVUs */
  }
  if (o->model == OPTIONS_OPEN && o->pre_vus > o->max_vus)
    return fail(ld, "option 'pre_allocated_vus' (%lld) must not exceed max_vus (%lld)", (long long)o->pre_vus,
                (long long)o->max_vus);
  if (o->pre_vus < 0) { /* 10 ms of arrivals at the peak rate: enough that the start does not stall */
    double ten_ms = fmax(1, ceil(peak / 100.0)); /* a double until bounded: the peak may be beyond int64 */
    o->pre_vus = o->model != OPTIONS_OPEN ? 0 : ten_ms > (double)o->max_vus ? o->max_vus : (int64_t)ten_ms;
  }
  if (o->ntasks == 0)
    return fail(ld, "no tasks: declare at least one with task(weight, function(vu) ... end)");
  return 0;
}

/* http.* or sleep() at the top level: the message names the scenario's line, not the prelude's. */
static int refuse(lua_State *L) {
  lua_Debug ar;
  int top = lua_gettop(L);
  for (int level = 1; lua_getstack(L, level, &ar); level++) {
    if (lua_getinfo(L, "Sl", &ar) && ar.source[0] == '@' && ar.currentline > 0) {
      lua_pushfstring(L, "%s:%d: ", ar.short_src, ar.currentline);
      break;
    }
  }
  if (lua_gettop(L) == top) lua_pushliteral(L, "");
  lua_pushliteral(L,
                  "http.*, sleep() and think() cannot run while the scenario is loading; call them "
                  "inside a task, on_start or on_stop");
  lua_concat(L, 2);
  return lua_error(L);
}

static int quiet(lua_State *L) {
  (void)L;
  return 0;
}

/* The values of `--secret` variables the CLI shipped with the scenario (__loadctl_secret names them,
 * __loadctl_env holds them) become secrets of this process, master or worker (common/secret.h). */
static void register_secrets(lua_State *L) {
  lua_getglobal(L, "__loadctl_secret");
  lua_getglobal(L, "__loadctl_env");
  if (lua_istable(L, -2) && lua_istable(L, -1)) {
    lua_pushnil(L);
    while (lua_next(L, -3)) {
      lua_pop(L, 1);
      lua_pushvalue(L, -1);
      lua_gettable(L, -3);
      if (lua_type(L, -1) == LUA_TSTRING) secret_add(lua_tostring(L, -1));
      lua_pop(L, 1);
    }
  }
  lua_pop(L, 2);
}

static int run_chunk(loader *ld, const char *source, size_t len, options *out) {
  char dir[1024], chunkname[1100];
  lua_State *L = ld->L;
  prelude_dirname(ld->chunk, dir, sizeof dir);
  lua_register(L, "__send", refuse);
  lua_register(L, "__sleep", refuse);
  lua_register(L, "__check", quiet);
  lua_register(L, "__log", quiet);
  if (prelude_open(L, dir, 0, ld->err, ld->errlen) != 0) return -EINVAL;
  snprintf(chunkname, sizeof chunkname, "@%s", ld->chunk);
  if (luaL_loadbuffer(L, source, len, chunkname) || lua_pcall(L, 0, 0, 0)) {
    snprintf(ld->err, ld->errlen, "%s", lua_tostring(L, -1));
    return -EINVAL;
  }
  register_secrets(L);
  lua_getglobal(L, "__options_line");
  ld->line = ld->assign_line = (int)lua_tointeger(L, -1);
  lua_pop(L, 1);
  set_defaults(out, ld->chunk);
  lua_getglobal(L, "__tasks");
  out->ntasks = lua_objlen(L, -1);
  lua_pop(L, 1);
  lua_getglobal(L, "options");
  if (lua_isnil(L, -1)) {
    lua_pop(L, 1);
    return finish(ld, out); /* all defaults */
  }
  if (!lua_istable(L, -1)) return fail(ld, "`options` must be a table, not a %s", luaL_typename(L, -1));
  return 0;
}

int options_load_source(const char *chunkname, const char *source, size_t len, options *out, char *err,
                        size_t errlen) {
  loader ld = {.chunk = chunkname ? chunkname : "scenario",
               .source = source,
               .len = len,
               .err = err,
               .errlen = errlen};
  options tmp;
  char why[256];
  const char *tag_key = "tags";
  const char *key = "scenarios";
  int rc, t;

  if (!source || !out || !err || errlen == 0) return -EINVAL;
  err[0] = '\0';
  ld.L = luaL_newstate();
  if (!ld.L) return -ENOMEM;
  rc = run_chunk(&ld, source, len, &tmp);
  if (rc || lua_gettop(ld.L) == 0) goto out;
  t = lua_gettop(ld.L);
  rc = read_scalars(&ld, t, &tmp);
  if (!rc) rc = get_stages(&ld, t, &tmp);
  if (!rc) rc = get_start(&ld, t, &tmp);
  if (!rc) rc = get_thresholds(&ld, t, &tmp);
  if (!rc) rc = get_profiles(&ld, t, &tmp);
  if (!rc) rc = get_think(&ld, t, &tmp);
  if (!rc) rc = get_http(&ld, t, &tmp);
  if (!rc) rc = get_tls(&ld, t, &tmp);
  if (!rc && scenarios_read(ld.L, t, &tmp, why, sizeof why, &key) < 0) {
    at_key(&ld, key);
    rc = fail(&ld, "%s", why);
  }
  if (!rc && !tmp.nscenarios && k6exec_read(ld.L, t, &tmp, why, sizeof why) < 0) {
    at_key(&ld, "executor");
    rc = fail(&ld, "%s", why);
  }
  if (!rc && tagset_read_options(ld.L, t, &tag_key, why, sizeof why) < 0) { /* options.tags, scenarios' */
    at_key(&ld, tag_key);
    rc = fail(&ld, "option '%s': %s", tag_key, why);
  }
  if (!rc) rc = tmp.nscenarios ? finish_scenarios(&ld, &tmp) : finish(&ld, &tmp);
out:
  lua_close(ld.L);
  if (rc == 0) *out = tmp;
  return rc;
}

int options_load_file(const char *path, options *out, char *err, size_t errlen) {
  FILE *f;
  char *buf = NULL;
  long size;
  int rc = -EIO;

  if (!path) return -EINVAL;
  f = fopen(path, "rb");
  if (!f) {
    rc = -errno;
    snprintf(err, errlen, "%s: cannot open scenario: %s", path, strerror(errno));
    return rc;
  }
  if (fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 0 || size > (4L << 20) ||
      fseek(f, 0, SEEK_SET) != 0) {
    snprintf(err, errlen, "%s: cannot read scenario (unreadable or over 4 MiB)", path);
    goto out;
  }
  buf = malloc((size_t)size + 1);
  if (!buf || fread(buf, 1, (size_t)size, f) != (size_t)size) {
    snprintf(err, errlen, "%s: cannot read scenario", path);
    goto out;
  }
  rc = options_load_source(path, buf, (size_t)size, out, err, errlen);
out:
  free(buf);
  fclose(f);
  return rc;
}
