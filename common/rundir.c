/* rundir.c - the run directory written as the run goes (crash-safe: every interval is appended,
 * flushed and fdatasync'd), so `loadctl report` can rebuild a run that was killed with kill -9. */
#include "common/rundir.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio_ext.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/csv.h"
#include "common/hlog.h"
#include "common/msgtag.h"
#include "common/secret.h"

enum { F_INTERVALS, F_HLOG, F_EXEMPLARS, F_HISTORY, F_COUNT };

struct rundir {
  char *path;
  FILE *intervals, *hlog, *exemplars, *history;
  off_t committed[F_COUNT]; /* each streaming file's size after the last interval written in full */
  stats_interval *cum;      /* cumulative, for stats_history.csv's "Total" columns */
  int64_t hlog_start_ms;
  int hlog_started;
  char error[4400]; /* the last append failure: "<dir>/<file>: <reason>" */
};

static const char *const stream_names[F_COUNT] = {RUNDIR_INTERVALS, RUNDIR_HLOG, RUNDIR_EXEMPLARS,
                                                  RUNDIR_HISTORY_CSV};

static FILE *stream(const rundir *rd, int which) {
  FILE *const files[F_COUNT] = {rd->intervals, rd->hlog, rd->exemplars, rd->history};
  return files[which];
}

static const double history_pcts[] = {50, 66, 75, 80, 90, 95, 98, 99, 99.9, 99.99, 100};

/* mkdir -p; 0 or negative errno. */
static int mkdirs(const char *path) {
  char buf[4096];
  size_t len = strlen(path);

  if (len == 0 || len >= sizeof buf) return -ENAMETOOLONG;
  memcpy(buf, path, len + 1);
  for (char *p = buf + 1; *p; p++) {
    if (*p != '/') continue;
    *p = 0;
    if (mkdir(buf, 0755) < 0 && errno != EEXIST) return -errno;
    *p = '/';
  }
  if (mkdir(buf, 0755) < 0 && errno != EEXIST) return -errno;
  return 0;
}

/* Scenario name made safe for a path component. */
static void safe_name(const char *name, char *buf, size_t size) {
  size_t i = 0;
  for (; name && name[i] && i + 1 < size; i++) {
    char c = name[i];
    buf[i] = (c == '/' || c == ' ' || c == '\\' || (unsigned char)c < 32) ? '_' : c;
  }
  buf[i] = 0;
  if (i == 0) snprintf(buf, size, "run");
}

/* Create a fresh <root>/<time>-<name>[-N] directory into *out (malloc'd). */
static int make_run_dir(const char *root, const char *scenario, char **out) {
  char stamp[32], name[128], path[4096];
  int rc = mkdirs(root);

  if (rc < 0) return rc;
  clock_format_wall(clock_ns_to_ms(clock_wall_ns()), stamp, sizeof stamp);
  safe_name(scenario, name, sizeof name);
  for (int n = 1; n < 1000; n++) {
    if (n == 1)
      snprintf(path, sizeof path, "%s/%s-%s", root, stamp, name);
    else
      snprintf(path, sizeof path, "%s/%s-%s-%d", root, stamp, name, n);
    if (mkdir(path, 0755) == 0) {
      *out = strdup(path);
      return *out ? 0 : -ENOMEM;
    }
    if (errno != EEXIST) return -errno;
  }
  return -EEXIST;
}

static FILE *open_in(const char *dir, const char *name, int *rc) {
  char path[4096];
  FILE *f;

  snprintf(path, sizeof path, "%s/%s", dir, name);
  f = fopen(path, "w");
  if (!f && *rc == 0) *rc = -errno;
  return f;
}

/* --out reused: drop the final files and plug-in sections of the earlier run, so a new run that is cut
 * off is never reported with the old one's summary, findings or sections. */
static void remove_stale(const char *dir) {
  static const char *const finals[] = {RUNDIR_SUMMARY, RUNDIR_STATS_CSV, RUNDIR_FAILURES_CSV, RUNDIR_HTML};
  char path[4200];
  DIR *d;
  struct dirent *de;

  for (size_t i = 0; i < sizeof finals / sizeof finals[0]; i++) {
    snprintf(path, sizeof path, "%s/%s", dir, finals[i]);
    unlink(path);
  }
  snprintf(path, sizeof path, "%s/%s", dir, RUNDIR_SECTIONS);
  if (!(d = opendir(path))) return;
  while ((de = readdir(d))) {
    char file[4500];
    if (de->d_name[0] == '.') continue;
    snprintf(file, sizeof file, "%s/%s", path, de->d_name);
    unlink(file);
  }
  closedir(d);
}

int rundir_open(const char *out_dir, const char *scenario_name, const char *runs_root, rundir **out,
                char *err, size_t errlen) {
  rundir *rd = calloc(1, sizeof *rd);
  int rc = 0;

  if (!rd) return -ENOMEM;
  if (out_dir) {
    rc = mkdirs(out_dir);
    if (rc == 0 && !(rd->path = strdup(out_dir))) rc = -ENOMEM;
    if (rc == 0) remove_stale(out_dir);
  } else {
    rc = make_run_dir(runs_root ? runs_root : "runs", scenario_name, &rd->path);
  }
  if (rc < 0) {
    snprintf(err, errlen, "cannot create run directory under '%s': %s (use --out DIR with a writable path)",
             out_dir     ? out_dir
             : runs_root ? runs_root
                         : "runs",
             strerror(-rc));
    goto fail;
  }
  rd->intervals = open_in(rd->path, RUNDIR_INTERVALS, &rc);
  rd->hlog = open_in(rd->path, RUNDIR_HLOG, &rc);
  rd->exemplars = open_in(rd->path, RUNDIR_EXEMPLARS, &rc);
  rd->history = open_in(rd->path, RUNDIR_HISTORY_CSV, &rc);
  if (rc == 0) rc = stats_create(&rd->cum, 0, 0);
  if (rc == 0) rc = rundir_history_header(rd->history);
  if (rc == 0 && fflush(rd->history) != 0) rc = -errno;
  for (int i = 0; i < F_COUNT && rc == 0; i++) rd->committed[i] = ftello(stream(rd, i));
  if (rc < 0) {
    snprintf(err, errlen, "cannot write into run directory '%s': %s", rd->path, strerror(-rc));
    goto fail;
  }
  *out = rd;
  return 0;
fail:
  rundir_close(rd);
  return rc;
}

const char *rundir_path(const rundir *rd) {
  return rd->path;
}

int rundir_write_file(const char *dir, const char *name, const char *data, size_t len) {
  char path[4096], tmp[4200];
  FILE *f;
  int rc = 0;

  char *shown = NULL;

  if (!memchr(data, 0, len)) { /* text: secrets hidden (common/secret.h) */
    if (!(shown = secret_scrub_dup(data, len))) return -ENOMEM;
    data = shown;
    len = strlen(shown);
  }
  snprintf(path, sizeof path, "%s/%s", dir, name);
  snprintf(tmp, sizeof tmp, "%s.tmp", path);
  f = fopen(tmp, "w");
  if (!f) {
    rc = -errno;
    free(shown);
    return rc;
  }
  if (fwrite(data, 1, len, f) != len || fflush(f) != 0 || fdatasync(fileno(f)) != 0)
    rc = errno ? -errno : -EIO;
  free(shown);
  if (fclose(f) != 0 && rc == 0) rc = -errno;
  if (rc == 0 && rename(tmp, path) != 0) rc = -errno;
  if (rc < 0) unlink(tmp);
  return rc;
}

int rundir_write_stream(const char *dir, const char *name, rundir_fill_fn fill, void *ctx) {
  char *buf = NULL, parent[4096];
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  int rc;

  if (!f) return -ENOMEM;
  rc = fill(f, ctx);
  if (fclose(f) != 0 && rc == 0) rc = -ENOMEM;
  if (rc == 0 && !dir) { /* a path: split it into its directory and file name */
    const char *slash = strrchr(name, '/');
    snprintf(parent, sizeof parent, "%.*s", slash ? (int)(slash - name) : 1, slash ? name : ".");
    dir = slash == name ? "" : parent;
    name = slash ? slash + 1 : name;
  }
  if (rc == 0) rc = rundir_write_file(dir, name, buf, len);
  free(buf);
  return rc;
}

/* 15 significant digits (RUNDIR_JSON_REALS): epoch seconds to the ms (a window finding's spans) */
int rundir_write_json(const char *dir, const char *name, const json_t *value) {
  char *text = json_dumps(value, JSON_INDENT(2) | RUNDIR_JSON_REALS);
  char *with_nl;
  size_t len;
  int rc;

  if (!text) return -ENOMEM;
  len = strlen(text);
  with_nl = realloc(text, len + 2);
  if (!with_nl) {
    free(text);
    return -ENOMEM;
  }
  with_nl[len++] = '\n';
  with_nl[len] = 0;
  rc = rundir_write_file(dir, name, with_nl, len);
  free(with_nl);
  return rc;
}

int rundir_write_run(rundir *rd, const json_t *run_info) {
  return rundir_write_json(rd->path, RUNDIR_RUN, run_info);
}

int rundir_history_header(FILE *f) {
  return fputs(
             "Timestamp,User Count,Type,Name,Requests/s,Failures/s,50%,66%,75%,80%,90%,95%,98%,99%,99.9%,"
             "99.99%,100%,Total Request Count,Total Failure Count,Total Median Response Time,"
             "Total Average Response Time,Total Min Response Time,Total Max Response Time,"
             "Total Average Content Size\n",
             f) < 0
             ? -EIO
             : 0;
}

/* Merge of all entries' latency histograms of s into a new histogram (NULL on -ENOMEM). */
static hist *merged_latency(const stats_interval *s, int64_t *count, int64_t *errors, int64_t *bytes) {
  hist *h;

  if (hist_create(&h) < 0) return NULL;
  *count = *errors = *bytes = 0;
  for (size_t i = 0; i < s->nentries; i++) {
    if (s->entries[i].latency) hist_add(h, s->entries[i].latency);
    *count += s->entries[i].count;
    *errors += s->entries[i].errors;
    *bytes += s->entries[i].bytes_in;
  }
  return h;
}

/* One stats_history.csv row. */
static int history_row(FILE *f, const stats_interval *iv, const char *type, const char *name, const hist *lat,
                       int64_t count, int64_t errors, const hist *tlat, int64_t tcount, int64_t terrors,
                       int64_t tbytes) {
  double secs = iv->interval_ms > 0 ? clock_ms_to_s((double)iv->interval_ms) : 1.0;
  int rc = 0;

  fprintf(f, "%" PRId64 ",%" PRId64 ",", (iv->start_ms + iv->interval_ms) / CLOCK_MS_PER_S, iv->users);
  csv_field(f, type);
  fputc(',', f);
  csv_field(f, name);
  fprintf(f, ",%.2f,%.2f", (double)count / secs, (double)errors / secs);
  for (size_t i = 0; i < sizeof history_pcts / sizeof history_pcts[0]; i++) {
    fputc(',', f);
    csv_ms(f, hist_count(lat) ? hist_pct_ms(lat, history_pcts[i]) : NAN);
  }
  fprintf(f, ",%" PRId64 ",%" PRId64 ",", tcount, terrors);
  csv_ms(f, hist_pct_ms(tlat, 50));
  fputc(',', f);
  csv_ms(f, clock_us_to_ms(hist_mean(tlat)));
  fputc(',', f);
  csv_ms(f, clock_us_to_ms((double)hist_min(tlat)));
  fputc(',', f);
  csv_ms(f, clock_us_to_ms((double)hist_max(tlat)));
  if (fprintf(f, ",%.2f\n", tcount ? (double)tbytes / (double)tcount : 0.0) < 0) rc = -EIO;
  return rc;
}

int rundir_history_rows(FILE *f, const stats_interval *iv, const stats_interval *cum) {
  hist *all = NULL, *tall = NULL;
  int64_t count = 0, errors = 0, bytes = 0, tcount = 0, terrors = 0, tbytes = 0;
  int rc = 0;

  for (size_t i = 0; i < iv->nentries && rc == 0; i++) {
    const stats_entry *e = &iv->entries[i];
    const stats_entry *t = stats_entry_find(cum, e->name);
    if (!t) t = e;
    rc = history_row(f, iv, e->method, e->name, e->latency, e->count, e->errors, t->latency, t->count,
                     t->errors, t->bytes_in);
  }
  all = merged_latency(iv, &count, &errors, &bytes);
  tall = merged_latency(cum, &tcount, &terrors, &tbytes);
  if (!all || !tall) rc = -ENOMEM;
  if (rc == 0) rc = history_row(f, iv, "", "Aggregated", all, count, errors, tall, tcount, terrors, tbytes);
  if (all) hist_destroy(all);
  if (tall) hist_destroy(tall);
  return rc;
}

void rundir_put_latency(json_t *o, const hist *h) {
  json_object_set_new(o, "p50_ms", json_real(hist_pct_ms(h, 50)));
  json_object_set_new(o, "p90_ms", json_real(hist_pct_ms(h, 90)));
  json_object_set_new(o, "p95_ms", json_real(hist_pct_ms(h, 95)));
  json_object_set_new(o, "p99_ms", json_real(hist_pct_ms(h, 99)));
  json_object_set_new(o, "p999_ms", json_real(hist_pct_ms(h, 99.9)));
  json_object_set_new(o, "max_ms", json_real(h ? clock_us_to_ms((double)hist_max(h)) : 0));
  json_object_set_new(o, "min_ms", json_real(h ? clock_us_to_ms((double)hist_min(h)) : 0));
  json_object_set_new(o, "mean_ms", json_real(h ? clock_us_to_ms(hist_mean(h)) : 0));
}

static int put_line(FILE *f, json_t *o) {
  int rc = json_dumpf(o, f, JSON_COMPACT | RUNDIR_JSON_REALS) < 0 || fputc('\n', f) == EOF ? -EIO : 0;
  json_decref(o);
  return rc;
}

static json_t *entry_line(const stats_interval *iv, const stats_entry *e) {
  double secs = iv->interval_ms > 0 ? clock_ms_to_s((double)iv->interval_ms) : 1.0;
  json_t *o = json_object(), *err = json_object(), *fails = json_array();

  json_object_set_new(o, "t", json_integer(iv->start_ms));
  json_object_set_new(o, "interval_ms", json_integer(iv->interval_ms));
  json_object_set_new(o, "name", json_string(e->name));
  json_object_set_new(o, "method", json_string(e->method));
  json_object_set_new(o, "count", json_integer(e->count));
  json_object_set_new(o, "errors", json_integer(e->errors));
  json_object_set_new(o, "rps", json_real((double)e->count / secs));
  rundir_put_latency(o, e->latency);
  for (int k = STATS_ERR_FIRST; k < STATS_ERR_COUNT; k++)
    if (e->err[k]) json_object_set_new(err, stats_err_name(k), json_integer(e->err[k]));
  json_object_set_new(o, "err", err);
  json_object_set_new(o, "bytes_in", json_integer(e->bytes_in));
  json_object_set_new(o, "bytes_out", json_integer(e->bytes_out));
  for (int k = 0; k < e->nfailures; k++)
    json_array_append_new(fails,
                          json_pack("{s:s,s:s,s:I}", "kind", stats_err_name(e->failures[k].kind), "message",
                                    e->failures[k].message, "count", (json_int_t)e->failures[k].count));
  json_object_set_new(o, "failures", fails);
  return o;
}

/* The "(all)" line: totals plus the run-level values (users, rate, dropped, iterations, checks). */
static json_t *total_line(const stats_interval *iv, const hist *all, int64_t count, int64_t errors) {
  double secs = iv->interval_ms > 0 ? clock_ms_to_s((double)iv->interval_ms) : 1.0;
  json_t *o = json_object(), *checks = json_array();

  json_object_set_new(o, "t", json_integer(iv->start_ms));
  json_object_set_new(o, "interval_ms", json_integer(iv->interval_ms));
  json_object_set_new(o, "name", json_string(RUNDIR_TOTAL_NAME));
  json_object_set_new(o, "count", json_integer(count));
  json_object_set_new(o, "errors", json_integer(errors));
  json_object_set_new(o, "rps", json_real((double)count / secs));
  rundir_put_latency(o, all);
  json_object_set_new(o, "users", json_integer(iv->users));
  json_object_set_new(o, "rate", json_real(iv->rate));
  json_object_set_new(o, "dropped", json_integer(iv->dropped));
  json_object_set_new(o, "new_conns", json_integer(iv->new_conns));
  json_object_set_new(o, "new_conns_per_s", json_real((double)iv->new_conns / secs));
  json_object_set_new(o, "iterations", json_integer(iv->iterations));
  json_object_set_new(o, "names", json_integer((json_int_t)iv->nentries));
  for (size_t i = 0; i < iv->nchecks; i++)
    json_array_append_new(
        checks, json_pack("{s:s,s:I,s:I}", "name", iv->checks[i].name, "passes",
                          (json_int_t)iv->checks[i].passes, "fails", (json_int_t)iv->checks[i].fails));
  json_object_set_new(o, "checks", checks);
  if (iv->nmetrics) { /* custom metrics, exact state (a Trend's histogram in base64) for loadctl report */
    json_t *metrics = json_array();
    for (size_t i = 0; i < iv->nmetrics; i++) json_array_append_new(metrics, metric_json(&iv->metrics[i], 0));
    json_object_set_new(o, "metrics", metrics);
  }
  if (iv->ntagged) json_object_set_new(o, "tagged", msgtag_json(iv)); /* per (name, tag set): msgtag.h */
  if (iv->tagged_dropped) json_object_set_new(o, "tagged_dropped", json_integer(iv->tagged_dropped));
  return o;
}

static json_t *exemplar_list(const stats_exemplar *x, int n) {
  json_t *a = json_array();
  for (int i = 0; i < n; i++)
    json_array_append_new(
        a, json_pack("{s:s,s:s,s:f,s:I}", "trace_id", x[i].trace_id, "span_id", x[i].span_id, "latency_ms",
                     clock_us_to_ms((double)x[i].latency_us), "wall_ms", (json_int_t)x[i].wall_ms));
  return a;
}

static int write_hlog(rundir *rd, const stats_interval *iv, const hist *all) {
  int rc = 0;

  if (!rd->hlog_started) {
    rd->hlog_start_ms = iv->start_ms;
    rd->hlog_started = 1;
    rc = hlog_write_header(rd->hlog, iv->start_ms);
  }
  for (size_t i = 0; i < iv->nentries && rc == 0; i++) {
    const stats_entry *e = &iv->entries[i];
    char tag[STATS_NAME_MAX + 64];
    if (e->latency && hist_count(e->latency) > 0)
      rc = hlog_write_entry(rd->hlog, e->name, iv->start_ms - rd->hlog_start_ms, iv->interval_ms, e->latency);
    snprintf(tag, sizeof tag, "%s%s", RUNDIR_HLOG_SERVICE,
             e->name); /* so `loadctl report` rebuilds service */
    if (rc == 0 && e->service && hist_count(e->service) > 0)
      rc = hlog_write_entry(rd->hlog, tag, iv->start_ms - rd->hlog_start_ms, iv->interval_ms, e->service);
    for (int k = 0; k < STATS_PHASE_COUNT && rc == 0; k++) { /* and the timing phases */
      if (!e->phase[k] || hist_count(e->phase[k]) == 0) continue;
      snprintf(tag, sizeof tag, "%s%s:%s", RUNDIR_HLOG_PHASE, stats_phase_name(k), e->name);
      rc = hlog_write_entry(rd->hlog, tag, iv->start_ms - rd->hlog_start_ms, iv->interval_ms, e->phase[k]);
    }
  }
  if (rc == 0 && hist_count(all) > 0)
    rc = hlog_write_entry(rd->hlog, NULL, iv->start_ms - rd->hlog_start_ms, iv->interval_ms, all);
  return rc;
}

static int write_exemplars(rundir *rd, const stats_interval *iv) {
  int rc = 0;
  for (size_t i = 0; i < iv->nentries && rc == 0; i++) {
    const stats_entry *e = &iv->entries[i];
    if (e->nslow == 0 && e->ntypical == 0) continue;
    rc = put_line(rd->exemplars, json_pack("{s:I,s:s,s:o,s:o}", "t", (json_int_t)iv->start_ms, "name",
                                           e->name, "slow", exemplar_list(e->slow, e->nslow), "typical",
                                           exemplar_list(e->typical, e->ntypical)));
  }
  return rc;
}

static int sync_file(FILE *f) {
  if (fflush(f) != 0) return -errno;
  if (fdatasync(fileno(f)) != 0 && errno != EINVAL) return -errno;
  return 0;
}

/* A failed append (disk full): every streaming file back to its size after the last full interval, the
 * unwritten buffer dropped, so the interval is absent everywhere rather than half-written anywhere. */
static int roll_back(rundir *rd, int hlog_header_now) {
  int rc = 0;

  for (int i = 0; i < F_COUNT; i++) {
    FILE *f = stream(rd, i);
    __fpurge(f);
    clearerr(f);
    if ((ftruncate(fileno(f), rd->committed[i]) != 0 || fseeko(f, rd->committed[i], SEEK_SET) != 0) &&
        rc == 0)
      rc = -errno;
  }
  if (hlog_header_now) rd->hlog_started = 0;
  return rc;
}

int rundir_append_interval(rundir *rd, const stats_interval *iv) {
  int64_t count, errors, bytes;
  hist *all = merged_latency(iv, &count, &errors, &bytes);
  int rc = all ? 0 : -ENOMEM, failed = F_INTERVALS, hlog_header_now = !rd->hlog_started;

  errno = 0;
  /* Order matters for a reader after kill -9: histograms first, the "(all)" line last. */
  if (rc == 0 && (rc = write_hlog(rd, iv, all)) < 0) failed = F_HLOG;
  if (rc == 0 && (rc = write_exemplars(rd, iv)) < 0) failed = F_EXEMPLARS;
  if (rc == 0) rc = stats_merge(rd->cum, iv);
  if (rc == 0 && (rc = rundir_history_rows(rd->history, iv, rd->cum)) < 0) failed = F_HISTORY;
  for (size_t i = 0; i < iv->nentries && rc == 0; i++)
    rc = put_line(rd->intervals, entry_line(iv, &iv->entries[i]));
  if (rc == 0 && (rc = sync_file(rd->hlog)) < 0) failed = F_HLOG;
  if (rc == 0 && (rc = sync_file(rd->exemplars)) < 0) failed = F_EXEMPLARS;
  if (rc == 0 && (rc = sync_file(rd->history)) < 0) failed = F_HISTORY;
  if (rc == 0) rc = sync_file(rd->intervals);
  if (rc == 0) rc = put_line(rd->intervals, total_line(iv, all, count, errors));
  if (rc == 0) rc = sync_file(rd->intervals);
  if (all) hist_destroy(all);
  if (rc == -EIO && errno != 0) rc = -errno; /* stdio said "failed": errno says why (ENOSPC, EDQUOT) */
  if (rc == 0) {
    for (int i = 0; i < F_COUNT; i++) rd->committed[i] = ftello(stream(rd, i));
    return 0;
  }
  int cut = roll_back(rd, hlog_header_now);
  snprintf(rd->error, sizeof rd->error, "%s/%s: %s%s%s", rd->path, stream_names[failed], strerror(-rc),
           cut < 0 ? "; cutting the files back to the last full interval failed too: " : "",
           cut < 0 ? strerror(-cut) : "");
  return rc;
}

const char *rundir_error(const rundir *rd) {
  return rd->error[0] ? rd->error : NULL;
}

static int close_file(FILE *f, int rc) {
  if (!f) return rc;
  if (fflush(f) != 0 && rc == 0) rc = -errno;
  if (fclose(f) != 0 && rc == 0) rc = -errno;
  return rc;
}

int rundir_close(rundir *rd) {
  int rc = 0;

  if (!rd) return 0;
  rc = close_file(rd->intervals, rc);
  rc = close_file(rd->hlog, rc);
  rc = close_file(rd->exemplars, rc);
  rc = close_file(rd->history, rc);
  if (rd->cum) stats_destroy(rd->cum);
  free(rd->path);
  free(rd);
  return rc;
}
