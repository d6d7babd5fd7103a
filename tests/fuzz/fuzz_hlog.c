/* fuzz_hlog.c - libFuzzer harness (LOADCTL_FUZZ=ON) for the .hlog reader that `loadctl report` runs on
 * latency.hlog files cut off by kill -9: any bytes as a file, every entry read must hold a valid
 * histogram, and the reader must end. Seeds: tests/fuzz/corpus/hlog/. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "common/hlog.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char path[64];

static void remove_file(void) {
  unlink(path);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  hlog_reader *r = NULL;
  hlog_entry e;
  FILE *f;
  int rc, entries = 0;

  if (!path[0]) {
    snprintf(path, sizeof path, "/tmp/fuzz_hlog.%ld", (long)getpid());
    atexit(remove_file);
  }
  f = fopen(path, "wb");
  if (!f) return 0;
  if (size && fwrite(data, 1, size, f) != size) abort();
  fclose(f);
  if (hlog_reader_open(path, &r) != 0) return 0;
  while ((rc = hlog_reader_next(r, &e)) == 1) {
    if (!e.hist || hist_count(e.hist) < 0) abort();
    hist_destroy(e.hist);
    if (++entries > (int)size) abort(); /* an entry needs at least one byte of input */
  }
  hlog_reader_close(r);
  return 0;
}
