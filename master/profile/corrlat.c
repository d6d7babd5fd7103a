/* corrlat.c - the latency side of correlation, from intervals.jsonl: request counts, request time, and how a
 * request name's latency stands out against the other names' (see corrlat.h). */
#include "master/profile/corrlat.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/rundir.h"
#include "master/profile/correlate.h"

/* Requests of name over the run (NULL: all names), from intervals; 0 when unknown. */
double corrlat_requests(const json_t *iv, const char *name) {
  double n = 0;
  size_t i;
  json_t *o;
  json_array_foreach(iv, i, o) {
    const char *nm = json_string_value(json_object_get(o, "name"));
    if (nm && strcmp(nm, RUNDIR_TOTAL_NAME) && (!name || strcmp(nm, name) == 0))
      n += json_number_value(json_object_get(o, "count"));
  }
  return n;
}

static double median(double *v, size_t n);

/* Time requests took (ms) over the run at its typical pace: all requests x the median over intervals of their
 * mean latency (robust: a few stalled seconds, where requests took seconds each, do not decide); -1 when
 * unknown. */
double corrlat_request_ms(const json_t *iv) {
  size_t i, n = 0;
  double count = 0, *mean = calloc(json_array_size(iv) ? json_array_size(iv) : 1, sizeof *mean);
  json_t *o;
  if (!mean) return -1;
  json_array_foreach(iv, i, o) {
    const char *nm = json_string_value(json_object_get(o, "name"));
    double c = json_number_value(json_object_get(o, "count"));
    if (!nm || strcmp(nm, RUNDIR_TOTAL_NAME) != 0 || c <= 0) continue;
    count += c;
    mean[n++] = json_number_value(json_object_get(o, "mean_ms"));
  }
  double t = count * median(mean, n);
  free(mean);
  return t > 0 ? t : -1;
}

static int cmp_dbl(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* Median of v[0..n) (sorts v), -1 when n is 0. */
static double median(double *v, size_t n) {
  if (!n) return -1;
  qsort(v, n, sizeof *v, cmp_dbl);
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Per interval, key of name over the median key of the other names measured in it; the median of those over
 * the run (how many intervals in *nint), -1 when no interval has name and another. Per interval, so that a
 * few overloaded seconds, where every name is slow, do not decide as they would a run-wide mean. */
static double interval_ratio(const json_t *iv, const char *name, const char *key, size_t *nint) {
  size_t n = json_array_size(iv), nr = 0;
  double *r = calloc(n + 1, sizeof *r), *oth = calloc(n + 1, sizeof *oth);
  for (size_t i = 0; r && oth && i < n;) {
    json_int_t t = json_integer_value(json_object_get(json_array_get(iv, i), "t"));
    double mine = -1;
    size_t no = 0;
    for (; i < n && json_integer_value(json_object_get(json_array_get(iv, i), "t")) == t; i++) {
      const json_t *o = json_array_get(iv, i);
      const char *nm = json_string_value(json_object_get(o, "name"));
      double x = json_number_value(json_object_get(o, key));
      if (!nm || strcmp(nm, RUNDIR_TOTAL_NAME) == 0 || x <= 0 ||
          json_number_value(json_object_get(o, "count")) <= 0)
        continue;
      if (strcmp(nm, name) == 0)
        mine = x;
      else
        oth[no++] = x;
    }
    double m = median(oth, no);
    if (mine > 0 && m > 0) r[nr++] = mine / m;
  }
  double out = r && oth ? median(r, nr) : -1;
  *nint = nr;
  free(r);
  free(oth);
  return out;
}

/* Count-weighted mean of key over name's interval lines, -1 when none. */
static double name_mean(const json_t *iv, const char *name, const char *key) {
  double sum = 0, n = 0;
  size_t i;
  json_t *o;
  json_array_foreach(iv, i, o) {
    const char *nm = json_string_value(json_object_get(o, "name"));
    double cnt = json_number_value(json_object_get(o, "count"));
    if (!nm || cnt <= 0 || strcmp(nm, name) != 0) continue;
    sum += cnt * json_number_value(json_object_get(o, key));
    n += cnt;
  }
  return n > 0 ? sum / n : -1;
}

/* name's run mean of key over the median of the other names' run means, -1 when there is no other name. */
static double run_ratio(const json_t *iv, const char *name, const char *key) {
  json_t *names = json_object(), *o, *v;
  const char *k;
  size_t i, n = 0;
  json_array_foreach(iv, i, o) {
    const char *x = json_string_value(json_object_get(o, "name"));
    if (x && strcmp(x, name) && strcmp(x, RUNDIR_TOTAL_NAME)) json_object_set_new(names, x, json_true());
  }
  double *vals = calloc(json_object_size(names) + 1, sizeof *vals), mine = name_mean(iv, name, key);
  json_object_foreach(names, k, v) {
    double x = name_mean(iv, k, key);
    if (vals && x > 0) vals[n++] = x;
  }
  double m = vals ? median(vals, n) : -1;
  free(vals);
  json_decref(names);
  return m > 0 && mine > 0 ? mine / m : -1;
}

corrlat_standing corrlat_stand(const json_t *iv, const char *name) {
  corrlat_standing st = {{-1, -1}, {-1, -1}, 0};
  size_t n50 = 0;
  if (!iv) return st;
  st.p99[0] = run_ratio(iv, name, "p99_ms"), st.p50[0] = run_ratio(iv, name, "p50_ms");
  st.p99[1] = interval_ratio(iv, name, "p99_ms", &st.n), st.p50[1] = interval_ratio(iv, name, "p50_ms", &n50);
  return st;
}

/* Does name's latency stand out, either way? Its tail: p99 >= ENDPOINT_P99 x the other names' and its p99
 * ratio that much above its p50 ratio (a part of its requests slow; an endpoint uniformly heavier by design
 * is not a tail), or its body: p50 >= ENDPOINT_P50 x theirs. The reason in words into why. */
int corrlat_stands_out(const corrlat_standing *st, char *why, size_t whylen) {
  static const char *const how[] = {"the run's means", "the median interval"};
  why[0] = '\0';
  if (st->p99[1] < 0) return CORRLAT_TAIL;
  for (int body = 0; body < 2; body++)
    for (int k = 0; k < 2; k++) {
      double p99 = st->p99[k], p50 = st->p50[k]; /* p50 < 0: not measured, the p99 alone decides */
      int yes = body ? p50 >= CORRELATE_ENDPOINT_P50
                     : p99 >= CORRELATE_ENDPOINT_P99 && p99 >= CORRELATE_ENDPOINT_P99 * p50;
      if (!yes) continue;
      snprintf(why, whylen, "; its %s is %.1fx the other requests' (%s)", body ? "p50" : "p99",
               body ? p50 : p99, how[k]);
      return body ? CORRLAT_BODY : CORRLAT_TAIL;
    }
  return 0;
}
