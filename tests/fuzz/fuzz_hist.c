/* fuzz_hist.c - libFuzzer harness (LOADCTL_FUZZ=ON) for the HdrHistogram V2 decoders that read the
 * wire and .hlog files: hist_decode on the bytes, hist_decode_base64 on the same bytes as text; what
 * decodes must re-encode and decode to an equal histogram. Seeds: tests/fuzz/corpus/hist/. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/hist.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_round_trip(const hist *h) {
  uint8_t *buf = NULL;
  size_t len = 0;
  char *text = NULL;
  hist *again = NULL;

  if (hist_encode(h, &buf, &len) != 0) abort();
  if (hist_decode(buf, len, &again) != 0 || !hist_equal(h, again)) abort();
  hist_destroy(again);
  again = NULL;
  if (hist_encode_base64(h, &text) != 0) abort();
  if (hist_decode_base64(text, strlen(text), &again) != 0 || !hist_equal(h, again)) abort();
  if (hist_count(h) > 0 && hist_value_at_percentile(h, 100.0) < hist_value_at_percentile(h, 50.0)) abort();
  hist_destroy(again);
  free(text);
  free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  hist *h = NULL;

  if (hist_decode(data, size, &h) == 0) {
    check_round_trip(h);
    hist_destroy(h);
    h = NULL;
  }
  if (hist_decode_base64((const char *)data, size, &h) == 0) {
    check_round_trip(h);
    hist_destroy(h);
  }
  return 0;
}
