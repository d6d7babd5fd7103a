/* script.h - one engine thread's LuaJIT state: the scenario API (prelude + the VU primitives), the
 * VU main loop and weighted task choice, and the scenario itself loaded on top. */
#ifndef LOADCTL_SCRIPT_H
#define LOADCTL_SCRIPT_H

#include <lua.h>
#include <stddef.h>
#include <stdint.h>

/* Create a lua_State with the scenario loaded and run (its top level defines options, tasks, on_start...).
 * chunkname is the scenario path as messages should name it. *out is owned by the caller (lua_close).
 * 0, or -EINVAL with the Lua message (file:line) in err. */
int script_open(const char *chunkname, const char *source, size_t len, int allow_exec, uint64_t seed,
                lua_State **out, char *err, size_t errlen);

#endif
