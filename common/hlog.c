/* hlog.c - HdrHistogram log format 1.2 writer and reader, so latency.hlog opens in HdrHistogram's own
 * tools and a killed run's histograms can be read back exactly by `loadctl report`. */
#include "common/hlog.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/clock.h"

struct hlog_reader {
  FILE *f;
  char *line;
  size_t cap;
  int64_t start_ms;
  int64_t base_ms;
  int have_base;
  int bad_lines;
};

int hlog_write_header(FILE *f, int64_t start_ms) {
  char date[64] = "";
  time_t secs = (time_t)(start_ms / CLOCK_MS_PER_S);
  struct tm tm;

  if (gmtime_r(&secs, &tm)) strftime(date, sizeof date, "%a %b %d %H:%M:%S UTC %Y", &tm);
  if (fprintf(f, "#[Histogram log format version 1.2]\n") < 0) return -EIO;
  if (fprintf(f, "#[StartTime: %" PRId64 ".%03d (seconds since epoch), %s]\n", start_ms / CLOCK_MS_PER_S,
              (int)(start_ms % CLOCK_MS_PER_S), date) < 0)
    return -EIO;
  if (fprintf(f, "#[BaseTime: %" PRId64 ".%03d (seconds since epoch)]\n", start_ms / CLOCK_MS_PER_S,
              (int)(start_ms % CLOCK_MS_PER_S)) < 0)
    return -EIO;
  if (fprintf(f,
              "\"StartTimestamp\",\"Interval_Length\",\"Interval_Max\",\"Interval_Compressed_Histogram\"\n") <
      0)
    return -EIO;
  return 0;
}

void hlog_tag(const char *name, char *buf, size_t size) {
  size_t i = 0;

  if (size == 0) return;
  for (; name[i] && i + 1 < size; i++) {
    char c = name[i];
    buf[i] = (c == ',' || c == ' ' || c == '=' || c == '\n' || c == '\r' || c == '\t') ? '_' : c;
  }
  buf[i] = 0;
}

int hlog_write_entry(FILE *f, const char *tag, int64_t start_rel_ms, int64_t length_ms, const hist *h) {
  char *b64 = NULL;
  char safe[256];
  int rc = hist_encode_base64(h, &b64);

  if (rc < 0) return rc;
  if (tag) {
    hlog_tag(tag, safe, sizeof safe);
    if (fprintf(f, "Tag=%s,", safe) < 0) rc = -EIO;
  }
  if (rc == 0 && fprintf(f, "%" PRId64 ".%03d,%" PRId64 ".%03d,%.3f,%s\n", start_rel_ms / CLOCK_MS_PER_S,
                         (int)(start_rel_ms % CLOCK_MS_PER_S), length_ms / CLOCK_MS_PER_S,
                         (int)(length_ms % CLOCK_MS_PER_S), clock_us_to_ms((double)hist_max(h)), b64) < 0)
    rc = -EIO;
  free(b64);
  return rc;
}

int hlog_reader_open(const char *path, hlog_reader **out) {
  FILE *f = fopen(path, "r");

  if (!f) return -errno;
  return hlog_reader_open_stream(f, out);
}

int hlog_reader_open_stream(FILE *f, hlog_reader **out) {
  hlog_reader *r = calloc(1, sizeof *r);

  if (!r) {
    fclose(f);
    return -ENOMEM;
  }
  r->f = f;
  *out = r;
  return 0;
}

int64_t hlog_reader_start_ms(const hlog_reader *r) {
  return r->start_ms;
}
int hlog_reader_bad_lines(const hlog_reader *r) {
  return r->bad_lines;
}

void hlog_reader_close(hlog_reader *r) {
  if (!r) return;
  if (r->f) fclose(r->f);
  free(r->line);
  free(r);
}

/* Seconds with up to 3 decimals ("12.345") -> ms; -1 when malformed. */
static int64_t parse_secs_ms(const char *text, char **end) {
  double v = strtod(text, end);
  if (*end == text || !isfinite(v) || v < 0) return -1;
  return (int64_t)llround(clock_s_to_ms(v));
}

static void parse_header(hlog_reader *r, const char *line) {
  char *end;
  const char *p;

  if ((p = strstr(line, "StartTime: "))) {
    int64_t ms = parse_secs_ms(p + 11, &end);
    if (ms >= 0) r->start_ms = ms;
  } else if ((p = strstr(line, "BaseTime: "))) {
    int64_t ms = parse_secs_ms(p + 10, &end);
    if (ms >= 0) r->base_ms = ms, r->have_base = 1;
  }
}

/* Parse one data line into e; 0 or -EINVAL. */
static int parse_entry(hlog_reader *r, char *line, hlog_entry *e) {
  char *p = line, *end;
  int64_t start, length;

  memset(e, 0, sizeof *e);
  if (strncmp(p, "Tag=", 4) == 0) {
    char *comma = strchr(p, ',');
    size_t n;
    if (!comma) return -EINVAL;
    n = (size_t)(comma - (p + 4));
    if (n >= sizeof e->tag) return -EINVAL;
    memcpy(e->tag, p + 4, n);
    e->tag[n] = 0;
    p = comma + 1;
  }
  start = parse_secs_ms(p, &end);
  if (start < 0 || *end != ',') return -EINVAL;
  length = parse_secs_ms(end + 1, &end);
  if (length < 0 || *end != ',') return -EINVAL;
  e->max_ms = strtod(end + 1, &p);
  if (p == end + 1 || *p != ',') return -EINVAL;
  p++;
  end = p + strcspn(p, "\r\n");
  if (end == p || hist_decode_base64(p, (size_t)(end - p), &e->hist) < 0) return -EINVAL;
  e->start_ms = (r->have_base ? r->base_ms : r->start_ms) + start;
  e->length_ms = length;
  return 0;
}

int hlog_reader_next(hlog_reader *r, hlog_entry *e) {
  ssize_t n;

  while ((n = getline(&r->line, &r->cap, r->f)) >= 0) {
    char *line = r->line;
    if (n == 0 || line[0] == '\n') continue;
    if (line[0] == '#') {
      parse_header(r, line);
      continue;
    }
    if (line[0] == '"') continue; /* legend */
    if (line[n - 1] != '\n' || parse_entry(r, line, e) < 0) {
      r->bad_lines++;
      continue;
    }
    return 1;
  }
  return ferror(r->f) ? -EIO : 0;
}
