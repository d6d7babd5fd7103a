/* hist.c - HDR histogram with the HdrHistogram log-linear layout fixed at 1 us .. 1 h, 3 significant
 * digits, so recording is an index computation and one add, and merge is bucket addition. */
#include "common/hist.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <sodium.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <zlib.h>

#include "common/clock.h"

/* Layout, as HdrHistogram computes it for lowest 1, highest 3.6e9, 3 significant digits. */
#define UNIT_MAG 0
#define SUB_BUCKET_COUNT_MAG 11 /* ceil(log2(2 * 10^3)) */
#define SUB_BUCKET_HALF_MAG (SUB_BUCKET_COUNT_MAG - 1)
#define SUB_BUCKET_COUNT (1 << SUB_BUCKET_COUNT_MAG)
#define SUB_BUCKET_HALF (SUB_BUCKET_COUNT / 2)
#define SUB_BUCKET_MASK ((int64_t)(SUB_BUCKET_COUNT - 1) << UNIT_MAG)
#define BUCKET_COUNT 22 /* 2048 << 21 > 3.6e9 */
#define COUNTS_LEN ((BUCKET_COUNT + 1) * SUB_BUCKET_HALF)

/* Cookies as HdrHistogram writes them: the base with 0x10 set (the Java/C/JS word-size marker). */
#define COOKIE_MASK (~0xf0u)
#define ENCODING_COOKIE_BASE 0x1c849303u
#define COMPRESSED_COOKIE_BASE 0x1c849304u
#define ENCODING_COOKIE (ENCODING_COOKIE_BASE | 0x10u)
#define COMPRESSED_COOKIE (COMPRESSED_COOKIE_BASE | 0x10u)
#define HEADER_LEN 40
#define DECODE_MAX_PAYLOAD (8u << 20) /* refuse bigger inflated payloads */

struct hist {
  int64_t total;
  int32_t lo, hi;           /* every non-zero slot lies in [lo, hi): merge, reset and scans touch only that */
  int32_t kept_lo, kept_hi; /* the last reset's span: its edge pages stayed resident (as zeros) */
  int64_t counts[COUNTS_LEN];
};

/* Widen the non-zero range to slot i. */
static inline void touch(hist *h, int32_t i) {
  h->lo = i < h->lo ? i : h->lo;
  h->hi = i >= h->hi ? i + 1 : h->hi;
}

/* First slot in [i, limit) with a count, or limit: 16 slots one by one, then 16 a memcmp (a sparse histogram
 * is mostly zeros). The encoder's only: in the read-only scans it slowed dense histograms 2.5-3x. */
static inline int32_t next_count(const hist *h, int32_t i, int32_t limit) {
  static const int64_t zeros[16];
  for (int32_t stop = limit - i > 16 ? i + 16 : limit; i < stop; i++)
    if (h->counts[i]) return i;
  while (limit - i >= 16 && memcmp(h->counts + i, zeros, sizeof zeros) == 0) i += 16;
  while (i < limit && h->counts[i] == 0) i++;
  return i;
}

/* Index of a value already clamped to >= 1: HdrHistogram's counts_index_for(). */
static inline int32_t index_of(int64_t value) {
  int32_t pow2ceiling = 64 - __builtin_clzll((uint64_t)(value | SUB_BUCKET_MASK));
  int32_t bucket = pow2ceiling - UNIT_MAG - (SUB_BUCKET_HALF_MAG + 1);
  int32_t sub = (int32_t)(value >> (bucket + UNIT_MAG));
  return ((bucket + 1) << SUB_BUCKET_HALF_MAG) + (sub - SUB_BUCKET_HALF);
}

static inline int64_t clamp(int64_t value) {
  value = value < 0 ? 0 : value;
  return value > HIST_HIGHEST_US ? HIST_HIGHEST_US : value;
}

/* Lowest value of counts slot i and the width of its range (layout given by half_mag, unit_mag). */
static void slot_range(int32_t i, int half_mag, int unit_mag, int64_t *lowest, int64_t *width) {
  int32_t bucket = (i >> half_mag) - 1;
  int32_t sub = (i & ((1 << half_mag) - 1)) + (1 << half_mag);

  if (bucket < 0) {
    sub -= 1 << half_mag;
    bucket = 0;
  }
  *lowest = (int64_t)sub << (bucket + unit_mag);
  *width = (int64_t)1 << (bucket + unit_mag);
}

static int64_t slot_lowest(int32_t i) {
  int64_t lowest, width;
  slot_range(i, SUB_BUCKET_HALF_MAG, UNIT_MAG, &lowest, &width);
  return lowest;
}

static int64_t slot_highest(int32_t i) {
  int64_t lowest, width;
  slot_range(i, SUB_BUCKET_HALF_MAG, UNIT_MAG, &lowest, &width);
  return lowest + width - 1;
}

static int64_t slot_median(int32_t i) {
  int64_t lowest, width;
  slot_range(i, SUB_BUCKET_HALF_MAG, UNIT_MAG, &lowest, &width);
  return lowest + (width >> 1);
}

/* Released histograms are kept per thread (reset sparsely, so their counts are already zero) and handed
 * out again by hist_create: the master decodes ~40 histograms per worker message and a fresh calloc of
 * 188 KB each was its biggest cost. With the six timing phases a message of 20 names holds 160; a cap of
 * 64 sent ~100 of them back through mmap/munmap and page faults each message (decode CPU 1.5 -> 5.5 ms;
 * 512 keeps it at ~2 ms). A pooled histogram holds only the pages it touched, and the pool only refills
 * to what was live at once before. The list is freed when its thread exits. A new histogram
 * is its own anonymous mapping, not calloc: calloc from a reused heap zeroes (and makes resident) all
 * 188 KB, a fresh mapping only the pages its counts touch (~2 MB -> ~0.1 MB of RSS per request name).
 * Each mapping is marked MADV_DONTDUMP (VmFlags "dd" in /proc/PID/smaps), which no other memory of ours
 * carries, so bench/soak can tell the histograms' pages (bounded: 47 each) from the rest of a process's RSS;
 * a core dump leaves out their counts. */
#define POOL_MAX 512

typedef struct pool {
  hist *items[POOL_MAX];
  int n;
} pool;

static pthread_key_t pool_key;
static int pool_key_ok;
static pthread_once_t pool_once = PTHREAD_ONCE_INIT;
static _Thread_local pool *thread_pool;

static void pool_free(void *p) {
  pool *pl = p;
  for (int i = 0; i < pl->n; i++) munmap(pl->items[i], sizeof *pl->items[i]);
  free(pl);
  thread_pool = NULL;
}

static void pool_key_init(void) {
  pool_key_ok = pthread_key_create(&pool_key, pool_free) == 0;
}

/* This thread's pool, created on first use; NULL when it cannot be (then nothing is pooled). */
static pool *pool_get(void) {
  if (thread_pool) return thread_pool;
  pthread_once(&pool_once, pool_key_init);
  if (!pool_key_ok) return NULL;
  pool *pl = calloc(1, sizeof *pl);
  if (!pl) return NULL;
  if (pthread_setspecific(pool_key, pl) != 0) {
    free(pl);
    return NULL;
  }
  thread_pool = pl;
  return pl;
}

int hist_create(hist **out) {
  pool *pl = thread_pool;
  hist *h;

  if (pl && pl->n > 0) {
    *out = pl->items[--pl->n];
    return 0;
  }
  h = mmap(NULL, sizeof *h, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (h == MAP_FAILED) return -ENOMEM;
  madvise(h, sizeof *h, MADV_DONTDUMP); /* the mark bench/soak counts by ("dd"); refused: only unmarked */
  h->lo = COUNTS_LEN;
  *out = h;
  return 0;
}

void hist_destroy(hist *h) {
  pool *pl;

  if (!h) return;
  pl = pool_get();
  if (!pl || pl->n >= POOL_MAX) {
    munmap(h, sizeof *h);
    return;
  }
  hist_reset(h);
  pl->items[pl->n++] = h;
}

size_t hist_memory_size(void) {
  return sizeof(struct hist);
}

static inline void add_at(hist *h, int32_t i, int64_t count) {
  h->counts[i] += count;
  h->total += count;
  touch(h, i);
}

void hist_record(hist *h, int64_t value_us) {
  add_at(h, index_of(clamp(value_us)), 1);
}

void hist_record_n(hist *h, int64_t value_us, int64_t count) {
  add_at(h, index_of(clamp(value_us)), count);
}

/* Back-fill value - k*interval for k = 1..kmax slot by slot, so a huge value over a tiny interval
 * costs at most one pass over the slots instead of value/interval records. */
static void backfill_by_slot(hist *h, int64_t value, int64_t interval, int64_t kmax) {
  int32_t first = index_of(value - kmax * interval), last = index_of(value - interval);

  for (int32_t i = first; i <= last; i++) {
    int64_t lo = slot_lowest(i), hi = slot_highest(i);
    /* k such that lo <= value - k*interval <= hi */
    int64_t kmin_slot = value - hi <= 0 ? 1 : (value - hi + interval - 1) / interval;
    int64_t kmax_slot = (value - lo) / interval;
    if (kmin_slot < 1) kmin_slot = 1;
    if (kmax_slot > kmax) kmax_slot = kmax;
    if (kmax_slot >= kmin_slot) {
      h->counts[i] += kmax_slot - kmin_slot + 1;
      h->total += kmax_slot - kmin_slot + 1;
      touch(h, i);
    }
  }
}

void hist_record_corrected(hist *h, int64_t value_us, int64_t expected_interval_us) {
  int64_t value = clamp(value_us);

  hist_record(h, value);
  if (expected_interval_us <= 0 || value <= expected_interval_us) return;
  int64_t kmax = value / expected_interval_us - 1; /* value - k*interval >= interval */
  if (kmax <= 64) {
    for (int64_t missing = value - expected_interval_us; missing >= expected_interval_us;
         missing -= expected_interval_us)
      hist_record(h, missing);
    return;
  }
  backfill_by_slot(h, value, expected_interval_us, kmax);
}

void hist_add(hist *dst, const hist *src) {
  for (int32_t i = src->lo; i < src->hi; i++) dst->counts[i] += src->counts[i];
  dst->total += src->total;
  if (src->lo < src->hi) {
    touch(dst, src->lo);
    touch(dst, src->hi - 1);
  }
}

/* A reset zeroes [lo, hi): whole pages inside it are given back (MADV_DONTNEED on the private mapping
 * reads as zeros), the two partly used edge pages are zeroed by hand and stay resident, so a histogram
 * reused for a similar span takes no page faults. But a pooled histogram reused for spans in other places
 * kept every edge page it ever had (one more page each time its lowest or highest value moved): the pool's
 * resident size crept up through a whole run (the soak's master). So each histogram remembers the slots
 * of its last span ([kept_lo, kept_hi)), whose edge pages stayed; at the next reset the pages of that
 * range outside the new span's edge pages go back too (they hold only zeros; each histogram is its own
 * page-aligned mapping: hist_create). A reset histogram thus holds its first page (the header and the
 * lowest slots) and at most the two pages its last span ended on, whatever spans it held before. */
static uintptr_t page_size(void) {
  long page = sysconf(_SC_PAGESIZE); /* read each time: a lazily set static is a race between threads */
  return page > 0 ? (uintptr_t)page : 4096;
}

/* Give back the pages of [a, b) (page-aligned addresses inside h's mapping), never h's first page. */
static void release(hist *h, uintptr_t a, uintptr_t b, uintptr_t page) {
  if (a < (uintptr_t)h + page) a = (uintptr_t)h + page;
  if (b > a) madvise((void *)a, (size_t)(b - a), MADV_DONTNEED); /* refused: the pages stay, as zeros */
}

static void zero_counts(hist *h) {
  uintptr_t page = page_size(), mask = page - 1;
  char *from = (char *)(h->counts + h->lo), *to = (char *)(h->counts + h->hi);
  uintptr_t first = (uintptr_t)from & ~mask, last = ((uintptr_t)to - 1 + page) & ~mask; /* edge pages */
  if (h->kept_lo < h->kept_hi) { /* the last span's edge pages, where outside this span's */
    release(h, (uintptr_t)(h->counts + h->kept_lo) & ~mask, first, page);
    release(h, last, ((uintptr_t)(h->counts + h->kept_hi) + mask) & ~mask, page);
  }
  h->kept_lo = h->lo;
  h->kept_hi = h->hi;
  char *a = (char *)(((uintptr_t)from + mask) & ~mask), *b = (char *)((uintptr_t)to & ~mask);
  if (b - a >= (ptrdiff_t)page && madvise(a, (size_t)(b - a), MADV_DONTNEED) == 0) {
    memset(from, 0, (size_t)(a - from));
    memset(b, 0, (size_t)(to - b));
    return;
  }
  memset(from, 0, (size_t)(to - from));
}

void hist_reset(hist *h) {
  if (h->lo < h->hi) zero_counts(h);
  h->total = 0;
  h->lo = COUNTS_LEN;
  h->hi = 0;
}

int64_t hist_count(const hist *h) {
  return h->total;
}

int64_t hist_min(const hist *h) {
  for (int32_t i = h->lo; i < h->hi; i++)
    if (h->counts[i]) return slot_lowest(i);
  return 0;
}

int64_t hist_max(const hist *h) {
  for (int32_t i = h->hi - 1; i >= h->lo; i--)
    if (h->counts[i]) return slot_highest(i);
  return 0;
}

double hist_mean(const hist *h) {
  double sum = 0;

  if (h->total <= 0) return 0;
  for (int32_t i = h->lo; i < h->hi; i++)
    if (h->counts[i]) sum += (double)h->counts[i] * (double)slot_median(i);
  return sum / (double)h->total;
}

double hist_stdev(const hist *h) {
  double mean = hist_mean(h), sum = 0;

  if (h->total <= 0) return 0;
  for (int32_t i = h->lo; i < h->hi; i++) {
    if (!h->counts[i]) continue;
    double dev = (double)slot_median(i) - mean;
    sum += dev * dev * (double)h->counts[i];
  }
  return sqrt(sum / (double)h->total);
}

int64_t hist_value_at_percentile(const hist *h, double percentile) {
  double p = percentile < 0 ? 0 : (percentile > 100 ? 100 : percentile);
  double fp_rank = p / 100.0 * (double)h->total;
  /* Nearest rank rounded up, less one ulp of float error, as HdrHistogram Java and JS do. */
  int64_t wanted = (int64_t)ceil(fp_rank - (nextafter(fp_rank, INFINITY) - fp_rank));
  int64_t seen = 0;

  if (h->total <= 0) return 0;
  if (wanted < 1) wanted = 1;
  for (int32_t i = h->lo; i < h->hi; i++) {
    seen += h->counts[i];
    if (seen >= wanted) return slot_highest(i);
  }
  return hist_max(h);
}

double hist_pct_ms(const hist *h, double percentile) {
  if (!h || hist_count(h) == 0) return 0;
  if (percentile >= 100) return clock_us_to_ms((double)hist_max(h));
  return clock_us_to_ms((double)hist_value_at_percentile(h, percentile));
}

bool hist_equal(const hist *a, const hist *b) {
  return a->total == b->total && memcmp(a->counts, b->counts, sizeof a->counts) == 0;
}

int hist_foreach(const hist *h, int (*fn)(int64_t value_us, int64_t count, void *ud), void *ud) {
  for (int32_t i = h->lo; i < h->hi; i++) {
    if (!h->counts[i]) continue;
    int rc = fn(slot_highest(i), h->counts[i], ud);
    if (rc) return rc;
  }
  return 0;
}

/* --- V2 encoding -------------------------------------------------------------------------- */

static void put_be32(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)(v >> 24), p[1] = (uint8_t)(v >> 16), p[2] = (uint8_t)(v >> 8), p[3] = (uint8_t)v;
}

static void put_be64(uint8_t *p, uint64_t v) {
  put_be32(p, (uint32_t)(v >> 32));
  put_be32(p + 4, (uint32_t)v);
}

static uint32_t get_be32(const uint8_t *p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint64_t get_be64(const uint8_t *p) {
  return (uint64_t)get_be32(p) << 32 | get_be32(p + 4);
}

/* HdrHistogram's ZigZag LEB128: 7 bits per byte for 8 bytes, the 9th byte carries 8 bits. */
static size_t zigzag_put(uint8_t *p, int64_t value) {
  uint64_t v = ((uint64_t)value << 1) ^ (uint64_t)(value >> 63);
  size_t n = 0;

  while (n < 8 && v >> 7) {
    p[n++] = (uint8_t)((v & 0x7f) | 0x80);
    v >>= 7;
  }
  p[n++] = (uint8_t)v;
  return n;
}

/* Reads one value; returns bytes used or 0 when the input ends inside the value. */
static size_t zigzag_get(const uint8_t *p, size_t len, int64_t *out) {
  uint64_t v = 0;
  size_t n = 0;

  for (;;) {
    if (n >= len) return 0;
    uint8_t b = p[n];
    if (n == 8) {
      v |= (uint64_t)b << 56;
      n++;
      break;
    }
    v |= (uint64_t)(b & 0x7f) << (7 * n);
    n++;
    if (!(b & 0x80)) break;
  }
  *out = (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
  return n;
}

/* Uncompressed V2 bytes (header + counts) into a malloc'd buffer. */
static int encode_raw(const hist *h, uint8_t **out, size_t *out_len) {
  int32_t limit = h->hi;
  uint8_t *buf, *p;

  size_t tokens = 0; /* one per non-zero count or run of zeros, 9 bytes at most each */
  int32_t first = h->lo < limit ? h->lo : limit; /* no count below lo: those slots are one run of zeros */
  while (limit > 0 && h->counts[limit - 1] == 0) limit--;
  if (first > limit) first = limit;
  first = next_count(h, first, limit);
  tokens = first > 0;
  for (int32_t i = first; i < limit; tokens++) /* a count, or a run of zeros (one follows a count) */
    i = h->counts[i] ? i + 1 : next_count(h, i, limit);
  buf = malloc(HEADER_LEN + tokens * 9);
  if (!buf) return -ENOMEM;
  p = buf + HEADER_LEN;
  if (first > 0 && first < limit) p += zigzag_put(p, first == 1 ? 0 : -(int64_t)first);
  for (int32_t i = first, next; i < limit; i = next) { /* a count, or a run of zeros: one as 0, more as -n */
    next = h->counts[i] ? i + 1 : next_count(h, i, limit);
    p += zigzag_put(p, h->counts[i] ? h->counts[i] : next - i == 1 ? 0 : -(int64_t)(next - i));
  }
  put_be32(buf, ENCODING_COOKIE);
  put_be32(buf + 4, (uint32_t)(p - buf - HEADER_LEN));
  put_be32(buf + 8, 0); /* normalizing index offset */
  put_be32(buf + 12, HIST_SIGFIGS);
  put_be64(buf + 16, HIST_LOWEST_US);
  put_be64(buf + 24, HIST_HIGHEST_US);
  double ratio = 1.0;
  uint64_t bits;
  memcpy(&bits, &ratio, sizeof bits);
  put_be64(buf + 32, bits);
  *out = buf;
  *out_len = (size_t)(p - buf);
  return 0;
}

/* zlib at its fastest level with a 4 KiB window and small hash tables: its state stays under malloc's mmap
 * threshold, so encoding a histogram costs no system calls; any zlib inflate reads it. */
#define ZLIB_WINDOW_BITS 12
#define ZLIB_MEM_LEVEL 5

int hist_encode(const hist *h, uint8_t **out, size_t *out_len) {
  uint8_t *raw = NULL, *buf = NULL;
  size_t raw_len = 0;
  z_stream zs;
  int rc = encode_raw(h, &raw, &raw_len);

  if (rc < 0) return rc;
  memset(&zs, 0, sizeof zs);
  if (deflateInit2(&zs, Z_BEST_SPEED, Z_DEFLATED, ZLIB_WINDOW_BITS, ZLIB_MEM_LEVEL, Z_DEFAULT_STRATEGY) !=
      Z_OK) {
    free(raw);
    return -ENOMEM;
  }
  uLong bound = deflateBound(&zs, (uLong)raw_len);
  buf = malloc(8 + bound);
  if (!buf) {
    rc = -ENOMEM;
    goto out;
  }
  zs.next_in = raw;
  zs.avail_in = (uInt)raw_len;
  zs.next_out = buf + 8;
  zs.avail_out = (uInt)bound;
  if (deflate(&zs, Z_FINISH) != Z_STREAM_END) {
    rc = -EIO;
    goto out;
  }
  put_be32(buf, COMPRESSED_COOKIE);
  put_be32(buf + 4, (uint32_t)zs.total_out);
  *out = buf;
  *out_len = 8 + zs.total_out;
  buf = NULL;
out:
  deflateEnd(&zs);
  free(raw);
  free(buf);
  return rc;
}

/* The source histogram's layout, from its header, checked the way HdrHistogram checks it. */
typedef struct layout {
  int half_mag, unit_mag;
  int64_t counts_len;
} layout;

static int layout_from(int64_t lowest, int64_t highest, uint32_t sigfigs, layout *l) {
  if (lowest < 1 || sigfigs < 1 || sigfigs > 5 || highest / 2 < lowest) return -EPROTO;
  int64_t single = 2;
  for (uint32_t i = 0; i < sigfigs; i++) single *= 10;
  int count_mag = (int)ceil(log2((double)single));
  l->half_mag = (count_mag > 1 ? count_mag : 1) - 1;
  l->unit_mag = 63 - __builtin_clzll((uint64_t)lowest);
  if (l->unit_mag + l->half_mag + 1 > 61) return -EPROTO;
  int64_t buckets = 1; /* and one more per doubling of the smallest untrackable value up to highest */
  for (int64_t s = (int64_t)1 << (l->half_mag + 1 + l->unit_mag); s > 0 && s <= highest;
       s = s > INT64_MAX / 2 ? -1 : s << 1)
    buckets++;
  l->counts_len = (buckets + 1) << l->half_mag;
  return 0;
}

/* One-byte tokens (zigzag 0..127: a count of 0..63, a run of 1..64 zeros) from p, at most n, eight at a time
 * while none of the eight has its top bit, into h from slot *index on; returns the bytes used. The caller has
 * checked that n such tokens stay in the shared slots and cannot overflow the total. A slot at or above hi
 * holds 0: written before it is read, a page given back at reset faults once, not twice. Not inlined: the
 * fuzz build leaves it without coverage hooks (tests/fuzz/coverage_ignore.txt). */
static __attribute__((noinline)) size_t decode_short(hist *h, int64_t *index, const uint8_t *p, size_t n) {
  int64_t i = *index, sum = 0, first = INT64_MAX, last = -1, fresh = h->hi, *counts = h->counts;
  size_t k = 0;

  for (uint64_t w; k + 8 <= n && (memcpy(&w, p + k, 8), !(w & 0x8080808080808080u)); k += 8)
    for (size_t j = k; j < k + 8; j++) {
      int64_t half = p[j] >> 1, odd = p[j] & 1, count = half & (odd - 1);
      if (count) {
        if (i >= fresh) counts[i] = 0;
        counts[i] += count, sum += count;
        first = i < first ? i : first, last = i;
      }
      i += 1 + (half & -odd);
    }
  h->total += sum;
  if (last >= 0) touch(h, (int32_t)first), touch(h, (int32_t)last);
  *index = i;
  return k;
}

/* Add the counts payload, laid out as described by l, into h: slot to slot in this file's layout, any other
 * slot re-bucketed through hist_record_n by its lowest value; one-byte tokens through decode_short. */
static int decode_counts(hist *h, const layout *l, const uint8_t *p, size_t len) {
  int64_t index = 0, at;
  /* In this file's layout (every worker's histograms) slot i is slot i up to the slot of the highest value */
  int64_t same =
      l->half_mag == SUB_BUCKET_HALF_MAG && l->unit_mag == UNIT_MAG ? index_of(HIST_HIGHEST_US) + 1 : 0;
  int64_t shared = same < l->counts_len ? same : l->counts_len;

  size_t retry = len; /* decode_short is tried again 8 bytes after where it stopped, not at every token */
  while (len > 0) {
    int64_t count, room = len > retry || index >= shared ? 0 : (shared - index) / 64; /* tokens kept in */
    size_t n = len < (uint64_t)room ? len : (size_t)room;
    if (n >= 8 && h->total <= INT64_MAX - 63 * (int64_t)n) {
      at = index, n = decode_short(h, &at, p, n); /* through a copy: index itself stays in a register */
      p += n, len -= n, index = at, retry = len > 8 ? len - 8 : 0;
      if (n > 0) continue;
    }
    size_t used = zigzag_get(p, len, &count);
    if (!used) return -EPROTO;
    p += used, len -= used;
    if (count < 0) {
      if (count == INT64_MIN || -count > l->counts_len - index) return -EPROTO;
      index += -count;
      continue;
    }
    if (index >= l->counts_len) return -EPROTO;
    if (count > INT64_MAX - h->total) return -EPROTO;
    if (count && index < same) {
      if (index >= h->hi) h->counts[index] = 0; /* written first, as in decode_short */
      add_at(h, (int32_t)index, count);
    } else if (count) {
      int64_t lowest, width;
      slot_range((int32_t)index, l->half_mag, l->unit_mag, &lowest, &width);
      hist_record_n(h, lowest, count);
    }
    index++;
  }
  return 0;
}

/* Parse uncompressed V2 bytes. */
static int decode_raw(const uint8_t *buf, size_t len, hist *h) {
  layout l;

  if (len < HEADER_LEN || (get_be32(buf) & COOKIE_MASK) != ENCODING_COOKIE_BASE) return -EPROTO;
  uint32_t payload = get_be32(buf + 4);
  if (payload != len - HEADER_LEN) return -EPROTO;
  /* buf + 8, the normalizing index offset, is ignored as HdrHistogram's decoders do (hdr-histogram-js
   * writes 1 there); buf + 32, the double conversion ratio, means nothing for integer counts. */
  int rc = layout_from((int64_t)get_be64(buf + 16), (int64_t)get_be64(buf + 24), get_be32(buf + 12), &l);
  if (rc == 0 && l.counts_len > (int64_t)1 << 30) rc = -EPROTO;
  return rc < 0 ? rc : decode_counts(h, &l, buf + HEADER_LEN, payload);
}

/* Inflate exactly out_len bytes of zlib data, requiring the stream to end there. */
static int inflate_all(const uint8_t *in, size_t in_len, uint8_t **out, size_t *out_len) {
  z_stream zs;
  uint8_t header[HEADER_LEN];
  uint8_t *buf = NULL;
  int rc = -EPROTO, zrc;

  memset(&zs, 0, sizeof zs);
  if (inflateInit(&zs) != Z_OK) return -ENOMEM;
  zs.next_in = (Bytef *)(uintptr_t)in;
  zs.avail_in = (uInt)in_len;
  zs.next_out = header;
  zs.avail_out = HEADER_LEN;
  zrc = inflate(&zs, Z_SYNC_FLUSH);
  if ((zrc != Z_OK && zrc != Z_STREAM_END) || zs.avail_out != 0) goto out;
  uint32_t payload = get_be32(header + 4);
  if (payload > DECODE_MAX_PAYLOAD) goto out;
  buf = malloc(HEADER_LEN + (size_t)payload + 1);
  if (!buf) {
    rc = -ENOMEM;
    goto out;
  }
  memcpy(buf, header, HEADER_LEN);
  zs.next_out = buf + HEADER_LEN;
  zs.avail_out = payload + 1; /* one spare byte detects a longer stream */
  if (zrc != Z_STREAM_END) zrc = inflate(&zs, Z_FINISH);
  if (zrc != Z_STREAM_END || zs.avail_out != 1) goto out;
  *out = buf;
  *out_len = HEADER_LEN + payload;
  buf = NULL;
  rc = 0;
out:
  inflateEnd(&zs);
  free(buf);
  return rc;
}

int hist_decode_add(hist *h, const uint8_t *buf, size_t len) {
  uint8_t *raw = NULL;
  size_t raw_len = 0;
  int rc = -EPROTO;

  if (!h || !buf || len < 8) return -EINVAL;
  uint32_t cookie = get_be32(buf) & COOKIE_MASK;
  if (cookie == ENCODING_COOKIE_BASE) {
    rc = decode_raw(buf, len, h);
  } else if (cookie == COMPRESSED_COOKIE_BASE && get_be32(buf + 4) == len - 8) {
    rc = inflate_all(buf + 8, len - 8, &raw, &raw_len);
    if (rc == 0) rc = decode_raw(raw, raw_len, h);
  }
  free(raw);
  return rc;
}

int hist_decode(const uint8_t *buf, size_t len, hist **out) {
  hist *h = NULL;
  int rc;

  if (!buf || len < 8) return -EINVAL;
  rc = hist_create(&h);
  if (rc == 0) rc = hist_decode_add(h, buf, len);
  if (rc < 0) hist_destroy(h); /* NULL when it was not created */
  if (rc == 0) *out = h;
  return rc;
}

int hist_encode_base64(const hist *h, char **out) {
  uint8_t *bin = NULL;
  size_t len = 0;
  int rc = hist_encode(h, &bin, &len);

  if (rc < 0) return rc;
  size_t b64_len = sodium_base64_ENCODED_LEN(len, sodium_base64_VARIANT_ORIGINAL);
  char *text = malloc(b64_len);
  if (!text) {
    free(bin);
    return -ENOMEM;
  }
  sodium_bin2base64(text, b64_len, bin, len, sodium_base64_VARIANT_ORIGINAL);
  free(bin);
  *out = text;
  return 0;
}

int hist_decode_base64(const char *text, size_t len, hist **out) {
  const char *end = NULL;
  size_t bin_len = 0;
  int rc = -EINVAL;

  if (!text) return -EINVAL;
  while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == '\r' || text[len - 1] == ' ')) len--;
  if (len == 0 || len > (size_t)INT_MAX) return -EINVAL;
  uint8_t *bin = malloc(len / 4 * 3 + 3);
  if (!bin) return -ENOMEM;
  if (sodium_base642bin(bin, len / 4 * 3 + 3, text, len, NULL, &bin_len, &end,
                        sodium_base64_VARIANT_ORIGINAL) == 0 &&
      end == text + len)
    rc = hist_decode(bin, bin_len, out);
  free(bin);
  return rc;
}
