/* h2mem.c - size-class free lists under nghttp2 (see h2mem.h). Every block starts with a 16-byte header
 * (the payload keeps malloc's alignment) holding its class: 32 << class payload bytes, or BIG for a block
 * that came from malloc at its own size. A free block on a list holds the next one in its payload. */
#include "worker/h2mem.h"

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MIN_BLOCK 32
#define NCLASSES 9 /* 32 .. 8192 */
#define BIG 0xff

typedef union hdr {
  unsigned cls;
  max_align_t align;
} hdr;

struct h2mem {
  nghttp2_mem api;
  void *lists[NCLASSES];
  size_t kept[NCLASSES];
  size_t live, nkept;
};

_Static_assert(MIN_BLOCK << (NCLASSES - 1) == H2MEM_MAX_BLOCK, "the largest class is H2MEM_MAX_BLOCK");

/* The smallest class whose blocks hold size (1 .. H2MEM_MAX_BLOCK) bytes. */
static unsigned class_of(size_t size) {
  return size <= MIN_BLOCK ? 0 : (unsigned)(64 - __builtin_clzll((unsigned long long)(size - 1))) - 5;
}

static void *mem_malloc(size_t size, void *ud) {
  h2mem *m = ud;
  hdr *h;
  if (size > H2MEM_MAX_BLOCK) {
    if (!(h = malloc(sizeof *h + size))) return NULL;
    h->cls = BIG;
  } else {
    unsigned c = class_of(size ? size : 1);
    if (m->lists[c]) {
      h = (hdr *)m->lists[c] - 1;
      memcpy(&m->lists[c], h + 1, sizeof m->lists[c]);
      m->kept[c]--, m->nkept--;
    } else if (!(h = malloc(sizeof *h + ((size_t)MIN_BLOCK << c)))) {
      return NULL;
    }
    h->cls = c;
  }
  m->live++;
  return h + 1;
}

static void mem_free(void *ptr, void *ud) {
  h2mem *m = ud;
  if (!ptr) return;
  hdr *h = (hdr *)ptr - 1;
  unsigned c = h->cls;
  m->live--;
  if (c == BIG || m->kept[c] >= H2MEM_KEEP_BYTES / ((size_t)MIN_BLOCK << c)) {
    free(h);
    return;
  }
  memcpy(ptr, &m->lists[c], sizeof m->lists[c]);
  m->lists[c] = ptr;
  m->kept[c]++, m->nkept++;
}

static void *mem_calloc(size_t n, size_t size, void *ud) {
  if (size && n > SIZE_MAX / size) return NULL;
  void *p = mem_malloc(n * size, ud);
  if (p) memset(p, 0, n * size);
  return p;
}

static void *mem_realloc(void *ptr, size_t size, void *ud) {
  h2mem *m = ud;
  if (!ptr) return mem_malloc(size, ud);
  if (size == 0) {
    mem_free(ptr, ud);
    return NULL;
  }
  hdr *h = (hdr *)ptr - 1;
  if (h->cls == BIG && size > H2MEM_MAX_BLOCK) {
    hdr *grown = realloc(h, sizeof *h + size);
    return grown ? grown + 1 : NULL;
  }
  size_t have = h->cls == BIG ? H2MEM_MAX_BLOCK + 1 : (size_t)MIN_BLOCK << h->cls;
  if (h->cls != BIG && size <= have) return ptr;
  void *p = mem_malloc(size, ud);
  if (!p) return NULL;
  memcpy(p, ptr, size < have ? size : have); /* a BIG block shrinking below the classes: size < have */
  mem_free(ptr, m);
  return p;
}

int h2mem_create(h2mem **out) {
  h2mem *m = calloc(1, sizeof *m);
  if (!m) return -ENOMEM;
  m->api = (nghttp2_mem){m, mem_malloc, mem_free, mem_calloc, mem_realloc};
  *out = m;
  return 0;
}

nghttp2_mem *h2mem_nghttp2(h2mem *m) {
  return &m->api;
}

size_t h2mem_live(const h2mem *m) {
  return m->live;
}

size_t h2mem_kept(const h2mem *m) {
  return m->nkept;
}

void h2mem_free(h2mem *m) {
  if (!m) return;
  for (int c = 0; c < NCLASSES; c++)
    while (m->lists[c]) {
      void *p = m->lists[c];
      memcpy(&m->lists[c], p, sizeof m->lists[c]);
      free((hdr *)p - 1);
    }
  free(m);
}
