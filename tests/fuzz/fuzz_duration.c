/* fuzz_duration.c - libFuzzer harness (LOADCTL_FUZZ=ON) for the duration and percentage parsers every
 * scenario option and threshold goes through: clock_parse_duration / clock_parse_fraction on any text.
 * Checks the contract: accepted durations are >= 0, fractions in [0, 1], and a formatted duration
 * parses again. Seeds: tests/fuzz/corpus/duration/. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char text[256], shown[64];
  int64_t ns = 0, again = 0;
  double fraction = 0;

  if (size >= sizeof text) return 0;
  memcpy(text, data, size);
  text[size] = '\0';
  if (clock_parse_duration(text, &ns) == 0) {
    if (ns < 0) abort();
    clock_format_duration(ns, shown, sizeof shown);
    if (clock_parse_duration(shown, &again) != 0 || again < 0) abort();
  }
  if (clock_parse_fraction(text, &fraction) == 0 && !(fraction >= 0.0 && fraction <= 1.0)) abort();
  return 0;
}
