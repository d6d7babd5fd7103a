/* corrstack.c - stacks of many windows on one frame table, inclusive shares and the population contrast that
 * names the frame where two populations diverge (see corrstack.h; the thresholds are in correlate.h). */
#include "master/profile/corrstack.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/grow.h"
#include "master/profile/corrdesc.h"
#include "master/profile/correlate.h"
#include "master/profile/corrpres.h"

void corrstack_init(corrstack *cs) {
  memset(cs, 0, sizeof *cs);
  cs->ids = json_object();
}

void corrstack_free(corrstack *cs) {
  for (size_t i = 0; i < cs->nnames; i++) free(cs->names[i]);
  for (size_t i = 0; i < cs->n; i++) free(cs->s[i].stack);
  free(cs->names);
  free(cs->plumbing);
  free(cs->s);
  free(cs->calls);
  json_decref(cs->ids);
  memset(cs, 0, sizeof *cs);
}

int64_t corrstack_id(const corrstack *cs, const char *name) {
  json_t *v = json_object_get(cs->ids, name);
  return v ? (int64_t)json_integer_value(v) : -1;
}

/* The id of frame name (file: its source file, or NULL), added when new with its plumbing mark. */
static int64_t intern(corrstack *cs, const char *name, const char *file) {
  int64_t id = corrstack_id(cs, name);
  if (id >= 0) return id;
  if (cs->nnames == cs->capnames) {
    size_t cap = cs->capnames ? cs->capnames * 2 : 256;
    char **n = realloc(cs->names, cap * sizeof *n);
    if (!n) return -ENOMEM;
    cs->names = n;
    unsigned char *pl = realloc(cs->plumbing, cap);
    if (!pl) return -ENOMEM;
    cs->plumbing = pl;
    cs->capnames = cap;
  }
  cs->plumbing[cs->nnames] = (unsigned char)corrstack_is_library(name, file);
  if (!(cs->names[cs->nnames] = strdup(name))) return -ENOMEM;
  json_object_set_new(cs->ids, name, json_integer((json_int_t)cs->nnames));
  return (int64_t)cs->nnames++;
}

static int cmp_u64(const void *x, const void *y) {
  uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;
  return (a > b) - (a < b);
}

/* Sort the learned edges and drop repeats (they repeat in almost every sample). */
static void calls_compact(corrstack *cs) {
  size_t k = 0;
  if (cs->ncalls > 1) qsort(cs->calls, cs->ncalls, sizeof *cs->calls, cmp_u64); /* qsort(NULL, 0): UB */
  for (size_t i = 0; i < cs->ncalls; i++)
    if (!k || cs->calls[k - 1] != cs->calls[i]) cs->calls[k++] = cs->calls[i];
  cs->ncalls = k;
}

/* Learn the edges of one stack of frame ids (leaf first); recursion is no caller. */
static int learn(corrstack *cs, const uint32_t *st, size_t n) {
  for (size_t k = 0; k + 1 < n; k++) {
    if (st[k] == st[k + 1]) continue;
    if (cs->ncalls == cs->capcalls) {
      calls_compact(cs);
      /* still half full after the repeats went: twice the room */
      if (cs->ncalls * 2 >= cs->capcalls &&
          grow_room(&cs->calls, &cs->capcalls, cs->capcalls + 1, sizeof *cs->calls, 4096) < 0)
        return -ENOMEM;
    }
    cs->calls[cs->ncalls++] = (uint64_t)st[k] << 32 | st[k + 1];
  }
  return 0;
}

int corrstack_add_calls(corrstack *cs, const pprof_profile *p) {
  uint32_t st[PPROF_MAX_STACK];
  for (size_t i = 0; i < p->nsamples; i++) {
    const pprof_sample *s = &p->samples[i];
    size_t n = s->nstack < PPROF_MAX_STACK ? s->nstack : PPROF_MAX_STACK;
    for (size_t k = 0; k < n; k++) {
      const pprof_function *f = &p->functions[s->stack[k]];
      int64_t id = intern(cs, p->strings[f->name], f->filename ? p->strings[f->filename] : NULL);
      if (id < 0) return (int)id;
      st[k] = (uint32_t)id;
    }
    if (learn(cs, st, n) < 0) return -ENOMEM;
  }
  return 0;
}

int corrstack_add(corrstack *cs, const pprof_profile *p, const pprof_sample *s, size_t vi, size_t w) {
  if (grow_room(&cs->s, &cs->cap, cs->n + 1, sizeof *cs->s, 1024) < 0) return -ENOMEM;
  corr_sample *c = &cs->s[cs->n];
  memset(c, 0, sizeof *c);
  c->stack = malloc((s->nstack ? s->nstack : 1) * sizeof *c->stack);
  if (!c->stack) return -ENOMEM;
  for (size_t i = 0; i < s->nstack; i++) {
    const pprof_function *f = &p->functions[s->stack[i]];
    int64_t id = intern(cs, p->strings[f->name], f->filename ? p->strings[f->filename] : NULL);
    if (id < 0) {
      free(c->stack);
      return (int)id;
    }
    c->stack[i] = (uint32_t)id;
  }
  if (!s->nstack) {
    int64_t id = intern(cs, "(no stack)", NULL);
    if (id < 0) {
      free(c->stack);
      return (int)id;
    }
    c->stack[0] = (uint32_t)id;
  }
  c->nstack = s->nstack ? s->nstack : 1;
  c->value = (double)s->values[vi];
  c->window = w;
  cs->n++;
  return learn(cs, c->stack, c->nstack);
}

double corrstack_inclusive(const corrstack *cs, const unsigned char *mask, double *incl) {
  size_t *seen = calloc(cs->nnames ? cs->nnames : 1, sizeof *seen);
  double tot = 0;
  memset(incl, 0, cs->nnames * sizeof *incl);
  if (!seen) return -1;
  for (size_t i = 0; i < cs->n; i++) {
    if (!mask[i]) continue;
    const corr_sample *c = &cs->s[i];
    tot += c->value;
    for (size_t k = 0; k < c->nstack; k++)
      if (seen[c->stack[k]] != i + 1) { /* once per sample, recursion included */
        seen[c->stack[k]] = i + 1;
        incl[c->stack[k]] += c->value;
      }
  }
  free(seen);
  return tot;
}

double corrstack_ztest(double x1, double n1, double x2, double n2) {
  if (n1 <= 0 || n2 <= 0) return 1;
  double p1 = x1 / n1, p2 = x2 / n2, p = (x1 + x2) / (n1 + n2);
  double se = sqrt(p * (1 - p) * (1 / n1 + 1 / n2));
  if (se <= 0) return p1 > p2 ? 0 : 1;
  return 0.5 * erfc((p1 - p2) / se / sqrt(2.0));
}

/* A Go standard-library frame: its import path's first element is one of the standard library's top-level
 * packages ("net/http.(*conn).serve", "encoding/json.Marshal", "sync.(*Mutex).Lock"). Other languages'
 * frames of the same names (Python's time.sleep, threading.) are plumbing too. */
static int go_std(const char *n) {
  static const char *const std[] = {
      "archive", "bufio",    "builtin", "bytes",     "cmp",          "compress",  "container", "context",
      "crypto",  "database", "debug",   "embed",     "encoding",     "errors",    "expvar",    "flag",
      "fmt",     "go",       "hash",    "html",      "image",        "index",     "internal",  "io",
      "iter",    "log",      "maps",    "math",      "mime",         "net",       "os",        "path",
      "plugin",  "reflect",  "regexp",  "runtime",   "slices",       "sort",      "strconv",   "strings",
      "structs", "sync",     "syscall", "testing",   "text",         "time",      "unicode",   "unique",
      "unsafe",  "vendor",   "weak",    "threading", "socketserver", "selectors", "asyncio",   "concurrent",
      "queue",   "ssl",      "socket",  "wsgiref",   "http"};
  size_t len = strcspn(n, "/.");
  if (!n[len]) return 0;
  for (size_t i = 0; i < sizeof std / sizeof std[0]; i++)
    if (strlen(std[i]) == len && strncmp(n, std[i], len) == 0) return 1;
  return 0;
}

int corrstack_has_prefix(const char *name, const char *const *list) {
  for (; name && *list; list++)
    if (strncmp(name, *list, strlen(*list)) == 0) return 1;
  return 0;
}

int corrstack_is_framework(const char *n) {
  /* loadctl_agent: loadctl's own Python agent (a middleware in the service's process) is never its code;
   * "(no stack)": a sample without frames (a goroutine caught between stacks) says nothing of where it is */
  static const char *const pre[] = {
      "runtime.", "runtime/",       "[",          "__", "_start", "start_thread",
      "clone",    "loadctl_agent.", "(no stack)", NULL};
  if (corrstack_has_prefix(n, pre)) return 1;
  size_t len = strlen(n); /* NAME-fm: Go's wrapper of a method value (a handler registered as s.handle) */
  return (len > 3 && strcmp(n + len - 3, "-fm") == 0) || go_std(n);
}

/* Where installed libraries and a language's standard library live: Python's site-packages and dist-packages
 * (pip, Debian), its standard library (.../lib/python3.11/..., "<frozen ...>" modules) and Go's module cache
 * (.../pkg/mod/...). A service's own files are anywhere else. */
int corrstack_is_library_file(const char *file) {
  static const char *const dirs[] = {"/site-packages/", "/dist-packages/", "/pkg/mod/"};
  if (!file || !*file) return 0;
  if (strncmp(file, "<frozen ", 8) == 0) return 1;
  for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++)
    if (strstr(file, dirs[i])) return 1;
  for (const char *l = strstr(file, "/lib/python"); l; l = strstr(l + 1, "/lib/python"))
    if (isdigit((unsigned char)l[11])) return 1;
  return 0;
}

int corrstack_is_library(const char *name, const char *file) {
  return corrstack_is_framework(name) || corrstack_is_library_file(file);
}

const char *corrstack_service_frame(const pprof_profile *p, const pprof_sample *s) {
  for (size_t i = 0; i < s->nstack; i++) {
    const pprof_function *f = &p->functions[s->stack[i]];
    if (!corrstack_is_library(p->strings[f->name], f->filename ? p->strings[f->filename] : NULL))
      return p->strings[f->name];
  }
  return NULL;
}

int corrstack_plumbing(const corrstack *cs, int64_t id) {
  return id >= 0 && (size_t)id < cs->nnames && cs->plumbing[id];
}

int corrstack_is_closure(const char *n) {
  const char *f = strstr(n, ".func");
  while (f) {
    const char *d = f + 5;
    if (isdigit((unsigned char)*d)) return 1;
    f = strstr(d, ".func");
  }
  return 0;
}

const char *corrstack_function(const char *frame, char *buf, size_t len) {
  snprintf(buf, len, "%s", frame);
  for (char *f = strstr(buf, ".func"); f; f = strstr(f + 1, ".func")) {
    const char *d = f + 5;
    while (isdigit((unsigned char)*d) || (*d == '.' && isdigit((unsigned char)d[1]))) d++;
    if (d > f + 5 && !*d && f > buf) { /* "pkg.fn.func1", "pkg.fn.func2.1" -> "pkg.fn" */
      *f = '\0';
      break;
    }
  }
  /* Python's comprehensions, generator expressions and lambdas are code objects of their own inside the
   * function that holds them ("mod.page.<locals>.<listcomp>" -> "mod.page"; 3.12 inlines comprehensions) */
  static const char *const part[] = {".<locals>.<listcomp>", ".<locals>.<dictcomp>", ".<locals>.<setcomp>",
                                     ".<locals>.<genexpr>", ".<locals>.<lambda>"};
  size_t n = strlen(buf);
  for (size_t i = 0; i < sizeof part / sizeof part[0]; i++) {
    size_t k = strlen(part[i]);
    if (n > k && strcmp(buf + n - k, part[i]) == 0) buf[n - k] = '\0';
  }
  return buf;
}

/* Distinct callers of fn among the learned edges. */
static size_t learned_callers(const corrstack *cs, int64_t fn) {
  uint64_t *mine = malloc((cs->ncalls ? cs->ncalls : 1) * sizeof *mine);
  size_t n = 0, k = 0;
  if (!mine) return 0;
  for (size_t i = 0; i < cs->ncalls; i++)
    if ((int64_t)(cs->calls[i] >> 32) == fn) mine[n++] = cs->calls[i];
  qsort(mine, n, sizeof *mine, cmp_u64);
  for (size_t i = 0; i < n; i++) k += !i || mine[i] != mine[i - 1];
  free(mine);
  return k;
}

size_t corrstack_callers(const corrstack *cs, int64_t fn, const unsigned char *mask) {
  if (!mask) return learned_callers(cs, fn);
  json_t *set = json_object();
  char key[24];
  for (size_t i = 0; i < cs->n; i++) {
    if (mask && !mask[i]) continue;
    const corr_sample *c = &cs->s[i];
    for (size_t k = 0; k + 1 < c->nstack; k++)
      if ((int64_t)c->stack[k] == fn && (int64_t)c->stack[k + 1] != fn) {
        snprintf(key, sizeof key, "%u", c->stack[k + 1]);
        json_object_set_new(set, key, json_true());
      }
  }
  size_t n = json_object_size(set);
  json_decref(set);
  return n;
}

/* Position of fn in c's stack (outermost occurrence), or -1. */
static long position(const corr_sample *c, int64_t fn) {
  for (size_t k = c->nstack; k-- > 0;)
    if ((int64_t)c->stack[k] == fn) return (long)k;
  return -1;
}

int corrstack_holds(const corr_sample *c, int64_t fn) {
  return position(c, fn) >= 0;
}

json_t *corrstack_path(const corrstack *cs, int64_t fn, const unsigned char *mask) {
  json_t *sums = json_object(), *path = json_array();
  const char *best = NULL, *k;
  json_t *v;
  double bv = 0;
  char *key = NULL;
  size_t cap = 0;
  for (size_t i = 0; i < cs->n && fn >= 0; i++) { /* aggregate the masked stacks through fn */
    const corr_sample *c = &cs->s[i];
    if ((mask && !mask[i]) || position(c, fn) < 0) continue;
    if (cap < c->nstack * 12 + 1 && !(key = realloc(key, cap = c->nstack * 12 + 1))) break;
    size_t o = 0;
    for (size_t j = 0; j < c->nstack; j++) o += (size_t)snprintf(key + o, cap - o, "%u,", c->stack[j]);
    key[o] = '\0';
    json_object_set_new(sums, key, json_real(json_number_value(json_object_get(sums, key)) + c->value));
  }
  json_object_foreach(sums, k, v) if (json_number_value(v) > bv) {
    bv = json_number_value(v);
    best = k;
  }
  if (best) {
    uint32_t st[PPROF_MAX_STACK];
    size_t n = 0;
    for (char *e, *t = (char *)best; *t && n < PPROF_MAX_STACK; t = e + 1)
      st[n++] = (uint32_t)strtoul(t, &e, 10);
    size_t top = 0; /* from the outermost non-framework frame above fn (or fn itself) */
    for (size_t j = n; j-- > 0;) {
      if ((int64_t)st[j] == fn || !corrstack_plumbing(cs, st[j])) {
        top = j;
        break;
      }
    }
    for (size_t j = top + 1; j-- > 0;) json_array_append_new(path, json_string(cs->names[st[j]]));
  }
  free(key);
  json_decref(sums);
  return path;
}

/* Mean depth from the root of each frame over a's samples holding it, weighted by value (outermost first). */
static void root_depths(const corrstack *cs, const unsigned char *a, double *depth) {
  double *w = calloc(cs->nnames ? cs->nnames : 1, sizeof *w);
  memset(depth, 0, cs->nnames * sizeof *depth);
  for (size_t i = 0; w && i < cs->n; i++) {
    if (!a[i]) continue;
    const corr_sample *c = &cs->s[i];
    for (size_t k = 0; k < c->nstack; k++) {
      depth[c->stack[k]] += c->value * (double)(c->nstack - 1 - k);
      w[c->stack[k]] += c->value;
    }
  }
  for (size_t f = 0; w && f < cs->nnames; f++) depth[f] = w[f] > 0 ? depth[f] / w[f] : 1e18;
  free(w);
}

/* The caller of fn in a's samples that is neither plumbing nor a closure (walking up through those) where a
 * goes most beyond the other samples (other: the largest share of a's samples through it minus the share of
 * other's; of a helper's callers, the one only a goes through, not the one every request calls it from), or
 * -1; *through: the value of a's samples holding fn that it is on. */
static int64_t named_caller(const corrstack *cs, const unsigned char *a, const unsigned char *other,
                            int64_t fn, double *through) {
  size_t nf = cs->nnames ? cs->nnames : 1;
  double *w = calloc(nf, sizeof *w), *wo = calloc(nf, sizeof *wo), ta = 0, to = 0, bs = 0;
  int64_t best = -1;
  for (size_t i = 0; w && wo && i < cs->n; i++) {
    const corr_sample *c = &cs->s[i];
    int in_a = a[i], in_o = !in_a && other && other[i];
    ta += in_a ? c->value : 0, to += in_o ? c->value : 0;
    long pos = in_a || in_o ? position(c, fn) : -1;
    for (size_t k = pos < 0 ? c->nstack : (size_t)pos + 1; k < c->nstack; k++) {
      const char *n = cs->names[c->stack[k]];
      if ((int64_t)c->stack[k] == fn || corrstack_plumbing(cs, c->stack[k]) || corrstack_is_closure(n))
        continue;
      (in_a ? w : wo)[c->stack[k]] += c->value;
      break;
    }
  }
  for (size_t f = 0; w && wo && f < cs->nnames; f++) {
    double sc = w[f] / ta - (to > 0 ? wo[f] / to : 0);
    if (w[f] > 0 && (best < 0 || sc > bs)) bs = sc, best = (int64_t)f;
  }
  *through = best >= 0 ? w[best] : 0;
  free(w);
  free(wo);
  return best;
}

/* Pick the frame: among candidates within TOLERANCE of the largest difference, the outermost (smallest mean
 * depth from the root, then largest inclusive value in a). A closure picked is reported as its enclosing
 * function. */
static int64_t pick(const corrstack *cs, const double *ia, const double *ib, double ta, double tb,
                    const unsigned char *cand, const double *depth) {
  double max = -1;
  int64_t best = -1;
  for (size_t f = 0; f < cs->nnames; f++)
    if (cand[f] && ia[f] / ta - ib[f] / tb > max) max = ia[f] / ta - ib[f] / tb;
  if (max < CORRELATE_MIN_DELTA) return -1;
  for (size_t f = 0; f < cs->nnames; f++) {
    if (!cand[f] || ia[f] / ta - ib[f] / tb < max - CORRELATE_TOLERANCE) continue;
    if (best < 0 || depth[f] < depth[best] || (depth[f] == depth[best] && ia[f] > ia[best]))
      best = (int64_t)f;
  }
  return best;
}

/* A C library's thread start, or a frame the profiler could not name ("[unknown]", "[kernel.kallsyms]"). */
static int thread_start(const char *n) {
  static const char *const pre[] = {"_start", "__libc_start", "start_thread", "clone", "[", NULL};
  return corrstack_has_prefix(n, pre);
}

/* Frames that name a thread without being its work: nothing in the run calls them and all they call is a C
 * library's thread start (a perf sample's root is its thread's command, ":PID" when perf does not know it).
 * A Go goroutine's own function, which nothing calls either, calls the service's code or the runtime's.
 * New array of nnames flags, or NULL. */
static unsigned char *thread_names(const corrstack *cs) {
  unsigned char *t = calloc(cs->nnames ? cs->nnames : 1, 1), *called = calloc(cs->nnames ? cs->nnames : 1, 1);
  for (size_t i = 0; t && called && i < cs->ncalls; i++) { /* edge: callee << 32 | caller */
    uint32_t callee = (uint32_t)(cs->calls[i] >> 32), caller = (uint32_t)cs->calls[i];
    called[callee] = 1;
    t[caller] |= thread_start(cs->names[callee]) ? 1 : 2; /* 1: calls thread starts only so far */
  }
  for (size_t f = 0; t && called && f < cs->nnames; f++) t[f] = t[f] == 1 && !called[f];
  free(called);
  return t;
}

/* Candidates: frames present in a, neither framework nor a thread's name (unless nothing else is). */
static void candidates(const corrstack *cs, const double *ia, unsigned char *cand) {
  unsigned char *thread = thread_names(cs);
  int any = 0;
  for (size_t f = 0; f < cs->nnames; f++)
    any |= cand[f] = ia[f] > 0 && !corrstack_plumbing(cs, (int64_t)f) && !(thread && thread[f]);
  if (!any)
    for (size_t f = 0; f < cs->nnames; f++) cand[f] = ia[f] > 0;
  free(thread);
}

/* With skip_chain: frames on a's common chain (in >= ROOT_SHARE of a) are its context (the handler and what
 * calls it): the frame is picked below them; when nothing below differs enough, or when a's body is what is
 * slow (body: what all of a's samples run is the answer), the innermost named frame of the chain is, unless
 * known (corr_opts.known: a's typical requests are seen running it, so it does not set the slow ones apart).
 */
static int64_t pick_below_chain(const corrstack *cs, const double *ia, const double *ib, double ta, double tb,
                                const unsigned char *cand, const double *depth, int below_only, int body,
                                const unsigned char *known) {
  unsigned char *below = calloc(cs->nnames ? cs->nnames : 1, 1);
  int64_t fn = -1;
  if (!below) return -1;
  for (size_t f = 0; f < cs->nnames; f++) below[f] = cand[f] && ia[f] / ta < CORRELATE_ROOT_SHARE;
  if (!body) fn = pick(cs, ia, ib, ta, tb, below, depth);
  for (size_t f = 0; fn < 0 && (!below_only || body) && f < cs->nnames; f++)
    below[f] = cand[f] && ia[f] / ta >= CORRELATE_ROOT_SHARE && !(known && known[f]);
  double d = 0;
  for (size_t f = 0; fn < 0 && f < cs->nnames; f++)
    if (below[f] && !corrstack_is_closure(cs->names[f]) && (depth[f] >= d || fn < 0) &&
        ia[f] / ta - ib[f] / tb >= CORRELATE_MIN_DELTA)
      d = depth[f], fn = (int64_t)f;
  for (size_t f = 0; fn >= 0 && f < cs->nnames; f++) /* the deepest such frame */
    if (below[f] && !corrstack_is_closure(cs->names[f]) && depth[f] > depth[fn] &&
        ia[f] / ta - ib[f] / tb >= CORRELATE_MIN_DELTA)
      fn = (int64_t)f;
  free(below);
  return fn;
}

/* A frame that other callers share is a helper, and its caller in a is named instead when the helper is
 * common outside a, or when the caller's time in a is the helper's (within TOLERANCE both ways: all of a's
 * time in the helper comes through it, and it does little else): the same time, named where only a goes.
 * Otherwise, when a's time in it comes through several callers, nothing is (-1: a shared helper is never
 * named alone); when through one caller that does more besides, the helper is. */
static int64_t lift_helper(const corrstack *cs, const unsigned char *a, const unsigned char *other,
                           const double *ia, const double *io, double to, const unsigned char *cand,
                           int64_t fn) {
  for (int hops = 0; fn >= 0 && hops < 16; hops++) {
    if (corrstack_callers(cs, fn, NULL) < CORRELATE_HELPER_CALLERS) return fn;
    double through = 0;
    int64_t up = named_caller(cs, a, other, fn, &through);
    int common = to > 0 && io[fn] / to >= CORRELATE_HELPER_BASE;
    int one = up >= 0 && ia[fn] > 0 && through >= (1 - CORRELATE_TOLERANCE) * ia[fn] &&
              ia[up] * (1 - CORRELATE_TOLERANCE) <= ia[fn];
    if (up < 0 || !cand[up]) return fn; /* no caller of its own in a to name instead */
    if (!common && !one) /* through several callers: never named alone; through one that does more: it */
      return through < (1 - CORRELATE_TOLERANCE) * ia[fn] ? -1 : fn;
    fn = up;
  }
  return fn;
}

int64_t corrstack_lift(const corrstack *cs, const unsigned char *a, const unsigned char *universe,
                       int64_t fn) {
  size_t nf = cs->nnames ? cs->nnames : 1;
  double *ia = calloc(nf, sizeof *ia), *io = calloc(nf, sizeof *io);
  unsigned char *cand = calloc(nf, 1), *other = calloc(cs->n ? cs->n : 1, 1);
  if (ia && io && cand && other) {
    for (size_t i = 0; i < cs->n; i++) other[i] = !a[i] && (!universe || universe[i]);
    corrstack_inclusive(cs, a, ia);
    double to = corrstack_inclusive(cs, other, io);
    candidates(cs, ia, cand);
    fn = lift_helper(cs, a, other, ia, io, to, cand, fn);
  }
  free(ia);
  free(io);
  free(cand);
  free(other);
  return fn;
}

/* Rates: samples per request in fn, a's >= MIN_RATIO x b's, conditional binomial z test p < ALPHA. */
static int rate_ok(double xa, double na, double xb, double nb, double *p) {
  double x = xa + xb, p0 = na / (na + nb);
  *p = x > 0 ? 0.5 * erfc((xa - x * p0) / sqrt(x * p0 * (1 - p0)) / sqrt(2.0)) : 1;
  return xa / na >= CORRELATE_MIN_RATIO * xb / nb && *p < CORRELATE_ALPHA;
}

/* By time per request (samples / requests): the excess of a over b per request is the fault's time. The
 * frames holding all of it (within TOLERANCE, relative) are the fault's call chain: the handler and plumbing
 * above it, the fault, and helpers below it that it spends its time in. The one named is where a and b
 * diverge: the frame b's requests run least (a handler runs in every request, a helper for other callers
 * too); of equals the innermost (a handler whose samples all lie in the fault's function), or for windows
 * (o->rise) the outermost: the root of the work that rose. */
static int64_t pick_rate(const corrstack *cs, const double *ia, const double *ib, const corr_opts *o,
                         const unsigned char *cand, const double *depth) {
  double max = 0;
  int64_t best = -1;
  for (int pass = 0; pass < 2; pass++)
    for (size_t f = 0; f < cs->nnames; f++) {
      double d = ia[f] / o->na - ib[f] / o->nb;
      if (!cand[f]) continue;
      if (pass == 0 && d > max) max = d;
      if (pass == 1 && max > 0 && d >= (1 - CORRELATE_TOLERANCE) * max &&
          (best < 0 || ib[f] < ib[best] ||
           (ib[f] == ib[best] && (o->rise ? depth[f] < depth[best] : depth[f] > depth[best]))))
        best = (int64_t)f;
    }
  return best;
}

/* The value of a's samples holding fn that carry a request name. */
static double labelled(const corrstack *cs, const unsigned char *a, int64_t fn) {
  double v = 0;
  for (size_t i = 0; i < cs->n; i++)
    v += a[i] && cs->s[i].name && position(&cs->s[i], fn) >= 0 ? cs->s[i].value : 0;
  return v;
}

/* Shares: a's share of fn (xa of na) exceeds b's by MIN_DELTA and MIN_RATIO x, two-proportion p < ALPHA. */
static int share_ok(double xa, double na, double xb, double nb, double *p) {
  double sa = xa / na, sb = xb / nb;
  *p = corrstack_ztest(xa, na, xb, nb);
  return sa - sb >= CORRELATE_MIN_DELTA && sa >= CORRELATE_MIN_RATIO * sb && *p < CORRELATE_ALPHA;
}

/* Down from fn to the callee holding its time (corrdesc.h) when the same test holds there; not for windows
 * (the root of the work that rose) nor below what typical requests run (corrdesc_entry's CORR_BELOW_KNOWN).
 */
static int64_t below(const corrstack *cs, const unsigned char *a, const unsigned char *b, const corr_opts *o,
                     const double *ia, const double *ib, corr_contrast *out, int64_t fn) {
  if (o && o->rise) return fn;
  double scale = out->per_request ? o->na / o->nb : out->b_tot > 0 ? out->a_tot / out->b_tot : 0, p = 1;
  int how = out->no_baseline == CORR_BELOW_KNOWN ? CORRDESC_KNOWN : CORRDESC_PICKED;
  int64_t low = corrdesc_below(cs, a, ia, ib, scale, how, fn);
  int ok = low != fn && (out->per_request ? rate_ok(ia[low], o->na, ib[low], o->nb, &p)
                                          : share_ok(ia[low], out->a_tot, ib[low], out->b_tot, &p));
  if (ok) out->p_value = p, out->no_baseline = out->no_baseline ? CORR_BELOW_DOWN : 0, fn = low;
  low = corrpres_down(cs, a, b, o, ia, ib, scale, fn, &out->site); /* the call site of library work */
  ok = low != fn && (out->per_request ? rate_ok(ia[low], o->na, ib[low], o->nb, &p)
                                      : share_ok(ia[low], out->a_tot, ib[low], out->b_tot, &p));
  if (ok) out->p_value = p, out->no_baseline = out->no_baseline ? CORR_BELOW_SITE : 0;
  return ok ? low : fn;
}

int corrstack_contrast(const corrstack *cs, const unsigned char *a, const unsigned char *b,
                       const corr_opts *o, corr_contrast *out) {
  size_t nf = cs->nnames ? cs->nnames : 1;
  double *ia = calloc(nf, sizeof *ia), *ib = calloc(nf, sizeof *ib), *io = calloc(nf, sizeof *io);
  unsigned char *cand = calloc(nf, 1), *other = calloc(cs->n ? cs->n : 1, 1);
  double *depth = calloc(nf, sizeof *depth);
  int rc = -ENOMEM;
  memset(out, 0, sizeof *out);
  out->fn = -1;
  out->p_value = 1;
  if (!ia || !ib || !io || !cand || !other || !depth) goto done;
  rc = 0;
  out->a_tot = corrstack_inclusive(cs, a, ia);
  out->b_tot = corrstack_inclusive(cs, b, ib);
  for (size_t i = 0; i < cs->n; i++) other[i] = !a[i];
  double to = corrstack_inclusive(cs, other, io);
  /* with request counts the rate test weighs a small baseline (fast requests are rarely sampled); the shares
   * need one of their own */
  int rate = o && o->na > 0 && o->nb > 0, shares = out->b_tot >= CORRELATE_MIN_BASELINE;
  if (out->a_tot < CORRELATE_FEW_SAMPLES || (!shares && !rate)) goto done;
  root_depths(cs, a, depth);
  candidates(cs, ia, cand);
  /* no baseline of a's own: the frame below its requests' entry, when a test holds there */
  int64_t fn = o && o->entry ? corrdesc_entry(cs, a, o, &out->no_baseline) : -1;
  if (fn >= 0 && shares && share_ok(ia[fn], out->a_tot, ib[fn], out->b_tot, &out->p_value)) goto found;
  if (fn >= 0 && rate && rate_ok(ia[fn], o->na, ib[fn], o->nb, &out->p_value) &&
      ia[fn] / out->a_tot >= CORRELATE_MIN_DELTA) {
    out->per_request = 1;
    goto found;
  }
  out->no_baseline = 0;
  /* with request counts, rates come before the chain's innermost frame */
  fn = !shares ? -1
       : o && o->skip_chain
           ? pick_below_chain(cs, ia, ib, out->a_tot, out->b_tot, cand, depth, rate, o->body, o->known)
           : pick(cs, ia, ib, out->a_tot, out->b_tot, cand, depth);
  fn = fn >= 0 ? lift_helper(cs, a, other, ia, io, to, cand, fn) : -1;
  if (fn >= 0 && share_ok(ia[fn], out->a_tot, ib[fn], out->b_tot, &out->p_value)) goto found;
  if (!rate) goto done;
  /* time per request: when the fault dominates both populations' samples (the typical requests' samples
   * are few and a handful of unlisted slow requests among them carry most), shares barely differ */
  fn = pick_rate(cs, ia, ib, o, cand, depth);
  fn = fn >= 0 ? lift_helper(cs, a, other, ia, io, to, cand, fn) : -1;
  if (fn >= 0 && rate_ok(ia[fn], o->na, ib[fn], o->nb, &out->p_value) &&
      ia[fn] / out->a_tot >= CORRELATE_MIN_DELTA &&
      (!o->rise || (ia[fn] / out->a_tot - (out->b_tot > 0 ? ib[fn] / out->b_tot : 0) >= CORRELATE_MIN_DELTA &&
                    labelled(cs, a, fn) < (1 - CORRELATE_WIN_UNLABELLED) * ia[fn]))) {
    out->per_request = 1;
    goto found;
  }
  fn = shares && o->skip_chain
           ? pick_below_chain(cs, ia, ib, out->a_tot, out->b_tot, cand, depth, 0, o->body, o->known)
           : -1;
  fn = fn >= 0 ? lift_helper(cs, a, other, ia, io, to, cand, fn) : -1;
  if (fn < 0 || !share_ok(ia[fn], out->a_tot, ib[fn], out->b_tot, &out->p_value)) goto done;
found:
  fn = below(cs, a, b, o, ia, ib, out, fn);
  /* a population of few samples claims only on strong evidence */
  if (out->a_tot < CORRELATE_MIN_SAMPLES &&
      (out->p_value >= CORRELATE_STRONG_ALPHA || !corrpres_rare(cs, a, b, o, fn)))
    goto done;
  out->a_fn = ia[fn];
  out->b_fn = ib[fn];
  out->fn = fn;
  out->path = corrstack_path(cs, fn, a);
done:
  free(ia);
  free(ib);
  free(io);
  free(cand);
  free(other);
  free(depth);
  return rc;
}
