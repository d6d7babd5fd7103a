/* prelude.h - the Lua half of the scenario API (http.* wrappers, check, group, think, data.csv, the
 * sandbox), shared by `options_load_*` (load-time validation) and the worker's VUs (real load). The C
 * primitives it calls (__send, __sleep, __check, __log, __next, __script_error) are registered by the
 * caller before prelude_open runs the chunk: options.c registers refusing stubs, worker/script.c real ones.
 *
 * data.csv(path) returns the rows of a CSV file as tables keyed by its header line, read once per Lua
 * state and shared read-only (#rows, rows[i] and ipairs work). Slicing per VU: rows:for_vu(vu) is the
 * VU's own row, rows[(vu.id - 1) % #rows + 1]; rows:next(vu) walks on from that row, one row per call,
 * wrapping around, with a cursor kept in the VU (so VU 2 reads rows 2, 3, ..., VU 3 rows 3, 4, ...). */
#ifndef LOADCTL_PRELUDE_H
#define LOADCTL_PRELUDE_H

#include <lua.h>

/* Open the standard libraries, make lua-cjson loadable, set __scenario_dir and __allow_exec, and run the
 * prelude. Returns 0, or -EINVAL with the Lua error message in err. */
int prelude_open(lua_State *L, const char *scenario_dir, int allow_exec, char *err, size_t errlen);

/* Directory part of a scenario path ("scenarios/x.lua" -> "scenarios", "x.lua" -> "."), into buf. */
void prelude_dirname(const char *path, char *buf, size_t size);

#endif
