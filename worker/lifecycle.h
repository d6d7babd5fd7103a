/* lifecycle.h - a scenario's setup() and teardown(), run once per run (not per VU, not per worker) by the
 * process that starts the run (`loadctl start`, `loadctl master`), in a VU of their own on a private uv
 * loop, so http.*, sleep() and check() work there as in tasks. setup()'s return value travels as JSON
 * with the scenario to every worker (cli/scenario.c), where tasks and on_start receive it as `data`. */
#ifndef LOADCTL_LIFECYCLE_H
#define LOADCTL_LIFECYCLE_H

#include <stddef.h>

#include "common/options.h"

#define LIFECYCLE_TIMEOUT_MS 60000 /* k6's setupTimeout / teardownTimeout default */

/* Run the scenario's global function hook ("setup" or "teardown") once. teardown receives the data the
 * source's __setup_json carries. For "setup", *json_out is its return value as JSON (malloc'd, the caller
 * frees), or NULL when the scenario has no setup() or setup() returned nil. 0 when the hook is absent or
 * ran; -EINVAL with "file:line: message" in err when it raised an error or returned something that is not
 * JSON; -ETIMEDOUT when it ran past LIFECYCLE_TIMEOUT_MS; another -errno when the loop could not start. */
int lifecycle_run(const char *chunkname, const char *source, size_t len, const options *opt, int allow_exec,
                  const char *hook, char **json_out, char *err, size_t errlen);

#endif
