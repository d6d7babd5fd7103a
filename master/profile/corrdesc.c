/* corrdesc.c - down from a picked frame to the callee holding its time (see corrdesc.h). */
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

/* Samples outside a's request name (other names' and no request's): inclusive values into io, total. */
static double outside(const corrstack *cs, const unsigned char *a, double *io, unsigned char *out) {
  const char *name = name_of(cs, a);
  for (size_t i = 0; i < cs->n; i++)
    out[i] = !a[i] && !(name && cs->s[i].name && strcmp(cs->s[i].name, name) == 0);
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

int64_t corrdesc_below(const corrstack *cs, const unsigned char *a, const double *ia, const double *ib,
                       double scale, int pass, int64_t fn) {
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
    if (!nameable(cs, io, to, down)) break;
    int through = pass && calls_library(cs, path, at + 1) && ia[down] >= (1 - CORRELATE_TOLERANCE) * ia[fn] &&
                  ib[down] >= (1 - CORRELATE_TOLERANCE) * ib[fn];
    double ex = ia[fn] - scale * ib[fn], exd = ia[down] - scale * ib[down];
    if (!through && !(entry && ex > 0 && exd >= CORRELATE_ENTRY_SHARE * ex)) break;
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
             ? "the frame below their handler closure, which every such request runs (it holds >= 75% of "
               "that frame's excess)"
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
