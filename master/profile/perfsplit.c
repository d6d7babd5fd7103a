/* perfsplit.c - `perf script` text cut into profile windows by sample time (perfsplit.h). */
#include "master/profile/perfsplit.h"
#include "common/grow.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct event {
  size_t off, len;
  double ms; /* NAN when the header has no time */
} event;

typedef struct events {
  event *v;
  size_t n, cap;
} events;

static int is_header(const char *line, size_t len) {
  return len > 0 && line[0] != ' ' && line[0] != '\t' && line[0] != '#' && line[0] != '\r' && line[0] != '\n';
}

int perfsplit_header_ms(const char *line, size_t len, double *ms) {
  size_t i = 0;
  while (i < len) {
    while (i < len && (line[i] == ' ' || line[i] == '\t')) i++;
    size_t tok = i, dots = 0, digits = 0;
    while (i < len && line[i] != ' ' && line[i] != '\t') i++;
    if (i - tok < 4 || line[i - 1] != ':') continue; /* "123.456:" */
    for (size_t k = tok; k < i - 1; k++) {
      if (line[k] == '.')
        dots++;
      else if (line[k] >= '0' && line[k] <= '9')
        digits++;
    }
    if (dots == 1 && digits == i - 1 - tok - 1 && line[tok] != '.' && line[i - 2] != '.') {
      *ms = strtod(line + tok, NULL) * 1000.0;
      return 1;
    }
  }
  return 0;
}

static int push(events *e, size_t off, const char *text, size_t len_line) {
  if (grow_room(&e->v, &e->cap, e->n + 1, sizeof *e->v, 1024) < 0) return -ENOMEM;
  double ms = NAN;
  if (!perfsplit_header_ms(text + off, len_line, &ms)) ms = NAN;
  e->v[e->n++] = (event){off, 0, ms};
  return 0;
}

/* Events of text: each from its header line up to the next header. Text before the first header (comments)
 * is dropped. */
static int scan(const char *text, size_t len, events *e) {
  size_t off = 0;
  while (off < len) {
    const char *nl = memchr(text + off, '\n', len - off);
    size_t end = nl ? (size_t)(nl - text) + 1 : len;
    if (is_header(text + off, end - off)) {
      if (e->n) e->v[e->n - 1].len = off - e->v[e->n - 1].off;
      if (push(e, off, text, end - off)) return -ENOMEM;
    }
    off = end;
  }
  if (e->n) e->v[e->n - 1].len = len - e->v[e->n - 1].off;
  return 0;
}

/* Wall ms minus sample ms: the monotonic offset when the times fall in the command's monotonic span, 0 when
 * they are wall times already, else whatever puts the first sample at the command's start. */
static double clock_offset(const events *e, const perfsplit_span *s) {
  double lo = INFINITY, hi = -INFINITY;
  for (size_t i = 0; i < e->n; i++)
    if (!isnan(e->v[i].ms)) lo = fmin(lo, e->v[i].ms), hi = fmax(hi, e->v[i].ms);
  if (lo >= (double)(s->mono_start_ms - PERFSPLIT_SLACK_MS) &&
      hi <= (double)(s->mono_end_ms + PERFSPLIT_SLACK_MS))
    return (double)(s->start_ms - s->mono_start_ms);
  if (lo >= (double)(s->start_ms - PERFSPLIT_SLACK_MS) && hi <= (double)(s->end_ms + PERFSPLIT_SLACK_MS))
    return 0;
  return (double)s->start_ms - lo;
}

static int64_t bucket_of(double wall, const perfsplit_span *s, int64_t bucket_ms) {
  int64_t t = (int64_t)floor(wall);
  if (t < s->start_ms) t = s->start_ms;
  if (t >= s->end_ms) t = s->end_ms - 1;
  return t >= 0 ? t / bucket_ms : (t - bucket_ms + 1) / bucket_ms;
}

static int append(perfsplit_window *w, const char *data, size_t len) {
  char *t = realloc(w->text, w->len + len + 1);
  if (!t) return -ENOMEM;
  memcpy(t + w->len, data, len);
  w->text = t;
  w->len += len;
  w->text[w->len] = '\0';
  w->events++;
  return 0;
}

/* Events into buckets [b0, b0 + nb); untimed events go with the timed one before them. */
static int fill(const char *text, const events *e, const perfsplit_span *s, int64_t bucket_ms, double offset,
                int64_t b0, perfsplit_window *w) {
  int64_t cur = b0;
  for (size_t i = 0; i < e->n; i++) {
    if (!isnan(e->v[i].ms)) cur = bucket_of(e->v[i].ms + offset, s, bucket_ms);
    if (append(&w[cur - b0], text + e->v[i].off, e->v[i].len)) return -ENOMEM;
  }
  return 0;
}

int perfsplit_split(const char *text, size_t len, const perfsplit_span *span, int64_t bucket_ms,
                    perfsplit_window **out, size_t *n) {
  events e = {0};
  perfsplit_window *w = NULL;
  int64_t nb = 0;
  int rc;
  *out = NULL;
  *n = 0;
  if (bucket_ms <= 0 || span->end_ms <= span->start_ms) return -EINVAL;
  if ((rc = scan(text, len, &e))) goto out;
  double offset = clock_offset(&e, span);
  int timed = 0;
  for (size_t i = 0; i < e.n; i++) timed |= !isnan(e.v[i].ms);
  int64_t b0 = bucket_of((double)span->start_ms, span, bucket_ms);
  nb = timed ? bucket_of((double)span->end_ms, span, bucket_ms) - b0 + 1 : 1;
  if (nb > PERFSPLIT_MAX_WINDOWS) {
    rc = -E2BIG;
    goto out;
  }
  rc = -ENOMEM;
  if (!(w = calloc((size_t)nb, sizeof *w)) || fill(text, &e, span, bucket_ms, offset, b0, w)) goto out;
  for (int64_t b = 0; b < nb; b++) {
    if (!w[b].events) continue;
    w[*n] = w[b];
    if ((size_t)b != *n) memset(&w[b], 0, sizeof w[b]);
    w[*n].start_ms = timed ? (b0 + b) * bucket_ms : span->start_ms;
    w[*n].end_ms = timed ? (b0 + b + 1) * bucket_ms : span->end_ms;
    if (w[*n].start_ms < span->start_ms) w[*n].start_ms = span->start_ms;
    if (w[*n].end_ms > span->end_ms) w[*n].end_ms = span->end_ms;
    (*n)++;
  }
  *out = w;
  w = NULL;
  rc = 0;
out:
  if (w) perfsplit_free(w, (size_t)nb);
  free(e.v);
  return rc;
}

/* The span from s->from_ms to wall upto_ms on the command's clocks. */
static perfsplit_span piece(const perfsplit_stream *s, int64_t upto_ms) {
  int64_t wall_minus_mono = s->span.start_ms - s->span.mono_start_ms;
  return (perfsplit_span){s->from_ms, upto_ms, s->from_ms - wall_minus_mono, upto_ms - wall_minus_mono};
}

int perfsplit_stream_cut(perfsplit_stream *s, const char *text, size_t len, int64_t bucket_ms, int final,
                         perfsplit_window **out, size_t *n, size_t *used) {
  events e = {0};
  int rc = 0;
  size_t cut = final ? len : 0;
  int64_t upto = s->span.end_ms;
  *out = NULL;
  *n = *used = 0;
  if (bucket_ms <= 0) return -EINVAL;
  if (!final) {
    if ((rc = scan(text, len, &e))) goto out;
    double offset = clock_offset(&e, &s->span), newest = -INFINITY;
    int known = offset == (double)(s->span.start_ms - s->span.mono_start_ms) || offset == 0;
    for (size_t i = 0; i < e.n; i++)
      if (!isnan(e.v[i].ms)) newest = fmax(newest, e.v[i].ms + offset);
    if (!known || isinf(newest)) goto out;
    upto = ((int64_t)floor(newest) / bucket_ms - 1) * bucket_ms;
    if (upto <= s->from_ms) goto out;
    size_t i = 0;
    while (i < e.n && (isnan(e.v[i].ms) || e.v[i].ms + offset < (double)upto)) i++;
    cut = i < e.n ? e.v[i].off : 0; /* the first event of the bucket still filling */
  }
  if (!cut || upto <= s->from_ms) goto out;
  perfsplit_span sp = piece(s, upto);
  if ((rc = perfsplit_split(text, cut, &sp, bucket_ms, out, n))) goto out;
  *used = cut;
  s->from_ms = upto;
out:
  free(e.v);
  return rc;
}

void perfsplit_free(perfsplit_window *w, size_t n) {
  if (!w) return;
  for (size_t i = 0; i < n; i++) free(w[i].text);
  free(w);
}
