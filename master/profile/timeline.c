/* timeline.c - heap in use, allocation rate and GC share of the target window by window (timeline.h). */
#include "master/profile/timeline.h"
#include "common/clock.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/grow.h"
#include "common/rundir.h"
#include "master/profile/source.h"

typedef struct point {
  int64_t t0_ms, t_ms; /* the window's start and end */
  double v;            /* heap: bytes (change or total); alloc: bytes allocated; gc: share */
  double n; /* heap: 1 for a delta window, 0 for a snapshot; alloc: the profile's seconds; gc: samples */
} point;

typedef struct series {
  point *p;
  size_t n, cap;
} series;

/* One "(all)" line of intervals.jsonl: requests served and the p99 in [t0, t1). */
typedef struct interval {
  int64_t t0_ms, t1_ms;
  double count, p99_ms;
} interval;

struct timeline {
  size_t seen; /* index lines folded in */
  series heap, alloc, gc;
  int go;        /* a CPU window had Go runtime frames */
  FILE *iv_file; /* intervals.jsonl, read on from where the last update stopped */
  interval *iv;  /* its "(all)" lines so far */
  size_t niv, cap_iv;
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
  free(t->iv);
  if (t->iv_file) fclose(t->iv_file);
  free(t);
}

static int push(series *s, int64_t t0_ms, int64_t t_ms, double v, double n) {
  if (grow_room(&s->p, &s->cap, s->n + 1, sizeof *s->p, 64) < 0) return -ENOMEM;
  s->p[s->n++] = (point){t0_ms, t_ms, v, n};
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
  return all > 0 ? push(&t->gc, w->start_ms, w->end_ms, in_gc / all, all) : 0;
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
  int delta = p->duration_nanos > 0 && p->duration_nanos >= clock_ms_to_ns(len_ms) / 2;
  if (in < 0) return 0;
  if (push(&t->heap, w->start_ms, w->end_ms, sum(p, in), delta) < 0) return -ENOMEM;
  if (delta && al >= 0 && p->duration_nanos > 0)
    return push(&t->alloc, w->start_ms, w->end_ms, sum(p, al), clock_ns_to_s(p->duration_nanos));
  return 0;
}

/* Read the "(all)" lines intervals.jsonl gained since the last call (a line still being written is read
 * next time). */
static int read_intervals(timeline *t, const char *run_dir) {
  char path[4096], line[65536];
  if (!t->iv_file) {
    snprintf(path, sizeof path, "%s/%s", run_dir, RUNDIR_INTERVALS);
    if (!(t->iv_file = fopen(path, "r"))) return 0;
  }
  for (;;) {
    long at = ftell(t->iv_file);
    if (!fgets(line, sizeof line, t->iv_file)) break;
    if (!strchr(line, '\n')) { /* partial: the writer has not finished it */
      fseek(t->iv_file, at, SEEK_SET);
      break;
    }
    if (!strstr(line, "\"name\":\"" RUNDIR_TOTAL_NAME "\"")) continue;
    json_t *o = json_loads(line, 0, NULL);
    if (!o) continue;
    int64_t t0 = json_integer_value(json_object_get(o, "t"));
    interval iv = {t0, t0 + json_integer_value(json_object_get(o, "interval_ms")),
                   json_number_value(json_object_get(o, "count")),
                   json_number_value(json_object_get(o, "p99_ms"))};
    json_decref(o);
    if (t->niv == t->cap_iv) {
      size_t cap = t->cap_iv ? t->cap_iv * 2 : 256;
      interval *v = realloc(t->iv, cap * sizeof *v);
      if (!v) return -ENOMEM;
      t->iv = v;
      t->cap_iv = cap;
    }
    t->iv[t->niv++] = iv;
  }
  clearerr(t->iv_file);
  return 0;
}

/* The latency intervals overlapping [t0, t1): requests in it (each interval weighted by its overlap) and
 * the highest p99 among them (-1 when none). */
static double requests_in(const timeline *t, int64_t t0, int64_t t1, double *p99) {
  double n = 0;
  *p99 = -1;
  for (size_t i = 0; i < t->niv; i++) {
    const interval *v = &t->iv[i];
    int64_t lo = t0 > v->t0_ms ? t0 : v->t0_ms, hi = t1 < v->t1_ms ? t1 : v->t1_ms;
    if (hi <= lo || v->t1_ms <= v->t0_ms) continue;
    n += v->count * (double)(hi - lo) / (double)(v->t1_ms - v->t0_ms);
    if (v->count > 0 && v->p99_ms > *p99) *p99 = v->p99_ms;
  }
  return n;
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
  return rc == 0 ? read_intervals(t, run_dir) : rc;
}

static int cmp_t(const void *a, const void *b) {
  int64_t x = ((const point *)a)->t_ms, y = ((const point *)b)->t_ms;
  return (x > y) - (x < y);
}

/* A copy of s's points in time order (caller frees), NULL on out of memory. */
static point *sorted(const series *s) {
  point *p = malloc((s->n ? s->n : 1) * sizeof *p);
  if (!p) return NULL;
  memcpy(p, s->p, s->n * sizeof *p);
  qsort(p, s->n, sizeof *p, cmp_t);
  return p;
}

/* The heap series: the running sum of the delta windows' changes (growth), or the snapshots' totals. */
static json_t *heap_json(const timeline *t) {
  size_t deltas = 0;
  for (size_t i = 0; i < t->heap.n; i++) deltas += t->heap.p[i].n > 0;
  int growth = deltas * 2 > t->heap.n; /* mostly delta windows: a running sum of changes */
  point *p = sorted(&t->heap);
  json_t *o = json_pack("{s:[],s:[],s:s}", "t", "bytes", "kind", growth ? "growth" : "absolute");
  double acc = 0;
  for (size_t i = 0; p && o && i < t->heap.n; i++) {
    if ((p[i].n > 0) != growth) continue; /* the other kind of window does not add up with these */
    acc = growth ? acc + p[i].v : p[i].v;
    json_array_append_new(json_object_get(o, "t"), json_integer(p[i].t_ms));
    json_array_append_new(json_object_get(o, "bytes"), json_real(acc));
  }
  free(p);
  return p ? o : (json_decref(o), NULL);
}

/* Allocation rate per window, and per request served in it (all names together, background included). */
static json_t *alloc_json(const timeline *t) {
  point *p = sorted(&t->alloc);
  json_t *o = json_pack("{s:[],s:[],s:[]}", "t", "bytes_per_s", "bytes_per_req");
  double bytes = 0, reqs = 0, p99;
  for (size_t i = 0; p && o && i < t->alloc.n; i++) {
    double n = requests_in(t, p[i].t0_ms, p[i].t_ms, &p99);
    json_array_append_new(json_object_get(o, "t"), json_integer(p[i].t_ms));
    json_array_append_new(json_object_get(o, "bytes_per_s"), json_real(p[i].v / p[i].n));
    json_array_append_new(json_object_get(o, "bytes_per_req"), n >= 1 ? json_real(p[i].v / n) : json_null());
    bytes += p[i].v;
    reqs += n;
  }
  free(p);
  if (!p) return json_decref(o), NULL;
  if (o) json_object_set_new(o, "run_bytes_per_req", reqs >= 1 ? json_real(bytes / reqs) : json_null());
  return o;
}

/* GC share per CPU window, joined to the latency intervals it overlaps (their highest p99). */
static json_t *gc_json(const timeline *t) {
  point *p = sorted(&t->gc);
  json_t *o = json_pack("{s:[],s:[],s:[],s:[]}", "t", "share", "samples", "p99_ms");
  double p99;
  for (size_t i = 0; p && o && i < t->gc.n; i++) {
    requests_in(t, p[i].t0_ms, p[i].t_ms, &p99);
    json_array_append_new(json_object_get(o, "t"), json_integer(p[i].t_ms));
    json_array_append_new(json_object_get(o, "share"), json_real(p[i].v));
    json_array_append_new(json_object_get(o, "samples"), json_integer((json_int_t)p[i].n));
    json_array_append_new(json_object_get(o, "p99_ms"), p99 >= 0 ? json_real(p99) : json_null());
  }
  free(p);
  return p ? o : (json_decref(o), NULL);
}

json_t *timeline_json(const timeline *t) {
  json_t *o = json_object();
  if (!o) return NULL;
  if (t->heap.n) json_object_set_new(o, "heap", heap_json(t));
  if (t->alloc.n) json_object_set_new(o, "alloc", alloc_json(t));
  if (t->gc.n && t->go) json_object_set_new(o, "gc", gc_json(t));
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
