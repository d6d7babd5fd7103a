/* live.c - the terminal view during a run: a table redrawn in place on a TTY (colour unless NO_COLOR),
 * one plain line per interval otherwise (logs, CI), and the final summary table in both modes. */
#include "master/report/live.h"
#include "master/report/verdict.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/hist.h"

#define NAME_W 32
#define TTY_ROWS 20 /* names shown in the redrawn table; more would scroll and break the redraw */

#define FINDINGS_SHOWN 5 /* findings listed under the final summary */
#define FINDING_W 118    /* characters per finding line */

struct live {
  FILE *out;
  bool tty, color;
  int64_t duration_ns;
  thresholds *th;
  const json_t *findings; /* borrowed; NULL = none to show */
  const json_t *workers;  /* borrowed; NULL = no CPU warnings at the end */
  double cpu_pct;         /* busiest worker's CPU, < 0 = unknown */
  char cpu_id[64];
  size_t cpu_workers;
  bool cpu_hot;
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
  l->cpu_pct = -1;
  *lv = l;
  return 0;
}

void live_destroy(live *lv) {
  free(lv);
}
void live_set_thresholds(live *lv, thresholds *t) {
  lv->th = t;
}
void live_set_findings(live *lv, const json_t *findings) {
  lv->findings = findings;
}
void live_set_workers(live *lv, const json_t *workers) {
  lv->workers = workers;
}
void live_set_cpu(live *lv, double pct, const char *id, size_t nworkers, bool hot) {
  lv->cpu_pct = pct;
  snprintf(lv->cpu_id, sizeof lv->cpu_id, "%s", id ? id : "");
  lv->cpu_workers = nworkers;
  lv->cpu_hot = hot;
}

/* "  cpu 45%" (one worker) or "  cpu max 97% (w2) SATURATED" on the progress line; nothing when unknown. */
static void cpu_part(live *lv) {
  if (lv->cpu_pct < 0) return;
  fprintf(lv->out, "  %scpu %s%.0f%%", lv->cpu_hot ? c_red(lv) : "", lv->cpu_workers > 1 ? "max " : "",
          lv->cpu_pct);
  if (lv->cpu_workers > 1) fprintf(lv->out, " (%s)", lv->cpu_id);
  if (lv->cpu_hot) fprintf(lv->out, " SATURATED%s", c_off(lv));
}

/* After the final table: each worker whose engine threads stayed above 90 % CPU. */
static void cpu_warnings(live *lv) {
  const json_t *w;
  size_t i;
  json_array_foreach(lv->workers, i, w) {
    json_int_t hot = json_integer_value(json_object_get(w, "cpu_hot_s"));
    if (hot < 5) continue;
    fprintf(
        lv->out,
        "%swarning%s: worker %s kept its engine threads above 90%% CPU for %llds (max %.0f%%): a saturated "
        "generator measures its own queueing as latency; add workers or --threads\n",
        c_red(lv), c_off(lv), json_string_value(json_object_get(w, "id")), (long long)hot,
        json_number_value(json_object_get(w, "cpu_max_pct")));
  }
}

/* Name cut to NAME_W columns with ".." when longer. */
static void put_name(FILE *out, const char *name) {
  size_t len = strlen(name);
  if (len <= NAME_W)
    fprintf(out, "%-*s", NAME_W, name);
  else
    fprintf(out, "%.*s..", NAME_W - 2, name);
}

static void totals_count(const stats_interval *s, int64_t *count, int64_t *errors) {
  *count = *errors = 0;
  for (size_t i = 0; i < s->nentries; i++) {
    *count += s->entries[i].count;
    *errors += s->entries[i].errors;
  }
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

/* What one row shows: the total count so far, and rps, errors and percentiles of a span (the last
 * interval while running, the whole run at the end). */
typedef struct row_figures {
  int64_t total;         /* requests so far */
  int64_t count, errors; /* in the span: errors as a share of count */
  double rps;
  const hist *h; /* latency in the span */
} row_figures;

static void row(live *lv, const char *name, const row_figures *f, bool bold) {
  char errs[48];
  double pct = f->count ? 100.0 * (double)f->errors / (double)f->count : 0;

  snprintf(errs, sizeof errs, "%" PRId64 " (%.2f%%)", f->errors, pct);
  if (bold) fputs(c_bold(lv), lv->out);
  put_name(lv->out, name);
  fprintf(lv->out, " %10" PRId64 " %9.1f %s%16s%s%s %8.2f %8.2f %8.2f %8.2f%s\n", f->total, f->rps,
          f->errors ? c_red(lv) : "", errs, f->errors ? c_off(lv) : "", bold ? c_bold(lv) : "",
          hist_pct_ms(f->h, 50), hist_pct_ms(f->h, 95), hist_pct_ms(f->h, 99),
          f->h ? clock_us_to_ms((double)hist_max(f->h)) : 0, c_off(lv));
}

/* Table over the names of cum: totals from cum, everything else from span (secs long), at most max_rows
 * names. Returns lines written. */
static int table(live *lv, const stats_interval *span, double secs, const stats_interval *cum,
                 size_t max_rows) {
  int64_t count, errors, scount, serrors;
  hist *all = totals(cum, &count, &errors), *sall = totals(span, &scount, &serrors);
  int lines = 2;

  header(lv);
  for (size_t i = 0; i < cum->nentries && i < max_rows; i++) {
    const stats_entry *e = &cum->entries[i], *s = stats_entry_find(span, e->name);
    row_figures f = {.total = e->count,
                     .count = s ? s->count : 0,
                     .errors = s ? s->errors : 0,
                     .rps = s && secs > 0 ? (double)s->count / secs : 0,
                     .h = s ? s->latency : NULL};
    row(lv, e->name, &f, false);
    lines++;
  }
  if (cum->nentries > max_rows) {
    fprintf(lv->out, "... %zu more request names (in the final summary and report.html)\n",
            cum->nentries - max_rows);
    lines++;
  }
  row(lv, "total",
      &(row_figures){.total = count,
                     .count = scount,
                     .errors = serrors,
                     .rps = secs > 0 ? (double)scount / secs : 0,
                     .h = sall},
      true);
  if (all) hist_destroy(all);
  if (sall) hist_destroy(sall);
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
  cpu_part(lv);
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

/* No TTY: one line per interval, all names together: reqs is the total so far, the rest is the interval's. */
static void plain_line(live *lv, const stats_interval *iv, const stats_interval *cum, int64_t elapsed_ns) {
  int64_t count, errors, icount, ierrors;
  hist *iall = totals(iv, &icount, &ierrors);
  double secs = iv->interval_ms > 0 ? clock_ms_to_s((double)iv->interval_ms) : 1;
  char el[32];

  totals_count(cum, &count, &errors);
  clock_format_duration(elapsed_ns, el, sizeof el);
  fprintf(lv->out,
          "[%s] users=%" PRId64 " rps=%.1f reqs=%" PRId64 " errors=%" PRId64
          " (%.2f%%) p50=%.2fms p95=%.2fms "
          "p99=%.2fms max=%.2fms",
          el, iv->users, (double)icount / secs, count, ierrors,
          icount ? 100.0 * (double)ierrors / (double)icount : 0, hist_pct_ms(iall, 50), hist_pct_ms(iall, 95),
          hist_pct_ms(iall, 99), iall ? clock_us_to_ms((double)hist_max(iall)) : 0);
  if (lv->cpu_pct >= 0) /* appended, so the line's start stays what scripts already parse */
    fprintf(lv->out, " cpu=%.0f%%%s%s%s", lv->cpu_pct, lv->cpu_workers > 1 ? "(" : "",
            lv->cpu_workers > 1 ? lv->cpu_id : "", lv->cpu_workers > 1 ? ")" : "");
  if (lv->cpu_hot) fputs(" SATURATED", lv->out);
  fputc('\n', lv->out);
  if (iall) hist_destroy(iall);
  fflush(lv->out);
}

void live_update(live *lv, const stats_interval *interval, const stats_interval *cumulative,
                 int64_t elapsed_ns) {
  double secs = interval->interval_ms > 0 ? clock_ms_to_s((double)interval->interval_ms) : 1;
  int lines = 1;

  if (!lv->tty) {
    plain_line(lv, interval, cumulative, elapsed_ns);
    return;
  }
  if (lv->drawn_lines > 0) fprintf(lv->out, "\033[%dA\033[J", lv->drawn_lines);
  progress(lv, elapsed_ns, interval);
  fprintf(lv->out, "last %s: rps, errors and latency of that interval; reqs: total so far\n",
          clock_format_duration(clock_ms_to_ns(interval->interval_ms), (char[32]){0}, 32));
  lines++;
  lines += table(lv, interval, secs, cumulative, TTY_ROWS);
  lines += threshold_lines(lv, cumulative, clock_ns_to_s(elapsed_ns));
  lv->drawn_lines = lines;
  fflush(lv->out);
}

/* "share 71% (typical 2%)" etc. from a finding's numbers, "" when it has none. */
static void finding_numbers(const json_t *f, char *buf, size_t size) {
  const json_t *share = json_object_get(f, "share"), *base = json_object_get(f, "baseline_share");
  buf[0] = 0;
  if (json_is_number(share) && json_is_number(base))
    snprintf(buf, size, "%.0f%% vs %.0f%%", 100 * json_number_value(share), 100 * json_number_value(base));
  else if (json_is_number(share))
    snprintf(buf, size, "%.0f%%", 100 * json_number_value(share));
}

/* The strongest findings (report order), one line each: kind, request, function, shares. */
static void findings(live *lv) {
  size_t n = json_array_size(lv->findings);
  if (!lv->findings) return;
  fprintf(lv->out, "\n%sfindings%s", c_bold(lv), c_off(lv));
  if (n == 0) {
    fprintf(lv->out, ": none (no function stood out in the profiles; see report.html)\n");
    return;
  }
  fprintf(lv->out, " (%zu, strongest first; evidence in report.html)\n", n);
  for (size_t i = 0; i < n && i < FINDINGS_SHOWN; i++) {
    const json_t *f = json_array_get(lv->findings, i);
    const char *kind = json_string_value(json_object_get(f, "kind"));
    const char *req = json_string_value(json_object_get(f, "request"));
    const char *fn = json_string_value(json_object_get(f, "function"));
    char nums[64], line[512];
    finding_numbers(f, nums, sizeof nums);
    snprintf(line, sizeof line, "%zu. %-10s %s%s%s%s%s", i + 1, kind ? kind : "?", req ? req : "",
             req ? ": " : "", fn ? fn : "", nums[0] ? "  " : "", nums);
    fprintf(lv->out, "  %.*s%s\n", FINDING_W, line, strlen(line) > FINDING_W ? ".." : "");
  }
  if (n > FINDINGS_SHOWN) fprintf(lv->out, "  ... %zu more in report.html\n", n - FINDINGS_SHOWN);
}

void live_final(live *lv, const stats_interval *cumulative, int64_t elapsed_ns) {
  char el[32];
  double secs = clock_ns_to_s(elapsed_ns);

  if (lv->tty && lv->drawn_lines > 0) fprintf(lv->out, "\033[%dA\033[J", lv->drawn_lines);
  lv->drawn_lines = 0;
  clock_format_duration(elapsed_ns, el, sizeof el);
  fprintf(lv->out,
          "\n%ssummary%s after %s (the whole run: rps = average, exact percentiles of every request)\n",
          c_bold(lv), c_off(lv), el);
  table(lv, cumulative, secs, cumulative, cumulative->nentries);
  if (lv->th && thresholds_count(lv->th)) {
    fputc('\n', lv->out);
    verdict_print(lv->th, lv->out, lv->color);
  }
  findings(lv);
  cpu_warnings(lv);
  fflush(lv->out);
}
