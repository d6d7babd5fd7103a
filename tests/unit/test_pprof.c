/* test_pprof.c - pprof decode of real Go profiles from the shop (known totals), encode/decode round trip,
 * merge/filter/diff, hand-made malicious messages, and a corpus of truncated and bit-flipped profiles. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "master/profile/pprof.h"
#include "profile.pb-c.h"
#include "tests/support/checkrun.h"

static char err[512];

static pprof_profile *load_fixture(const char *name) {
  char path[1024];
  const char *src = getenv("LOADCTL_SRC");
  pprof_profile *p = NULL;
  snprintf(path, sizeof path, "%s/tests/unit/fixtures/%s", src ? src : ".", name);
  int rc = pprof_decode_file(path, &p, err, sizeof err);
  ck_assert_msg(rc == 0, "%s: %s", path, err);
  return p;
}

static unsigned char *read_fixture(const char *name, size_t *len) {
  char path[1024];
  const char *src = getenv("LOADCTL_SRC");
  snprintf(path, sizeof path, "%s/tests/unit/fixtures/%s", src ? src : ".", name);
  FILE *f = fopen(path, "rb");
  ck_assert_ptr_nonnull(f);
  unsigned char *buf = malloc(1 << 20);
  *len = fread(buf, 1, 1 << 20, f);
  fclose(f);
  return buf;
}

static int64_t leaf_total(const pprof_profile *p, const char *fn, size_t vi) {
  int64_t sum = 0;
  for (size_t i = 0; i < p->nsamples; i++)
    if (p->samples[i].nstack && strcmp(p->strings[p->functions[p->samples[i].stack[0]].name], fn) == 0)
      sum += p->samples[i].values[vi];
  return sum;
}

static int64_t cum_total(const pprof_profile *p, const char *fn, size_t vi) {
  int64_t sum = 0;
  for (size_t i = 0; i < p->nsamples; i++)
    for (size_t j = 0; j < p->samples[i].nstack; j++)
      if (strcmp(p->strings[p->functions[p->samples[i].stack[j]].name], fn) == 0) {
        sum += p->samples[i].values[vi];
        break;
      }
  return sum;
}

START_TEST(decode_go_cpu) {
  pprof_profile *p = load_fixture("shop_cpu.pb.gz");
  ck_assert_uint_eq(p->nsample_types, 2);
  ck_assert_str_eq(p->strings[p->sample_types[0].type], "samples");
  ck_assert_str_eq(p->strings[p->sample_types[1].type], "cpu");
  ck_assert_str_eq(p->strings[p->sample_types[1].unit], "nanoseconds");
  ck_assert_str_eq(p->strings[p->period_type.type], "cpu");
  ck_assert_int_eq(p->period, 10000000);
  ck_assert_int_eq(pprof_sample_type_index(p, "cpu"), 1);
  ck_assert_int_eq(pprof_total(p, 0), 352);
  ck_assert_int_eq(pprof_total(p, 1), 3520000000LL);
  ck_assert_uint_eq(p->nsamples,
                    5); /* 6 raw samples: two fraudScore locations fold into one function stack */
  ck_assert_int_eq(leaf_total(p, "main.fraudScore", 0), 348);
  ck_assert_int_eq(cum_total(p, "main.(*shop).handleOrders", 0), 349);
  ck_assert(p->time_nanos > 1700000000LL * 1000000000LL);
  ck_assert(p->duration_nanos >= 2000000000LL && p->duration_nanos < 2100000000LL);
  size_t labelled = 0;
  for (size_t i = 0; i < p->nsamples; i++) {
    const char *tid = pprof_label_get(p, &p->samples[i], "trace_id");
    if (!tid) continue;
    labelled++;
    ck_assert_str_eq(tid, "0af7651916cd43dd8448eb211c80319c");
    ck_assert_str_eq(pprof_label_get(p, &p->samples[i], "loadctl.name"), "POST /api/orders");
    ck_assert_ptr_null(pprof_label_get(p, &p->samples[i], "nope"));
  }
  ck_assert_uint_eq(labelled, 2);
  pprof_free(p);
}
END_TEST

START_TEST(function_totals) {
  pprof_profile *p = load_fixture("shop_cpu.pb.gz");
  int64_t *self = calloc(p->nfunctions, sizeof *self), *cum = calloc(p->nfunctions, sizeof *cum);
  ck_assert_int_eq(pprof_function_totals(p, 0, self, cum), 0);
  int64_t fraud = pprof_function_intern(p, "main.fraudScore", "/work/main/tests/targets/shop/faults.go");
  int64_t orders = -1;
  for (size_t f = 0; f < p->nfunctions; f++)
    if (strcmp(p->strings[p->functions[f].name], "main.(*shop).handleOrders") == 0) orders = (int64_t)f;
  ck_assert(fraud >= 0 && (size_t)fraud < p->nfunctions && orders >= 0); /* already known: no new entry */
  ck_assert_int_eq(self[fraud], 348);
  ck_assert_int_eq(cum[fraud], 349); /* one sample has fraudScore under a runtime leaf */
  ck_assert_int_eq(self[orders], 0);
  ck_assert_int_eq(cum[orders], 349);
  int64_t sum = 0;
  for (size_t f = 0; f < p->nfunctions; f++) sum += self[f];
  ck_assert_int_eq(sum, 352);
  ck_assert_int_eq(pprof_function_totals(p, 2, self, NULL), -EINVAL);
  free(self);
  free(cum);
  pprof_free(p);
}
END_TEST

START_TEST(decode_go_mutex) {
  pprof_profile *p = load_fixture("shop_mutex.pb.gz");
  ck_assert_int_eq(pprof_sample_type_index(p, "delay"), 1);
  ck_assert_int_eq(pprof_total(p, 0), 705);
  ck_assert_int_eq(pprof_total(p, 1), 1639149321LL);
  ck_assert_int_eq(cum_total(p, "main.inventoryReserve", 1), 1639149321LL);
  ck_assert_int_eq(leaf_total(p, "sync.(*Mutex).Unlock", 1), 1639149321LL);
  pprof_free(p);
}
END_TEST

/* Canonical text of every sample: "root;..;leaf|k=v,..|v0,v1", sorted, joined: equal profiles, equal text. */
static int cmpstr(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static char *canon(const pprof_profile *p) {
  char **lines = calloc(p->nsamples + 1, sizeof *lines);
  size_t total = 1;
  for (size_t i = 0; i < p->nsamples; i++) {
    const pprof_sample *s = &p->samples[i];
    char buf[65536];
    size_t off = 0;
    for (size_t j = s->nstack; j-- > 0;)
      off += (size_t)snprintf(buf + off, sizeof buf - off, "%s;", p->strings[p->functions[s->stack[j]].name]);
    for (size_t j = 0; j < s->nlabels; j++)
      off += (size_t)snprintf(buf + off, sizeof buf - off, "|%s=%s/%lld", p->strings[s->labels[j].key],
                              p->strings[s->labels[j].str], (long long)s->labels[j].num);
    for (size_t v = 0; v < p->nsample_types; v++)
      off += (size_t)snprintf(buf + off, sizeof buf - off, "|%lld", (long long)s->values[v]);
    lines[i] = strdup(buf);
    total += off + 1;
  }
  qsort(lines, p->nsamples, sizeof *lines, cmpstr);
  char *out = calloc(1, total);
  size_t used = 0;
  for (size_t i = 0; i < p->nsamples; i++) {
    used += (size_t)snprintf(out + used, total - used, "%s\n", lines[i]);
    free(lines[i]);
  }
  free(lines);
  return out;
}

START_TEST(round_trip) {
  const char *names[] = {"shop_cpu.pb.gz", "shop_mutex.pb.gz"};
  for (size_t k = 0; k < 2; k++) {
    pprof_profile *a = load_fixture(names[k]), *b = NULL;
    unsigned char *buf = NULL;
    size_t len = 0;
    ck_assert_int_eq(pprof_encode(a, &buf, &len), 0);
    ck_assert(len > 20 && buf[0] == 0x1f && buf[1] == 0x8b);
    ck_assert_msg(pprof_decode(buf, len, &b, err, sizeof err) == 0, "%s", err);
    char *ca = canon(a), *cb = canon(b);
    ck_assert_str_eq(ca, cb);
    ck_assert_uint_eq(a->nsamples, b->nsamples);
    ck_assert_int_eq(a->period, b->period);
    ck_assert_int_eq(a->time_nanos, b->time_nanos);
    ck_assert_int_eq(a->duration_nanos, b->duration_nanos);
    ck_assert_str_eq(a->strings[a->period_type.unit], b->strings[b->period_type.unit]);
    free(ca);
    free(cb);
    free(buf);
    pprof_free(a);
    pprof_free(b);
  }
}
END_TEST

START_TEST(merge_filter_diff) {
  pprof_profile *cpu = load_fixture("shop_cpu.pb.gz"), *mutex = load_fixture("shop_mutex.pb.gz");
  pprof_profile *m = pprof_create(NULL, NULL);
  ck_assert_int_eq(pprof_merge(m, cpu), 0);
  ck_assert_int_eq(pprof_merge(m, cpu), 0);
  ck_assert_int_eq(pprof_total(m, 0), 704);
  ck_assert_int_eq(pprof_total(m, 1), 7040000000LL);
  ck_assert_uint_eq(m->nsamples, cpu->nsamples);
  ck_assert_int_eq(m->period, 10000000);
  ck_assert_int_eq(pprof_merge(m, mutex), -EINVAL);

  pprof_profile *f = pprof_filter_label(cpu, "loadctl.name", "POST /api/orders");
  ck_assert_int_eq(pprof_total(f, 0), 349);
  ck_assert_uint_eq(f->nsamples, 2);
  pprof_profile *none = pprof_filter_label(cpu, "loadctl.name", "GET /nothing");
  ck_assert_uint_eq(none->nsamples, 0);
  pprof_profile *any = pprof_filter_label(cpu, "trace_id", NULL);
  ck_assert_int_eq(pprof_total(any, 0), 349);

  int rc = 1;
  pprof_profile *d = pprof_diff(m, cpu, &rc);
  ck_assert_int_eq(rc, 0);
  ck_assert_int_eq(pprof_total(d, 0), 352);
  ck_assert_int_eq(leaf_total(d, "main.fraudScore", 0), 348);
  pprof_profile *z = pprof_diff(cpu, f, &rc);
  ck_assert_int_eq(pprof_total(z, 0), 3); /* the unlabelled samples remain */
  ck_assert_ptr_null(pprof_diff(cpu, mutex, &rc));
  ck_assert_int_eq(rc, -EINVAL);
  pprof_free(z);
  pprof_free(d);
  pprof_free(any);
  pprof_free(none);
  pprof_free(f);
  pprof_free(m);
  pprof_free(mutex);
  pprof_free(cpu);
}
END_TEST

START_TEST(build_and_aggregate) {
  pprof_profile *p = pprof_create("samples", "count");
  int64_t a = pprof_function_intern(p, "main.a", "a.go"), b = pprof_function_intern(p, "main.b", NULL);
  ck_assert(a >= 0 && b >= 0 && a != b);
  ck_assert_int_eq(pprof_function_intern(p, "main.a", "a.go"), a);
  uint32_t stack[2] = {(uint32_t)b, (uint32_t)a};
  int64_t one = 1, five = 5;
  pprof_label l[2] = {{(uint32_t)pprof_intern(p, "k"), (uint32_t)pprof_intern(p, "v"), 0, 0},
                      {(uint32_t)pprof_intern(p, "n"), 0, 42, (uint32_t)pprof_intern(p, "bytes")}};
  pprof_label rev[2] = {l[1], l[0]};
  ck_assert_int_eq(pprof_add_sample(p, stack, 2, &one, l, 2), 0);
  ck_assert_int_eq(pprof_add_sample(p, stack, 2, &five, rev, 2), 0); /* same label set, other order */
  ck_assert_int_eq(pprof_add_sample(p, stack, 1, &one, NULL, 0), 0);
  ck_assert_uint_eq(p->nsamples, 2);
  ck_assert_int_eq(p->samples[0].values[0], 6);
  uint32_t bad = 99;
  ck_assert_int_eq(pprof_add_sample(p, &bad, 1, &one, NULL, 0), -EINVAL);
  pprof_label badl = {0, 1, 0, 0};
  ck_assert_int_eq(pprof_add_sample(p, stack, 1, &one, &badl, 1), -EINVAL);
  ck_assert_int_eq(pprof_add_sample_type(p, "x", "y"), -EINVAL);
  pprof_free(p);
}
END_TEST

/* Pack a hand-made message and expect decode to fail with -PPROF_EFORMAT naming want. */
static void expect_bad(Perftools__Profiles__Profile *m, const char *want) {
  size_t len = perftools__profiles__profile__get_packed_size(m);
  uint8_t *buf = malloc(len + 1);
  perftools__profiles__profile__pack(m, buf);
  pprof_profile *p = (pprof_profile *)1;
  int rc = pprof_decode(buf, len, &p, err, sizeof err);
  ck_assert_int_eq(rc, -PPROF_EFORMAT);
  ck_assert_ptr_null(p);
  ck_assert_msg(strstr(err, want) != NULL, "err '%s' lacks '%s'", err, want);
  free(buf);
}

START_TEST(malicious_messages) {
  char *strings[] = {"", "samples", "count", "main.f"};
  Perftools__Profiles__ValueType vt = PERFTOOLS__PROFILES__VALUE_TYPE__INIT, *vtp = &vt;
  Perftools__Profiles__Function fn = PERFTOOLS__PROFILES__FUNCTION__INIT, *fnp = &fn;
  Perftools__Profiles__Line line = PERFTOOLS__PROFILES__LINE__INIT, *linep = &line;
  Perftools__Profiles__Location loc = PERFTOOLS__PROFILES__LOCATION__INIT, *locp = &loc;
  Perftools__Profiles__Sample s = PERFTOOLS__PROFILES__SAMPLE__INIT, *sp = &s;
  Perftools__Profiles__Label lab = PERFTOOLS__PROFILES__LABEL__INIT, *labp = &lab;
  Perftools__Profiles__Profile m = PERFTOOLS__PROFILES__PROFILE__INIT;
  uint64_t locid = 1;
  int64_t value = 7;
  vt.type = 1, vt.unit = 2;
  fn.id = 1, fn.name = 3;
  line.function_id = 1;
  loc.id = 1, loc.n_line = 1, loc.line = &linep;
  s.n_location_id = 1, s.location_id = &locid, s.n_value = 1, s.value = &value;
  m.n_sample_type = 1, m.sample_type = &vtp, m.n_sample = 1, m.sample = &sp, m.n_location = 1;
  m.location = &locp, m.n_function = 1, m.function = &fnp, m.n_string_table = 4, m.string_table = strings;

  size_t len = perftools__profiles__profile__get_packed_size(&m); /* the valid base decodes */
  uint8_t *buf = malloc(len);
  perftools__profiles__profile__pack(&m, buf);
  pprof_profile *p = NULL;
  ck_assert_msg(pprof_decode(buf, len, &p, err, sizeof err) == 0, "%s", err);
  ck_assert_int_eq(pprof_total(p, 0), 7);
  pprof_free(p);
  free(buf);

  locid = 9;
  expect_bad(&m, "location id 9 not found");
  locid = 1, line.function_id = 5;
  expect_bad(&m, "function id 5 not found");
  line.function_id = 1, fn.name = 4;
  expect_bad(&m, "function 1: string index out of range");
  fn.name = -1;
  expect_bad(&m, "string index out of range");
  fn.name = 3, s.n_value = 0;
  expect_bad(&m, "0 values for 1 sample types");
  s.n_value = 1, s.n_label = 1, s.label = &labp, lab.key = 77;
  expect_bad(&m, "label 0: string index out of range");
  s.n_label = 0, vt.unit = 1000;
  expect_bad(&m, "sample_type 0");
  vt.unit = 2, strings[0] = "x";
  expect_bad(&m, "string_table[0]");
  strings[0] = "";
  Perftools__Profiles__Location *two[2] = {&loc, &loc};
  m.location = two, m.n_location = 2;
  expect_bad(&m, "duplicate location id 1");
}
END_TEST

/* A location with 4096 inline lines named by 20000 tiny samples would expand to 82 M frames: refused
 * before any sample is built. */
START_TEST(frame_bomb_bounded) {
  char *strings[] = {"", "samples", "count", "f"};
  Perftools__Profiles__ValueType vt = PERFTOOLS__PROFILES__VALUE_TYPE__INIT, *vtp = &vt;
  Perftools__Profiles__Function fn = PERFTOOLS__PROFILES__FUNCTION__INIT, *fnp = &fn;
  Perftools__Profiles__Line line = PERFTOOLS__PROFILES__LINE__INIT;
  Perftools__Profiles__Location loc = PERFTOOLS__PROFILES__LOCATION__INIT, *locp = &loc;
  Perftools__Profiles__Profile m = PERFTOOLS__PROFILES__PROFILE__INIT;
  enum { NLINES = 4096, NSAMPLES = 20000 };
  Perftools__Profiles__Line **lines = malloc(NLINES * sizeof *lines);
  Perftools__Profiles__Sample *samples = malloc(NSAMPLES * sizeof *samples),
                              **sp = malloc(NSAMPLES * sizeof *sp);
  uint64_t locid = 1;
  int64_t value = 1;
  vt.type = 1, vt.unit = 2;
  fn.id = 1, fn.name = 3;
  line.function_id = 1;
  for (int i = 0; i < NLINES; i++) lines[i] = &line;
  loc.id = 1, loc.n_line = NLINES, loc.line = lines;
  for (int i = 0; i < NSAMPLES; i++) {
    perftools__profiles__sample__init(&samples[i]);
    samples[i].n_location_id = 1, samples[i].location_id = &locid, samples[i].n_value = 1,
    samples[i].value = &value;
    sp[i] = &samples[i];
  }
  m.n_sample_type = 1, m.sample_type = &vtp, m.n_sample = NSAMPLES, m.sample = sp, m.n_location = 1;
  m.location = &locp, m.n_function = 1, m.function = &fnp, m.n_string_table = 4, m.string_table = strings;
  size_t len = perftools__profiles__profile__get_packed_size(&m);
  uint8_t *buf = malloc(len);
  perftools__profiles__profile__pack(&m, buf);
  ck_assert(len < 200000);
  pprof_profile *p = NULL;
  ck_assert_int_eq(pprof_decode(buf, len, &p, err, sizeof err), -E2BIG);
  ck_assert_ptr_nonnull(strstr(err, "frames"));
  free(buf);
  free(sp);
  free(samples);
  free(lines);
}
END_TEST

/* Fuzzer finding (tests/fuzz/regressions/pprof/sample-empty-stack-memcpy-null.pb): string_table [""] and
 * one empty sample in a profile without sample types; once a memcpy from NULL (UBSan). */
START_TEST(no_sample_types_empty_sample) {
  const unsigned char bytes[] = {0x32, 0x00, 0x12, 0x00};
  pprof_profile *p = NULL;
  ck_assert_msg(pprof_decode(bytes, sizeof bytes, &p, err, sizeof err) == 0, "%s", err);
  ck_assert_uint_eq(p->nsample_types, 0);
  ck_assert_uint_eq(p->nsamples, 1);
  ck_assert_uint_eq(p->samples[0].nstack, 0);
  unsigned char *buf = NULL;
  size_t len = 0;
  ck_assert_int_eq(pprof_encode(p, &buf, &len), 0);
  pprof_free(p);
  ck_assert_int_eq(pprof_decode(buf, len, &p, err, sizeof err), 0);
  ck_assert_uint_eq(p->nsamples, 1);
  free(buf);
  pprof_free(p);
}
END_TEST

START_TEST(gzip_bomb_bounded) {
  z_stream zs;
  static unsigned char zeros[1 << 20];
  size_t cap = 2 << 20, used = 0;
  unsigned char *out = malloc(cap);
  memset(&zs, 0, sizeof zs);
  ck_assert_int_eq(deflateInit2(&zs, 9, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY), Z_OK);
  for (int i = 0; i < 300; i++) { /* 300 MiB of zeros > PPROF_MAX_DECODED */
    zs.next_in = zeros;
    zs.avail_in = sizeof zeros;
    zs.next_out = out + used;
    zs.avail_out = (uInt)(cap - used);
    deflate(&zs, i == 299 ? Z_FINISH : Z_NO_FLUSH);
    used = cap - zs.avail_out;
  }
  deflateEnd(&zs);
  ck_assert(used < cap);
  pprof_profile *p = NULL;
  ck_assert_int_eq(pprof_decode(out, used, &p, err, sizeof err), -E2BIG);
  ck_assert_ptr_null(p);
  ck_assert_ptr_nonnull(strstr(err, "exceeds"));
  free(out);
}
END_TEST

/* The gzip member gz (len bytes) inflated whole (at most 1 MiB, asserted); its length in *plain_len. */
static unsigned char *gunzip(const unsigned char *gz, size_t len, size_t *plain_len) {
  unsigned char *plain = malloc(1 << 20);
  z_stream zs;
  memset(&zs, 0, sizeof zs);
  ck_assert_ptr_nonnull(plain);
  ck_assert_int_eq(inflateInit2(&zs, 16 + MAX_WBITS), Z_OK);
  zs.next_in = (unsigned char *)gz, zs.avail_in = (uInt)len, zs.next_out = plain, zs.avail_out = 1u << 20;
  ck_assert_int_eq(inflate(&zs, Z_FINISH), Z_STREAM_END);
  *plain_len = zs.total_out;
  inflateEnd(&zs);
  return plain;
}

/* Every truncation point of the gzipped fixture fails (gzip has a length + CRC trailer); every truncation
 * of the plain message either decodes or fails cleanly. */
START_TEST(truncation_corpus) {
  size_t len, fails = 0;
  unsigned char *gz = read_fixture("shop_cpu.pb.gz", &len);
  for (size_t cut = 0; cut < len; cut++) {
    pprof_profile *p = NULL;
    unsigned char *copy = malloc(cut ? cut : 1); /* exact-size copies so ASan sees overreads */
    memcpy(copy, gz, cut);
    int rc = pprof_decode(copy, cut, &p, err, sizeof err);
    ck_assert_msg(rc < 0, "truncation at %zu decoded", cut);
    ck_assert(p == NULL && err[0] != '\0');
    free(copy);
  }
  size_t plen;
  unsigned char *plain = gunzip(gz, len, &plen);
  for (size_t cut = 0; cut < plen; cut++) {
    pprof_profile *p = NULL;
    unsigned char *copy = malloc(cut ? cut : 1);
    memcpy(copy, plain, cut);
    int rc = pprof_decode(copy, cut, &p, err, sizeof err);
    if (rc) fails++;
    ck_assert(rc == 0 ? p != NULL : (p == NULL && rc == -PPROF_EFORMAT));
    pprof_free(p);
    free(copy);
  }
  ck_assert_msg(fails > plen * 9 / 10, "only %zu of %lu truncations failed", fails, (unsigned long)plen);
  free(plain);
  free(gz);
}
END_TEST

START_TEST(bitflip_corpus) {
  const char *names[] = {"shop_cpu.pb.gz", "shop_mutex.pb.gz"};
  unsigned seed = 12345;
  size_t ok = 0, bad = 0;
  for (size_t k = 0; k < 2; k++) {
    size_t len;
    unsigned char *gz = read_fixture(names[k], &len);
    pprof_profile *orig = NULL;
    ck_assert_int_eq(pprof_decode(gz, len, &orig, err, sizeof err), 0);
    for (int iter = 0; iter < 1500; iter++) {
      unsigned char *copy = malloc(len);
      memcpy(copy, gz, len);
      int flips = 1 + (int)(rand_r(&seed) % 4);
      for (int f = 0; f < flips; f++) copy[rand_r(&seed) % len] ^= (unsigned char)(1u << (rand_r(&seed) % 8));
      pprof_profile *p = NULL;
      int rc = pprof_decode(copy, len, &p, err, sizeof err);
      if (rc == 0) {
        ok++;
        pprof_free(p);
      } else {
        bad++;
        ck_assert(p == NULL && err[0]);
      }
      free(copy);
    }
    pprof_free(orig);
    free(gz);
  }
  ck_assert_msg(bad > 2500, "bit flips: %zu decoded, %zu rejected", ok, bad); /* gzip CRC catches most */
}
END_TEST

/* Bit flips inside the protobuf itself (re-gzipped, so the CRC passes): decode or clean error, never a crash.
 */
START_TEST(bitflip_plain_corpus) {
  pprof_profile *cpu = load_fixture("shop_cpu.pb.gz");
  unsigned char *gz = NULL;
  size_t gzlen;
  ck_assert_int_eq(pprof_encode(cpu, &gz, &gzlen), 0);
  size_t plen;
  unsigned char *plain = gunzip(gz, gzlen, &plen);
  unsigned seed = 777;
  size_t bad = 0;
  for (int iter = 0; iter < 3000; iter++) {
    unsigned char *copy = malloc(plen);
    memcpy(copy, plain, plen);
    for (int f = 0; f < 3; f++) copy[rand_r(&seed) % plen] ^= (unsigned char)(1u << (rand_r(&seed) % 8));
    pprof_profile *p = NULL;
    int rc = pprof_decode(copy, plen, &p, err, sizeof err);
    if (rc) bad++;
    ck_assert(rc == 0 || rc == -PPROF_EFORMAT || rc == -E2BIG);
    pprof_free(p);
    free(copy);
  }
  ck_assert(bad > 100); /* some flips must hit an index or a length */
  free(plain);
  free(gz);
  pprof_free(cpu);
}
END_TEST

CHECK_MAIN("pprof", 120, decode_go_cpu, decode_go_mutex, function_totals, round_trip, merge_filter_diff,
           build_and_aggregate, malicious_messages, gzip_bomb_bounded, no_sample_types_empty_sample,
           frame_bomb_bounded, truncation_corpus, bitflip_corpus, bitflip_plain_corpus)
