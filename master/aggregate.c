/* aggregate.c - master-time intervals keyed by grid slot, merged exactly with stats_merge, closed in time
 * order when all live workers have reported or the grace period ran out. */
#include "master/aggregate.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"

typedef struct seen {
  char id[80];
  int64_t newest_slot; /* newest master-time slot this worker reported */
} seen;

struct aggregate {
  int64_t origin_ms, interval_ms, grace;
  stats_interval **open; /* sorted by start_ms */
  size_t nopen, capopen;
  int64_t closed_until; /* slots below this are closed */
  stats_interval *cumulative;
  int have_cumulative;
  seen *workers;
  size_t nworkers, capworkers;
  int64_t late;
};

int aggregate_create(int64_t grid_origin_ms, int64_t interval_ms, int grace_intervals, aggregate **out) {
  aggregate *a;

  if (interval_ms <= 0 || grace_intervals < 0) return -EINVAL;
  a = calloc(1, sizeof *a);
  if (!a) return -ENOMEM;
  a->origin_ms = grid_origin_ms;
  a->interval_ms = interval_ms;
  a->grace = grace_intervals;
  a->closed_until = INT64_MIN;
  if (stats_create(&a->cumulative, grid_origin_ms, interval_ms) < 0) {
    free(a);
    return -ENOMEM;
  }
  *out = a;
  return 0;
}

void aggregate_destroy(aggregate *a) {
  if (!a) return;
  for (size_t i = 0; i < a->nopen; i++) stats_destroy(a->open[i]);
  free(a->open);
  stats_destroy(a->cumulative);
  free(a->workers);
  free(a);
}

int64_t aggregate_slot(const aggregate *a, int64_t worker_start_ms, int64_t offset_ms) {
  int64_t rel = worker_start_ms - offset_ms - a->origin_ms, k;
  /* round half up, also for negative rel */
  k = rel >= 0 ? (rel + a->interval_ms / 2) / a->interval_ms
               : -((-rel + a->interval_ms / 2 - 1) / a->interval_ms);
  return a->origin_ms + k * a->interval_ms;
}

/* The open interval starting at slot, created in order when absent. NULL on -ENOMEM. */
static stats_interval *open_slot(aggregate *a, int64_t slot) {
  size_t i = 0;
  stats_interval *iv;

  while (i < a->nopen && a->open[i]->start_ms < slot) i++;
  if (i < a->nopen && a->open[i]->start_ms == slot) return a->open[i];
  if (a->nopen == a->capopen) {
    size_t cap = a->capopen ? a->capopen * 2 : 8;
    stats_interval **grown = realloc(a->open, cap * sizeof *grown);
    if (!grown) return NULL;
    a->open = grown;
    a->capopen = cap;
  }
  if (stats_create(&iv, slot, a->interval_ms) < 0) return NULL;
  memmove(a->open + i + 1, a->open + i, (a->nopen - i) * sizeof *a->open);
  a->open[i] = iv;
  a->nopen++;
  return iv;
}

static seen *worker_seen(aggregate *a, const char *id) {
  for (size_t i = 0; i < a->nworkers; i++)
    if (!strcmp(a->workers[i].id, id)) return &a->workers[i];
  if (a->nworkers == a->capworkers) {
    size_t cap = a->capworkers ? a->capworkers * 2 : 16;
    seen *grown = realloc(a->workers, cap * sizeof *grown);
    if (!grown) return NULL;
    a->workers = grown;
    a->capworkers = cap;
  }
  seen *w = &a->workers[a->nworkers++];
  memset(w, 0, sizeof *w);
  strncat(w->id, id, sizeof w->id - 1);
  w->newest_slot = INT64_MIN;
  return w;
}

int aggregate_add(aggregate *a, const char *worker_id, int64_t offset_ms, const stats_interval *iv) {
  int64_t slot = aggregate_slot(a, iv->start_ms, offset_ms);
  seen *w = worker_seen(a, worker_id);
  stats_interval *dst;

  if (!w) return -ENOMEM;
  if (slot > w->newest_slot) w->newest_slot = slot;
  if (slot < a->closed_until) {
    a->late++;
    LOG(LOG_WARN,
        "stats of worker '%s' for %lld ms arrived after that interval closed; counted in the next one",
        worker_id, (long long)(slot - a->origin_ms));
    slot = a->nopen ? a->open[0]->start_ms : a->closed_until;
  }
  dst = open_slot(a, slot);
  if (!dst) return -ENOMEM;
  return stats_merge(dst, iv);
}

/* Emit and fold the oldest open interval. */
static int close_oldest(aggregate *a, aggregate_emit_fn emit, void *ud) {
  stats_interval *iv = a->open[0];
  int rc;

  memmove(a->open, a->open + 1, (a->nopen - 1) * sizeof *a->open);
  a->nopen--;
  a->closed_until = iv->start_ms + a->interval_ms;
  rc = stats_merge(a->cumulative, iv);
  if (!a->have_cumulative) a->cumulative->start_ms = iv->start_ms, a->have_cumulative = 1;
  a->cumulative->users = iv->users;
  a->cumulative->rate = iv->rate;
  if (rc == 0 && emit) rc = emit(ud, iv);
  stats_destroy(iv);
  return rc;
}

/* True when every live worker has reported slot or later. */
static int all_reported(aggregate *a, int64_t slot, const char *const *live_ids, size_t nlive) {
  for (size_t i = 0; i < nlive; i++) {
    seen *w = worker_seen(a, live_ids[i]);
    if (!w || w->newest_slot < slot) return 0;
  }
  return 1;
}

int aggregate_poll(aggregate *a, int64_t now_ms, const char *const *live_ids, size_t nlive,
                   aggregate_emit_fn emit, void *ud) {
  int n = 0, rc;

  while (a->nopen) {
    int64_t slot = a->open[0]->start_ms;
    int expired = now_ms >= slot + a->interval_ms * (1 + a->grace);
    if (!expired && !all_reported(a, slot, live_ids, nlive)) break;
    rc = close_oldest(a, emit, ud);
    if (rc < 0) return rc;
    n++;
  }
  return n;
}

int aggregate_flush(aggregate *a, aggregate_emit_fn emit, void *ud) {
  int n = 0, rc;
  while (a->nopen) {
    rc = close_oldest(a, emit, ud);
    if (rc < 0) return rc;
    n++;
  }
  return n;
}

const stats_interval *aggregate_cumulative(const aggregate *a) {
  return a->cumulative;
}
int64_t aggregate_late(const aggregate *a) {
  return a->late;
}
size_t aggregate_open(const aggregate *a) {
  return a->nopen;
}
