/* pprof_proto.c - the wire half of pprof.h: gzipped (or plain) profile.proto bytes to and from the decoded
 * structure, through protobuf-c's generated code and zlib, checking every size, id and string index. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "common/log.h"
#include "master/profile/pprof.h"
#include "profile.pb-c.h"

/* ---- decode ---- */

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
        rc = log_fail(err, errlen, -E2BIG, "gunzipped profile exceeds %zu bytes", PPROF_MAX_DECODED);
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
    rc = log_fail(err, errlen, -PPROF_EFORMAT, "gzip stream %s after %zu bytes: %s",
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
    if (t[mid].id < id)
      lo = mid + 1;
    else
      hi = mid;
  }
  return -1;
}

typedef struct decoder {
  const Perftools__Profiles__Profile *m;
  size_t frames; /* expanded frames so far, bounded by PPROF_MAX_FRAMES */
  pprof_profile *p;
  uint32_t *smap; /* message string index -> p string index */
  uint32_t *fmap; /* message function position -> p function index */
  id_pos *fids, *lids;
  uint32_t **lframes; /* per location position: expanded function indices (innermost first) */
  size_t *nlframes;
  char *err;
  size_t errlen;
} decoder;

static int str_ok(const decoder *d, int64_t idx) {
  return idx >= 0 && (uint64_t)idx < d->m->n_string_table;
}

static int sort_ids(decoder *d, id_pos **out, size_t n, int functions) {
  id_pos *t = malloc((n ? n : 1) * sizeof *t);
  if (!t) return -ENOMEM;
  for (size_t i = 0; i < n; i++)
    t[i] = (id_pos){functions ? d->m->function[i]->id : d->m->location[i]->id, i};
  qsort(t, n, sizeof *t, id_cmp);
  *out = t;
  for (size_t i = 1; i < n; i++)
    if (t[i].id == t[i - 1].id)
      return log_fail(d->err, d->errlen, -PPROF_EFORMAT, "duplicate %s id %llu",
                      functions ? "function" : "location", (unsigned long long)t[i].id);
  return 0;
}

static int decode_strings(decoder *d) {
  const Perftools__Profiles__Profile *m = d->m;
  if (m->n_string_table == 0 || !m->string_table[0] || m->string_table[0][0])
    return log_fail(d->err, d->errlen, -PPROF_EFORMAT, "string_table[0] must be the empty string");
  if (m->n_string_table >= UINT32_MAX - 1) return log_fail(d->err, d->errlen, -E2BIG, "too many strings");
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
      return log_fail(d->err, d->errlen, -PPROF_EFORMAT, "function %llu: string index out of range",
                      (unsigned long long)f->id);
    pprof_function nf = {d->smap[f->name], d->smap[f->system_name], d->smap[f->filename], f->start_line};
    int64_t fi = pprof_function_add(d->p, &nf);
    if (fi < 0) return (int)fi;
    d->fmap[i] = (uint32_t)fi;
  }
  return sort_ids(d, &d->fids, m->n_function, 1);
}

/* Expand location i into function indices; an unsymbolized location becomes a function "0x<address>". */
static int decode_location(decoder *d, size_t i) {
  const Perftools__Profiles__Location *l = d->m->location[i];
  size_t n = l->n_line ? l->n_line : 1;
  if (n > PPROF_MAX_STACK)
    return log_fail(d->err, d->errlen, -E2BIG, "location %llu: too many lines", (unsigned long long)l->id);
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
      return log_fail(d->err, d->errlen, -PPROF_EFORMAT, "location %llu: function id %llu not found",
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
    return log_fail(d->err, d->errlen, -PPROF_EFORMAT, "sample %zu: %zu values for %zu sample types", i,
                    s->n_value, d->m->n_sample_type);
  if (s->n_label > PPROF_MAX_LABELS)
    return log_fail(d->err, d->errlen, -E2BIG, "sample %zu: too many labels", i);
  for (size_t j = 0; j < s->n_location_id; j++) {
    int64_t pos = id_find(d->lids, d->m->n_location, s->location_id[j]);
    if (pos < 0)
      return log_fail(d->err, d->errlen, -PPROF_EFORMAT, "sample %zu: location id %llu not found", i,
                      (unsigned long long)s->location_id[j]);
    if (nstack + d->nlframes[pos] > PPROF_MAX_STACK)
      return log_fail(d->err, d->errlen, -E2BIG, "sample %zu: stack deeper than %d frames", i,
                      PPROF_MAX_STACK);
    memcpy(stack + nstack, d->lframes[pos], d->nlframes[pos] * sizeof *stack);
    nstack += d->nlframes[pos];
  }
  if ((d->frames += nstack) > PPROF_MAX_FRAMES)
    return log_fail(d->err, d->errlen, -E2BIG, "sample %zu: more than %zu frames in all", i,
                    PPROF_MAX_FRAMES);
  for (size_t j = 0; j < s->n_label; j++) {
    const Perftools__Profiles__Label *l = s->label[j];
    if (!str_ok(d, l->key) || l->key == 0 || !str_ok(d, l->str) || !str_ok(d, l->num_unit))
      return log_fail(d->err, d->errlen, -PPROF_EFORMAT, "sample %zu label %zu: string index out of range", i,
                      j);
    labels[j] = (pprof_label){d->smap[l->key], d->smap[l->str], l->str ? 0 : l->num, d->smap[l->num_unit]};
  }
  int rc = pprof_add_sample(d->p, stack, nstack, s->value, labels, s->n_label);
  return rc == -EINVAL ? log_fail(d->err, d->errlen, -PPROF_EFORMAT, "sample %zu: invalid", i) : rc;
}

static int decode_header(decoder *d) {
  const Perftools__Profiles__Profile *m = d->m;
  if (m->n_sample_type > PPROF_MAX_VALUES)
    return log_fail(d->err, d->errlen, -E2BIG, "too many sample types");
  for (size_t i = 0; i < m->n_sample_type; i++) {
    const Perftools__Profiles__ValueType *vt = m->sample_type[i];
    if (!str_ok(d, vt->type) || !str_ok(d, vt->unit))
      return log_fail(d->err, d->errlen, -PPROF_EFORMAT, "sample_type %zu: string index out of range", i);
    int rc = pprof_add_sample_type(d->p, m->string_table[vt->type], m->string_table[vt->unit]);
    if (rc) return rc;
  }
  if (m->period_type) {
    if (!str_ok(d, m->period_type->type) || !str_ok(d, m->period_type->unit))
      return log_fail(d->err, d->errlen, -PPROF_EFORMAT, "period_type: string index out of range");
    d->p->period_type = (pprof_value_type){d->smap[m->period_type->type], d->smap[m->period_type->unit]};
  }
  if (!str_ok(d, m->default_sample_type))
    return log_fail(d->err, d->errlen, -PPROF_EFORMAT, "default_sample_type: string index out of range");
  d->p->default_sample_type = d->smap[m->default_sample_type];
  d->p->period = m->period;
  d->p->time_nanos = m->time_nanos;
  d->p->duration_nanos = m->duration_nanos;
  return 0;
}

/* Refuse, before building any sample, a profile whose expanded stacks exceed PPROF_MAX_FRAMES in all
 * (a few bytes of input per sample can name a location with thousands of inline lines). */
static int check_frames(const decoder *d) {
  size_t total = 0;
  for (size_t i = 0; i < d->m->n_sample; i++) {
    const Perftools__Profiles__Sample *s = d->m->sample[i];
    for (size_t j = 0; j < s->n_location_id; j++) {
      int64_t pos = id_find(d->lids, d->m->n_location, s->location_id[j]);
      if (pos >= 0 && (total += d->nlframes[pos]) > PPROF_MAX_FRAMES)
        return log_fail(d->err, d->errlen, -E2BIG, "stacks expand to more than %zu frames", PPROF_MAX_FRAMES);
    }
  }
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
      (rc = decode_locations(d)) || (rc = check_frames(d)))
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
  if (len > PPROF_MAX_INPUT)
    return log_fail(err, errlen, -E2BIG, "profile of %zu bytes exceeds %zu", len, PPROF_MAX_INPUT);
  if (len >= 2 && bytes[0] == 0x1f && bytes[1] == 0x8b) {
    if ((rc = gunzip(bytes, len, &plain, &plainlen, err, errlen))) return rc;
    bytes = plain;
  }
  d.m = perftools__profiles__profile__unpack(NULL, plainlen, bytes);
  if (!d.m) {
    rc = log_fail(err, errlen, -PPROF_EFORMAT, "not a valid profile.proto message (%zu bytes)", plainlen);
    goto out;
  }
  if (!(d.p = pprof_create(NULL, NULL))) {
    rc = -ENOMEM;
    goto out;
  }
  rc = decode_message(&d);
out:
  if (rc == -ENOMEM) log_fail(err, errlen, rc, "out of memory decoding profile");
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
  if (rc)
    pprof_free(d.p);
  else
    *out = d.p;
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
  if (rc) return log_fail(err, errlen, rc, "%s: %s", path, pprof_strerror(rc));
  rc = pprof_decode(buf, len, out, err, errlen);
  free(buf);
  return rc;
}

int pprof_read_plain(const char *path, unsigned char **out, size_t *outlen, char *err, size_t errlen) {
  unsigned char *buf = NULL, *plain = NULL;
  size_t len = 0;
  *out = NULL;
  int rc = read_all(path, &buf, &len);
  if (rc) return log_fail(err, errlen, rc, "%s: %s", path, pprof_strerror(rc));
  if (len >= 2 && buf[0] == 0x1f && buf[1] == 0x8b) {
    rc = gunzip(buf, len, &plain, outlen, err, errlen);
    free(buf);
    if (rc == 0) *out = plain;
    return rc;
  }
  *out = buf;
  *outlen = len;
  return 0;
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
    e->fns[i] = (Perftools__Profiles__Function){e->fns[i].base,           i + 1,
                                                p->functions[i].name,     p->functions[i].system_name,
                                                p->functions[i].filename, p->functions[i].start_line};
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
