/* fuzz_hlog.c - libFuzzer harness (LOADCTL_FUZZ=ON) for the .hlog reader that `loadctl report` runs on
 * latency.hlog files cut off by kill -9: any bytes as the file's content (read through fmemopen, the
 * reader's own stream path: a real file per input cost a create, write-back and unlink), every entry
 * read must hold a valid histogram, and the reader must end. Seeds: tests/fuzz/corpus/hlog/. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "common/hlog.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static const char empty[1];
  hlog_reader *r = NULL;
  hlog_entry e;
  FILE *f;
  int rc, entries = 0;

  /* fmemopen reads size bytes of the buffer; a 0-byte file is the 1-byte buffer opened for 0 bytes. */
  f = fmemopen(size ? (void *)data : (void *)empty, size, "r");
  if (!f) return 0;
  if (hlog_reader_open_stream(f, &r) != 0) return 0;
  while ((rc = hlog_reader_next(r, &e)) == 1) {
    if (!e.hist || hist_count(e.hist) < 0) abort();
    hist_destroy(e.hist);
    if (++entries > (int)size) abort(); /* an entry needs at least one byte of input */
  }
  hlog_reader_close(r);
  return 0;
}
