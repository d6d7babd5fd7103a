/* live.c - the terminal view during a run: a table redrawn in place on a TTY (colour unless NO_COLOR),
 * one plain line per interval otherwise (logs, CI), and the final summary table in both modes. */
#include "master/report/live.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/rundir.h"

#define NAME_W 32
#define TTY_ROWS 20 /* names shown in the redrawn table; more would scroll and break the redraw */

struct live {
  FILE *out;
  bool tty, color;
  int64_t duration_ns;
  thresholds *th;
  int drawn_lines; /* lines of the last redraw, to move back over them */
};

static const char *c_red(const live *lv) {
  return lv->color ? "\033[31m" : "";
}
static const char *c_bold(const live *lv) {
  return lv->color ? "\033[1m" : "";
}
static const char *c_green(const live *lv) {
  return lv->color ? "\033[32m" : "";
}
static const char *c_off(const live *lv) {
  return lv->color ? "\033[0m" : "";
}

void live_detect(int fd, bool *tty, bool *color) {
  const char *no_color = getenv("NO_COLOR"), *term = getenv("TERM");
  *tty = isatty(fd) == 1;
  *color = *tty && !(no_color && no_color[0]) && !(term && strcmp(term, "dumb") == 0);
}

int live_create(FILE *out, bool tty, bool color, int64_t duration_ns, live **lv) {
  live *l = calloc(1, sizeof *l);

  if (!l) return -ENOMEM;
  l->out = out;
  l->tty = tty;
  l->color = color;
  l->duration_ns = duration_ns;
  *lv = l;
  return 0;
}

void live_destroy(live *lv) {
  free(lv);
}
void live_set_thresholds(live *lv, thresholds *t) {
  lv->th = t;
}

/* Name cut to NAME_W columns with ".." when longer. */
static void put_name(FILE *out, const char *name) {
  size_t len = strlen(name);
  if (len <= NAME_W)
    fprintf(out, "%-*s", NAME_W, name);
  else
    fprintf(out, "%.*s..", NAME_W - 2, name);
}

/* Totals of s: counts and a merged histogram (caller destroys; NULL on -ENOMEM). */
static hist *totals(const stats_interval *s, int64_t *count, int64_t *errors) {
  hist *h;

  *count = *errors = 0;
  if (hist_create(&h) < 0) return NULL;
  for (size_t i = 0; i < s->nentries; i++) {
    if (s->entries[i].latency) hist_add(h, s->entries[i].latency);
    *count += s->entries[i].count;
    *errors += s->entries[i].errors;
  }
  return h;
}

static void header(live *lv) {
  fprintf(lv->out, "%s%-*s %10s %9s %16s %8s %8s %8s %8s%s\n", c_bold(lv), NAME_W, "name", "reqs", "rps",
          "errors (%)", "p50 ms", "p95 ms", "p99 ms", "max ms", c_off(lv));
}

/* One table row: counts and percentiles from h, rps given. */
static void row(live *lv, const char *name, int64_t count, int64_t errors, double rps, const hist *h,
                bool bold) {
  char errs[48];
  double pct = count ? 100.0 * (double)errors / (double)count : 0;

  snprintf(errs, sizeof errs, "%" PRId64 " (%.2f%%)", errors, pct);
  if (bold) fputs(c_bold(lv), lv->out);
  put_name(lv->out, name);
  fprintf(lv->out, " %10" PRId64 " %9.1f %s%16s%s%s %8.2f %8.2f %8.2f %8.2f%s\n", count, rps,
          errors ? c_red(lv) : "", errs, errors ? c_off(lv) : "", bold ? c_bold(lv) : "",
          rundir_pct_ms(h, 50), rundir_pct_ms(h, 95), rundir_pct_ms(h, 99),
          h ? (double)hist_max(h) / 1000.0 : 0, c_off(lv));
}

/* Table of cum (rps from rps_src over rps_secs), at most max_rows names. Returns lines written. */
static int table(live *lv, const stats_interval *rps_src, double rps_secs, const stats_interval *cum,
                 size_t max_rows) {
  int64_t count, errors, rcount, rerrors;
  hist *all = totals(cum, &count, &errors), *rall = totals(rps_src, &rcount, &rerrors);
  int lines = 2;

  header(lv);
  for (size_t i = 0; i < cum->nentries && i < max_rows; i++) {
    const stats_entry *e = &cum->entries[i];
    const stats_entry *r = stats_entry_find(rps_src, e->name);
    row(lv, e->name, e->count, e->errors, r && rps_secs > 0 ? (double)r->count / rps_secs : 0, e->latency,
        false);
    lines++;
  }
  if (cum->nentries > max_rows) {
    fprintf(lv->out, "... %zu more request names (in the final summary and report.html)\n",
            cum->nentries - max_rows);
    lines++;
  }
  row(lv, "total", count, errors, rps_secs > 0 ? (double)rcount / rps_secs : 0, all, true);
  if (all) hist_destroy(all);
  if (rall) hist_destroy(rall);
  return lines;
}

static void progress(live *lv, int64_t elapsed_ns, const stats_interval *iv) {
  char el[32], total[32];
  double frac = lv->duration_ns > 0 ? (double)elapsed_ns / (double)lv->duration_ns : 0;
  int width = 30, fill;

  if (frac > 1) frac = 1;
  fill = (int)(frac * width);
  clock_format_duration(elapsed_ns, el, sizeof el);
  fprintf(lv->out, "%sloadctl%s ", c_bold(lv), c_off(lv));
  if (lv->duration_ns > 0) {
    clock_format_duration(lv->duration_ns, total, sizeof total);
    fputc('[', lv->out);
    for (int i = 0; i < width; i++) fputc(i < fill ? '=' : i == fill ? '>' : ' ', lv->out);
    fprintf(lv->out, "] %3.0f%%  %s / %s", frac * 100, el, total);
    if (elapsed_ns < lv->duration_ns) {
      clock_format_duration(lv->duration_ns - elapsed_ns, total, sizeof total);
      fprintf(lv->out, " (%s left)", total);
    }
  } else {
    fprintf(lv->out, "elapsed %s", el);
  }
  if (iv->rate > 0) fprintf(lv->out, "  rate %.1f/s", iv->rate);
  fprintf(lv->out, "  users %" PRId64, iv->users);
  if (iv->dropped) fprintf(lv->out, "  %sdropped %" PRId64 "%s", c_red(lv), iv->dropped, c_off(lv));
  fputc('\n', lv->out);
}

/* Threshold lines under the table (evaluated on the totals so far). Returns lines written. */
static int threshold_lines(live *lv, const stats_interval *cum, double secs) {
  int lines = 0;

  if (!lv->th || thresholds_count(lv->th) == 0) return 0;
  thresholds_eval(lv->th, cum, secs);
  for (size_t i = 0; i < thresholds_count(lv->th); i++) {
    const threshold *t = thresholds_get(lv->th, i);
    fprintf(lv->out, "  %s%s%s %s\n", t->ok ? c_green(lv) : c_red(lv), t->ok ? "ok  " : "FAIL", c_off(lv),
            t->expr);
    lines++;
  }
  return lines;
}

static void plain_line(live *lv, const stats_interval *iv, const stats_interval *cum, int64_t elapsed_ns) {
  int64_t count, errors, icount, ierrors;
  hist *all = totals(cum, &count, &errors), *iall = totals(iv, &icount, &ierrors);
  double secs = iv->interval_ms > 0 ? (double)iv->interval_ms / 1000.0 : 1;
  char el[32];

  clock_format_duration(elapsed_ns, el, sizeof el);
  fprintf(lv->out,
          "[%s] users=%" PRId64 " rps=%.1f reqs=%" PRId64 " errors=%" PRId64
          " (%.2f%%) p50=%.2fms p95=%.2fms "
          "p99=%.2fms max=%.2fms\n",
          el, iv->users, (double)icount / secs, count, errors,
          count ? 100.0 * (double)errors / (double)count : 0, rundir_pct_ms(all, 50), rundir_pct_ms(all, 95),
          rundir_pct_ms(all, 99), all ? (double)hist_max(all) / 1000.0 : 0);
  if (all) hist_destroy(all);
  if (iall) hist_destroy(iall);
  fflush(lv->out);
}

void live_update(live *lv, const stats_interval *interval, const stats_interval *cumulative,
                 int64_t elapsed_ns) {
  double secs = interval->interval_ms > 0 ? (double)interval->interval_ms / 1000.0 : 1;
  int lines = 1;

  if (!lv->tty) {
    plain_line(lv, interval, cumulative, elapsed_ns);
    return;
  }
  if (lv->drawn_lines > 0) fprintf(lv->out, "\033[%dA\033[J", lv->drawn_lines);
  progress(lv, elapsed_ns, interval);
  lines += table(lv, interval, secs, cumulative, TTY_ROWS);
  lines += threshold_lines(lv, cumulative, (double)elapsed_ns / 1e9);
  lv->drawn_lines = lines;
  fflush(lv->out);
}

void live_final(live *lv, const stats_interval *cumulative, int64_t elapsed_ns) {
  char el[32];
  double secs = (double)elapsed_ns / 1e9;

  if (lv->tty && lv->drawn_lines > 0) fprintf(lv->out, "\033[%dA\033[J", lv->drawn_lines);
  lv->drawn_lines = 0;
  clock_format_duration(elapsed_ns, el, sizeof el);
  fprintf(lv->out, "\n%ssummary%s after %s (rps = average over the run)\n", c_bold(lv), c_off(lv), el);
  table(lv, cumulative, secs, cumulative, cumulative->nentries);
  if (lv->th && thresholds_count(lv->th)) {
    fputc('\n', lv->out);
    thresholds_print(lv->th, lv->out, lv->color);
  }
  fflush(lv->out);
}
