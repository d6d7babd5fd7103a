/* msg.c - msgpack encoding of struct msg, and a decoder that treats every byte as hostile: the
 * structure is bounded before msgpack-c sees it (msgguard), then every field is checked for type and size
 * (msgfield). */
#include "common/msg.h"

#include "common/msgfield.h"
#include "common/msgguard.h"
#include "common/msgtag.h"

#include <errno.h>
#include <msgpack.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/phases.h"

static const char *const type_names[MSG_TYPE_END] = {
    NULL, "hello", "assign", "ready", "start", "stats", "heartbeat", "stop", "quit", "error", "resend",
};

const char *msg_type_name(int type) {
  if (type <= 0 || type >= MSG_TYPE_END) return "unknown";
  return type_names[type];
}

void msg_init(msg *m, int type) {
  memset(m, 0, sizeof *m);
  m->type = type;
  m->version = MSG_VERSION;
}

void msg_free(msg *m) {
  if (!m) return;
  if (m->type == MSG_ASSIGN) free(m->u.assign.scenario_source);
  if (m->type == MSG_STATS) stats_destroy(m->u.stats);
  memset(m, 0, sizeof *m);
}

/* --- encoding ------------------------------------------------------------------------------ */

/* Every pack call's status is OR-ed into rc, so one check at the end catches a failed write. */
typedef struct enc {
  msgpack_packer pk;
  int rc;
} enc;

static void put_key(enc *e, const char *key) {
  e->rc |= msgpack_pack_str_with_body(&e->pk, key, strlen(key));
}

static void put_str(enc *e, const char *value) {
  e->rc |= msgpack_pack_str_with_body(&e->pk, value, strlen(value));
}

static void kv_str(enc *e, const char *key, const char *value) {
  put_key(e, key);
  put_str(e, value);
}

static void kv_i64(enc *e, const char *key, int64_t value) {
  put_key(e, key);
  e->rc |= msgpack_pack_int64(&e->pk, value);
}

static void kv_double(enc *e, const char *key, double value) {
  put_key(e, key);
  e->rc |= msgpack_pack_double(&e->pk, value);
}

static void put_hist(enc *e, const hist *h) {
  uint8_t *buf = NULL;
  size_t len = 0;

  if (!h || hist_encode(h, &buf, &len) < 0) {
    e->rc |= -1;
    return;
  }
  e->rc |= msgpack_pack_bin_with_body(&e->pk, buf, len);
  free(buf);
}

static void put_exemplars(enc *e, const stats_exemplar *x, int n) {
  e->rc |= msgpack_pack_array(&e->pk, (size_t)n);
  for (int i = 0; i < n; i++) {
    e->rc |= msgpack_pack_array(&e->pk, 4);
    put_str(e, x[i].trace_id);
    put_str(e, x[i].span_id);
    e->rc |= msgpack_pack_int64(&e->pk, x[i].latency_us);
    e->rc |= msgpack_pack_int64(&e->pk, x[i].wall_ms);
  }
}

static void put_entry(enc *e, const stats_entry *en) {
  e->rc |= msgpack_pack_map(&e->pk, 13);
  kv_str(e, "name", en->name);
  kv_str(e, "method", en->method);
  kv_i64(e, "count", en->count);
  kv_i64(e, "errors", en->errors);
  put_key(e, "err");
  e->rc |= msgpack_pack_array(&e->pk, STATS_ERR_COUNT);
  for (int k = 0; k < STATS_ERR_COUNT; k++) e->rc |= msgpack_pack_int64(&e->pk, en->err[k]);
  kv_i64(e, "bytes_in", en->bytes_in);
  kv_i64(e, "bytes_out", en->bytes_out);
  put_key(e, "lat");
  put_hist(e, en->latency);
  put_key(e, "svc");
  put_hist(e, en->service);
  put_key(e, "ph");
  e->rc |= phases_pack(&e->pk, en);
  put_key(e, "slow");
  put_exemplars(e, en->slow, en->nslow);
  put_key(e, "typical");
  put_exemplars(e, en->typical, en->ntypical);
  put_key(e, "fail");
  e->rc |= msgpack_pack_array(&e->pk, (size_t)en->nfailures);
  for (int i = 0; i < en->nfailures; i++) {
    e->rc |= msgpack_pack_array(&e->pk, 3);
    e->rc |= msgpack_pack_int64(&e->pk, en->failures[i].kind);
    put_str(e, en->failures[i].message);
    e->rc |= msgpack_pack_int64(&e->pk, en->failures[i].count);
  }
}

/* A custom metric: [name, kind, count, passes, sum, value, value_ms, min, max, trend histogram or nil]. */
static void put_metric(enc *e, const metric_state *m) {
  const double reals[] = {m->sum, m->value};
  e->rc |= msgpack_pack_array(&e->pk, 10);
  put_str(e, m->name);
  e->rc |= msgpack_pack_int64(&e->pk, m->kind);
  e->rc |= msgpack_pack_int64(&e->pk, m->count);
  e->rc |= msgpack_pack_int64(&e->pk, m->passes);
  for (int i = 0; i < 2; i++) e->rc |= msgpack_pack_double(&e->pk, reals[i]);
  e->rc |= msgpack_pack_int64(&e->pk, m->value_ms);
  e->rc |= msgpack_pack_double(&e->pk, m->min);
  e->rc |= msgpack_pack_double(&e->pk, m->max);
  if (m->kind == METRIC_TREND)
    put_hist(e, m->values);
  else
    e->rc |= msgpack_pack_nil(&e->pk);
}

/* "tagsets" and "tagged" (common/msgtag.h). */
static void put_tagged(enc *e, const stats_interval *s) {
  uint32_t *ids = calloc(s->ntagged ? s->ntagged : 1, sizeof *ids);
  if (!ids) {
    e->rc |= -1;
    return;
  }
  put_key(e, "tagsets");
  e->rc |= msgtag_pack_sets(&e->pk, s, ids);
  put_key(e, "tagged");
  e->rc |= msgtag_pack_series(&e->pk, s, ids);
  free(ids);
}

static void put_interval(enc *e, const stats_interval *s) {
  e->rc |= msgpack_pack_map(&e->pk, 12);
  kv_i64(e, "start_ms", s->start_ms);
  kv_i64(e, "interval_ms", s->interval_ms);
  kv_i64(e, "users", s->users);
  kv_double(e, "rate", s->rate);
  kv_i64(e, "iterations", s->iterations);
  kv_i64(e, "dropped", s->dropped);
  kv_i64(e, "new_conns", s->new_conns);
  put_key(e, "entries");
  e->rc |= msgpack_pack_array(&e->pk, s->nentries);
  for (size_t i = 0; i < s->nentries; i++) put_entry(e, &s->entries[i]);
  put_key(e, "checks");
  e->rc |= msgpack_pack_array(&e->pk, s->nchecks);
  for (size_t i = 0; i < s->nchecks; i++) {
    e->rc |= msgpack_pack_array(&e->pk, 3);
    put_str(e, s->checks[i].name);
    e->rc |= msgpack_pack_int64(&e->pk, s->checks[i].passes);
    e->rc |= msgpack_pack_int64(&e->pk, s->checks[i].fails);
  }
  put_key(e, "metrics");
  e->rc |= msgpack_pack_array(&e->pk, s->nmetrics);
  for (size_t i = 0; i < s->nmetrics; i++) put_metric(e, &s->metrics[i]);
  put_tagged(e, s);
}

static void put_assign(enc *e, const msg_assign *a) {
  kv_str(e, "name", a->scenario_name);
  put_key(e, "src");
  e->rc |= msgpack_pack_bin_with_body(&e->pk, a->scenario_source ? a->scenario_source : "", a->scenario_len);
  put_key(e, "stages");
  e->rc |= msgpack_pack_array(&e->pk, a->nstages);
  for (size_t i = 0; i < a->nstages; i++) {
    e->rc |= msgpack_pack_array(&e->pk, 2);
    e->rc |= msgpack_pack_int64(&e->pk, a->stages[i].duration_ns);
    e->rc |= msgpack_pack_double(&e->pk, a->stages[i].target);
  }
  kv_i64(e, "max_vus", a->max_vus);
  kv_double(e, "spawn_rate", a->spawn_rate);
  kv_i64(e, "start", a->start_wall_ns);
  kv_i64(e, "vu_base", a->vu_id_base);
  put_key(e, "slice");
  e->rc |= msgpack_pack_array(&e->pk, 3);
  e->rc |= msgpack_pack_int64(&e->pk, a->slice_before);
  e->rc |= msgpack_pack_int64(&e->pk, a->slice_weight);
  e->rc |= msgpack_pack_int64(&e->pk, a->slice_wsum);
  kv_i64(e, "threads", a->threads);
  put_key(e, "exec");
  e->rc |= a->allow_exec ? msgpack_pack_true(&e->pk) : msgpack_pack_false(&e->pk);
}

/* Types that carry "n" (msg.stats_no) when it is set. */
static int numbered(const msg *m) {
  return m->stats_no != 0 &&
         (m->type == MSG_STATS || m->type == MSG_HEARTBEAT || m->type == MSG_QUIT || m->type == MSG_RESEND);
}

/* Keys each type adds to the common five. */
static size_t body_keys(int type) {
  switch (type) {
    case MSG_HELLO:
      return 4;
    case MSG_ASSIGN:
      return 10;
    case MSG_START:
      return 1;
    case MSG_STATS:
      return 1;
    case MSG_HEARTBEAT:
      return 4;
    case MSG_ERROR:
      return 2;
    default:
      return 0;
  }
}

static void put_body(enc *e, const msg *m) {
  switch (m->type) {
    case MSG_HELLO:
      kv_str(e, "host", m->u.hello.hostname);
      kv_i64(e, "cores", m->u.hello.cores);
      kv_i64(e, "threads", m->u.hello.threads);
      kv_str(e, "ver", m->u.hello.version);
      break;
    case MSG_ASSIGN:
      put_assign(e, &m->u.assign);
      break;
    case MSG_START:
      kv_i64(e, "start", m->u.start_wall_ns);
      break;
    case MSG_STATS:
      put_key(e, "iv");
      put_interval(e, m->u.stats);
      break;
    case MSG_HEARTBEAT:
      kv_i64(e, "sent", m->u.heartbeat.sent_wall_ns);
      kv_i64(e, "echo", m->u.heartbeat.echo_wall_ns);
      kv_i64(e, "recv", m->u.heartbeat.recv_wall_ns);
      kv_i64(e, "cpu", m->u.heartbeat.cpu_permille);
      break;
    case MSG_ERROR:
      kv_i64(e, "code", m->u.error.code);
      kv_str(e, "msg", m->u.error.message);
      break;
    default:
      break;
  }
}

#define TERMINATED(field) (memchr((field), 0, sizeof(field)) != NULL)

/* An interval the decoder would accept: counts within caps, strings terminated, histograms present. */
static int interval_ok(const stats_interval *s) {
  if (!s || s->nentries > STATS_MAX_NAMES || s->nchecks > STATS_MAX_NAMES) return 0;
  for (size_t i = 0; i < s->nentries; i++) {
    const stats_entry *e = &s->entries[i];
    if (!TERMINATED(e->name) || !TERMINATED(e->method) || !e->latency || !e->service) return 0;
    if (e->nslow < 0 || e->nslow > STATS_EXEMPLARS || e->ntypical < 0 || e->ntypical > STATS_EXEMPLARS ||
        e->nfailures < 0 || e->nfailures > STATS_FAILURES)
      return 0;
  }
  for (size_t i = 0; i < s->nchecks; i++)
    if (!TERMINATED(s->checks[i].name)) return 0;
  if (s->nmetrics > METRIC_MAX || s->ntagged > STATS_MAX_TAGGED) return 0;
  for (size_t i = 0; i < s->ntagged; i++)
    if (s->tagged[i].entry >= s->nentries || !s->tagged[i].latency || !TERMINATED(s->tagged[i].tags))
      return 0;
  for (size_t i = 0; i < s->nmetrics; i++)
    if (!TERMINATED(s->metrics[i].name) || (s->metrics[i].kind == METRIC_TREND && !s->metrics[i].values))
      return 0;
  return 1;
}

/* The fixed-size strings of m must be NUL-terminated and within their caps before they are sent. */
static int encodable(const msg *m) {
  if (!m || m->type <= 0 || m->type >= MSG_TYPE_END) return 0;
  if (!TERMINATED(m->worker_id) || !TERMINATED(m->run_id)) return 0;
  const msg_assign *a = &m->u.assign;
  switch (m->type) {
    case MSG_STATS:
      return interval_ok(m->u.stats);
    case MSG_HELLO:
      return TERMINATED(m->u.hello.hostname) && TERMINATED(m->u.hello.version);
    case MSG_ERROR:
      return TERMINATED(m->u.error.message);
    case MSG_ASSIGN:
      return a->scenario_len <= MSG_SCENARIO_MAX && a->nstages <= OPTIONS_MAX_STAGES &&
             (a->scenario_source || a->scenario_len == 0) && TERMINATED(a->scenario_name);
    default:
      return 1;
  }
}

int msg_encode(const msg *m, uint8_t **buf, size_t *len) {
  msgpack_sbuffer sbuf;
  enc e;

  if (!buf || !len || !encodable(m)) return -EINVAL;
  msgpack_sbuffer_init(&sbuf);
  msgpack_packer_init(&e.pk, &sbuf, msgpack_sbuffer_write);
  e.rc = msgpack_pack_map(&e.pk, 5 + body_keys(m->type) + (numbered(m) ? 1 : 0));
  kv_str(&e, "t", type_names[m->type]);
  kv_i64(&e, "v", MSG_VERSION);
  kv_str(&e, "w", m->worker_id);
  put_key(&e, "s");
  e.rc |= msgpack_pack_uint64(&e.pk, m->seq);
  kv_str(&e, "r", m->run_id);
  if (numbered(m)) {
    put_key(&e, "n");
    e.rc |= msgpack_pack_uint64(&e.pk, m->stats_no);
  }
  put_body(&e, m);
  if (e.rc != 0) {
    msgpack_sbuffer_destroy(&sbuf);
    return -ENOMEM;
  }
  *len = sbuf.size;
  *buf = (uint8_t *)msgpack_sbuffer_release(&sbuf);
  return 0;
}

/* --- decoding -------------------------------------------------------------------------------- */

/* Decode a histogram field into dst, an empty histogram of an entry being built. */
static void get_hist(msgfield *d, const msgpack_object *map, const char *key, hist *dst) {
  const msgpack_object *o = msgfield_get(d, map, key);

  if (!o) return;
  if (o->type != MSGPACK_OBJECT_BIN) {
    msgfield_fail(d, -EPROTO, "field '%s' is not binary", key);
    return;
  }
  int rc = hist_decode_add(dst, (const uint8_t *)o->via.bin.ptr, o->via.bin.size);
  if (rc < 0) msgfield_fail(d, rc == -ENOMEM ? rc : -EPROTO, "field '%s': bad histogram", key);
}

/* The optional field "ph" (timing phases; absent from a peer that measures none) into e. */
static void get_phases(msgfield *d, const msgpack_object *map, stats_entry *e) {
  char why[128];
  int seen = 0;
  for (uint32_t i = 0; i < map->via.map.size && !d->rc; i++) {
    const msgpack_object *k = &map->via.map.ptr[i].key;
    if (k->type != MSGPACK_OBJECT_STR || k->via.str.size != 2 || memcmp(k->via.str.ptr, "ph", 2)) continue;
    int rc = seen++ ? msgfield_fail(d, -EPROTO, "duplicate field 'ph'")
                    : phases_unpack(&map->via.map.ptr[i].val, e, why, sizeof why);
    if (rc < 0) msgfield_fail(d, rc, "%s", why);
  }
}

static int get_exemplars(msgfield *d, const msgpack_object *map, const char *key, stats_exemplar *x) {
  const msgpack_object *arr = msgfield_array(d, msgfield_get(d, map, key), key, STATS_EXEMPLARS);
  uint32_t n = arr ? arr->via.array.size : 0;

  for (uint32_t i = 0; i < n && !d->rc; i++) {
    const msgpack_object *t = msgfield_tuple(d, &arr->via.array.ptr[i], key, 4);
    if (!t) break;
    msgfield_str(d, &t[0], "trace_id", x[i].trace_id, sizeof x[i].trace_id);
    msgfield_str(d, &t[1], "span_id", x[i].span_id, sizeof x[i].span_id);
    x[i].latency_us = msgfield_i64(d, &t[2], "latency_us");
    x[i].wall_ms = msgfield_i64(d, &t[3], "wall_ms");
  }
  return (int)n;
}

static void get_failures(msgfield *d, const msgpack_object *map, stats_entry *e) {
  const msgpack_object *arr = msgfield_array(d, msgfield_get(d, map, "fail"), "fail", STATS_FAILURES);
  uint32_t n = arr ? arr->via.array.size : 0;

  for (uint32_t i = 0; i < n && !d->rc; i++) {
    stats_failure *f = &e->failures[i];
    const msgpack_object *t = msgfield_tuple(d, &arr->via.array.ptr[i], "fail", 3);
    if (!t) break;
    int64_t kind = msgfield_i64(d, &t[0], "fail.kind");
    if (kind < STATS_ERR_FIRST || kind >= STATS_ERR_COUNT)
      msgfield_fail(d, -EPROTO, "failure kind %lld unknown", (long long)kind);
    f->kind = (int)kind;
    msgfield_str(d, &t[1], "fail.message", f->message, sizeof f->message);
    f->count = msgfield_count(d, &t[2], "fail.count");
  }
  e->nfailures = (int)n;
}

static void get_counters(msgfield *d, const msgpack_object *map, stats_entry *e) {
  const msgpack_object *err = msgfield_array(d, msgfield_get(d, map, "err"), "err", STATS_ERR_COUNT);

  e->count = msgfield_count(d, msgfield_get(d, map, "count"), "count");
  e->errors = msgfield_count(d, msgfield_get(d, map, "errors"), "errors");
  e->bytes_in = msgfield_count(d, msgfield_get(d, map, "bytes_in"), "bytes_in");
  e->bytes_out = msgfield_count(d, msgfield_get(d, map, "bytes_out"), "bytes_out");
  if (err && err->via.array.size != STATS_ERR_COUNT)
    msgfield_fail(d, -EPROTO, "field 'err' has %u categories, expected %d", err->via.array.size,
                  STATS_ERR_COUNT);
  for (int k = 0; k < STATS_ERR_COUNT && err && !d->rc; k++)
    e->err[k] = msgfield_count(d, &err->via.array.ptr[k], "err");
  if (e->err[STATS_ERR_NONE] && !d->rc) msgfield_fail(d, -EPROTO, "field 'err' counts errors of kind none");
}

static void get_entry(msgfield *d, const msgpack_object *o, stats_interval *s) {
  char name[STATS_NAME_MAX], method[16];
  const msgpack_object *map = msgfield_map(d, o, "entries");

  if (!map) return;
  msgfield_get_str(d, map, "name", name, sizeof name);
  msgfield_get_str(d, map, "method", method, sizeof method);
  if (d->rc) return;
  if (stats_entry_find(s, name)) {
    msgfield_fail(d, -EPROTO, "entry '%s' appears twice", name);
    return;
  }
  stats_entry *e = stats_entry_get(s, name, method);
  if (!e) {
    if (s->nentries >= STATS_MAX_NAMES - 1)
      msgfield_fail(d, -E2BIG, "more than %d request names", STATS_MAX_NAMES - 1);
    else
      msgfield_fail(d, -ENOMEM, "out of memory for entry '%s'", name);
    return;
  }
  get_counters(d, map, e);
  get_hist(d, map, "lat", e->latency);
  get_hist(d, map, "svc", e->service);
  get_phases(d, map, e);
  e->nslow = get_exemplars(d, map, "slow", e->slow);
  e->ntypical = get_exemplars(d, map, "typical", e->typical);
  get_failures(d, map, e);
}

static void get_checks(msgfield *d, const msgpack_object *map, stats_interval *s) {
  const msgpack_object *arr = msgfield_array(d, msgfield_get(d, map, "checks"), "checks", STATS_MAX_NAMES);
  uint32_t n = arr ? arr->via.array.size : 0;
  char name[STATS_NAME_MAX];

  for (uint32_t i = 0; i < n && !d->rc; i++) {
    const msgpack_object *t = msgfield_tuple(d, &arr->via.array.ptr[i], "checks", 3);
    if (!t) break;
    msgfield_str(d, &t[0], "check.name", name, sizeof name);
    if (d->rc) break;
    stats_check *c = stats_check_get(s, name);
    if (!c) {
      msgfield_fail(d, -ENOMEM, "out of memory for check '%s'", name);
      break;
    }
    c->passes += msgfield_count(d, &t[1], "check.passes");
    c->fails += msgfield_count(d, &t[2], "check.fails");
  }
}

/* One [name, kind, count, passes, sum, value, value_ms, min, max, hist] (put_metric) added to s. */
static void get_metric(msgfield *d, const msgpack_object *o, stats_interval *s) {
  const msgpack_object *t = msgfield_tuple(d, o, "metrics", 10);
  char name[METRIC_NAME_MAX];
  metric_state one = {0}, *m;

  if (!t) return;
  msgfield_str(d, &t[0], "metric.name", name, sizeof name);
  one.kind = (int)msgfield_count(d, &t[1], "metric.kind");
  if (!d->rc && (one.kind < METRIC_COUNTER || one.kind > METRIC_TREND))
    msgfield_fail(d, -EPROTO, "metric '%s': unknown kind", name);
  if (!d->rc && one.kind == METRIC_TREND && t[9].type != MSGPACK_OBJECT_BIN)
    msgfield_fail(d, -EPROTO, "metric '%s': no histogram", name);
  if (d->rc) return;
  one.count = msgfield_count(d, &t[2], "metric.count");
  one.passes = msgfield_count(d, &t[3], "metric.passes");
  one.sum = msgfield_double(d, &t[4], "metric.sum");
  one.value = msgfield_double(d, &t[5], "metric.value");
  one.value_ms = msgfield_i64(d, &t[6], "metric.value_ms");
  one.min = msgfield_double(d, &t[7], "metric.min");
  one.max = msgfield_double(d, &t[8], "metric.max");
  if (!d->rc && one.kind == METRIC_TREND &&
      hist_decode((const uint8_t *)t[9].via.bin.ptr, t[9].via.bin.size, &one.values) < 0)
    msgfield_fail(d, -EPROTO, "metric '%s': bad histogram", name);
  if (!d->rc && (!(m = stats_metric_get(s, name, one.kind, NULL)) || metric_merge(m, &one) < 0))
    msgfield_fail(d, -EPROTO, "metric '%s': too many metrics or a kind clash", name);
  metric_release(&one);
}

/* "metrics" is optional: a worker built before custom metrics sends none. */
static void get_metrics(msgfield *d, const msgpack_object *map, stats_interval *s) {
  for (uint32_t i = 0; i < map->via.map.size; i++) {
    const msgpack_object *k = &map->via.map.ptr[i].key;
    if (k->type != MSGPACK_OBJECT_STR || k->via.str.size != 7 || memcmp(k->via.str.ptr, "metrics", 7))
      continue;
    const msgpack_object *arr = msgfield_array(d, &map->via.map.ptr[i].val, "metrics", METRIC_MAX);
    for (uint32_t j = 0; arr && j < arr->via.array.size && !d->rc; j++)
      get_metric(d, &arr->via.array.ptr[j], s);
    return;
  }
}

/* "tagsets" and "tagged" are optional as a pair: a worker built before tags sends neither. */
static void get_tagged(msgfield *d, const msgpack_object *map, stats_interval *s) {
  const msgpack_object *sets = NULL, *series = NULL;
  for (uint32_t i = 0; i < map->via.map.size; i++) {
    const msgpack_object *k = &map->via.map.ptr[i].key;
    if (k->type != MSGPACK_OBJECT_STR) continue;
    if (k->via.str.size == 7 && !memcmp(k->via.str.ptr, "tagsets", 7)) sets = &map->via.map.ptr[i].val;
    if (k->via.str.size == 6 && !memcmp(k->via.str.ptr, "tagged", 6)) series = &map->via.map.ptr[i].val;
  }
  if (!sets && !series) return;
  if (!sets || !series) {
    msgfield_fail(d, -EPROTO, "field 'tagsets' comes with 'tagged'");
    return;
  }
  int rc = msgtag_unpack(sets, series, s, d->err, d->errlen);
  if (rc < 0 && !d->rc) d->rc = rc;
}

static void get_interval(msgfield *d, const msgpack_object *top, msg *out) {
  const msgpack_object *map = msgfield_map(d, msgfield_get(d, top, "iv"), "iv");
  stats_interval *s = NULL;

  if (!map) return;
  if (stats_create(&s, 0, 0) < 0) {
    msgfield_fail(d, -ENOMEM, "out of memory");
    return;
  }
  out->u.stats = s; /* owned from here; msg_free releases it on failure */
  s->start_ms = msgfield_get_i64(d, map, "start_ms");
  s->interval_ms = msgfield_count(d, msgfield_get(d, map, "interval_ms"), "interval_ms");
  s->users = msgfield_count(d, msgfield_get(d, map, "users"), "users");
  s->rate = msgfield_double(d, msgfield_get(d, map, "rate"), "rate");
  s->iterations = msgfield_count(d, msgfield_get(d, map, "iterations"), "iterations");
  s->dropped = msgfield_count(d, msgfield_get(d, map, "dropped"), "dropped");
  s->new_conns = msgfield_count(d, msgfield_get(d, map, "new_conns"), "new_conns");
  const msgpack_object *arr = msgfield_array(d, msgfield_get(d, map, "entries"), "entries", STATS_MAX_NAMES);
  for (uint32_t i = 0; arr && i < arr->via.array.size && !d->rc; i++) get_entry(d, &arr->via.array.ptr[i], s);
  get_checks(d, map, s);
  get_metrics(d, map, s);
  if (!d->rc) get_tagged(d, map, s);
}

static void get_source(msgfield *d, const msgpack_object *map, msg_assign *a) {
  const msgpack_object *o = msgfield_get(d, map, "src");

  if (!o) return;
  if (o->type != MSGPACK_OBJECT_BIN && o->type != MSGPACK_OBJECT_STR) {
    msgfield_fail(d, -EPROTO, "field 'src' is not binary");
    return;
  }
  if (o->via.bin.size > MSG_SCENARIO_MAX) {
    msgfield_fail(d, -E2BIG, "scenario is %u bytes, at most %u allowed", o->via.bin.size, MSG_SCENARIO_MAX);
    return;
  }
  a->scenario_source = malloc((size_t)o->via.bin.size + 1);
  if (!a->scenario_source) {
    msgfield_fail(d, -ENOMEM, "out of memory for the scenario");
    return;
  }
  memcpy(a->scenario_source, o->via.bin.ptr, o->via.bin.size);
  a->scenario_source[o->via.bin.size] = 0;
  a->scenario_len = o->via.bin.size;
}

static void get_assign(msgfield *d, const msgpack_object *map, msg_assign *a) {
  msgfield_get_str(d, map, "name", a->scenario_name, sizeof a->scenario_name);
  get_source(d, map, a);
  const msgpack_object *arr = msgfield_array(d, msgfield_get(d, map, "stages"), "stages", OPTIONS_MAX_STAGES);
  for (uint32_t i = 0; arr && i < arr->via.array.size && !d->rc; i++) {
    const msgpack_object *t = msgfield_tuple(d, &arr->via.array.ptr[i], "stages", 2);
    if (!t) break;
    a->stages[i].duration_ns = msgfield_count(d, &t[0], "stage.duration_ns");
    a->stages[i].target = msgfield_double(d, &t[1], "stage.target");
  }
  a->nstages = arr ? arr->via.array.size : 0;
  a->max_vus = msgfield_count(d, msgfield_get(d, map, "max_vus"), "max_vus");
  a->spawn_rate = msgfield_double(d, msgfield_get(d, map, "spawn_rate"), "spawn_rate");
  a->start_wall_ns = msgfield_get_i64(d, map, "start");
  a->vu_id_base = msgfield_count(d, msgfield_get(d, map, "vu_base"), "vu_base");
  const msgpack_object *sl = msgfield_tuple(d, msgfield_get(d, map, "slice"), "slice", 3); /* absent: none */
  if (sl) {
    a->slice_before = msgfield_count(d, &sl[0], "slice.before");
    a->slice_weight = msgfield_count(d, &sl[1], "slice.weight");
    a->slice_wsum = msgfield_count(d, &sl[2], "slice.wsum");
    if (a->slice_before + a->slice_weight > a->slice_wsum)
      msgfield_fail(d, -EPROTO, "field 'slice' out of range");
  }
  a->threads = msgfield_get_i32(d, map, "threads");
  const msgpack_object *x = msgfield_get(d, map, "exec");
  if (x && x->type != MSGPACK_OBJECT_BOOLEAN) msgfield_fail(d, -EPROTO, "field 'exec' is not a boolean");
  a->allow_exec = x && x->type == MSGPACK_OBJECT_BOOLEAN && x->via.boolean;
}

static void get_body(msgfield *d, const msgpack_object *map, msg *out) {
  switch (out->type) {
    case MSG_HELLO:
      msgfield_get_str(d, map, "host", out->u.hello.hostname, sizeof out->u.hello.hostname);
      out->u.hello.cores = msgfield_get_i32(d, map, "cores");
      out->u.hello.threads = msgfield_get_i32(d, map, "threads");
      msgfield_get_str(d, map, "ver", out->u.hello.version, sizeof out->u.hello.version);
      break;
    case MSG_ASSIGN:
      get_assign(d, map, &out->u.assign);
      break;
    case MSG_START:
      out->u.start_wall_ns = msgfield_get_i64(d, map, "start");
      break;
    case MSG_STATS:
      get_interval(d, map, out);
      break;
    case MSG_HEARTBEAT:
      out->u.heartbeat.sent_wall_ns = msgfield_get_i64(d, map, "sent");
      out->u.heartbeat.echo_wall_ns = msgfield_get_i64(d, map, "echo");
      out->u.heartbeat.recv_wall_ns = msgfield_get_i64(d, map, "recv");
      out->u.heartbeat.cpu_permille = msgfield_get_i32(d, map, "cpu");
      break;
    case MSG_ERROR:
      out->u.error.code = msgfield_get_i32(d, map, "code");
      msgfield_get_str(d, map, "msg", out->u.error.message, sizeof out->u.error.message);
      break;
    default:
      break;
  }
}

/* "t" is a type name or its number. */
static int get_type(msgfield *d, const msgpack_object *map) {
  const msgpack_object *t = msgfield_get(d, map, "t");

  if (!t) return 0;
  if (t->type == MSGPACK_OBJECT_POSITIVE_INTEGER && t->via.u64 > 0 && t->via.u64 < MSG_TYPE_END)
    return (int)t->via.u64;
  if (t->type == MSGPACK_OBJECT_STR)
    for (int i = 1; i < MSG_TYPE_END; i++)
      if (strlen(type_names[i]) == t->via.str.size && !memcmp(type_names[i], t->via.str.ptr, t->via.str.size))
        return i;
  msgfield_fail(d, -EPROTO, "unknown message type");
  return 0;
}

static void get_header(msgfield *d, const msgpack_object *map, msg *out) {
  out->type = get_type(d, map);
  if (d->rc) return;
  const msgpack_object *v = msgfield_get(d, map, "v");
  if (v && (v->type != MSGPACK_OBJECT_POSITIVE_INTEGER || v->via.u64 != MSG_VERSION)) {
    msgfield_fail(d, -EPROTO, "protocol version %lld, this build speaks %d",
                  v->type == MSGPACK_OBJECT_POSITIVE_INTEGER ? (long long)v->via.u64 : -1LL, MSG_VERSION);
    return;
  }
  out->version = MSG_VERSION;
  msgfield_get_str(d, map, "w", out->worker_id, sizeof out->worker_id);
  const msgpack_object *s = msgfield_get(d, map, "s");
  if (s && s->type != MSGPACK_OBJECT_POSITIVE_INTEGER)
    msgfield_fail(d, -EPROTO, "field 's' is not an unsigned integer");
  out->seq = s && s->type == MSGPACK_OBJECT_POSITIVE_INTEGER ? s->via.u64 : 0;
  msgfield_get_str(d, map, "r", out->run_id, sizeof out->run_id);
  const msgpack_object *n = msgfield_find(d, map, "n"); /* optional: unnumbered messages leave it out */
  if (n && n->type != MSGPACK_OBJECT_POSITIVE_INTEGER)
    msgfield_fail(d, -EPROTO, "field 'n' is not an unsigned integer");
  out->stats_no = n && n->type == MSGPACK_OBJECT_POSITIVE_INTEGER ? n->via.u64 : 0;
}

int msg_decode(const uint8_t *buf, size_t len, msg *out, char *err, size_t errlen) {
  msgfield d = {0, err, errlen};
  msgpack_unpacked up;
  size_t pos = 0, off = 0;

  if (err && errlen) err[0] = 0;
  if (!out) return -EINVAL;
  memset(out, 0, sizeof *out);
  if (!buf || len == 0) return msgfield_fail(&d, -EPROTO, "empty message");
  if (!(pos = msgguard_check(buf, len, MSG_MAX_DEPTH)))
    return msgfield_fail(&d, -EPROTO,
                         "malformed msgpack (truncated, oversized count or nested deeper than %d)",
                         MSG_MAX_DEPTH);
  if (pos != len) return msgfield_fail(&d, -EPROTO, "%zu trailing bytes after the message", len - pos);
  msgpack_unpacked_init(&up);
  if (msgpack_unpack_next(&up, (const char *)buf, len, &off) != MSGPACK_UNPACK_SUCCESS || off != len) {
    msgfield_fail(&d, -EPROTO, "msgpack-c rejected the message");
  } else if (up.data.type != MSGPACK_OBJECT_MAP) {
    msgfield_fail(&d, -EPROTO, "message is not a map");
  } else {
    get_header(&d, &up.data, out);
    if (!d.rc) get_body(&d, &up.data, out);
  }
  msgpack_unpacked_destroy(&up);
  if (d.rc) msg_free(out);
  return d.rc;
}
