/* msgfield.h - the typed field layer of the message decoder: every read of a msgpack-c object checks its
 * type, sign, range and size, and the first failure is kept with the field's name ("field 'n' is not a
 * 64-bit integer"), so a decoder reads field after field and checks once at the end. */
#ifndef LOADCTL_MSGFIELD_H
#define LOADCTL_MSGFIELD_H

#include <msgpack.h>
#include <stddef.h>
#include <stdint.h>

/* A decoding context, on the caller's stack (not opaque for that reason): rc is 0 until the first
 * failure, then that failure's negative errno; err (errlen bytes, may be NULL) holds its message. Start
 * with {0, err, errlen}. After a failure every read returns a zero value or NULL and changes nothing. */
typedef struct msgfield {
  int rc;
  char *err;
  size_t errlen;
} msgfield;

/* Record a failure (only the first one counts); returns d->rc. */
__attribute__((format(printf, 3, 4))) int msgfield_fail(msgfield *d, int rc, const char *fmt, ...);

/* The value of key in map; a missing or duplicated key fails (-EPROTO) and gives NULL. */
const msgpack_object *msgfield_get(msgfield *d, const msgpack_object *map, const char *key);
/* The same for an optional key: NULL, without a failure, when it is absent. */
const msgpack_object *msgfield_find(msgfield *d, const msgpack_object *map, const char *key);

/* Reads of one object o (NULL, from a failed msgfield_get, gives 0 without a new failure); what names it
 * in the message. -EPROTO on the wrong type, a negative count, or an i32 out of range. */
int64_t msgfield_i64(msgfield *d, const msgpack_object *o, const char *what);
int64_t msgfield_count(msgfield *d, const msgpack_object *o, const char *what); /* >= 0: counters, sizes */
double msgfield_double(msgfield *d, const msgpack_object *o, const char *what); /* float or integer */
int64_t msgfield_get_i64(msgfield *d, const msgpack_object *map, const char *key);
int32_t msgfield_get_i32(msgfield *d, const msgpack_object *map, const char *key);

/* Copy a string into dst (size bytes with the NUL; "" on failure): -E2BIG when it does not fit, -EPROTO
 * when it is not a string or holds a NUL byte. */
void msgfield_str(msgfield *d, const msgpack_object *o, const char *what, char *dst, size_t size);
void msgfield_get_str(msgfield *d, const msgpack_object *map, const char *key, char *dst, size_t size);

/* o itself when it is an array of at most max elements (-E2BIG over), a map, or an array of exactly n
 * (msgfield_tuple returns its first element); NULL after failing. */
const msgpack_object *msgfield_array(msgfield *d, const msgpack_object *o, const char *what, size_t max);
const msgpack_object *msgfield_map(msgfield *d, const msgpack_object *o, const char *what);
const msgpack_object *msgfield_tuple(msgfield *d, const msgpack_object *o, const char *what, uint32_t n);

#endif
