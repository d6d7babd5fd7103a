/* test_msgtag.c - tagged series: two "workers" with requests tagged kind=api/static at known counts merge
 * to exact per-series counts and histograms; a STATS message carries them through encode/decode (one tag
 * set table, tuples by index); hostile tuples are refused; the intervals.jsonl form rebuilds them. */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/msg.h"
#include "common/msgtag.h"
#include "tests/support/checkrun.h"

/* An interval with request "GET /x": n requests tagged tags, latencies base+1..base+n us, every
 * fail_every-th failed. */
static stats_interval *worker(int n, int64_t base, const char *tags, int fail_every) {
  stats_interval *s;
  ck_assert_int_eq(stats_create(&s, 1000, 1000), 0);
  stats_entry *e = stats_entry_get(s, "GET /x", "GET");
  for (int i = 1; i <= n; i++) {
    stats_entry_record(e, base + i, base + i);
    stats_tagged_record(stats_tagged_get(s, 0, tags), base + i, fail_every && i % fail_every == 0);
  }
  return s;
}

static const stats_tagged *series(const stats_interval *s, const char *tags) {
  for (size_t i = 0; i < s->ntagged; i++)
    if (!strcmp(s->tagged[i].tags, tags)) return &s->tagged[i];
  return NULL;
}

START_TEST(merge_exact) {
  stats_interval *a = worker(300, 0, "kind=api", 10), *b = worker(200, 1000, "kind=static", 0), *all;
  stats_tagged_record(stats_tagged_get(b, 0, "kind=api"), 900, 1); /* worker b: one api request too */
  ck_assert_int_eq(stats_create(&all, 1000, 1000), 0);
  ck_assert_int_eq(stats_merge(all, a), 0);
  ck_assert_int_eq(stats_merge(all, b), 0);
  ck_assert_int_eq(all->ntagged, 2);
  const stats_tagged *api = series(all, "kind=api"), *st = series(all, "kind=static");
  ck_assert_int_eq(api->count, 301);
  ck_assert_int_eq(api->errors, 31);
  ck_assert_int_eq(st->count, 200);
  ck_assert_int_eq(st->errors, 0);
  ck_assert_int_eq(hist_value_at_percentile(api->latency, 100), 900);
  ck_assert_int_eq(hist_value_at_percentile(st->latency, 50), 1100);
  ck_assert_ptr_null(stats_tagged_get(all, 7, "kind=api")); /* no such entry */
  stats_destroy(a);
  stats_destroy(b);
  stats_destroy(all);
}
END_TEST

/* Past STATS_MAX_TAGGED series a merge counts the requests of a new series in tagged_dropped (the name's
 * entry still has them): nothing is lost silently. */
START_TEST(merge_past_cap) {
  stats_interval *dst, *src = worker(7, 0, "kind=late", 0);
  char tags[32];
  ck_assert_int_eq(stats_create(&dst, 1000, 1000), 0);
  stats_entry_get(dst, "GET /x", "GET");
  for (int i = 0; i < STATS_MAX_TAGGED; i++) {
    snprintf(tags, sizeof tags, "n=%d", i);
    ck_assert_ptr_nonnull(stats_tagged_get(dst, 0, tags));
  }
  ck_assert_ptr_null(stats_tagged_get(dst, 0, "kind=late"));
  ck_assert_int_eq(stats_merge(dst, src), 0);
  ck_assert_int_eq(dst->ntagged, STATS_MAX_TAGGED);
  ck_assert_int_eq(dst->tagged_dropped, 7);
  ck_assert_int_eq(dst->entries[0].count, 7);
  stats_destroy(src);
  stats_destroy(dst);
}
END_TEST

START_TEST(wire_round_trip) {
  stats_interval *s = worker(50, 0, "kind=api,scenario=buy", 5);
  stats_entry *e2 = stats_entry_get(s, "GET /y", "GET");
  stats_entry_record(e2, 7, 7);
  stats_tagged_record(stats_tagged_get(s, 1, "kind=api,scenario=buy"), 7, 0); /* the same set, again */
  stats_tagged_record(stats_tagged_get(s, 1, "kind=static"), 9, 0);
  msg m, out;
  uint8_t *buf = NULL;
  size_t len = 0;
  char err[256];
  msg_init(&m, MSG_STATS);
  snprintf(m.worker_id, sizeof m.worker_id, "w1");
  m.u.stats = s;
  ck_assert_int_eq(msg_encode(&m, &buf, &len), 0);
  ck_assert_int_eq(msg_decode(buf, len, &out, err, sizeof err), 0);
  ck_assert_int_eq(out.u.stats->ntagged, 3);
  const stats_tagged *t = series(out.u.stats, "kind=api,scenario=buy");
  ck_assert_int_eq(t->count, 50);
  ck_assert_int_eq(t->errors, 10);
  ck_assert(hist_equal(t->latency, s->tagged[0].latency));
  ck_assert_int_eq(out.u.stats->tagged[2].entry, 1);
  ck_assert_str_eq(out.u.stats->tagged[2].tags, "kind=static");
  /* the tag set shared by two series is sent once: its text appears once in the message */
  const char *needle = "kind=api,scenario=buy";
  int seen = 0;
  for (size_t i = 0; i + strlen(needle) <= len; i++) seen += !memcmp(buf + i, needle, strlen(needle));
  ck_assert_int_eq(seen, 1);
  free(buf);
  msg_free(&out);
  msg_free(&m);
}
END_TEST

/* Decode sets/series built with msgpack into a fresh interval with one entry. */
static int unpack(void (*build)(msgpack_packer *pk)) {
  msgpack_sbuffer sb;
  msgpack_packer pk;
  msgpack_unpacked u;
  stats_interval *s;
  char err[128];
  int rc;
  msgpack_sbuffer_init(&sb);
  msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
  msgpack_pack_array(&pk, 2);
  build(&pk);
  msgpack_unpacked_init(&u);
  ck_assert_int_eq(msgpack_unpack_next(&u, sb.data, sb.size, NULL), MSGPACK_UNPACK_SUCCESS);
  ck_assert_int_eq(stats_create(&s, 0, 1000), 0);
  stats_entry_get(s, "GET /x", "GET");
  rc = msgtag_unpack(&u.data.via.array.ptr[0], &u.data.via.array.ptr[1], s, err, sizeof err);
  stats_destroy(s);
  msgpack_unpacked_destroy(&u);
  msgpack_sbuffer_destroy(&sb);
  return rc;
}

static void one_series(msgpack_packer *pk, const char *set, uint64_t entry, int64_t count, int64_t errors) {
  hist *h;
  uint8_t *buf;
  size_t len;
  hist_create(&h);
  hist_record(h, 10);
  hist_encode(h, &buf, &len);
  msgpack_pack_array(pk, 1);
  msgpack_pack_str_with_body(pk, set, strlen(set));
  msgpack_pack_array(pk, 1);
  msgpack_pack_array(pk, 5);
  msgpack_pack_uint64(pk, entry);
  msgpack_pack_uint32(pk, 0);
  msgpack_pack_int64(pk, count);
  msgpack_pack_int64(pk, errors);
  msgpack_pack_bin_with_body(pk, buf, len);
  free(buf);
  hist_destroy(h);
}
static void good(msgpack_packer *pk) {
  one_series(pk, "kind=api", 0, 1, 0);
}
static void bad_entry(msgpack_packer *pk) {
  one_series(pk, "kind=api", 1, 1, 0);
}
static void bad_counts(msgpack_packer *pk) {
  one_series(pk, "kind=api", 0, 1, 2);
}
static void bad_set(msgpack_packer *pk) {
  one_series(pk, "scenario=buy,kind=api", 0, 1, 0);
}

START_TEST(hostile) {
  ck_assert_int_eq(unpack(good), 0);
  ck_assert_int_eq(unpack(bad_entry), -EPROTO);
  ck_assert_int_eq(unpack(bad_counts), -EPROTO);
  ck_assert_int_eq(unpack(bad_set), -EPROTO);
}
END_TEST

START_TEST(json_round_trip) {
  stats_interval *s = worker(40, 100, "kind=api", 4), *back;
  json_t *list = msgtag_json(s);
  ck_assert_int_eq(json_array_size(list), 1);
  ck_assert_int_eq(stats_create(&back, 0, 1000), 0);
  ck_assert_int_eq(msgtag_from_json(list, back), 0);
  ck_assert_int_eq(back->ntagged, 1);
  ck_assert_str_eq(back->entries[back->tagged[0].entry].name, "GET /x");
  ck_assert_int_eq(back->tagged[0].count, 40);
  ck_assert_int_eq(back->tagged[0].errors, 10);
  ck_assert(hist_equal(back->tagged[0].latency, s->tagged[0].latency));
  json_decref(list);
  stats_destroy(s);
  stats_destroy(back);
}
END_TEST

CHECK_MAIN("msgtag", 0, merge_exact, merge_past_cap, wire_round_trip, hostile, json_round_trip)
