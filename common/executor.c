/* executor.c - closed and open model maths: ramps, spawn rate, and exact open-model arrival times taken
 * from the integral of the rate, so a long run neither drifts nor loses arrivals to rounding. */
#include "common/executor.h"
#include "common/clock.h"
#include "common/grow.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

size_t executor_stage_list(const options *o, options_stage *out) {
  double target = o->model == OPTIONS_OPEN ? o->rate : o->users;
  if (o->nstages > 0) {
    memcpy(out, o->stages, o->nstages * sizeof *out);
    return o->nstages;
  }
  out[0] = (options_stage){.duration_ns = 0, .target = target};
  out[1] = (options_stage){.duration_ns = o->duration_ns, .target = target};
  return 2;
}

int64_t executor_total_ns(const options_stage *stages, size_t n) {
  int64_t total = 0;
  for (size_t i = 0; i < n; i++) total += stages[i].duration_ns;
  return total;
}

double executor_target_at(const options_stage *stages, size_t n, int64_t t_ns) {
  double prev = 0;
  int64_t start = 0;
  for (size_t i = 0; i < n; i++) {
    int64_t d = stages[i].duration_ns;
    if (t_ns < start + d) {
      double frac = (double)(t_ns - start) / (double)d;
      return prev + (stages[i].target - prev) * frac;
    }
    prev = stages[i].target;
    start += d;
  }
  return prev;
}

double executor_arrivals_by(const options_stage *stages, size_t n, int64_t t_ns) {
  double prev = 0, area = 0;
  int64_t start = 0;
  for (size_t i = 0; i < n && t_ns > start; i++) {
    int64_t d = stages[i].duration_ns;
    double r1 = stages[i].target;
    if (d > 0) {
      double span = clock_ns_to_s((t_ns < start + d ? t_ns : start + d) - start);
      double r_end = prev + (r1 - prev) * span / clock_ns_to_s(d);
      area += (prev + r_end) / 2.0 * span;
    }
    prev = r1;
    start += d;
  }
  return area;
}

int64_t executor_arrival_ns(const options_stage *stages, size_t n, int64_t k) {
  double prev = 0, remaining = (double)k;
  int64_t start = 0;
  for (size_t i = 0; i < n; i++) {
    int64_t d = stages[i].duration_ns;
    double r0 = prev, r1 = stages[i].target, dur_s = clock_ns_to_s(d);
    double area = (r0 + r1) / 2.0 * dur_s;
    prev = r1;
    if (d <= 0) continue;
    if (remaining < area || (remaining == 0 && area > 0)) {
      /* r0*x + (r1-r0)/(2*dur)*x^2 = remaining, solved in its numerically stable form */
      double a = (r1 - r0) / (2.0 * dur_s), b = r0;
      double disc = b * b + 4.0 * a * remaining;
      double x = remaining == 0 ? 0 : 2.0 * remaining / (b + sqrt(disc > 0 ? disc : 0));
      int64_t t = start + (int64_t)llround(x * (double)CLOCK_NS_PER_S);
      return t < start + d ? t : -1;
    }
    remaining -= area;
    start += d;
  }
  return -1;
}

int64_t executor_share(int64_t users, int threads, int index) {
  if (threads <= 0 || index < 0 || index >= threads || users <= index) return 0;
  return (users - index - 1) / threads + 1;
}

int64_t executor_spawn_step(double *allowed, double target, double spawn_rate, double dt_s) {
  if (spawn_rate <= 0 || *allowed > target) {
    *allowed = target;
  } else {
    *allowed += spawn_rate * dt_s;
    if (*allowed > target) *allowed = target;
  }
  return (int64_t)floor(*allowed + 1e-9);
}

int64_t executor_slot_take(executor_slots *s) {
  size_t k = s->first_free;
  while (k < s->cap && s->used[k]) k++;
  if (k == s->cap && grow_room_zeroed(&s->used, &s->cap, k + 1, 1, 64) < 0) return -ENOMEM;
  s->used[k] = 1;
  s->first_free = k + 1;
  return (int64_t)k;
}

void executor_slot_put(executor_slots *s, int64_t k) {
  if (k < 0 || (size_t)k >= s->cap || !s->used[k]) return;
  s->used[k] = 0;
  if ((size_t)k < s->first_free) s->first_free = (size_t)k;
}

void executor_slots_free(executor_slots *s) {
  free(s->used);
  *s = (executor_slots){0};
}
