/* registry.c - workers known to the master, in join order, with liveness and clock offsets. */
#include "master/registry.h"
#include "common/grow.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct registry {
  registry_worker **workers;
  size_t n, cap;
};

int registry_create(registry **out) {
  *out = calloc(1, sizeof **out);
  return *out ? 0 : -ENOMEM;
}

void registry_destroy(registry *r) {
  if (!r) return;
  for (size_t i = 0; i < r->n; i++) free(r->workers[i]);
  free(r->workers);
  free(r);
}

registry_worker *registry_find(registry *r, const char *id) {
  for (size_t i = 0; i < r->n; i++)
    if (!strcmp(r->workers[i]->id, id)) return r->workers[i];
  return NULL;
}

registry_worker *registry_hello(registry *r, const char *id, const msg_hello *h, int64_t now_mono_ns,
                                bool *rejoined) {
  registry_worker *w = registry_find(r, id);

  *rejoined = w != NULL;
  if (!w) {
    if (grow_room(&r->workers, &r->cap, r->n + 1, sizeof *r->workers, 16) < 0) return NULL;
    w = calloc(1, sizeof *w);
    if (!w) return NULL;
    r->workers[r->n++] = w;
    snprintf(w->id, sizeof w->id, "%s", id);
    w->joined_mono_ns = now_mono_ns;
    w->rtt_ns = -1;
  }
  snprintf(w->hostname, sizeof w->hostname, "%s", h->hostname);
  snprintf(w->version, sizeof w->version, "%s", h->version);
  w->cores = h->cores;
  w->threads = h->threads > 0 ? h->threads : (h->cores > 0 ? h->cores : 1);
  w->state = REGISTRY_JOINED;
  w->live = true;
  w->last_mono_ns = now_mono_ns;
  w->assigned_gen = -1;
  return w;
}

bool registry_seen(registry_worker *w, int64_t now_mono_ns) {
  bool back = !w->live;
  w->live = true;
  w->last_mono_ns = now_mono_ns;
  return back;
}

bool registry_cpu_sample(registry_worker *w, int permille, int64_t now_mono_ns) {
  if (permille < 0 || (w->cpu_samples > 0 && now_mono_ns - w->cpu_sample_mono_ns < 900000000LL)) return false;
  w->cpu_sample_mono_ns = now_mono_ns;
  w->cpu_permille = permille;
  if (permille > w->cpu_max_permille) w->cpu_max_permille = permille;
  w->cpu_sum_permille += permille;
  w->cpu_samples++;
  w->cpu_hot = permille >= REGISTRY_CPU_HOT_PERMILLE ? w->cpu_hot + 1 : 0;
  if (w->cpu_hot > w->cpu_hot_longest) w->cpu_hot_longest = w->cpu_hot;
  return w->cpu_hot == REGISTRY_CPU_HOT_SAMPLES;
}

void registry_clock_sample(registry_worker *w, int64_t t0, int64_t t1, int64_t t2, int64_t t3) {
  int64_t rtt = (t3 - t0) - (t2 - t1);

  if (rtt < 0 || t0 == 0 || t1 == 0 || t2 == 0) return;
  if (w->rtt_ns >= 0 && rtt >= w->rtt_ns) return;
  w->rtt_ns = rtt;
  w->offset_ns = ((t1 - t0) + (t2 - t3)) / 2;
}

size_t registry_expire(registry *r, int64_t now_mono_ns, int64_t silence_ns) {
  size_t n = 0;
  for (size_t i = 0; i < r->n; i++) {
    registry_worker *w = r->workers[i];
    if (w->live && now_mono_ns - w->last_mono_ns >= silence_ns) {
      w->live = false;
      n++;
    }
  }
  return n;
}

size_t registry_count(const registry *r) {
  return r->n;
}

registry_worker *registry_at(registry *r, size_t i) {
  return i < r->n ? r->workers[i] : NULL;
}

size_t registry_active(registry *r, registry_worker **out, size_t max) {
  size_t n = 0;
  for (size_t i = 0; i < r->n && n < max; i++) {
    registry_worker *w = r->workers[i];
    if (w->live && w->state != REGISTRY_FAILED && w->state != REGISTRY_FINISHED) out[n++] = w;
  }
  return n;
}
