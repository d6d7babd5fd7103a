/* test_h2mem.c - the h2 backend's nghttp2 allocator: blocks of every class and over the largest come back
 * usable and aligned, a freed block is handed out again for its class, realloc keeps the bytes across
 * classes and into and out of malloc's own blocks, calloc zeroes and refuses an overflow, a class keeps no
 * more than H2MEM_KEEP_BYTES, and a real nghttp2 session runs and frees everything in it. */
#include <check.h>
#include <stdint.h>
#include <string.h>

#include "tests/support/checkrun.h"
#include "worker/h2mem.h"

START_TEST(blocks_reused_by_class) {
  h2mem *m;
  ck_assert_int_eq(h2mem_create(&m), 0);
  nghttp2_mem *a = h2mem_nghttp2(m);
  for (size_t size = 0; size <= 2 * H2MEM_MAX_BLOCK; size = size * 2 + 1) {
    unsigned char *p = a->malloc(size, a->mem_user_data);
    ck_assert_ptr_nonnull(p);
    ck_assert_uint_eq((uintptr_t)p % 16, 0);
    memset(p, 0xab, size);
    a->free(p, a->mem_user_data);
  }
  ck_assert_uint_eq(h2mem_live(m), 0);
  void *p = a->malloc(100, a->mem_user_data), *q;
  a->free(p, a->mem_user_data);
  q = a->malloc(120, a->mem_user_data); /* the same class (128): the same block */
  ck_assert_ptr_eq(p, q);
  ck_assert_uint_eq(h2mem_live(m), 1);
  a->free(q, a->mem_user_data);
  a->free(NULL, a->mem_user_data);
  h2mem_free(m);
}
END_TEST

START_TEST(realloc_and_calloc) {
  h2mem *m;
  ck_assert_int_eq(h2mem_create(&m), 0);
  nghttp2_mem *a = h2mem_nghttp2(m);
  char *p = a->realloc(NULL, 10, a->mem_user_data);
  memcpy(p, "0123456789", 10);
  ck_assert_ptr_eq(a->realloc(p, 30, a->mem_user_data), p); /* fits its class */
  p = a->realloc(p, 5000, a->mem_user_data);
  ck_assert(!memcmp(p, "0123456789", 10));
  p = a->realloc(p, 3 * H2MEM_MAX_BLOCK, a->mem_user_data); /* into a block of malloc's own */
  ck_assert(!memcmp(p, "0123456789", 10));
  p = a->realloc(p, 4 * H2MEM_MAX_BLOCK, a->mem_user_data);
  ck_assert(!memcmp(p, "0123456789", 10));
  p = a->realloc(p, 16, a->mem_user_data); /* and back into a class */
  ck_assert(!memcmp(p, "0123456789", 10));
  ck_assert_ptr_null(a->realloc(p, 0, a->mem_user_data)); /* frees */
  unsigned char *z = a->calloc(7, 9, a->mem_user_data);
  for (int i = 0; i < 63; i++) ck_assert_int_eq(z[i], 0);
  a->free(z, a->mem_user_data);
  ck_assert_ptr_null(a->calloc(SIZE_MAX / 2, 4, a->mem_user_data));
  ck_assert_uint_eq(h2mem_live(m), 0);
  h2mem_free(m);
}
END_TEST

START_TEST(kept_bytes_bounded) {
  enum { N = 2 * H2MEM_KEEP_BYTES / 64 };
  static void *blocks[N];
  h2mem *m;
  ck_assert_int_eq(h2mem_create(&m), 0);
  nghttp2_mem *a = h2mem_nghttp2(m);
  for (int i = 0; i < N; i++) ck_assert_ptr_nonnull(blocks[i] = a->malloc(64, a->mem_user_data));
  for (int i = 0; i < N; i++) a->free(blocks[i], a->mem_user_data);
  ck_assert_uint_eq(h2mem_kept(m), H2MEM_KEEP_BYTES / 64); /* the other half went back to malloc */
  ck_assert_uint_eq(h2mem_live(m), 0);
  h2mem_free(m);
}
END_TEST

static ssize_t no_send(nghttp2_session *s, const uint8_t *d, size_t n, int f, void *ud) {
  (void)s, (void)d, (void)f, (void)ud;
  return (ssize_t)n;
}

START_TEST(nghttp2_session_in_the_pool) {
  h2mem *m;
  nghttp2_session_callbacks *cbs;
  nghttp2_session *s;
  const nghttp2_nv nv[] = {{(uint8_t *)":method", (uint8_t *)"GET", 7, 3, 0},
                           {(uint8_t *)":scheme", (uint8_t *)"http", 7, 4, 0},
                           {(uint8_t *)":authority", (uint8_t *)"h", 10, 1, 0},
                           {(uint8_t *)":path", (uint8_t *)"/", 5, 1, 0}};
  ck_assert_int_eq(h2mem_create(&m), 0);
  ck_assert_int_eq(nghttp2_session_callbacks_new(&cbs), 0);
  nghttp2_session_callbacks_set_send_callback(cbs, no_send);
  ck_assert_int_eq(nghttp2_session_client_new3(&s, cbs, NULL, NULL, h2mem_nghttp2(m)), 0);
  for (int i = 0; i < 50; i++) ck_assert_int_gt(nghttp2_submit_request(s, NULL, nv, 4, NULL, NULL), 0);
  ck_assert_int_eq(nghttp2_session_send(s), 0);
  ck_assert_uint_gt(h2mem_live(m), 0);
  nghttp2_session_del(s);
  ck_assert_uint_eq(h2mem_live(m), 0); /* everything nghttp2 took came back */
  ck_assert_uint_gt(h2mem_kept(m), 0);
  nghttp2_session_callbacks_del(cbs);
  h2mem_free(m);
}
END_TEST

CHECK_MAIN("h2mem", 0, blocks_reused_by_class, realloc_and_calloc, kept_bytes_bounded,
           nghttp2_session_in_the_pool)
