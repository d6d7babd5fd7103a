/* msgfield.c - typed, bounded reads of msgpack-c objects for the message decoder (common/msgfield.h). */
#include "common/msgfield.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int msgfield_fail(msgfield *d, int rc, const char *fmt, ...) {
  va_list ap;

  if (d->rc) return d->rc;
  d->rc = rc;
  if (d->err && d->errlen) {
    va_start(ap, fmt);
    vsnprintf(d->err, d->errlen, fmt, ap);
    va_end(ap);
  }
  return rc;
}

const msgpack_object *msgfield_get(msgfield *d, const msgpack_object *map, const char *key) {
  const msgpack_object *found = msgfield_find(d, map, key);
  if (!found && !d->rc) msgfield_fail(d, -EPROTO, "missing field '%s'", key);
  return found;
}

const msgpack_object *msgfield_find(msgfield *d, const msgpack_object *map, const char *key) {
  const msgpack_object *found = NULL;
  size_t klen = strlen(key);

  for (uint32_t i = 0; i < map->via.map.size; i++) {
    const msgpack_object *k = &map->via.map.ptr[i].key;
    if (k->type != MSGPACK_OBJECT_STR || k->via.str.size != klen || memcmp(k->via.str.ptr, key, klen))
      continue;
    if (found) {
      msgfield_fail(d, -EPROTO, "duplicate field '%s'", key);
      return NULL;
    }
    found = &map->via.map.ptr[i].val;
  }
  return found;
}

int64_t msgfield_i64(msgfield *d, const msgpack_object *o, const char *what) {
  if (!o) return 0;
  if (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER && o->via.u64 <= (uint64_t)INT64_MAX)
    return (int64_t)o->via.u64;
  if (o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER) return o->via.i64;
  msgfield_fail(d, -EPROTO, "field '%s' is not a 64-bit integer", what);
  return 0;
}

/* A non-negative integer: counters, sizes. */
int64_t msgfield_count(msgfield *d, const msgpack_object *o, const char *what) {
  int64_t v = msgfield_i64(d, o, what);
  if (v < 0) msgfield_fail(d, -EPROTO, "field '%s' is negative", what);
  return v < 0 ? 0 : v;
}

int64_t msgfield_get_i64(msgfield *d, const msgpack_object *map, const char *key) {
  return msgfield_i64(d, msgfield_get(d, map, key), key);
}

int32_t msgfield_get_i32(msgfield *d, const msgpack_object *map, const char *key) {
  int64_t v = msgfield_get_i64(d, map, key);
  if (v < INT32_MIN || v > INT32_MAX) msgfield_fail(d, -EPROTO, "field '%s' out of range", key);
  return (int32_t)v;
}

double msgfield_double(msgfield *d, const msgpack_object *o, const char *what) {
  if (!o) return 0;
  if (o->type == MSGPACK_OBJECT_FLOAT64 || o->type == MSGPACK_OBJECT_FLOAT32) return o->via.f64;
  if (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER || o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
    return (double)msgfield_i64(d, o, what);
  msgfield_fail(d, -EPROTO, "field '%s' is not a number", what);
  return 0;
}

/* Copy a string into dst (size bytes with the NUL); -E2BIG when longer, -EPROTO on NUL inside. */
void msgfield_str(msgfield *d, const msgpack_object *o, const char *what, char *dst, size_t size) {
  dst[0] = 0;
  if (!o) return;
  if (o->type != MSGPACK_OBJECT_STR) {
    msgfield_fail(d, -EPROTO, "field '%s' is not a string", what);
    return;
  }
  if (o->via.str.size >= size) {
    msgfield_fail(d, -E2BIG, "field '%s' is %u bytes, at most %zu allowed", what, o->via.str.size, size - 1);
    return;
  }
  if (memchr(o->via.str.ptr, 0, o->via.str.size)) {
    msgfield_fail(d, -EPROTO, "field '%s' contains a NUL byte", what);
    return;
  }
  memcpy(dst, o->via.str.ptr, o->via.str.size);
  dst[o->via.str.size] = 0;
}

void msgfield_get_str(msgfield *d, const msgpack_object *map, const char *key, char *dst, size_t size) {
  msgfield_str(d, msgfield_get(d, map, key), key, dst, size);
}

/* An array of at most max elements (or NULL after failing). */
const msgpack_object *msgfield_array(msgfield *d, const msgpack_object *o, const char *what, size_t max) {
  if (!o) return NULL;
  if (o->type != MSGPACK_OBJECT_ARRAY) {
    msgfield_fail(d, -EPROTO, "field '%s' is not an array", what);
    return NULL;
  }
  if (o->via.array.size > max) {
    msgfield_fail(d, -E2BIG, "field '%s' has %u elements, at most %zu allowed", what, o->via.array.size, max);
    return NULL;
  }
  return o;
}

const msgpack_object *msgfield_map(msgfield *d, const msgpack_object *o, const char *what) {
  if (o && o->type != MSGPACK_OBJECT_MAP) {
    msgfield_fail(d, -EPROTO, "field '%s' is not a map", what);
    return NULL;
  }
  return o;
}

/* A tuple: an array of exactly n elements. */
const msgpack_object *msgfield_tuple(msgfield *d, const msgpack_object *o, const char *what, uint32_t n) {
  if (!o) return NULL;
  if (o->type != MSGPACK_OBJECT_ARRAY || o->via.array.size != n) {
    msgfield_fail(d, -EPROTO, "'%s' is not an array of %u", what, n);
    return NULL;
  }
  return o->via.array.ptr;
}
