/* k6exec.c - k6's executor names on top of loadctl's closed and open models, and the count executors. */
#include "common/k6exec.h"

#include <errno.h>
#include <lauxlib.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

enum {
  EX_NONE = 0,
  EX_CONSTANT_VUS,
  EX_RAMPING_VUS,
  EX_CONSTANT_RATE,
  EX_RAMPING_RATE,
  EX_SHARED,
  EX_PER_VU
};

static const char *const names[] = {"",
                                    "constant-vus",
                                    "ramping-vus",
                                    "constant-arrival-rate",
                                    "ramping-arrival-rate",
                                    "shared-iterations",
                                    "per-vu-iterations"};

static int lookup(const char *name) {
  for (int i = EX_CONSTANT_VUS; i <= EX_PER_VU; i++)
    if (!strcmp(names[i], name)) return i;
  return -1;
}

/* A whole number >= 1 at key, or -1 when absent; -2 when present but not one. */
static double whole(lua_State *L, int t, const char *key) {
  double v;
  lua_getfield(L, t, key);
  v = lua_isnil(L, -1) ? -1 : lua_type(L, -1) == LUA_TNUMBER ? lua_tonumber(L, -1) : -2;
  lua_pop(L, 1);
  return v == -1 || (v >= 1 && v == floor(v) && v < 1e12) ? v : -2;
}

static int present(lua_State *L, int t, const char *key) {
  int yes;
  lua_getfield(L, t, key);
  yes = !lua_isnil(L, -1);
  lua_pop(L, 1);
  return yes;
}

/* The executor's name (EX_NONE when absent), or -1 with why set. */
static int read_name(lua_State *L, int t, char *why, size_t len) {
  int ex = EX_NONE;
  lua_getfield(L, t, "executor");
  if (lua_type(L, -1) == LUA_TSTRING && (ex = lookup(lua_tostring(L, -1))) < 0)
    snprintf(why, len,
             "unknown executor '%s' (use constant-vus, ramping-vus, constant-arrival-rate, "
             "ramping-arrival-rate, shared-iterations or per-vu-iterations)",
             lua_tostring(L, -1));
  else if (!lua_isnil(L, -1) && lua_type(L, -1) != LUA_TSTRING)
    ex = -1, snprintf(why, len, "option 'executor' must be a string such as \"shared-iterations\"");
  lua_pop(L, 1);
  return ex;
}

/* Does the executor's name fit the model and stages the options describe? */
static int fits(int ex, const options *o, char *why, size_t len) {
  int open = o->model == OPTIONS_OPEN, staged = o->nstages > 0;
  static const char *const need[] = {"",
                                     "users (or vus) and duration, no stages",
                                     "stages of users",
                                     "rate and duration, no stages",
                                     "stages of rates",
                                     "vus (or users) and iterations, no rate or stages",
                                     "vus (or users) and iterations, no rate or stages"};
  int ok = ex == EX_NONE || (ex == EX_CONSTANT_VUS && !open && !staged) ||
           (ex == EX_RAMPING_VUS && !open && staged) || (ex == EX_CONSTANT_RATE && open && !staged) ||
           (ex == EX_RAMPING_RATE && open && staged) ||
           ((ex == EX_SHARED || ex == EX_PER_VU) && !open && !staged);
  if (!ok) snprintf(why, len, "executor '%s' takes %s", names[ex], need[ex]);
  return ok ? 0 : -EINVAL;
}

int k6exec_read(lua_State *L, int t, options *o, char *why, size_t len) {
  int ex = read_name(L, t, why, len);
  double vus = whole(L, t, "vus"), iterations = whole(L, t, "iterations");

  if (ex < 0) return -EINVAL;
  if (vus == -2 || iterations == -2) {
    snprintf(why, len, "option '%s' must be a whole number >= 1", vus == -2 ? "vus" : "iterations");
    return -EINVAL;
  }
  if (vus > 0 && (present(L, t, "users") || o->model == OPTIONS_OPEN)) {
    snprintf(why, len, "option 'vus' (k6) is the closed model's users: set vus or users, and no rate");
    return -EINVAL;
  }
  if (vus > 0) o->users = vus;
  if (ex == EX_NONE && iterations > 0) ex = EX_SHARED; /* k6's top-level vus + iterations, locust's -i */
  if (fits(ex, o, why, len) < 0) return -EINVAL;
  if (iterations > 0 && ex != EX_SHARED && ex != EX_PER_VU) {
    snprintf(why, len, "option 'iterations' belongs to executor shared-iterations or per-vu-iterations");
    return -EINVAL;
  }
  if (ex != EX_SHARED && ex != EX_PER_VU) return 0;
  if (o->users < 1 || o->users != floor(o->users)) {
    snprintf(why, len, "executor '%s' needs a whole number of vus (got %g)", names[ex], o->users);
    return -EINVAL;
  }
  o->iterations = iterations > 0 ? (int64_t)iterations : 1; /* k6's default: 1 */
  o->iterations_per_vu = ex == EX_PER_VU;
  if (!present(L, t, "duration")) o->duration_ns = K6EXEC_MAX_DURATION_NS;
  return 0;
}

int64_t k6exec_share(int64_t iterations, int per_vu, int64_t vus, int64_t j) {
  if (j < 0 || j >= vus) return 0;
  if (per_vu) return iterations;
  return iterations * (j + 1) / vus - iterations * j / vus;
}

int64_t k6exec_quota(const options *o, int64_t vu_id) {
  return k6exec_share(o->iterations, o->iterations_per_vu, (int64_t)o->users, vu_id - 1);
}
