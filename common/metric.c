/* metric.c - custom metrics (Counter, Gauge, Rate, Trend): recording, exact merge, the aggregates
 * thresholds read, and the JSON forms of intervals.jsonl (exact state) and summary.json (read by people). */
#include "common/metric.h"
#include "common/grow.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char *const kind_names[] = {"", "counter", "gauge", "rate", "trend"};

const char *metric_kind_name(int kind) {
  return kind >= METRIC_COUNTER && kind <= METRIC_TREND ? kind_names[kind] : "?";
}

int metric_kind_parse(const char *name) {
  for (int k = METRIC_COUNTER; name && k <= METRIC_TREND; k++)
    if (!strcmp(kind_names[k], name)) return k;
  return 0;
}

static metric_state *append(metric_state **arr, size_t *n, size_t *cap, const char *name, int kind) {
  metric_state *m;
  if (grow_room(arr, cap, *n + 1, sizeof **arr, 8) < 0) return NULL;
  m = &(*arr)[*n];
  memset(m, 0, sizeof *m);
  snprintf(m->name, sizeof m->name, "%s", name);
  m->kind = kind;
  if (kind == METRIC_TREND && hist_create(&m->values) != 0) return NULL;
  (*n)++;
  return m;
}

metric_state *metric_get(metric_state **arr, size_t *n, size_t *cap, const char *name, int kind,
                         int *kind_clash) {
  char cut[METRIC_NAME_MAX];
  size_t len = strnlen(name, METRIC_NAME_MAX);
  if (len == METRIC_NAME_MAX) { /* cut like the stored copy; a name that fits is compared as it is */
    snprintf(cut, sizeof cut, "%s", name);
    name = cut;
  }
  if (kind_clash) *kind_clash = 0;
  for (size_t i = 0; i < *n; i++) {
    if (strcmp((*arr)[i].name, name)) continue;
    if ((*arr)[i].kind == kind) return &(*arr)[i];
    if (kind_clash) *kind_clash = 1;
    return NULL;
  }
  if (*n >= METRIC_MAX || kind < METRIC_COUNTER || kind > METRIC_TREND) return NULL;
  return append(arr, n, cap, name, kind);
}

static void extremes(metric_state *m, double lo, double hi) {
  if (m->count == 0 || lo < m->min) m->min = lo;
  if (m->count == 0 || hi > m->max) m->max = hi;
}

/* value in thousandths for the histogram, within its range */
static int64_t scaled(double value) {
  double v = value * METRIC_TREND_SCALE;
  if (!(v >= HIST_LOWEST_US)) return HIST_LOWEST_US;
  if (v > (double)HIST_HIGHEST_US) return HIST_HIGHEST_US;
  return (int64_t)llround(v);
}

void metric_record(metric_state *m, double value, int64_t now_ms) {
  if (!isfinite(value)) return;
  switch (m->kind) {
    case METRIC_GAUGE:
      extremes(m, value, value);
      if (m->count == 0 || now_ms >= m->value_ms) m->value = value, m->value_ms = now_ms;
      break;
    case METRIC_RATE:
      m->passes += value != 0;
      break;
    case METRIC_TREND:
      extremes(m, value, value);
      m->sum += value;
      hist_record(m->values, scaled(value));
      break;
    default:
      m->sum += value;
      break;
  }
  m->count++;
}

int metric_merge(metric_state *dst, const metric_state *src) {
  if (dst->kind != src->kind) return -EINVAL;
  if (src->count == 0) return 0;
  if (dst->kind == METRIC_GAUGE && (dst->count == 0 || src->value_ms >= dst->value_ms))
    dst->value = src->value, dst->value_ms = src->value_ms;
  if (dst->kind == METRIC_GAUGE || dst->kind == METRIC_TREND) extremes(dst, src->min, src->max);
  if (dst->kind == METRIC_TREND) hist_add(dst->values, src->values);
  dst->count += src->count;
  dst->passes += src->passes;
  dst->sum += src->sum;
  return 0;
}

void metric_clear(metric_state *m) {
  m->count = m->passes = m->value_ms = 0;
  m->sum = m->value = m->min = m->max = 0;
  if (m->values) hist_reset(m->values);
}

void metric_release(metric_state *m) {
  hist_destroy(m->values);
  m->values = NULL;
}

double metric_percentile(const metric_state *m, double percentile) {
  int64_t v, unit = 1;
  if (!m->values || hist_count(m->values) == 0) return 0;
  v = hist_value_at_percentile(m->values, percentile);
  while (v / unit >= 1000) unit *= 10; /* keep 3 significant digits: the histogram's precision */
  return (double)(v / unit * unit) / METRIC_TREND_SCALE;
}

double metric_aggregate(const metric_state *m, const char *agg) {
  int trend = m->kind == METRIC_TREND, gauge = m->kind == METRIC_GAUGE;
  if (m->count == 0) return NAN;
  if (!strcmp(agg, "count") && m->kind != METRIC_GAUGE) return (double)m->count;
  if (!strcmp(agg, "rate") && m->kind == METRIC_RATE) return (double)m->passes / (double)m->count;
  if (!strcmp(agg, "value") && (gauge || m->kind == METRIC_COUNTER)) return gauge ? m->value : m->sum;
  if (!strcmp(agg, "sum") && (trend || m->kind == METRIC_COUNTER)) return m->sum;
  if ((trend || gauge) && !strcmp(agg, "min")) return m->min;
  if ((trend || gauge) && !strcmp(agg, "max")) return m->max;
  if (trend && (!strcmp(agg, "avg") || !strcmp(agg, "mean"))) return m->sum / (double)m->count;
  if (trend && (!strcmp(agg, "med") || !strcmp(agg, "median"))) return metric_percentile(m, 50);
  if (trend && agg[0] == 'p') {
    char *end;
    double p = strtod(agg + 1 + (agg[1] == '('), &end);
    if (end != agg + 1 + (agg[1] == '(') && p >= 0 && p <= 100) return metric_percentile(m, p);
  }
  return NAN;
}

static void summary_fields(json_t *o, const metric_state *m) {
  static const double pcts[] = {50, 90, 95, 99};
  static const char *const keys[] = {"p50", "p90", "p95", "p99"};
  if (m->kind == METRIC_RATE)
    json_object_set_new(o, "rate", json_real(m->count ? (double)m->passes / (double)m->count : 0));
  if (m->kind != METRIC_TREND) return;
  json_object_set_new(o, "avg", json_real(m->count ? m->sum / (double)m->count : 0));
  for (size_t i = 0; i < sizeof pcts / sizeof *pcts; i++)
    json_object_set_new(o, keys[i], json_real(metric_percentile(m, pcts[i])));
}

json_t *metric_json(const metric_state *m, int summary) {
  json_t *o = json_pack("{s:s,s:s,s:I}", "name", m->name, "kind", metric_kind_name(m->kind), "count",
                        (json_int_t)m->count);
  if (!o) return NULL;
  if (m->kind == METRIC_RATE) json_object_set_new(o, "passes", json_integer(m->passes));
  if (m->kind == METRIC_COUNTER || m->kind == METRIC_TREND) json_object_set_new(o, "sum", json_real(m->sum));
  if (m->kind == METRIC_GAUGE) json_object_set_new(o, "value", json_real(m->value));
  if (m->kind == METRIC_GAUGE && !summary) json_object_set_new(o, "value_ms", json_integer(m->value_ms));
  if (m->kind == METRIC_GAUGE || m->kind == METRIC_TREND) {
    json_object_set_new(o, "min", json_real(m->min));
    json_object_set_new(o, "max", json_real(m->max));
  }
  if (summary) {
    summary_fields(o, m);
  } else if (m->kind == METRIC_TREND) {
    char *b64 = NULL;
    if (hist_encode_base64(m->values, &b64) != 0) {
      json_decref(o);
      return NULL;
    }
    json_object_set_new(o, "hist", json_string(b64));
    free(b64);
  }
  return o;
}

static double num(const json_t *o, const char *key) {
  return json_number_value(json_object_get(o, key));
}

int metric_from_json(metric_state **arr, size_t *n, size_t *cap, const json_t *o) {
  const char *name = json_string_value(json_object_get(o, "name"));
  int kind = metric_kind_parse(json_string_value(json_object_get(o, "kind")));
  metric_state one = {.kind = kind}, *dst;
  const char *b64 = json_string_value(json_object_get(o, "hist"));
  int rc = 0;

  if (!name || !kind || !(dst = metric_get(arr, n, cap, name, kind, NULL))) return -EINVAL;
  one.count = (int64_t)num(o, "count");
  one.passes = (int64_t)num(o, "passes");
  one.sum = num(o, "sum");
  one.value = num(o, "value");
  one.value_ms = (int64_t)num(o, "value_ms");
  one.min = num(o, "min");
  one.max = num(o, "max");
  if (kind == METRIC_TREND && (!b64 || hist_decode_base64(b64, strlen(b64), &one.values) != 0))
    return -EINVAL;
  rc = metric_merge(dst, &one);
  metric_release(&one);
  return rc;
}
