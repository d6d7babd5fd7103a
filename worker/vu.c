/* vu.c - one virtual user: a coroutine that the uv loop resumes when its HTTP response, its sleep or
 * its next iteration is due; and the C primitives the scenario API crosses into (one per request). */
#include "worker/vu.h"

#include <errno.h>
#include <lauxlib.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/log.h"
#include "worker/trace.h"
#include "worker/vu_internal.h"
#include "worker/vureq.h"

static const char host_key = 'h';

static vu_host *host_of(lua_State *L) {
  vu_host *h;
  lua_pushlightuserdata(L, (void *)&host_key);
  lua_rawget(L, LUA_REGISTRYINDEX);
  h = lua_touserdata(L, -1);
  lua_pop(L, 1);
  return h;
}

static vu *current_vu(lua_State *L) {
  vu_host *h = host_of(L);
  if (!h || !h->current || h->current->co != L) {
    luaL_error(L, "http.*, sleep() and think() can only run inside a VU (a task, on_start or on_stop)");
    return NULL;
  }
  return h->current;
}

static void start_iteration(vu *v, int64_t intended_ns) {
  v->intended_ns = intended_ns;
  v->iteration_start_ns = clock_mono_ns();
  v->first_pending = intended_ns > 0;
  v->yields = 0;
  v->in_iteration = 1;
  trace_new_trace_id(&v->host->rng, v->trace_id);
  lua_pushboolean(v->co, 1);
  v->nargs = 1;
}

/* Resume v's coroutine until it waits on I/O or a timer, or ends; loops while the engine says
 * "next iteration now" so a closed-model VU does not recurse. */
static void resume(vu *v) {
  vu_host *h = v->host;
  for (;;) {
    int nargs = v->nargs, st;
    v->nargs = 0;
    v->state = VU_BUSY;
    h->current = v;
    st = lua_resume(v->co, nargs);
    h->current = NULL;
    if (st == LUA_YIELD) {
      if (v->state != VU_IDLE) return; /* waiting for a response or a timer */
      h->go_intended_ns = 0;
      if (!h->on_idle(h, v)) return;
      start_iteration(v, h->go_intended_ns);
      continue;
    }
    if (st != 0) LOG(LOG_ERROR, "vu %lld: %s", (long long)v->id, lua_tostring(v->co, -1));
    v->state = VU_DONE;
    h->on_exit(h, v);
    return;
  }
}

/* The current interval's entry for v->name: the entry found last time when it still matches (the
 * engine swaps intervals but keeps names in creation order), else a search. */
static stats_entry *entry_of(vu *v) {
  stats_interval *s = v->host->stats;
  stats_entry *e;

  if (v->entry_hint < s->nentries && !strcmp(s->entries[v->entry_hint].name, v->name))
    return &s->entries[v->entry_hint];
  e = stats_entry_get(s, v->name, v->method);
  if (e) v->entry_hint = (size_t)(e - s->entries);
  return e;
}

/* Wall-clock ms for a monotonic time, from a wall - mono offset read again every 1024 calls. */
static int64_t wall_ms_of(int64_t mono_ns) {
  static _Thread_local int64_t offset_ns;
  static _Thread_local unsigned calls;

  if ((calls++ & 1023) == 0) offset_ns = clock_wall_ns() - clock_mono_ns();
  return clock_ns_to_ms(mono_ns + offset_ns);
}

/* The error kind of a response (enum stats_err), STATS_ERR_NONE for a success: no transport error and a
 * status below 400 or listed in expect=. */
static int kind_of(const vu *v, const http_response *res) {
  if (res->error) return res->error;
  if (res->status == 0) return STATS_ERR_OTHER; /* no response and no reason given */
  if (res->status < 400) return STATS_ERR_NONE;
  for (int i = 0; i < v->nexpect; i++)
    if (v->expect[i] == res->status) return STATS_ERR_NONE;
  return res->status >= 500 ? STATS_ERR_HTTP5XX : STATS_ERR_HTTP4XX;
}

/* The text of a failure of kind: the backend's message, else "HTTP <status>" or the kind's name. */
static void failure_text(const http_response *res, int kind, char *buf, size_t size) {
  if (res->error_message[0])
    snprintf(buf, size, "%s", res->error_message);
  else if (kind == STATS_ERR_HTTP4XX || kind == STATS_ERR_HTTP5XX)
    snprintf(buf, size, "HTTP %d", res->status);
  else
    snprintf(buf, size, "%s", stats_err_name(kind));
}

/* Count a request of v's tag set in the series of entry e (common/stats.h), or by name only when the
 * interval has STATS_MAX_TAGGED series already. */
static void record_tagged(vu *v, const stats_entry *e, int64_t latency_us, int failed) {
  vu_host *h = v->host;
  stats_tagged *t = stats_tagged_get(h->stats, (size_t)(e - h->stats->entries), v->tags);
  if (t) {
    stats_tagged_record(t, latency_us, failed);
    return;
  }
  h->stats->tagged_dropped++;
  if (!h->tags_full_logged) {
    h->tags_full_logged = 1;
    LOG(LOG_WARN,
        "more than %d (request name, tag set) pairs in one interval: '%s' {%s} is counted by name only",
        STATS_MAX_TAGGED, v->name, v->tags);
  }
}

/* A listed scenario's own Trend or Rate name gets value. */
static void scenario_metric(vu *v, const char *name, int kind, double value) {
  metric_state *m = stats_metric_get(v->host->stats, name, kind, NULL);
  if (m) metric_record(m, value, 0);
}

/* res's timing phases in ns, in stats_phase order (blocked .. receiving). */
static void phases_ns(const http_response *res, int64_t ns[STATS_PHASE_COUNT]) {
  const int64_t v[STATS_PHASE_COUNT] = {res->blocked_ns, res->connect_ns, res->tls_ns,
                                        res->sending_ns, res->waiting_ns, res->receiving_ns};
  memcpy(ns, v, sizeof v);
}

/* Record one response of kind in the current interval. */
static void record(vu *v, const http_response *res, int kind, int64_t done_ns) {
  vu_host *h = v->host;
  int64_t start = v->first_pending ? v->intended_ns : v->call_ns;
  stats_entry *e = entry_of(v);
  char msg[sizeof res->error_message];

  if (!e) {
    e = stats_entry_get(h->stats, "(other)", "");
    if (e && !h->names_full_logged) {
      h->names_full_logged = 1;
      LOG(LOG_WARN,
          "more than %d request names: '%s' and other new names are counted as \"(other)\"; "
          "name requests whose URL carries an id (http.get(url, {name = \"GET /item/:id\"}))",
          STATS_MAX_NAMES - 1, v->name);
    }
  }
  if (!e) return;
  v->first_pending = 0;
  stats_entry_record(e, clock_ns_to_us(done_ns - start), clock_ns_to_us(done_ns - v->call_ns));
  if (v->tags[0]) record_tagged(v, e, clock_ns_to_us(done_ns - start), kind != STATS_ERR_NONE);
  int64_t phase_us[STATS_PHASE_COUNT];
  phases_ns(res, phase_us);
  for (int i = 0; i < STATS_PHASE_COUNT; i++) phase_us[i] = clock_ns_to_us(phase_us[i]);
  stats_entry_phases(e, phase_us); /* on -ENOMEM the phases are left out, the request still counts */
  e->bytes_in += (int64_t)res->bytes_in;
  e->bytes_out += (int64_t)res->bytes_out;
  if (kind != STATS_ERR_NONE) {
    failure_text(res, kind, msg, sizeof msg);
    stats_entry_fail(e, kind, msg);
  }
  stats_exemplar x = {.latency_us = clock_ns_to_us(done_ns - start), .wall_ms = wall_ms_of(done_ns)};
  memcpy(x.trace_id, v->trace_id, sizeof x.trace_id);
  memcpy(x.span_id, v->span_id, sizeof x.span_id);
  stats_entry_exemplar(e, &x, trace_rand(&h->rng));
  if (v->sc && v->sc->listed) {
    scenario_metric(v, v->sc->request_metric, METRIC_TREND, clock_ns_to_ms_frac(done_ns - start));
    scenario_metric(v, v->sc->failed_metric, METRIC_RATE, kind != STATS_ERR_NONE);
  }
}

/* The values of a response as the prelude's response() takes them (RESP_VALUES of them): status, body,
 * raw headers, time in ms from the http.* call, ok, for a failure error (the kind's name) and
 * error_message (the text), else two nils, then the timing breakdown in ms (r[1..6], which the prelude
 * turns into r.timings when a script asks). The prelude builds the table (docs/scenario-api.md) with one
 * constructor, cheaper than setting its fields from C. */
#define RESP_VALUES (7 + STATS_PHASE_COUNT)
static void push_values(vu *v, const http_response *res, int kind, int64_t done_ns) {
  lua_State *co = v->co;
  int64_t ns[STATS_PHASE_COUNT];
  lua_checkstack(co, RESP_VALUES + 2); /* a suspended coroutine's stack may have fewer free slots */
  lua_pushinteger(co, res->status);
  lua_pushlstring(co, res->body ? res->body : "", res->body ? res->body_len : 0);
  lua_pushlstring(co, res->headers_raw ? res->headers_raw : "", res->headers_raw ? res->headers_len : 0);
  lua_pushnumber(co, clock_ns_to_ms_frac(done_ns - v->call_ns));
  lua_pushboolean(co, kind == STATS_ERR_NONE);
  if (kind == STATS_ERR_NONE) {
    lua_pushnil(co);
    lua_pushnil(co);
  } else {
    char msg[sizeof res->error_message];
    lua_pushstring(co, stats_err_name(kind));
    failure_text(res, kind, msg, sizeof msg);
    lua_pushstring(co, msg);
  }
  phases_ns(res, ns);
  for (int i = 0; i < STATS_PHASE_COUNT; i++) lua_pushnumber(co, clock_ns_to_ms_frac(ns[i]));
}

/* The response table of http.batch's list: push_values' values as the prelude's response() sets them
 * (the metatable is set by the prelude). */
static void push_response(vu *v, const http_response *res, int kind, int64_t done_ns) {
  static const char *const keys[] = {"status", "body", "_h", "time", "ok", "error", "error_message"};
  lua_State *co = v->co;
  int base = lua_gettop(co) + 1;
  push_values(v, res, kind, done_ns);
  lua_createtable(co, STATS_PHASE_COUNT, 7);
  for (int i = 0; i < 7; i++) {
    lua_pushvalue(co, base + i);
    lua_setfield(co, -2, keys[i]);
  }
  for (int i = 0; i < STATS_PHASE_COUNT; i++) {
    lua_pushvalue(co, base + 7 + i);
    lua_rawseti(co, -2, i + 1);
  }
  lua_replace(co, base);
  lua_settop(co, base);
}

static void on_response(http_conn *conn, const http_response *res, void *ud) {
  vu *v = ud;
  int64_t done_ns = res->done_ns ? res->done_ns : clock_mono_ns();
  int kind = kind_of(v, res);
  (void)conn;
  v->in_request = 0;
  record(v, res, kind, done_ns);
  push_values(v, res, kind, done_ns);
  v->nargs = RESP_VALUES;
  resume(v);
}

/* A request that could not be sent: its failure recorded, into *res. */
static void send_failed(vu *v, int rc, http_response *res) {
  memset(res, 0, sizeof *res);
  res->error = STATS_ERR_OTHER;
  res->done_ns = clock_mono_ns();
  snprintf(res->error_message, sizeof res->error_message, "cannot send request: %s", strerror(-rc));
  record(v, res, STATS_ERR_OTHER, res->done_ns);
}

/* __send(method, url, name, body, headers, timeout_s, expect, redirects, auth_user, auth_password,
 * auth_digest, tags) -> the response's values (push_values; yields). */
static int l_send(lua_State *L) {
  vu *v = current_vu(L);
  http_request req = {0};
  int rc;

  vureq_prepare(L, v, 1, &req);
  rc = http_conn_send(v->conn, &req, on_response, v);
  if (rc != 0) {
    http_response res;
    send_failed(v, rc, &res);
    lua_settop(L, 0);
    push_values(v, &res, STATS_ERR_OTHER, res.done_ns);
    return RESP_VALUES;
  }
  v->in_request = 1;
  v->yields++;
  return lua_yield(L, 0);
}

/* A batch response: recorded under its own name, stored at its index in the results table; the VU goes
 * on once the last one is in. */
static void on_batch_response(http_conn *conn, const http_response *res, void *ud) {
  vu_slot *sl = ud;
  vu *v = sl->v;
  int64_t done_ns = res->done_ns ? res->done_ns : clock_mono_ns();
  int kind;
  (void)conn;
  sl->in_flight = 0;
  memcpy(v->name, sl->name, sizeof v->name);
  memcpy(v->tags, sl->tags, sizeof v->tags);
  memcpy(v->method, sl->method, sizeof v->method);
  memcpy(v->expect, sl->expect, sizeof v->expect);
  v->nexpect = sl->nexpect;
  v->call_ns = sl->call_ns;
  kind = kind_of(v, res);
  record(v, res, kind, done_ns);
  lua_rawgeti(v->co, LUA_REGISTRYINDEX, v->batch_ref);
  push_response(v, res, kind, done_ns);
  lua_rawseti(v->co, -2, sl->index);
  lua_pop(v->co, 1);
  if (--v->batch_pending > 0) return;
  lua_rawgeti(v->co, LUA_REGISTRYINDEX, v->batch_ref);
  luaL_unref(v->co, LUA_REGISTRYINDEX, v->batch_ref);
  v->nargs = 1;
  resume(v);
}

/* Slot i (0-based) with its connection; NULL on -ENOMEM. */
static vu_slot *slot_of(vu *v, int i) {
  if (i >= v->nslots) {
    vu_slot *grown = realloc(v->slots, (size_t)(i + 1) * sizeof *grown);
    if (!grown) return NULL;
    v->slots = grown;
    for (; v->nslots <= i; v->nslots++) {
      memset(&v->slots[v->nslots], 0, sizeof *v->slots);
      if (http_conn_create(v->host->http, &v->slots[v->nslots].conn) != 0) return NULL;
      http_conn_share_jar(v->slots[v->nslots].conn, v->conn); /* the VU's cookies on every connection */
    }
  }
  return &v->slots[i];
}

/* Request i of the batch (its 12 __send arguments in the table at stack position 2) into req. */
static void batch_prepare(lua_State *L, vu *v, int i, http_request *req) {
  lua_settop(L, 1);
  lua_rawgeti(L, 1, i);
  if (!lua_istable(L, 2)) luaL_error(L, "http.batch: request %d is not a table", i);
  for (int k = 1; k <= 12; k++) lua_rawgeti(L, 2, k);
  vureq_prepare(L, v, 3, req);
}

/* Send request i of the batch on its slot (prepared again: the first pass only checked it). */
static void batch_send(lua_State *L, vu *v, int i) {
  http_request req = {0};
  vu_slot *sl = &v->slots[i - 1];
  int rc;
  batch_prepare(L, v, i, &req);
  sl->v = v;
  sl->index = i;
  memcpy(sl->name, v->name, sizeof sl->name);
  memcpy(sl->tags, v->tags, sizeof sl->tags);
  memcpy(sl->method, v->method, sizeof sl->method);
  memcpy(sl->expect, v->expect, sizeof sl->expect);
  sl->nexpect = v->nexpect;
  sl->call_ns = v->call_ns;
  rc = http_conn_send(sl->conn, &req, on_batch_response, sl);
  if (rc == 0) {
    sl->in_flight = 1;
    v->batch_pending++;
    return;
  }
  http_response res;
  send_failed(v, rc, &res);
  lua_rawgeti(L, LUA_REGISTRYINDEX, v->batch_ref);
  push_response(v, &res, STATS_ERR_OTHER, res.done_ns);
  lua_rawseti(L, -2, i);
}

/* __batch({ {12 __send arguments}, ... }) -> { response, ... } in the same order, once all are in (yields).
 * Every request is checked before the first is sent: a Lua error never leaves requests in flight. */
static int l_batch(lua_State *L) {
  vu *v = current_vu(L);
  http_request req;
  int n = (int)lua_objlen(L, 1);
  if (n < 1 || n > VU_BATCH_MAX) return luaL_error(L, "http.batch: from 1 to %d requests", VU_BATCH_MAX);
  if (!slot_of(v, n - 1)) return luaL_error(L, "http.batch: out of memory");
  for (int i = 1; i <= n; i++) {
    memset(&req, 0, sizeof req);
    batch_prepare(L, v, i, &req);
  }
  lua_createtable(L, n, 0);
  v->batch_ref = luaL_ref(L, LUA_REGISTRYINDEX);
  v->batch_pending = 0;
  for (int i = 1; i <= n; i++) batch_send(L, v, i);
  if (v->batch_pending > 0) {
    v->yields++;
    return lua_yield(L, 0);
  }
  lua_rawgeti(L, LUA_REGISTRYINDEX, v->batch_ref);
  luaL_unref(L, LUA_REGISTRYINDEX, v->batch_ref);
  return 1;
}

static void on_sleep(uv_timer_t *t) {
  vu *v = t->data;
  resume(v);
}

static int l_sleep(lua_State *L) {
  vu *v = current_vu(L);
  double seconds = luaL_optnumber(L, 1, 0);
  if (!(seconds > 0)) return 0;
  if (seconds > 86400) seconds = 86400;
  v->yields++;
  uv_timer_start(&v->timer, on_sleep, (uint64_t)(clock_s_to_ms(seconds) + 0.5), 0);
  return lua_yield(L, 0);
}

static int l_check(lua_State *L) {
  vu_host *h = host_of(L);
  stats_check *c = stats_check_get(h->stats, luaL_checkstring(L, 1));
  if (c) {
    if (lua_toboolean(L, 2))
      c->passes++;
    else
      c->fails++;
  }
  return 0;
}

/* __metric(name, kind, value, tags): one sample of a custom metric (common/metric.h) in the current interval;
 * with tags (canonical text, from the prelude) also one of its series "name{tags}". */
static int l_metric(lua_State *L) {
  vu_host *h = host_of(L);
  const char *name = luaL_checkstring(L, 1), *tags = lua_tostring(L, 4);
  char series[METRIC_NAME_MAX];
  int clash = 0, kind = (int)luaL_checkinteger(L, 2);
  metric_state *m;
  if (!h || !h->current)
    return luaL_error(
        L, "metrics: values are recorded inside a VU (a task, on_start, on_stop, setup, teardown)");
  for (int pass = 0; pass < (tags ? 2 : 1); pass++) { /* the metric, then its tagged series NAME{tags} */
    int len = pass ? snprintf(series, sizeof series, "%s{%s}", name, tags) : 0;
    if (len < 0 || (size_t)len >= sizeof series)
      return luaL_error(L, "metrics: '%s{%s}': the name and its tags are over %d bytes", name, tags,
                        METRIC_NAME_MAX - 1);
    m = stats_metric_get(h->stats, pass ? series : name, kind, &clash);
    if (!m && clash) return luaL_error(L, "metrics: '%s' is already a metric of another kind", name);
    if (!m)
      return luaL_error(L, "metrics: more than %d custom metrics ('%s' is not recorded)", METRIC_MAX, name);
    metric_record(m, luaL_checknumber(L, 3), wall_ms_of(clock_mono_ns()));
  }
  return 0;
}

static int l_log(lua_State *L) {
  vu_host *h = host_of(L);
  LOG_SCENARIO("vu %lld: %s", h->current ? (long long)h->current->id : 0LL, luaL_checkstring(L, 1));
  return 0;
}

static int l_next(lua_State *L) {
  vu *v = current_vu(L);
  if (v->in_iteration) {
    metric_state *m = stats_metric_get(v->host->stats, VU_ITERATION_METRIC, METRIC_TREND, NULL);
    double ms = clock_ns_to_ms_frac(clock_mono_ns() - v->iteration_start_ns); /* k6's, in ms */
    if (m) metric_record(m, ms, 0);
    if (v->sc && v->sc->listed) scenario_metric(v, v->sc->iteration_metric, METRIC_TREND, ms);
    v->host->stats->iterations++, v->iterations++;
  }
  v->in_iteration = 0;
  v->state = VU_IDLE;
  return lua_yield(L, 0);
}

static int l_script_error(lua_State *L) {
  vu_host *h = host_of(L);
  const char *name = luaL_checkstring(L, 1), *msg = luaL_optstring(L, 2, "error");
  stats_entry *e = stats_entry_get(h->stats, name, "");
  if (e) stats_entry_fail(e, STATS_ERR_SCRIPT, msg);
  if (h->script_errors_logged++ < 5) LOG(LOG_WARN, "script error in %s: %s", name, msg);
  return 0;
}

/* splitmix64: a well-spread non-zero seed from any number. */
static uint64_t mix_seed(uint64_t x) {
  x += 0x9E3779B97F4A7C15ULL;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  x ^= x >> 31;
  return x ? x : 1;
}

/* The running VU's random state, or NULL outside a VU (then Lua's own generator serves). */
static uint64_t *vu_rng(lua_State *L) {
  vu_host *h = host_of(L);
  return h && h->current ? &h->current->rng : NULL;
}

/* __random(orig, [m [, n]]): math.random with Lua 5.1 semantics on the current VU's own stream. */
static int l_random(lua_State *L) {
  uint64_t *state = vu_rng(L);
  int nargs = lua_gettop(L);
  if (!state) {
    lua_call(L, nargs - 1, 1);
    return 1;
  }
  double r = (double)(trace_rand(state) >> 11) * 0x1.0p-53;
  if (nargs < 2 || lua_isnil(L, 2)) {
    lua_pushnumber(L, r);
  } else {
    lua_Number lo = 1, hi = luaL_checknumber(L, 2);
    if (nargs >= 3 && !lua_isnil(L, 3)) lo = hi, hi = luaL_checknumber(L, 3);
    luaL_argcheck(L, lo <= hi, nargs >= 3 ? 3 : 2, "interval is empty");
    lua_pushnumber(L, floor(r * (hi - lo + 1)) + lo);
  }
  return 1;
}

/* __randomseed(orig, seed): reseed the current VU's stream (outside a VU: Lua's generator). */
static int l_randomseed(lua_State *L) {
  uint64_t *state = vu_rng(L);
  if (!state) {
    lua_call(L, lua_gettop(L) - 1, 0);
    return 0;
  }
  *state = mix_seed((uint64_t)(int64_t)luaL_checknumber(L, 2));
  return 0;
}

void vu_register(lua_State *L) {
  lua_register(L, "__random", l_random);
  lua_register(L, "__randomseed", l_randomseed);
  lua_register(L, "__send", l_send);
  lua_register(L, "__batch", l_batch);
  lua_register(L, "__sleep", l_sleep);
  lua_register(L, "__check", l_check);
  lua_register(L, "__log", l_log);
  lua_register(L, "__metric", l_metric);
  lua_register(L, "__next", l_next);
  lua_register(L, "__script_error", l_script_error);
}

int vu_create(vu_host *h, int64_t id, vu **out) {
  vu *v = calloc(1, sizeof *v);
  int rc;
  if (!v) return -ENOMEM;
  v->host = h;
  v->id = id;
  v->rng = mix_seed(h->rng ^ mix_seed((uint64_t)id));
  rc = http_conn_create(h->http, &v->conn);
  if (rc) {
    free(v);
    return rc;
  }
  uv_timer_init(h->loop, &v->timer);
  v->timer.data = v;
  lua_pushlightuserdata(h->L, (void *)&host_key);
  lua_pushlightuserdata(h->L, h);
  lua_rawset(h->L, LUA_REGISTRYINDEX);
  v->co = lua_newthread(h->L);
  v->co_ref = luaL_ref(h->L, LUA_REGISTRYINDEX);
  lua_getglobal(v->co, "__vu_main");
  lua_createtable(v->co, 0, 4);
  lua_pushinteger(v->co, (lua_Integer)id);
  lua_setfield(v->co, -2, "id");
  lua_pushinteger(v->co, 0);
  lua_setfield(v->co, -2, "iteration");
  v->nargs = 1;
  *out = v;
  return 0;
}

void vu_scenario_init(vu_scenario *sc, const char *name, int listed) {
  memset(sc, 0, sizeof *sc);
  sc->name = name;
  sc->listed = listed;
  if (!listed) return;
  snprintf(sc->iteration_metric, sizeof sc->iteration_metric, "iteration_duration{scenario=%s}", name);
  snprintf(sc->request_metric, sizeof sc->request_metric, "http_req_duration{scenario=%s}", name);
  snprintf(sc->failed_metric, sizeof sc->failed_metric, "http_req_failed{scenario=%s}", name);
}

void vu_set_owner(vu *v, void *owner, const vu_scenario *sc) {
  v->owner = owner;
  v->sc = sc;
  if (!sc) return;
  lua_pushstring(v->co, sc->name); /* the vu table __vu_main gets: function, table */
  lua_setfield(v->co, 2, "scenario");
  if (!sc->listed) return;
  lua_pushboolean(v->co, 1);
  lua_setfield(v->co, 2, "__listed");
}

void *vu_owner(const vu *v) {
  return v->owner;
}

int vu_preconnect(vu *v, const char *url) {
  return http_conn_preconnect(v->conn, url);
}

void vu_start(vu *v) {
  trace_new_trace_id(&v->host->rng, v->trace_id);
  resume(v);
}

void vu_go(vu *v, int64_t intended_ns) {
  if (v->state != VU_IDLE) return;
  start_iteration(v, intended_ns);
  resume(v);
}

void vu_finish(vu *v) {
  if (v->state != VU_IDLE) return;
  lua_pushboolean(v->co, 0);
  v->nargs = 1;
  resume(v);
}

static void on_go(uv_timer_t *t) {
  vu *v = t->data;
  if (v->state != VU_IDLE) return;
  start_iteration(v, 0);
  resume(v);
}

void vu_go_after(vu *v, uint64_t delay_ms) {
  uv_timer_start(&v->timer, on_go, delay_ms, 0);
}

static void free_on_close(uv_handle_t *handle) {
  free(handle->data);
}

/* A request cut short by a stop, counted as what it is: failed, kind other, "cancelled". */
static void record_cancelled(vu *v, int64_t now_ns) {
  http_response res;
  memset(&res, 0, sizeof res);
  res.error = STATS_ERR_OTHER;
  res.done_ns = now_ns;
  snprintf(res.error_message, sizeof res.error_message, "cancelled: in flight when the load stopped");
  record(v, &res, STATS_ERR_OTHER, now_ns);
}

int vu_cancel(vu *v) {
  int64_t now_ns = clock_mono_ns();
  int cancelled = 0;
  if (v->in_request) {
    v->in_request = 0;
    record_cancelled(v, now_ns);
    cancelled++;
  }
  for (int i = 0; i < v->nslots; i++) {
    vu_slot *sl = &v->slots[i];
    if (!sl->in_flight) continue;
    sl->in_flight = 0;
    memcpy(v->name, sl->name, sizeof v->name);
    memcpy(v->tags, sl->tags, sizeof v->tags);
    v->call_ns = sl->call_ns;
    record_cancelled(v, now_ns);
    cancelled++;
  }
  return cancelled;
}

void vu_destroy(vu *v) {
  if (!v) return;
  http_conn_release(v->conn);
  for (int i = 0; i < v->nslots; i++) http_conn_release(v->slots[i].conn);
  free(v->slots);
  luaL_unref(v->host->L, LUA_REGISTRYINDEX, v->co_ref);
  uv_timer_stop(&v->timer);
  uv_close((uv_handle_t *)&v->timer, free_on_close);
}

int vu_state(const vu *v) {
  return v->state;
}

int64_t vu_id(const vu *v) {
  return v->id;
}

void vu_request_stop(vu *v) {
  v->stop_requested = 1;
}

int vu_stop_requested(const vu *v) {
  return v->stop_requested;
}

int64_t vu_iterations(const vu *v) {
  return v->iterations;
}

int vu_iteration_yielded(const vu *v) {
  return v->yields > 0;
}
