/* grow.c - room in a growing array (see grow.h). The array pointer is read and written through memcpy,
 * so any T** can be handed in as void * without an aliasing cast. */
#include "common/grow.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int grow_room(void *items, size_t *cap, size_t need, size_t size, size_t first) {
  void *arr, *bigger;
  size_t ncap;

  if (need <= *cap) return 0;
  ncap = *cap ? *cap : (first ? first : 1);
  while (ncap < need) {
    if (ncap > SIZE_MAX / 2) return -ENOMEM;
    ncap *= 2;
  }
  if (size && ncap > SIZE_MAX / size) return -ENOMEM;
  memcpy(&arr, items, sizeof arr);
  bigger = realloc(arr, ncap * size);
  if (!bigger) return -ENOMEM;
  memcpy(items, &bigger, sizeof bigger);
  *cap = ncap;
  return 0;
}

int grow_room_zeroed(void *items, size_t *cap, size_t need, size_t size, size_t first) {
  size_t old = *cap;
  char *arr;
  int rc = grow_room(items, cap, need, size, first);

  if (rc < 0 || *cap == old) return rc;
  memcpy(&arr, items, sizeof arr);
  memset(arr + old * size, 0, (*cap - old) * size);
  return 0;
}
