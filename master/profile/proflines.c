/* proflines.c - per-line totals from a run's saved pprof windows, for the report's line views
 * (proflines.h). Reads profile.proto through protobuf-c's generated code, checking every index. */
#include "master/profile/proflines.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/grow.h"
#include "master/profile/pprof.h"
#include "master/profile/source.h"
#include "profile.pb-c.h"

typedef struct line_acc {
  char *fn, *file;
  int64_t line, flat, cum;
  size_t stamp; /* the last sample counted in cum (a line counts once per sample) */
} line_acc;

typedef struct acc_set {
  json_t *index; /* "fn\x1f file\x1f line" -> position in v */
  line_acc *v;
  size_t n, cap, sample;
} acc_set;

typedef struct id_pos {
  uint64_t id;
  size_t pos;
} id_pos;

static int id_cmp(const void *a, const void *b) {
  uint64_t x = ((const id_pos *)a)->id, y = ((const id_pos *)b)->id;
  return (x > y) - (x < y);
}

static id_pos *id_table(const Perftools__Profiles__Profile *m, int functions) {
  size_t n = functions ? m->n_function : m->n_location;
  id_pos *t = malloc((n ? n : 1) * sizeof *t);
  for (size_t i = 0; t && i < n; i++) t[i] = (id_pos){functions ? m->function[i]->id : m->location[i]->id, i};
  if (t) qsort(t, n, sizeof *t, id_cmp);
  return t;
}

static long id_find(const id_pos *t, size_t n, uint64_t id) {
  id_pos k = {id, 0}, *hit = bsearch(&k, t, n, sizeof *t, id_cmp);
  return hit ? (long)hit->pos : -1;
}

/* The accumulator of (fn, file, line), created on first use; -1 on out of memory. */
static long intern(acc_set *a, const char *fn, const char *file, int64_t line) {
  char key[1024];
  snprintf(key, sizeof key, "%s\x1f%s\x1f%lld", fn, file, (long long)line);
  json_t *pos = json_object_get(a->index, key);
  if (pos) return (long)json_integer_value(pos);
  if (grow_room(&a->v, &a->cap, a->n + 1, sizeof *a->v, 256) < 0) return -1;
  line_acc *l = &a->v[a->n];
  *l = (line_acc){strdup(fn), strdup(file), line, 0, 0, 0};
  if (!l->fn || !l->file || json_object_set_new(a->index, key, json_integer((json_int_t)a->n)) < 0) {
    free(l->fn);
    free(l->file);
    return -1;
  }
  return (long)a->n++;
}

/* The value the report's views show for type (flame.c, export_shown_value): its index in m, or -1. */
static long value_index(const Perftools__Profiles__Profile *m, const char *type) {
  static const char *const pref[][2] = {
      {"mutex", "delay"}, {"block", "delay"}, {"heap", "inuse_space"}, {"allocs", "alloc_space"}};
  if (!m->n_sample_type) return -1;
  if (!strcmp(type, "cpu")) return 0;
  for (size_t i = 0; i < sizeof pref / sizeof *pref; i++)
    for (size_t k = 0; !strcmp(type, pref[i][0]) && k < m->n_sample_type; k++) {
      int64_t t = m->sample_type[k]->type;
      if (t >= 0 && (uint64_t)t < m->n_string_table && !strcmp(m->string_table[t], pref[i][1]))
        return (long)k;
    }
  return (long)m->n_sample_type - 1;
}

static int str_ok(const Perftools__Profiles__Profile *m, int64_t i) {
  return i >= 0 && (uint64_t)i < m->n_string_table && m->string_table[i];
}

/* Add one sample's value v to its lines: flat at the leaf line, cum once per line on the stack. */
static int add_sample(acc_set *a, const Perftools__Profiles__Profile *m, const Perftools__Profiles__Sample *s,
                      int64_t v, const id_pos *fids, const id_pos *lids) {
  int leaf = 1;
  a->sample++;
  for (size_t j = 0; j < s->n_location_id; j++) {
    long lp = id_find(lids, m->n_location, s->location_id[j]);
    if (lp < 0) return 0; /* a broken stack counts nowhere */
    const Perftools__Profiles__Location *loc = m->location[lp];
    for (size_t k = 0; k < loc->n_line; k++, leaf = 0) {
      long fp = id_find(fids, m->n_function, loc->line[k]->function_id);
      const Perftools__Profiles__Function *f = fp < 0 ? NULL : m->function[fp];
      if (!f || !str_ok(m, f->name) || !str_ok(m, f->filename)) continue;
      long i = intern(a, m->string_table[f->name], m->string_table[f->filename], loc->line[k]->line);
      if (i < 0) return -ENOMEM;
      if (leaf) a->v[i].flat += v;
      if (a->v[i].stamp != a->sample) a->v[i].cum += v, a->v[i].stamp = a->sample;
    }
    leaf = 0; /* an unsymbolized leaf (no lines) is no line's flat */
  }
  return 0;
}

static int add_window(acc_set *a, const char *path, const char *type) {
  unsigned char *plain = NULL;
  size_t len = 0;
  char err[256];
  int rc = 0;
  if (pprof_read_plain(path, &plain, &len, err, sizeof err) < 0) return 0; /* unreadable: skipped */
  Perftools__Profiles__Profile *m = perftools__profiles__profile__unpack(NULL, len, plain);
  free(plain);
  if (!m) return 0;
  long vi = value_index(m, type);
  id_pos *fids = id_table(m, 1), *lids = id_table(m, 0);
  if (!fids || !lids) rc = -ENOMEM;
  for (size_t i = 0; rc == 0 && vi >= 0 && i < m->n_sample; i++) {
    const Perftools__Profiles__Sample *s = m->sample[i];
    if (s->n_value == m->n_sample_type && s->value[vi] > 0)
      rc = add_sample(a, m, s, s->value[vi], fids, lids);
  }
  free(fids);
  free(lids);
  perftools__profiles__profile__free_unpacked(m, NULL);
  return rc;
}

static int cmp_flat(const void *x, const void *y) {
  const line_acc *a = *(line_acc *const *)x, *b = *(line_acc *const *)y;
  if (a->flat != b->flat) return (a->flat < b->flat) - (a->flat > b->flat);
  return (a->cum < b->cum) - (a->cum > b->cum);
}

static int cmp_line(const void *x, const void *y) {
  const line_acc *a = *(line_acc *const *)x, *b = *(line_acc *const *)y;
  return (a->line > b->line) - (a->line < b->line);
}

/* {"file","line","lines":[...]} of function fn, NULL when it has no line in the windows. */
static json_t *function_lines(const acc_set *a, const char *fn, line_acc **tmp) {
  size_t n = 0;
  for (size_t i = 0; i < a->n; i++)
    if (!strcmp(a->v[i].fn, fn)) tmp[n++] = &a->v[i];
  if (!n) return NULL;
  qsort(tmp, n, sizeof *tmp, cmp_flat);
  json_t *o = json_pack("{s:s,s:I,s:[]}", "file", tmp[0]->file, "line", (json_int_t)tmp[0]->line, "lines");
  qsort(tmp, n, sizeof *tmp, cmp_line);
  for (size_t i = 0; o && i < n; i++)
    json_array_append_new(json_object_get(o, "lines"),
                          json_pack("{s:I,s:I,s:I}", "line", (json_int_t)tmp[i]->line, "flat",
                                    (json_int_t)tmp[i]->flat, "cum", (json_int_t)tmp[i]->cum));
  return o;
}

static json_t *result(const acc_set *a, const json_t *top) {
  line_acc **tmp = malloc((a->n ? a->n : 1) * sizeof *tmp);
  json_t *o = json_pack("{s:b,s:[],s:{}}", "has_lines", 0, "lines", "functions"), *t;
  int has = 0;
  size_t i;
  if (!tmp || !o) {
    free(tmp);
    json_decref(o);
    return NULL;
  }
  for (i = 0; i < a->n; i++) has |= a->v[i].line > 0, tmp[i] = &a->v[i];
  json_object_set_new(o, "has_lines", json_boolean(has));
  qsort(tmp, a->n, sizeof *tmp, cmp_flat);
  for (i = 0; i < a->n && i < PROFLINES_TOP && tmp[i]->flat > 0; i++)
    json_array_append_new(json_object_get(o, "lines"),
                          json_pack("{s:s,s:s,s:I,s:I,s:I}", "f", tmp[i]->fn, "file", tmp[i]->file, "line",
                                    (json_int_t)tmp[i]->line, "flat", (json_int_t)tmp[i]->flat, "cum",
                                    (json_int_t)tmp[i]->cum));
  json_array_foreach(top, i, t) {
    const char *fn = json_string_value(json_object_get(t, "f"));
    json_t *fl = fn ? function_lines(a, fn, tmp) : NULL;
    if (fl) json_object_set_new(json_object_get(o, "functions"), fn, fl);
  }
  free(tmp);
  return o;
}

int proflines_run(const char *run_dir, const char *type, const json_t *top, json_t **out) {
  char pdir[4096], path[4400];
  source_window *w = NULL;
  size_t n = 0;
  acc_set a = {.index = json_object()};
  int rc = a.index ? 0 : -ENOMEM;
  *out = NULL;
  snprintf(pdir, sizeof pdir, "%s/profiles", run_dir);
  if (rc == 0 && source_read_index(pdir, &w, &n) < 0) n = 0;
  for (size_t i = 0; rc == 0 && i < n; i++) {
    size_t fl = strlen(w[i].file);
    int pb = fl > 3 && (strcmp(w[i].file + fl - 3, ".gz") == 0 || strcmp(w[i].file + fl - 3, ".pb") == 0);
    if (strcmp(w[i].status, "ok") != 0 || strcmp(w[i].type, type) != 0 || !pb) continue;
    snprintf(path, sizeof path, "%s/%s", pdir, w[i].file);
    rc = add_window(&a, path, type);
  }
  if (rc == 0 && !(*out = result(&a, top))) rc = -ENOMEM;
  for (size_t i = 0; i < a.n; i++) {
    free(a.v[i].fn);
    free(a.v[i].file);
  }
  free(a.v);
  json_decref(a.index);
  free(w);
  return rc;
}
