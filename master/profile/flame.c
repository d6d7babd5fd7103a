/* flame.c - profile views of report.html (see flame.h): C builds JSON (trees, top table, edges) and one
 * inline JS renderer draws flame / differential / per-request graphs, a treemap, a call graph and a table. */
#include "master/profile/flame.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/rundir.h"
#include "master/profile/corrjoin.h"
#include "master/profile/export.h"
#include "master/profile/proflines.h"
#include "master/profile/proftypes.h"

/* ---------- trees ---------- */

/* Build-time node: {"n","v","b","s","k":{child name: node}}; finish() turns "k" into sorted "c". */
static json_t *node_new(const char *name) {
  return json_pack("{s:s,s:I,s:I,s:I,s:{}}", "n", name, "v", (json_int_t)0, "b", (json_int_t)0, "s",
                   (json_int_t)0, "k");
}

static void node_inc(json_t *n, const char *key, int64_t v) {
  json_object_set_new(n, key, json_integer(json_integer_value(json_object_get(n, key)) + v));
}

static json_t *node_child(json_t *n, const char *name) {
  json_t *k = json_object_get(n, "k"), *c = json_object_get(k, name);
  if (!c) {
    c = node_new(name);
    json_object_set_new(k, name, c);
  }
  return c;
}

/* Add every sample of p (value vi) into root under key ("v" or "b"). */
static void tree_add(json_t *root, const pprof_profile *p, size_t vi, const char *key) {
  for (size_t i = 0; i < p->nsamples; i++) {
    const pprof_sample *s = &p->samples[i];
    int64_t v = s->values[vi];
    if (v == 0) continue;
    json_t *n = root;
    node_inc(n, key, v);
    for (size_t j = s->nstack; j-- > 0;) {
      n = node_child(n, p->strings[p->functions[s->stack[j]].name]);
      node_inc(n, key, v);
    }
    if (key[0] == 'v') node_inc(n, "s", v);
  }
}

static int cmp_v(const void *a, const void *b) {
  json_int_t x = json_integer_value(json_object_get(*(json_t *const *)a, "v")) +
                 json_integer_value(json_object_get(*(json_t *const *)a, "b"));
  json_int_t y = json_integer_value(json_object_get(*(json_t *const *)b, "v")) +
                 json_integer_value(json_object_get(*(json_t *const *)b, "b"));
  return (x < y) - (x > y);
}

static int finish(json_t *n, int keep_b) {
  json_t *k = json_object_get(n, "k"), *c = json_array(), *v;
  const char *name;
  size_t m = json_object_size(k), i = 0;
  json_t **arr = calloc(m ? m : 1, sizeof *arr);
  if (!c || !arr) {
    free(arr);
    json_decref(c);
    return -ENOMEM;
  }
  json_object_foreach(k, name, v) arr[i++] = v;
  qsort(arr, m, sizeof *arr, cmp_v);
  for (i = 0; i < m; i++) {
    if (finish(arr[i], keep_b) < 0) break;
    json_array_append(c, arr[i]);
  }
  free(arr);
  if (m)
    json_object_set_new(n, "c", c);
  else
    json_decref(c);
  json_object_del(n, "k");
  if (!keep_b) json_object_del(n, "b");
  return i == m ? 0 : -ENOMEM;
}

int flame_tree(const pprof_profile *p, size_t vi, json_t **out) {
  *out = NULL;
  if (vi >= p->nsample_types) return -EINVAL;
  json_t *root = node_new("all");
  if (!root) return -ENOMEM;
  tree_add(root, p, vi, "v");
  if (finish(root, 0) < 0) {
    json_decref(root);
    return -ENOMEM;
  }
  *out = root;
  return 0;
}

int flame_diff_tree(const pprof_profile *a, const pprof_profile *b, json_t **out) {
  *out = NULL;
  json_t *root = node_new("all");
  if (!root) return -ENOMEM;
  if (a->nsample_types) tree_add(root, a, 0, "v");
  if (b->nsample_types) tree_add(root, b, 0, "b");
  if (finish(root, 1) < 0) {
    json_decref(root);
    return -ENOMEM;
  }
  *out = root;
  return 0;
}

/* ---------- top functions and call edges ---------- */

static int64_t *g_cum; /* qsort context for cmp_cum (single-threaded use) */

static int cmp_cum(const void *a, const void *b) {
  int64_t x = g_cum[*(const size_t *)a], y = g_cum[*(const size_t *)b];
  return (x < y) - (x > y);
}

static void edges_build(const pprof_profile *p, size_t vi, const size_t *order, size_t ntop, json_t *edges) {
  json_t *m = json_object();
  char key[64];
  int *rank = calloc(p->nfunctions ? p->nfunctions : 1, sizeof *rank);
  if (!m || !rank) goto out;
  for (size_t i = 0; i < ntop; i++) rank[order[i]] = (int)i + 1;
  for (size_t i = 0; i < p->nsamples; i++) {
    const pprof_sample *s = &p->samples[i];
    for (size_t j = 0; j + 1 < s->nstack; j++) {
      int from = rank[s->stack[j + 1]], to = rank[s->stack[j]];
      if (!from || !to || from == to) continue;
      snprintf(key, sizeof key, "%d %d", from - 1, to - 1);
      json_object_set_new(m, key, json_integer(json_integer_value(json_object_get(m, key)) + s->values[vi]));
    }
  }
  const char *k;
  json_t *v;
  json_object_foreach(m, k, v) {
    char *end;
    long from = strtol(k, &end, 10), to = strtol(end, NULL, 10); /* our own "%d %d" keys */
    json_array_append_new(edges,
                          json_pack("{s:s,s:s,s:O}", "from", p->strings[p->functions[order[from]].name], "to",
                                    p->strings[p->functions[order[to]].name], "v", v));
  }
out:
  free(rank);
  json_decref(m);
}

int flame_top(const pprof_profile *p, size_t vi, json_t **top, json_t **edges) {
  size_t nf = p->nfunctions;
  int64_t *self = calloc(nf ? nf : 1, sizeof *self), *cum = calloc(nf ? nf : 1, sizeof *cum);
  size_t *order = calloc(nf ? nf : 1, sizeof *order);
  int rc = -ENOMEM;
  *top = json_array();
  *edges = json_array();
  if (!self || !cum || !order || !*top || !*edges) goto out;
  if ((rc = pprof_function_totals(p, vi, self, cum)) < 0) goto out;
  for (size_t i = 0; i < nf; i++) order[i] = i;
  g_cum = cum;
  qsort(order, nf, sizeof *order, cmp_cum);
  size_t n = 0;
  for (; n < nf && n < FLAME_TOP && cum[order[n]] > 0; n++)
    json_array_append_new(*top,
                          json_pack("{s:s,s:I,s:I}", "f", p->strings[p->functions[order[n]].name], "flat",
                                    (json_int_t)self[order[n]], "cum", (json_int_t)cum[order[n]]));
  edges_build(p, vi, order, n < 15 ? n : 15, *edges);
out:
  free(self);
  free(cum);
  free(order);
  return rc;
}

/* ---------- page data ---------- */

/* Copy sample s of p into dst (labels dropped). */
static void copy_sample(const pprof_profile *p, const pprof_sample *s, pprof_profile *dst) {
  uint32_t st[PPROF_MAX_STACK];
  size_t n = s->nstack < PPROF_MAX_STACK ? s->nstack : PPROF_MAX_STACK;
  for (size_t k = 0; k < n; k++) {
    const pprof_function *fn = &p->functions[s->stack[k]];
    int64_t fi =
        pprof_function_intern(dst, p->strings[fn->name], fn->filename ? p->strings[fn->filename] : NULL);
    st[k] = fi < 0 ? 0 : (uint32_t)fi;
  }
  pprof_add_sample(dst, st, n, s->values, NULL, 0);
}

static pprof_profile *like(const pprof_profile *p) {
  pprof_profile *q = pprof_create(p->strings[p->sample_types[0].type], p->strings[p->sample_types[0].unit]);
  for (size_t k = 1; q && k < p->nsample_types; k++)
    pprof_add_sample_type(q, p->strings[p->sample_types[k].type], p->strings[p->sample_types[k].unit]);
  return q;
}

/* One flame tree per request name, names read as correlation reads them (corrjoin_request: decoded). */
static json_t *requests_trees(const pprof_profile *p) {
  json_t *out = json_object(), *idx = json_object();
  pprof_profile **per = NULL;
  size_t nper = 0;
  corrjoin *j = NULL;
  if (!out || !idx || corrjoin_create(NULL, NULL, &j) < 0) goto done;
  for (size_t i = 0; i < p->nsamples; i++) {
    const char *n = corrjoin_request(j, p, &p->samples[i]);
    if (!n) continue;
    json_t *x = json_object_get(idx, n);
    if (!x) {
      pprof_profile **np = realloc(per, (nper + 1) * sizeof *np);
      if (!np || !(np[nper] = like(p))) {
        per = np ? np : per;
        break;
      }
      per = np;
      json_object_set_new(idx, n, x = json_integer((json_int_t)nper++));
    }
    copy_sample(p, &p->samples[i], per[json_integer_value(x)]);
  }
  const char *k;
  json_t *v;
  json_object_foreach(idx, k, v) {
    json_t *t = NULL;
    if (flame_tree(per[json_integer_value(v)], 0, &t) == 0) json_object_set_new(out, k, t);
  }
done:
  for (size_t i = 0; i < nper; i++) pprof_free(per[i]);
  free(per);
  corrjoin_free(j);
  json_decref(idx);
  return out;
}

int flame_data(const pprof_profile *p, const pprof_profile *slow, const pprof_profile *typical,
               json_t **out) {
  json_t *tree = NULL, *top = NULL, *edges = NULL, *diff = NULL;
  size_t vi = 0;
  *out = NULL;
  if (!p->nsample_types) return 0;
  if (flame_tree(p, vi, &tree) < 0 || flame_top(p, vi, &top, &edges) < 0) goto fail;
  if (slow && typical && slow->nsamples && typical->nsamples && flame_diff_tree(slow, typical, &diff) < 0)
    goto fail;
  *out =
      json_pack("{s:s,s:o,s:o,s:o,s:o,s:o}", "unit", p->strings[p->sample_types[vi].type], "flame", tree,
                "top", top, "edges", edges, "requests", requests_trees(p), "diff", diff ? diff : json_null());
  return *out ? 0 : -ENOMEM;
fail:
  json_decref(tree);
  json_decref(top);
  json_decref(edges);
  json_decref(diff);
  return -ENOMEM;
}

/* Split p's traced samples by the exemplar join (corrjoin.h, the one the tail finding uses): slow into slow,
 * typical into typ; named-only and unlabelled samples are in neither. */
static void split_slow(const pprof_profile *p, corrjoin *j, pprof_profile *slow, pprof_profile *typ) {
  for (size_t i = 0; i < p->nsamples; i++) {
    const pprof_sample *s = &p->samples[i];
    const char *t, *sp;
    corrjoin_ids(j, p, s, &t, &sp);
    int cls = corrjoin_class(j, t, sp, NULL, NULL);
    if (cls != CORRJOIN_SLOW && cls != CORRJOIN_TYPICAL) continue;
    copy_sample(p, s, cls == CORRJOIN_SLOW ? slow : typ);
  }
}

int flame_run_data(const char *run_dir, json_t **out) {
  pprof_profile *p = NULL, *slow = NULL, *typ = NULL;
  corrjoin *j = NULL;
  int rc;
  *out = NULL;
  if (export_merge_run(run_dir, "cpu", &p) < 0 || !p->nsample_types) {
    pprof_free(p);
    return 0;
  }
  if ((rc = corrjoin_create_run(run_dir, &j)) < 0) goto out;
  if (corrjoin_nslow(j)) {
    slow = like(p);
    typ = like(p);
    if (slow && typ) split_slow(p, j, slow, typ);
  }
  rc = flame_data(p, slow, typ, out);
  json_t *types = NULL, *lines = NULL;
  if (rc == 0 && *out && proflines_run(run_dir, "cpu", json_object_get(*out, "top"), &lines) == 0)
    json_object_set_new(*out, "lines", lines);
  if (rc == 0 && *out && proftypes_data(run_dir, &types) == 0) json_object_set_new(*out, "types", types);
out:
  corrjoin_free(j);
  pprof_free(p);
  pprof_free(slow);
  pprof_free(typ);
  return rc;
}

/* ---------- HTML ---------- */

/* flame_css, flame_js, flame_sunburst_js, flame_lines_js: master/profile/assets/flame.{css,js}, sunburst.js,
 * lines.js, embedded at
 * build time by cmake/embed.cmake.
 */
extern const char flame_css[], flame_js[], flame_sunburst_js[], flame_lines_js[];

/* data[key] when it is a string, else fallback (static text, no markup). */
static const char *text_or(const json_t *data, const char *key, const char *fallback) {
  const char *v = json_string_value(json_object_get(data, key));
  return v ? v : fallback;
}

int flame_write_html(FILE *out, const json_t *data) {
  char *js = json_dumps(data, JSON_COMPACT | JSON_ESCAPE_SLASH);
  if (!js) return -ENOMEM;
  fprintf(
      out,
      "<section id=\"profile\" class=\"lc-prof\"><h2>Profile (%s)</h2><style>%s</style>\n"
      "<p>Profile type <select id=\"lc-type\"></select> <span id=\"lc-unit\" class=\"lc-note\"></span> "
      "<span class=\"lc-note\">(flame graph, treemap, sunburst, call graph and top functions)</span></p>\n"
      "<h3>Flame graph</h3><div id=\"lc-flame\"></div>\n"
      "<h3>Differential flame graph: %s</h3><p class=\"lc-note\">%s</p><div id=\"lc-diff\">"
      "</div>\n<h3>Per-request flame graph</h3><select id=\"lc-req-sel\"></select><div id=\"lc-req\"></div>\n"
      "<div class=\"lc-row\"><div><h3>Treemap of self time</h3><div id=\"lc-tree\"></div></div>"
      "<div><h3>Sunburst of the call tree</h3><div id=\"lc-sun\"></div></div></div>\n"
      "<h3>Call graph (top functions)</h3>"
      "<div id=\"lc-cg\"></div>\n<h3>Top functions</h3><div id=\"lc-top\"></div>\n"
      "<h3>Lines</h3><div id=\"lc-lines\"></div>\n"
      "<script type=\"application/json\" id=\"lc-prof-data\">%s</script>\n<script>",
      json_string_value(json_object_get(data, "unit")) ? json_string_value(json_object_get(data, "unit"))
                                                       : "",
      flame_css, text_or(data, "diff_title", "slow vs typical requests"),
      text_or(data, "diff_note",
              "width = slow requests' samples; red = larger share in slow requests, blue = larger share in "
              "typical ones"),
      js);
  fputs(flame_sunburst_js, out);
  fputs(flame_lines_js, out);
  fputs(flame_js, out);
  fputs("</script></section>\n", out);
  free(js);
  return ferror(out) ? -EIO : 0;
}

int flame_compare_data(const char *base_dir, const char *cur_dir, json_t **out) {
  pprof_profile *a = NULL, *b = NULL;
  int rc = 0;
  *out = NULL;
  if (export_merge_run(base_dir, "cpu", &a) == 0 && export_merge_run(cur_dir, "cpu", &b) == 0 &&
      a->nsample_types && b->nsample_types && (rc = flame_data(b, b, a, out)) == 0 && *out) {
    json_t *lines = NULL;
    if (proflines_run(cur_dir, "cpu", json_object_get(*out, "top"), &lines) == 0)
      json_object_set_new(*out, "lines", lines);
    json_object_set_new(*out, "diff_title", json_string("run B against run A"));
    json_object_set_new(*out, "diff_note",
                        json_string("width = run B's samples; red = larger share of the "
                                    "CPU in B, blue = larger share in A"));
  }
  pprof_free(a);
  pprof_free(b);
  return rc;
}

int flame_write_section(const char *run_dir) {
  json_t *data = NULL;
  char path[4096], tmp[4200];
  int rc = flame_run_data(run_dir, &data);
  if (rc < 0 || !data) return rc;
  snprintf(path, sizeof path, "%s/%s", run_dir, RUNDIR_SECTIONS);
  mkdir(path, 0755);
  snprintf(path, sizeof path, "%s/%s/50-profile.html", run_dir, RUNDIR_SECTIONS);
  snprintf(tmp, sizeof tmp, "%s.tmp", path);
  FILE *f = fopen(tmp, "w");
  if (!f) {
    rc = -errno;
    goto out;
  }
  rc = flame_write_html(f, data);
  if (fclose(f) != 0 && rc == 0) rc = -EIO;
  if (rc == 0 && rename(tmp, path) != 0) rc = -errno;
  if (rc == 0) rc = 1;
out:
  json_decref(data);
  return rc;
}
