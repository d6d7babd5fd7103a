/* folded.c - folded stacks text <-> pprof.h profiles, and `perf script` folded by our own code, so
 * command sources (perf, py-spy, async-profiler's collapsed output) land in the same structure as pprof. */
#include "master/profile/folded.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"

/* Iterates over the lines of a buffer that need not be NUL-terminated; each line is copied into line
 * (NUL-terminated, '\r' stripped). */
typedef struct lines {
  const char *text;
  size_t len, pos, lineno;
  char *line;
  size_t cap;
} lines;

/* 1 and the next line in l->line, 0 at the end, -ENOMEM / -E2BIG. */
static int next_line(lines *l) {
  if (l->pos >= l->len) return 0;
  const char *start = l->text + l->pos, *nl = memchr(start, '\n', l->len - l->pos);
  size_t n = nl ? (size_t)(nl - start) : l->len - l->pos;
  l->pos += n + (nl ? 1 : 0);
  l->lineno++;
  if (n > FOLDED_MAX_LINE) return -E2BIG;
  if (n + 1 > l->cap) {
    char *b = realloc(l->line, n + 1);
    if (!b) return -ENOMEM;
    l->line = b;
    l->cap = n + 1;
  }
  memcpy(l->line, start, n);
  if (n && l->line[n - 1] == '\r') n--;
  l->line[n] = '\0';
  return 1;
}

static int blank(const char *s) {
  for (; *s; s++)
    if (*s != ' ' && *s != '\t') return 0;
  return 1;
}

/* Add one folded line "a;b;c 12" to p. */
static int parse_line(pprof_profile *p, char *line, uint32_t *stack, char *err, size_t errlen,
                      size_t lineno) {
  size_t n = strlen(line);
  while (n && (line[n - 1] == ' ' || line[n - 1] == '\t')) line[--n] = '\0';
  char *sp = strrchr(line, ' '), *tab = strrchr(line, '\t');
  if (tab > sp) sp = tab;
  if (!sp) return log_fail(err, errlen, -EINVAL, "line %zu: no count (want \"a;b;c 123\")", lineno);
  char *end;
  errno = 0;
  long long count = strtoll(sp + 1, &end, 10);
  if (errno || *end || end == sp + 1 || count < 0)
    return log_fail(err, errlen, -EINVAL, "line %zu: count '%s' is not a non-negative integer", lineno,
                    sp + 1);
  *sp = '\0';
  size_t nframes = 0;
  for (char *frame = line, *semi; frame; frame = semi ? semi + 1 : NULL) {
    semi = strchr(frame, ';');
    if (semi) *semi = '\0';
    if (!*frame) continue;
    if (nframes >= PPROF_MAX_STACK)
      return log_fail(err, errlen, -E2BIG, "line %zu: more than %d frames", lineno, PPROF_MAX_STACK);
    int64_t f = pprof_function_intern(p, frame, NULL);
    if (f < 0) return (int)f;
    stack[nframes++] = (uint32_t)f;
  }
  for (size_t i = 0; i < nframes / 2; i++) { /* root first in text, leaf first in pprof */
    uint32_t t = stack[i];
    stack[i] = stack[nframes - 1 - i];
    stack[nframes - 1 - i] = t;
  }
  int64_t value = count;
  return pprof_add_sample(p, stack, nframes, &value, NULL, 0);
}

int folded_parse(const char *text, size_t len, const char *type, const char *unit, pprof_profile **out,
                 char *err, size_t errlen) {
  lines l = {.text = text, .len = len};
  uint32_t *stack = malloc(PPROF_MAX_STACK * sizeof *stack);
  pprof_profile *p = pprof_create(type ? type : "samples", unit ? unit : "count");
  int rc = -ENOMEM;
  *out = NULL;
  if (!stack || !p) goto out;
  while ((rc = next_line(&l)) == 1) {
    if (blank(l.line)) continue;
    if ((rc = parse_line(p, l.line, stack, err, errlen, l.lineno))) goto out;
  }
  if (rc == -E2BIG) log_fail(err, errlen, rc, "line %zu: longer than %zu bytes", l.lineno, FOLDED_MAX_LINE);
out:
  free(stack);
  free(l.line);
  if (rc)
    pprof_free(p);
  else
    *out = p;
  return rc;
}

/* ---- perf script ---- */

static int is_pid(const char *tok, size_t n) {
  size_t digits = 0;
  for (size_t i = 0; i < n; i++) {
    if (tok[i] >= '0' && tok[i] <= '9')
      digits++;
    else if (tok[i] != '/' || i == 0)
      return 0;
  }
  return digits > 0;
}

/* The command of a perf script header "comm with spaces  1234/1235 [000] 123.456: 1 cycles:" into comm. */
static void header_comm(const char *line, char *comm, size_t size) {
  const char *p = line, *comm_end = NULL;
  while (*p) {
    while (*p == ' ' || *p == '\t') p++;
    const char *tok = p;
    while (*p && *p != ' ' && *p != '\t') p++;
    if (tok != line && p > tok && is_pid(tok, (size_t)(p - tok))) break;
    comm_end = p;
  }
  size_t n = comm_end ? (size_t)(comm_end - line) : strlen(line);
  if (n >= size) n = size - 1;
  memcpy(comm, line, n);
  comm[n] = '\0';
}

/* "[tid N]" of a header ("comm 1234/1235 [000] ...": its tid 1235, or its pid when alone), or "". */
static void header_tid(const char *line, char *tid, size_t size) {
  const char *p = line;
  tid[0] = '\0';
  while (*p) {
    while (*p == ' ' || *p == '\t') p++;
    const char *tok = p;
    while (*p && *p != ' ' && *p != '\t') p++;
    if (tok != line && p > tok && is_pid(tok, (size_t)(p - tok))) {
      const char *slash = memchr(tok, '/', (size_t)(p - tok));
      const char *t = slash ? slash + 1 : tok;
      snprintf(tid, size, "[tid %.*s]", (int)(p - t), t);
      return;
    }
  }
}

/* The function name of a frame line "\t 4a1b2c main.f+0x2c (/path/bin)" into name. */
static void frame_name(char *line, char *name, size_t size) {
  char *p = line;
  while (*p == ' ' || *p == '\t') p++;
  while (*p && *p != ' ' && *p != '\t') p++; /* address */
  while (*p == ' ' || *p == '\t') p++;
  char *dso = NULL, *paren = strstr(p, " (");
  for (char *q = paren; q; q = strstr(q + 1, " (")) paren = q;
  if (paren) {
    *paren = '\0';
    dso = paren + 2;
    char *close = strrchr(dso, ')');
    if (close) *close = '\0';
  }
  char *plus = strstr(p, "+0x");
  if (plus && strspn(plus + 3, "0123456789abcdefABCDEF") == strlen(plus + 3)) *plus = '\0';
  if (!*p || strcmp(p, "[unknown]") == 0) {
    const char *base = dso ? strrchr(dso, '/') : NULL;
    if (dso && dso[0] == '[')
      snprintf(name, size, "%s", dso); /* "[unknown]", "[kernel.kallsyms]" */
    else
      snprintf(name, size, "[%s]", base ? base + 1 : (dso && *dso ? dso : "unknown"));
    return;
  }
  snprintf(name, size, "%s", p);
}

typedef struct perf_event {
  uint32_t *stack;
  size_t nstack;
  char comm[256];
  char tid[48]; /* "[tid N]" of a wait (FOLDED_PERF_OFFCPU), between the command and the stack */
  int open;
  int offcpu;    /* fold the waits (FOLDED_PERF_OFFCPU), else the samples */
  int64_t value; /* this event's: 1 a sample, its ticks a wait, 0 not folded */
  size_t waits;  /* waits seen (folded or not) */
} perf_event;

static int flush_event(pprof_profile *p, perf_event *ev) {
  if (!ev->open) return 0;
  ev->open = 0;
  if (ev->value <= 0) return 0;
  if (ev->offcpu && ev->tid[0] && ev->nstack < PPROF_MAX_STACK - 1) {
    int64_t t = pprof_function_intern(p, ev->tid, NULL);
    if (t < 0) return (int)t;
    ev->stack[ev->nstack++] = (uint32_t)t;
  }
  int64_t root = pprof_function_intern(p, ev->comm[0] ? ev->comm : "[unknown]", NULL);
  if (root < 0) return (int)root;
  if (ev->nstack < PPROF_MAX_STACK) ev->stack[ev->nstack++] = (uint32_t)root;
  return pprof_add_sample(p, ev->stack, ev->nstack, &ev->value, NULL, 0);
}

/* The value of the event a header opens: a wait marked by perfsplit ("offcpu_ticks=N") in the off-CPU fold,
 * any other sample in the CPU fold; switch events and records are neither. */
static int64_t event_value(perf_event *ev, const char *line) {
  const char *t = strstr(line, " offcpu_ticks=");
  int sw = t || strstr(line, " sched:sched_switch:") || strstr(line, "PERF_RECORD_");
  ev->waits += t != NULL;
  if (ev->offcpu) return t ? strtoll(t + 14, NULL, 10) : 0;
  return !sw;
}

static int perf_line(pprof_profile *p, perf_event *ev, char *line) {
  char name[1024];
  if (blank(line)) return flush_event(p, ev);
  if (line[0] == '#') return 0;
  if (line[0] != ' ' && line[0] != '\t') {
    int rc = flush_event(p, ev);
    header_comm(line, ev->comm, sizeof ev->comm);
    header_tid(line, ev->tid, sizeof ev->tid);
    ev->nstack = 0;
    ev->open = 1;
    ev->value = event_value(ev, line);
    return rc;
  }
  if (!ev->open || ev->nstack >= PPROF_MAX_STACK - 1) return 0;
  const char *tag = !ev->offcpu                           ? ""
                    : strstr(line, "([kernel.kallsyms])") ? "[k] "
                    : strstr(line, "/libc.so") || strstr(line, "/libpthread") || strstr(line, "/ld-linux")
                        ? "[libc] "
                        : "";
  size_t t = strlen(tag);
  memcpy(name, tag, t);
  frame_name(line, name + t, sizeof name - t);
  int64_t f = pprof_function_intern(p, name, NULL);
  if (f < 0) return (int)f;
  ev->stack[ev->nstack++] = (uint32_t)f;
  return 0;
}

int folded_from_perf_script(const char *text, size_t len, pprof_profile **out, char *err, size_t errlen) {
  return folded_from_perf_events(text, len, FOLDED_PERF_CPU, out, NULL, err, errlen);
}

int folded_from_perf_events(const char *text, size_t len, int which, pprof_profile **out, size_t *waits,
                            char *err, size_t errlen) {
  lines l = {.text = text, .len = len};
  perf_event ev = {.offcpu = which == FOLDED_PERF_OFFCPU};
  pprof_profile *p = pprof_create("samples", "count");
  int rc = -ENOMEM;
  *out = NULL;
  ev.stack = malloc(PPROF_MAX_STACK * sizeof *ev.stack);
  if (!p || !ev.stack) goto out;
  while ((rc = next_line(&l)) == 1)
    if ((rc = perf_line(p, &ev, l.line))) goto out;
  if (rc == 0) rc = flush_event(p, &ev);
  int has_text = 0;
  for (size_t i = 0; i < len && !has_text; i++) has_text = !strchr(" \t\r\n", text[i]) || text[i] == '\0';
  if (waits) *waits = ev.waits;
  if (rc == 0 && p->nsamples == 0 && has_text && !ev.offcpu && !ev.waits)
    rc = log_fail(err, errlen, -EINVAL,
                  "no perf script events found (want `perf script` output of `perf record -g`)");
  if (rc == -E2BIG) log_fail(err, errlen, rc, "line %zu: longer than %zu bytes", l.lineno, FOLDED_MAX_LINE);
out:
  free(ev.stack);
  free(l.line);
  if (rc)
    pprof_free(p);
  else
    *out = p;
  return rc;
}

/* ---- write ---- */

typedef struct stack_line {
  char *text;
  int64_t value;
} stack_line;

static int line_cmp(const void *a, const void *b) {
  return strcmp(((const stack_line *)a)->text, ((const stack_line *)b)->text);
}

static char *join_stack(const pprof_profile *p, const pprof_sample *s) {
  size_t n = 1;
  for (size_t j = 0; j < s->nstack; j++) n += strlen(p->strings[p->functions[s->stack[j]].name]) + 1;
  char *buf = malloc(n), *w = buf;
  if (!buf) return NULL;
  for (size_t j = s->nstack; j-- > 0;) {
    const char *name = p->strings[p->functions[s->stack[j]].name];
    size_t k = strlen(name);
    memcpy(w, name, k);
    w += k;
    if (j) *w++ = ';';
  }
  *w = '\0';
  return buf;
}

static int emit(const stack_line *ls, size_t n, char **out, size_t *outlen) {
  size_t cap = 1, used = 0;
  for (size_t i = 0; i < n; i++) cap += strlen(ls[i].text) + 24;
  char *buf = malloc(cap);
  if (!buf) return -ENOMEM;
  for (size_t i = 0; i < n;) {
    int64_t sum = 0;
    size_t j = i;
    for (; j < n && strcmp(ls[j].text, ls[i].text) == 0; j++) sum += ls[j].value;
    if (sum > 0) used += (size_t)snprintf(buf + used, cap - used, "%s %lld\n", ls[i].text, (long long)sum);
    i = j;
  }
  buf[used] = '\0';
  *out = buf;
  *outlen = used;
  return 0;
}

int folded_write(const pprof_profile *p, size_t vi, char **out, size_t *outlen) {
  if (vi >= p->nsample_types) return -EINVAL;
  stack_line *ls = calloc(p->nsamples + 1, sizeof *ls);
  int rc = -ENOMEM;
  size_t n = 0;
  if (!ls) return -ENOMEM;
  for (; n < p->nsamples; n++) {
    if (!(ls[n].text = join_stack(p, &p->samples[n]))) goto out;
    ls[n].value = p->samples[n].values[vi];
  }
  qsort(ls, n, sizeof *ls, line_cmp);
  rc = emit(ls, n, out, outlen);
out:
  for (size_t i = 0; i < n; i++) free(ls[i].text);
  free(ls);
  return rc;
}
