/* fuzz_options.c - libFuzzer harness (LOADCTL_FUZZ=ON) for the scenario options loader
 * (options_load_source): any scenario text; an error must say why, an accepted one must respect the
 * header's bounds. Inputs that could loop forever or reach the system (loops, os./io., load) are
 * skipped: the harness is about the options table, not about running arbitrary Lua. Seeds: corpus/options/.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/options.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const skipped[] = {"while",  "repeat", "for", "goto", "return",
                                      "rep",    "os.",    "io.", "load", "require",
                                      "dofile", "debug",  "jit", "ffi",  "coroutine"};

static int is_skipped(const char *text) {
  for (size_t i = 0; i < sizeof skipped / sizeof skipped[0]; i++)
    if (strstr(text, skipped[i])) return 1;
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static options o;
  char err[512];
  char *text;

  if (size > 16384) return 0;
  text = malloc(size + 1);
  if (!text) return 0;
  memcpy(text, data, size);
  text[size] = '\0';
  if (strlen(text) == size && !is_skipped(text)) {
    err[0] = '\0';
    if (options_load_source("fuzz.lua", text, size, &o, err, sizeof err) == 0) {
      if (o.nstages > OPTIONS_MAX_STAGES || o.nthresholds > OPTIONS_MAX_THRESHOLDS ||
          o.nprofiles > OPTIONS_MAX_PROFILES || o.ntasks == 0 || o.users < 0 || o.rate < 0 ||
          o.duration_ns < 0 || memchr(o.target, '\0', sizeof o.target) == NULL)
        abort();
    } else if (err[0] == '\0') {
      abort();
    }
  }
  free(text);
  return 0;
}
