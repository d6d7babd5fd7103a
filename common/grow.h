/* grow.h - room in a growing array: the capacity starts at a first size and doubles until the items
 * needed fit, so n appends cost O(n) copies in all. One helper for the module arrays (events, samples,
 * series points, cookies, workers, ...) that each had their own copy of the realloc dance. */
#ifndef LOADCTL_GROW_H
#define LOADCTL_GROW_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Make *items (the address of an array pointer, e.g. &list->items) hold at least need items of size
 * bytes, reallocating it to first, 2 x first, ... items; *cap is its capacity in items. 0, or -ENOMEM
 * (the array and *cap unchanged) when the memory is not there or the size would overflow. */
int grow_room(void *items, size_t *cap, size_t need, size_t size, size_t first);
/* As grow_room, and the items added to the capacity are zeroed. */
int grow_room_zeroed(void *items, size_t *cap, size_t need, size_t size, size_t first);

/* Append n bytes at src to the byte buffer *data of *len bytes and capacity *cap, growing it as grow_room
 * does (first bytes, then doubling). 0, or -ENOMEM with the buffer unchanged. Inline: the buffers that
 * use it (request bytes, TLS and HTTP/2 output, curl's headers and bodies) append on every request. */
static inline int grow_append(char **data, size_t *len, size_t *cap, const void *src, size_t n,
                              size_t first) {
  if (n > SIZE_MAX - *len) return -ENOMEM;
  if (*len + n > *cap && grow_room(data, cap, *len + n, 1, first) < 0) return -ENOMEM;
  if (n) memcpy(*data + *len, src, n);
  *len += n;
  return 0;
}

#endif
