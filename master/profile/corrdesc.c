/* corrdesc.c - where a contrast without a baseline of its own diverges (the frame below the entry), and down
 * from a picked frame to the callee holding its time (see corrdesc.h). */
#include "master/profile/corrdesc.h"

#include <stdlib.h>
#include <string.h>

#include "master/profile/correlate.h"

/* The request name of a's samples (the first one that has one), or NULL. */
static const char *name_of(const corrstack *cs, const unsigned char *a) {
  const char *name = NULL;
  for (size_t i = 0; !name && i < cs->n; i++) name = a[i] ? cs->s[i].name : NULL;
  return name;
}

/* Frames on the labelled samples of request names other than a's (a's samples are one name's). */
static unsigned char *other_names(const corrstack *cs, const unsigned char *a) {
  unsigned char *seen = calloc(cs->nnames ? cs->nnames : 1, 1);
  const char *name = name_of(cs, a);
  for (size_t i = 0; seen && name && i < cs->n; i++) {
    const corr_sample *c = &cs->s[i];
    if (a[i] || !c->name || strcmp(c->name, name) == 0) continue;
    for (size_t k = 0; k < c->nstack; k++) seen[c->stack[k]] = 1;
  }
  return seen;
}

/* a's hot path, one frame a step from the root: the callee holding the most of a's samples still on the path,
 * while that is more than half of them. walk->at is the frame (-1 at the end). */
typedef struct hot_walk {
  const corrstack *cs;
  unsigned char *on; /* samples still on the path */
  size_t *pos;       /* their position (stack index) of walk->at */
  double *sum, w;    /* per frame scratch; the value on the path */
  int64_t at;
} hot_walk;

static void hot_step(hot_walk *h) {
  const corrstack *cs = h->cs;
  int64_t best = -1;
  memset(h->sum, 0, cs->nnames * sizeof *h->sum);
  for (size_t i = 0; i < cs->n; i++)
    if (h->on[i] && h->pos[i] > 0) h->sum[cs->s[i].stack[h->pos[i] - 1]] += cs->s[i].value;
  for (size_t f = 0; f < cs->nnames; f++)
    if (h->sum[f] > 0 && (best < 0 || h->sum[f] > h->sum[best])) best = (int64_t)f;
  h->at = best >= 0 && h->sum[best] > CORRELATE_HOT_PATH * h->w ? best : -1;
  if (h->at < 0) return;
  h->w = h->sum[best];
  for (size_t i = 0; i < cs->n; i++) {
    h->on[i] = h->on[i] && h->pos[i] > 0 && (int64_t)cs->s[i].stack[h->pos[i] - 1] == best;
    h->pos[i] -= h->on[i];
  }
}

int64_t corrdesc_entry(const corrstack *cs, const unsigned char *a, const corr_opts *o, int *how) {
  unsigned char *ctx = other_names(cs, a);
  hot_walk h = {cs,
                calloc(cs->n ? cs->n : 1, 1),
                calloc(cs->n ? cs->n : 1, sizeof *h.pos),
                calloc(cs->nnames ? cs->nnames : 1, sizeof *h.sum),
                0,
                -1};
  int64_t fn = -1;
  int entry = 1; /* a's typical requests unseen: the first frame below the context is their entry */
  for (size_t f = 0; ctx && o && o->known && f < cs->nnames; f++) {
    entry &= !(o->known[f] && !corrstack_plumbing(cs, (int64_t)f));
    ctx[f] |= o->known[f];
  }
  for (size_t i = 0; ctx && h.on && h.pos && h.sum && i < cs->n; i++)
    if ((h.on[i] = a[i])) h.pos[i] = cs->s[i].nstack, h.w += cs->s[i].value;
  for (int below = 0; ctx && h.on && h.pos && h.sum && fn < 0;) {
    hot_step(&h);
    if (h.at < 0) break;
    if (corrstack_plumbing(cs, h.at) || (!below && ctx[h.at])) continue;
    if (!below++ && entry) continue;
    if (!corrstack_is_closure(cs->names[h.at]) &&
        corrstack_callers(cs, h.at, NULL) < CORRELATE_HELPER_CALLERS)
      fn = h.at;
  }
  free(h.on);
  free(h.pos);
  free(h.sum);
  free(ctx);
  *how = fn < 0 ? 0 : entry ? CORR_BELOW_ENTRY : CORR_BELOW_KNOWN;
  return fn;
}

/* Is frame id run by a labelled sample of a request name other than name (a's)? */
static int other_name_runs(const corrstack *cs, const unsigned char *a, const char *name, int64_t id) {
  for (size_t i = 0; name && i < cs->n; i++) {
    const corr_sample *c = &cs->s[i];
    if (a[i] || !c->name || strcmp(c->name, name) == 0) continue;
    for (size_t k = 0; k < c->nstack; k++)
      if ((int64_t)c->stack[k] == id) return 1;
  }
  return 0;
}

/* Is path[at] a's entry: every frame above it plumbing, a closure or other request names' too? */
static int is_entry(const corrstack *cs, const unsigned char *a, json_t *path, size_t at) {
  const char *name = name_of(cs, a);
  for (size_t i = 0; i < at; i++) {
    const char *n = json_string_value(json_array_get(path, i));
    int64_t id = corrstack_id(cs, n);
    if (id >= 0 && !corrstack_plumbing(cs, id) && !corrstack_is_closure(n) &&
        !other_name_runs(cs, a, name, id))
      return 0;
  }
  return 1;
}

/* Is path[at] the innermost service frame of path, with library code below it (the call it waits in)? */
static int calls_library(const corrstack *cs, json_t *path, size_t at) {
  size_t n = json_array_size(path);
  for (size_t i = at + 1; i < n; i++)
    if (!corrstack_plumbing(cs, corrstack_id(cs, json_string_value(json_array_get(path, i))))) return 0;
  return at + 1 < n;
}

/* May the finding name the callee id instead of its caller? The service's own, not a shared helper (several
 * callers in the run, or >= HELPER_BASE of the samples outside a: io of to). */
static int nameable(const corrstack *cs, const double *io, double to, int64_t id) {
  return id >= 0 && !corrstack_plumbing(cs, id) && !corrstack_is_closure(cs->names[id]) &&
         corrstack_callers(cs, id, NULL) < CORRELATE_HELPER_CALLERS &&
         !(to > 0 && io[id] >= CORRELATE_HELPER_BASE * to);
}

/* Samples outside a's request name (other names' and no request's): inclusive values into io, total. A
 * request's sample whose name is unknown (a trace id without a name: traceparent-only labels, the name known
 * from exemplars only) may be a's name's and is neither. */
static double outside(const corrstack *cs, const unsigned char *a, double *io, unsigned char *out) {
  const char *name = name_of(cs, a);
  for (size_t i = 0; i < cs->n; i++) {
    const corr_sample *c = &cs->s[i];
    int unknown = CORRELATE_CALLBACK && name && !c->name && (c->trace_id || c->span_id);
    out[i] = !a[i] && !unknown && !(name && c->name && strcmp(c->name, name) == 0);
  }
  return corrstack_inclusive(cs, out, io);
}

int corrdesc_own(const corrstack *cs, const unsigned char *a, int64_t id) {
  double *io = calloc(cs->nnames ? cs->nnames : 1, sizeof *io);
  unsigned char *out = calloc(cs->n ? cs->n : 1, 1);
  int own = io && out && nameable(cs, io, outside(cs, a, io, out), id);
  free(io);
  free(out);
  return own;
}

/* Within fn, does down hold a larger share of a's value than of b's (a's share - b's >= MIN_DELTA, two-
 * proportion z test p < ALPHA)? Then fn's own code and other callees are what both populations run alike, and
 * down is where they diverge; when down is fn's whole body in both (a loop in an encoder), they do not. */
static int diverges_in(const double *ia, const double *ib, int64_t fn, int64_t down) {
  return ia[fn] > 0 && ib[fn] > 0 && ia[down] / ia[fn] - ib[down] / ib[fn] >= CORRELATE_MIN_DELTA &&
         corrstack_ztest(ia[down], ia[fn], ib[down], ib[fn]) < CORRELATE_ALPHA;
}

int64_t corrdesc_below(const corrstack *cs, const unsigned char *a, const double *ia, const double *ib,
                       double scale, int how, int64_t fn) {
  int pass = how == CORRDESC_WAIT;
  json_t *path = fn >= 0 ? corrstack_path(cs, fn, a) : NULL;
  size_t at = 0, n = json_array_size(path);
  double *io = calloc(cs->nnames ? cs->nnames : 1, sizeof *io), to = 0;
  unsigned char *out = calloc(cs->n ? cs->n : 1, 1);
  if (io && out)
    to = outside(cs, a, io, out);
  else
    n = 0;
  while (at < n && corrstack_id(cs, json_string_value(json_array_get(path, at))) != fn) at++;
  int entry = at < n && is_entry(cs, a, path, at);
  for (; at + 1 < n; at++, entry = 0) {
    int64_t down = corrstack_id(cs, json_string_value(json_array_get(path, at + 1)));
    /* below the entry, library code it calls (a template engine, reflection) is passed through to the
     * service's own code that the library calls back */
    while (CORRELATE_CALLBACK && entry && !pass && at + 2 < n && corrstack_plumbing(cs, down))
      down = corrstack_id(cs, json_string_value(json_array_get(path, ++at + 1)));
    if (!nameable(cs, io, to, down)) break;
    int through = pass && calls_library(cs, path, at + 1) && ia[down] >= (1 - CORRELATE_TOLERANCE) * ia[fn] &&
                  ib[down] >= (1 - CORRELATE_TOLERANCE) * ib[fn];
    double ex = ia[fn] - scale * ib[fn], exd = ia[down] - scale * ib[down];
    /* from the entry (not below what typical requests are seen running: CORRDESC_KNOWN), or from any frame
     * when within it down sets a apart from b */
    int step = (entry && how == CORRDESC_PICKED) ||
               (CORRELATE_DOWN_COMMON && !pass && diverges_in(ia, ib, fn, down));
    if (!through && !(step && ex > 0 && exd >= CORRELATE_ENTRY_SHARE * ex)) break;
    fn = down;
  }
  json_decref(path);
  free(io);
  free(out);
  return fn;
}

const char *corrdesc_why(int no_baseline) {
  return no_baseline == CORR_BELOW_KNOWN
             ? "what typical ones run in any profile (or ones seen waiting, never on CPU)"
         : no_baseline == CORR_BELOW_DOWN
             ? "the frame placed first (below their handler, or below what typical ones run), which every "
               "such request may run too (it holds >= 75% of that frame's excess)"
         : no_baseline == CORR_BELOW_SITE
             ? "the frame every such request runs, down to the call site of the library code holding their "
               "time, which few typical requests run (counted per request)"
             : "their entry (the handler, which every such request runs)";
}

int corrdesc_finer(const json_t *kept, const json_t *g) {
  const char *kk = json_string_value(json_object_get(kept, "kind")),
             *kg = json_string_value(json_object_get(g, "kind"));
  const char *fk = json_string_value(json_object_get(kept, "function")),
             *fg = json_string_value(json_object_get(g, "function"));
  if (!kk || !kg || !fk || !fg || strcmp(kk, "endpoint") != 0 ||
      (strcmp(kg, "tail") != 0 && strcmp(kg, "wait") != 0 && strcmp(kg, "alloc") != 0))
    return 0;
  size_t i;
  json_t *v;
  int below = 0; /* fk seen on kept's path: later frames are below it */
  json_array_foreach(json_object_get(kept, "path"), i, v) {
    const char *n = json_string_value(v);
    if (below && n && strcmp(n, fg) == 0) return 1;
    below |= n && strcmp(n, fk) == 0;
  }
  return 0;
}
