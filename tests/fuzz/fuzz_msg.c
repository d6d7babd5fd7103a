/* fuzz_msg.c - libFuzzer harness (LOADCTL_FUZZ=ON) for the master/worker wire decoder: any bytes
 * through msg_decode; what decodes must encode and decode again to the same header fields.
 * Seeds: tests/fuzz/corpus/msg/ (one encoded message of each type; stats_tagged: a STATS message with
 * tagged series). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_round_trip(const msg *m) {
  uint8_t *buf = NULL;
  size_t len = 0;
  msg again;
  char err[256];

  if (msg_encode(m, &buf, &len) != 0) return; /* e.g. a STATS message without an interval */
  if (msg_decode(buf, len, &again, err, sizeof err) != 0) abort();
  if (again.type != m->type || again.seq != m->seq || strcmp(again.worker_id, m->worker_id) != 0 ||
      strcmp(again.run_id, m->run_id) != 0)
    abort();
  msg_free(&again);
  free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  msg m;
  char err[256];

  if (msg_decode(data, size, &m, err, sizeof err) == 0) {
    check_round_trip(&m);
    msg_free(&m);
  } else if (m.type != 0 || m.u.assign.scenario_source != NULL) {
    abort(); /* the contract: a failed decode leaves *out zeroed */
  }
  return 0;
}
