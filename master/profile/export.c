/* export.c - merged profile exports (see export.h): speedscope JSON built with jansson, folded stacks via
 * folded.c, pprof via pprof.c's encoder, and the per-run merge of profiles/ windows. */
#include "master/profile/export.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "master/profile/folded.h"
#include "master/profile/source.h"

static const char *speedscope_unit(const pprof_profile *p, size_t vi) {
  const char *u = p->strings[p->sample_types[vi].unit];
  if (strcmp(u, "nanoseconds") == 0 || strcmp(u, "bytes") == 0) return u;
  return "none";
}

static json_t *speedscope_frames(const pprof_profile *p) {
  json_t *frames = json_array();
  for (size_t i = 0; frames && i < p->nfunctions; i++) {
    const pprof_function *f = &p->functions[i];
    json_t *o = json_pack("{s:s}", "name", p->strings[f->name]);
    if (f->filename) json_object_set_new(o, "file", json_string(p->strings[f->filename]));
    if (f->start_line > 0) json_object_set_new(o, "line", json_integer(f->start_line));
    json_array_append_new(frames, o);
  }
  return frames;
}

int export_speedscope(const pprof_profile *p, size_t vi, const char *name, json_t **out) {
  *out = NULL;
  if (vi >= p->nsample_types) return -EINVAL;
  json_t *samples = json_array(), *weights = json_array();
  int64_t total = 0;
  for (size_t i = 0; i < p->nsamples; i++) {
    const pprof_sample *s = &p->samples[i];
    if (s->values[vi] <= 0) continue; /* zero, or memory freed in a heap delta */
    json_t *st = json_array();
    for (size_t j = s->nstack; j-- > 0;) json_array_append_new(st, json_integer(s->stack[j]));
    json_array_append_new(samples, st);
    json_array_append_new(weights, json_integer(s->values[vi]));
    total += s->values[vi];
  }
  json_t *prof =
      json_pack("{s:s,s:s,s:s,s:I,s:I,s:o,s:o}", "type", "sampled", "name", name ? name : "profile", "unit",
                speedscope_unit(p, vi), "startValue", (json_int_t)0, "endValue", (json_int_t)total, "samples",
                samples, "weights", weights);
  json_t *frames = speedscope_frames(p);
  if (!prof || !frames) {
    json_decref(prof);
    json_decref(frames);
    return -ENOMEM;
  }
  *out = json_pack("{s:s,s:{s:o},s:[o],s:s,s:I,s:s}", "$schema", EXPORT_SPEEDSCOPE_SCHEMA, "shared", "frames",
                   frames, "profiles", prof, "name", name ? name : "profile", "activeProfileIndex",
                   (json_int_t)0, "exporter", "loadctl");
  return *out ? 0 : -ENOMEM;
}

int export_speedscope_file(const pprof_profile *p, size_t vi, const char *name, const char *path) {
  json_t *o;
  int rc = export_speedscope(p, vi, name, &o);
  if (rc < 0) return rc;
  rc = json_dump_file(o, path, JSON_COMPACT) == 0 ? 0 : -EIO;
  json_decref(o);
  return rc;
}

int export_folded_file(const pprof_profile *p, size_t vi, const char *path) {
  char *text = NULL;
  size_t len = 0;
  int rc = folded_write(p, vi, &text, &len);
  if (rc < 0) return rc;
  FILE *f = fopen(path, "w");
  if (!f) {
    rc = -errno;
    goto out;
  }
  if (fwrite(text, 1, len, f) != len) rc = -EIO;
  if (fclose(f) != 0 && rc == 0) rc = -EIO;
out:
  free(text);
  return rc;
}

int export_pprof_file(const pprof_profile *p, const char *path) {
  return pprof_encode_file(p, path);
}

static int merge_type(const char *pdir, const source_window *w, size_t n, const char *type,
                      pprof_profile **out) {
  char e[256];
  for (size_t i = 0; i < n; i++) {
    pprof_profile *p = NULL;
    if (strcmp(w[i].status, "ok") != 0 || strcmp(w[i].type, type) != 0) continue;
    if (source_load_window(pdir, &w[i], &p, e, sizeof e) < 0) continue;
    if (!*out) {
      *out = p;
      continue;
    }
    int rc = pprof_merge(*out, p);
    pprof_free(p);
    if (rc == -ENOMEM) return rc;
  }
  return 0;
}

int export_merge_run(const char *run_dir, const char *type, pprof_profile **out) {
  char pdir[4096];
  source_window *w = NULL;
  size_t n = 0;
  *out = NULL;
  snprintf(pdir, sizeof pdir, "%s/profiles", run_dir);
  int rc = source_read_index(pdir, &w, &n);
  if (rc < 0) return rc;
  rc = merge_type(pdir, w, n, type, out);
  if (rc == 0 && !*out && strcmp(type, "cpu") == 0) rc = merge_type(pdir, w, n, "folded", out);
  free(w);
  if (rc < 0) {
    pprof_free(*out);
    *out = NULL;
    return rc;
  }
  return *out ? 0 : -ENOENT;
}

size_t export_shown_value(const pprof_profile *p, const char *type) {
  static const char *const pref[][2] = {{"cpu", "cpu"},
                                        {"mutex", "delay"},
                                        {"block", "delay"},
                                        {"heap", "inuse_space"},
                                        {"allocs", "alloc_space"}};
  for (size_t i = 0; i < sizeof pref / sizeof *pref; i++) {
    int vi = strcmp(type, pref[i][0]) == 0 ? pprof_sample_type_index(p, pref[i][1]) : -1;
    if (vi >= 0) return (size_t)vi;
  }
  return p->nsample_types > 1 ? p->nsample_types - 1 : 0;
}

static int write_three(const pprof_profile *p, const char *run_dir, const char *type) {
  char path[4096], name[64];
  size_t vi = export_shown_value(p, type);
  int rc;
  snprintf(name, sizeof name, "%s profile", type);
  snprintf(path, sizeof path, "%s/profile-%s.pb.gz", run_dir, type);
  if ((rc = export_pprof_file(p, path)) < 0) return rc;
  snprintf(path, sizeof path, "%s/profile-%s.folded", run_dir, type);
  if ((rc = export_folded_file(p, vi, path)) < 0) return rc;
  snprintf(path, sizeof path, "%s/profile-%s.speedscope.json", run_dir, type);
  return export_speedscope_file(p, vi, name, path);
}

/* The distinct types of the run's "ok" windows, "folded" counted as "cpu" (export_merge_run merges it
 * there); at most max, into types (pointers into a static table or w). Returns how many. */
static size_t run_types(const source_window *w, size_t n, const char **types, size_t max) {
  size_t nt = 0;
  for (size_t i = 0; i < n; i++) {
    const char *t = strcmp(w[i].type, "folded") == 0 ? "cpu" : w[i].type;
    size_t k = 0;
    if (strcmp(w[i].status, "ok") != 0) continue;
    while (k < nt && strcmp(types[k], t) != 0) k++;
    if (k == nt && nt < max) types[nt++] = t;
  }
  return nt;
}

int export_run(const char *run_dir, char *err, size_t errlen) {
  char pdir[4096];
  const char *types[EXPORT_MAX_TYPES];
  source_window *w = NULL;
  size_t n = 0, nt;
  int written = 0, rc;
  snprintf(pdir, sizeof pdir, "%s/profiles", run_dir);
  if ((rc = source_read_index(pdir, &w, &n)) < 0) return rc == -ENOENT ? 0 : rc;
  nt = run_types(w, n, types, EXPORT_MAX_TYPES);
  for (size_t t = 0; t < nt; t++) {
    pprof_profile *p = NULL;
    rc = export_merge_run(run_dir, types[t], &p);
    if (rc == -ENOENT) continue;
    if (rc == 0) rc = write_three(p, run_dir, types[t]);
    pprof_free(p);
    if (rc < 0) {
      snprintf(err, errlen, "exporting the %s profile of %s: %s", types[t], run_dir, strerror(-rc));
      break;
    }
    written++;
  }
  free(w);
  return rc < 0 && rc != -ENOENT ? rc : written;
}
