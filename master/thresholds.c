/* thresholds.c - parse "p99{name=POST /api/orders} < 250ms"-style pass/fail criteria before any load
 * is sent, and evaluate them against the cumulative merged stats (k6's thresholds, exit code 99). */
#include "master/thresholds.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/hist.h"

struct thresholds {
  threshold *items;
  size_t n;
};

static const char metric_help[] =
    "use p50, p90, p95, p99, p99.9 or p(95), max, min, mean, rps, errors, dropped, requests, checks, or a "
    "custom "
    "metric's name and aggregate: cart_size p(95)";

static const char *skip_ws(const char *p) {
  while (isspace((unsigned char)*p)) p++;
  return p;
}

/* Metric word at *p (letters, digits, '.', '_'), advancing p. */
static void read_word(const char **p, char *buf, size_t size) {
  size_t n = 0;
  while ((isalnum((unsigned char)**p) || **p == '.' || **p == '_') && n + 1 < size) buf[n++] = *(*p)++;
  buf[n] = 0;
}

/* Set metric (and percentile) from the word; 0 or -EINVAL. */
static int set_metric(const char *word, threshold *t) {
  static const struct {
    const char *name;
    int metric;
  } names[] = {
      {"max", THRESHOLDS_MAX},
      {"min", THRESHOLDS_MIN},
      {"mean", THRESHOLDS_MEAN},
      {"avg", THRESHOLDS_MEAN},
      {"rps", THRESHOLDS_RPS},
      {"errors", THRESHOLDS_ERR_RATE},
      {"error_rate", THRESHOLDS_ERR_RATE},
      {"dropped", THRESHOLDS_DROPPED},
      {"requests", THRESHOLDS_REQUESTS},
      {"median", THRESHOLDS_PCT},
      {"med", THRESHOLDS_PCT},
      {"checks", THRESHOLDS_CHECKS},
  };
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
    if (strcmp(word, names[i].name) == 0) {
      t->metric = names[i].metric;
      t->percentile = 50;
      return 0;
    }
  }
  if (word[0] == 'p' && isdigit((unsigned char)word[1])) {
    char *end;
    double pct = strtod(word + 1, &end);
    if (*end) return -EINVAL;
    if (strcmp(word, "p999") == 0) pct = 99.9;
    if (strcmp(word, "p9999") == 0) pct = 99.99;
    if (!(pct > 0 && pct <= 100)) return -EINVAL;
    t->metric = THRESHOLDS_PCT;
    t->percentile = pct;
    return 0;
  }
  return -EINVAL;
}

static int read_op(const char **p, int *op) {
  static const struct {
    const char *text;
    int op;
  } ops[] = {{"<=", THRESHOLDS_LE},
             {">=", THRESHOLDS_GE},
             {"==", THRESHOLDS_EQ},
             {"<", THRESHOLDS_LT},
             {">", THRESHOLDS_GT}};
  for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
    size_t len = strlen(ops[i].text);
    if (strncmp(*p, ops[i].text, len) == 0) {
      *op = ops[i].op;
      *p += len;
      return 0;
    }
  }
  return -EINVAL;
}

static bool is_latency(int metric) {
  return metric == THRESHOLDS_PCT || metric == THRESHOLDS_MAX || metric == THRESHOLDS_MIN ||
         metric == THRESHOLDS_MEAN;
}

/* Parse the limit text for t's metric into t->limit; 0 or -EINVAL. */
static int read_limit(const char *text, threshold *t) {
  char *end;
  double v;

  if (is_latency(t->metric)) {
    int64_t ns;
    v = strtod(text, &end);
    if (end == text || !isfinite(v) || v < 0) return -EINVAL;
    if (*skip_ws(end) == 0) {
      t->limit = v; /* bare number: ms */
      return 0;
    }
    if (clock_parse_duration(text, &ns) < 0) return -EINVAL;
    t->limit = clock_ns_to_ms_frac((double)ns);
    return 0;
  }
  if (t->metric == THRESHOLDS_ERR_RATE || t->metric == THRESHOLDS_CHECKS)
    return clock_parse_fraction(text, &t->limit);
  v = strtod(text, &end);
  if (end == text || !isfinite(v) || *skip_ws(end)) return -EINVAL;
  t->limit = v;
  return 0;
}

static int fail_msg(char *err, size_t errlen, const char *expr, const char *what, const char *detail) {
  snprintf(err, errlen, "threshold '%s': %s%s", expr, what, detail);
  return -EINVAL;
}

/* Whether a ',' at p starts the next selector pair ("key=" or "key:" follows), or belongs to a value
 * (a request name may hold a comma: "GET /a,b"). */
static bool next_pair(const char *p) {
  p = skip_ws(p + 1);
  if (!isalpha((unsigned char)*p) && *p != '_') return false;
  while (isalnum((unsigned char)*p) || *p == '_') p++;
  p = skip_ws(p);
  return *p == '=' || *p == ':';
}

/* One pair key=value [key, end) of a selector into t; 0 or -EINVAL. k6 writes a group tag as
 * {group:::a::b} (its group paths start with "::"): that leading "::" is dropped. */
static int read_pair(const char *key, const char *end, threshold *t) {
  const char *sep = key, *value;
  char k[TAGSET_KEY_MAX + 1], v[STATS_NAME_MAX];
  size_t klen, vlen;

  while (sep < end && *sep != '=' && *sep != ':') sep++;
  if (sep == end) return -EINVAL;
  for (klen = (size_t)(sep - key); klen > 0 && isspace((unsigned char)key[klen - 1]);) klen--;
  value = sep + 1;
  if (klen == 0 || klen > TAGSET_KEY_MAX || (vlen = (size_t)(end - value)) == 0 || vlen >= sizeof v)
    return -EINVAL;
  memcpy(k, key, klen);
  k[klen] = 0;
  memcpy(v, value, vlen);
  v[vlen] = 0;
  if (!strcmp(k, "name") || !strcmp(k, "group")) {
    if (t->name[0]) return -EINVAL; /* one name or group */
    t->group = k[0] == 'g';
    if (t->group && !strncmp(v, STATS_GROUP_SEP, strlen(STATS_GROUP_SEP)))
      memmove(v, v + 2, strlen(v + 2) + 1);
    if (!v[0]) return -EINVAL;
    snprintf(t->name, sizeof t->name, "%s", v);
    return 0;
  }
  for (vlen = strlen(v); vlen > 0 && isspace((unsigned char)v[vlen - 1]);) v[--vlen] = 0;
  return tagset_put(t->tags, sizeof t->tags, k, skip_ws(v)) < 0 ? -EINVAL : 0;
}

/* The {pair, pair, ...} selector at *p (p after the metric word); 0 or -EINVAL. */
static int read_selector(const char **p, threshold *t) {
  const char *start, *close, *q;

  if (**p != '{') return 0;
  close = strchr(*p, '}');
  if (!close) return -EINVAL;
  start = skip_ws(*p + 1);
  for (q = start;; q++) {
    if (q == close || (*q == ',' && next_pair(q))) {
      if (read_pair(start, q, t) < 0) return -EINVAL;
      if (q == close) break;
      start = skip_ws(q + 1);
    }
  }
  *p = close + 1;
  return 0;
}

/* k6's spelling -> ours: "http_req_duration{name:x}: p(95) < 500" -> "p95{name:x} < 500",
 * "http_req_failed: rate < 0.01" -> "errors{...} rate < 0.01", "http_reqs: count/rate" -> requests/rps,
 * "dropped_iterations" -> "dropped". Other text is copied as is. */
static void from_k6(const char *expr, char *buf, size_t size) {
  static const char *const metrics[] = {"http_req_duration", "http_req_failed", "http_reqs",
                                        "dropped_iterations"};
  const char *p = skip_ws(expr), *sel = "", *rest;
  size_t m, sel_len = 0;
  char agg[32] = "";

  for (m = 0; m < 4; m++)
    if (strncmp(p, metrics[m], strlen(metrics[m])) == 0 && !isalnum((unsigned char)p[strlen(metrics[m])]) &&
        p[strlen(metrics[m])] != '_')
      break;
  if (m == 4) {
    snprintf(buf, size, "%s", expr);
    return;
  }
  p += strlen(metrics[m]);
  if (*p == '{' && strchr(p, '}')) {
    sel = p;
    sel_len = (size_t)(strchr(p, '}') + 1 - p);
    p += sel_len;
  }
  p = skip_ws(p);
  if (*p == ':') p = skip_ws(p + 1);
  rest = p;
  if (m == 0 && strncmp(p, "p(", 2) == 0 && strchr(p, ')')) {
    snprintf(agg, sizeof agg, "p%.*s", (int)(strchr(p, ')') - (p + 2)), p + 2);
    rest = strchr(p, ')') + 1;
  } else if (m == 0 && (!strncmp(p, "avg", 3) || !strncmp(p, "med", 3) || !strncmp(p, "max", 3) ||
                        !strncmp(p, "min", 3))) {
    snprintf(agg, sizeof agg, "%s",
             !strncmp(p, "avg", 3)   ? "mean"
             : !strncmp(p, "med", 3) ? "p50"
             : p[1] == 'a'           ? "max"
                                     : "min");
    rest = p + 3;
  } else if (m == 1) {
    snprintf(agg, sizeof agg, "errors");
  } else if (m == 2 && (!strncmp(p, "count", 5) || !strncmp(p, "rate", 4))) {
    snprintf(agg, sizeof agg, "%s", p[0] == 'c' ? "requests" : "rps");
    rest = p + (p[0] == 'c' ? 5 : 4);
  } else if (m == 3) {
    snprintf(agg, sizeof agg, "dropped");
  }
  if (!agg[0]) {
    snprintf(buf, size, "%s", expr);
    return;
  }
  snprintf(buf, size, "%s%.*s %s", agg, (int)sel_len, sel, rest);
}

/* k6's bare "p(95) < 200" -> "p95 < 200" in place (only at the start; from_k6 did the rest). */
static void bare_percentile(char *s) {
  char *p = (char *)skip_ws(s), *close = strchr(p, ')');
  if (p[0] != 'p' || p[1] != '(' || !close) return;
  memmove(p + 1, p + 2, (size_t)(close - (p + 2)));
  memmove(close - 1, close + 1, strlen(close + 1) + 1);
}

/* The word between the selector and the operator ("rate", "count"): may change the metric. */
static int apply_aggregate(const char *agg, threshold *t) {
  if (!agg[0]) return 0;
  if (t->metric == THRESHOLDS_ERR_RATE && strcmp(agg, "count") == 0)
    t->metric = THRESHOLDS_ERR_COUNT;
  else if (t->metric == THRESHOLDS_REQUESTS && strcmp(agg, "rate") == 0)
    t->metric = THRESHOLDS_RPS;
  else if (!((t->metric == THRESHOLDS_ERR_RATE || t->metric == THRESHOLDS_CHECKS) &&
             strcmp(agg, "rate") == 0) &&
           !((t->metric == THRESHOLDS_DROPPED || t->metric == THRESHOLDS_REQUESTS) &&
             strcmp(agg, "count") == 0))
    return -EINVAL;
  return 0;
}

/* A custom metric's threshold, "cart_size p(95) < 10" (p after the name): the aggregate, the operator
 * and a number (a rate may be written 5%). 0, or -EINVAL when p does not read as one. */
static int read_custom(const char *word, const char *p, threshold *t) {
  char agg[16];
  if (*p == '{' && (read_selector(&p, t) < 0 || t->name[0] || !t->tags[0])) return -EINVAL; /* tags only */
  p = skip_ws(p);
  if (*p == ':') p = skip_ws(p + 1);
  if (p[0] == 'p' && p[1] == '(' && strchr(p, ')') && strchr(p, ')') - p < 12) {
    snprintf(agg, sizeof agg, "p%.*s", (int)(strchr(p, ')') - p - 2), p + 2);
    p = strchr(p, ')') + 1;
  } else {
    read_word(&p, agg, sizeof agg);
  }
  metric_state probe = {.kind = METRIC_TREND, .count = 1, .values = NULL};
  bool known = !strcmp(agg, "count") || !strcmp(agg, "rate") || !strcmp(agg, "value") ||
               !strcmp(agg, "sum") || !strcmp(agg, "min") || !strcmp(agg, "max") || !strcmp(agg, "avg") ||
               !strcmp(agg, "mean") || !strcmp(agg, "med") || !strcmp(agg, "median") ||
               !isnan(metric_aggregate(&probe, agg));
  p = skip_ws(p);
  if (!known || read_op(&p, &t->op) < 0) return -EINVAL;
  p = skip_ws(p);
  t->metric = THRESHOLDS_CUSTOM;
  if (!strcmp(agg, "rate") ? clock_parse_fraction(p, &t->limit) < 0 : read_limit(p, t) < 0) {
    t->metric = THRESHOLDS_PCT;
    return -EINVAL;
  }
  snprintf(t->name, sizeof t->name, "%s", word);
  snprintf(t->aggregate, sizeof t->aggregate, "%s", agg);
  return 0;
}

int thresholds_parse_one(const char *expr, threshold *out, char *err, size_t errlen) {
  char ours[512];
  const char *p = ours;
  char word[64], agg[16];

  memset(out, 0, sizeof *out);
  snprintf(out->expr, sizeof out->expr, "%s", expr);
  from_k6(expr, ours, sizeof ours);
  bare_percentile(ours);
  p = skip_ws(ours);
  out->value = NAN;
  read_word(&p, word, sizeof word);
  if (!word[0]) return fail_msg(err, errlen, expr, "no metric at the start; ", metric_help);
  if (set_metric(word, out) < 0 && read_custom(word, p, out) == 0) return 0;
  if (set_metric(word, out) < 0) {
    char what[128];
    snprintf(what, sizeof what, "unknown metric '%s' (", word);
    fail_msg(err, errlen, expr, what, metric_help);
    strncat(err, ")", errlen - strlen(err) - 1);
    return -EINVAL;
  }
  if (read_selector(&p, out) < 0)
    return fail_msg(err, errlen, expr,
                    "bad selector; write {name=REQUEST NAME}, {group=GROUP NAME} and/or tags {kind=api, "
                    "scenario=buy} (a tag key is letters, digits and _; a value has none of , = { })",
                    "");
  if ((out->group || out->tags[0]) && (out->metric == THRESHOLDS_CHECKS || out->metric == THRESHOLDS_DROPPED))
    return fail_msg(err, errlen, expr,
                    "{group=...} and tags select requests; checks and dropped have neither", "");
  p = skip_ws(p);
  if (*p == ':') p = skip_ws(p + 1);
  read_word(&p, agg, sizeof agg);
  if (apply_aggregate(agg, out) < 0)
    return fail_msg(err, errlen, expr, "unexpected word before the operator: ", agg);
  p = skip_ws(p);
  if (read_op(&p, &out->op) < 0)
    return fail_msg(err, errlen, expr, "missing operator; use <, <=, >, >= or ==", "");
  p = skip_ws(p);
  if (read_limit(p, out) < 0)
    return fail_msg(err, errlen, expr, "bad value; ",
                    is_latency(out->metric) ? "write a duration like 250ms, 1.5s or a number of ms"
                    : out->metric == THRESHOLDS_ERR_RATE || out->metric == THRESHOLDS_CHECKS
                        ? "write a rate like 1% or 0.01"
                        : "write a number");
  return 0;
}

int thresholds_parse_list(const char *const *exprs, const bool *abort_on_fail, size_t n, thresholds **out,
                          char *err, size_t errlen) {
  thresholds *t = calloc(1, sizeof *t);
  int rc = 0;

  if (!t || (n && !(t->items = calloc(n, sizeof *t->items)))) {
    free(t);
    return -ENOMEM;
  }
  for (size_t i = 0; i < n && rc == 0; i++) {
    rc = thresholds_parse_one(exprs[i], &t->items[i], err, errlen);
    t->items[i].abort_on_fail = abort_on_fail && abort_on_fail[i];
    t->n = i + 1;
  }
  if (rc < 0) {
    thresholds_destroy(t);
    return rc;
  }
  *out = t;
  return 0;
}

int thresholds_parse(const options *o, thresholds **out, char *err, size_t errlen) {
  const char *exprs[OPTIONS_MAX_THRESHOLDS] = {0};
  bool aborts[OPTIONS_MAX_THRESHOLDS] = {0};
  size_t n = o ? o->nthresholds : 0;

  if (n > OPTIONS_MAX_THRESHOLDS) n = OPTIONS_MAX_THRESHOLDS;
  int rc;

  for (size_t i = 0; i < n; i++) {
    exprs[i] = o->thresholds[i].expr;
    aborts[i] = o->thresholds[i].abort_on_fail != 0;
  }
  rc = thresholds_parse_list(exprs, aborts, n, out, err, errlen);
  for (size_t i = 0; rc == 0 && i < n; i++) (*out)->items[i].delay_abort_ns = o->thresholds[i].delay_abort_ns;
  return rc;
}

void thresholds_destroy(thresholds *t) {
  if (!t) return;
  free(t->items);
  free(t);
}

size_t thresholds_count(const thresholds *t) {
  return t ? t->n : 0;
}
const threshold *thresholds_get(const thresholds *t, size_t i) {
  return t && i < t->n ? &t->items[i] : NULL;
}

/* Fraction of passed checks (one named check, or all); NaN when none ran. */
static double check_rate(const threshold *t, const stats_interval *cum) {
  int64_t passes = 0, fails = 0;
  for (size_t i = 0; i < cum->nchecks; i++) {
    if (t->name[0] && strcmp(t->name, cum->checks[i].name) != 0) continue;
    passes += cum->checks[i].passes;
    fails += cum->checks[i].fails;
  }
  return passes + fails ? (double)passes / (double)(passes + fails) : NAN;
}

/* m is a tagged series NAME{tags} (vu.c's l_metric) of metric name whose tags hold every pair of filter. */
static bool series_of(const metric_state *m, const char *name, const char *filter) {
  char tags[METRIC_NAME_MAX];
  size_t len = strlen(name), mlen = strlen(m->name);
  if (strncmp(m->name, name, len) || m->name[len] != '{' || m->name[mlen - 1] != '}') return false;
  snprintf(tags, sizeof tags, "%.*s", (int)(mlen - len - 2), m->name + len + 1);
  return tagset_contains(tags, filter);
}

/* A custom metric's aggregate: the metric, or with tags its series that carry them merged. NaN = no data. */
static double custom_value(const threshold *t, const stats_interval *cum) {
  metric_state *acc = NULL, *arr = NULL;
  size_t n = 0, cap = 0;
  double v;
  for (size_t i = 0; i < cum->nmetrics; i++) {
    const metric_state *m = &cum->metrics[i];
    if (!t->tags[0] && !strcmp(m->name, t->name)) return metric_aggregate(m, t->aggregate);
    if (!t->tags[0] || !series_of(m, t->name, t->tags)) continue;
    if (!acc && !(acc = metric_get(&arr, &n, &cap, t->name, m->kind, NULL))) break;
    metric_merge(acc, m);
  }
  v = acc ? metric_aggregate(acc, t->aggregate) : NAN;
  for (size_t i = 0; i < n; i++) metric_release(&arr[i]);
  free(arr);
  return v;
}

/* e is one of the requests t's name or group selects (all when it has neither). */
static bool selected(const threshold *t, const stats_entry *e) {
  return !t->name[0] || (t->group ? stats_name_in_group(e->name, t->name) : !strcmp(t->name, e->name));
}

/* Value of t's metric over cum (NaN when the named request never appeared). */
static double measure(const threshold *t, const stats_interval *cum, double duration_s) {
  int64_t count = 0, errors = 0;
  bool found = false;
  hist *h = NULL;
  double v = NAN;

  if (t->metric == THRESHOLDS_DROPPED) return (double)cum->dropped;
  if (t->metric == THRESHOLDS_CHECKS) return check_rate(t, cum);
  if (t->metric == THRESHOLDS_CUSTOM) return custom_value(t, cum);
  if (is_latency(t->metric) && hist_create(&h) < 0) return NAN;
  for (size_t i = 0; t->tags[0] && i < cum->ntagged; i++) { /* a tag selector: the tagged series */
    const stats_tagged *g = &cum->tagged[i];
    if (!tagset_contains(g->tags, t->tags) || g->entry >= cum->nentries ||
        !selected(t, &cum->entries[g->entry]))
      continue;
    found = true;
    count += g->count;
    errors += g->errors;
    if (h) hist_add(h, g->latency);
  }
  for (size_t i = 0; !t->tags[0] && i < cum->nentries; i++) {
    const stats_entry *e = &cum->entries[i];
    if (!selected(t, e)) continue;
    found = true;
    count += e->count;
    errors += e->errors;
    if (h && e->latency) hist_add(h, e->latency);
  }
  if (!found && (t->name[0] || t->tags[0])) goto out;
  switch (t->metric) {
    case THRESHOLDS_PCT:
      v = hist_pct_ms(h, t->percentile);
      break;
    case THRESHOLDS_MAX:
      v = clock_us_to_ms((double)hist_max(h));
      break;
    case THRESHOLDS_MIN:
      v = clock_us_to_ms((double)hist_min(h));
      break;
    case THRESHOLDS_MEAN:
      v = hist_count(h) ? clock_us_to_ms(hist_mean(h)) : 0;
      break;
    case THRESHOLDS_RPS:
      v = duration_s > 0 ? (double)count / duration_s : 0;
      break;
    case THRESHOLDS_ERR_RATE:
      v = count ? (double)errors / (double)count : 0;
      break;
    case THRESHOLDS_ERR_COUNT:
      v = (double)errors;
      break;
    case THRESHOLDS_REQUESTS:
      v = (double)count;
      break;
    default:
      break;
  }
out:
  if (h) hist_destroy(h);
  return v;
}

static bool compare(double v, int op, double limit) {
  if (isnan(v)) return false;
  switch (op) {
    case THRESHOLDS_LT:
      return v < limit;
    case THRESHOLDS_LE:
      return v <= limit;
    case THRESHOLDS_GT:
      return v > limit;
    case THRESHOLDS_GE:
      return v >= limit;
    default:
      return fabs(v - limit) <= 1e-9 * fmax(1.0, fabs(limit));
  }
}

static bool eval_some(thresholds *t, const stats_interval *cum, double duration_s, bool only_abort) {
  bool all_ok = true;
  for (size_t i = 0; t && i < t->n; i++) {
    threshold *th = &t->items[i];
    if (only_abort && (!th->abort_on_fail || duration_s < clock_ns_to_s(th->delay_abort_ns))) continue;
    th->value = measure(th, cum, duration_s);
    th->ok = compare(th->value, th->op, th->limit);
    th->evaluated = true;
    if (!th->ok) all_ok = false;
  }
  return all_ok;
}

bool thresholds_eval(thresholds *t, const stats_interval *cumulative, double duration_s) {
  return eval_some(t, cumulative, duration_s, false);
}

bool thresholds_should_abort(thresholds *t, const stats_interval *cumulative, double duration_s) {
  return !eval_some(t, cumulative, duration_s, true);
}

void thresholds_format_value(const threshold *th, char *buf, size_t size) {
  if (!th->evaluated)
    snprintf(buf, size, "-");
  else if (isnan(th->value))
    snprintf(buf, size, "no data");
  else if (is_latency(th->metric))
    snprintf(buf, size, "%.2fms", th->value);
  else if (th->metric == THRESHOLDS_ERR_RATE || th->metric == THRESHOLDS_CHECKS)
    snprintf(buf, size, "%.2f%%", th->value * 100);
  else if (th->metric == THRESHOLDS_RPS)
    snprintf(buf, size, "%.1f/s", th->value);
  else
    snprintf(buf, size, "%.0f", th->value);
}
