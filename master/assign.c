/* assign.c - the master's shares of the load: each active worker's slice of the plan (stages, VUs, VU
 * ids, scenario slice) sent as ASSIGN, paced per tick, resent when unanswered, remade on every rebalance. */
#include "master/assign.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/log.h"
#include "common/msg.h"
#include "common/scenarios.h"
#include "master/master_internal.h"
#include "master/plan.h"
#include "master/registry.h"

/* The scenario's options with the run's stages (command-line overrides applied). */
static options run_options(const master *m) {
  options full = *m->cfg->opt;
  memcpy(full.stages, m->stages, sizeof m->stages);
  full.nstages = m->nstages;
  return full;
}

/* Worker idx's slice of the run's weight (its threads among all): options.scenarios are cut from it. */
static scenarios_slice slice_of(const int *weights, size_t n, size_t idx) {
  scenarios_slice s = {0};
  for (size_t i = 0; i < n; i++) {
    if (i < idx) s.before += weights[i];
    s.wsum += weights[i];
  }
  s.weight = weights[idx];
  return s;
}

/* VU bases and peaks of a plan: plan_vu_bases for one scenario, the slices' peaks for several. */
static int vu_bases_of(const options *o, const int *weights, size_t n, int64_t *base, int64_t *peak) {
  int64_t sum = 0;
  if (o->nscenarios == 0) return plan_vu_bases(o, weights, n, base, peak);
  for (size_t i = 0; i < n; i++) {
    peak[i] = scenarios_peak(o, slice_of(weights, n, i));
    base[i] = sum;
    sum += peak[i];
  }
  return 0;
}

/* Worker idx's first VU id - 1 (with_script assigns only): before the run the plan's shares laid end to
 * end, so the VU ids of all workers are 1..N (data.csv():for_vu() rows do not collide); a worker joining
 * a running load gets ids after every id handed out so far (a running worker keeps its ids). */
static int64_t vu_base(master *m, const int *weights, size_t n, size_t idx) {
  options full = run_options(m);
  int64_t base;
  if (m->vu_bases_gen != m->gen || m->vu_bases_n != n || !m->vu_bases) { /* once per plan, not per worker */
    free(m->vu_bases);
    free(m->vu_peaks);
    m->vu_bases = malloc(n * sizeof *m->vu_bases);
    m->vu_peaks = malloc(n * sizeof *m->vu_peaks);
    m->vu_bases_n = n;
    m->vu_bases_gen = m->gen;
    if (!m->vu_bases || !m->vu_peaks || vu_bases_of(&full, weights, n, m->vu_bases, m->vu_peaks) < 0) {
      free(m->vu_bases);
      m->vu_bases = NULL;
    }
  }
  if (!m->vu_bases) return m->vu_ids_end; /* out of memory: unique, if not dense */
  base = m->state >= M_RUN ? m->vu_ids_end : m->vu_bases[idx];
  if (base + m->vu_peaks[idx] > m->vu_ids_end) m->vu_ids_end = base + m->vu_peaks[idx];
  return base;
}

/* Send worker w its share (index idx of n, weights = threads). with_script: first assign of this worker. */
static void assign_one(master *m, registry_worker *w, const int *weights, size_t n, size_t idx,
                       bool with_script) {
  options full = run_options(m), share;
  msg x;

  if (plan_share(&full, weights, n, idx, &share) < 0) return;
  if (with_script) w->vu_id_base = vu_base(m, weights, n, idx);
  msg_init(&x, MSG_ASSIGN);
  snprintf(x.u.assign.scenario_name, sizeof x.u.assign.scenario_name, "%s", m->cfg->script_name);
  if (with_script) {
    x.u.assign.scenario_source = (char *)m->cfg->script_source;
    x.u.assign.scenario_len = m->cfg->script_len;
  }
  memcpy(x.u.assign.stages, share.stages, sizeof x.u.assign.stages);
  x.u.assign.nstages = share.nstages;
  x.u.assign.max_vus = share.max_vus;
  x.u.assign.spawn_rate = share.spawn_rate;
  x.u.assign.vu_id_base = w->vu_id_base;
  if (full.nscenarios > 0) {
    scenarios_slice sl = slice_of(weights, n, idx);
    x.u.assign.slice_before = sl.before;
    x.u.assign.slice_weight = sl.weight;
    x.u.assign.slice_wsum = sl.wsum;
  }
  x.u.assign.threads = w->threads;
  if (m->state >= M_RUN && with_script) x.u.assign.start_wall_ns = m->start_wall_ns + w->offset_ns;
  master_send(m, &x, w->id);
  w->assigned_gen = m->gen;
  w->assign_due = false;
  w->assign_sent_mono_ns = clock_mono_ns();
  if (w->state == REGISTRY_JOINED) w->state = m->state >= M_RUN ? REGISTRY_RUNNING : REGISTRY_ASSIGNED;
}

void assign_send_due(master *m) {
  size_t n = registry_active(m->reg, m->act, MAX_WORKERS), sent = 0;
  size_t budget = n > 0 && FRAMES_PER_TICK / n > 0 ? FRAMES_PER_TICK / n : 1;
  int weights[n > 0 ? n : 1];

  for (size_t i = 0; i < n; i++) weights[i] = m->act[i]->threads;
  for (size_t i = 0; i < n && sent < budget; i++) {
    registry_worker *w = m->act[i];
    bool first = w->state == REGISTRY_JOINED || (m->state < M_RUN && w->state == REGISTRY_ASSIGNED);
    if (!w->assign_due) continue;
    assign_one(m, w, weights, n, i, first);
    sent++;
  }
}

void assign_send_plan(master *m, bool only_unready) {
  size_t n = registry_active(m->reg, m->act, MAX_WORKERS);
  int64_t now = clock_mono_ns(), resend_ns = n > START_EACH_MAX ? ASSIGN_RESEND_MANY_NS : ASSIGN_RESEND_NS;

  for (size_t i = 0; i < n; i++) {
    registry_worker *w = m->act[i];
    if (!only_unready || (w->state == REGISTRY_ASSIGNED && m->state < M_RUN && !w->assign_due &&
                          now - w->assign_sent_mono_ns >= resend_ns))
      w->assign_due = true;
  }
  assign_send_due(m);
}

void assign_rebalance(master *m, const char *why) {
  m->gen++;
  m->active_count = registry_active(m->reg, m->act, MAX_WORKERS);
  assign_send_plan(m, false);
  if (why) LOG(LOG_INFO, "master: %s: load now split over %zu worker(s)", why, m->active_count);
}
