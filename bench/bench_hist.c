/* bench_hist.c - what a histogram costs: ns per hist_record, per hist_add (merge), per encode/decode,
 * the encoded size of a typical latency histogram (100k lognormal samples around 2 ms), the decode time of
 * one second's histogram of a name (500 samples: the worker sends one per name per second), and the size
 * and codec time of a stats message carrying 50 such names.
 * Usage: bench_hist [--base64]   (--base64 also prints the typical histogram, for other HDR tools) */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/hist.h"
#include "common/msg.h"

#define RECORDS 10000000
#define SAMPLES (1 << 20)
#define MERGES 2000
#define CODEC_ROUNDS 200

static uint64_t rng_state = 12345;

static uint64_t rng_next(void) {
  uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

/* Lognormal latency in us: median 2 ms, sigma 0.6 (p99 about 8 ms). */
static int64_t lognormal_us(void) {
  double u1 = ((double)(rng_next() >> 11) + 0.5) / 9007199254740992.0;
  double u2 = ((double)(rng_next() >> 11) + 0.5) / 9007199254740992.0;
  double z = sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
  return (int64_t)(2000.0 * exp(0.6 * z));
}

static int bench(int print_base64) {
  int64_t *values = malloc(SAMPLES * sizeof *values);
  hist *h = NULL, *typical = NULL, *sum = NULL, *back = NULL;
  uint8_t *enc = NULL;
  size_t enc_len = 0;
  int rc = 1;

  if (!values || hist_create(&h) || hist_create(&typical) || hist_create(&sum)) goto out;
  for (int i = 0; i < SAMPLES; i++) values[i] = lognormal_us();

  int64_t t0 = clock_mono_ns();
  for (int i = 0; i < RECORDS; i++) hist_record(h, values[i & (SAMPLES - 1)]);
  int64_t t1 = clock_mono_ns();
  printf("hist_record: %.2f ns/record (%d records, count %" PRId64 ")\n", (double)(t1 - t0) / RECORDS,
         RECORDS, hist_count(h));

  for (int i = 0; i < 100000; i++) hist_record(typical, values[i]);
  t0 = clock_mono_ns();
  for (int i = 0; i < MERGES; i++) hist_add(sum, typical);
  t1 = clock_mono_ns();
  printf("hist_add: %.0f ns/merge (%d merges, %zu bytes per histogram)\n", (double)(t1 - t0) / MERGES, MERGES,
         hist_memory_size());

  t0 = clock_mono_ns();
  for (int i = 0; i < CODEC_ROUNDS; i++) {
    free(enc);
    enc = NULL;
    if (hist_encode(typical, &enc, &enc_len) < 0) goto out;
  }
  t1 = clock_mono_ns();
  for (int i = 0; i < CODEC_ROUNDS; i++) {
    hist_destroy(back);
    back = NULL;
    if (hist_decode(enc, enc_len, &back) < 0) goto out;
  }
  int64_t t2 = clock_mono_ns();
  if (!hist_equal(back, typical)) goto out;
  char *b64 = NULL;
  if (hist_encode_base64(typical, &b64) < 0) goto out;
  printf("typical histogram (100k lognormal, median 2 ms): p50 %" PRId64 " us, p99 %" PRId64
         " us, max %" PRId64 " us\n",
         hist_value_at_percentile(typical, 50), hist_value_at_percentile(typical, 99), hist_max(typical));
  printf("encoded: %zu bytes compressed V2, %zu chars base64; encode %.1f us, decode %.1f us\n", enc_len,
         strlen(b64), (double)(t1 - t0) / CODEC_ROUNDS / 1000.0, (double)(t2 - t1) / CODEC_ROUNDS / 1000.0);
  if (print_base64) printf("base64 %s\n", b64);
  free(b64);
  rc = 0;
out:
  if (rc) fprintf(stderr, "bench_hist: out of memory or codec failure\n");
  free(values);
  free(enc);
  hist_destroy(h);
  hist_destroy(typical);
  hist_destroy(sum);
  hist_destroy(back);
  return rc;
}

/* Decode of one name's histogram of one second, SPARSE_SAMPLES lognormal requests: best of 5 x 2000 decodes.
 */
#define SPARSE_SAMPLES 500
static int bench_sparse_decode(void) {
  hist *h = NULL, *back = NULL;
  uint8_t *enc = NULL;
  size_t len = 0;
  double best = 1e18;
  int rc = 1;

  if (hist_create(&h) < 0) return 1;
  for (int i = 0; i < SPARSE_SAMPLES; i++) hist_record(h, lognormal_us());
  if (hist_encode(h, &enc, &len) < 0) goto out;
  for (int round = 0; round < 5; round++) {
    int64_t t0 = clock_mono_ns();
    for (int i = 0; i < 2000; i++) {
      hist_destroy(back);
      back = NULL;
      if (hist_decode(enc, len, &back) < 0) goto out;
    }
    double ns = (double)(clock_mono_ns() - t0) / 2000;
    best = ns < best ? ns : best;
  }
  if (!hist_equal(back, h)) goto out;
  printf("one second of a name (%d lognormal): %zu bytes compressed V2, decode %.2f us\n", SPARSE_SAMPLES,
         len, best / 1000.0);
  rc = 0;
out:
  free(enc);
  hist_destroy(h);
  hist_destroy(back);
  return rc;
}

/* One interval of STATS_NAMES names, 20k lognormal requests each, through msg_encode / msg_decode. */
#define STATS_NAMES 50
static int bench_stats_msg(void) {
  stats_interval *s = NULL;
  uint8_t *buf = NULL;
  size_t len = 0;
  msg m, back;
  char name[64], err[256];
  int rc = 1;

  if (stats_create(&s, 0, 1000) < 0) return 1;
  for (int k = 0; k < STATS_NAMES; k++) {
    snprintf(name, sizeof name, "GET /api/item/%d", k);
    stats_entry *e = stats_entry_get(s, name, "GET");
    if (!e) goto out;
    for (int i = 0; i < 20000; i++) {
      int64_t us = lognormal_us();
      stats_entry_record(e, us + 50, us);
    }
  }
  msg_init(&m, MSG_STATS);
  m.u.stats = s;
  double best_enc = 1e18, best_dec = 1e18; /* best of 5: the first round pays page faults */
  for (int round = 0; round < 5; round++) {
    free(buf);
    buf = NULL;
    int64_t t0 = clock_mono_ns();
    if (msg_encode(&m, &buf, &len) < 0) goto out;
    int64_t t1 = clock_mono_ns();
    if (msg_decode(buf, len, &back, err, sizeof err) < 0) goto out;
    int64_t t2 = clock_mono_ns();
    msg_free(&back);
    if ((double)(t1 - t0) < best_enc) best_enc = (double)(t1 - t0);
    if ((double)(t2 - t1) < best_dec) best_dec = (double)(t2 - t1);
  }
  printf("stats msg: %d names x 20k requests: %zu bytes (%.0f per name); encode %.2f ms, decode %.2f ms\n",
         STATS_NAMES, len, (double)len / STATS_NAMES, best_enc / 1e6, best_dec / 1e6);
  rc = 0;
out:
  free(buf);
  stats_destroy(s);
  return rc;
}

int main(int argc, char **argv) {
  int rc = bench(argc > 1 && strcmp(argv[1], "--base64") == 0);
  rc = rc ? rc : bench_sparse_decode();
  return rc ? rc : bench_stats_msg();
}
