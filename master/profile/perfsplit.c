/* perfsplit.c - `perf script` text cut into profile windows by sample time (perfsplit.h). */
#include "master/profile/perfsplit.h"
#include "common/grow.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
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

/* The time token of a header ("123.456:"): its offset and length (1 when found). */
static int time_token(const char *line, size_t len, size_t *at, size_t *n) {
  size_t i = 0;
  while (i < len && line[i] != '\n') {
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
      *at = tok, *n = i - 1 - tok;
      return 1;
    }
  }
  return 0;
}

int perfsplit_header_ms(const char *line, size_t len, double *ms) {
  size_t at, n;
  if (!time_token(line, len, &at, &n)) return 0;
  *ms = strtod(line + at, NULL) * 1000.0;
  return 1;
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

/* What an event is: a sample (CPU, any event but these), a thread switched out to wait (sched:sched_switch
 * with a sleeping prev_state), one preempted (prev_state R: runnable, CPU contention, not a wait), or the
 * records of `--switch-events` ("PERF_RECORD_SWITCH IN", "... OUT"). */
enum { EV_SAMPLE, EV_WAIT, EV_PREEMPT, EV_IN, EV_OUT };

static int kind_of(const char *line, size_t len) {
  const char *nl = memchr(line, '\n', len);
  size_t n = nl ? (size_t)(nl - line) : len;
  char head[1024];
  snprintf(head, sizeof head, "%.*s", (int)(n < sizeof head ? n : sizeof head - 1), line);
  if (strstr(head, "PERF_RECORD_SWITCH")) return strstr(head, "PERF_RECORD_SWITCH IN") ? EV_IN : EV_OUT;
  if (!strstr(head, " sched:sched_switch:")) return EV_SAMPLE;
  const char *st = strstr(head, "prev_state=");
  return st && st[11] == 'R' ? EV_PREEMPT : EV_WAIT;
}

/* The thread of an event header: its "pid" or "pid/tid" token (the last all-digit token before the time). */
static size_t thread_of(const char *line, size_t len, const char **tok) {
  size_t i = 0, found = 0;
  *tok = line;
  while (i < len && line[i] != '\n') {
    while (i < len && (line[i] == ' ' || line[i] == '\t')) i++;
    size_t t = i;
    while (i < len && line[i] != ' ' && line[i] != '\t' && line[i] != '\n') i++;
    if (i > t && line[i - 1] == ':') break; /* the time */
    if (t > 0 && i > t && strspn(line + t, "0123456789/") == i - t) *tok = line + t, found = i - t;
  }
  return found;
}

/* Off-CPU ticks of a wait from wall lo to hi within [from, to): the instants of the PERFSPLIT_OFFCPU_TICK_MS
 * grid it holds, what polling every thread at that rate would have seen waiting there. */
static int64_t ticks(double lo, double hi, double from, double to) {
  lo = fmax(lo, from), hi = fmin(hi, to);
  return hi > lo
             ? (int64_t)floor(hi / PERFSPLIT_OFFCPU_TICK_MS) - (int64_t)floor(lo / PERFSPLIT_OFFCPU_TICK_MS)
             : 0;
}

/* Event i (a wait) into every bucket its time off CPU overlaps, its header marked " offcpu_ticks=N": it
 * ends at the thread's next event that shows it running (a switch-in record, a sample, its next switch),
 * else at the span's end. */
/* A wait still going on at the span's end, into carry (when not NULL): its event again, timed at the end. */
static int carry_wait(const char *ev, size_t len, double sample_ms, perfsplit_window *carry) {
  size_t at, n;
  char t[48];
  if (!carry || !time_token(ev, len, &at, &n)) return 0;
  int m = snprintf(t, sizeof t, "%.6f", sample_ms / 1000.0);
  if (append(carry, ev, at) || append(carry, t, (size_t)m) || append(carry, ev + at + n, len - at - n))
    return -ENOMEM;
  carry->events -= 2;
  return 0;
}

static int fill_wait(const char *text, const events *e, size_t i, const perfsplit_span *s, int64_t bucket_ms,
                     double offset, int64_t b0, perfsplit_window *w, perfsplit_window *carry) {
  const char *me, *him;
  size_t nme = thread_of(text + e->v[i].off, e->v[i].len, &me);
  double lo = e->v[i].ms + offset, hi = (double)s->end_ms;
  int open = 1;
  for (size_t j = i + 1; nme && j < e->n; j++) {
    if (isnan(e->v[j].ms) || kind_of(text + e->v[j].off, e->v[j].len) == EV_OUT) continue;
    size_t nhim = thread_of(text + e->v[j].off, e->v[j].len, &him);
    if (nhim == nme && memcmp(me, him, nme) == 0) {
      hi = fmin(hi, e->v[j].ms + offset), open = 0;
      break;
    }
  }
  if (open && carry_wait(text + e->v[i].off, e->v[i].len, (double)s->end_ms - offset, carry)) return -ENOMEM;
  const char *nl = memchr(text + e->v[i].off, '\n', e->v[i].len);
  size_t head = nl ? (size_t)(nl - text - e->v[i].off) : e->v[i].len;
  for (int64_t b = bucket_of(lo, s, bucket_ms); b <= bucket_of(hi, s, bucket_ms); b++) {
    int64_t n = ticks(lo, hi, (double)(b * bucket_ms), (double)((b + 1) * bucket_ms));
    char mark[48];
    int m = snprintf(mark, sizeof mark, " offcpu_ticks=%lld", (long long)n);
    if (n <= 0) continue;
    perfsplit_window *x = &w[b - b0];
    if (append(x, text + e->v[i].off, head) || append(x, mark, (size_t)m) ||
        append(x, text + e->v[i].off + head, e->v[i].len - head))
      return -ENOMEM;
    x->events -= 2;
  }
  return 0;
}

/* Events into buckets [b0, b0 + nb); untimed events go with the timed one before them. Waits go where their
 * time off CPU is (fill_wait); preemptions and switch records only mark time, they are not kept. */
static int fill(const char *text, const events *e, const perfsplit_span *s, int64_t bucket_ms, double offset,
                int64_t b0, perfsplit_window *w, perfsplit_window *carry) {
  int64_t cur = b0;
  for (size_t i = 0; i < e->n; i++) {
    int k = kind_of(text + e->v[i].off, e->v[i].len);
    if (!isnan(e->v[i].ms)) cur = bucket_of(e->v[i].ms + offset, s, bucket_ms);
    if (k == EV_WAIT && !isnan(e->v[i].ms)) {
      if (fill_wait(text, e, i, s, bucket_ms, offset, b0, w, carry)) return -ENOMEM;
    } else if (k == EV_SAMPLE && append(&w[cur - b0], text + e->v[i].off, e->v[i].len))
      return -ENOMEM;
  }
  return 0;
}

static int split(const char *text, size_t len, const perfsplit_span *span, int64_t bucket_ms,
                 perfsplit_window **out, size_t *n, perfsplit_window *carry);

int perfsplit_split(const char *text, size_t len, const perfsplit_span *span, int64_t bucket_ms,
                    perfsplit_window **out, size_t *n) {
  return split(text, len, span, bucket_ms, out, n, NULL);
}

static int split(const char *text, size_t len, const perfsplit_span *span, int64_t bucket_ms,
                 perfsplit_window **out, size_t *n, perfsplit_window *carry) {
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
  if (!(w = calloc((size_t)nb, sizeof *w)) || fill(text, &e, span, bucket_ms, offset, b0, w, carry)) goto out;
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
  perfsplit_window carry = {0}, all = {0}; /* the waits still going on at from_ms begin the piece */
  if (append(&all, s->open ? s->open : "", s->open_len) || append(&all, text, cut)) {
    free(all.text);
    rc = -ENOMEM;
    goto out;
  }
  rc = split(all.text, all.len, &sp, bucket_ms, out, n, final ? NULL : &carry);
  free(all.text);
  if (rc) {
    free(carry.text);
    goto out;
  }
  free(s->open);
  s->open = carry.text, s->open_len = carry.len;
  *used = cut;
  s->from_ms = upto;
out:
  free(e.v);
  return rc;
}

void perfsplit_stream_free(perfsplit_stream *s) {
  free(s->open);
  s->open = NULL, s->open_len = 0;
}

void perfsplit_free(perfsplit_window *w, size_t n) {
  if (!w) return;
  for (size_t i = 0; i < n; i++) free(w[i].text);
  free(w);
}
