/* proftypes.c - the report's views of every collected profile type besides cpu (proftypes.h). */
#include "master/profile/proftypes.h"

#include <errno.h>
#include <string.h>

#include "master/profile/export.h"
#include "master/profile/flame.h"
#include "master/profile/proflines.h"

/* The types shown, in the selector's order, and how the report names their value. */
static const struct {
  const char *type, *label;
} types[] = {
    {"goroutine", "goroutines (wall: where goroutines were, summed over the windows)"},
    {"wall", "wall clock (Python agent: where threads were, on or off CPU)"},
    {"offcpu", "off CPU (perf sched_switch: where threads waited, in 10 ms ticks)"},
    {"heap", "heap in use (growth over the run's windows)"},
    {"allocs", "allocations (over the run's windows)"},
    {"mutex", "mutex contention delay"},
    {"block", "blocking delay"},
};

/* Views of value vi of p: flame tree, top table and call edges. */
static json_t *views(pprof_profile *p, size_t vi, const char *label) {
  json_t *tree = NULL, *top = NULL, *edges = NULL;
  int64_t total = 0;
  for (size_t i = 0; i < p->nsamples; i++) {
    if (p->samples[i].values[vi] < 0) p->samples[i].values[vi] = 0; /* freed memory in a heap delta */
    total += p->samples[i].values[vi];
  }
  if (flame_tree(p, vi, &tree) < 0 || flame_top(p, vi, &top, &edges) < 0) {
    json_decref(tree);
    json_decref(top);
    return NULL;
  }
  return json_pack("{s:s,s:s,s:s,s:I,s:o,s:o,s:o}", "label", label, "unit",
                   p->strings[p->sample_types[vi].unit], "value", p->strings[p->sample_types[vi].type],
                   "total", (json_int_t)total, "flame", tree, "top", top, "edges", edges);
}

int proftypes_data(const char *run_dir, json_t **out) {
  if (!(*out = json_object())) return -ENOMEM;
  for (size_t t = 0; t < sizeof types / sizeof *types; t++) {
    pprof_profile *p = NULL;
    int rc = export_merge_run(run_dir, types[t].type, &p);
    json_t *v = NULL;
    if (rc == 0 && p->nsample_types && !(v = views(p, export_shown_value(p, types[t].type), types[t].label)))
      rc = -ENOMEM;
    json_t *lines = NULL;
    if (v && proflines_run(run_dir, types[t].type, json_object_get(v, "top"), &lines) == 0)
      json_object_set_new(v, "lines", lines);
    pprof_free(p);
    if (rc == -ENOMEM || (v && json_object_set_new(*out, types[t].type, v) < 0)) {
      json_decref(*out);
      *out = NULL;
      return -ENOMEM;
    }
  }
  return 0;
}
