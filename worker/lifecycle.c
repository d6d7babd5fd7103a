/* lifecycle.c - setup() and teardown(): one VU on a private uv loop and Lua state, whose main function is
 * the hook instead of the task loop; its requests go to a throwaway stats interval (not the run's). */
#include "worker/lifecycle.h"

#include <errno.h>
#include <lauxlib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "common/clock.h"
#include "common/stats.h"
#include "worker/script.h"
#include "worker/vu.h"

/* The hook's VU main: calls the hook (teardown with the shared data), keeps setup's result as JSON in
 * __hook_json and an error in __hook_error. */
static const char hook_main_src[] =
    "local hook = ...\n"
    "return function(vu)\n"
    "  local ok, res = xpcall(function() return _G[hook](__setup_data()) end, function(e) return tostring(e) "
    "end)\n"
    "  if not ok then __hook_error = hook .. '(): ' .. res; return end\n"
    "  if hook ~= 'setup' or res == nil then return end\n"
    "  local jok, j = pcall(json.encode, res)\n"
    "  if not jok then __hook_error = 'setup() must return JSON-serialisable data (tables, strings, numbers, "
    "'\n"
    "    .. 'booleans): ' .. tostring(j); return end\n"
    "  __hook_json = j\n"
    "end\n";

typedef struct hook_run {
  uv_loop_t loop;
  uv_timer_t deadline;
  vu_host host;
  vu *v;
  int done, timed_out, http_closed;
} hook_run;

static int never_idle(vu_host *h, vu *v) {
  (void)h, (void)v;
  return 0;
}

static void on_exit_hook(vu_host *h, vu *v) {
  hook_run *r = h->engine_ud;
  (void)v;
  r->done = 1;
  uv_stop(&r->loop);
}

static void on_deadline(uv_timer_t *t) {
  hook_run *r = t->data;
  r->timed_out = 1;
  uv_stop(&r->loop);
}

static void on_http_closed(void *ud) {
  ((hook_run *)ud)->http_closed = 1;
}

/* Replace __vu_main with the hook's main in this private state. 0, or -EINVAL with the message in err. */
static int install_main(lua_State *L, const char *hook, char *err, size_t errlen) {
  if (luaL_loadbuffer(L, hook_main_src, sizeof hook_main_src - 1, "=lifecycle")) goto fail;
  lua_pushstring(L, hook);
  if (lua_pcall(L, 1, 1, 0)) goto fail;
  lua_setglobal(L, "__vu_main");
  return 0;
fail:
  snprintf(err, errlen, "%s", lua_tostring(L, -1));
  lua_pop(L, 1);
  return -EINVAL;
}

/* Run the VU until it ends or the deadline passes, then close every handle. */
static void drive(hook_run *r) {
  uv_timer_init(&r->loop, &r->deadline);
  r->deadline.data = r;
  uv_timer_start(&r->deadline, on_deadline, LIFECYCLE_TIMEOUT_MS, 0);
  vu_start(r->v);
  if (!r->done) uv_run(&r->loop, UV_RUN_DEFAULT);
  vu_destroy(r->v);
  uv_close((uv_handle_t *)&r->deadline, NULL);
  http_client_close(r->host.http, on_http_closed, r);
  uv_run(&r->loop, UV_RUN_DEFAULT);
}

/* After the run: the hook's error or JSON result out of L. */
static int collect(lua_State *L, const char *hook, char **json_out, char *err, size_t errlen) {
  lua_getglobal(L, "__hook_error");
  if (lua_isstring(L, -1)) {
    snprintf(err, errlen, "%s", lua_tostring(L, -1));
    return -EINVAL;
  }
  lua_getglobal(L, "__hook_json");
  if (json_out && lua_isstring(L, -1) && !(*json_out = strdup(lua_tostring(L, -1)))) return -ENOMEM;
  (void)hook;
  return 0;
}

static int run_in(lua_State *L, const options *opt, const char *hook, char **json_out, char *err,
                  size_t errlen) {
  http_client_options hopt = {.backend = opt->http_backend,
                              .insecure_tls = opt->insecure_tls,
                              .tls_ca_file = opt->tls_ca_file,
                              .tls_cert_file = opt->tls_cert_file,
                              .tls_key_file = opt->tls_key_file,
                              .h2_connections = opt->h2_connections,
                              .default_timeout_ms = clock_ns_to_ms(opt->timeout_ns)};
  hook_run r = {.host = {.L = L, .opt = opt, .run_id = "setup", .scenario = opt->name, .rng = 1}};
  int rc;

  if ((rc = install_main(L, hook, err, errlen)) != 0) return rc;
  if ((rc = uv_loop_init(&r.loop)) != 0) return rc;
  r.host.loop = &r.loop;
  r.host.on_idle = never_idle;
  r.host.on_exit = on_exit_hook;
  r.host.engine_ud = &r;
  r.host.rng = (uint64_t)clock_wall_ns() | 1;
  if ((rc = stats_create(&r.host.stats, 0, 1000)) != 0) goto out;
  if ((rc = http_client_create(&r.loop, &hopt, &r.host.http)) != 0) goto out;
  if ((rc = vu_create(&r.host, 0, &r.v)) != 0) {
    http_client_close(r.host.http, on_http_closed, &r);
    uv_run(&r.loop, UV_RUN_DEFAULT);
    goto out;
  }
  drive(&r);
  if (r.timed_out && !r.done) {
    snprintf(err, errlen, "%s() did not finish within %d s", hook,
             (int)(LIFECYCLE_TIMEOUT_MS / CLOCK_MS_PER_S));
    rc = -ETIMEDOUT;
  } else {
    rc = collect(L, hook, json_out, err, errlen);
  }
out:
  if (r.host.stats) stats_destroy(r.host.stats);
  uv_loop_close(&r.loop);
  return rc;
}

int lifecycle_run(const char *chunkname, const char *source, size_t len, const options *opt, int allow_exec,
                  const char *hook, char **json_out, char *err, size_t errlen) {
  lua_State *L = NULL;
  int rc;

  if (json_out) *json_out = NULL;
  rc = script_open(chunkname, source, len, allow_exec, (uint64_t)clock_wall_ns(), &L, err, errlen);
  if (rc) return rc;
  lua_getglobal(L, hook);
  rc = lua_isfunction(L, -1);
  lua_pop(L, 1);
  rc = rc ? run_in(L, opt, hook, json_out, err, errlen) : 0;
  lua_close(L);
  return rc;
}
