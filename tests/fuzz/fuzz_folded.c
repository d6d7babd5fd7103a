/* fuzz_folded.c - libFuzzer harness (LOADCTL_FUZZ=ON) for folded-stack text ("a;b;c 12" lines, what
 * py-spy, Pyroscope and perf scripts print): folded_parse, then folded_write and parse again must keep
 * the total. (fuzz_pprof covers the pprof decoder and perf script folding.) Seeds: corpus/folded/. */
#include <stdint.h>
#include <stdlib.h>

#include "master/profile/folded.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char err[256];
  pprof_profile *p = NULL, *q = NULL;
  char *text = NULL;
  size_t len = 0;

  if (folded_parse((const char *)data, size, NULL, NULL, &p, err, sizeof err) != 0) return 0;
  if (folded_write(p, 0, &text, &len) != 0) abort();
  if (folded_parse(text, len, NULL, NULL, &q, err, sizeof err) != 0) abort();
  if (pprof_total(p, 0) != pprof_total(q, 0)) abort();
  pprof_free(q);
  pprof_free(p);
  free(text);
  return 0;
}
