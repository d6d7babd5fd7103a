/* scenarios.c - options.scenarios read and checked the way k6 spells them, and each worker's exact part
 * of every scenario (see scenarios.h). */
#include "common/scenarios.h"

#include <ctype.h>
#include <errno.h>
#include <lauxlib.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "common/clock.h"
#include "common/k6exec.h"

enum { CONST_VUS, RAMP_VUS, CONST_RATE, RAMP_RATE, SHARED, PER_VU, NEXEC };

static const char *const exec_names[NEXEC] = {"constant-vus",          "ramping-vus",
                                              "constant-arrival-rate", "ramping-arrival-rate",
                                              "shared-iterations",     "per-vu-iterations"};

/* The keys of a scenario entry (k6's spelling, and ours where the top level has one), and the
 * executors each belongs to (bit i = exec_names[i]). */
#define ALL 0x3f
#define K(i) (1 << (i))
static const struct {
  const char *name, *alias;
  int executors;
} keys[] = {
    {"executor", NULL, ALL},
    {"exec", NULL, ALL},
    {"startTime", "start_time", ALL},
    {"tags", NULL, ALL},
    {"env", NULL, ALL},
    {"vus", NULL, K(CONST_VUS) | K(SHARED) | K(PER_VU)},
    {"duration", NULL, K(CONST_VUS) | K(CONST_RATE)},
    {"iterations", NULL, K(SHARED) | K(PER_VU)},
    {"maxDuration", "max_duration", K(SHARED) | K(PER_VU)},
    {"stages", NULL, K(RAMP_VUS) | K(RAMP_RATE)},
    {"startVUs", "start_vus", K(RAMP_VUS)},
    {"rate", NULL, K(CONST_RATE)},
    {"startRate", "start_rate", K(RAMP_RATE)},
    {"timeUnit", "time_unit", K(CONST_RATE) | K(RAMP_RATE)},
    {"preAllocatedVUs", "pre_allocated_vus", K(CONST_RATE) | K(RAMP_RATE)},
    {"maxVUs", "max_vus", K(CONST_RATE) | K(RAMP_RATE)},
};

/* Top-level keys that describe the load: with options.scenarios each scenario says its own. */
static const char *const load_keys[] = {"users",      "rate",        "stages",     "duration",
                                        "spawn_rate", "max_vus",     "executor",   "vus",
                                        "iterations", "start_users", "start_rate", "pre_allocated_vus"};

typedef struct reader {
  lua_State *L;
  int t; /* the scenario's table */
  const char *name;
  char *why;
  size_t len;
  const char **key;
} reader;

static int bad(reader *r, const char *key, const char *fmt, const char *detail) {
  char text[160];
  snprintf(text, sizeof text, fmt, detail);
  snprintf(r->why, r->len, "scenario '%s': %s", r->name, text);
  *r->key = key;
  return -EINVAL;
}

/* The value of key (or its alias) pushed on the stack; returns the spelling found, NULL when absent. */
static const char *get(reader *r, const char *key) {
  for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
    if (strcmp(keys[i].name, key)) continue;
    lua_getfield(r->L, r->t, key);
    if (!lua_isnil(r->L, -1)) return key;
    lua_pop(r->L, 1);
    if (!keys[i].alias) break;
    lua_getfield(r->L, r->t, keys[i].alias);
    if (!lua_isnil(r->L, -1)) return keys[i].alias;
    lua_pop(r->L, 1);
    break;
  }
  return NULL;
}

/* A duration (string or seconds) at key into *out; absent leaves *out. */
static int duration(reader *r, const char *key, int64_t *out) {
  const char *k = get(r, key);
  int rc = 0;
  if (!k) return 0;
  if (lua_type(r->L, -1) == LUA_TNUMBER && lua_tonumber(r->L, -1) >= 0 && lua_tonumber(r->L, -1) < 9e9)
    *out = (int64_t)llround(lua_tonumber(r->L, -1) * 1e9);
  else if (lua_type(r->L, -1) != LUA_TSTRING || clock_parse_duration(lua_tostring(r->L, -1), out) != 0)
    rc = bad(r, k, "'%s' must be a duration such as \"30s\" or \"1m30s\"", k);
  lua_pop(r->L, 1);
  return rc;
}

/* A number >= 0 at key into *out (whole: a whole number); absent leaves *out. */
static int number(reader *r, const char *key, int whole, double *out) {
  const char *k = get(r, key);
  double v;
  if (!k) return 0;
  v = lua_type(r->L, -1) == LUA_TNUMBER ? lua_tonumber(r->L, -1) : -1;
  lua_pop(r->L, 1);
  if (!(v >= 0 && v < 1e12) || (whole && v != floor(v)))
    return bad(r, k, whole ? "'%s' must be a whole number >= 0" : "'%s' must be a number >= 0", k);
  *out = v;
  return 0;
}

static int string(reader *r, const char *key, char *out, size_t size) {
  const char *k = get(r, key);
  int rc = 0;
  if (!k) return 0;
  if (lua_type(r->L, -1) != LUA_TSTRING || lua_objlen(r->L, -1) == 0 || lua_objlen(r->L, -1) >= size)
    rc = bad(r, k, "'%s' must be a non-empty string (a name)", k);
  else
    snprintf(out, size, "%s", lua_tostring(r->L, -1));
  lua_pop(r->L, 1);
  return rc;
}

/* tags and env: tables of string keys and string (env: or number) values. */
static int string_table(reader *r, const char *key) {
  int rc = 0;
  if (!get(r, key)) return 0;
  if (!lua_istable(r->L, -1)) {
    lua_pop(r->L, 1);
    return bad(r, key, "'%s' must be a table of names to strings", key);
  }
  lua_pushnil(r->L);
  while (rc == 0 && lua_next(r->L, -2)) {
    int vt = lua_type(r->L, -1);
    if (lua_type(r->L, -2) != LUA_TSTRING || !(vt == LUA_TSTRING || (vt == LUA_TNUMBER && key[0] == 'e'))) {
      rc = bad(r, key, "'%s' must be a table of names to strings", key);
      lua_pop(r->L, 1);
    }
    lua_pop(r->L, 1);
  }
  lua_pop(r->L, 1);
  return rc;
}

/* Every key of the entry exists and belongs to its executor. */
static int check_keys(reader *r, int ex) {
  lua_pushnil(r->L);
  while (lua_next(r->L, r->t)) {
    const char *k = lua_type(r->L, -2) == LUA_TSTRING ? lua_tostring(r->L, -2) : "?";
    size_t i;
    lua_pop(r->L, 1);
    for (i = 0; i < sizeof keys / sizeof keys[0]; i++)
      if (!strcmp(k, keys[i].name) || (keys[i].alias && !strcmp(k, keys[i].alias))) break;
    if (i == sizeof keys / sizeof keys[0] || !(keys[i].executors & K(ex))) {
      int rc = i == sizeof keys / sizeof keys[0] ? bad(r, r->name, "unknown key '%s'", k)
                                                 : bad(r, r->name, "executor %s", exec_names[ex]);
      if (i < sizeof keys / sizeof keys[0]) {
        size_t used = strlen(r->why);
        snprintf(r->why + used, r->len - used, " takes no '%s'", k);
      }
      lua_pop(r->L, 1);
      return rc;
    }
  }
  return 0;
}

/* One stage {duration = "30s", target = N} at the stack top into st (target scaled by per_s). */
static int stage(reader *r, options_stage *st, double per_s) {
  int64_t ns = -1;
  double target = -1;
  if (lua_istable(r->L, -1)) {
    lua_getfield(r->L, -1, "target");
    if (lua_type(r->L, -1) == LUA_TNUMBER) target = lua_tonumber(r->L, -1);
    lua_getfield(r->L, -2, "duration");
    if (lua_type(r->L, -1) == LUA_TSTRING && clock_parse_duration(lua_tostring(r->L, -1), &ns) != 0) ns = -1;
    if (lua_type(r->L, -1) == LUA_TNUMBER && lua_tonumber(r->L, -1) >= 0)
      ns = (int64_t)llround(lua_tonumber(r->L, -1) * (double)CLOCK_NS_PER_S);
    lua_pop(r->L, 2);
  }
  if (!(target >= 0) || ns < 0)
    return bad(r, "stages", "%s", "each stage is {duration = \"30s\", target = N} with N >= 0");
  *st = (options_stage){.duration_ns = ns, .target = target * per_s};
  return 0;
}

/* stages = { {duration = "30s", target = N}, ... } appended to sc. */
static int stages(reader *r, options_scenario *sc, double per_s) {
  int rc = 0;
  if (!get(r, "stages") || !lua_istable(r->L, -1)) {
    if (lua_gettop(r->L) > r->t) lua_pop(r->L, 1);
    return bad(r, r->name, "%s needs stages = { {duration = \"30s\", target = 10}, ... }", sc->executor);
  }
  for (int i = 1; rc == 0; i++) {
    lua_rawgeti(r->L, -1, i);
    if (lua_isnil(r->L, -1)) {
      lua_pop(r->L, 1);
      break;
    }
    if (sc->nstages >= OPTIONS_MAX_STAGES)
      rc = bad(r, "stages", "more than %s stages", "63");
    else
      rc = stage(r, &sc->stages[sc->nstages++], per_s);
    lua_pop(r->L, 1);
  }
  lua_pop(r->L, 1);
  if (rc == 0 && sc->nstages < 2) rc = bad(r, "stages", "%s", "stages must list at least one stage");
  return rc;
}

/* A constant shape: target for the duration after an instant start. */
static int constant(reader *r, options_scenario *sc, double target, int64_t ns) {
  if (ns <= 0) return bad(r, r->name, "%s needs a duration above 0", sc->executor);
  sc->stages[0] = (options_stage){.duration_ns = 0, .target = target};
  sc->stages[1] = (options_stage){.duration_ns = ns, .target = target};
  sc->nstages = 2;
  return 0;
}

/* The open model's pool: k6's preAllocatedVUs and maxVUs, with loadctl's defaults (options.h). */
static int pool(reader *r, options_scenario *sc) {
  double pre = -1, max = -1, peak = 0;
  int rc = number(r, "preAllocatedVUs", 1, &pre);
  if (!rc) rc = number(r, "maxVUs", 1, &max);
  for (size_t i = 0; i < sc->nstages; i++)
    if (sc->stages[i].target > peak) peak = sc->stages[i].target;
  peak = fmin(peak, OPTIONS_MAX_VUS); /* a rate per timeUnit may be beyond int64 per second */
  sc->max_vus = max >= 1 ? (int64_t)max : peak > 100 ? (int64_t)ceil(peak) : 100;
  if (max < 1 && pre > (double)sc->max_vus) sc->max_vus = (int64_t)pre;
  sc->pre_vus = pre >= 0 ? (int64_t)pre : (int64_t)ceil(peak / 100.0);
  if (sc->pre_vus < 1 && pre < 0) sc->pre_vus = 1;
  if (sc->pre_vus > sc->max_vus) {
    if (pre >= 0) return bad(r, "preAllocatedVUs", "%s", "preAllocatedVUs must not exceed maxVUs");
    sc->pre_vus = sc->max_vus;
  }
  return rc;
}

/* The load shape of executor ex into sc. */
static int shape(reader *r, int ex, options_scenario *sc) {
  double vus = 1, it = 1, rate = -1, start = ex == RAMP_VUS ? 1 : 0;
  int64_t ns = 0, unit = CLOCK_NS_PER_S;
  int rc = number(r, "vus", 1, &vus);
  if (!rc) rc = number(r, "iterations", 1, &it);
  if (!rc) rc = number(r, ex == RAMP_VUS ? "startVUs" : "startRate", ex == RAMP_VUS, &start);
  if (!rc) rc = number(r, "rate", 0, &rate);
  if (!rc) rc = duration(r, "duration", &ns);
  if (!rc) rc = duration(r, "timeUnit", &unit);
  if (rc) return rc;
  if (unit <= 0) return bad(r, "timeUnit", "%s", "timeUnit must be above 0");
  sc->model = ex == CONST_RATE || ex == RAMP_RATE ? OPTIONS_OPEN : OPTIONS_CLOSED;
  if (ex == CONST_VUS) return constant(r, sc, vus, ns);
  if (ex == CONST_RATE) {
    if (rate < 0) return bad(r, r->name, "%s needs rate = iterations per timeUnit", sc->executor);
    rc = constant(r, sc, rate * (double)CLOCK_NS_PER_S / (double)unit, ns);
    return rc ? rc : pool(r, sc);
  }
  if (ex == RAMP_VUS || ex == RAMP_RATE) {
    double per_s = ex == RAMP_RATE ? (double)CLOCK_NS_PER_S / (double)unit : 1;
    sc->stages[0] = (options_stage){.duration_ns = 0, .target = start * per_s};
    sc->nstages = 1;
    rc = stages(r, sc, per_s);
    return rc || ex == RAMP_VUS ? rc : pool(r, sc);
  }
  if (vus < 1 || it < 1)
    return bad(r, vus < 1 ? "vus" : "iterations", "%s needs vus and iterations >= 1", sc->executor);
  ns = K6EXEC_MAX_DURATION_NS;
  if ((rc = duration(r, "maxDuration", &ns)) != 0) return rc;
  sc->vus = vus;
  sc->iterations = (int64_t)it;
  sc->iterations_per_vu = ex == PER_VU;
  return constant(r, sc, vus, ns);
}

/* The scenario entry at the stack top, named name. */
static int one(reader *r, options_scenario *sc) {
  char executor[32] = "";
  int ex, rc;
  snprintf(sc->name, sizeof sc->name, "%s", r->name);
  if ((rc = string(r, "executor", executor, sizeof executor)) != 0) return rc;
  for (ex = 0; ex < NEXEC && strcmp(executor, exec_names[ex]); ex++) {
  }
  if (ex == NEXEC)
    return bad(
        r, r->name,
        "executor must be one of constant-vus, ramping-vus, constant-arrival-rate, ramping-arrival-rate, "
        "shared-iterations, per-vu-iterations (got '%s')",
        executor);
  snprintf(sc->executor, sizeof sc->executor, "%s", executor);
  rc = check_keys(r, ex);
  if (!rc) rc = string(r, "exec", sc->exec, sizeof sc->exec);
  if (!rc) rc = duration(r, "startTime", &sc->start_ns);
  if (!rc) rc = string_table(r, "tags");
  if (!rc) rc = string_table(r, "env");
  if (!rc) rc = shape(r, ex, sc);
  if (rc) return rc;
  if (sc->model == OPTIONS_CLOSED && sc->vus == 0) sc->vus = sc->stages[sc->nstages - 1].target;
  sc->duration_ns = 0;
  for (size_t i = 0; i < sc->nstages; i++) sc->duration_ns += sc->stages[i].duration_ns;
  return 0;
}

static int valid_name(const char *name) {
  size_t n = strlen(name);
  if (n == 0 || n >= 64) return 0;
  for (size_t i = 0; i < n; i++)
    if (!isalnum((unsigned char)name[i]) && name[i] != '_' && name[i] != '-') return 0;
  return 1;
}

/* Entries sorted by name, so every process (master, workers, check) numbers them alike. */
static void sort_by_name(options *o) {
  for (size_t i = 1; i < o->nscenarios; i++)
    for (size_t j = i; j > 0 && strcmp(o->scenarios[j - 1].name, o->scenarios[j].name) > 0; j--) {
      options_scenario tmp = o->scenarios[j];
      o->scenarios[j] = o->scenarios[j - 1];
      o->scenarios[j - 1] = tmp;
    }
}

static int refuse_load_keys(lua_State *L, int t, char *why, size_t len, const char **key) {
  for (size_t i = 0; i < sizeof load_keys / sizeof load_keys[0]; i++) {
    lua_getfield(L, t, load_keys[i]);
    int set = !lua_isnil(L, -1);
    lua_pop(L, 1);
    if (!set) continue;
    snprintf(why, len,
             "option '%s' is the single-scenario shorthand: with options.scenarios each scenario "
             "sets its own load",
             load_keys[i]);
    *key = load_keys[i];
    return -EINVAL;
  }
  return 0;
}

int scenarios_read(lua_State *L, int t, options *o, char *why, size_t len, const char **key) {
  int rc = 0;
  reader r = {.L = L, .why = why, .len = len, .key = key};
  o->nscenarios = 0;
  lua_getfield(L, t, "scenarios");
  if (lua_isnil(L, -1)) goto out;
  *key = "scenarios";
  if (!lua_istable(L, -1) || (rc = refuse_load_keys(L, t, why, len, key)) != 0) {
    if (!rc) snprintf(why, len, "option 'scenarios' must be a table { name = {executor = ...}, ... }");
    rc = -EINVAL;
    goto out;
  }
  lua_pushnil(L);
  while (rc == 0 && lua_next(L, -2)) {
    r.name = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : "?";
    r.t = lua_gettop(L);
    if (!valid_name(r.name))
      rc = bad(&r, "scenarios", "%s", "a scenario's name is 1 to 63 letters, digits, _ or -");
    else if (!lua_istable(L, -1))
      rc = bad(&r, r.name, "%s", "must be a table {executor = ..., ...}");
    else if (o->nscenarios >= OPTIONS_MAX_SCENARIOS)
      rc = bad(&r, r.name, "more than %s scenarios", "16");
    else
      rc = one(&r, &o->scenarios[o->nscenarios++]);
    lua_pop(L, rc ? 2 : 1);
  }
  if (rc == 0 && o->nscenarios == 0) snprintf(why, len, "option 'scenarios' lists no scenario"), rc = -EINVAL;
  sort_by_name(o);
  lua_pop(L, 1);
  return rc;
out:
  lua_pop(L, 1);
  return rc;
}

int scenarios_finish(lua_State *L, options *o, char *why, size_t len, const char **key) {
  o->users = 0;
  o->pre_vus = 0;
  o->duration_ns = 0;
  for (size_t i = 0; i < o->nscenarios; i++)
    if (o->scenarios[i].start_ns + o->scenarios[i].duration_ns > o->duration_ns)
      o->duration_ns = o->scenarios[i].start_ns + o->scenarios[i].duration_ns;
  for (size_t i = 0; i < o->nscenarios; i++) {
    const options_scenario *sc = &o->scenarios[i];
    *key = sc->exec[0] ? "exec" : sc->name;
    if (!sc->exec[0] && o->ntasks == 0) {
      snprintf(why, len, "scenario '%s' has no exec function and the file declares no task()", sc->name);
      return -EINVAL;
    }
    if (!sc->exec[0]) continue;
    lua_getglobal(L, sc->exec);
    int ok = lua_isfunction(L, -1);
    lua_pop(L, 1);
    if (!ok) {
      snprintf(why, len,
               "scenario '%s': exec = \"%s\" names no global function (define function %s(vu, data))",
               sc->name, sc->exec, sc->exec);
      return -EINVAL;
    }
  }
  return 0;
}

int64_t scenarios_before(int64_t total, scenarios_slice s) {
  if (s.wsum <= 0) return 0;
  return (total / s.wsum) * s.before + ((total % s.wsum) * s.before) / s.wsum;
}

int64_t scenarios_part(int64_t total, scenarios_slice s) {
  scenarios_slice end = {.before = s.before + s.weight, .wsum = s.wsum};
  if (s.wsum <= 0) return total;
  return scenarios_before(total, end) - scenarios_before(total, s);
}

/* A stage target's part: users whole, rates in hundredths. */
static double target_part(double target, int open, scenarios_slice s) {
  if (open) return (double)scenarios_part(llround(target * 100.0), s) / 100.0;
  return (double)scenarios_part(llround(target), s);
}

void scenarios_share_of(const options_scenario *sc, scenarios_slice s, scenarios_share *out) {
  int open = sc->model == OPTIONS_OPEN;
  memset(out, 0, sizeof *out);
  out->nstages = sc->nstages;
  for (size_t i = 0; i < sc->nstages; i++) {
    out->stages[i].duration_ns = sc->stages[i].duration_ns;
    out->stages[i].target = target_part(sc->stages[i].target, open, s);
    if (!open && out->stages[i].target > (double)out->peak) out->peak = (int64_t)out->stages[i].target;
  }
  if (open) {
    out->max_vus = scenarios_part(sc->max_vus, s);
    if (out->max_vus < 1) out->max_vus = 1; /* a rate's hundredths may land where no whole VU does */
    out->pre_vus = scenarios_part(sc->pre_vus, s);
    out->peak = out->max_vus;
  }
  out->vus_before = scenarios_before(llround(sc->vus), s);
}

int64_t scenarios_peak(const options *o, scenarios_slice s) {
  int64_t sum = 0;
  for (size_t i = 0; i < o->nscenarios; i++) {
    scenarios_share sh;
    scenarios_share_of(&o->scenarios[i], s, &sh);
    sum += sh.peak;
  }
  return sum;
}
