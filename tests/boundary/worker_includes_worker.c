/* worker_includes_worker.c - must compile: a worker file using worker/ and common/ headers, the
 * control case for boundaries.sh (target boundary_probe_good). */
#include "common/executor.h"
#include "worker/engine.h"

int boundary_probe_good(void);
int boundary_probe_good(void) {
  return 0;
}
