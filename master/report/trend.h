/* trend.h - `loadctl history --html`: the p99 trend per request name across runs, and the runs table,
 * as one self-contained page. */
#ifndef LOADCTL_TREND_H
#define LOADCTL_TREND_H

#include <jansson.h>
#include <stddef.h>

#define TREND_NAMES 9 /* request names charted, besides all requests */

/* The page for runs (oldest first, as history_load returns them) from index `from` on, written to path
 * (rundir_write_stream). 0 or negative errno. */
int trend_write_html(const json_t *runs, size_t from, const char *path);

#endif
