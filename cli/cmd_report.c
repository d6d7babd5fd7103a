/* cmd_report.c - `loadctl report RUN_DIR`: rebuild summary.json, the CSVs and report.html from what a run
 * wrote as it went (works on a run killed with kill -9), then print the summary table. */
#include <stdio.h>
#include <string.h>

#include "cli/cmd.h"
#include "common/clock.h"
#include "common/rundir.h"
#include "master/history.h"
#include "master/report/live.h"
#include "master/report/rebuild.h"
#include "master/report/verdict.h"

static const char help[] =
    "usage: loadctl report RUN_DIR [--junit FILE] [--fail-on-thresholds] [--no-index] [--quiet]\n"
    "\n"
    "Rebuild summary.json, stats.csv, failures.csv, stats_history.csv and report.html in RUN_DIR from\n"
    "run.json, intervals.jsonl, latency.hlog and exemplars.jsonl. A run cut off (kill -9, power loss)\n"
    "is reported up to its last complete interval; what was skipped is listed on stderr.\n"
    "\n"
    "  --junit FILE            write the thresholds as JUnit XML\n"
    "  --fail-on-thresholds    exit 99 when a threshold listed in run.json fails\n"
    "  --no-index              do not record the run in <runs root>/index.jsonl\n"
    "  --quiet                 no summary table\n";

typedef struct flags {
  const char *dir, *junit;
  bool fail_on, index, quiet;
} flags;

/* 0 = go on, 1 = --help printed, -1 = usage error printed. */
static int parse_flags(int argc, char **argv, flags *f) {
  memset(f, 0, sizeof *f);
  f->index = true;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
      fputs(help, stdout);
      return 1;
    } else if (!strcmp(argv[i], "--junit") && i + 1 < argc) {
      f->junit = argv[++i];
    } else if (!strcmp(argv[i], "--fail-on-thresholds")) {
      f->fail_on = true;
    } else if (!strcmp(argv[i], "--no-index")) {
      f->index = false;
    } else if (!strcmp(argv[i], "--quiet")) {
      f->quiet = true;
    } else if (argv[i][0] == '-' || f->dir) {
      cmd_usage_error("report", "unexpected argument '%s'", argv[i]);
      return -1;
    } else {
      f->dir = argv[i];
    }
  }
  if (!f->dir) {
    cmd_usage_error("report", "missing RUN_DIR");
    return -1;
  }
  return 0;
}

/* Record the rebuilt run in <runs root>/index.jsonl (a later line for the same dir supersedes). */
static void record(const char *dir) {
  char root[4096], path[4200];
  json_t *summary;

  snprintf(path, sizeof path, "%s/%s", dir, RUNDIR_SUMMARY);
  history_root_of(dir, root, sizeof root);
  if ((summary = json_load_file(path, 0, NULL)) && history_append(root, dir, summary) < 0)
    fprintf(stderr, "loadctl report: could not record the run in %s/%s\n", root, HISTORY_INDEX);
  json_decref(summary);
}

static void print_summary(const report *rep, thresholds *th, const char *dir) {
  bool tty, color;
  live *lv;

  live_detect(1, &tty, &color);
  if (live_create(stdout, false, color, 0, &lv) == 0) {
    live_set_thresholds(lv, th);
    live_set_findings(lv, report_findings(rep)); /* NULL (nothing listed) when the run had no profiles */
    live_final(lv, report_cumulative(rep), clock_s_to_ns(report_duration_s(rep)));
    live_destroy(lv);
  }
  printf("\nreport: %s/%s\n", dir, RUNDIR_HTML);
}

int cmd_report(int argc, char **argv) {
  flags f;
  bool ok = true;
  char err[1024];
  report *rep = NULL;
  thresholds *th = NULL;
  int code = 0, rc = parse_flags(argc, argv, &f);

  if (rc != 0) return rc > 0 ? 0 : EXIT_USAGE;
  if (rebuild_load(f.dir, &rep, &th, stderr, err, sizeof err) < 0) {
    fprintf(stderr, "loadctl report: %s\n", err);
    return EXIT_RUNTIME;
  }
  if (report_write(rep, f.dir, err, sizeof err) < 0) {
    fprintf(stderr, "loadctl report: %s\n", err);
    code = EXIT_RUNTIME;
    goto out;
  }
  for (size_t i = 0; i < thresholds_count(th); i++) ok = ok && thresholds_get(th, i)->ok;
  if (f.junit && verdict_write_junit(th, f.junit) < 0) {
    fprintf(stderr, "loadctl report: cannot write %s\n", f.junit);
    code = EXIT_RUNTIME;
  }
  if (f.index) record(f.dir);
  if (!f.quiet) print_summary(rep, th, f.dir);
  if (f.fail_on && !ok && code == 0) code = EXIT_THRESHOLDS;
out:
  thresholds_destroy(th);
  report_destroy(rep);
  return code;
}
