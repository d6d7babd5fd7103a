/* worker_includes_master.c - must NOT compile: a worker file reaching into master/. Built only by
 * tests/integration/boundaries.sh (target boundary_probe_bad), which expects the include to fail. */
#include "master/plan.h"
#include "worker/engine.h"

int boundary_probe_bad(void);
int boundary_probe_bad(void) {
  return 0;
}
