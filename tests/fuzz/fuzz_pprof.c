/* fuzz_pprof.c - libFuzzer harness for the profile decoders (LOADCTL_FUZZ=ON): any bytes through
 * pprof_decode, folded_parse and folded_from_perf_script; whatever decodes must encode, decode again
 * with the same totals, and merge into itself. Seeds: tests/fuzz/corpus/pprof/. */
#include <stdint.h>
#include <stdlib.h>

#include "master/profile/folded.h"
#include "master/profile/pprof.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_round_trip(const pprof_profile *p) {
  unsigned char *buf = NULL;
  size_t len = 0;
  pprof_profile *q = NULL;
  char err[256];
  if (pprof_encode(p, &buf, &len)) abort();
  if (pprof_decode(buf, len, &q, err, sizeof err)) abort();
  for (size_t v = 0; v < p->nsample_types; v++)
    if (pprof_total(p, v) != pprof_total(q, v)) abort();
  if (pprof_merge(q, p)) abort();
  pprof_free(q);
  free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char err[256];
  pprof_profile *p = NULL;
  if (pprof_decode(data, size, &p, err, sizeof err) == 0) {
    check_round_trip(p);
    pprof_free(p);
  }
  if (folded_parse((const char *)data, size, NULL, NULL, &p, err, sizeof err) == 0) pprof_free(p);
  if (folded_from_perf_script((const char *)data, size, &p, err, sizeof err) == 0) pprof_free(p);
  return 0;
}
