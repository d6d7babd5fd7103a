/* tally.c - the master's side of "nothing measured is lost" (tally.h): workers judged on the master's
 * awake time, missing workers waited for, dropped stats asked for again, and what is still missing at
 * the end said loudly. */
#include "master/tally.h"

#include <jansson.h>

#include "common/clock.h"
#include "common/exitcode.h"
#include "common/log.h"
#include "common/msg.h"
#include "master/aggregate.h"
#include "master/registry.h"
#include "master/results.h"

/* The master's own clock for judging workers: monotonic time less the time its loop stood still
 * (stopped, starved), so a worker is not silent for what the master did not read. */
int64_t tally_awake_ns(const master *m) {
  return clock_mono_ns() - m->stalled_ns;
}

/* Workers still running load as far as we know: live ones that have not quit, and missing ones not yet
 * silent for TALLY_LOST_NS (their stats, and their quit, may still come). */
size_t tally_unfinished(master *m) {
  size_t n = 0, total = registry_count(m->reg);
  int64_t now = tally_awake_ns(m);
  for (size_t i = 0; i < total; i++) {
    const registry_worker *w = registry_at(m->reg, i);
    n += w->state == REGISTRY_RUNNING && (w->live || now - w->last_mono_ns < TALLY_LOST_NS);
  }
  return n;
}

/* What the run could not count, into run.json and summary.json ("stats_lost": stats intervals workers
 * sent that never arrived, even when asked for again; "workers_lost": workers that never reported the
 * end of their load), and said in the log. EXIT_RUNTIME when counts are known to be missing (stats
 * lost, or no worker finished), else 0: a worker lost mid-run (killed) had its share given to others. */
int tally_losses(master *m) {
  json_t *info = results_run_info(m->res), *lost = json_array();
  uint64_t missing = m->agg ? aggregate_missing_total(m->agg) : 0;
  size_t total = registry_count(m->reg), finished = 0;
  int rc = 0;

  for (size_t i = 0; i < total; i++) {
    const registry_worker *w = registry_at(m->reg, i);
    if (w->state == REGISTRY_RUNNING) json_array_append_new(lost, json_string(w->id));
    finished += w->state == REGISTRY_FINISHED;
  }
  json_object_set_new(info, "stats_lost", json_integer((json_int_t)missing));
  if (missing) {
    LOG(LOG_ERROR,
        "master: %llu stats interval(s) that workers sent never arrived, even when asked for again: the "
        "requests they counted are missing from the totals",
        (unsigned long long)missing);
    rc = EXIT_RUNTIME;
  }
  if (json_array_size(lost)) {
    LOG(finished ? LOG_WARN : LOG_ERROR,
        "master: %zu worker(s) did not report the end of their load (first: '%s'): what they measured "
        "after their last stats is not in the totals",
        json_array_size(lost), json_string_value(json_array_get(lost, 0)));
    if (!finished) rc = EXIT_RUNTIME;
  }
  json_object_set_new(info, "workers_lost", lost);
  return rc;
}

/* Ask each worker again for the numbered stats it sent that did not arrive (nanomsg's bus drops frames
 * to a master that is not reading); the worker keeps them for a while (worker/agent.c). */
void tally_ask_resends(master *m) {
  uint64_t nos[TALLY_RESEND_PER_BEAT], missing;
  size_t total = registry_count(m->reg);

  if (!m->agg || (m->state != M_RUN && m->state != M_DRAIN)) return;
  for (size_t i = 0; i < total; i++) {
    registry_worker *w = registry_at(m->reg, i);
    if (!aggregate_ask_due(m->agg, w->id)) continue; /* none missing, or asked since its last report */
    missing = aggregate_missing(m->agg, w->id, nos, TALLY_RESEND_PER_BEAT);
    for (uint64_t k = 0; k < missing && k < TALLY_RESEND_PER_BEAT; k++) {
      msg x;
      msg_init(&x, MSG_RESEND);
      x.stats_no = nos[k];
      master_send(m, &x, w->id);
    }
    if (missing)
      LOG(LOG_DEBUG, "master: %llu stats interval(s) of worker '%s' did not arrive; asked for them again",
          (unsigned long long)missing, w->id);
  }
}

/* Tell each worker which of its stats are merged (a heartbeat to it alone, stats_no = n: 1..n are in),
 * so it forgets them; until then it keeps them for a resend, however long the master takes to catch up. */
void tally_ack(master *m) {
  size_t total = registry_count(m->reg);

  if (!m->agg || (m->state != M_RUN && m->state != M_DRAIN)) return;
  for (size_t i = 0; i < total; i++) {
    registry_worker *w = registry_at(m->reg, i);
    uint64_t n = aggregate_ack_due(m->agg, w->id);
    if (!n) continue;
    msg x;
    msg_init(&x, MSG_HEARTBEAT);
    x.stats_no = n;
    master_send(m, &x, w->id);
  }
}
