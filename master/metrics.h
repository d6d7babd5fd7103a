/* metrics.h - a Prometheus / OpenMetrics text endpoint on the master (--metrics-listen host:port), on the
 * master's uv loop: loadctl_requests_total{name}, loadctl_errors_total{name,kind},
 * loadctl_latency_seconds{name,quantile} (summary), loadctl_users, loadctl_workers. */
#ifndef LOADCTL_METRICS_H
#define LOADCTL_METRICS_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "common/stats.h"

typedef struct metrics metrics;

/* Listen on host:port ("127.0.0.1:9464", "[::1]:9464", ":9464" = 127.0.0.1) on loop. *out owned by the
 * caller, released with metrics_close. Negative errno and a message in err (bad address, in use). */
int metrics_start(uv_loop_t *loop, const char *listen, metrics **out, char *err, size_t errlen);

/* Bound port (useful with port 0). */
int metrics_port(const metrics *m);

/* Re-render the exposition from cumulative (borrowed for the call) and the current users and workers.
 * Scrapes in between get the last rendering. 0 or -ENOMEM. */
int metrics_update(metrics *m, const stats_interval *cumulative, int64_t users, int64_t workers);

/* The current exposition text (borrowed; for tests). */
const char *metrics_text(const metrics *m);

/* Close the listener and client connections; memory is freed from the close callbacks, so run the loop
 * afterwards (uv_run(loop, UV_RUN_DEFAULT) returns once they are done). NULL is fine. */
void metrics_close(metrics *m);

#endif
