/* notrim.c - the worker's heap trim disabled, for tests/integration/worker_trim.sh: LD_PRELOADed into a
 * worker (WORKER_TRIM_DISABLE=1), malloc_trim does nothing, so the test can show that it fails without
 * the trim (worker/agent.c, trim_heap). Nothing in loadctl links it. */
#include <malloc.h>

int malloc_trim(size_t pad) {
  (void)pad;
  return 0;
}
