/* script.c - builds a worker thread's Lua state: the shared prelude, the VU primitives, the VU main
 * loop (on_start, weighted tasks with errors caught per iteration, on_stop), then the scenario. */
#include "worker/script.h"

#include <errno.h>
#include <lauxlib.h>
#include <lualib.h>
#include <stdio.h>
#include <string.h>

#include "common/prelude.h"
#include "worker/vu.h"

/* worker/script.lua, embedded at build time by cmake/embed.cmake. */
extern const char script_runtime_lua[];

int script_open(const char *chunkname, const char *source, size_t len, int allow_exec, uint64_t seed,
                lua_State **out, char *err, size_t errlen) {
  char dir[1024], name[1100];
  lua_State *L = luaL_newstate();
  int rc = -EINVAL;

  if (!L) return -ENOMEM;
  vu_register(L);
  prelude_dirname(chunkname, dir, sizeof dir);
  if (prelude_open(L, dir, allow_exec, err, errlen) != 0) goto fail;
  if (luaL_loadbuffer(L, script_runtime_lua, strlen(script_runtime_lua), "=runtime") ||
      lua_pcall(L, 0, 0, 0)) {
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
