/* aggregate.c - master-time intervals keyed by grid slot, merged exactly with stats_merge, closed in time
 * order when all live workers have reported or the grace period ran out. */
#include "master/aggregate.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/grow.h"
#include "common/log.h"

typedef struct seen {
  char id[80];
  int64_t newest_slot; /* newest master-time slot this worker reported */
  uint64_t contig;     /* its numbered stats 1..contig have all arrived */
  uint64_t *above;     /* numbers above contig + 1 that arrived, ascending */
  size_t nabove, capabove;
  uint64_t sent;  /* the highest number it has sent, as far as we know */
  uint64_t acked; /* the highest contig acknowledged to it (aggregate_ack_due) */
  int told;       /* it said its highest number sent since it was last asked again (aggregate_ask_due) */
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
  uint64_t forgotten; /* numbers missing when their worker started numbering again */
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
  for (size_t i = 0; i < a->nworkers; i++) free(a->workers[i].above);
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

/* Index in w->above where n is or would go. */
static size_t above_at(const seen *w, uint64_t n) {
  size_t lo = 0, hi = w->nabove;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (w->above[mid] < n)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo;
}

/* Note that number n of w arrived: 1 when it had already (a repeat), 0 when new, -ENOMEM. */
static int arrived(seen *w, uint64_t n) {
  size_t i = above_at(w, n), run = 0;

  if (n <= w->contig || (i < w->nabove && w->above[i] == n)) return 1;
  if (n > w->sent) w->sent = n;
  if (n == w->contig + 1) {
    w->contig = n;
    while (run < w->nabove && w->above[run] == w->contig + 1) w->contig = w->above[run++];
    if (run)
      memmove(w->above, w->above + run, (w->nabove - run) * sizeof *w->above); /* above is NULL at first */
    w->nabove -= run;
    return 0;
  }
  if (grow_room(&w->above, &w->capabove, w->nabove + 1, sizeof *w->above, 8) < 0) return -ENOMEM;
  memmove(w->above + i + 1, w->above + i, (w->nabove - i) * sizeof *w->above);
  w->above[i] = n;
  w->nabove++;
  return 0;
}

int aggregate_add(aggregate *a, const char *worker_id, int64_t offset_ms, const stats_interval *iv) {
  return aggregate_add_numbered(a, worker_id, offset_ms, 0, iv);
}

int aggregate_add_numbered(aggregate *a, const char *worker_id, int64_t offset_ms, uint64_t stats_no,
                           const stats_interval *iv) {
  int64_t slot = aggregate_slot(a, iv->start_ms, offset_ms);
  seen *w = worker_seen(a, worker_id);
  stats_interval *dst;
  int rc;

  if (!w) return -ENOMEM;
  if (stats_no && (rc = arrived(w, stats_no)) != 0) return rc;
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

/* How many of w's numbers up to w->sent have not arrived (every entry of above is <= sent). */
static uint64_t missing_of(const seen *w) {
  return w->sent > w->contig ? w->sent - w->contig - w->nabove : 0;
}

/* True when every live worker has reported slot or later, with none of its stats missing (a number that
 * did not arrive may be for this slot: it waits for the resend, or the grace period). */
static int all_reported(aggregate *a, int64_t slot, const char *const *live_ids, size_t nlive) {
  for (size_t i = 0; i < nlive; i++) {
    seen *w = worker_seen(a, live_ids[i]);
    if (!w || w->newest_slot < slot || missing_of(w) > 0) return 0;
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

void aggregate_sent(aggregate *a, const char *worker_id, uint64_t sent_no) {
  seen *w = worker_seen(a, worker_id);
  if (!w) return;
  if (sent_no > w->sent) w->sent = sent_no;
  w->told = 1;
}

bool aggregate_ask_due(aggregate *a, const char *worker_id) {
  seen *w = worker_seen(a, worker_id);
  bool due = w && w->told && missing_of(w) > 0;
  if (due) w->told = 0;
  return due;
}

uint64_t aggregate_ack_due(aggregate *a, const char *worker_id) {
  seen *w = worker_seen(a, worker_id);
  if (!w || w->contig <= w->acked) return 0;
  w->acked = w->contig;
  return w->contig;
}

uint64_t aggregate_missing(aggregate *a, const char *worker_id, uint64_t *out, size_t max) {
  seen *w = worker_seen(a, worker_id);
  size_t k = 0, i = 0;

  if (!w) return 0;
  for (uint64_t n = w->contig + 1; n <= w->sent && k < max; n++) {
    if (i < w->nabove && w->above[i] == n) {
      i++;
      continue;
    }
    out[k++] = n;
  }
  return missing_of(w);
}

void aggregate_renumber(aggregate *a, const char *worker_id) {
  seen *w = worker_seen(a, worker_id);
  if (!w) return;
  a->forgotten += missing_of(w);
  w->contig = w->sent = w->acked = 0;
  w->nabove = 0;
  w->told = 0;
}

uint64_t aggregate_missing_total(const aggregate *a) {
  uint64_t n = a->forgotten;
  for (size_t i = 0; i < a->nworkers; i++) n += missing_of(&a->workers[i]);
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
