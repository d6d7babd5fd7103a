/* script.c - builds a worker thread's Lua state: the shared prelude, the VU primitives, the VU main
 * loop (on_start, weighted tasks with errors caught per iteration, on_stop), then the scenario. */
#include "worker/script.h"

#include <errno.h>
#include <lauxlib.h>
#include <lualib.h>
#include <stdio.h>

#include "common/prelude.h"
#include "worker/vu.h"

static const char runtime_src[] =
    "local xpcall, tostring, random = xpcall, tostring, math.random\n"
    "local next_iteration, script_error = __next, __script_error\n"
    "do -- math.random draws from the running VU's own seeded stream\n"
    "  local orandom, oseed, vrandom, vseed = math.random, math.randomseed, __random, __randomseed\n"
    "  math.random = function(...) return vrandom(orandom, ...) end\n"
    "  math.randomseed = function(...) return vseed(oseed, ...) end\n"
    "end\n"
    "local function handler(e) return tostring(e) end\n"
    "local data, decoded -- setup()'s result: __setup_json (put before the scenario's first line) decoded once\n"
    "function __setup_data()\n"
    "  if not decoded then decoded = true; if __setup_json then data = json.decode(__setup_json) end end\n"
    "  return data\n"
    "end\n"
    "local total\n"
    "local function pick()\n"
    "  if not total then total = 0; for _, t in ipairs(__tasks) do total = total + t.weight end end\n"
    "  local r = random() * total\n"
    "  for _, t in ipairs(__tasks) do r = r - t.weight; if r < 0 then return t end end\n"
    "  return __tasks[#__tasks]\n"
    "end\n"
    "function __vu_main(vu)\n"
    "  local data = __setup_data()\n"
    "  if on_start then\n"
    "    local ok, e = xpcall(on_start, handler, vu, data)\n"
    "    if not ok then script_error('on_start', e) end\n"
    "  end\n"
    "  local n = 0\n"
    "  while next_iteration() do\n"
    "    vu.iteration = n; n = n + 1\n"
    "    local t = pick()\n"
    "    local ok, e = xpcall(t.fn, handler, vu, data)\n"
    "    if not ok then script_error(t.name:sub(1, 5) == 'task:' and t.name or 'task:' .. t.name, e) end\n"
    "  end\n"
    "  if on_stop then\n"
    "    local ok, e = xpcall(on_stop, handler, vu, data)\n"
    "    if not ok then script_error('on_stop', e) end\n"
    "  end\n"
    "end\n";

int script_open(const char *chunkname, const char *source, size_t len, int allow_exec, uint64_t seed, lua_State **out,
                char *err, size_t errlen) {
  char dir[1024], name[1100];
  lua_State *L = luaL_newstate();
  int rc = -EINVAL;

  if (!L) return -ENOMEM;
  vu_register(L);
  prelude_dirname(chunkname, dir, sizeof dir);
  if (prelude_open(L, dir, allow_exec, err, errlen) != 0) goto fail;
  if (luaL_loadbuffer(L, runtime_src, sizeof runtime_src - 1, "=runtime") || lua_pcall(L, 0, 0, 0)) {
    snprintf(err, errlen, "scenario runtime: %s", lua_tostring(L, -1));
    goto fail;
  }
  lua_getglobal(L, "math");
  lua_getfield(L, -1, "randomseed");
  lua_pushnumber(L, (double)(seed % 2147483647));
  lua_call(L, 1, 0);
  lua_pop(L, 1);
  snprintf(name, sizeof name, "@%s", chunkname);
  if (luaL_loadbuffer(L, source, len, name) || lua_pcall(L, 0, 0, 0)) {
    snprintf(err, errlen, "%s", lua_tostring(L, -1));
    goto fail;
  }
  *out = L;
  return 0;
fail:
  lua_close(L);
  return rc;
}
