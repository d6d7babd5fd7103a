/* test_msg.c - the wire codec: every message type round-trips, and hostile bytes (truncation, wrong
 * version, wrong types, oversize, garbage, deep nesting) give a negative code and an empty msg. */
#include <check.h>
#include <errno.h>
#include <msgpack.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/msg.h"
#include "tests/support/checkrun.h"

static uint64_t rng_state = 1;

static uint64_t rng_next(void) {
  uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

static void set_common(msg *m, int type) {
  msg_init(m, type);
  snprintf(m->worker_id, sizeof m->worker_id, "worker-%d", type);
  snprintf(m->run_id, sizeof m->run_id, "run-20261124-abc");
  m->seq = 0xfffffffffffffff0ull + (uint64_t)type;
}

/* Encode m, decode it back into out; asserts both succeed and the common fields survive. */
static void round_trip(const msg *m, msg *out) {
  uint8_t *buf;
  size_t len;
  char err[256];

  ck_assert_int_eq(msg_encode(m, &buf, &len), 0);
  ck_assert_int_eq(msg_decode(buf, len, out, err, sizeof err), 0);
  ck_assert_int_eq(out->type, m->type);
  ck_assert_uint_eq(out->version, MSG_VERSION);
  ck_assert_str_eq(out->worker_id, m->worker_id);
  ck_assert_str_eq(out->run_id, m->run_id);
  ck_assert(out->seq == m->seq);
  free(buf);
}

/* A stats interval with two entries, exemplars, failures and checks. */
static stats_interval *sample_interval(void) {
  stats_interval *s;
  ck_assert_int_eq(stats_create(&s, 1764000000000LL, 1000), 0);
  s->users = 50, s->rate = 120.5, s->iterations = 1234, s->dropped = 3, s->new_conns = 7;
  stats_entry *e = stats_entry_get(s, "GET /api/books", "GET");
  for (int i = 1; i <= 1000; i++) stats_entry_record(e, i * 37, i * 30);
  e->bytes_in = 123456, e->bytes_out = 7890;
  stats_entry_fail(e, STATS_ERR_TIMEOUT, "timeout after 30s");
  stats_entry_fail(e, STATS_ERR_HTTP5XX, "HTTP 503");
  stats_exemplar x = {"0123456789abcdef0123456789abcdef", "0123456789abcdef", 36999, 1764000000500LL};
  stats_entry_exemplar(e, &x, 1);
  stats_entry *e2 = stats_entry_get(s, "POST /api/orders \xc3\xa9", "POST");
  stats_entry_record(e2, 5000000, 4000000);
  stats_check_get(s, "status is 200")->passes = 999;
  stats_check_get(s, "status is 200")->fails = 1;
  return s;
}

START_TEST(round_trip_simple_types) {
  static const int types[] = {MSG_READY, MSG_STOP, MSG_QUIT};
  msg m, out;
  for (size_t i = 0; i < 3; i++) {
    set_common(&m, types[i]);
    round_trip(&m, &out);
    ck_assert_str_eq(msg_type_name(out.type), i == 0 ? "ready" : i == 1 ? "stop" : "quit");
    msg_free(&out);
  }
  ck_assert_str_eq(msg_type_name(99), "unknown");
}
END_TEST

START_TEST(round_trip_hello_start_heartbeat_error) {
  msg m, out;
  set_common(&m, MSG_HELLO);
  snprintf(m.u.hello.hostname, sizeof m.u.hello.hostname, "loadgen-7.example");
  m.u.hello.cores = 64, m.u.hello.threads = 62;
  snprintf(m.u.hello.version, sizeof m.u.hello.version, "0.1.0");
  round_trip(&m, &out);
  ck_assert_str_eq(out.u.hello.hostname, "loadgen-7.example");
  ck_assert_int_eq(out.u.hello.cores, 64);
  ck_assert_int_eq(out.u.hello.threads, 62);
  ck_assert_str_eq(out.u.hello.version, "0.1.0");
  msg_free(&out);

  set_common(&m, MSG_START);
  m.u.start_wall_ns = 1764000000123456789LL;
  round_trip(&m, &out);
  ck_assert_int_eq(out.u.start_wall_ns, 1764000000123456789LL);

  set_common(&m, MSG_HEARTBEAT);
  m.u.heartbeat.sent_wall_ns = 11, m.u.heartbeat.echo_wall_ns = -22, m.u.heartbeat.recv_wall_ns = 33;
  m.u.heartbeat.cpu_permille = 953;
  round_trip(&m, &out);
  ck_assert_int_eq(out.u.heartbeat.sent_wall_ns, 11);
  ck_assert_int_eq(out.u.heartbeat.echo_wall_ns, -22);
  ck_assert_int_eq(out.u.heartbeat.recv_wall_ns, 33);
  ck_assert_int_eq(out.u.heartbeat.cpu_permille, 953);

  set_common(&m, MSG_ERROR);
  m.u.error.code = -EINVAL;
  snprintf(m.u.error.message, sizeof m.u.error.message, "checkout.lua:12: unknown option 'user'");
  round_trip(&m, &out);
  ck_assert_int_eq(out.u.error.code, -EINVAL);
  ck_assert_str_eq(out.u.error.message, "checkout.lua:12: unknown option 'user'");
}
END_TEST

START_TEST(round_trip_assign) {
  static char source[] = "options = { users = 10 }\ntask(function() http.get('/') end)\n\0binary ok";
  msg m, out;
  set_common(&m, MSG_ASSIGN);
  snprintf(m.u.assign.scenario_name, sizeof m.u.assign.scenario_name, "checkout.lua");
  m.u.assign.scenario_source = source;
  m.u.assign.scenario_len = sizeof source - 1;
  m.u.assign.nstages = 3;
  for (int i = 0; i < 3; i++) m.u.assign.stages[i] = (options_stage){(i + 1) * 1000000000LL, 10.5 * i};
  m.u.assign.max_vus = 500, m.u.assign.spawn_rate = 2.5, m.u.assign.start_wall_ns = 1764000000000000000LL;
  m.u.assign.vu_id_base = 1000, m.u.assign.threads = 4, m.u.assign.allow_exec = true;
  round_trip(&m, &out);
  ck_assert_str_eq(out.u.assign.scenario_name, "checkout.lua");
  ck_assert_uint_eq(out.u.assign.scenario_len, sizeof source - 1);
  ck_assert(memcmp(out.u.assign.scenario_source, source, sizeof source - 1) == 0);
  ck_assert_int_eq(out.u.assign.scenario_source[sizeof source - 1], 0);
  ck_assert_uint_eq(out.u.assign.nstages, 3);
  ck_assert_int_eq(out.u.assign.stages[2].duration_ns, 3000000000LL);
  ck_assert_double_eq(out.u.assign.stages[2].target, 21.0);
  ck_assert_int_eq(out.u.assign.max_vus, 500);
  ck_assert_double_eq(out.u.assign.spawn_rate, 2.5);
  ck_assert_int_eq(out.u.assign.start_wall_ns, 1764000000000000000LL);
  ck_assert_int_eq(out.u.assign.vu_id_base, 1000);
  ck_assert_int_eq(out.u.assign.threads, 4);
  ck_assert(out.u.assign.allow_exec);
  msg_free(&out);
  ck_assert_ptr_null(out.u.assign.scenario_source);
}
END_TEST

START_TEST(round_trip_stats) {
  msg m, out;
  stats_interval *s = sample_interval();
  set_common(&m, MSG_STATS);
  m.u.stats = s;
  round_trip(&m, &out);
  stats_interval *r = out.u.stats;
  ck_assert_int_eq(r->start_ms, 1764000000000LL);
  ck_assert_int_eq(r->interval_ms, 1000);
  ck_assert_int_eq(r->users, 50);
  ck_assert_double_eq(r->rate, 120.5);
  ck_assert_int_eq(r->iterations, 1234);
  ck_assert_int_eq(r->dropped, 3);
  ck_assert_int_eq(r->new_conns, 7);
  ck_assert_uint_eq(r->nentries, 2);
  stats_entry *a = stats_entry_find(s, "GET /api/books"), *b = stats_entry_find(r, "GET /api/books");
  ck_assert_ptr_nonnull(b);
  ck_assert_str_eq(b->method, "GET");
  ck_assert_int_eq(b->count, 1000);
  ck_assert_int_eq(b->errors, 2);
  ck_assert_int_eq(b->err[STATS_ERR_TIMEOUT], 1);
  ck_assert_int_eq(b->err[STATS_ERR_HTTP5XX], 1);
  ck_assert_int_eq(b->bytes_in, 123456);
  ck_assert_int_eq(b->bytes_out, 7890);
  ck_assert(hist_equal(a->latency, b->latency));
  ck_assert(hist_equal(a->service, b->service));
  ck_assert_int_eq(hist_value_at_percentile(b->latency, 50), hist_value_at_percentile(a->latency, 50));
  ck_assert_int_eq(b->nslow, 1);
  ck_assert_str_eq(b->slow[0].trace_id, "0123456789abcdef0123456789abcdef");
  ck_assert_str_eq(b->slow[0].span_id, "0123456789abcdef");
  ck_assert_int_eq(b->slow[0].latency_us, 36999);
  ck_assert_int_eq(b->slow[0].wall_ms, 1764000000500LL);
  ck_assert_int_eq(b->ntypical, 1);
  ck_assert_int_eq(b->nfailures, 2);
  ck_assert_str_eq(b->failures[0].message, "timeout after 30s");
  ck_assert_int_eq(b->failures[1].kind, STATS_ERR_HTTP5XX);
  ck_assert_ptr_nonnull(stats_entry_find(r, "POST /api/orders \xc3\xa9"));
  ck_assert_uint_eq(r->nchecks, 1);
  ck_assert_str_eq(r->checks[0].name, "status is 200");
  ck_assert_int_eq(r->checks[0].passes, 999);
  ck_assert_int_eq(r->checks[0].fails, 1);
  msg_free(&out);
  stats_destroy(s);
}
END_TEST

START_TEST(encode_rejects) {
  msg m;
  uint8_t *buf;
  size_t len;
  set_common(&m, MSG_STATS);
  ck_assert_int_eq(msg_encode(&m, &buf, &len), -EINVAL); /* NULL interval */
  m.u.stats = sample_interval();
  m.u.stats->entries[0].nslow = STATS_EXEMPLARS + 1; /* would read past the array */
  ck_assert_int_eq(msg_encode(&m, &buf, &len), -EINVAL);
  m.u.stats->entries[0].nslow = 1;
  memset(m.u.stats->entries[1].method, 'X', sizeof m.u.stats->entries[1].method);
  ck_assert_int_eq(msg_encode(&m, &buf, &len), -EINVAL);
  stats_destroy(m.u.stats);
  m.type = 0;
  ck_assert_int_eq(msg_encode(&m, &buf, &len), -EINVAL);
  set_common(&m, MSG_ASSIGN);
  m.u.assign.scenario_len = MSG_SCENARIO_MAX + 1;
  m.u.assign.scenario_source = (char *)"x";
  ck_assert_int_eq(msg_encode(&m, &buf, &len), -EINVAL);
  set_common(&m, MSG_READY);
  memset(m.worker_id, 'a', sizeof m.worker_id); /* not terminated */
  ck_assert_int_eq(msg_encode(&m, &buf, &len), -EINVAL);
}
END_TEST

/* Decode must fail with rc (or any negative code when rc == 0) and leave out zeroed. */
static void expect_fail(const uint8_t *buf, size_t len, int rc, const char *what) {
  msg out;
  char err[256] = "";
  int got = msg_decode(buf, len, &out, err, sizeof err);
  if (rc)
    ck_assert_msg(got == rc, "%s: expected %d got %d (%s)", what, rc, got, err);
  else
    ck_assert_msg(got < 0, "%s: accepted", what);
  ck_assert_msg(err[0] != 0, "%s: no message", what);
  if (getenv("MSG_TEST_VERBOSE") && strcmp(what, "garbage") && strcmp(what, "truncated"))
    fprintf(stderr, "%s -> %d %s\n", what, got, err);
  ck_assert_int_eq(out.type, 0);
  ck_assert_ptr_null(out.u.stats);
}

START_TEST(truncated_stats_every_byte) {
  msg m;
  uint8_t *buf;
  size_t len;
  stats_interval *s = sample_interval();
  set_common(&m, MSG_STATS);
  m.u.stats = s;
  ck_assert_int_eq(msg_encode(&m, &buf, &len), 0);
  ck_assert_uint_gt(len, 200);
  for (size_t cut = 0; cut < len; cut++) expect_fail(buf, cut, -EPROTO, "truncated");
  uint8_t *longer = malloc(len + 1);
  memcpy(longer, buf, len);
  longer[len] = 0xc0;
  expect_fail(longer, len + 1, -EPROTO, "trailing byte");
  /* flip each byte in turn: decoding must never crash; whatever it accepts must be a stats msg */
  for (size_t i = 0; i < len; i++) {
    msg out;
    memcpy(longer, buf, len);
    longer[i] ^= (uint8_t)(1 + rng_next() % 255);
    if (msg_decode(longer, len, &out, NULL, 0) == 0) {
      ck_assert_int_eq(out.type, MSG_STATS);
      msg_free(&out);
    } else {
      ck_assert_int_eq(out.type, 0);
    }
  }
  free(longer);
  free(buf);
  stats_destroy(s);
}
END_TEST

/* Hand-made messages: the header with a chosen type and version, then extra pairs from fn. */
typedef void (*body_fn)(msgpack_packer *pk);

static size_t craft(uint8_t **out, const char *type, int64_t version, size_t npairs, body_fn fn) {
  msgpack_sbuffer sb;
  msgpack_packer pk;
  msgpack_sbuffer_init(&sb);
  msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
  msgpack_pack_map(&pk, 5 + npairs);
  msgpack_pack_str_with_body(&pk, "t", 1);
  msgpack_pack_str_with_body(&pk, type, strlen(type));
  msgpack_pack_str_with_body(&pk, "v", 1);
  msgpack_pack_int64(&pk, version);
  msgpack_pack_str_with_body(&pk, "w", 1);
  msgpack_pack_str_with_body(&pk, "w1", 2);
  msgpack_pack_str_with_body(&pk, "s", 1);
  msgpack_pack_uint64(&pk, 7);
  msgpack_pack_str_with_body(&pk, "r", 1);
  msgpack_pack_str_with_body(&pk, "", 0);
  if (fn) fn(&pk);
  size_t len = sb.size;
  *out = (uint8_t *)msgpack_sbuffer_release(&sb);
  return len;
}

static void kv(msgpack_packer *pk, const char *key) {
  msgpack_pack_str_with_body(pk, key, strlen(key));
}

static void start_as_string(msgpack_packer *pk) {
  kv(pk, "start");
  msgpack_pack_str_with_body(pk, "soon", 4);
}

static void hello_big_host(msgpack_packer *pk) {
  char host[MSG_HOST_MAX + 10];
  memset(host, 'h', sizeof host);
  kv(pk, "host");
  msgpack_pack_str_with_body(pk, host, sizeof host);
  kv(pk, "cores");
  msgpack_pack_int64(pk, 1);
  kv(pk, "threads");
  msgpack_pack_int64(pk, 1);
  kv(pk, "ver");
  msgpack_pack_str_with_body(pk, "1", 1);
}

static void hello_cores_overflow(msgpack_packer *pk) {
  kv(pk, "host");
  msgpack_pack_str_with_body(pk, "h", 1);
  kv(pk, "cores");
  msgpack_pack_int64(pk, 1LL << 40);
  kv(pk, "threads");
  msgpack_pack_int64(pk, 1);
  kv(pk, "ver");
  msgpack_pack_str_with_body(pk, "1", 1);
}

static void error_nul_inside(msgpack_packer *pk) {
  kv(pk, "code");
  msgpack_pack_int64(pk, -5);
  kv(pk, "msg");
  msgpack_pack_str_with_body(pk, "a\0b", 3);
}

static void heartbeat_dup_key(msgpack_packer *pk) {
  kv(pk, "sent");
  msgpack_pack_int64(pk, 1);
  kv(pk, "sent");
  msgpack_pack_int64(pk, 2);
  kv(pk, "recv");
  msgpack_pack_int64(pk, 3);
}

static void start_deep(msgpack_packer *pk) {
  kv(pk, "start");
  for (int i = 0; i < 40; i++) msgpack_pack_array(pk, 1);
  msgpack_pack_int64(pk, 1);
}

/* A stats interval whose single entry comes from fn_entry. */
static void (*entry_fn)(msgpack_packer *pk);

static void stats_body(msgpack_packer *pk) {
  kv(pk, "iv");
  msgpack_pack_map(pk, 9);
  const char *keys[] = {"start_ms", "interval_ms", "users", "iterations", "dropped", "new_conns"};
  for (int i = 0; i < 6; i++) {
    kv(pk, keys[i]);
    msgpack_pack_int64(pk, 1);
  }
  kv(pk, "rate");
  msgpack_pack_double(pk, 1.0);
  kv(pk, "checks");
  msgpack_pack_array(pk, 0);
  kv(pk, "entries");
  entry_fn(pk);
}

static void entries_too_many(msgpack_packer *pk) {
  msgpack_pack_array(pk, STATS_MAX_NAMES + 1);
  for (int i = 0; i <= STATS_MAX_NAMES; i++) msgpack_pack_nil(pk);
}

/* One entry with the given histogram bytes and err array length. */
static const uint8_t *entry_hist;
static size_t entry_hist_len;
static int entry_nerr = STATS_ERR_COUNT;
static int64_t entry_count = 5;

static void entry_one(msgpack_packer *pk) {
  msgpack_pack_array(pk, 1);
  msgpack_pack_map(pk, 12);
  kv(pk, "name");
  msgpack_pack_str_with_body(pk, "GET /", 5);
  kv(pk, "method");
  msgpack_pack_str_with_body(pk, "GET", 3);
  const char *counters[] = {"count", "errors", "bytes_in", "bytes_out"};
  for (int i = 0; i < 4; i++) {
    kv(pk, counters[i]);
    msgpack_pack_int64(pk, i == 0 ? entry_count : 0);
  }
  kv(pk, "err");
  msgpack_pack_array(pk, (size_t)entry_nerr);
  for (int k = 0; k < entry_nerr; k++) msgpack_pack_int64(pk, 0);
  kv(pk, "lat");
  msgpack_pack_bin_with_body(pk, entry_hist, entry_hist_len);
  kv(pk, "svc");
  msgpack_pack_bin_with_body(pk, entry_hist, entry_hist_len);
  kv(pk, "slow");
  msgpack_pack_array(pk, 0);
  kv(pk, "typical");
  msgpack_pack_array(pk, 0);
  kv(pk, "fail");
  msgpack_pack_array(pk, 0);
}

START_TEST(malformed_crafted) {
  uint8_t *buf;
  size_t len;
  struct {
    const char *type;
    int64_t version;
    size_t npairs;
    body_fn fn;
    int rc;
    const char *what;
  } cases[] = {
      {"ready", 2, 0, NULL, -EPROTO, "wrong version"},
      {"ready", 0, 0, NULL, -EPROTO, "version 0"},
      {"bogus", 1, 0, NULL, -EPROTO, "unknown type"},
      {"start", 1, 0, NULL, -EPROTO, "missing start field"},
      {"start", 1, 1, start_as_string, -EPROTO, "start is a string"},
      {"start", 1, 1, start_deep, -EPROTO, "nested 40 deep"},
      {"hello", 1, 4, hello_big_host, -E2BIG, "oversize hostname"},
      {"hello", 1, 4, hello_cores_overflow, -EPROTO, "cores beyond int32"},
      {"error", 1, 2, error_nul_inside, -EPROTO, "NUL inside message"},
      {"heartbeat", 1, 3, heartbeat_dup_key, -EPROTO, "duplicate key"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    len = craft(&buf, cases[i].type, cases[i].version, cases[i].npairs, cases[i].fn);
    expect_fail(buf, len, cases[i].rc, cases[i].what);
    free(buf);
  }
  /* the crafting itself is right: a good one decodes */
  msg out;
  len = craft(&buf, "ready", 1, 0, NULL);
  ck_assert_int_eq(msg_decode(buf, len, &out, NULL, 0), 0);
  ck_assert_int_eq(out.type, MSG_READY);
  ck_assert(out.seq == 7);
  ck_assert_str_eq(out.worker_id, "w1");
  free(buf);
}
END_TEST

START_TEST(malformed_stats_fields) {
  uint8_t *buf, *hbytes;
  size_t len, hlen;
  hist *h;
  msg out;
  ck_assert_int_eq(hist_create(&h), 0);
  hist_record_n(h, 1500, 5);
  ck_assert_int_eq(hist_encode(h, &hbytes, &hlen), 0);
  entry_hist = hbytes, entry_hist_len = hlen, entry_nerr = STATS_ERR_COUNT, entry_count = 5;
  entry_fn = entry_one;
  len = craft(&buf, "stats", 1, 1, stats_body);
  ck_assert_int_eq(msg_decode(buf, len, &out, NULL, 0), 0); /* the well-formed baseline */
  ck_assert_int_eq(hist_count(out.u.stats->entries[0].latency), 5);
  msg_free(&out);
  free(buf);
  entry_count = -1;
  len = craft(&buf, "stats", 1, 1, stats_body);
  expect_fail(buf, len, -EPROTO, "negative count");
  free(buf);
  entry_count = 5, entry_nerr = STATS_ERR_COUNT - 1;
  len = craft(&buf, "stats", 1, 1, stats_body);
  expect_fail(buf, len, -EPROTO, "short err array");
  free(buf);
  entry_nerr = STATS_ERR_COUNT, entry_hist_len = hlen - 3;
  len = craft(&buf, "stats", 1, 1, stats_body);
  expect_fail(buf, len, -EPROTO, "truncated histogram");
  free(buf);
  entry_fn = entries_too_many;
  len = craft(&buf, "stats", 1, 1, stats_body);
  expect_fail(buf, len, -E2BIG, "too many entries");
  free(buf);
  free(hbytes);
  hist_destroy(h);
}
END_TEST

START_TEST(malformed_raw_bytes) {
  /* array32 claiming 4 billion elements, map32 the same, str32 longer than the buffer */
  static const uint8_t huge_array[] = {0xdd, 0xff, 0xff, 0xff, 0xff, 0xc0};
  static const uint8_t huge_map[] = {0x81, 0xa1, 't', 0xdf, 0xff, 0xff, 0xff, 0xff};
  static const uint8_t long_str[] = {0x81, 0xa1, 't', 0xdb, 0x7f, 0xff, 0xff, 0xff, 'x'};
  static const uint8_t never_used[] = {0x81, 0xa1, 't', 0xc1};
  static const uint8_t not_map[] = {0x93, 0x01, 0x02, 0x03};
  static const uint8_t type_int[] = {0x85, 0xa1, 't',  0x63, 0xa1, 'v',  0x01, 0xa1,
                                     'w',  0xa0, 0xa1, 's',  0x00, 0xa1, 'r',  0xa0};
  uint8_t deep[200];
  expect_fail(huge_array, sizeof huge_array, -EPROTO, "huge array");
  expect_fail(huge_map, sizeof huge_map, -EPROTO, "huge map");
  expect_fail(long_str, sizeof long_str, -EPROTO, "string past end");
  expect_fail(never_used, sizeof never_used, -EPROTO, "0xc1");
  expect_fail(not_map, sizeof not_map, -EPROTO, "root is an array");
  expect_fail(type_int, sizeof type_int, -EPROTO, "type number 99");
  expect_fail((const uint8_t *)"", 0, -EPROTO, "empty");
  memset(deep, 0x91, sizeof deep); /* 199 nested one-element arrays */
  deep[sizeof deep - 1] = 0x01;
  expect_fail(deep, sizeof deep, -EPROTO, "deep nesting");
  uint8_t garbage[512];
  rng_state = 77;
  for (int r = 0; r < 20000; r++) {
    size_t n = 1 + rng_next() % sizeof garbage;
    for (size_t i = 0; i < n; i++) garbage[i] = (uint8_t)rng_next();
    if (r % 2) garbage[0] = (uint8_t)(0x80 | (rng_next() % 16)); /* start as a map more often */
    expect_fail(garbage, n, 0, "garbage");
  }
}
END_TEST

START_TEST(oversize_scenario) {
  msg m, out;
  uint8_t *buf;
  size_t len;
  char *big = malloc(MSG_SCENARIO_MAX);
  ck_assert_ptr_nonnull(big);
  memset(big, '-', MSG_SCENARIO_MAX);
  set_common(&m, MSG_ASSIGN);
  m.u.assign.scenario_source = big;
  m.u.assign.scenario_len = MSG_SCENARIO_MAX; /* exactly the cap is fine */
  round_trip(&m, &out);
  ck_assert_uint_eq(out.u.assign.scenario_len, MSG_SCENARIO_MAX);
  msg_free(&out);
  ck_assert_int_eq(msg_encode(&m, &buf, &len), 0);
  /* grow the bin32 length by one and append one byte: over the cap */
  uint8_t *p = memmem(buf, len, "src", 3);
  ck_assert_ptr_nonnull(p);
  p += 3;
  ck_assert_int_eq(p[0], 0xc6);
  uint32_t n = (uint32_t)p[1] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 8 | p[4];
  ck_assert_uint_eq(n, MSG_SCENARIO_MAX);
  n++;
  p[1] = (uint8_t)(n >> 24), p[2] = (uint8_t)(n >> 16), p[3] = (uint8_t)(n >> 8), p[4] = (uint8_t)n;
  size_t off = (size_t)(p + 5 - buf) + MSG_SCENARIO_MAX;
  uint8_t *grown = malloc(len + 1);
  memcpy(grown, buf, off);
  grown[off] = '-';
  memcpy(grown + off + 1, buf + off, len - off);
  expect_fail(grown, len + 1, -E2BIG, "scenario over 4 MiB");
  free(grown);
  free(buf);
  free(big);
}
END_TEST

/* "n": stats, heartbeats, quit and resend carry a stats number; 0 leaves the key out; a number that is
 * not an unsigned integer is refused. */
START_TEST(stats_numbers) {
  static const int types[] = {MSG_HEARTBEAT, MSG_QUIT, MSG_RESEND};
  msg m, out;
  uint8_t *buf, *with;
  size_t len, len_with;

  for (size_t i = 0; i < 3; i++) {
    set_common(&m, types[i]);
    m.stats_no = 4000000000ull + i;
    round_trip(&m, &out);
    ck_assert(out.stats_no == 4000000000ull + i);
    msg_free(&out);
  }
  ck_assert_str_eq(msg_type_name(MSG_RESEND), "resend");
  set_common(&m, MSG_STATS);
  m.u.stats = sample_interval();
  m.stats_no = 7;
  round_trip(&m, &out);
  ck_assert(out.stats_no == 7);
  ck_assert_uint_eq(out.u.stats->nentries, m.u.stats->nentries);
  msg_free(&out);
  ck_assert_int_eq(msg_encode(&m, &with, &len_with), 0);
  m.stats_no = 0; /* unnumbered: no "n" on the wire, decoded as 0 */
  ck_assert_int_eq(msg_encode(&m, &buf, &len), 0);
  ck_assert_uint_eq(len_with, len + 3); /* a1 6e 07 */
  ck_assert_int_eq(msg_decode(buf, len, &out, NULL, 0), 0);
  ck_assert(out.stats_no == 0);
  msg_free(&out);
  free(buf);
  /* "n" as nil (c0) in place of the fixint 07 */
  uint8_t *p = memmem(with, len_with, "\xa1n\x07", 3);
  ck_assert_ptr_nonnull(p);
  p[2] = 0xc0; /* nil */
  expect_fail(with, len_with, -EPROTO, "field 'n' is not an unsigned integer");
  free(with);
  stats_destroy(m.u.stats);
}
END_TEST

CHECK_MAIN("msg", 120, round_trip_simple_types, stats_numbers, round_trip_hello_start_heartbeat_error,
           round_trip_assign, round_trip_stats, encode_rejects, truncated_stats_every_byte, malformed_crafted,
           malformed_stats_fields, malformed_raw_bytes, oversize_scenario)
