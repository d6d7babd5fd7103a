/* msgguard.c - the bounds check every received frame passes before msgpack-c unpacks it (common/msgguard.h):
 * a walk over the msgpack bytes that reads lengths and counts but allocates nothing. */
#include "common/msgguard.h"

/* Read a big-endian length of n bytes at p[*pos]; 0 when the input ends first. */
static int read_len(const uint8_t *p, size_t len, size_t *pos, int n, uint64_t *out) {
  if ((size_t)n > len - *pos) return 0;
  *out = 0;
  for (int i = 0; i < n; i++) *out = *out << 8 | p[(*pos)++];
  return 1;
}

/* Skip n bytes of payload. */
static int skip(size_t len, size_t *pos, uint64_t n) {
  if (n > len - *pos) return 0;
  *pos += (size_t)n;
  return 1;
}

static int skim(const uint8_t *p, size_t len, size_t *pos, int depth, int max_depth);

/* Skim n elements of a container, each at least one byte, so counts can never exceed the input. */
static int skim_items(const uint8_t *p, size_t len, size_t *pos, int depth, int max_depth, uint64_t n) {
  if (depth >= max_depth || n > len - *pos) return 0;
  for (uint64_t i = 0; i < n; i++)
    if (!skim(p, len, pos, depth + 1, max_depth)) return 0;
  return 1;
}

/* How the formats 0xc0..0xdf find their end: skip a fixed size, or read a size-byte length first. */
enum { F_BAD, F_SKIP, F_BLOB, F_EXT, F_ARRAY, F_MAP };
static const struct {
  uint8_t kind, size;
} formats[32] = {
    {F_SKIP, 0},  {F_BAD, 0},  {F_SKIP, 0}, {F_SKIP, 0}, {F_BLOB, 1},  {F_BLOB, 2},  {F_BLOB, 4}, {F_EXT, 1},
    {F_EXT, 2},   {F_EXT, 4},  {F_SKIP, 4}, {F_SKIP, 8}, {F_SKIP, 1},  {F_SKIP, 2},  {F_SKIP, 4}, {F_SKIP, 8},
    {F_SKIP, 1},  {F_SKIP, 2}, {F_SKIP, 4}, {F_SKIP, 8}, {F_SKIP, 2},  {F_SKIP, 3},  {F_SKIP, 5}, {F_SKIP, 9},
    {F_SKIP, 17}, {F_BLOB, 1}, {F_BLOB, 2}, {F_BLOB, 4}, {F_ARRAY, 2}, {F_ARRAY, 4}, {F_MAP, 2},  {F_MAP, 4},
};

/* One msgpack object at *pos: sizes within the input, nesting within max_depth. */
static int skim(const uint8_t *p, size_t len, size_t *pos, int depth, int max_depth) {
  uint64_t n = 0;

  if (*pos >= len) return 0;
  uint8_t b = p[(*pos)++];
  if (b <= 0x7f || b >= 0xe0) return 1;
  if (b <= 0x8f) return skim_items(p, len, pos, depth, max_depth, 2u * (b & 0x0f));
  if (b <= 0x9f) return skim_items(p, len, pos, depth, max_depth, b & 0x0f);
  if (b <= 0xbf) return skip(len, pos, b & 0x1f);
  int kind = formats[b - 0xc0].kind, size = formats[b - 0xc0].size;
  if (kind == F_SKIP) return skip(len, pos, (uint64_t)size);
  if (kind == F_BAD || !read_len(p, len, pos, size, &n)) return 0;
  if (kind == F_BLOB) return skip(len, pos, n);
  if (kind == F_EXT) return skip(len, pos, n + 1);
  return skim_items(p, len, pos, depth, max_depth, kind == F_MAP ? 2 * n : n);
}

size_t msgguard_check(const uint8_t *buf, size_t len, int max_depth) {
  size_t pos = 0;
  if (!buf || len == 0 || !skim(buf, len, &pos, 0, max_depth)) return 0;
  return pos;
}
