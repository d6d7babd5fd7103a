/* hist.h - HDR histogram of latencies: microseconds from 1 us to 1 h at 3 significant digits,
 * fixed memory, exact merge by bucket addition, HdrHistogram V2 compressed encoding. */
#ifndef LOADCTL_HIST_H
#define LOADCTL_HIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HIST_LOWEST_US 1
#define HIST_HIGHEST_US 3600000000LL /* 1 h */
#define HIST_SIGFIGS 3

typedef struct hist hist;

/* Create an empty histogram; *out is owned by the caller and released with hist_destroy. 0 or -ENOMEM. */
int hist_create(hist **out);
void hist_destroy(hist *h);

/* Record one value (microseconds); values outside 0 .. 1 h are clamped to the range. 0 has a slot of its
 * own (as in HdrHistogram, whose lowest discernible value 1 still records 0): a timing phase that did not
 * happen (no connect on a kept-alive connection) reads 0, not 1 us. */
void hist_record(hist *h, int64_t value_us);
void hist_record_n(hist *h, int64_t value_us, int64_t count);
/* Record value, then back-fill values - k*expected_interval_us (wrk2/HdrHistogram coordinated-omission
 * correction) while they stay >= expected_interval_us. expected_interval_us <= 0: plain record. */
void hist_record_corrected(hist *h, int64_t value_us, int64_t expected_interval_us);

/* dst += src, bucket by bucket (exact). */
void hist_add(hist *dst, const hist *src);
void hist_reset(hist *h);

int64_t hist_count(const hist *h);
int64_t hist_min(const hist *h); /* 0 when empty */
int64_t hist_max(const hist *h); /* 0 when empty; highest equivalent value of the max bucket */
double hist_mean(const hist *h);
double hist_stdev(const hist *h);
/* Value at percentile (0..100), HdrHistogram semantics (highest equivalent value). 0 when empty. */
int64_t hist_value_at_percentile(const hist *h, double percentile);
/* The value at percentile (0..100) in milliseconds, the max at 100 and above; 0 when h is NULL or empty.
 * What every report, CSV, threshold and live view shows. */
double hist_pct_ms(const hist *h, double percentile);
/* True when both have the same count in every bucket. */
bool hist_equal(const hist *a, const hist *b);

/* Call fn for every non-empty bucket, lowest first: value is the bucket's representative
 * (highest equivalent) value in us, count its count. Stops early if fn returns non-zero. */
int hist_foreach(const hist *h, int (*fn)(int64_t value_us, int64_t count, void *ud), void *ud);

/* HdrHistogram V2 compressed encoding (cookie 0x1c849304, zlib, ZigZag LEB128 counts). The cookie
 * written is 0x1c849314 (base | 0x10, as HdrHistogram Java/C/JS write it: base64 starts "HISTF");
 * decoding compares cookie & ~0xf0 with the base, as they do.
 * *out is malloc'd, caller frees. 0 or negative errno. */
int hist_encode(const hist *h, uint8_t **out, size_t *out_len);
/* Decode V2 compressed (or uncompressed V2, cookie 0x1c849303) bytes. Never trusts input:
 * -EINVAL / -EPROTO on bad cookie, sizes, truncation; values are re-bucketed into our layout. */
int hist_decode(const uint8_t *buf, size_t len, hist **out);
/* Same checks, adding the decoded counts into h (no allocation of a histogram). On error h may hold
 * part of them: decode into an empty h you discard on failure. */
int hist_decode_add(hist *h, const uint8_t *buf, size_t len);
/* Same, base64 text as in .hlog files. *out is malloc'd NUL-terminated text, caller frees. */
int hist_encode_base64(const hist *h, char **out);
int hist_decode_base64(const char *text, size_t len, hist **out);

/* Bytes of memory one histogram uses (fixed). */
size_t hist_memory_size(void);

#endif
