/* rebuild.c - read a run directory back into a report (`loadctl report DIR`): histograms exactly from
 * latency.hlog, counters from intervals.jsonl, so a run killed with kill -9 is reported up to its last
 * full interval; a torn last line is expected and said, not fatal. */
#include "master/report/rebuild.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/clock.h"
#include "common/hlog.h"
#include "common/jsonlines.h"
#include "common/msgtag.h"
#include "common/rundir.h"
#include "master/profile/correlate.h"
#include "master/profile/cost.h"
#include "master/profile/leak.h"
#include "master/profile/timeline.h"

/* A .jsonl file read line by line, with one line of look-ahead. */
typedef struct jsonl {
  jsonlines *r;
  const char *file;
  json_t *pending;
  FILE *notes;
} jsonl;

static void skipped(void *ctx, long lineno, const char *why);

static int jsonl_open(jsonl *j, const char *dir, const char *name, FILE *notes) {
  char path[4096];

  memset(j, 0, sizeof *j);
  snprintf(path, sizeof path, "%s/%s", dir, name);
  j->file = name;
  j->notes = notes;
  return jsonlines_open(path, skipped, j, &j->r);
}

static void jsonl_close(jsonl *j) {
  jsonlines_close(j->r);
  json_decref(j->pending);
}

static void note(FILE *notes, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(FILE *notes, const char *fmt, ...) {
  va_list ap;

  if (!notes) return;
  va_start(ap, fmt);
  vfprintf(notes, fmt, ap);
  va_end(ap);
  fputc('\n', notes);
}

/* common/jsonlines skips torn and bad lines; each gets a note. */
static void skipped(void *ctx, long lineno, const char *why) {
  const jsonl *j = ctx;
  if (why[0] == 't')
    note(j->notes, "%s: line %ld is truncated (the run was cut off while writing it); ignored", j->file,
         lineno);
  else
    note(j->notes, "%s: line %ld is not a JSON object; skipped", j->file, lineno);
}

/* Peek at the next valid line (borrowed; NULL at end). */
static json_t *jsonl_peek(jsonl *j) {
  if (!j->pending && j->r) j->pending = jsonlines_next(j->r);
  return j->pending;
}

static json_t *jsonl_take(jsonl *j) {
  json_t *v = jsonl_peek(j);
  j->pending = NULL;
  return v;
}

static const char *jstring(const json_t *o, const char *key) {
  const char *v = json_string_value(json_object_get(o, key));
  return v ? v : "";
}

static int64_t jint(const json_t *o, const char *key) {
  return (int64_t)json_integer_value(json_object_get(o, key));
}

static int err_kind(const char *name) {
  int kind = stats_err_parse(name);
  return kind == STATS_ERR_NONE ? STATS_ERR_OTHER : kind;
}

/* Fill e's counters from one intervals.jsonl line. */
static void fill_entry(stats_entry *e, const json_t *line) {
  const json_t *err = json_object_get(line, "err"), *fails = json_object_get(line, "failures"), *v, *f;
  const char *key;
  size_t i;

  e->count = jint(line, "count");
  e->errors = jint(line, "errors");
  e->bytes_in = jint(line, "bytes_in");
  e->bytes_out = jint(line, "bytes_out");
  json_object_foreach((json_t *)err, key, v) e->err[err_kind(key)] += (int64_t)json_integer_value(v);
  json_array_foreach(fails, i, f) {
    stats_failure *sf;
    if (e->nfailures >= STATS_FAILURES) break;
    sf = &e->failures[e->nfailures++];
    sf->kind = err_kind(json_string_value(json_object_get(f, "kind")));
    snprintf(sf->message, sizeof sf->message, "%s", jstring(f, "message"));
    sf->count = jint(f, "count");
  }
}

static void fill_total(stats_interval *iv, const json_t *line) {
  const json_t *checks = json_object_get(line, "checks"), *c;
  size_t i;

  iv->users = jint(line, "users");
  iv->rate = json_number_value(json_object_get(line, "rate"));
  iv->dropped = jint(line, "dropped");
  iv->new_conns = jint(line, "new_conns");
  iv->iterations = jint(line, "iterations");
  json_array_foreach(checks, i, c) {
    stats_check *sc = stats_check_get(iv, jstring(c, "name"));
    if (!sc) continue;
    sc->passes = jint(c, "passes");
    sc->fails = jint(c, "fails");
  }
  json_array_foreach(json_object_get(line, "metrics"), i, c)
      metric_from_json(&iv->metrics, &iv->nmetrics, &iv->capmetrics, c);
  msgtag_from_json(json_object_get(line, "tagged"), iv);
  iv->tagged_dropped = jint(line, "tagged_dropped");
}

typedef struct loader {
  const char *dir;
  report *rep;
  jsonl intervals, exemplars;
  hlog_reader *hlog;
  hlog_entry pending;
  int has_pending;
  FILE *history;
  char *history_buf;
  size_t history_len;
  FILE *notes;
  long added, missing_hist;
} loader;

enum { TAG_LATENCY = -1, TAG_SERVICE = -2 }; /* else a tag names a phase (enum stats_phase) */

/* Which histogram of an entry tag holds: TAG_LATENCY (tag is the escaped name), TAG_SERVICE
 * (RUNDIR_HLOG_SERVICE + name) or a timing phase (RUNDIR_HLOG_PHASE + phase + ':' + name); *name_at is
 * where the escaped name starts. */
static int tag_kind(const char *tag, const char **name_at) {
  size_t plen = strlen(RUNDIR_HLOG_PHASE);
  *name_at = tag;
  if (strncmp(tag, RUNDIR_HLOG_SERVICE, strlen(RUNDIR_HLOG_SERVICE)) == 0) {
    *name_at = tag + strlen(RUNDIR_HLOG_SERVICE);
    return TAG_SERVICE;
  }
  if (strncmp(tag, RUNDIR_HLOG_PHASE, plen) != 0) return TAG_LATENCY;
  for (int k = 0; k < STATS_PHASE_COUNT; k++) {
    size_t nlen = strlen(stats_phase_name(k));
    if (strncmp(tag + plen, stats_phase_name(k), nlen) == 0 && tag[plen + nlen] == ':') {
      *name_at = tag + plen + nlen + 1;
      return k;
    }
  }
  return TAG_LATENCY;
}

/* The histogram tagged tag goes into the entry of that name, when that histogram of it is still empty. */
static void attach_one(stats_interval *iv, const char *tag, const hist *h) {
  const char *name;
  int kind = tag_kind(tag, &name);
  char name_tag[256];

  for (size_t i = 0; i < iv->nentries; i++) {
    stats_entry *e = &iv->entries[i];
    hlog_tag(e->name, name_tag, sizeof name_tag);
    if (strcmp(name_tag, name) != 0) continue;
    hist *dst = kind == TAG_LATENCY   ? e->latency
                : kind == TAG_SERVICE ? e->service
                                      : stats_entry_phase(e, kind);
    if (dst && hist_count(dst) == 0) {
      hist_add(dst, h);
      return;
    }
  }
}

/* Put the hlog histograms stamped t into iv's entries (by escaped tag). */
static void attach_hists(loader *ld, stats_interval *iv, int64_t t) {
  while (ld->hlog) {
    if (!ld->has_pending) {
      if (hlog_reader_next(ld->hlog, &ld->pending) <= 0) break;
      ld->has_pending = 1;
    }
    if (ld->pending.start_ms > t) break;
    if (ld->pending.start_ms == t && ld->pending.tag[0]) attach_one(iv, ld->pending.tag, ld->pending.hist);
    hist_destroy(ld->pending.hist);
    ld->has_pending = 0;
  }
}

static int read_exemplars(const json_t *list, stats_exemplar *x, int max) {
  const json_t *v;
  size_t i;
  int n = 0;

  json_array_foreach(list, i, v) {
    if (n >= max) break;
    snprintf(x[n].trace_id, sizeof x[n].trace_id, "%s", jstring(v, "trace_id"));
    snprintf(x[n].span_id, sizeof x[n].span_id, "%s", jstring(v, "span_id"));
    x[n].latency_us = (int64_t)clock_ms_to_us(json_number_value(json_object_get(v, "latency_ms")));
    x[n++].wall_ms = jint(v, "wall_ms");
  }
  return n;
}

static void attach_exemplars(loader *ld, stats_interval *iv, int64_t t) {
  json_t *line;

  while ((line = jsonl_peek(&ld->exemplars)) && jint(line, "t") <= t) {
    stats_entry *e = jint(line, "t") == t ? stats_entry_find(iv, jstring(line, "name")) : NULL;
    if (e) {
      e->nslow = read_exemplars(json_object_get(line, "slow"), e->slow, STATS_EXEMPLARS);
      e->ntypical = read_exemplars(json_object_get(line, "typical"), e->typical, STATS_EXEMPLARS);
    }
    json_decref(jsonl_take(&ld->exemplars));
  }
}

/* No histogram in latency.hlog for a line that counted requests (log damaged or deleted): rebuild an
 * approximate one from the percentiles the line states, so the report is not silently empty. */
static void approximate(hist *h, const json_t *line, int64_t count) {
  static const struct {
    const char *key;
    double share;
  } parts[] = {{"p50_ms", 0.50}, {"p90_ms", 0.40},   {"p95_ms", 0.05},
               {"p99_ms", 0.04}, {"p999_ms", 0.009}, {"max_ms", 0.001}};
  int64_t left = count;

  for (size_t k = 0; k < sizeof parts / sizeof parts[0] && left > 0; k++) {
    int64_t n = k + 1 == sizeof parts / sizeof parts[0] ? left : (int64_t)((double)count * parts[k].share);
    if (n > left) n = left;
    if (n > 0)
      hist_record_n(h, (int64_t)clock_ms_to_us(json_number_value(json_object_get(line, parts[k].key))), n);
    left -= n;
  }
}

/* Build one interval from its name lines (stolen) and its "(all)" line, and add it. */
static int finish_interval(loader *ld, json_t *lines, const json_t *total) {
  int64_t t = jint(total, "t");
  stats_interval *iv;
  json_t *line;
  size_t i;
  int rc = stats_create(&iv, t, jint(total, "interval_ms"));

  if (rc < 0) return rc;
  json_array_foreach(lines, i, line) {
    stats_entry *e = stats_entry_get(iv, jstring(line, "name"), jstring(line, "method"));
    if (e) fill_entry(e, line);
  }
  fill_total(iv, total);
  attach_hists(ld, iv, t);
  attach_exemplars(ld, iv, t);
  json_array_foreach(lines, i, line) {
    stats_entry *e = stats_entry_find(iv, jstring(line, "name"));
    if (e && e->count > e->errors && hist_count(e->latency) == 0) {
      approximate(e->latency, line, e->count);
      ld->missing_hist++;
    }
  }
  rc = report_add_interval(ld->rep, iv);
  if (rc == 0 && ld->history) rc = rundir_history_rows(ld->history, iv, report_cumulative(ld->rep));
  stats_destroy(iv);
  ld->added++;
  return rc;
}

/* Read intervals.jsonl; an interval counts once its "(all)" line (written last) is in. */
static int load_intervals(loader *ld) {
  json_t *lines = json_array(), *line;
  int rc = 0;

  while (rc == 0 && (line = jsonl_take(&ld->intervals))) {
    const char *name = json_string_value(json_object_get(line, "name"));
    if (json_array_size(lines) && jint(json_array_get(lines, 0), "t") != jint(line, "t")) {
      note(ld->notes, "%s: interval before line %ld has no \"(all)\" line; dropped", RUNDIR_INTERVALS,
           jsonlines_lineno(ld->intervals.r));
      json_array_clear(lines);
    }
    if (name && strcmp(name, RUNDIR_TOTAL_NAME) == 0) {
      rc = finish_interval(ld, lines, line);
      json_array_clear(lines);
      json_decref(line);
    } else {
      json_array_append_new(lines, line);
    }
  }
  if (json_array_size(lines))
    note(ld->notes, "%s: the last interval (before line %ld) is incomplete (run cut off); ignored",
         RUNDIR_INTERVALS, jsonlines_lineno(ld->intervals.r) + 1);
  json_decref(lines);
  return rc;
}

/* Re-evaluate the thresholds run.json lists. */
static thresholds *load_thresholds(loader *ld, const json_t *run) {
  const json_t *list = json_object_get(run, "thresholds"), *t;
  const char *exprs[OPTIONS_MAX_THRESHOLDS];
  bool aborts[OPTIONS_MAX_THRESHOLDS];
  size_t i, n = 0;
  thresholds *th;
  char err[600];

  json_array_foreach(list, i, t) {
    if (n >= OPTIONS_MAX_THRESHOLDS) break;
    exprs[n] = json_is_string(t) ? json_string_value(t) : json_string_value(json_object_get(t, "expr"));
    aborts[n] = json_is_true(json_object_get(t, "abort_on_fail"));
    if (exprs[n]) n++;
  }
  if (n == 0) return NULL;
  if (thresholds_parse_list(exprs, aborts, n, &th, err, sizeof err) < 0) {
    if (ld->notes) fprintf(ld->notes, "%s: %s; thresholds not evaluated\n", RUNDIR_RUN, err);
    return NULL;
  }
  thresholds_eval(th, report_cumulative(ld->rep), report_duration_s(ld->rep));
  report_set_thresholds(ld->rep, th);
  return th;
}

/* Findings: a run with profiles is correlated again by the same end-of-run step as the live run
 * (correlate_attach: findings, profile section, exports); without profiles an earlier summary.json's are
 * kept. 1 when correlation ran. */
static int correlate_again(loader *ld) {
  char path[4096], err[512];
  json_t *findings = NULL;
  struct stat st;

  snprintf(path, sizeof path, "%s/profiles/index.jsonl", ld->dir);
  if (stat(path, &st) != 0) return 0;
  if (correlate_attach(ld->dir, &findings, err, sizeof err) < 0) note(ld->notes, "profiles: %s", err);
  if (!findings) return 0; /* correlation itself failed: an earlier summary.json's findings are kept */
  report_set_findings(ld->rep, findings);
  return 1;
}

/* Keep findings (unless correlated again) and extra keys of an earlier summary.json. */
static void keep_summary_extras(loader *ld) {
  static const char *const own[] = {"run", "totals", "requests", "checks", "thresholds", "findings"};
  char path[4096];
  json_t *old, *v;
  const char *key;

  snprintf(path, sizeof path, "%s/%s", ld->dir, RUNDIR_SUMMARY);
  int fresh = correlate_again(ld);
  if (!(old = json_load_file(path, 0, NULL))) return;
  if (!fresh && json_array_size(json_object_get(old, "findings")))
    report_set_findings(ld->rep, json_incref(json_object_get(old, "findings")));
  json_object_foreach(old, key, v) {
    bool mine = false;
    for (size_t i = 0; i < sizeof own / sizeof own[0]; i++) mine |= strcmp(key, own[i]) == 0;
    if (!mine) report_set_extra(ld->rep, key, json_incref(v));
  }
  json_decref(old);
}

static int open_inputs(loader *ld, char *err, size_t errlen) {
  char path[4096];
  int rc = jsonl_open(&ld->intervals, ld->dir, RUNDIR_INTERVALS, ld->notes);

  if (rc < 0) {
    snprintf(err, errlen, "'%s' is not a run directory: cannot read %s: %s", ld->dir, RUNDIR_INTERVALS,
             strerror(-rc));
    return rc;
  }
  if (jsonl_open(&ld->exemplars, ld->dir, RUNDIR_EXEMPLARS, ld->notes) < 0)
    note(ld->notes, "%s: missing (no exemplars in the report)", RUNDIR_EXEMPLARS);
  snprintf(path, sizeof path, "%s/%s", ld->dir, RUNDIR_HLOG);
  if (hlog_reader_open(path, &ld->hlog) < 0) {
    ld->hlog = NULL;
    note(ld->notes, "%s: missing (latency percentiles will be empty)", RUNDIR_HLOG);
  }
  ld->history = open_memstream(&ld->history_buf, &ld->history_len);
  if (ld->history) rundir_history_header(ld->history);
  return 0;
}

static void close_inputs(loader *ld) {
  jsonl_close(&ld->intervals);
  jsonl_close(&ld->exemplars);
  if (ld->has_pending) hist_destroy(ld->pending.hist);
  if (ld->hlog && hlog_reader_bad_lines(ld->hlog))
    note(ld->notes, "%s: %d malformed or truncated line(s) skipped", RUNDIR_HLOG,
         hlog_reader_bad_lines(ld->hlog));
  hlog_reader_close(ld->hlog);
  if (ld->history) fclose(ld->history);
  free(ld->history_buf);
}

/* A run.json still saying "waiting"/"running" belongs to a run that never finished (kill -9, crash). */
static void mark_interrupted(json_t *run, FILE *notes) {
  const char *status = json_string_value(json_object_get(run, "status"));

  if (!status || (strcmp(status, "running") != 0 && strcmp(status, "waiting") != 0)) return;
  note(notes, "%s: status is \"%s\": the run was cut off; reporting it as \"interrupted\"", RUNDIR_RUN,
       status);
  json_object_set_new(run, "status", json_string("interrupted"));
}

/* CPU cost per request name (cost.h), computed again from the saved profiles like the live run's. */
static void load_costs(loader *ld) {
  char err[512];
  json_t *costs = NULL;
  if (cost_run(ld->dir, &costs, err, sizeof err) < 0)
    note(ld->notes, "profiles: %s", err);
  else if (json_object_size(costs))
    report_set_costs(ld->rep, costs);
  else
    json_decref(costs);
}

/* `leak` findings (leak.h), computed again from the saved heap windows, appended to the findings. */
static void load_leaks(loader *ld) {
  json_t *findings = report_findings(ld->rep);
  if (!findings) report_set_findings(ld->rep, findings = json_array());
  if (findings && leak_run(ld->dir, findings) < 0) note(ld->notes, "profiles: leak findings: out of memory");
}

/* The heap and GC timeline (timeline.h) from the saved windows, like the live run's; a run without heap or
 * Go CPU windows keeps an earlier summary.json's. */
static void load_timeline(loader *ld) {
  json_t *tl = NULL;
  if (timeline_run(ld->dir, &tl) < 0)
    note(ld->notes, "profiles: memory and GC timeline: out of memory");
  else if (tl)
    report_set_extra(ld->rep, "profile_timeline", tl);
}

int rebuild_load(const char *dir, report **out, thresholds **th_out, FILE *notes, char *err, size_t errlen) {
  loader ld;
  char path[4096];
  json_t *run;
  thresholds *th;
  int rc;

  if (th_out) *th_out = NULL;
  memset(&ld, 0, sizeof ld);
  ld.dir = dir;
  ld.notes = notes;
  if ((rc = report_create(&ld.rep)) < 0) return rc;
  if ((rc = open_inputs(&ld, err, errlen)) < 0) goto fail;
  snprintf(path, sizeof path, "%s/%s", dir, RUNDIR_RUN);
  run = json_load_file(path, 0, NULL);
  if (!run) note(notes, "%s: missing or unreadable; run metadata and thresholds unknown", RUNDIR_RUN);
  mark_interrupted(run, notes);
  report_set_run(ld.rep, run);
  if ((rc = load_intervals(&ld)) < 0) {
    snprintf(err, errlen, "cannot load '%s': %s", dir, strerror(-rc));
    goto fail;
  }
  if (ld.added == 0) {
    snprintf(err, errlen, "'%s' holds no complete interval (%s is empty or cut off before the first)", dir,
             RUNDIR_INTERVALS);
    rc = -EINVAL;
    json_decref(run);
    goto fail;
  }
  if (ld.missing_hist)
    note(notes,
         "%s: %ld name-interval(s) have counts but no histogram; their latency is approximated from the "
         "percentiles in %s",
         RUNDIR_HLOG, ld.missing_hist, RUNDIR_INTERVALS);
  th = load_thresholds(&ld, run);
  if (th_out)
    *th_out = th;
  else
    thresholds_destroy(th);
  json_decref(run);
  keep_summary_extras(&ld);
  load_costs(&ld);
  load_leaks(&ld);
  load_timeline(&ld);
  if (ld.history && fflush(ld.history) == 0)
    rundir_write_file(dir, RUNDIR_HISTORY_CSV, ld.history_buf, ld.history_len);
  close_inputs(&ld);
  *out = ld.rep;
  return 0;
fail:
  close_inputs(&ld);
  report_destroy(ld.rep);
  return rc;
}

int rebuild_run(const char *dir, FILE *notes, bool *thresholds_ok, char *err, size_t errlen) {
  report *rep;
  const json_t *ths, *t;
  size_t i;
  int rc = rebuild_load(dir, &rep, NULL, notes, err, errlen);

  if (rc < 0) return rc;
  if (thresholds_ok) {
    *thresholds_ok = true;
    ths = report_thresholds_json(rep);
    json_array_foreach(ths, i, t) if (!json_is_true(json_object_get(t, "ok"))) *thresholds_ok = false;
  }
  rc = report_write(rep, dir, err, errlen);
  report_destroy(rep);
  return rc;
}
