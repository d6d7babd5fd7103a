/* test_phases.c - the timing phases on the wire: a STATS message carries each name's six phase
 * histograms exactly (hist_equal after decoding; merged across two senders = recorded in one), hostile
 * "ph" fields are refused with a reason, and the bytes they add per interval with 20 names are printed
 * and bounded. */
#include <check.h>
#include <errno.h>
#include <math.h>
#include <msgpack.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/msg.h"
#include "common/phases.h"
#include "tests/support/checkrun.h"

#define NAMES 20
#define REQUESTS 2000 /* per name per interval */

static uint64_t rng_state = 7;

static double rng_unit(void) {
  uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return (double)((z ^ (z >> 31)) >> 11) / 9007199254740992.0;
}

/* Phases of one request as a kept-alive HTTPS load sees them: 1 in 50 opens a connection (connect
 * ~80 us, TLS ~1.5 ms), sending a few us, waiting log-normal around median_us, receiving tens of us. */
static void one_request(int64_t us[STATS_PHASE_COUNT], double median_us) {
  int fresh = rng_unit() < 0.02;
  us[STATS_PHASE_BLOCKED] = rng_unit() < 0.1 ? (int64_t)(rng_unit() * 200) : 0;
  us[STATS_PHASE_CONNECTING] = fresh ? 50 + (int64_t)(rng_unit() * 60) : 0;
  us[STATS_PHASE_TLS_HANDSHAKING] = fresh ? 1200 + (int64_t)(rng_unit() * 600) : 0;
  us[STATS_PHASE_SENDING] = (int64_t)(rng_unit() * 12);
  us[STATS_PHASE_WAITING] =
      (int64_t)(median_us * exp(0.6 * sqrt(-2 * log(rng_unit() + 1e-12)) * cos(6.283185307 * rng_unit())));
  us[STATS_PHASE_RECEIVING] = (int64_t)(rng_unit() * 40);
}

/* An interval of NAMES names, REQUESTS each, phases recorded unless bare. */
static stats_interval *interval(int bare) {
  stats_interval *s;
  int64_t us[STATS_PHASE_COUNT];
  char name[32];
  ck_assert_int_eq(stats_create(&s, 1000, 1000), 0);
  for (int n = 0; n < NAMES; n++) {
    snprintf(name, sizeof name, "GET /api/item%02d", n);
    stats_entry *e = stats_entry_get(s, name, "GET");
    for (int i = 0; i < REQUESTS; i++) {
      one_request(us, 500.0 + 400.0 * n);
      stats_entry_record(e, us[STATS_PHASE_WAITING] + 30, us[STATS_PHASE_WAITING] + 30);
      e->count++;
      if (!bare) ck_assert_int_eq(stats_entry_phases(e, us), 0);
    }
  }
  return s;
}

static size_t encoded_len(stats_interval *s) {
  msg m;
  uint8_t *buf;
  size_t len;
  msg_init(&m, MSG_STATS);
  m.u.stats = s;
  ck_assert_int_eq(msg_encode(&m, &buf, &len), 0);
  free(buf);
  return len;
}

START_TEST(exact_round_trip_and_merge) {
  stats_interval *a = interval(0), *b = interval(0), *merged;
  msg m, out;
  uint8_t *buf;
  size_t len;
  char err[256];

  msg_init(&m, MSG_STATS);
  m.u.stats = a;
  ck_assert_int_eq(msg_encode(&m, &buf, &len), 0);
  ck_assert_int_eq(msg_decode(buf, len, &out, err, sizeof err), 0);
  free(buf);
  for (size_t i = 0; i < a->nentries; i++)
    for (int k = 0; k < STATS_PHASE_COUNT; k++) {
      ck_assert_int_eq(hist_count(out.u.stats->entries[i].phase[k]), REQUESTS);
      ck_assert(hist_equal(a->entries[i].phase[k], out.u.stats->entries[i].phase[k]));
    }
  /* two senders merged on the master = the same requests recorded by one */
  ck_assert_int_eq(stats_create(&merged, 1000, 1000), 0);
  ck_assert_int_eq(stats_merge(merged, out.u.stats), 0);
  ck_assert_int_eq(stats_merge(merged, b), 0);
  stats_entry *e = &merged->entries[3];
  ck_assert_int_eq(hist_count(e->phase[STATS_PHASE_WAITING]), 2 * REQUESTS);
  hist *both;
  ck_assert_int_eq(hist_create(&both), 0);
  hist_add(both, a->entries[3].phase[STATS_PHASE_WAITING]);
  hist_add(both, b->entries[3].phase[STATS_PHASE_WAITING]);
  ck_assert(hist_equal(both, e->phase[STATS_PHASE_WAITING]));
  /* a kept-alive request's connect is 0, not 1 us: the median of connecting reads 0 */
  ck_assert_int_eq(hist_value_at_percentile(e->phase[STATS_PHASE_CONNECTING], 50), 0);
  ck_assert_int_gt(hist_max(e->phase[STATS_PHASE_TLS_HANDSHAKING]), 1000);
  hist_destroy(both);
  msg_free(&out);
  stats_destroy(merged);
  stats_destroy(a);
  stats_destroy(b);
}
END_TEST

/* Bytes the phases add to one STATS message of 20 names (printed for the record; bounded at 2 KB a name). */
START_TEST(bytes_per_interval) {
  stats_interval *with = interval(0);
  rng_state = 7;
  stats_interval *without = interval(1);
  size_t bare = encoded_len(without), added = encoded_len(with) - bare;

  fprintf(stderr, "phases: %d names x %d requests: %zu bytes per interval, +%zu with the phases\n", NAMES,
          REQUESTS, bare, added);
  ck_assert_uint_gt(added, NAMES * STATS_PHASE_COUNT * 40); /* six V2 blobs a name, 40-byte headers */
  ck_assert_uint_le(added, NAMES * 2048);
  stats_destroy(with);
  stats_destroy(without);
}
END_TEST

/* phases_unpack on msgpack built by fn, into a fresh entry: its return code, the reason in why. */
static int unpack_crafted(void (*fn)(msgpack_packer *), char *why, size_t size) {
  msgpack_sbuffer sb;
  msgpack_packer pk;
  msgpack_unpacked up;
  stats_interval *s;
  msgpack_sbuffer_init(&sb);
  msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
  fn(&pk);
  msgpack_unpacked_init(&up);
  ck_assert_int_eq(msgpack_unpack_next(&up, sb.data, sb.size, NULL), MSGPACK_UNPACK_SUCCESS);
  ck_assert_int_eq(stats_create(&s, 0, 1000), 0);
  why[0] = 0;
  stats_entry *e = stats_entry_get(s, "x", "GET");
  int rc = phases_unpack(&up.data, e, why, size);
  if (rc == 0 && e->phase[STATS_PHASE_WAITING]) /* c_ok: 3 requests waited 5 ms */
    ck_assert_int_eq(hist_value_at_percentile(e->phase[STATS_PHASE_WAITING], 50), 5003); /* slot 5000..5003 */
  msgpack_unpacked_destroy(&up);
  msgpack_sbuffer_destroy(&sb);
  stats_destroy(s);
  return rc;
}

/* Six phases; phase `odd` packed by odd_fn instead (NULL: a good blob). */
static void six(msgpack_packer *pk, int odd, void (*odd_fn)(msgpack_packer *)) {
  hist *h;
  uint8_t *buf;
  size_t len;
  ck_assert_int_eq(hist_create(&h), 0);
  hist_record_n(h, 5000, 3);
  ck_assert_int_eq(hist_encode(h, &buf, &len), 0);
  msgpack_pack_array(pk, STATS_PHASE_COUNT);
  for (int k = 0; k < STATS_PHASE_COUNT; k++)
    if (k == odd && odd_fn)
      odd_fn(pk);
    else
      msgpack_pack_bin_with_body(pk, buf, len);
  free(buf);
  hist_destroy(h);
}
static void junk_blob(msgpack_packer *pk) {
  msgpack_pack_bin_with_body(pk, "HISTFAAAA", 9);
}
static void string_blob(msgpack_packer *pk) {
  msgpack_pack_str_with_body(pk, "ab", 2);
}
static void c_nil(msgpack_packer *pk) {
  msgpack_pack_nil(pk);
}
static void c_ok(msgpack_packer *pk) {
  six(pk, -1, NULL);
}
static void c_five(msgpack_packer *pk) {
  msgpack_pack_array(pk, 5);
  for (int k = 0; k < 5; k++) msgpack_pack_nil(pk);
}
static void c_map(msgpack_packer *pk) {
  msgpack_pack_map(pk, 0);
}
static void c_junk(msgpack_packer *pk) {
  six(pk, STATS_PHASE_WAITING, junk_blob);
}
static void c_string(msgpack_packer *pk) {
  six(pk, STATS_PHASE_BLOCKED, string_blob);
}

START_TEST(hostile_fields) {
  char why[128];
  ck_assert_int_eq(unpack_crafted(c_nil, why, sizeof why), 0);
  ck_assert_int_eq(unpack_crafted(c_ok, why, sizeof why), 0);
  struct {
    void (*fn)(msgpack_packer *);
    const char *reason;
  } bad[] = {{c_five, "array of 6 phases"},
             {c_map, "array of 6 phases"},
             {c_junk, "phase 'waiting': bad histogram"},
             {c_string, "phase 'blocked' is not binary"}};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    ck_assert_int_eq(unpack_crafted(bad[i].fn, why, sizeof why), -EPROTO);
    ck_assert_msg(strstr(why, bad[i].reason), "case %zu: '%s' lacks '%s'", i, why, bad[i].reason);
  }
}
END_TEST

CHECK_MAIN("phases", 30, exact_round_trip_and_merge, bytes_per_interval, hostile_fields)
