/* timeline.c - heap in use, allocation rate and GC share of the target window by window (timeline.h). */
#include "master/profile/timeline.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "master/profile/source.h"

typedef struct point {
  int64_t t_ms; /* the window's end */
  double v;     /* heap: bytes (change or total); alloc: bytes/s; gc: share */
  double n;     /* gc: samples in the window; heap: 1 for a delta window, 0 for a snapshot */
} point;

typedef struct series {
  point *p;
  size_t n, cap;
} series;

struct timeline {
  size_t seen; /* index lines folded in */
  series heap, alloc, gc;
  int go; /* a CPU window had Go runtime frames */
};

static const char *const gc_frames[] = {TIMELINE_GC_FRAMES};

int timeline_create(timeline **out) {
  *out = calloc(1, sizeof **out);
  return *out ? 0 : -ENOMEM;
}

void timeline_free(timeline *t) {
  if (!t) return;
  free(t->heap.p);
  free(t->alloc.p);
  free(t->gc.p);
  free(t);
}

static int push(series *s, int64_t t_ms, double v, double n) {
  if (s->n == s->cap) {
    size_t cap = s->cap ? s->cap * 2 : 64;
    point *p = realloc(s->p, cap * sizeof *p);
    if (!p) return -ENOMEM;
    s->p = p;
    s->cap = cap;
  }
  s->p[s->n++] = (point){t_ms, v, n};
  return 0;
}

static int is_gc(const char *name) {
  for (size_t i = 0; i < sizeof gc_frames / sizeof *gc_frames; i++)
    if (strncmp(name, gc_frames[i], strlen(gc_frames[i])) == 0) return 1;
  return 0;
}

/* One CPU window: the share of its samples (value 0) with a garbage-collector frame on the stack. */
static int add_cpu(timeline *t, const pprof_profile *p, const source_window *w) {
  unsigned char *gc = calloc(p->nfunctions ? p->nfunctions : 1, 1);
  double all = 0, in_gc = 0;
  if (!gc) return -ENOMEM;
  for (size_t f = 0; f < p->nfunctions; f++) {
    const char *name = p->strings[p->functions[f].name];
    gc[f] = (unsigned char)is_gc(name);
    t->go |= strncmp(name, "runtime.", 8) == 0;
  }
  for (size_t i = 0; p->nsample_types && i < p->nsamples; i++) {
    const pprof_sample *s = &p->samples[i];
    int hit = 0;
    for (size_t k = 0; k < s->nstack && !hit; k++) hit = gc[s->stack[k]];
    all += (double)s->values[0];
    if (hit) in_gc += (double)s->values[0];
  }
  free(gc);
  return all > 0 ? push(&t->gc, w->end_ms, in_gc / all, all) : 0;
}

/* Sum of value vi over p's samples, freed memory (negative in a delta) included. */
static double sum(const pprof_profile *p, int vi) {
  double v = 0;
  for (size_t i = 0; vi >= 0 && i < p->nsamples; i++) v += (double)p->samples[i].values[vi];
  return v;
}

/* One heap window: its in-use change (delta) or total (snapshot), and its allocation rate (delta). */
static int add_heap(timeline *t, const pprof_profile *p, const source_window *w) {
  int in = pprof_sample_type_index(p, "inuse_space"), al = pprof_sample_type_index(p, "alloc_space");
  int64_t len_ms = w->end_ms - w->start_ms;
  int delta = p->duration_nanos > 0 && p->duration_nanos >= len_ms * 1000000 / 2;
  if (in < 0) return 0;
  if (push(&t->heap, w->end_ms, sum(p, in), delta) < 0) return -ENOMEM;
  if (delta && al >= 0 && p->duration_nanos > 0)
    return push(&t->alloc, w->end_ms, sum(p, al) / ((double)p->duration_nanos / 1e9), 1);
  return 0;
}

int timeline_update(timeline *t, const char *run_dir) {
  char pdir[4096], err[256];
  source_window *w = NULL;
  size_t n = 0;
  int rc = 0;
  snprintf(pdir, sizeof pdir, "%s/profiles", run_dir);
  if (source_read_index(pdir, &w, &n) < 0) return 0; /* no index yet: nothing to add */
  for (size_t i = t->seen; rc == 0 && i < n; i++) {
    int cpu = !strcmp(w[i].type, "cpu"), heap = !strcmp(w[i].type, "heap");
    pprof_profile *p = NULL;
    if (strcmp(w[i].status, "ok") != 0 || (!cpu && !heap)) continue;
    if (source_load_window(pdir, &w[i], &p, err, sizeof err) == 0)
      rc = cpu ? add_cpu(t, p, &w[i]) : add_heap(t, p, &w[i]);
    pprof_free(p);
  }
  if (rc == 0 && n > t->seen) t->seen = n;
  free(w);
  return rc;
}

static int cmp_t(const void *a, const void *b) {
  int64_t x = ((const point *)a)->t_ms, y = ((const point *)b)->t_ms;
  return (x > y) - (x < y);
}

/* Points of s in time order as {"t":[..], vkey:[..] (, nkey:[..])}. running: the running sum of the delta
 * points' v (n > 0; snapshots left out); running < 0: the snapshots only (n == 0); else every point. */
static json_t *points(const series *s, const char *vkey, const char *nkey, int running) {
  point *p = malloc((s->n ? s->n : 1) * sizeof *p);
  json_t *t = json_array(), *v = json_array(), *n = nkey ? json_array() : NULL;
  double acc = 0;
  if (!p || !t || !v || (nkey && !n)) {
    free(p);
    json_decref(t);
    json_decref(v);
    json_decref(n);
    return NULL;
  }
  memcpy(p, s->p, s->n * sizeof *p);
  qsort(p, s->n, sizeof *p, cmp_t);
  for (size_t i = 0; i < s->n; i++) {
    if ((running > 0 && p[i].n <= 0) || (running < 0 && p[i].n > 0)) continue;
    acc = running > 0 ? acc + p[i].v : p[i].v;
    json_array_append_new(t, json_integer(p[i].t_ms));
    json_array_append_new(v, json_real(acc));
    if (n) json_array_append_new(n, json_integer((json_int_t)p[i].n));
  }
  free(p);
  json_t *o = json_pack("{s:o,s:o}", "t", t, vkey, v);
  if (o && n) json_object_set_new(o, nkey, n);
  return o;
}

json_t *timeline_json(const timeline *t) {
  json_t *o = json_object();
  if (!o) return NULL;
  if (t->heap.n) {
    size_t deltas = 0;
    for (size_t i = 0; i < t->heap.n; i++) deltas += t->heap.p[i].n > 0;
    int growth = deltas * 2 > t->heap.n; /* mostly delta windows: a running sum of changes */
    json_t *h = points(&t->heap, "bytes", NULL, growth ? 1 : -1);
    if (h) json_object_set_new(h, "kind", json_string(growth ? "growth" : "absolute"));
    json_object_set_new(o, "heap", h);
  }
  if (t->alloc.n) json_object_set_new(o, "alloc", points(&t->alloc, "bytes_per_s", NULL, 0));
  if (t->gc.n && t->go) json_object_set_new(o, "gc", points(&t->gc, "share", "samples", 0));
  return o;
}

int timeline_run(const char *run_dir, json_t **out) {
  timeline *t = NULL;
  int rc;
  *out = NULL;
  if ((rc = timeline_create(&t)) < 0) return rc;
  if ((rc = timeline_update(t, run_dir)) == 0) {
    json_t *o = timeline_json(t);
    if (!o)
      rc = -ENOMEM;
    else if (json_object_size(o))
      *out = o;
    else
      json_decref(o);
  }
  timeline_free(t);
  return rc;
}
