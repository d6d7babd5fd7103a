/* pprof.c - the decoded profile of pprof.h in memory: interning of strings, functions and samples (hash
 * indexes), merge, label filter and diff. The wire side (profile.proto + gzip) is pprof_proto.c. */
#include "master/profile/pprof.h"
#include "common/grow.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Open-addressing table of uint32 indices (slot = index + 1, 0 = empty); one per kind of key. */
typedef struct tab {
  uint32_t *slots;
  size_t cap; /* power of two */
  size_t used;
} tab;

typedef struct pindex {
  tab strings, functions, samples;
  size_t cap_strings, cap_functions, cap_samples; /* allocated array lengths */
} pindex;

typedef int (*eq_fn)(const pprof_profile *p, uint32_t idx, const void *key);
typedef uint64_t (*hash_fn)(const pprof_profile *p, uint32_t idx);

static uint64_t mix(uint64_t h, uint64_t v) {
  h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
  return h * 0xff51afd7ed558ccdULL;
}

static uint64_t hash_str(const char *s) {
  uint64_t h = 1469598103934665603ULL;
  for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ULL;
  return h;
}

/* Find key; returns the slot position, and *found = the index stored there or UINT32_MAX (empty slot). */
static size_t tab_find(const tab *t, const pprof_profile *p, uint64_t h, const void *key, eq_fn eq,
                       uint32_t *found) {
  size_t mask = t->cap - 1, pos = (size_t)h & mask;
  for (;;) {
    uint32_t s = t->slots[pos];
    if (s == 0) {
      *found = UINT32_MAX;
      return pos;
    }
    if (eq(p, s - 1, key)) {
      *found = s - 1;
      return pos;
    }
    pos = (pos + 1) & mask;
  }
}

/* Make room for one more entry (rehash at 50 % load). 0 or -ENOMEM. */
static int tab_reserve(tab *t, const pprof_profile *p, hash_fn hf) {
  if (t->cap && (t->used + 1) * 2 <= t->cap) return 0;
  size_t ncap = t->cap ? t->cap * 2 : 64;
  uint32_t *ns = calloc(ncap, sizeof *ns);
  if (!ns) return -ENOMEM;
  for (size_t i = 0; i < t->cap; i++) {
    if (!t->slots[i]) continue;
    size_t pos = (size_t)hf(p, t->slots[i] - 1) & (ncap - 1);
    while (ns[pos]) pos = (pos + 1) & (ncap - 1);
    ns[pos] = t->slots[i];
  }
  free(t->slots);
  t->slots = ns;
  t->cap = ncap;
  return 0;
}

/* ---- strings ---- */

static int str_eq(const pprof_profile *p, uint32_t idx, const void *key) {
  return strcmp(p->strings[idx], key) == 0;
}
static uint64_t str_hash(const pprof_profile *p, uint32_t idx) {
  return hash_str(p->strings[idx]);
}

int64_t pprof_intern(pprof_profile *p, const char *s) {
  pindex *ix = p->index;
  uint32_t found;
  if (tab_reserve(&ix->strings, p, str_hash)) return -ENOMEM;
  size_t pos = tab_find(&ix->strings, p, hash_str(s), s, str_eq, &found);
  if (found != UINT32_MAX) return found;
  if (p->nstrings >= UINT32_MAX - 1) return -E2BIG;
  if (grow_room(&p->strings, &ix->cap_strings, p->nstrings + 1, sizeof *p->strings, 16)) return -ENOMEM;
  char *copy = strdup(s);
  if (!copy) return -ENOMEM;
  p->strings[p->nstrings] = copy;
  ix->strings.slots[pos] = (uint32_t)p->nstrings + 1;
  ix->strings.used++;
  return (int64_t)p->nstrings++;
}

/* ---- functions ---- */

static int fn_eq(const pprof_profile *p, uint32_t idx, const void *key) {
  const pprof_function *a = &p->functions[idx], *b = key;
  return a->name == b->name && a->filename == b->filename;
}
static uint64_t fn_hash_of(const pprof_function *f) {
  return mix(mix(7, f->name), f->filename);
}
static uint64_t fn_hash(const pprof_profile *p, uint32_t idx) {
  return fn_hash_of(&p->functions[idx]);
}

int64_t pprof_function_add(pprof_profile *p, const pprof_function *f) {
  if (f->name >= p->nstrings || f->system_name >= p->nstrings || f->filename >= p->nstrings) return -EINVAL;
  pindex *ix = p->index;
  uint32_t found;
  if (tab_reserve(&ix->functions, p, fn_hash)) return -ENOMEM;
  size_t pos = tab_find(&ix->functions, p, fn_hash_of(f), f, fn_eq, &found);
  if (found != UINT32_MAX) return found;
  if (p->nfunctions >= UINT32_MAX - 1) return -E2BIG;
  if (grow_room(&p->functions, &ix->cap_functions, p->nfunctions + 1, sizeof *p->functions, 16))
    return -ENOMEM;
  p->functions[p->nfunctions] = *f;
  ix->functions.slots[pos] = (uint32_t)p->nfunctions + 1;
  ix->functions.used++;
  return (int64_t)p->nfunctions++;
}

int64_t pprof_function_intern(pprof_profile *p, const char *name, const char *filename) {
  int64_t n = pprof_intern(p, name ? name : "");
  int64_t f = pprof_intern(p, filename ? filename : "");
  if (n < 0) return n;
  if (f < 0) return f;
  pprof_function fn = {.name = (uint32_t)n, .system_name = (uint32_t)n, .filename = (uint32_t)f};
  return pprof_function_add(p, &fn);
}

/* ---- samples ---- */

typedef struct sample_key {
  const uint32_t *stack;
  size_t nstack;
  const pprof_label *labels;
  size_t nlabels;
} sample_key;

static int label_cmp(const void *a, const void *b) {
  const pprof_label *x = a, *y = b;
  if (x->key != y->key) return x->key < y->key ? -1 : 1;
  if (x->str != y->str) return x->str < y->str ? -1 : 1;
  if (x->num != y->num) return x->num < y->num ? -1 : 1;
  if (x->num_unit != y->num_unit) return x->num_unit < y->num_unit ? -1 : 1;
  return 0;
}

static uint64_t key_hash(const sample_key *k) {
  uint64_t h = mix(11, k->nstack);
  for (size_t i = 0; i < k->nstack; i++) h = mix(h, k->stack[i]);
  for (size_t i = 0; i < k->nlabels; i++)
    h = mix(mix(mix(h, k->labels[i].key), k->labels[i].str), (uint64_t)k->labels[i].num);
  return h;
}

static int sample_eq(const pprof_profile *p, uint32_t idx, const void *key) {
  const pprof_sample *s = &p->samples[idx];
  const sample_key *k = key;
  if (s->nstack != k->nstack || s->nlabels != k->nlabels) return 0;
  if (k->nstack && memcmp(s->stack, k->stack, k->nstack * sizeof *k->stack)) return 0;
  for (size_t i = 0; i < k->nlabels; i++)
    if (label_cmp(&s->labels[i], &k->labels[i])) return 0;
  return 1;
}

static uint64_t sample_hash(const pprof_profile *p, uint32_t idx) {
  const pprof_sample *s = &p->samples[idx];
  sample_key k = {s->stack, s->nstack, s->labels, s->nlabels};
  return key_hash(&k);
}

static int check_label(const pprof_profile *p, const pprof_label *l) {
  if (l->key == 0 || l->key >= p->nstrings || l->str >= p->nstrings || l->num_unit >= p->nstrings)
    return -EINVAL;
  return 0;
}

static int sample_append(pprof_profile *p, size_t pos, const sample_key *k, const int64_t *values) {
  pindex *ix = p->index;
  pprof_sample s = {0};
  if (grow_room(&p->samples, &ix->cap_samples, p->nsamples + 1, sizeof *p->samples, 16)) return -ENOMEM;
  s.stack = malloc((k->nstack ? k->nstack : 1) * sizeof *s.stack);
  s.values = malloc((p->nsample_types ? p->nsample_types : 1) * sizeof *s.values);
  s.labels = malloc((k->nlabels ? k->nlabels : 1) * sizeof *s.labels);
  if (!s.stack || !s.values || !s.labels) goto fail;
  if (k->nstack) memcpy(s.stack, k->stack, k->nstack * sizeof *s.stack);
  if (k->nlabels) memcpy(s.labels, k->labels, k->nlabels * sizeof *s.labels);
  if (p->nsample_types) memcpy(s.values, values, p->nsample_types * sizeof *s.values);
  s.nstack = k->nstack;
  s.nlabels = k->nlabels;
  p->samples[p->nsamples] = s;
  ix->samples.slots[pos] = (uint32_t)p->nsamples + 1;
  ix->samples.used++;
  p->nsamples++;
  return 0;
fail:
  free(s.stack);
  free(s.values);
  free(s.labels);
  return -ENOMEM;
}

int pprof_add_sample(pprof_profile *p, const uint32_t *stack, size_t nstack, const int64_t *values,
                     const pprof_label *labels, size_t nlabels) {
  pprof_label sorted[PPROF_MAX_LABELS];
  if (nstack > PPROF_MAX_STACK || nlabels > PPROF_MAX_LABELS || p->nsamples >= UINT32_MAX - 1) return -EINVAL;
  for (size_t i = 0; i < nstack; i++)
    if (stack[i] >= p->nfunctions) return -EINVAL;
  for (size_t i = 0; i < nlabels; i++) {
    if (check_label(p, &labels[i])) return -EINVAL;
    sorted[i] = labels[i];
  }
  if (nlabels > 1) qsort(sorted, nlabels, sizeof *sorted, label_cmp);
  sample_key k = {stack, nstack, sorted, nlabels};
  pindex *ix = p->index;
  uint32_t found;
  if (tab_reserve(&ix->samples, p, sample_hash)) return -ENOMEM;
  size_t pos = tab_find(&ix->samples, p, key_hash(&k), &k, sample_eq, &found);
  if (found == UINT32_MAX) return sample_append(p, pos, &k, values);
  for (size_t v = 0; v < p->nsample_types; v++) p->samples[found].values[v] += values[v];
  return 0;
}

/* ---- create / free ---- */

pprof_profile *pprof_create(const char *type, const char *unit) {
  pprof_profile *p = calloc(1, sizeof *p);
  if (!p || !(p->index = calloc(1, sizeof(pindex)))) goto fail;
  if (pprof_intern(p, "") != 0) goto fail;
  if (type && pprof_add_sample_type(p, type, unit ? unit : "count")) goto fail;
  return p;
fail:
  pprof_free(p);
  return NULL;
}

int pprof_add_sample_type(pprof_profile *p, const char *type, const char *unit) {
  if (p->nsamples || p->nsample_types >= PPROF_MAX_VALUES) return -EINVAL;
  int64_t t = pprof_intern(p, type), u = pprof_intern(p, unit);
  if (t < 0 || u < 0) return -ENOMEM;
  pprof_value_type *n = realloc(p->sample_types, (p->nsample_types + 1) * sizeof *n);
  if (!n) return -ENOMEM;
  p->sample_types = n;
  n[p->nsample_types++] = (pprof_value_type){(uint32_t)t, (uint32_t)u};
  return 0;
}

void pprof_free(pprof_profile *p) {
  if (!p) return;
  for (size_t i = 0; i < p->nstrings; i++) free(p->strings[i]);
  for (size_t i = 0; i < p->nsamples; i++) {
    free(p->samples[i].stack);
    free(p->samples[i].values);
    free(p->samples[i].labels);
  }
  pindex *ix = p->index;
  if (ix) {
    free(ix->strings.slots);
    free(ix->functions.slots);
    free(ix->samples.slots);
    free(ix);
  }
  free(p->strings);
  free(p->functions);
  free(p->samples);
  free(p->sample_types);
  free(p);
}

/* ---- queries ---- */

int pprof_sample_type_index(const pprof_profile *p, const char *type) {
  for (size_t i = 0; i < p->nsample_types; i++)
    if (strcmp(p->strings[p->sample_types[i].type], type) == 0) return (int)i;
  return -1;
}

int64_t pprof_total(const pprof_profile *p, size_t vi) {
  int64_t sum = 0;
  if (vi >= p->nsample_types) return 0;
  for (size_t i = 0; i < p->nsamples; i++) sum += p->samples[i].values[vi];
  return sum;
}

int pprof_function_totals(const pprof_profile *p, size_t vi, int64_t *self, int64_t *cum) {
  if (vi >= p->nsample_types) return -EINVAL;
  unsigned char *seen = calloc(p->nfunctions ? p->nfunctions : 1, 1);
  if (!seen) return -ENOMEM;
  if (self) memset(self, 0, p->nfunctions * sizeof *self);
  if (cum) memset(cum, 0, p->nfunctions * sizeof *cum);
  for (size_t i = 0; i < p->nsamples; i++) {
    const pprof_sample *s = &p->samples[i];
    if (self && s->nstack) self[s->stack[0]] += s->values[vi];
    if (!cum) continue;
    for (size_t j = 0; j < s->nstack; j++) {
      if (seen[s->stack[j]]) continue;
      seen[s->stack[j]] = 1;
      cum[s->stack[j]] += s->values[vi];
    }
    for (size_t j = 0; j < s->nstack; j++) seen[s->stack[j]] = 0;
  }
  free(seen);
  return 0;
}

const char *pprof_label_get(const pprof_profile *p, const pprof_sample *s, const char *key) {
  for (size_t i = 0; i < s->nlabels; i++)
    if (s->labels[i].str && strcmp(p->strings[s->labels[i].key], key) == 0)
      return p->strings[s->labels[i].str];
  return NULL;
}

const char *pprof_strerror(int rc) {
  switch (rc) {
    case 0:
      return "ok";
    case -PPROF_EFORMAT:
      return "malformed profile";
    case -E2BIG:
      return "profile exceeds size limits";
    case -ENOMEM:
      return "out of memory";
    case -EINVAL:
      return "invalid argument (sample types differ or index out of range)";
    default:
      return rc < 0 ? strerror(-rc) : "unknown";
  }
}

/* ---- merge / filter / diff ---- */

static int types_match(const pprof_profile *a, const pprof_profile *b) {
  if (a->nsample_types != b->nsample_types) return 0;
  for (size_t i = 0; i < a->nsample_types; i++) {
    if (strcmp(a->strings[a->sample_types[i].type], b->strings[b->sample_types[i].type]) ||
        strcmp(a->strings[a->sample_types[i].unit], b->strings[b->sample_types[i].unit]))
      return 0;
  }
  return 1;
}

/* Add src's samples selected by keep (NULL = all) into dst with values multiplied by sign. */
static int add_from(pprof_profile *dst, const pprof_profile *src, int64_t sign,
                    int (*keep)(const pprof_profile *, const pprof_sample *, const void *), const void *arg) {
  int rc = -ENOMEM;
  uint32_t *smap = malloc((src->nstrings ? src->nstrings : 1) * sizeof *smap);
  uint32_t *fmap = malloc((src->nfunctions ? src->nfunctions : 1) * sizeof *fmap);
  uint32_t stack[PPROF_MAX_STACK];
  pprof_label labels[PPROF_MAX_LABELS];
  int64_t values[PPROF_MAX_VALUES];
  if (!smap || !fmap) goto out;
  for (size_t i = 0; i < src->nstrings; i++) {
    int64_t s = pprof_intern(dst, src->strings[i]);
    if (s < 0) goto out;
    smap[i] = (uint32_t)s;
  }
  for (size_t i = 0; i < src->nfunctions; i++) {
    const pprof_function *f = &src->functions[i];
    pprof_function nf = {smap[f->name], smap[f->system_name], smap[f->filename], f->start_line};
    int64_t fi = pprof_function_add(dst, &nf);
    if (fi < 0) goto out;
    fmap[i] = (uint32_t)fi;
  }
  for (size_t i = 0; i < src->nsamples; i++) {
    const pprof_sample *s = &src->samples[i];
    if (keep && !keep(src, s, arg)) continue;
    for (size_t j = 0; j < s->nstack; j++) stack[j] = fmap[s->stack[j]];
    for (size_t j = 0; j < s->nlabels; j++)
      labels[j] = (pprof_label){smap[s->labels[j].key], smap[s->labels[j].str], s->labels[j].num,
                                smap[s->labels[j].num_unit]};
    for (size_t v = 0; v < src->nsample_types; v++) values[v] = sign * s->values[v];
    if ((rc = pprof_add_sample(dst, stack, s->nstack, values, labels, s->nlabels))) goto out;
  }
  rc = 0;
out:
  free(smap);
  free(fmap);
  return rc;
}

/* Copy header fields (types, period, times) of src into the empty profile dst. */
static int copy_header(pprof_profile *dst, const pprof_profile *src) {
  for (size_t i = 0; i < src->nsample_types; i++) {
    int rc = pprof_add_sample_type(dst, src->strings[src->sample_types[i].type],
                                   src->strings[src->sample_types[i].unit]);
    if (rc) return rc;
  }
  int64_t t = pprof_intern(dst, src->strings[src->period_type.type]);
  int64_t u = pprof_intern(dst, src->strings[src->period_type.unit]);
  int64_t d = pprof_intern(dst, src->strings[src->default_sample_type]);
  if (t < 0 || u < 0 || d < 0) return -ENOMEM;
  dst->period_type = (pprof_value_type){(uint32_t)t, (uint32_t)u};
  dst->default_sample_type = (uint32_t)d;
  dst->period = src->period;
  dst->time_nanos = src->time_nanos;
  dst->duration_nanos = src->duration_nanos;
  return 0;
}

int pprof_merge(pprof_profile *dst, const pprof_profile *src) {
  if (!dst->nsamples && !dst->nsample_types) {
    int rc = copy_header(dst, src);
    if (rc) return rc;
  } else if (!types_match(dst, src)) {
    return -EINVAL;
  }
  if (src->time_nanos) {
    int64_t end = dst->time_nanos ? dst->time_nanos + dst->duration_nanos : 0;
    int64_t send = src->time_nanos + src->duration_nanos;
    if (!dst->time_nanos || src->time_nanos < dst->time_nanos) dst->time_nanos = src->time_nanos;
    if (send > end) end = send;
    dst->duration_nanos = end - dst->time_nanos;
  }
  if (!dst->period) dst->period = src->period;
  return add_from(dst, src, 1, NULL, NULL);
}

typedef struct label_match {
  const char *key, *value;
} label_match;

static int keep_label(const pprof_profile *p, const pprof_sample *s, const void *arg) {
  const label_match *m = arg;
  const char *v = pprof_label_get(p, s, m->key);
  return v && (!m->value || strcmp(v, m->value) == 0);
}

pprof_profile *pprof_filter_label(const pprof_profile *p, const char *key, const char *value) {
  pprof_profile *out = pprof_create(NULL, NULL);
  label_match m = {key, value};
  if (!out || copy_header(out, p) || add_from(out, p, 1, keep_label, &m)) {
    pprof_free(out);
    return NULL;
  }
  return out;
}

pprof_profile *pprof_diff(const pprof_profile *a, const pprof_profile *b, int *rc) {
  int r = -EINVAL;
  pprof_profile *out = NULL;
  if (!types_match(a, b)) goto out;
  r = -ENOMEM;
  if (!(out = pprof_create(NULL, NULL))) goto out;
  if ((r = copy_header(out, a)) || (r = add_from(out, a, 1, NULL, NULL)) ||
      (r = add_from(out, b, -1, NULL, NULL)))
    goto out;
  r = 0;
out:
  if (r) {
    pprof_free(out);
    out = NULL;
  }
  if (rc) *rc = r;
  return out;
}
