/* prelude.c - the scenario API's Lua side: thin wrappers that normalise http.* options (query, json,
 * form, default names) and then cross into C once per request; check/group/think/data.csv; the sandbox. */
#include "common/prelude.h"

#include <errno.h>
#include <lauxlib.h>
#include <lualib.h>
#include <stdio.h>
#include <string.h>

/* common/prelude.lua, embedded at build time by cmake/embed.cmake. */
extern const char prelude_lua[];

void prelude_dirname(const char *path, char *buf, size_t size) {
  const char *slash = path ? strrchr(path, '/') : NULL;
  if (!slash) {
    snprintf(buf, size, ".");
  } else if (slash == path) {
    snprintf(buf, size, "/");
  } else {
    snprintf(buf, size, "%.*s", (int)(slash - path), path);
  }
}

/* From Debian's lua-cjson (liblua5.1-cjson), linked in. */
int luaopen_cjson(lua_State *L);

int prelude_open(lua_State *L, const char *scenario_dir, int allow_exec, char *err, size_t errlen) {
  luaL_openlibs(L);
  lua_getglobal(L, "package");
  lua_getfield(L, -1, "preload");
  lua_pushcfunction(L, luaopen_cjson);
  lua_setfield(L, -2, "cjson");
  lua_pop(L, 2);
  lua_getglobal(L, "package");
  lua_pushstring(L,
                 "/usr/lib/x86_64-linux-gnu/lua/5.1/?.so;/usr/lib/lua/5.1/?.so;/usr/local/lib/lua/5.1/?.so");
  lua_setfield(L, -2, "cpath");
  lua_pop(L, 1);
  lua_newtable(L);
  lua_setglobal(L, "http");
  lua_pushstring(L, scenario_dir ? scenario_dir : ".");
  lua_setglobal(L, "__scenario_dir");
  lua_pushboolean(L, allow_exec);
  lua_setglobal(L, "__allow_exec");
  if (luaL_loadbuffer(L, prelude_lua, strlen(prelude_lua), "=prelude") || lua_pcall(L, 0, 0, 0)) {
    snprintf(err, errlen, "scenario prelude: %s", lua_tostring(L, -1));
    lua_pop(L, 1);
    return -EINVAL;
  }
  return 0;
}
