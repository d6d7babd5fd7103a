/* msgtag.c - tagged series on the wire: a table of distinct tag sets, then compact tuples (msgtag.h). */
#include "common/msgtag.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int msgtag_pack_sets(msgpack_packer *pk, const stats_interval *s, uint32_t *ids) {
  uint32_t nsets = 0;
  int rc = 0;

  /* First pass numbers the distinct sets (a set's id is the first series that has it). */
  for (size_t i = 0; i < s->ntagged; i++) {
    ids[i] = nsets;
    for (size_t j = 0; j < i; j++)
      if (!strcmp(s->tagged[j].tags, s->tagged[i].tags)) {
        ids[i] = ids[j];
        break;
      }
    if (ids[i] == nsets) nsets++;
  }
  rc |= msgpack_pack_array(pk, nsets);
  for (uint32_t id = 0, i = 0; i < s->ntagged; i++) {
    if (ids[i] != id) continue;
    rc |= msgpack_pack_str_with_body(pk, s->tagged[i].tags, strlen(s->tagged[i].tags));
    id++;
  }
  return rc;
}

int msgtag_pack_series(msgpack_packer *pk, const stats_interval *s, const uint32_t *ids) {
  int rc = msgpack_pack_array(pk, s->ntagged);
  for (size_t i = 0; i < s->ntagged; i++) {
    const stats_tagged *t = &s->tagged[i];
    uint8_t *buf = NULL;
    size_t len = 0;
    rc |= msgpack_pack_array(pk, 5);
    rc |= msgpack_pack_uint64(pk, t->entry);
    rc |= msgpack_pack_uint32(pk, ids[i]);
    rc |= msgpack_pack_int64(pk, t->count);
    rc |= msgpack_pack_int64(pk, t->errors);
    if (!t->latency || hist_encode(t->latency, &buf, &len) < 0) return -1;
    rc |= msgpack_pack_bin_with_body(pk, buf, len);
    free(buf);
  }
  return rc;
}

/* A non-negative integer element, or -1. */
static int64_t count_of(const msgpack_object *o) {
  if (o->type != MSGPACK_OBJECT_POSITIVE_INTEGER || o->via.u64 > (uint64_t)INT64_MAX) return -1;
  return (int64_t)o->via.u64;
}

static int bad(char *err, size_t errlen, int rc, const char *what, uint32_t i) {
  if (err && errlen) snprintf(err, errlen, "tagged series %u: %s", i, what);
  return rc;
}

/* Tag set i of sets, checked canonical, into buf. */
static int set_text(const msgpack_object *sets, int64_t i, char *buf) {
  const msgpack_object *o;
  if (i < 0 || (uint64_t)i >= sets->via.array.size) return -1;
  o = &sets->via.array.ptr[i];
  if (o->type != MSGPACK_OBJECT_STR || o->via.str.size >= TAGSET_MAX) return -1;
  memcpy(buf, o->via.str.ptr, o->via.str.size);
  buf[o->via.str.size] = 0;
  return strlen(buf) == o->via.str.size && tagset_valid(buf) ? 0 : -1;
}

/* One [entry, set, count, errors, hist] tuple into s. */
static int one(const msgpack_object *t, const msgpack_object *sets, stats_interval *s, uint32_t i, char *err,
               size_t errlen) {
  char tags[TAGSET_MAX];
  int64_t entry, count, errors;
  const msgpack_object *v;
  stats_tagged *st;

  if (t->type != MSGPACK_OBJECT_ARRAY || t->via.array.size != 5)
    return bad(err, errlen, -EPROTO, "not [5]", i);
  v = t->via.array.ptr;
  entry = count_of(&v[0]), count = count_of(&v[2]), errors = count_of(&v[3]);
  if (entry < 0 || (size_t)entry >= s->nentries) return bad(err, errlen, -EPROTO, "no such entry", i);
  if (count < 0 || errors < 0 || errors > count) return bad(err, errlen, -EPROTO, "bad counts", i);
  if (set_text(sets, count_of(&v[1]), tags) < 0) return bad(err, errlen, -EPROTO, "bad tag set", i);
  if (v[4].type != MSGPACK_OBJECT_BIN) return bad(err, errlen, -EPROTO, "no histogram", i);
  if (!(st = stats_tagged_get(s, (size_t)entry, tags))) return bad(err, errlen, -E2BIG, "too many series", i);
  if (hist_decode_add(st->latency, (const uint8_t *)v[4].via.bin.ptr, v[4].via.bin.size) < 0)
    return bad(err, errlen, -EPROTO, "bad histogram", i);
  st->count += count;
  st->errors += errors;
  return 0;
}

int msgtag_unpack(const msgpack_object *sets, const msgpack_object *series, stats_interval *s, char *err,
                  size_t errlen) {
  int rc = 0;
  if (sets->type != MSGPACK_OBJECT_ARRAY || series->type != MSGPACK_OBJECT_ARRAY)
    return bad(err, errlen, -EPROTO, "tagsets and tagged must be arrays", 0);
  if (series->via.array.size > STATS_MAX_TAGGED || sets->via.array.size > series->via.array.size)
    return bad(err, errlen, -E2BIG, "more than the series allowed", 0);
  for (uint32_t i = 0; i < series->via.array.size && rc == 0; i++)
    rc = one(&series->via.array.ptr[i], sets, s, i, err, errlen);
  return rc;
}

json_t *msgtag_json(const stats_interval *s) {
  json_t *list = json_array();
  for (size_t i = 0; list && i < s->ntagged; i++) {
    const stats_tagged *t = &s->tagged[i];
    char *b64 = NULL;
    if (t->entry >= s->nentries || hist_encode_base64(t->latency, &b64) < 0) continue;
    json_array_append_new(
        list,
        json_pack("{s:s,s:o,s:I,s:I,s:f,s:f,s:f,s:f,s:s}", "name", s->entries[t->entry].name, "tags",
                  tagset_json(t->tags), "count", (json_int_t)t->count, "errors", (json_int_t)t->errors,
                  "p50_ms", hist_pct_ms(t->latency, 50), "p95_ms", hist_pct_ms(t->latency, 95), "p99_ms",
                  hist_pct_ms(t->latency, 99), "max_ms", hist_pct_ms(t->latency, 100), "hist", b64));
    free(b64);
  }
  return list;
}

/* One item of a "tagged" list into s: 0, 1 when it is not a valid series, or -ENOMEM. */
static int from_json_one(const json_t *o, stats_interval *s) {
  const char *name = json_string_value(json_object_get(o, "name")), *b64;
  char tags[TAGSET_MAX];
  stats_entry *e;
  stats_tagged *t;
  hist *h = NULL;
  json_int_t count = json_integer_value(json_object_get(o, "count"));
  json_int_t errors = json_integer_value(json_object_get(o, "errors"));

  b64 = json_string_value(json_object_get(o, "hist"));
  if (!name || !b64 || count < 0 || errors < 0 || errors > count ||
      tagset_from_json(json_object_get(o, "tags"), tags, sizeof tags) < 0 || !tagset_valid(tags))
    return 1;
  if (hist_decode_base64(b64, strlen(b64), &h) < 0) return 1;
  e = stats_entry_get(s, name, "");
  t = e ? stats_tagged_get(s, (size_t)(e - s->entries), tags) : NULL;
  if (t) {
    hist_add(t->latency, h);
    t->count += count;
    t->errors += errors;
  }
  hist_destroy(h);
  return t ? 0 : -ENOMEM;
}

int msgtag_from_json(const json_t *list, stats_interval *s) {
  size_t i;
  json_t *o;
  int skipped = 0, rc;
  json_array_foreach(list, i, o) {
    if ((rc = from_json_one(o, s)) < 0) return rc;
    skipped += rc;
  }
  return skipped;
}
