/* hlog.h - HdrHistogram log format 1.2 (the .hlog files HdrHistogram's HistogramLogReader,
 * hdr-histogram-js and HdrHistogramVisualizer read): header, then one line per tagged interval histogram
 * "Tag=<tag>,<start s>,<length s>,<max ms>,<base64 V2 compressed>". Values are stored in microseconds;
 * the max column is in milliseconds (the log's conventional max-value unit ratio of 1000). */
#ifndef LOADCTL_HLOG_H
#define LOADCTL_HLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "common/hist.h"

/* Write the header: "#[Histogram log format version 1.2]", "#[StartTime: <s> (seconds since epoch), <date>]",
 * "#[BaseTime: ...]" and the legend line. start_ms is the run's wall start. 0 or negative errno. */
int hlog_write_header(FILE *f, int64_t start_ms);

/* Write one interval histogram, tagged unless tag is NULL; start_rel_ms is the interval start relative to
 * the header's StartTime. Tags may not contain ',', ' ' or '='; they are escaped
 * by replacing those with '_' (the real name is in intervals.jsonl). 0 or negative errno. */
int hlog_write_entry(FILE *f, const char *tag, int64_t start_rel_ms, int64_t length_ms, const hist *h);

/* Copy tag into buf with hlog's forbidden characters replaced (what hlog_write_entry writes). */
void hlog_tag(const char *name, char *buf, size_t size);

/* One entry read back; hist is owned by whoever received the entry (hist_destroy). */
typedef struct hlog_entry {
  char tag[256];    /* "" when the line had no Tag= */
  int64_t start_ms; /* wall ms: StartTime (+BaseTime) + the entry's start, rounded to ms */
  int64_t length_ms;
  double max_ms;
  hist *hist;
} hlog_entry;

typedef struct hlog_reader hlog_reader;

/* Open an hlog file and read its header lines. *out owned by the caller (hlog_reader_close).
 * -ENOENT, -ENOMEM, -EIO. */
int hlog_reader_open(const char *path, hlog_reader **out);
/* The same over an open stream (a file, or fmemopen'd bytes): f belongs to the reader from the call on
 * (closed by hlog_reader_close, or at once when this fails). 0 or -ENOMEM. */
int hlog_reader_open_stream(FILE *f, hlog_reader **out);
/* StartTime in wall ms (0 if the log had none). */
int64_t hlog_reader_start_ms(const hlog_reader *r);
/* Next entry in file order: 1 and *e filled, 0 at end of file, negative errno on read error.
 * A malformed or truncated line (normal as the last line after kill -9) is skipped and counted. */
int hlog_reader_next(hlog_reader *r, hlog_entry *e);
int hlog_reader_bad_lines(const hlog_reader *r);
void hlog_reader_close(hlog_reader *r);

#endif
