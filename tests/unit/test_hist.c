/* test_hist.c - hist against exact sorted samples, exact merge, the V2 round trip, coordinated-omission
 * back-fill, hostile encodings, and a histogram written by hdr-histogram-js (fixtures/hdrjs_*.txt). */
#include <check.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "common/hist.h"
#include "tests/support/checkrun.h"

#define SAMPLES 1000000

static uint64_t rng_state;

static uint64_t rng_next(void) { /* splitmix64 */
  uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

static double rng_unit(void) { /* (0, 1) */
  return ((double)(rng_next() >> 11) + 0.5) / 9007199254740992.0;
}

static double rng_normal(void) {
  return sqrt(-2.0 * log(rng_unit())) * cos(2.0 * M_PI * rng_unit());
}

static int cmp_i64(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return (x > y) - (x < y);
}

enum dist { UNIFORM, EXPONENTIAL, BIMODAL };

static int64_t sample(int dist) {
  double v;
  switch (dist) {
    case UNIFORM:
      return 1 + (int64_t)(rng_next() % 10000000); /* 1 us .. 10 s */
    case EXPONENTIAL:
      v = -2000.0 * log(rng_unit());
      break; /* mean 2 ms */
    default:
      v = rng_unit() < 0.7 ? 1000.0 + 100.0 * rng_normal() : 200000.0 + 20000.0 * rng_normal();
  }
  return v < 1 ? 1 : (int64_t)v;
}

/* Record SAMPLES values of dist, compare percentiles, mean and stdev with the exact ones. */
static double check_dist(int dist) {
  static const double ps[] = {0.1, 1, 10, 25, 50, 75, 90, 99, 99.9, 99.99, 100};
  int64_t *v = malloc(SAMPLES * sizeof *v);
  hist *h;
  double exact_sum = 0, exact_sq = 0, worst = 0;

  ck_assert_ptr_nonnull(v);
  ck_assert_int_eq(hist_create(&h), 0);
  rng_state = 42 + (uint64_t)dist;
  for (int i = 0; i < SAMPLES; i++) {
    v[i] = sample(dist);
    hist_record(h, v[i]);
    exact_sum += (double)v[i];
  }
  qsort(v, SAMPLES, sizeof *v, cmp_i64);
  for (size_t k = 0; k < sizeof ps / sizeof ps[0]; k++) {
    int64_t rank = (int64_t)ceil(ps[k] / 100.0 * SAMPLES - 1e-9); /* nearest rank */
    int64_t exact = v[(rank < 1 ? 1 : rank) - 1], got = hist_value_at_percentile(h, ps[k]);
    double rel = (double)(got - exact) / (double)exact;
    ck_assert_msg(got >= exact && rel <= 1.0 / 1000, "dist %d p%g: exact %" PRId64 " got %" PRId64, dist,
                  ps[k], exact, got);
    if (rel > worst) worst = rel;
  }
  double exact_mean = exact_sum / SAMPLES;
  for (int i = 0; i < SAMPLES; i++) exact_sq += ((double)v[i] - exact_mean) * ((double)v[i] - exact_mean);
  ck_assert_int_eq(hist_count(h), SAMPLES);
  ck_assert_double_le(fabs(hist_mean(h) - exact_mean) / exact_mean, 1.0 / 1000);
  ck_assert_double_le(fabs(hist_stdev(h) - sqrt(exact_sq / SAMPLES)) / sqrt(exact_sq / SAMPLES), 0.01);
  ck_assert_int_eq(hist_min(h), v[0]); /* below 2048 every value has its own slot */
  ck_assert_int_ge(hist_max(h), v[SAMPLES - 1]);
  ck_assert_double_le((double)(hist_max(h) - v[SAMPLES - 1]) / (double)v[SAMPLES - 1], 1.0 / 1000);
  hist_destroy(h);
  free(v);
  return worst;
}

START_TEST(percentiles_uniform) {
  fprintf(stderr, "hist uniform: worst percentile relative error %.6f\n", check_dist(UNIFORM));
}
END_TEST

START_TEST(percentiles_exponential) {
  fprintf(stderr, "hist exponential: worst percentile relative error %.6f\n", check_dist(EXPONENTIAL));
}
END_TEST

START_TEST(percentiles_bimodal) {
  fprintf(stderr, "hist bimodal: worst percentile relative error %.6f\n", check_dist(BIMODAL));
}
END_TEST

START_TEST(empty_and_clamp) {
  hist *h;
  ck_assert_int_eq(hist_create(&h), 0);
  ck_assert_int_eq(hist_count(h), 0);
  ck_assert_int_eq(hist_min(h), 0);
  ck_assert_int_eq(hist_max(h), 0);
  ck_assert_int_eq(hist_value_at_percentile(h, 99), 0);
  ck_assert_double_eq(hist_mean(h), 0);
  hist_record(h, 0);
  hist_record(h, -5);
  hist_record(h, 1000000000000LL);
  ck_assert_int_eq(hist_count(h), 3);
  ck_assert_int_eq(hist_min(h), 0); /* 0 and -5 both land in the slot of 0 */
  ck_assert_int_eq(hist_value_at_percentile(h, 50), 0);
  uint8_t *buf;
  size_t len;
  hist *back;
  ck_assert_int_eq(hist_encode(h, &buf, &len), 0); /* the slot of 0 survives the V2 round trip */
  ck_assert_int_eq(hist_decode(buf, len, &back), 0);
  ck_assert(hist_equal(h, back));
  ck_assert_int_eq(hist_min(back), 0);
  free(buf);
  hist_destroy(back);
  ck_assert_int_ge(hist_max(h), HIST_HIGHEST_US);
  ck_assert_int_le(hist_max(h), HIST_HIGHEST_US + HIST_HIGHEST_US / 1000);
  hist_record_n(h, 5000, 7);
  ck_assert_int_eq(hist_count(h), 10);
  ck_assert_int_eq(hist_value_at_percentile(h, 80), 5003); /* 5000 lies in the slot 5000..5003 */
  hist_reset(h);
  ck_assert_int_eq(hist_count(h), 0);
  ck_assert_int_eq(hist_max(h), 0);
  ck_assert_uint_ge(hist_memory_size(), 23552 * sizeof(int64_t));
  hist_destroy(h);
}
END_TEST

static int sum_counts(int64_t value_us, int64_t count, void *ud) {
  int64_t *acc = ud;
  acc[0] += count;
  acc[1] = value_us;
  return value_us >= 100 ? 1 : 0;
}

/* hist_pct_ms: the percentile in ms (HdrHistogram's value), the max at 100, 0 for NULL or empty. */
START_TEST(percentile_in_ms) {
  hist *h;
  ck_assert_int_eq(hist_create(&h), 0);
  ck_assert_double_eq(hist_pct_ms(NULL, 50), 0);
  ck_assert_double_eq(hist_pct_ms(h, 99), 0);
  for (int64_t us = 1; us <= 1000; us++) hist_record(h, us * 1000); /* 1 ms .. 1 s */
  ck_assert_double_eq(hist_pct_ms(h, 50), (double)hist_value_at_percentile(h, 50) / 1000.0);
  ck_assert_double_eq_tol(hist_pct_ms(h, 50), 500.0, 0.5);
  ck_assert_double_eq_tol(hist_pct_ms(h, 99), 990.0, 1.0);
  ck_assert_double_eq(hist_pct_ms(h, 100), (double)hist_max(h) / 1000.0);
  ck_assert_double_eq(hist_pct_ms(h, 150), (double)hist_max(h) / 1000.0);
  hist_destroy(h);
}
END_TEST

START_TEST(foreach_order) {
  hist *h;
  int64_t acc[2] = {0, 0};
  ck_assert_int_eq(hist_create(&h), 0);
  hist_record_n(h, 10, 2);
  hist_record_n(h, 100, 3);
  hist_record_n(h, 1000, 4);
  ck_assert_int_eq(hist_foreach(h, sum_counts, acc), 1); /* stopped at 100 */
  ck_assert_int_eq(acc[0], 5);
  ck_assert_int_eq(acc[1], 100);
  hist_destroy(h);
}
END_TEST

/* Values below 2048 us have slots of width 1, so each value here is its own slot. */
static int list_counts(int64_t value_us, int64_t count, void *ud) {
  int64_t *seen = ud; /* seen[0]: entries, then value/count pairs */
  seen[1 + 2 * seen[0]] = value_us, seen[2 + 2 * seen[0]] = count, seen[0]++;
  return 0;
}

/* The scans walk short runs of zeros slot by slot and skip longer ones 16 slots a test: every gap 1..49
 * between counts (runs that end before, on and after each 16-slot step), each count found by foreach,
 * min/max/mean/percentiles and the V2 round trip exact against the values recorded. */
START_TEST(sparse_scans) {
  static int64_t seen[1 + 2 * 2048];
  for (int64_t gap = 1; gap < 50; gap++) {
    hist *h, *back;
    int64_t vals[2048], cnts[2048], n = 0, total = 0, sum = 0;
    uint8_t *buf;
    size_t len;
    ck_assert_int_eq(hist_create(&h), 0);
    for (int64_t v = 3 + gap % 5; v < 2000; v += gap + n % 3) { /* gaps vary: gap, gap+1, gap+2 */
      vals[n] = v, cnts[n] = 1 + n % 4;
      hist_record_n(h, v, cnts[n]);
      total += cnts[n], sum += v * cnts[n], n++;
    }
    seen[0] = 0;
    ck_assert_int_eq(hist_foreach(h, list_counts, seen), 0);
    ck_assert_int_eq(seen[0], n);
    for (int64_t i = 0; i < n; i++) {
      ck_assert_int_eq(seen[1 + 2 * i], vals[i]);
      ck_assert_int_eq(seen[2 + 2 * i], cnts[i]);
    }
    ck_assert_int_eq(hist_min(h), vals[0]);
    ck_assert_int_eq(hist_max(h), vals[n - 1]);
    ck_assert_double_eq_tol(hist_mean(h), (double)sum / (double)total, 1e-9);
    for (int p = 1; p <= 100; p++) { /* nearest rank: the value holding the ceil(p% of total)-th count */
      int64_t want = (p * total + 99) / 100, at = 0, acc = 0;
      while (acc + cnts[at] < want) acc += cnts[at++];
      ck_assert_int_eq(hist_value_at_percentile(h, p), vals[at]);
    }
    ck_assert_int_eq(hist_encode(h, &buf, &len), 0);
    ck_assert_int_eq(hist_decode(buf, len, &back), 0);
    ck_assert(hist_equal(h, back));
    ck_assert_int_eq(hist_value_at_percentile(back, 50), hist_value_at_percentile(h, 50));
    free(buf);
    hist_destroy(back);
    hist_destroy(h);
  }
}
END_TEST

START_TEST(merge_equals_union) {
  hist *parts[8], *merged, *all;
  ck_assert_int_eq(hist_create(&merged), 0);
  ck_assert_int_eq(hist_create(&all), 0);
  rng_state = 7;
  for (int p = 0; p < 8; p++) {
    ck_assert_int_eq(hist_create(&parts[p]), 0);
    for (int i = 0; i < 50000; i++) {
      int64_t v = sample(p % 3);
      hist_record(parts[p], v);
      hist_record(all, v);
    }
  }
  for (int p = 0; p < 8; p++) hist_add(merged, parts[p]);
  ck_assert(hist_equal(merged, all));
  ck_assert_int_eq(hist_count(merged), 400000);
  ck_assert_int_eq(hist_value_at_percentile(merged, 99), hist_value_at_percentile(all, 99));
  hist_record(merged, 123456);
  ck_assert(!hist_equal(merged, all));
  for (int p = 0; p < 8; p++) hist_destroy(parts[p]);
  hist_destroy(merged);
  hist_destroy(all);
}
END_TEST

START_TEST(round_trip) {
  hist *h, *back;
  uint8_t *buf;
  size_t len;
  char *text;
  ck_assert_int_eq(hist_create(&h), 0);
  rng_state = 99;
  for (int i = 0; i < 100000; i++) hist_record(h, sample(BIMODAL));
  hist_record(h, HIST_HIGHEST_US);
  hist_record(h, 1);
  ck_assert_int_eq(hist_encode(h, &buf, &len), 0);
  ck_assert_uint_eq(
      ((uint32_t)buf[0] << 24 | (uint32_t)buf[1] << 16 | (uint32_t)buf[2] << 8 | buf[3]) & ~0xf0u,
      0x1c849304u);
  ck_assert_int_eq(hist_decode(buf, len, &back), 0);
  ck_assert(hist_equal(h, back));
  ck_assert_int_eq(hist_decode_add(back, buf, len), 0); /* adds: back = 2h */
  ck_assert_int_eq(hist_count(back), 2 * hist_count(h));
  ck_assert_int_eq(hist_value_at_percentile(back, 90), hist_value_at_percentile(h, 90));
  ck_assert_int_eq(hist_decode_add(back, buf, len - 1), -EPROTO);
  hist_destroy(back);
  ck_assert_int_eq(hist_encode_base64(h, &text), 0);
  ck_assert(strncmp(text, "HISTF", 5) == 0);
  ck_assert_int_eq(hist_decode_base64(text, strlen(text), &back), 0);
  ck_assert(hist_equal(h, back));
  ck_assert_int_eq(hist_count(back), 100002);
  hist_destroy(back);
  free(text);
  free(buf);
  hist_reset(h); /* empty round trip */
  ck_assert_int_eq(hist_encode(h, &buf, &len), 0);
  ck_assert_int_eq(hist_decode(buf, len, &back), 0);
  ck_assert_int_eq(hist_count(back), 0);
  hist_destroy(back);
  free(buf);
  hist_destroy(h);
}
END_TEST

START_TEST(corrected_backfill) {
  hist *h, *naive;
  ck_assert_int_eq(hist_create(&h), 0);
  ck_assert_int_eq(hist_create(&naive), 0);
  hist_record_corrected(h, 1000, 100); /* 1000, 900, ..., 100 */
  ck_assert_int_eq(hist_count(h), 10);
  ck_assert_int_eq(hist_min(h), 100);
  hist_reset(h);
  hist_record_corrected(h, 95, 100);
  hist_record_corrected(h, 500, 0);
  ck_assert_int_eq(hist_count(h), 2);
  hist_reset(h);
  /* the slot-wise path (many back-fills) must equal recording each one */
  hist_record_corrected(h, 1000000, 10);
  for (int64_t v = 1000000; v >= 10; v -= 10) hist_record(naive, v);
  ck_assert_int_eq(hist_count(h), 100000);
  ck_assert(hist_equal(h, naive));
  hist_reset(h);
  hist_reset(naive);
  hist_record_corrected(h, 7777777, 333);
  for (int64_t v = 7777777; v >= 333; v -= 333) hist_record(naive, v);
  ck_assert(hist_equal(h, naive));
  hist_reset(h); /* bounded work even for 1 h over 1 us */
  hist_record_corrected(h, HIST_HIGHEST_US, 1);
  ck_assert_int_eq(hist_count(h), HIST_HIGHEST_US);
  hist_destroy(h);
  hist_destroy(naive);
}
END_TEST

START_TEST(decode_hostile) {
  hist *h, *back = NULL;
  uint8_t *buf, junk[64];
  size_t len;
  ck_assert_int_eq(hist_create(&h), 0);
  for (int i = 1; i < 5000; i += 7) hist_record(h, i * 13);
  ck_assert_int_eq(hist_encode(h, &buf, &len), 0);
  for (size_t cut = 0; cut < len; cut++) ck_assert_int_lt(hist_decode(buf, cut, &back), 0);
  buf[0] ^= 0x01; /* bad cookie */
  ck_assert_int_eq(hist_decode(buf, len, &back), -EPROTO);
  buf[0] ^= 0x01;
  buf[7] ^= 0x01; /* compressed length mismatch */
  ck_assert_int_eq(hist_decode(buf, len, &back), -EPROTO);
  buf[7] ^= 0x01;
  buf[len / 2] ^= 0xff; /* corrupt zlib body */
  ck_assert_int_lt(hist_decode(buf, len, &back), 0);
  free(buf);
  rng_state = 5;
  for (int r = 0; r < 1000; r++) {
    for (size_t i = 0; i < sizeof junk; i++) junk[i] = (uint8_t)rng_next();
    ck_assert_int_lt(hist_decode(junk, sizeof junk, &back), 0);
  }
  ck_assert_int_eq(hist_decode_base64("!!notbase64!!", 13, &back), -EINVAL);
  ck_assert_int_eq(hist_decode_base64("", 0, &back), -EINVAL);
  ck_assert_int_lt(hist_decode_base64("HISTFAAAAD14nJNpmSzMw", 21, &back), 0);
  ck_assert_ptr_null(back);
  hist_destroy(h);
}
END_TEST

/* Uncompressed V2 with a hand-made header: sizes that lie must be refused. */
START_TEST(decode_raw_header) {
  uint8_t raw[48] = {0x1c, 0x84, 0x93, 0x13, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 3};
  hist *back = NULL;
  raw[23] = 1;                                    /* lowest 1 */
  raw[28] = 0xd6, raw[29] = 0x93, raw[30] = 0xa4; /* highest 0xd693a400 = 3.6e9 */
  raw[32] = 0x3f, raw[33] = 0xf0;                 /* 1.0 */
  raw[40] = 2 * 5, raw[41] = 2 * 3;               /* zigzag counts 5 (value 0) and 3 (value 1) */
  ck_assert_int_eq(hist_decode(raw, 42, &back), 0);
  ck_assert_int_eq(hist_count(back), 8);
  ck_assert_int_eq(hist_min(back), 0); /* slot 0 is value 0, kept as 0 */
  ck_assert_int_eq(hist_value_at_percentile(back, 50), 0);
  ck_assert_int_eq(hist_value_at_percentile(back, 100), 1);
  hist_destroy(back);
  back = NULL;
  ck_assert_int_eq(hist_decode(raw, 43, &back), -EPROTO); /* length != payload */
  raw[15] = 9;                                            /* sigfigs 9 */
  ck_assert_int_eq(hist_decode(raw, 42, &back), -EPROTO);
  raw[15] = 3;
  raw[40] = 1;    /* zigzag -1: one zero, then ok */
  raw[41] = 0x03; /* -2 zeros */
  ck_assert_int_eq(hist_decode(raw, 42, &back), 0);
  ck_assert_int_eq(hist_count(back), 0);
  hist_destroy(back);
  back = NULL;
  raw[40] = 0xfd, raw[41] = 0xff; /* continuation runs off the end */
  ck_assert_int_eq(hist_decode(raw, 42, &back), -EPROTO);
  raw[40] = 0xdf, raw[41] = 0xd4, raw[42] = 0x03; /* a run of 30000 zeros: past the counts */
  raw[7] = 3;
  ck_assert_int_eq(hist_decode(raw, 43, &back), -EPROTO);
  ck_assert_ptr_null(back);
  /* fuzz_hist finding (tests/fuzz/regressions/hist): a huge lowest once overflowed 2 * lowest */
  const uint8_t huge_lowest[8] = {0x7a, 0x28, 0xcb, 0x86, 0xba, 0x88, 0xb4, 0xda};
  memcpy(raw + 16, huge_lowest, sizeof huge_lowest);
  raw[7] = 2, raw[40] = 2 * 5, raw[41] = 2 * 3; /* valid counts: only the header is wrong */
  ck_assert_int_eq(hist_decode(raw, 42, &back), -EPROTO);
  ck_assert_ptr_null(back);
}
END_TEST

/* This file's layout with a higher highest (2^33): slots above HIST_HIGHEST_US's fold into its slot, also on
 * the slot-to-slot path that decodes every worker's histograms. */
START_TEST(decode_above_highest) {
  uint8_t raw[48] = {0x1c, 0x84, 0x93, 0x13, 0, 0, 0, 5, 0, 0, 0, 0, 0, 0, 0, 3};
  hist *back = NULL, *top;
  raw[23] = 1;                                    /* lowest 1 */
  raw[27] = 2;                                    /* highest 2^33 */
  raw[32] = 0x3f, raw[33] = 0xf0;                 /* 1.0 */
  raw[40] = 2 * 3;                                /* count 3 at slot 0 */
  raw[41] = 0x85, raw[42] = 0xec, raw[43] = 0x02; /* zigzag -23299: zeros up to slot 23300 (> 3.6e9) */
  raw[44] = 2 * 7;                                /* count 7 there */
  ck_assert_int_eq(hist_decode(raw, 45, &back), 0);
  ck_assert_int_eq(hist_create(&top), 0);
  hist_record(top, HIST_HIGHEST_US);
  ck_assert_int_eq(hist_count(back), 10);
  ck_assert_int_eq(hist_max(back), hist_max(top));
  ck_assert_int_eq(hist_value_at_percentile(back, 30), 0);
  ck_assert_int_eq(hist_value_at_percentile(back, 31), hist_max(top));
  hist_destroy(back);
  hist_destroy(top);
}
END_TEST

/* payload behind a V2 header of this file's layout (lowest 1, highest 3.6e9, 3 digits: 23552 slots) */
static size_t raw_v2(uint8_t *buf, const uint8_t *payload, size_t len) {
  static const uint8_t header[40] = {0x1c, 0x84, 0x93, 0x13, 0,    0,    0,    0, 0,    0,   0, 0,
                                     0,    0,    0,    3,    0,    0,    0,    0, 0,    0,   0, 1,
                                     0,    0,    0,    0,    0xd6, 0x93, 0xa4, 0, 0x3f, 0xf0};
  memcpy(buf, header, sizeof header);
  buf[4] = (uint8_t)(len >> 24), buf[5] = (uint8_t)(len >> 16), buf[6] = (uint8_t)(len >> 8),
  buf[7] = (uint8_t)len;
  memcpy(buf + sizeof header, payload, len);
  return sizeof header + len;
}

/* Runs of zeros as one-byte tokens (0x7f: 64 zeros, 2n-1: n zeros), long, at the end and past the end. */
START_TEST(decode_zero_runs) {
  static uint8_t payload[600], raw[700];
  hist *back = NULL, *top;
  size_t n = 0;
  for (int i = 0; i < 100; i++) payload[n++] = 0x7f; /* 6400 zeros */
  payload[n++] = 2 * 5;                              /* count 5 at slot 6400: 40960 us (1280 << 5) */
  for (int i = 0; i < 267; i++) payload[n++] = 0x7f; /* 17088 zeros: up to slot 23489 */
  payload[n++] = 2 * 61 - 1;                         /* 61 zeros: up to slot 23550 */
  payload[n++] = 2 * 7; /* count 7 at slot 23550, above 3.6e9: folds into its slot */
  payload[n++] = 1;     /* one zero: the last slot, 23551 */
  ck_assert_int_eq(hist_decode(raw, raw_v2(raw, payload, n), &back), 0);
  ck_assert_int_eq(hist_create(&top), 0);
  hist_record(top, HIST_HIGHEST_US);
  ck_assert_int_eq(hist_count(back), 12);
  ck_assert_int_eq(hist_min(back), 40960);
  ck_assert_int_eq(hist_value_at_percentile(back, 41), 40991); /* its highest: 32 us wide */
  ck_assert_int_eq(hist_max(back), hist_max(top));
  hist_destroy(back);
  back = NULL;
  payload[n++] = 1; /* one zero more: past the counts */
  ck_assert_int_eq(hist_decode(raw, raw_v2(raw, payload, n), &back), -EPROTO);
  payload[n - 1] = 0; /* a count of 0 there */
  ck_assert_int_eq(hist_decode(raw, raw_v2(raw, payload, n), &back), -EPROTO);
  memset(payload, 0x7f, 369);                                              /* 23616 zeros */
  ck_assert_int_eq(hist_decode(raw, raw_v2(raw, payload, 368), &back), 0); /* 23552: all */
  hist_destroy(back);
  back = NULL;
  ck_assert_int_eq(hist_decode(raw, raw_v2(raw, payload, 369), &back), -EPROTO); /* past them */
  ck_assert_ptr_null(back);
  /* a count that would carry the total past INT64_MAX: refused there, the counts before it kept */
  hist_reset(top);
  hist_record_n(top, 1, INT64_MAX - 100);
  payload[0] = payload[1] = 2 * 63;
  ck_assert_int_eq(hist_decode_add(top, raw, raw_v2(raw, payload, 2)), -EPROTO);
  ck_assert_int_eq(hist_count(top), INT64_MAX - 37);
  hist_destroy(top);
}
END_TEST

/* One-byte tokens and the same values written as two bytes (b | 0x80, 0: the one-by-one path; every token in
 * even rounds, one in four in odd ones, so blocks of eight end anywhere) decode alike, into a histogram
 * holding counts already: result, error, counts, span and encoding. */
START_TEST(decode_short_tokens_as_long) {
  static uint8_t shorts[3000], longs[6000], raw[6100];
  rng_state = 21;
  for (int r = 0; r < 300; r++) {
    size_t n = 1 + rng_next() % (r % 3 ? 600 : sizeof shorts), m = 0;
    int zeros_only = r % 7 == 0; /* runs of zeros only: toward and past the last slot */
    for (size_t i = 0; i < n; i++) {
      shorts[i] = (uint8_t)(zeros_only ? 0x41 + 2 * (rng_next() % 32) : rng_next() % 128);
      if (r % 2 && rng_next() % 4) {
        longs[m++] = shorts[i];
      } else {
        longs[m++] = shorts[i] | 0x80, longs[m++] = 0;
      }
    }
    hist *a, *b;
    uint8_t *enc_a = NULL, *enc_b = NULL;
    size_t len_a = 0, len_b = 0;
    ck_assert_int_eq(hist_create(&a), 0);
    ck_assert_int_eq(hist_create(&b), 0);
    hist_record(a, 5000), hist_record(b, 5000);
    int rc = hist_decode_add(a, raw, raw_v2(raw, shorts, n));
    ck_assert_int_eq(hist_decode_add(b, raw, raw_v2(raw, longs, m)), rc);
    ck_assert(hist_equal(a, b));
    ck_assert_int_eq(hist_min(a), hist_min(b));
    ck_assert_int_eq(hist_max(a), hist_max(b));
    ck_assert_int_eq(hist_encode(a, &enc_a, &len_a), 0);
    ck_assert_int_eq(hist_encode(b, &enc_b, &len_b), 0);
    ck_assert(len_a == len_b && memcmp(enc_a, enc_b, len_a) == 0);
    free(enc_a), free(enc_b);
    hist_destroy(a), hist_destroy(b);
  }
}
END_TEST

/* Read fixtures/NAME, record its values, decode its base64 and compare with its percentiles. */
static void check_fixture(const char *name) {
  char path[1024], line[8192];
  const char *src = getenv("LOADCTL_SRC");
  hist *mine, *theirs = NULL;
  int percentiles = 0;
  double res_abs = 0, res_rel = 0; /* 0: same layout, exact comparison */

  snprintf(path, sizeof path, "%s/tests/unit/fixtures/%s", src ? src : ".", name);
  FILE *f = fopen(path, "r");
  ck_assert_msg(f != NULL, "cannot open %s (set LOADCTL_SRC)", path);
  ck_assert_int_eq(hist_create(&mine), 0);
  while (fgets(line, sizeof line, f)) {
    char *p = line;
    if (strncmp(line, "values ", 7) == 0) {
      for (p += 7; *p && *p != '\n';) {
        char *end;
        long long v = strtoll(p, &end, 10);
        long long n = strtoll(end + 1, &end, 10);
        hist_record_n(mine, v, n);
        p = end + (*end == ' ');
      }
    } else if (strncmp(line, "base64 ", 7) == 0) {
      ck_assert_int_eq(hist_decode_base64(line + 7, strlen(line + 7), &theirs), 0);
    } else if (strncmp(line, "count ", 6) == 0) {
      ck_assert_int_eq(hist_count(mine), strtoll(line + 6, NULL, 10));
    } else if (strncmp(line, "resolution ", 11) == 0) {
      char *end;
      res_abs = strtod(line + 11, &end);
      res_rel = strtod(end, NULL);
    } else if (line[0] == 'p') {
      char *end;
      double pct = strtod(line + 1, &end);
      int64_t want = strtoll(end, NULL, 10);
      ck_assert_ptr_nonnull(theirs);
      int64_t got = hist_value_at_percentile(theirs, pct);
      if (res_abs == 0) {
        ck_assert_int_eq(got, want);
      } else { /* re-bucketed from coarser slots: within one of their slots below their value */
        double slack = res_abs > res_rel * (double)want ? res_abs : res_rel * (double)want;
        ck_assert_msg(got <= want && (double)(want - got) <= slack, "p%g: js %lld, ours %lld", pct,
                      (long long)want, (long long)got);
      }
      percentiles++;
    }
  }
  fclose(f);
  ck_assert_ptr_nonnull(theirs);
  ck_assert_int_eq(percentiles, 5);
  ck_assert_int_eq(hist_count(theirs), 117);
  if (res_abs == 0) ck_assert(hist_equal(mine, theirs));
  hist_destroy(mine);
  hist_destroy(theirs);
}

START_TEST(hdrjs_basic) {
  check_fixture("hdrjs_basic.txt");
}
END_TEST

START_TEST(hdrjs_autoresize) {
  check_fixture("hdrjs_autoresize.txt");
}
END_TEST

START_TEST(hdrjs_coarse) {
  check_fixture("hdrjs_coarse.txt");
}
END_TEST

/* Pages of h's mapping that are resident (mincore): hist_create maps each histogram on its own. */
static int resident_pages(const hist *h) {
  long page = sysconf(_SC_PAGESIZE);
  size_t n = (hist_memory_size() + (size_t)page - 1) / (size_t)page;
  unsigned char vec[256];
  int resident = 0;
  ck_assert_uint_le(n, sizeof vec);
  ck_assert_int_eq(mincore((void *)h, n * (size_t)page, vec), 0);
  for (size_t i = 0; i < n; i++) resident += vec[i] & 1;
  return resident;
}

/* A histogram reused for many intervals, each holding a narrow span somewhere else (one slot, or two that
 * may sit on neighbouring pages): after every reset at most 3 pages stay resident (the header's and the
 * two the last span ended on), and the counts read as zero. Before, the edge pages were zeroed by hand and
 * all stayed: one more resident page for every new place a span ended, up to the whole 188 KB (a pooled
 * histogram's slow creep). A second histogram next to it keeps its counts. */
START_TEST(reset_gives_pages_back) {
  hist *h, *other;
  ck_assert_int_eq(hist_create(&h), 0);
  ck_assert_int_eq(hist_create(&other), 0);
  for (int64_t v = 1; v < 3000000000LL; v = v * 3 / 2 + 1) hist_record(other, v);
  int64_t other_count = hist_count(other), other_max = hist_max(other);
  rng_state = 7;
  for (int round = 0; round < 2000; round++) {
    int64_t v = 1 + (int64_t)(rng_next() % (round % 10 ? 3000000000ull : 1200)); /* 1 in 10 near the header */
    hist_record(h, v);
    if (round % 2) hist_record(h, v + v / 64); /* a neighbouring slot, often on the next page */
    hist_reset(h);
    ck_assert_int_le(resident_pages(h), 3);
  }
  ck_assert_int_eq(hist_count(h), 0);
  ck_assert_int_eq(hist_max(h), 0);
  hist_record(h, 1); /* usable again, and nothing left of the earlier rounds anywhere between */
  hist_record(h, 3000000000LL);
  ck_assert_int_eq(hist_count(h), 2);
  ck_assert_int_eq(hist_min(h), 1);
  ck_assert_double_eq_tol(hist_mean(h), 1.5e9, 1.5e9 * 0.001);
  ck_assert_int_eq(hist_count(other), other_count);
  ck_assert_int_eq(hist_max(other), other_max);
  hist_destroy(h);
  hist_destroy(other);
}
END_TEST

CHECK_MAIN("hist", 120, percentiles_uniform, percentiles_exponential, percentiles_bimodal, empty_and_clamp,
           percentile_in_ms, foreach_order, sparse_scans, merge_equals_union, round_trip, corrected_backfill,
           decode_hostile, decode_raw_header, decode_above_highest, decode_zero_runs,
           decode_short_tokens_as_long, hdrjs_basic, hdrjs_autoresize, hdrjs_coarse, reset_gives_pages_back)
