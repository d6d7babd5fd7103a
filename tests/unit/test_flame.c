/* test_flame.c - flame trees, top/edges, differential tree, exports (speedscope structure, folded, pprof
 * round trip) and the HTML fragment rendered in headless chromium without JS errors (skipped without
 * chromium). */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "master/profile/export.h"
#include "master/profile/flame.h"
#include "tests/support/checkrun.h"
#include "tests/support/teststack.h"

static void add(pprof_profile *p, const char *frames, int64_t v, const char *name) {
  uint32_t st[32];
  size_t n = test_stack_in(p, frames, "main.go", st, 32);
  pprof_label lb = {(uint32_t)pprof_intern(p, "loadctl.name"), (uint32_t)pprof_intern(p, name ? name : "x"),
                    0, 0};
  int64_t vals[2] = {v, v * 10000000};
  ck_assert_int_eq(pprof_add_sample(p, st, n, vals, &lb, name ? 1 : 0), 0);
}

static pprof_profile *sample_profile(void) {
  pprof_profile *p = pprof_create("samples", "count");
  ck_assert_int_eq(pprof_add_sample_type(p, "cpu", "nanoseconds"), 0);
  add(p, "main.main;main.handleOrder;main.fraudScore", 60, "POST /api/orders");
  add(p, "main.main;main.handleOrder;encoding/json.Marshal", 20, "POST /api/orders");
  add(p, "main.main;main.listBooks;encoding/json.Marshal", 15, "GET /api/books");
  add(p, "main.main;main.listBooks", 5, "GET /api/books");
  add(p, "runtime.gcBgMarkWorker", 10, NULL);
  return p;
}

static json_t *child(json_t *n, const char *name) {
  size_t i;
  json_t *c;
  json_array_foreach(json_object_get(n, "c"), i,
                     c) if (strcmp(json_string_value(json_object_get(c, "n")), name) == 0) return c;
  return NULL;
}

#define IV(o, k) json_integer_value(json_object_get((o), (k)))

START_TEST(tree_numbers) {
  pprof_profile *p = sample_profile();
  json_t *t;
  ck_assert_int_eq(flame_tree(p, 0, &t), 0);
  ck_assert_int_eq(IV(t, "v"), 110);
  json_t *m = child(t, "main.main");
  ck_assert_int_eq(IV(m, "v"), 100);
  ck_assert_int_eq(IV(m, "s"), 0);
  /* children sorted by value: handleOrder (80) before listBooks (20) */
  ck_assert_str_eq(json_string_value(json_object_get(json_array_get(json_object_get(m, "c"), 0), "n")),
                   "main.handleOrder");
  json_t *lb = child(m, "main.listBooks");
  ck_assert_int_eq(IV(lb, "v"), 20);
  ck_assert_int_eq(IV(lb, "s"), 5);
  ck_assert_int_eq(IV(child(child(m, "main.handleOrder"), "main.fraudScore"), "v"), 60);
  ck_assert_ptr_null(json_object_get(t, "b"));
  json_decref(t);
  ck_assert_int_eq(flame_tree(p, 5, &t), -EINVAL);

  json_t *top, *edges;
  ck_assert_int_eq(flame_top(p, 0, &top, &edges), 0);
  json_t *r0 = json_array_get(top, 0);
  ck_assert_str_eq(json_string_value(json_object_get(r0, "f")), "main.main");
  ck_assert_int_eq(IV(r0, "cum"), 100);
  size_t i;
  json_t *r;
  int seen = 0;
  json_array_foreach(
      top, i, r) if (strcmp(json_string_value(json_object_get(r, "f")), "encoding/json.Marshal") == 0) {
    ck_assert_int_eq(IV(r, "flat"), 35);
    ck_assert_int_eq(IV(r, "cum"), 35);
    seen = 1;
  }
  ck_assert(seen);
  seen = 0;
  json_array_foreach(edges, i,
                     r) if (strcmp(json_string_value(json_object_get(r, "from")), "main.handleOrder") == 0 &&
                            strcmp(json_string_value(json_object_get(r, "to")), "main.fraudScore") == 0) {
    ck_assert_int_eq(IV(r, "v"), 60);
    seen = 1;
  }
  ck_assert(seen);
  json_decref(top);
  json_decref(edges);
  pprof_free(p);
}
END_TEST

START_TEST(diff_tree) {
  pprof_profile *a = pprof_create("samples", "count"), *b = pprof_create("samples", "count");
  add(a, "main.main;main.fraudScore", 30, NULL);
  add(a, "main.main;main.handler", 10, NULL);
  add(b, "main.main;main.handler", 50, NULL);
  json_t *t;
  ck_assert_int_eq(flame_diff_tree(a, b, &t), 0);
  ck_assert_int_eq(IV(t, "v"), 40);
  ck_assert_int_eq(IV(t, "b"), 50);
  json_t *m = child(t, "main.main");
  ck_assert_int_eq(IV(child(m, "main.fraudScore"), "v"), 30);
  ck_assert_int_eq(IV(child(m, "main.fraudScore"), "b"), 0);
  ck_assert_int_eq(IV(child(m, "main.handler"), "b"), 50);
  json_decref(t);
  pprof_free(a);
  pprof_free(b);
}
END_TEST

START_TEST(speedscope_structure) {
  pprof_profile *p = sample_profile();
  json_t *o;
  ck_assert_int_eq(export_speedscope(p, 1, "cpu", &o), 0);
  ck_assert_str_eq(json_string_value(json_object_get(o, "$schema")), EXPORT_SPEEDSCOPE_SCHEMA);
  json_t *frames = json_object_get(json_object_get(o, "shared"), "frames");
  ck_assert_uint_eq(json_array_size(frames), p->nfunctions);
  size_t i;
  json_t *f;
  json_array_foreach(frames, i, f) {
    ck_assert(json_is_string(json_object_get(f, "name")));
    ck_assert_str_eq(json_string_value(json_object_get(f, "file")), "main.go");
  }
  json_t *prof = json_array_get(json_object_get(o, "profiles"), 0);
  ck_assert_uint_eq(json_array_size(json_object_get(o, "profiles")), 1);
  ck_assert_str_eq(json_string_value(json_object_get(prof, "type")), "sampled");
  ck_assert_str_eq(json_string_value(json_object_get(prof, "unit")), "nanoseconds");
  json_t *samples = json_object_get(prof, "samples"), *weights = json_object_get(prof, "weights");
  ck_assert_uint_eq(json_array_size(samples), json_array_size(weights));
  ck_assert_uint_eq(json_array_size(samples), 5);
  json_int_t sum = 0;
  json_array_foreach(weights, i, f) sum += json_integer_value(f);
  ck_assert_int_eq(sum, 1100000000);
  ck_assert_int_eq(IV(prof, "endValue"), 1100000000);
  ck_assert_int_eq(IV(prof, "startValue"), 0);
  /* stacks are root first, indices in range */
  json_array_foreach(samples, i, f) {
    size_t j;
    json_t *x;
    json_array_foreach(f, j, x)
        ck_assert(json_integer_value(x) >= 0 && (size_t)json_integer_value(x) < p->nfunctions);
    if (json_array_size(f) == 3)
      ck_assert_str_eq(json_string_value(json_object_get(
                           json_array_get(frames, (size_t)json_integer_value(json_array_get(f, 0))), "name")),
                       "main.main");
  }
  json_decref(o);
  ck_assert_int_eq(export_speedscope(p, 2, "cpu", &o), -EINVAL);
  pprof_free(p);
}
END_TEST

START_TEST(file_exports) {
  pprof_profile *p = sample_profile(), *q = NULL;
  char dir[] = "/tmp/flame_XXXXXX", path[256], err[256];
  ck_assert_ptr_nonnull(mkdtemp(dir));
  snprintf(path, sizeof path, "%s/p.folded", dir);
  ck_assert_int_eq(export_folded_file(p, 0, path), 0);
  FILE *f = fopen(path, "r");
  char buf[4096];
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = '\0';
  ck_assert_ptr_nonnull(strstr(buf, "main.main;main.handleOrder;main.fraudScore 60\n"));
  unlink(path);
  snprintf(path, sizeof path, "%s/p.pb.gz", dir);
  ck_assert_int_eq(export_pprof_file(p, path), 0);
  ck_assert_int_eq(pprof_decode_file(path, &q, err, sizeof err), 0);
  ck_assert_int_eq(pprof_total(q, 0), 110);
  pprof_free(q);
  unlink(path);
  snprintf(path, sizeof path, "%s/p.json", dir);
  ck_assert_int_eq(export_speedscope_file(p, 0, "x", path), 0);
  json_t *o = json_load_file(path, 0, NULL);
  ck_assert_ptr_nonnull(o);
  ck_assert_str_eq(
      json_string_value(json_object_get(json_array_get(json_object_get(o, "profiles"), 0), "unit")), "none");
  json_decref(o);
  unlink(path);
  rmdir(dir);
  pprof_free(p);
}
END_TEST

/* Render a page with the fragment in headless chromium; the guard sets the title on any JS error and the
 * renderer marks data-profile="ok" at its end. */
START_TEST(html_in_chromium) {
  if (system("command -v chromium >/dev/null 2>&1") != 0) return; /* no browser: nothing to render */
  pprof_profile *p = sample_profile(), *slow = pprof_create("samples", "count"),
                *typ = pprof_create("samples", "count");
  add(slow, "main.main;main.handleOrder;main.fraudScore", 60, NULL);
  add(slow, "main.main;main.handleOrder", 10, NULL);
  add(typ, "main.main;main.handleOrder", 60, NULL);
  add(typ, "main.main;main.handleOrder;main.fraudScore", 2, NULL);
  json_t *d;
  ck_assert_int_eq(flame_data(p, slow, typ, &d), 0);
  ck_assert_uint_eq(json_object_size(json_object_get(d, "requests")), 2);
  const char *page = getenv("FLAME_PAGE") ? getenv("FLAME_PAGE") : "/tmp/loadctl_flame_test.html";
  FILE *f = fopen(page, "w");
  fprintf(f,
          "<!doctype html><html><head><meta charset=utf-8><title>ok</title><script>window.onerror=function(m)"
          "{document.title='JSERROR '+m;};</script></head><body style='width:1300px'>\n");
  ck_assert_int_eq(flame_write_html(f, d), 0);
  fprintf(f, "</body></html>\n");
  fclose(f);
  json_decref(d);
  char cmd[1024];
  snprintf(cmd, sizeof cmd,
           "u=$(mktemp -d); timeout 60 chromium --headless --no-sandbox --disable-gpu --disable-quic "
           "--no-first-run "
           "--disable-background-networking --disable-component-update --disable-sync --user-data-dir=$u "
           "--dump-dom file://%s > %s.dom 2>/dev/null; rm -rf $u",
           page, page);
  ck_assert_int_eq(system(cmd), 0);
  snprintf(cmd, sizeof cmd, "%s.dom", page);
  f = fopen(cmd, "r");
  ck_assert_ptr_nonnull(f);
  static char dom[1 << 20];
  size_t n = fread(dom, 1, sizeof dom - 1, f);
  fclose(f);
  dom[n] = '\0';
  ck_assert_ptr_nonnull(strstr(dom, "<title>ok</title>"));
  ck_assert_ptr_nonnull(strstr(dom, "data-profile=\"ok\""));
  ck_assert_ptr_nonnull(strstr(dom, "main.fraudScore"));
  ck_assert_ptr_nonnull(strstr(dom, "rgb(255,")); /* diff graph: something redder in slow requests */
  ck_assert_ptr_nonnull(strstr(dom, "<option value=\"GET /api/books\">"));
  /* the sunburst: one arc per call-tree node, the root's callees in the first ring */
  ck_assert_ptr_nonnull(strstr(dom, "class=\"lc-sun\""));
  ck_assert_ptr_nonnull(strstr(dom, "data-name=\"main.fraudScore\""));
  ck_assert_ptr_nonnull(strstr(dom, "data-name=\"runtime.gcBgMarkWorker\""));
  unlink(cmd);
  pprof_free(p);
  pprof_free(slow);
  pprof_free(typ);
}
END_TEST

CHECK_MAIN("flame", 90, tree_numbers, diff_tree, speedscope_structure, file_exports, html_in_chromium)
