/* stats.c - per-interval, per-name measurements: entry lookup, recording, failure tallies, exemplar
 * selection and the exact merge the master and the worker agent both use. */
#include "common/stats.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/grow.h"
#include "common/secret.h"

#define OTHER_NAME "(other)"

static const char *const err_names[STATS_ERR_COUNT] = {
    [STATS_ERR_NONE] = "none",         [STATS_ERR_CONNECT] = "connect", [STATS_ERR_DNS] = "dns",
    [STATS_ERR_TLS] = "tls",           [STATS_ERR_TIMEOUT] = "timeout", [STATS_ERR_RESET] = "reset",
    [STATS_ERR_PROTOCOL] = "protocol", [STATS_ERR_HTTP4XX] = "http4xx", [STATS_ERR_HTTP5XX] = "http5xx",
    [STATS_ERR_SCRIPT] = "script",     [STATS_ERR_OTHER] = "other",
};

const char *stats_err_name(int kind) {
  if (kind < 0 || kind >= STATS_ERR_COUNT) return "other";
  return err_names[kind];
}

int stats_err_parse(const char *name) {
  for (int k = STATS_ERR_FIRST; name && k < STATS_ERR_COUNT; k++)
    if (strcmp(err_names[k], name) == 0) return k;
  return STATS_ERR_NONE;
}

static const char *const phase_names[STATS_PHASE_COUNT] = {
    [STATS_PHASE_BLOCKED] = "blocked",
    [STATS_PHASE_CONNECTING] = "connecting",
    [STATS_PHASE_TLS_HANDSHAKING] = "tls_handshaking",
    [STATS_PHASE_SENDING] = "sending",
    [STATS_PHASE_WAITING] = "waiting",
    [STATS_PHASE_RECEIVING] = "receiving",
};

const char *stats_phase_name(int phase) {
  return phase >= 0 && phase < STATS_PHASE_COUNT ? phase_names[phase] : NULL;
}

int stats_name_in_group(const char *name, const char *group) {
  size_t len = strlen(group);
  return len > 0 && !strncmp(name, group, len) &&
         !strncmp(name + len, STATS_GROUP_SEP, strlen(STATS_GROUP_SEP));
}

/* Length name is stored with: at most max - 1 bytes, not cutting a UTF-8 sequence. */
static size_t cut_len(const char *text, size_t max) {
  size_t len = strnlen(text, max);

  if (len < max) return len;
  len = max - 1;
  while (len > 0 && ((unsigned char)text[len] & 0xc0) == 0x80) len--;
  return len;
}

static void copy_cut(char *dst, size_t size, const char *src) {
  size_t len = cut_len(src ? src : "", size);
  memcpy(dst, src ? src : "", len);
  dst[len] = 0;
}

static int same_name(const char *stored, const char *name) {
  size_t len = cut_len(name, STATS_NAME_MAX);
  return strncmp(stored, name, len) == 0 && stored[len] == 0;
}

int stats_create(stats_interval **out, int64_t start_ms, int64_t interval_ms) {
  stats_interval *s = calloc(1, sizeof *s);
  if (!s) return -ENOMEM;
  s->start_ms = start_ms;
  s->interval_ms = interval_ms;
  *out = s;
  return 0;
}

void stats_destroy(stats_interval *s) {
  if (!s) return;
  for (size_t i = 0; i < s->nentries; i++) {
    hist_destroy(s->entries[i].latency);
    hist_destroy(s->entries[i].service);
    for (int k = 0; k < STATS_PHASE_COUNT; k++) hist_destroy(s->entries[i].phase[k]);
  }
  free(s->entries);
  free(s->by_name);
  free(s->checks);
  for (size_t i = 0; i < s->nmetrics; i++) metric_release(&s->metrics[i]);
  free(s->metrics);
  for (size_t i = 0; i < s->ntagged; i++) hist_destroy(s->tagged[i].latency);
  free(s->tagged);
  free(s);
}

static void entry_clear(stats_entry *e) {
  hist_reset(e->latency);
  hist_reset(e->service);
  for (int k = 0; k < STATS_PHASE_COUNT; k++)
    if (e->phase[k]) hist_reset(e->phase[k]);
  e->count = e->errors = e->bytes_in = e->bytes_out = 0;
  memset(e->err, 0, sizeof e->err);
  e->nslow = e->ntypical = e->nfailures = 0;
}

void stats_reset(stats_interval *s, int64_t start_ms) {
  s->start_ms = start_ms;
  s->users = s->iterations = s->dropped = s->new_conns = 0;
  s->rate = 0;
  for (size_t i = 0; i < s->nentries; i++) entry_clear(&s->entries[i]);
  for (size_t i = 0; i < s->nchecks; i++) s->checks[i].passes = s->checks[i].fails = 0;
  for (size_t i = 0; i < s->nmetrics; i++) metric_clear(&s->metrics[i]);
  for (size_t i = 0; i < s->ntagged; i++) {
    hist_reset(s->tagged[i].latency);
    s->tagged[i].count = s->tagged[i].errors = 0;
  }
  s->tagged_dropped = 0;
}

metric_state *stats_metric_get(stats_interval *s, const char *name, int kind, int *kind_clash) {
  return metric_get(&s->metrics, &s->nmetrics, &s->capmetrics, name, kind, kind_clash);
}

/* FNV-1a of a name as stored: cut to STATS_NAME_MAX - 1 bytes like copy_cut, so a long name and its
 * stored copy hash alike. */
static uint32_t name_hash(const char *name) {
  size_t len = cut_len(name, STATS_NAME_MAX);
  uint32_t h = 2166136261u;
  for (size_t i = 0; i < len; i++) h = (h ^ (unsigned char)name[i]) * 16777619u;
  return h;
}

/* Entries are looked up by name for every request and, on the master, for every entry of every worker's
 * interval: a linear scan made a run with the full STATS_MAX_NAMES quadratic (seconds per interval). */
stats_entry *stats_entry_find(const stats_interval *s, const char *name) {
  if (!name || !s->capby_name) return NULL;
  size_t mask = s->capby_name - 1;
  for (size_t i = name_hash(name) & mask; s->by_name[i]; i = (i + 1) & mask)
    if (same_name(s->entries[s->by_name[i] - 1].name, name)) return &s->entries[s->by_name[i] - 1];
  return NULL;
}

static void index_put(stats_interval *s, size_t entry) {
  size_t mask = s->capby_name - 1, i = name_hash(s->entries[entry].name) & mask;
  while (s->by_name[i]) i = (i + 1) & mask;
  s->by_name[i] = (uint32_t)entry + 1;
}

/* Room in the name index for one more entry (kept under half full). 0 or -ENOMEM. */
static int index_reserve(stats_interval *s) {
  if (2 * (s->nentries + 1) <= s->capby_name) return 0;
  size_t ncap = s->capby_name ? 2 * s->capby_name : 16;
  uint32_t *slots = calloc(ncap, sizeof *slots);
  if (!slots) return -ENOMEM;
  free(s->by_name);
  s->by_name = slots;
  s->capby_name = ncap;
  for (size_t i = 0; i < s->nentries; i++) index_put(s, i);
  return 0;
}

/* name, or a copy in buf with its secrets hidden (common/secret.h) when it may hold one. Stored names
 * are already hidden, so callers look the raw name up first and come here only on a miss: a name
 * without a secret never pays for the scan. */
static const char *visible(const char *name, char *buf, size_t size) {
  if (!name || (secret_count() == 0 && !strstr(name, "://"))) return name;
  snprintf(buf, size, "%s", name);
  secret_scrub(buf);
  return buf;
}

stats_entry *stats_entry_get(stats_interval *s, const char *name, const char *method) {
  char shown[STATS_NAME_MAX];
  stats_entry *e = stats_entry_find(s, name);

  if (e || !name) return e;
  if ((name = visible(name, shown, sizeof shown)) == shown && (e = stats_entry_find(s, name))) return e;
  /* The last slot is kept for "(other)" so folding always succeeds. */
  if (s->nentries >= STATS_MAX_NAMES || (s->nentries >= STATS_MAX_NAMES - 1 && strcmp(name, OTHER_NAME)))
    return NULL;
  if (grow_room(&s->entries, &s->capentries, s->nentries + 1, sizeof *s->entries, 8) < 0) return NULL;
  if (index_reserve(s) < 0) return NULL;
  e = &s->entries[s->nentries];
  memset(e, 0, sizeof *e);
  if (hist_create(&e->latency) < 0 || hist_create(&e->service) < 0) {
    hist_destroy(e->latency);
    return NULL;
  }
  copy_cut(e->name, sizeof e->name, name);
  copy_cut(e->method, sizeof e->method, method);
  e->no_phases = s->nentries >= STATS_PHASE_NAMES;
  index_put(s, s->nentries++);
  return e;
}

stats_check *stats_check_get(stats_interval *s, const char *name) {
  char shown[STATS_NAME_MAX];
  if (!name) return NULL;
  for (int pass = 0; pass < 2; pass++) { /* the raw name, then (if it differs) the hidden one */
    for (size_t i = 0; i < s->nchecks; i++)
      if (same_name(s->checks[i].name, name)) return &s->checks[i];
    if (pass == 0 && (name = visible(name, shown, sizeof shown)) != shown) break;
  }
  if (s->nchecks >= STATS_MAX_NAMES) return NULL;
  if (grow_room(&s->checks, &s->capchecks, s->nchecks + 1, sizeof *s->checks, 8) < 0) return NULL;
  stats_check *c = &s->checks[s->nchecks++];
  memset(c, 0, sizeof *c);
  copy_cut(c->name, sizeof c->name, name);
  return c;
}

stats_tagged *stats_tagged_get(stats_interval *s, size_t entry, const char *tags) {
  stats_tagged *t;

  if (entry >= s->nentries || !tags) return NULL;
  for (size_t i = 0; i < s->ntagged; i++)
    if (s->tagged[i].entry == entry && !strcmp(s->tagged[i].tags, tags)) return &s->tagged[i];
  if (s->ntagged >= STATS_MAX_TAGGED || strlen(tags) >= TAGSET_MAX) return NULL;
  if (grow_room(&s->tagged, &s->captagged, s->ntagged + 1, sizeof *s->tagged, 8) < 0) return NULL;
  t = &s->tagged[s->ntagged];
  memset(t, 0, sizeof *t);
  if (hist_create(&t->latency) < 0) return NULL;
  t->entry = entry;
  memcpy(t->tags, tags, strlen(tags) + 1);
  s->ntagged++;
  return t;
}

void stats_tagged_record(stats_tagged *t, int64_t latency_us, int failed) {
  hist_record(t->latency, latency_us);
  t->count++;
  if (failed) t->errors++;
}

void stats_entry_record(stats_entry *e, int64_t latency_us, int64_t service_us) {
  hist_record(e->latency, latency_us);
  hist_record(e->service, service_us);
  e->count++;
}

/* Add count failures of (kind, message) to the distinct-message table; dropped when it is full. */
static void failure_add(stats_entry *e, int kind, const char *message, int64_t count) {
  char cut[STATS_MESSAGE_MAX];

  copy_cut(cut, sizeof cut, message);
  secret_scrub(cut);
  for (int i = 0; i < e->nfailures; i++) {
    stats_failure *f = &e->failures[i];
    if (f->kind == kind && strcmp(f->message, cut) == 0) {
      f->count += count;
      return;
    }
  }
  if (e->nfailures >= STATS_FAILURES) return;
  stats_failure *f = &e->failures[e->nfailures++];
  f->kind = kind;
  memcpy(f->message, cut, sizeof cut);
  f->count = count;
}

void stats_entry_fail(stats_entry *e, int kind, const char *message) {
  if (kind <= STATS_ERR_NONE || kind >= STATS_ERR_COUNT) kind = STATS_ERR_OTHER;
  e->err[kind]++;
  e->errors++;
  failure_add(e, kind, message, 1);
}

/* Insert x into the slowest-first list if it is among the STATS_EXEMPLARS slowest. */
static void slow_offer(stats_entry *e, const stats_exemplar *x) {
  int pos = e->nslow;

  while (pos > 0 && e->slow[pos - 1].latency_us < x->latency_us) pos--;
  if (pos >= STATS_EXEMPLARS) return;
  int keep = e->nslow < STATS_EXEMPLARS ? e->nslow : STATS_EXEMPLARS - 1;
  memmove(&e->slow[pos + 1], &e->slow[pos], (size_t)(keep - pos) * sizeof *x);
  e->slow[pos] = *x;
  if (e->nslow < STATS_EXEMPLARS) e->nslow++;
}

void stats_entry_exemplar(stats_entry *e, const stats_exemplar *x, uint64_t random) {
  slow_offer(e, x);
  /* Reservoir sample over the requests seen so far: a uniform pick is typical by construction. */
  if (e->ntypical < STATS_EXEMPLARS) {
    e->typical[e->ntypical++] = *x;
    return;
  }
  uint64_t seen = e->count > 0 ? (uint64_t)e->count : 1;
  uint64_t slot = random % seen;
  if (slot < STATS_EXEMPLARS) e->typical[slot] = *x;
}

hist *stats_entry_phase(stats_entry *e, int phase) {
  if (phase < 0 || phase >= STATS_PHASE_COUNT) return NULL;
  if (!e->phase[phase] && hist_create(&e->phase[phase]) < 0) return NULL;
  return e->phase[phase];
}

/* value_us kept to STATS_PHASE_BITS significant bits (HdrHistogram's 2 significant digits): the highest
 * value of its coarse slot, so that it also lies in the highest 3-digit slot inside that coarse one. */
static int64_t coarse(int64_t value_us) {
  if (value_us < (1 << STATS_PHASE_BITS)) return value_us < 0 ? 0 : value_us;
  int shift = 64 - __builtin_clzll((uint64_t)value_us) - STATS_PHASE_BITS;
  return value_us | (((int64_t)1 << shift) - 1);
}

int stats_entry_phases(stats_entry *e, const int64_t phase_us[STATS_PHASE_COUNT]) {
  if (e->no_phases) return 0;
  if (!e->phase[STATS_PHASE_COUNT - 1]) /* created together, last one last */
    for (int k = 0; k < STATS_PHASE_COUNT; k++)
      if (!stats_entry_phase(e, k)) return -ENOMEM;
  for (int k = 0; k < STATS_PHASE_COUNT; k++) hist_record(e->phase[k], coarse(phase_us[k]));
  return 0;
}

/* dst's phase histograms += src's (created in dst when src has them). -ENOMEM. */
static int phases_merge(stats_entry *dst, const stats_entry *src) {
  for (int k = 0; k < STATS_PHASE_COUNT; k++) {
    if (!src->phase[k] || hist_count(src->phase[k]) == 0) continue;
    hist *h = stats_entry_phase(dst, k);
    if (!h) return -ENOMEM;
    hist_add(h, src->phase[k]);
  }
  return 0;
}

static int entry_merge(stats_entry *dst, const stats_entry *src) {
  stats_exemplar typical[STATS_EXEMPLARS];
  int n = 0;

  hist_add(dst->latency, src->latency);
  hist_add(dst->service, src->service);
  if (phases_merge(dst, src) < 0) return -ENOMEM;
  dst->count += src->count;
  dst->errors += src->errors;
  for (int k = 0; k < STATS_ERR_COUNT; k++) dst->err[k] += src->err[k];
  dst->bytes_in += src->bytes_in;
  dst->bytes_out += src->bytes_out;
  for (int i = 0; i < src->nslow; i++) slow_offer(dst, &src->slow[i]);
  /* Typical samples interleave dst and src so both sides stay represented. */
  for (int i = 0; i < STATS_EXEMPLARS && n < STATS_EXEMPLARS; i++) {
    if (i < dst->ntypical) typical[n++] = dst->typical[i];
    if (i < src->ntypical && n < STATS_EXEMPLARS) typical[n++] = src->typical[i];
  }
  memcpy(dst->typical, typical, (size_t)n * sizeof *typical);
  dst->ntypical = n;
  for (int i = 0; i < src->nfailures; i++)
    failure_add(dst, src->failures[i].kind, src->failures[i].message, src->failures[i].count);
  return 0;
}

/* src's tagged series into dst; map[i] is the dst index of src's entry i. 0 or -ENOMEM. */
static int merge_tagged(stats_interval *dst, const stats_interval *src, const size_t *map) {
  dst->tagged_dropped += src->tagged_dropped;
  for (size_t i = 0; i < src->ntagged; i++) {
    const stats_tagged *st = &src->tagged[i];
    stats_tagged *dt = st->entry < src->nentries ? stats_tagged_get(dst, map[st->entry], st->tags) : NULL;
    if (!dt && dst->ntagged >= STATS_MAX_TAGGED) {
      dst->tagged_dropped += st->count;
      continue;
    }
    if (!dt) return -ENOMEM;
    hist_add(dt->latency, st->latency);
    dt->count += st->count;
    dt->errors += st->errors;
  }
  return 0;
}

int stats_merge(stats_interval *dst, const stats_interval *src) {
  size_t *map = src->ntagged ? calloc(src->nentries, sizeof *map) : NULL;
  int rc = 0;

  if (src->ntagged && !map) return -ENOMEM;
  dst->users += src->users;
  dst->rate += src->rate;
  dst->iterations += src->iterations;
  dst->dropped += src->dropped;
  dst->new_conns += src->new_conns;
  for (size_t i = 0; i < src->nentries; i++) {
    const stats_entry *se = &src->entries[i];
    /* Names usually come in the same order on both sides: try the same position before searching. */
    stats_entry *de = i < dst->nentries && !strcmp(dst->entries[i].name, se->name)
                          ? &dst->entries[i]
                          : stats_entry_get(dst, se->name, se->method);
    if (!de && stats_entry_find(dst, se->name) == NULL && dst->nentries >= STATS_MAX_NAMES - 1)
      de = stats_entry_get(dst, OTHER_NAME, "");
    if (!de || entry_merge(de, se) < 0) {
      free(map);
      return -ENOMEM;
    }
    if (map) map[i] = (size_t)(de - dst->entries);
  }
  if (map) rc = merge_tagged(dst, src, map);
  free(map);
  if (rc < 0) return rc;
  for (size_t i = 0; i < src->nchecks; i++) {
    stats_check *dc = stats_check_get(dst, src->checks[i].name);
    if (!dc) return -ENOMEM;
    dc->passes += src->checks[i].passes;
    dc->fails += src->checks[i].fails;
  }
  for (size_t i = 0; i < src->nmetrics; i++) {
    const metric_state *sm = &src->metrics[i];
    metric_state *dm = stats_metric_get(dst, sm->name, sm->kind, NULL);
    if (dm) metric_merge(dm, sm); /* a name used with two kinds keeps the first kind seen */
  }
  return 0;
}
