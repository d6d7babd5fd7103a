/* plan.c - exact proportional splitting of users and rates over workers (largest remainder method),
 * so the sum of the shares is always the scenario's total. */
#include "master/plan.h"

#include <errno.h>
#include <math.h>
#include <string.h>

/* Weight of index i (all weights 0 or NULL = equal shares). */
static int64_t weight_at(const int *weights, int equal, size_t i) {
  return equal || !weights ? 1 : weights[i];
}

int plan_split(int64_t total, const int *weights, size_t n, int64_t *out) {
  int64_t wsum = 0, given = 0;
  int equal;

  if (n == 0 || total < 0) return -EINVAL;
  for (size_t i = 0; i < n; i++) {
    if (weights && weights[i] < 0) return -EINVAL;
    wsum += weights ? weights[i] : 1;
  }
  equal = wsum == 0;
  if (equal) wsum = (int64_t)n;
  char used[n];
  memset(used, 0, n);
  for (size_t i = 0; i < n; i++) {
    int64_t w = weight_at(weights, equal, i);
    /* total * w / wsum without overflowing for large totals. */
    out[i] = (total / wsum) * w + ((total % wsum) * w) / wsum;
    given += out[i];
  }
  while (given < total) {
    size_t best = n;
    int64_t best_rem = -1;
    for (size_t i = 0; i < n; i++) {
      int64_t w = weight_at(weights, equal, i);
      int64_t rem = ((total % wsum) * w) % wsum;
      if (!used[i] && w > 0 && rem > best_rem) best_rem = rem, best = i;
    }
    if (best == n) return -EINVAL; /* cannot happen: remainder < number of positive weights */
    used[best] = 1;
    out[best]++;
    given++;
  }
  return 0;
}

int plan_split_users(double users, const int *weights, size_t n, double *out) {
  int64_t parts[n > 0 ? n : 1];
  int rc;

  if (!(users >= 0)) return -EINVAL;
  rc = plan_split((int64_t)llround(users), weights, n, parts);
  for (size_t i = 0; rc == 0 && i < n; i++) out[i] = (double)parts[i];
  return rc;
}

int plan_split_rate(double rate, const int *weights, size_t n, double *out) {
  int64_t parts[n > 0 ? n : 1];
  int rc;

  if (!(rate >= 0)) return -EINVAL;
  rc = plan_split((int64_t)llround(rate * 100.0), weights, n, parts);
  for (size_t i = 0; rc == 0 && i < n; i++) out[i] = (double)parts[i] / 100.0;
  return rc;
}

/* The share of value for worker idx, split as users or as a rate. */
static int share_of(double value, int as_rate, const int *weights, size_t n, size_t idx, double *out) {
  double parts[n];
  int rc = as_rate ? plan_split_rate(value, weights, n, parts) : plan_split_users(value, weights, n, parts);

  if (rc == 0) *out = parts[idx];
  return rc;
}

int plan_share(const options *o, const int *weights, size_t n, size_t idx, options *out) {
  int open = o->model == OPTIONS_OPEN;
  int64_t vus[n > 0 ? n : 1];
  int rc;

  if (n == 0 || idx >= n) return -EINVAL;
  if (out != o) *out = *o;
  rc = share_of(o->users, 0, weights, n, idx, &out->users);
  if (rc == 0) rc = share_of(o->rate, 1, weights, n, idx, &out->rate);
  if (rc == 0) rc = share_of(o->spawn_rate, 1, weights, n, idx, &out->spawn_rate);
  for (size_t s = 0; rc == 0 && s < o->nstages; s++)
    rc = share_of(o->stages[s].target, open, weights, n, idx, &out->stages[s].target);
  if (rc == 0 && o->max_vus > 0) {
    rc = plan_split(o->max_vus, weights, n, vus);
    if (rc == 0) out->max_vus = vus[idx] > 0 ? vus[idx] : 1;
  }
  return rc;
}

/* Per-worker peak of the closed model: the largest of each stage's (and users') split. */
static int closed_peaks(const options *o, const int *weights, size_t n, int64_t *peak) {
  double part[n];
  int rc = plan_split_users(o->users, weights, n, part);
  for (size_t i = 0; rc == 0 && i < n; i++) peak[i] = (int64_t)part[i];
  for (size_t s = 0; rc == 0 && s < o->nstages; s++) {
    rc = plan_split_users(o->stages[s].target, weights, n, part);
    for (size_t i = 0; rc == 0 && i < n; i++)
      if ((int64_t)part[i] > peak[i]) peak[i] = (int64_t)part[i];
  }
  return rc;
}

int plan_vu_bases(const options *o, const int *weights, size_t n, int64_t *base_out, int64_t *peak_out) {
  int64_t sum = 0;
  int rc;

  if (n == 0) return -EINVAL;
  if (o->model == OPTIONS_OPEN) {
    rc = plan_split(o->max_vus > 0 ? o->max_vus : 0, weights, n, peak_out);
    for (size_t i = 0; rc == 0 && i < n; i++)
      if (peak_out[i] < 1) peak_out[i] = 1; /* plan_share gives every worker at least one VU */
  } else {
    rc = closed_peaks(o, weights, n, peak_out);
  }
  for (size_t i = 0; rc == 0 && i < n; i++) {
    base_out[i] = sum;
    sum += peak_out[i];
  }
  return rc;
}
