/* results.c - the master's outputs: run directory, live view, report, thresholds, JUnit, history, and the
 * profile collectors that run beside the load, following the order master/report/report.h describes. */
#include "master/results.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/exitcode.h"
#include "common/log.h"
#include "common/rundir.h"
#include "master/history.h"
#include "master/profile/correlate.h"
#include "master/profile/cost.h"
#include "master/profile/leak.h"
#include "master/profile/source.h"
#include "master/profile/timeline.h"
#include "master/report/live.h"
#include "master/report/report.h"
#include "master/report/summary.h"
#include "master/report/verdict.h"
#include "master/thresholds.h"
#include "master/webapi.h"

struct results {
  const master_config *cfg;
  thresholds *th;
  rundir *rd;
  report *rep;
  live *lv;
  json_t *run_info;
  char dir[4096];
  char error[1024];
  int64_t start_wall_ns, last_elapsed_ns;
  size_t intervals, unwritten; /* unwritten: intervals the run directory could not take (disk full) */
  bool finished;
  source_set *profiles;
  webapi *web;
  registry *reg; /* borrowed from results_started on: the workers' CPU for the live view */
};

static void write_run(results *r, const char *status) {
  json_object_set_new(r->run_info, "status", json_string(status));
  if (rundir_write_run(r->rd, r->run_info) < 0) LOG(LOG_WARN, "master: cannot write %s/run.json", r->dir);
}

int results_open(const master_config *cfg, const char *run_id, results **out, char *err, size_t errlen) {
  results *r = calloc(1, sizeof *r);
  bool tty = false, color = false;
  int rc;

  if (!r) return -ENOMEM;
  r->cfg = cfg;
  rc = thresholds_parse(cfg->opt, &r->th, err, errlen);
  if (rc < 0) goto fail;
  rc = rundir_open(cfg->out_dir, cfg->opt->name, NULL, &r->rd, err, errlen);
  if (rc < 0) {
    if (rc == -EINVAL) rc = -EIO; /* a directory problem is a runtime failure, not a scenario error */
    goto fail;
  }
  snprintf(r->dir, sizeof r->dir, "%s", rundir_path(r->rd));
  r->run_info = report_run_json(cfg->opt, cfg->scenario_path);
  rc = r->run_info ? report_create(&r->rep) : -ENOMEM;
  if (rc < 0) goto fail;
  json_object_set_new(r->run_info, "run_id", json_string(run_id));
  json_object_set_new(r->run_info, "start_ms", json_integer(clock_ns_to_ms(clock_wall_ns())));
  write_run(r, "waiting");
  live_detect(STDOUT_FILENO, &tty, &color);
  rc = live_create(stdout, tty && !cfg->quiet, color && !cfg->quiet, cfg->opt->duration_ns, &r->lv);
  if (rc < 0) goto fail;
  live_set_thresholds(r->lv, r->th);
  *out = r;
  return 0;
fail:
  results_close(r, true);
  return rc;
}

void results_note_error(results *r, const char *text) {
  if (!r->error[0]) snprintf(r->error, sizeof r->error, "%s", text);
}

const char *results_error(const results *r) {
  return r->error[0] ? r->error : NULL;
}

static json_t *workers_json(registry *reg) {
  json_t *arr = json_array();
  for (size_t i = 0; i < registry_count(reg); i++) {
    registry_worker *w = registry_at(reg, i);
    json_t *o =
        json_pack("{s:s,s:s,s:i,s:i,s:f,s:f,s:b}", "id", w->id, "hostname", w->hostname, "threads",
                  w->threads, "cores", w->cores, "offset_ms", clock_ns_to_ms_frac((double)w->offset_ns),
                  "rtt_ms", w->rtt_ns >= 0 ? clock_ns_to_ms_frac((double)w->rtt_ns) : -1.0, "live", w->live);
    /* its engine threads' CPU while it ran load (% of their time; 100 = saturated) */
    json_object_set_new(
        o, "cpu_mean_pct",
        json_real(w->cpu_samples ? (double)w->cpu_sum_permille / (double)w->cpu_samples / 10 : 0));
    json_object_set_new(o, "cpu_max_pct", json_real(w->cpu_max_permille / 10.0));
    json_object_set_new(o, "cpu_hot_s", json_integer(w->cpu_hot_longest));
    json_array_append_new(arr, o);
  }
  return arr;
}

/* The busiest running worker for the live view. */
static void live_cpu(results *r) {
  const registry_worker *top = NULL;
  size_t n = 0;
  for (size_t i = 0; r->reg && i < registry_count(r->reg); i++) {
    registry_worker *w = registry_at(r->reg, i);
    if (!w->live || w->state != REGISTRY_RUNNING || w->cpu_samples == 0) continue;
    n++;
    if (!top || w->cpu_permille > top->cpu_permille) top = w;
  }
  live_set_cpu(r->lv, top ? top->cpu_permille / 10.0 : -1, top ? top->id : "", n,
               top && top->cpu_hot >= REGISTRY_CPU_HOT_SAMPLES);
}

/* Profile collectors beside the load (options.profile); a bad entry is logged, the load goes on. */
static void start_profiles(results *r) {
  char dir[4200], err[1024] = "";
  if (r->cfg->opt->nprofiles == 0) return;
  snprintf(dir, sizeof dir, "%s/profiles", r->dir);
  if (source_start(r->cfg->opt->profiles, r->cfg->opt->nprofiles, dir, &r->profiles, err, sizeof err) < 0) {
    LOG(LOG_ERROR, "master: profiles not collected: %s", err);
    r->profiles = NULL;
  } else if (err[0]) {
    LOG(LOG_ERROR, "master: profile entries skipped (the others are collected): %s", err);
  }
}

void results_started(results *r, int64_t start_wall_ns, registry *reg, const char *run_id) {
  (void)run_id;
  r->start_wall_ns = start_wall_ns;
  r->reg = reg;
  start_profiles(r);
  json_object_set_new(r->run_info, "start_ms", json_integer(clock_ns_to_ms(start_wall_ns)));
  json_object_set_new(r->run_info, "workers", workers_json(reg));
  write_run(r, "running");
}

/* The live page's view of this interval, thresholds evaluated on the figures so far. */
static void web_interval(results *r, const stats_interval *iv, const stats_interval *cum,
                         int64_t elapsed_ns) {
  json_t *ths;
  thresholds_eval(r->th, cum, report_duration_s(r->rep));
  ths = verdict_json(r->th);
  webapi_interval(r->web, iv, cum, ths, elapsed_ns);
  json_decref(ths);
}

bool results_interval(results *r, const stats_interval *iv, int64_t elapsed_ns) {
  const stats_interval *cum;
  int rc = rundir_append_interval(r->rd, iv);

  if (rc < 0 && r->unwritten++ == 0)
    LOG(LOG_ERROR,
        "master: cannot write the run directory: %s; the run goes on (live view and final summary keep "
        "every interval), intervals that do not fit are left out of the files whole; free space or use "
        "--out elsewhere",
        rundir_error(r->rd));
  if (report_add_interval(r->rep, iv) < 0)
    LOG(LOG_WARN, "master: out of memory adding an interval to the report");
  r->intervals++;
  r->last_elapsed_ns = elapsed_ns;
  cum = report_cumulative(r->rep);
  live_cpu(r);
  if (!r->cfg->quiet) live_update(r->lv, iv, cum, elapsed_ns);
  if (r->web) web_interval(r, iv, cum, elapsed_ns);
  return thresholds_should_abort(r->th, cum, report_duration_s(r->rep));
}

/* summary.json etc.; 0 or negative errno. */
static int write_report(results *r) {
  char err[1024] = "", root[4096];
  json_t *summary;
  int rc = report_write(r->rep, r->dir, err, sizeof err);

  if (rc < 0) {
    LOG(LOG_ERROR, "master: report not written: %s", err);
    return rc;
  }
  summary = summary_json(r->rep);
  if (r->web) webapi_finished(r->web, json_string_value(json_object_get(r->run_info, "status")), summary);
  history_root_of(r->dir, root, sizeof root);
  if (summary && history_append(root, r->dir, summary) < 0)
    LOG(LOG_WARN, "master: cannot append to %s/%s", root, HISTORY_INDEX);
  json_decref(summary);
  return 0;
}

const stats_interval *results_cumulative(const results *r) {
  return report_cumulative(r->rep);
}

/* CPU cost per request name (cost.h) into the report; a failure only costs the column. */
static void attach_costs(report *rep, const char *dir) {
  char err[512];
  json_t *costs = NULL;
  if (cost_run(dir, &costs, err, sizeof err) < 0)
    LOG(LOG_WARN, "master: %s", err);
  else
    report_set_costs(rep, costs);
}

/* `leak` findings (leak.h) appended to the report's findings. */
static void attach_leaks(report *rep, const char *dir) {
  json_t *findings = report_findings(rep);
  if (!findings) report_set_findings(rep, findings = json_array());
  if (findings && leak_run(dir, findings) < 0)
    LOG(LOG_WARN, "master: leak findings of %s: out of memory", dir);
}

/* The target's heap and GC over the run (timeline.h): charts next to latency, and summary.json's
 * profile_timeline. */
static void attach_timeline(report *rep, const char *dir) {
  json_t *tl = NULL;
  if (timeline_run(dir, &tl) < 0)
    LOG(LOG_WARN, "master: memory and GC timeline of %s: out of memory", dir);
  else if (tl)
    report_set_extra(rep, "profile_timeline", tl);
}

int results_finish(results *r, bool aborted, int64_t late_intervals, registry *reg) {
  const stats_interval *cum = report_cumulative(r->rep);
  bool ok = thresholds_eval(r->th, cum, report_duration_s(r->rep));
  int code = ok ? 0 : EXIT_THRESHOLDS;

  r->finished = true;
  source_stop(r->profiles);
  r->profiles = NULL;
  json_object_set_new(r->run_info, "end_ms", json_integer(clock_ns_to_ms(clock_wall_ns())));
  json_object_set_new(r->run_info, "workers", workers_json(reg));
  json_object_set_new(r->run_info, "late_intervals", json_integer(late_intervals));
  live_set_workers(r->lv, json_object_get(r->run_info, "workers"));
  report_set_thresholds(r->rep, r->th);
  report_set_run(r->rep, r->run_info);
  write_run(r, aborted ? "aborted" : "done");
  if (r->intervals == 0) {
    if (r->web) webapi_finished(r->web, "failed", NULL);
    LOG(LOG_ERROR, "master: no stats arrived from any worker; nothing to report");
    code = EXIT_RUNTIME;
  } else {
    char cerr[512];
    json_t *findings = NULL;
    if (r->cfg->opt && r->cfg->opt->nprofiles > 0) {
      if (correlate_attach(r->dir, &findings, cerr, sizeof cerr) < 0)
        LOG(LOG_WARN, "master: correlation: %s", cerr);
      if (findings) report_set_findings(r->rep, findings);
      live_set_findings(r->lv, report_findings(r->rep)); /* listed after the thresholds */
      attach_costs(r->rep, r->dir);
      attach_leaks(r->rep, r->dir);
      attach_timeline(r->rep, r->dir);
    }
    if (write_report(r) < 0) code = EXIT_RUNTIME;
  }
  if (r->unwritten) {
    LOG(LOG_ERROR, "master: %zu of %zu interval(s) could not be written to %s (last error: %s)", r->unwritten,
        r->intervals, r->dir, rundir_error(r->rd));
    code = EXIT_RUNTIME;
  }
  if (r->cfg->junit_path && verdict_write_junit(r->th, r->cfg->junit_path) < 0)
    LOG(LOG_WARN, "master: cannot write %s", r->cfg->junit_path);
  live_final(r->lv, cum, r->last_elapsed_ns);
  if (r->intervals) printf("report: %s/%s\n", r->dir, RUNDIR_HTML);
  printf("run directory: %s\n", r->dir);
  fflush(stdout);
  return code;
}

void results_set_web(results *r, struct webapi *web) {
  r->web = web;
}

void results_note_change(results *r, json_t *change) {
  json_t *changes = json_object_get(r->run_info, "changes");

  if (!changes) {
    changes = json_array();
    json_object_set_new(r->run_info, "changes", changes);
  }
  json_array_append(changes, change);
  if (rundir_write_run(r->rd, r->run_info) < 0) LOG(LOG_WARN, "master: cannot write %s/run.json", r->dir);
  webapi_change(r->web, change);
  json_decref(change);
}

const struct report *results_report(const results *r) {
  return r->rep;
}

json_t *results_run_info(const results *r) {
  return r->run_info;
}

const char *results_dir(const results *r) {
  return r->dir;
}

void results_close(results *r, bool failed) {
  if (!r) return;
  if (r->rd && !r->finished && failed && r->run_info) write_run(r, "failed");
  source_stop(r->profiles);
  if (r->rd) rundir_close(r->rd);
  report_destroy(r->rep);
  live_destroy(r->lv);
  thresholds_destroy(r->th);
  json_decref(r->run_info);
  free(r);
}
