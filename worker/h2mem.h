/* h2mem.h - the memory nghttp2 works in for the h2 backend of one loop: freed blocks are kept on lists by
 * size class and handed out again, so the dozen allocations nghttp2 makes and frees for every request
 * (the stream, the copy of the request headers, the frames queued, each received header's buffer) cost a
 * list push and pop instead of a trip through malloc. Blocks over H2MEM_MAX_BLOCK bytes go to malloc
 * directly; each class keeps at most H2MEM_KEEP_BYTES of free blocks, the rest goes back to malloc.
 * Single-threaded, like the loop that owns it. */
#ifndef LOADCTL_H2MEM_H
#define LOADCTL_H2MEM_H

#include <nghttp2/nghttp2.h>
#include <stddef.h>

#define H2MEM_MAX_BLOCK 8192          /* the largest block kept on a list (payload bytes) */
#define H2MEM_KEEP_BYTES (256 * 1024) /* free bytes one size class keeps at most */

typedef struct h2mem h2mem;

/* A new pool; *out is owned by the caller, freed with h2mem_free after every session using it is deleted.
 * 0 or -ENOMEM. */
int h2mem_create(h2mem **out);
/* The allocator nghttp2 takes (nghttp2_session_client_new3), valid while m is. */
nghttp2_mem *h2mem_nghttp2(h2mem *m);
/* Blocks out (allocated and not freed) and kept on the lists: for tests. */
size_t h2mem_live(const h2mem *m);
size_t h2mem_kept(const h2mem *m);
/* Release the kept blocks and m. Blocks still out must not be used or freed afterwards. */
void h2mem_free(h2mem *m);

#endif
