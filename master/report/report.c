/* report.c - accumulate a run's merged intervals (exact cumulative histograms plus the per-interval series
 * the charts need) and hand them to the writers (summary.c, html.c); the plug-in points live here too. */
#include "master/report/report.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/grow.h"
#include "common/hist.h"
#include "common/rundir.h"
#include "master/report/html.h"
#include "master/report/summary.h"
#include "master/report/verdict.h"

typedef struct series {
  report_point *pts;
  size_t n, cap;
} series;

typedef struct section {
  char id[64];
  char title[128];
  report_html_fn fn;
  void *ud;
} section;

struct report {
  stats_interval *cum;
  series *names; /* parallel to cum->entries */
  size_t nnames, capnames;
  series all;
  report_tick *ticks;
  size_t nticks, capticks;
  int64_t first_ms, end_ms;
  json_t *run, *thresholds, *findings, *extras, *costs;
  section *sections;
  size_t nsections;
};

int report_create(report **out) {
  report *r = calloc(1, sizeof *r);

  if (!r) return -ENOMEM;
  if (stats_create(&r->cum, 0, 0) < 0) {
    free(r);
    return -ENOMEM;
  }
  *out = r;
  return 0;
}

void report_destroy(report *r) {
  if (!r) return;
  stats_destroy(r->cum);
  for (size_t i = 0; i < r->nnames; i++) free(r->names[i].pts);
  free(r->names);
  free(r->all.pts);
  free(r->ticks);
  json_decref(r->run);
  json_decref(r->thresholds);
  json_decref(r->findings);
  json_decref(r->costs);
  json_decref(r->extras);
  free(r->sections);
  free(r);
}

static int push_point(series *s, const stats_interval *iv, const hist *lat, int64_t count, int64_t errors) {
  report_point *p;

  if (grow_room_zeroed(&s->pts, &s->cap, s->n + 1, sizeof *s->pts, 64) < 0) return -ENOMEM;
  p = &s->pts[s->n++];
  p->start_ms = iv->start_ms;
  p->interval_ms = iv->interval_ms;
  p->count = count;
  p->errors = errors;
  p->intervals = 1;
  p->p50_ms = hist_pct_ms(lat, 50);
  p->p90_ms = hist_pct_ms(lat, 90);
  p->p95_ms = hist_pct_ms(lat, 95);
  p->p99_ms = hist_pct_ms(lat, 99);
  p->max_ms = lat ? clock_us_to_ms((double)hist_max(lat)) : 0;
  p->mean_ms = lat && hist_count(lat) ? clock_us_to_ms(hist_mean(lat)) : 0;
  return 0;
}

static int add_series(report *r, const stats_interval *iv) {
  int64_t count = 0, errors = 0;
  hist *all;
  int rc = 0;

  if (hist_create(&all) < 0) return -ENOMEM;
  for (size_t i = 0; i < iv->nentries && rc == 0; i++) {
    const stats_entry *e = &iv->entries[i];
    const stats_entry *c = stats_entry_find(r->cum, e->name);
    size_t idx;
    if (!c) continue; /* folded into "(other)" by the merge */
    idx = (size_t)(c - r->cum->entries);
    while (rc == 0 && r->nnames <= idx) {
      rc = grow_room_zeroed(&r->names, &r->capnames, r->nnames + 1, sizeof *r->names, 64);
      if (rc == 0) r->nnames++;
    }
    if (rc == 0) rc = push_point(&r->names[idx], iv, e->latency, e->count, e->errors);
    if (e->latency) hist_add(all, e->latency);
    count += e->count;
    errors += e->errors;
  }
  if (rc == 0) rc = push_point(&r->all, iv, all, count, errors);
  hist_destroy(all);
  return rc;
}

/* ---- bounded series: the older half merged pairwise when REPORT_MAX_POINTS is reached ---- */

static double hi(double a, double b) {
  return a > b ? a : b;
}

/* Fold src (a later point of the same series) into dst; percentiles as the upper envelope. */
static void merge_point(report_point *dst, const report_point *src) {
  int64_t count = dst->count + src->count;

  if (count > 0)
    dst->mean_ms = (dst->mean_ms * (double)dst->count + src->mean_ms * (double)src->count) / (double)count;
  if (dst->count == 0) {
    dst->p50_ms = src->p50_ms, dst->p90_ms = src->p90_ms, dst->p95_ms = src->p95_ms,
    dst->p99_ms = src->p99_ms;
  } else if (src->count > 0) {
    dst->p50_ms = hi(dst->p50_ms, src->p50_ms), dst->p90_ms = hi(dst->p90_ms, src->p90_ms);
    dst->p95_ms = hi(dst->p95_ms, src->p95_ms), dst->p99_ms = hi(dst->p99_ms, src->p99_ms);
  }
  dst->max_ms = hi(dst->max_ms, src->max_ms);
  dst->count = count;
  dst->errors += src->errors;
  dst->intervals += src->intervals;
}

static void merge_tick(report_tick *dst, const report_tick *src) {
  dst->interval_ms = src->start_ms + src->interval_ms - dst->start_ms;
  if (src->users > dst->users) dst->users = src->users;
  dst->rate = hi(dst->rate, src->rate);
  dst->dropped += src->dropped;
  dst->iterations += src->iterations;
  dst->intervals += src->intervals;
}

/* Re-bucket the points of s that start before boundary_ms onto the nb merged ticks (same grid for every
 * series, so the charts can align names on the "(all)" times); later points move down unchanged. */
static void compact_series(series *s, const report_tick *ticks, size_t nb, int64_t boundary_ms) {
  size_t out = 0, i = 0, b = 0;

  for (; i < s->n && s->pts[i].start_ms < boundary_ms; i++) {
    report_point p = s->pts[i];
    while (b + 1 < nb && ticks[b + 1].start_ms <= p.start_ms) b++;
    if (out > 0 && s->pts[out - 1].start_ms == ticks[b].start_ms) {
      merge_point(&s->pts[out - 1], &p);
      continue;
    }
    p.start_ms = ticks[b].start_ms;
    p.interval_ms = ticks[b].interval_ms;
    s->pts[out++] = p;
  }
  memmove(s->pts + out, s->pts + i, (s->n - i) * sizeof *s->pts);
  s->n = out + (s->n - i);
}

/* Merge the older half of the ticks pairwise and every series onto the new grid. */
static void compact(report *r) {
  size_t half = r->nticks / 2 & ~(size_t)1, nb = half / 2;
  int64_t boundary_ms = r->ticks[half].start_ms;

  for (size_t i = 0; i < nb; i++) {
    r->ticks[i] = r->ticks[2 * i];
    merge_tick(&r->ticks[i], &r->ticks[2 * i + 1]);
  }
  memmove(r->ticks + nb, r->ticks + half, (r->nticks - half) * sizeof *r->ticks);
  r->nticks -= half - nb;
  compact_series(&r->all, r->ticks, nb, boundary_ms);
  for (size_t i = 0; i < r->nnames; i++) compact_series(&r->names[i], r->ticks, nb, boundary_ms);
}

int report_add_interval(report *r, const stats_interval *iv) {
  report_tick *t;
  int rc = stats_merge(r->cum, iv);

  if (rc < 0) return rc;
  /* users and rate are levels, not sums: keep the latest. */
  r->cum->users = iv->users;
  r->cum->rate = iv->rate;
  if (r->nticks == 0 || iv->start_ms < r->first_ms) r->first_ms = iv->start_ms;
  if (iv->start_ms + iv->interval_ms > r->end_ms) r->end_ms = iv->start_ms + iv->interval_ms;
  r->cum->start_ms = r->first_ms;
  r->cum->interval_ms = r->end_ms - r->first_ms;
  if (grow_room_zeroed(&r->ticks, &r->capticks, r->nticks + 1, sizeof *r->ticks, 64) < 0) return -ENOMEM;
  t = &r->ticks[r->nticks++];
  t->start_ms = iv->start_ms;
  t->interval_ms = iv->interval_ms;
  t->users = iv->users;
  t->rate = iv->rate;
  t->dropped = iv->dropped;
  t->iterations = iv->iterations;
  t->intervals = 1;
  rc = add_series(r, iv);
  if (rc == 0 && r->nticks >= REPORT_MAX_POINTS) compact(r);
  return rc;
}

const stats_interval *report_cumulative(const report *r) {
  return r->cum;
}
double report_duration_s(const report *r) {
  double span = r->nticks ? clock_ms_to_s((double)(r->end_ms - r->first_ms)) : 0;
  double planned = json_number_value(json_object_get(json_object_get(r->run, "options"), "duration_s"));
  double last = r->nticks ? clock_ms_to_s((double)r->ticks[r->nticks - 1].interval_ms) : 0;

  /* The last grid slot often only holds the stragglers that completed after the planned end. */
  if (planned > 0 && span > planned && span - planned <= last + 1e-9) return planned;
  return span;
}
int64_t report_start_ms(const report *r) {
  return r->first_ms;
}

size_t report_ticks(const report *r, const report_tick **out) {
  *out = r->ticks;
  return r->nticks;
}

int64_t report_merged_intervals(const report *r) {
  int64_t merged = 0;

  for (size_t i = 0; i < r->nticks; i++)
    if (r->ticks[i].intervals > 1) merged += r->ticks[i].intervals;
  return merged;
}

size_t report_series(const report *r, long name_index, const report_point **out) {
  const series *s = name_index < 0 ? &r->all : (size_t)name_index < r->nnames ? &r->names[name_index] : NULL;
  *out = s ? s->pts : NULL;
  return s ? s->n : 0;
}

/* options.scenarios as run.json keeps them: what each one was asked to do. */
static json_t *scenario_list_json(const options *o) {
  json_t *list = json_array();
  for (size_t i = 0; i < o->nscenarios; i++) {
    const options_scenario *sc = &o->scenarios[i];
    json_t *one =
        json_pack("{s:s,s:s,s:s,s:f,s:f}", "name", sc->name, "executor", sc->executor, "exec", sc->exec,
                  "start_s", clock_ns_to_s(sc->start_ns), "duration_s", clock_ns_to_s(sc->duration_ns));
    if (sc->iterations > 0) json_object_set_new(one, "iterations", json_integer(sc->iterations));
    if (sc->model == OPTIONS_OPEN) json_object_set_new(one, "max_vus", json_integer(sc->max_vus));
    if (sc->model != OPTIONS_OPEN) json_object_set_new(one, "vus", json_real(sc->vus));
    json_array_append_new(list, one);
  }
  return list;
}

json_t *report_run_json(const options *o, const char *scenario_path) {
  json_t *run = json_object(), *opts = json_object(), *ths = json_array();

  json_object_set_new(run, "scenario", json_string(o->name));
  json_object_set_new(run, "scenario_path", json_string(scenario_path ? scenario_path : ""));
  json_object_set_new(run, "version", json_string(LOADCTL_VERSION));
  json_object_set_new(opts, "target", json_string(o->target));
  json_object_set_new(opts, "model", json_string(o->model == OPTIONS_OPEN ? "open" : "closed"));
  json_object_set_new(opts, "users", json_real(o->users));
  json_object_set_new(opts, "spawn_rate", json_real(o->spawn_rate));
  json_object_set_new(opts, "rate", json_real(o->rate));
  json_object_set_new(opts, "max_vus", json_integer(o->max_vus));
  json_object_set_new(opts, "duration_s", json_real(clock_ns_to_s(o->duration_ns)));
  json_object_set_new(opts, "interval_s", json_real(clock_ns_to_s(o->interval_ns)));
  json_object_set_new(opts, "stages", json_integer((json_int_t)o->nstages));
  json_object_set_new(run, "options", opts);
  if (o->nscenarios > 0) json_object_set_new(run, "scenarios", scenario_list_json(o));
  for (size_t i = 0; i < o->nthresholds && i < OPTIONS_MAX_THRESHOLDS; i++)
    json_array_append_new(ths, json_pack("{s:s,s:b}", "expr", o->thresholds[i].expr, "abort_on_fail",
                                         o->thresholds[i].abort_on_fail != 0));
  json_object_set_new(run, "thresholds", ths);
  return run;
}

void report_set_run(report *r, json_t *run_info) {
  json_incref(run_info);
  json_decref(r->run);
  r->run = run_info;
}

void report_set_thresholds(report *r, const thresholds *t) {
  json_decref(r->thresholds);
  r->thresholds = verdict_json(t);
}

void report_set_findings(report *r, json_t *findings) {
  json_decref(r->findings);
  r->findings = findings;
}

void report_set_costs(report *r, json_t *costs) {
  json_decref(r->costs);
  r->costs = costs;
}

int report_set_extra(report *r, const char *key, json_t *value) {
  if (!r->extras && !(r->extras = json_object())) {
    json_decref(value);
    return -ENOMEM;
  }
  return json_object_set_new(r->extras, key, value) < 0 ? -ENOMEM : 0;
}

int report_add_html_section(report *r, const char *id, const char *title, report_html_fn fn, void *ud) {
  section *n = realloc(r->sections, (r->nsections + 1) * sizeof *n);

  if (!n) return -ENOMEM;
  r->sections = n;
  n = &r->sections[r->nsections++];
  snprintf(n->id, sizeof n->id, "%s", id);
  snprintf(n->title, sizeof n->title, "%s", title);
  n->fn = fn;
  n->ud = ud;
  return 0;
}

json_t *report_run_info(const report *r) {
  return r->run;
}
json_t *report_thresholds_json(const report *r) {
  return r->thresholds;
}
json_t *report_findings(const report *r) {
  return r->findings;
}
json_t *report_costs(const report *r) {
  return r->costs;
}
json_t *report_extras(const report *r) {
  return r->extras;
}
size_t report_sections(const report *r) {
  return r->nsections;
}

int report_section_write(const report *r, size_t i, FILE *out) {
  const section *s;
  int rc;

  if (i >= r->nsections) return -EINVAL;
  s = &r->sections[i];
  fprintf(out, "<section id=\"");
  html_escape(out, s->id);
  fprintf(out, "\"><h2>");
  html_escape(out, s->title);
  fprintf(out, "</h2>\n");
  rc = s->fn(out, r, s->ud);
  if (rc < 0) fprintf(out, "<p class=\"note\">this section could not be drawn (error %d)</p>\n", rc);
  fprintf(out, "</section>\n");
  return rc;
}

typedef struct page {
  const report *r;
  const char *dir;
} page;

/* report.html, printed into the stream rundir_write_stream gives. */
static int fill_html(FILE *f, void *ctx) {
  const page *p = ctx;
  return html_write(p->r, p->dir, f);
}

int report_write(const report *r, const char *dir, char *err, size_t errlen) {
  page pg = {r, dir};
  int rc = summary_write(r, dir, err, errlen);

  if (rc < 0) return rc;
  rc = rundir_write_stream(dir, RUNDIR_HTML, fill_html, &pg);
  if (rc < 0) snprintf(err, errlen, "cannot write %s/%s: %s", dir, RUNDIR_HTML, strerror(-rc));
  return rc;
}
