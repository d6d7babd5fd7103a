/* pprof.c - the decoded profile of pprof.h: interning, samples, merge/filter/diff, and the bridge to and
 * from gzipped profile.proto (protobuf-c generated code + zlib), checking every size and index of input. */
#include "master/profile/pprof.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "profile.pb-c.h"

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

static int grow(void **arr, size_t *cap, size_t need, size_t elem) {
  if (need <= *cap) return 0;
  size_t ncap = *cap ? *cap * 2 : 16;
  while (ncap < need) ncap *= 2;
  void *n = realloc(*arr, ncap * elem);
  if (!n) return -ENOMEM;
  *arr = n;
  *cap = ncap;
  return 0;
}

/* ---- strings ---- */

static int str_eq(const pprof_profile *p, uint32_t idx, const void *key) {
  return strcmp(p->strings[idx], key) == 0;
}
static uint64_t str_hash(const pprof_profile *p, uint32_t idx) { return hash_str(p->strings[idx]); }

int64_t pprof_intern(pprof_profile *p, const char *s) {
  pindex *ix = p->index;
  uint32_t found;
  if (tab_reserve(&ix->strings, p, str_hash)) return -ENOMEM;
  size_t pos = tab_find(&ix->strings, p, hash_str(s), s, str_eq, &found);
  if (found != UINT32_MAX) return found;
  if (p->nstrings >= UINT32_MAX - 1) return -E2BIG;
  if (grow((void **)&p->strings, &ix->cap_strings, p->nstrings + 1, sizeof(char *))) return -ENOMEM;
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
static uint64_t fn_hash_of(const pprof_function *f) { return mix(mix(7, f->name), f->filename); }
static uint64_t fn_hash(const pprof_profile *p, uint32_t idx) { return fn_hash_of(&p->functions[idx]); }

/* Intern a function whose strings are already indices of p. */
static int64_t function_intern_idx(pprof_profile *p, const pprof_function *f) {
  pindex *ix = p->index;
  uint32_t found;
  if (tab_reserve(&ix->functions, p, fn_hash)) return -ENOMEM;
  size_t pos = tab_find(&ix->functions, p, fn_hash_of(f), f, fn_eq, &found);
  if (found != UINT32_MAX) return found;
  if (p->nfunctions >= UINT32_MAX - 1) return -E2BIG;
  if (grow((void **)&p->functions, &ix->cap_functions, p->nfunctions + 1, sizeof *f)) return -ENOMEM;
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
  return function_intern_idx(p, &fn);
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
  if (grow((void **)&p->samples, &ix->cap_samples, p->nsamples + 1, sizeof s)) return -ENOMEM;
  s.stack = malloc((k->nstack ? k->nstack : 1) * sizeof *s.stack);
  s.values = malloc(p->nsample_types * sizeof *s.values);
  s.labels = malloc((k->nlabels ? k->nlabels : 1) * sizeof *s.labels);
  if (!s.stack || !s.values || !s.labels) goto fail;
  if (k->nstack) memcpy(s.stack, k->stack, k->nstack * sizeof *s.stack);
  if (k->nlabels) memcpy(s.labels, k->labels, k->nlabels * sizeof *s.labels);
  memcpy(s.values, values, p->nsample_types * sizeof *s.values);
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

const char *pprof_label_get(const pprof_profile *p, const pprof_sample *s, const char *key) {
  for (size_t i = 0; i < s->nlabels; i++)
    if (s->labels[i].str && strcmp(p->strings[s->labels[i].key], key) == 0) return p->strings[s->labels[i].str];
  return NULL;
}

const char *pprof_strerror(int rc) {
  switch (rc) {
  case 0: return "ok";
  case -PPROF_EFORMAT: return "malformed profile";
  case -E2BIG: return "profile exceeds size limits";
  case -ENOMEM: return "out of memory";
  case -EINVAL: return "invalid argument (sample types differ or index out of range)";
  default: return rc < 0 ? strerror(-rc) : "unknown";
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
    int64_t fi = function_intern_idx(dst, &nf);
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
  if ((r = copy_header(out, a)) || (r = add_from(out, a, 1, NULL, NULL)) || (r = add_from(out, b, -1, NULL, NULL)))
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

/* ---- decode ---- */

static int fail(char *err, size_t errlen, int rc, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static int fail(char *err, size_t errlen, int rc, const char *fmt, ...) {
  if (err && errlen) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
  }
  return rc;
}

/* Gunzip in into a malloc'd buffer of at most PPROF_MAX_DECODED bytes. */
static int gunzip(const unsigned char *in, size_t len, unsigned char **out, size_t *outlen, char *err,
                  size_t errlen) {
  z_stream zs;
  size_t cap = len * 4 + 4096, used = 0;
  int zrc, rc;
  unsigned char *buf = malloc(cap);
  memset(&zs, 0, sizeof zs);
  if (!buf) return -ENOMEM;
  if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK) {
    free(buf);
    return -ENOMEM;
  }
  zs.next_in = (unsigned char *)in;
  zs.avail_in = (uInt)len;
  do {
    if (used == cap) {
      if (cap >= PPROF_MAX_DECODED) {
        rc = fail(err, errlen, -E2BIG, "gunzipped profile exceeds %zu bytes", PPROF_MAX_DECODED);
        goto out;
      }
      size_t ncap = cap * 2 > PPROF_MAX_DECODED ? PPROF_MAX_DECODED : cap * 2;
      unsigned char *n = realloc(buf, ncap);
      if (!n) {
        rc = -ENOMEM;
        goto out;
      }
      buf = n;
      cap = ncap;
    }
    zs.next_out = buf + used;
    zs.avail_out = (uInt)(cap - used);
    zrc = inflate(&zs, Z_NO_FLUSH);
    used = cap - zs.avail_out;
  } while (zrc == Z_OK || (zrc == Z_BUF_ERROR && zs.avail_out == 0));
  if (zrc != Z_STREAM_END) {
    rc = fail(err, errlen, -PPROF_EFORMAT, "gzip stream %s after %zu bytes: %s",
              zs.avail_in == 0 ? "truncated" : "corrupt", used, zs.msg ? zs.msg : "unexpected end");
    goto out;
  }
  *out = buf;
  *outlen = used;
  buf = NULL;
  rc = 0;
out:
  inflateEnd(&zs);
  free(buf);
  return rc;
}

typedef struct id_pos {
  uint64_t id;
  size_t pos;
} id_pos;

static int id_cmp(const void *a, const void *b) {
  const id_pos *x = a, *y = b;
  return x->id < y->id ? -1 : x->id > y->id;
}

static int64_t id_find(const id_pos *t, size_t n, uint64_t id) {
  size_t lo = 0, hi = n;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (t[mid].id == id) return (int64_t)t[mid].pos;
    if (t[mid].id < id) lo = mid + 1;
    else hi = mid;
  }
  return -1;
}

typedef struct decoder {
  const Perftools__Profiles__Profile *m;
  pprof_profile *p;
  uint32_t *smap;   /* message string index -> p string index */
  uint32_t *fmap;   /* message function position -> p function index */
  id_pos *fids, *lids;
  uint32_t **lframes; /* per location position: expanded function indices (innermost first) */
  size_t *nlframes;
  char *err;
  size_t errlen;
} decoder;

static int str_ok(const decoder *d, int64_t idx) { return idx >= 0 && (uint64_t)idx < d->m->n_string_table; }

static int sort_ids(decoder *d, id_pos **out, size_t n, int functions) {
  id_pos *t = malloc((n ? n : 1) * sizeof *t);
  if (!t) return -ENOMEM;
  for (size_t i = 0; i < n; i++)
    t[i] = (id_pos){functions ? d->m->function[i]->id : d->m->location[i]->id, i};
  qsort(t, n, sizeof *t, id_cmp);
  *out = t;
  for (size_t i = 1; i < n; i++)
    if (t[i].id == t[i - 1].id)
      return fail(d->err, d->errlen, -PPROF_EFORMAT, "duplicate %s id %llu", functions ? "function" : "location",
                  (unsigned long long)t[i].id);
  return 0;
}

static int decode_strings(decoder *d) {
  const Perftools__Profiles__Profile *m = d->m;
  if (m->n_string_table == 0 || !m->string_table[0] || m->string_table[0][0])
    return fail(d->err, d->errlen, -PPROF_EFORMAT, "string_table[0] must be the empty string");
  if (m->n_string_table >= UINT32_MAX - 1) return fail(d->err, d->errlen, -E2BIG, "too many strings");
  if (!(d->smap = malloc(m->n_string_table * sizeof *d->smap))) return -ENOMEM;
  for (size_t i = 0; i < m->n_string_table; i++) {
    int64_t s = pprof_intern(d->p, m->string_table[i] ? m->string_table[i] : "");
    if (s < 0) return (int)s;
    d->smap[i] = (uint32_t)s;
  }
  return 0;
}

static int decode_functions(decoder *d) {
  const Perftools__Profiles__Profile *m = d->m;
  if (!(d->fmap = malloc((m->n_function ? m->n_function : 1) * sizeof *d->fmap))) return -ENOMEM;
  for (size_t i = 0; i < m->n_function; i++) {
    const Perftools__Profiles__Function *f = m->function[i];
    if (!str_ok(d, f->name) || !str_ok(d, f->system_name) || !str_ok(d, f->filename))
      return fail(d->err, d->errlen, -PPROF_EFORMAT, "function %llu: string index out of range",
                  (unsigned long long)f->id);
    pprof_function nf = {d->smap[f->name], d->smap[f->system_name], d->smap[f->filename], f->start_line};
    int64_t fi = function_intern_idx(d->p, &nf);
    if (fi < 0) return (int)fi;
    d->fmap[i] = (uint32_t)fi;
  }
  return sort_ids(d, &d->fids, m->n_function, 1);
}

/* Expand location i into function indices; an unsymbolized location becomes a function "0x<address>". */
static int decode_location(decoder *d, size_t i) {
  const Perftools__Profiles__Location *l = d->m->location[i];
  size_t n = l->n_line ? l->n_line : 1;
  if (n > PPROF_MAX_STACK) return fail(d->err, d->errlen, -E2BIG, "location %llu: too many lines", (unsigned long long)l->id);
  if (!(d->lframes[i] = malloc(n * sizeof(uint32_t)))) return -ENOMEM;
  d->nlframes[i] = n;
  if (!l->n_line) {
    char name[32];
    snprintf(name, sizeof name, "0x%llx", (unsigned long long)l->address);
    int64_t fi = pprof_function_intern(d->p, name, NULL);
    if (fi < 0) return (int)fi;
    d->lframes[i][0] = (uint32_t)fi;
    return 0;
  }
  for (size_t j = 0; j < l->n_line; j++) {
    int64_t pos = id_find(d->fids, d->m->n_function, l->line[j]->function_id);
    if (pos < 0)
      return fail(d->err, d->errlen, -PPROF_EFORMAT, "location %llu: function id %llu not found",
                  (unsigned long long)l->id, (unsigned long long)l->line[j]->function_id);
    d->lframes[i][j] = d->fmap[pos];
  }
  return 0;
}

static int decode_locations(decoder *d) {
  size_t n = d->m->n_location ? d->m->n_location : 1;
  if (!(d->lframes = calloc(n, sizeof *d->lframes)) || !(d->nlframes = calloc(n, sizeof *d->nlframes)))
    return -ENOMEM;
  for (size_t i = 0; i < d->m->n_location; i++) {
    int rc = decode_location(d, i);
    if (rc) return rc;
  }
  return sort_ids(d, &d->lids, d->m->n_location, 0);
}

static int decode_sample(decoder *d, size_t i, uint32_t *stack, pprof_label *labels) {
  const Perftools__Profiles__Sample *s = d->m->sample[i];
  size_t nstack = 0;
  if (s->n_value != d->m->n_sample_type)
    return fail(d->err, d->errlen, -PPROF_EFORMAT, "sample %zu: %zu values for %zu sample types", i, s->n_value,
                d->m->n_sample_type);
  if (s->n_label > PPROF_MAX_LABELS) return fail(d->err, d->errlen, -E2BIG, "sample %zu: too many labels", i);
  for (size_t j = 0; j < s->n_location_id; j++) {
    int64_t pos = id_find(d->lids, d->m->n_location, s->location_id[j]);
    if (pos < 0)
      return fail(d->err, d->errlen, -PPROF_EFORMAT, "sample %zu: location id %llu not found", i,
                  (unsigned long long)s->location_id[j]);
    if (nstack + d->nlframes[pos] > PPROF_MAX_STACK)
      return fail(d->err, d->errlen, -E2BIG, "sample %zu: stack deeper than %d frames", i, PPROF_MAX_STACK);
    memcpy(stack + nstack, d->lframes[pos], d->nlframes[pos] * sizeof *stack);
    nstack += d->nlframes[pos];
  }
  for (size_t j = 0; j < s->n_label; j++) {
    const Perftools__Profiles__Label *l = s->label[j];
    if (!str_ok(d, l->key) || l->key == 0 || !str_ok(d, l->str) || !str_ok(d, l->num_unit))
      return fail(d->err, d->errlen, -PPROF_EFORMAT, "sample %zu label %zu: string index out of range", i, j);
    labels[j] = (pprof_label){d->smap[l->key], d->smap[l->str], l->str ? 0 : l->num, d->smap[l->num_unit]};
  }
  int rc = pprof_add_sample(d->p, stack, nstack, s->value, labels, s->n_label);
  return rc == -EINVAL ? fail(d->err, d->errlen, -PPROF_EFORMAT, "sample %zu: invalid", i) : rc;
}

static int decode_header(decoder *d) {
  const Perftools__Profiles__Profile *m = d->m;
  if (m->n_sample_type > PPROF_MAX_VALUES) return fail(d->err, d->errlen, -E2BIG, "too many sample types");
  for (size_t i = 0; i < m->n_sample_type; i++) {
    const Perftools__Profiles__ValueType *vt = m->sample_type[i];
    if (!str_ok(d, vt->type) || !str_ok(d, vt->unit))
      return fail(d->err, d->errlen, -PPROF_EFORMAT, "sample_type %zu: string index out of range", i);
    int rc = pprof_add_sample_type(d->p, m->string_table[vt->type], m->string_table[vt->unit]);
    if (rc) return rc;
  }
  if (m->period_type) {
    if (!str_ok(d, m->period_type->type) || !str_ok(d, m->period_type->unit))
      return fail(d->err, d->errlen, -PPROF_EFORMAT, "period_type: string index out of range");
    d->p->period_type = (pprof_value_type){d->smap[m->period_type->type], d->smap[m->period_type->unit]};
  }
  if (!str_ok(d, m->default_sample_type))
    return fail(d->err, d->errlen, -PPROF_EFORMAT, "default_sample_type: string index out of range");
  d->p->default_sample_type = d->smap[m->default_sample_type];
  d->p->period = m->period;
  d->p->time_nanos = m->time_nanos;
  d->p->duration_nanos = m->duration_nanos;
  return 0;
}

static int decode_message(decoder *d) {
  int rc;
  uint32_t *stack = malloc(PPROF_MAX_STACK * sizeof *stack);
  pprof_label *labels = malloc(PPROF_MAX_LABELS * sizeof *labels);
  if (!stack || !labels) {
    rc = -ENOMEM;
    goto out;
  }
  if ((rc = decode_strings(d)) || (rc = decode_header(d)) || (rc = decode_functions(d)) ||
      (rc = decode_locations(d)))
    goto out;
  for (size_t i = 0; i < d->m->n_sample; i++)
    if ((rc = decode_sample(d, i, stack, labels))) goto out;
out:
  free(stack);
  free(labels);
  return rc;
}

int pprof_decode(const void *data, size_t len, pprof_profile **out, char *err, size_t errlen) {
  const unsigned char *bytes = data;
  unsigned char *plain = NULL;
  size_t plainlen = len;
  decoder d = {.err = err, .errlen = errlen};
  int rc;
  *out = NULL;
  if (err && errlen) err[0] = '\0';
  if (len > PPROF_MAX_INPUT) return fail(err, errlen, -E2BIG, "profile of %zu bytes exceeds %zu", len, PPROF_MAX_INPUT);
  if (len >= 2 && bytes[0] == 0x1f && bytes[1] == 0x8b) {
    if ((rc = gunzip(bytes, len, &plain, &plainlen, err, errlen))) return rc;
    bytes = plain;
  }
  d.m = perftools__profiles__profile__unpack(NULL, plainlen, bytes);
  if (!d.m) {
    rc = fail(err, errlen, -PPROF_EFORMAT, "not a valid profile.proto message (%zu bytes)", plainlen);
    goto out;
  }
  if (!(d.p = pprof_create(NULL, NULL))) {
    rc = -ENOMEM;
    goto out;
  }
  rc = decode_message(&d);
out:
  if (rc == -ENOMEM) fail(err, errlen, rc, "out of memory decoding profile");
  if (d.lframes)
    for (size_t i = 0; i < d.m->n_location; i++) free(d.lframes[i]);
  free(d.lframes);
  free(d.nlframes);
  free(d.smap);
  free(d.fmap);
  free(d.fids);
  free(d.lids);
  if (d.m) perftools__profiles__profile__free_unpacked((Perftools__Profiles__Profile *)d.m, NULL);
  free(plain);
  if (rc) pprof_free(d.p);
  else *out = d.p;
  return rc;
}

static int read_all(const char *path, unsigned char **out, size_t *outlen) {
  FILE *f = fopen(path, "rb");
  size_t cap = 65536, used = 0;
  unsigned char *buf = NULL;
  int rc = -ENOMEM;
  if (!f) return -errno;
  if (!(buf = malloc(cap))) goto out;
  for (;;) {
    size_t n = fread(buf + used, 1, cap - used, f);
    used += n;
    if (n == 0) break;
    if (used == cap) {
      if (cap > PPROF_MAX_INPUT) {
        rc = -E2BIG;
        goto out;
      }
      unsigned char *nb = realloc(buf, cap * 2);
      if (!nb) goto out;
      buf = nb;
      cap *= 2;
    }
  }
  if (ferror(f)) {
    rc = -EIO;
    goto out;
  }
  *out = buf;
  *outlen = used;
  buf = NULL;
  rc = 0;
out:
  free(buf);
  fclose(f);
  return rc;
}

int pprof_decode_file(const char *path, pprof_profile **out, char *err, size_t errlen) {
  unsigned char *buf = NULL;
  size_t len = 0;
  *out = NULL;
  int rc = read_all(path, &buf, &len);
  if (rc) return fail(err, errlen, rc, "%s: %s", path, pprof_strerror(rc));
  rc = pprof_decode(buf, len, out, err, errlen);
  free(buf);
  return rc;
}

/* ---- encode ---- */

typedef struct encoder {
  Perftools__Profiles__Profile m;
  Perftools__Profiles__ValueType *vts, period_type;
  Perftools__Profiles__ValueType **vtp;
  Perftools__Profiles__Function *fns, **fnp;
  Perftools__Profiles__Location *locs, **locp;
  Perftools__Profiles__Line *lines, **linep;
  Perftools__Profiles__Sample *smp, **smpp;
  Perftools__Profiles__Label *lbl, **lblp;
  uint64_t *locids;
} encoder;

static void encoder_free(encoder *e) {
  free(e->vts);
  free(e->vtp);
  free(e->fns);
  free(e->fnp);
  free(e->locs);
  free(e->locp);
  free(e->lines);
  free(e->linep);
  free(e->smp);
  free(e->smpp);
  free(e->lbl);
  free(e->lblp);
  free(e->locids);
}

static int encoder_alloc(encoder *e, const pprof_profile *p, size_t nframes, size_t nlabels) {
  size_t nt = p->nsample_types + 1, nf = p->nfunctions + 1, ns = p->nsamples + 1;
  e->vts = calloc(nt, sizeof *e->vts);
  e->vtp = calloc(nt, sizeof *e->vtp);
  e->fns = calloc(nf, sizeof *e->fns);
  e->fnp = calloc(nf, sizeof *e->fnp);
  e->locs = calloc(nf, sizeof *e->locs);
  e->locp = calloc(nf, sizeof *e->locp);
  e->lines = calloc(nf, sizeof *e->lines);
  e->linep = calloc(nf, sizeof *e->linep);
  e->smp = calloc(ns, sizeof *e->smp);
  e->smpp = calloc(ns, sizeof *e->smpp);
  e->lbl = calloc(nlabels + 1, sizeof *e->lbl);
  e->lblp = calloc(nlabels + 1, sizeof *e->lblp);
  e->locids = calloc(nframes + 1, sizeof *e->locids);
  return e->vts && e->vtp && e->fns && e->fnp && e->locs && e->locp && e->lines && e->linep && e->smp &&
                 e->smpp && e->lbl && e->lblp && e->locids
             ? 0
             : -ENOMEM;
}

/* Fill e->m from p: one Function, Line and Location per function (ids = index + 1). */
static void encoder_fill(encoder *e, const pprof_profile *p) {
  Perftools__Profiles__Profile *m = &e->m;
  perftools__profiles__profile__init(m);
  for (size_t i = 0; i < p->nsample_types; i++) {
    perftools__profiles__value_type__init(&e->vts[i]);
    e->vts[i].type = p->sample_types[i].type;
    e->vts[i].unit = p->sample_types[i].unit;
    e->vtp[i] = &e->vts[i];
  }
  for (size_t i = 0; i < p->nfunctions; i++) {
    perftools__profiles__function__init(&e->fns[i]);
    e->fns[i] = (Perftools__Profiles__Function){e->fns[i].base, i + 1, p->functions[i].name,
                                                 p->functions[i].system_name, p->functions[i].filename,
                                                 p->functions[i].start_line};
    e->fnp[i] = &e->fns[i];
    perftools__profiles__line__init(&e->lines[i]);
    e->lines[i].function_id = i + 1;
    e->linep[i] = &e->lines[i];
    perftools__profiles__location__init(&e->locs[i]);
    e->locs[i].id = i + 1;
    e->locs[i].n_line = 1;
    e->locs[i].line = &e->linep[i];
    e->locp[i] = &e->locs[i];
  }
  size_t fpos = 0, lpos = 0;
  for (size_t i = 0; i < p->nsamples; i++) {
    const pprof_sample *s = &p->samples[i];
    Perftools__Profiles__Sample *ms = &e->smp[i];
    perftools__profiles__sample__init(ms);
    ms->n_location_id = s->nstack;
    ms->location_id = e->locids + fpos;
    for (size_t j = 0; j < s->nstack; j++) e->locids[fpos++] = (uint64_t)s->stack[j] + 1;
    ms->n_value = p->nsample_types;
    ms->value = s->values;
    ms->n_label = s->nlabels;
    ms->label = e->lblp + lpos;
    for (size_t j = 0; j < s->nlabels; j++, lpos++) {
      perftools__profiles__label__init(&e->lbl[lpos]);
      e->lbl[lpos].key = s->labels[j].key;
      e->lbl[lpos].str = s->labels[j].str;
      e->lbl[lpos].num = s->labels[j].num;
      e->lbl[lpos].num_unit = s->labels[j].num_unit;
      e->lblp[lpos] = &e->lbl[lpos];
    }
    e->smpp[i] = ms;
  }
  perftools__profiles__value_type__init(&e->period_type);
  e->period_type.type = p->period_type.type;
  e->period_type.unit = p->period_type.unit;
  m->n_sample_type = p->nsample_types;
  m->sample_type = e->vtp;
  m->n_sample = p->nsamples;
  m->sample = e->smpp;
  m->n_function = p->nfunctions;
  m->function = e->fnp;
  m->n_location = p->nfunctions;
  m->location = e->locp;
  m->n_string_table = p->nstrings;
  m->string_table = p->strings;
  m->time_nanos = p->time_nanos;
  m->duration_nanos = p->duration_nanos;
  m->period_type = &e->period_type;
  m->period = p->period;
  m->default_sample_type = p->default_sample_type;
}

static int gzip_buf(const unsigned char *in, size_t len, unsigned char **out, size_t *outlen) {
  z_stream zs;
  memset(&zs, 0, sizeof zs);
  if (deflateInit2(&zs, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK) return -ENOMEM;
  size_t cap = deflateBound(&zs, (uLong)len) + 64;
  unsigned char *buf = malloc(cap);
  int rc = -ENOMEM;
  if (!buf) goto out;
  zs.next_in = (unsigned char *)in;
  zs.avail_in = (uInt)len;
  zs.next_out = buf;
  zs.avail_out = (uInt)cap;
  if (deflate(&zs, Z_FINISH) != Z_STREAM_END) {
    rc = -EIO;
    goto out;
  }
  *out = buf;
  *outlen = cap - zs.avail_out;
  buf = NULL;
  rc = 0;
out:
  deflateEnd(&zs);
  free(buf);
  return rc;
}

int pprof_encode(const pprof_profile *p, unsigned char **out, size_t *outlen) {
  encoder e;
  size_t nframes = 0, nlabels = 0;
  unsigned char *plain = NULL;
  int rc;
  memset(&e, 0, sizeof e);
  for (size_t i = 0; i < p->nsamples; i++) {
    nframes += p->samples[i].nstack;
    nlabels += p->samples[i].nlabels;
  }
  if ((rc = encoder_alloc(&e, p, nframes, nlabels))) goto out;
  encoder_fill(&e, p);
  size_t plen = perftools__profiles__profile__get_packed_size(&e.m);
  if (plen > PPROF_MAX_DECODED) {
    rc = -E2BIG;
    goto out;
  }
  if (!(plain = malloc(plen ? plen : 1))) {
    rc = -ENOMEM;
    goto out;
  }
  perftools__profiles__profile__pack(&e.m, plain);
  rc = gzip_buf(plain, plen, out, outlen);
out:
  free(plain);
  encoder_free(&e);
  return rc;
}

int pprof_encode_file(const pprof_profile *p, const char *path) {
  unsigned char *buf = NULL;
  size_t len = 0;
  char tmp[4096];
  int rc = pprof_encode(p, &buf, &len);
  if (rc) return rc;
  if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp) {
    rc = -ENAMETOOLONG;
    goto out;
  }
  FILE *f = fopen(tmp, "wb");
  if (!f) {
    rc = -errno;
    goto out;
  }
  size_t w = fwrite(buf, 1, len, f);
  if (fclose(f) != 0 || w != len) {
    rc = -EIO;
    remove(tmp);
    goto out;
  }
  if (rename(tmp, path)) rc = -errno;
out:
  free(buf);
  return rc;
}
