/* msgguard.h - the structure guard in front of msgpack-c: hostile bytes (a count of 2^32 elements in a
 * 10-byte frame, nesting 10,000 deep, a length past the end) are refused before anything is allocated. */
#ifndef LOADCTL_MSGGUARD_H
#define LOADCTL_MSGGUARD_H

#include <stddef.h>
#include <stdint.h>

/* Walk the one msgpack object at the start of buf: every length and count within the input (each element
 * at least one byte), containers nested at most max_depth deep, no reserved format byte (0xc1). Returns the
 * object's size in bytes (compare it with len for trailing bytes), or 0 when it is malformed, truncated,
 * oversized or too deep (and for a NULL or empty buf). */
size_t msgguard_check(const uint8_t *buf, size_t len, int max_depth);

#endif
