/* prelude.c - the scenario API's Lua side: thin wrappers that normalise http.* options (query, json,
 * form, default names) and then cross into C once per request; check/group/think/data.csv; the sandbox. */
#include "common/prelude.h"

#include <errno.h>
#include <lauxlib.h>
#include <lualib.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
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

/* The prelude compiled once per process: every VU's state (and every options load) loads its bytecode
 * instead of parsing 13 KB of Lua again (~360 -> ~50 us a state). Lives until the process exits; when it
 * cannot be made, states parse the source as before. */
typedef struct bytecode {
  char *buf;
  size_t len, cap;
} bytecode;

static bytecode compiled;
static pthread_once_t compiled_once = PTHREAD_ONCE_INIT;

static int dump_part(lua_State *L, const void *p, size_t sz, void *ud) {
  bytecode *bc = ud;
  (void)L;
  if (bc->len + sz > bc->cap) {
    size_t cap = (bc->len + sz) * 2;
    char *grown = realloc(bc->buf, cap);
    if (!grown) return 1;
    bc->buf = grown;
    bc->cap = cap;
  }
  memcpy(bc->buf + bc->len, p, sz);
  bc->len += sz;
  return 0;
}

static void compile_prelude(void) {
  lua_State *L = luaL_newstate();
  bytecode bc = {0};

  if (!L) return;
  if (luaL_loadbuffer(L, prelude_lua, strlen(prelude_lua), "=prelude") == 0 &&
      lua_dump(L, dump_part, &bc) == 0)
    compiled = bc;
  else
    free(bc.buf);
  lua_close(L);
}

static int load_prelude(lua_State *L) {
  pthread_once(&compiled_once, compile_prelude);
  if (compiled.buf) return luaL_loadbuffer(L, compiled.buf, compiled.len, "=prelude");
  return luaL_loadbuffer(L, prelude_lua, strlen(prelude_lua), "=prelude");
}

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
  if (load_prelude(L) || lua_pcall(L, 0, 0, 0)) {
    snprintf(err, errlen, "scenario prelude: %s", lua_tostring(L, -1));
    lua_pop(L, 1);
    return -EINVAL;
  }
  return 0;
}
