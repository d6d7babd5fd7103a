/* test_corrstack.c - the frame rules of corrstack: library code is told by its source file (Python's
 * site-packages, dist-packages, standard library; Go's module cache) as well as by name, and a shared helper
 * is named by the caller all of a population's time in it comes through, on synthetic stacks with known
 * answers (the population contrast itself is covered by test_correlate). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "master/profile/correlate.h"
#include "master/profile/corrstack.h"
#include "tests/support/checkrun.h"
#include "tests/support/testcorr.h"
#include "tests/support/teststack.h"

/* Add a sample of value v: frames root first as "name@file" separated by ';' ("@file" optional). */
static void add(pprof_profile *p, const char *frames, int64_t v) {
  testcorr_sample(p, frames, NULL, v, NULL, NULL);
}

/* All samples of p into cs, then a[i] for the first na samples added, b[i] for the rest. */
static void load(corrstack *cs, const pprof_profile *p, size_t na, unsigned char **a, unsigned char **b) {
  corrstack_init(cs);
  for (size_t i = 0; i < p->nsamples; i++) ck_assert_int_eq(corrstack_add(cs, p, &p->samples[i], 0, 0), 0);
  *a = calloc(cs->n, 1);
  *b = calloc(cs->n, 1);
  for (size_t i = 0; i < cs->n; i++) (i < na ? *a : *b)[i] = 1;
}

/* What load made, and the profile it read, given back. */
static void release(corrstack *cs, pprof_profile *p, unsigned char *a, unsigned char *b) {
  corrstack_free(cs);
  pprof_free(p);
  free(a);
  free(b);
}

static const char *named(const corrstack *cs, const corr_contrast *r) {
  return r->fn >= 0 ? cs->names[r->fn] : "(none)";
}

START_TEST(library_files) {
  static const char *const lib[] = {"/usr/lib/python3/dist-packages/flask/app.py",
                                    "/usr/lib/python3.11/threading.py",
                                    "/usr/local/lib/python3.12/socketserver.py",
                                    "/srv/venv/lib/python3.12/site-packages/gunicorn/workers/gthread.py",
                                    "<frozen importlib._bootstrap>",
                                    "/root/go/pkg/mod/github.com/gin-gonic/gin@v1.9.1/gin.go"};
  static const char *const own[] = {"/srv/shop/pyshop/app.py",
                                    "/home/u/python3-work/app.py",
                                    "/opt/lib/pythonic/app.py",
                                    "/srv/shop/main.go",
                                    "",
                                    NULL};
  for (size_t i = 0; i < sizeof lib / sizeof lib[0]; i++)
    ck_assert_msg(corrstack_is_library_file(lib[i]), "%s", lib[i]);
  for (size_t i = 0; i < sizeof own / sizeof own[0]; i++)
    ck_assert_msg(!corrstack_is_library_file(own[i]), "%s", own[i] ? own[i] : "NULL");
  /* by name as before, whatever the file */
  ck_assert(corrstack_is_library("net/http.(*conn).serve", NULL));
  ck_assert(corrstack_is_library("gunicorn.workers.gthread.ThreadWorker.handle",
                                 "/usr/lib/python3/dist-packages/gunicorn/workers/gthread.py"));
  ck_assert(
      !corrstack_is_library("gunicorn.workers.gthread.ThreadWorker.handle", "/srv/gunicorn/gthread.py"));
}
END_TEST

#define PY "/usr/lib/python3.11/"
#define DIST "/usr/lib/python3/dist-packages/"
#define SERVER                                                                                        \
  "threading.Thread._bootstrap@" PY "threading.py;gunicorn.workers.gthread.ThreadWorker.handle@" DIST \
  "gunicorn/workers/gthread.py;flask.app.Flask.wsgi_app@" DIST                                        \
  "flask/app.py;shop.views.checkout@/srv/shop/"                                                       \
  "views.py"

/* Slow checkouts spend their time in the fraud rules: the finding's path starts at the service's own handler,
 * not at the server or framework above it (library by file, their names being no standard library's). */
START_TEST(library_frames_are_plumbing) {
  pprof_profile *p = pprof_create("samples", "count");
  add(p, SERVER ";shop.rules.fraud@/srv/shop/rules.py", 80);
  add(p, SERVER, 20);
  add(p, SERVER, 300);
  add(p, SERVER ";shop.views.encode@/srv/shop/views.py", 100);
  corrstack cs;
  unsigned char *a, *b;
  load(&cs, p, 2, &a, &b);
  ck_assert(corrstack_plumbing(&cs, corrstack_id(&cs, "gunicorn.workers.gthread.ThreadWorker.handle")));
  ck_assert(corrstack_plumbing(&cs, corrstack_id(&cs, "threading.Thread._bootstrap")));
  ck_assert(corrstack_is_framework("loadctl_agent.wsgi.wsgi.<locals>.loadctl_agent_wsgi"));
  ck_assert(corrstack_is_framework("loadctl_agent.django.Middleware.__call__"));
  ck_assert(!corrstack_is_framework("loadctl_agentx.views.run"));
  ck_assert(corrstack_is_framework("main.(*server).export-fm"));
  ck_assert(!corrstack_is_framework("main.(*server).export"));
  ck_assert(!corrstack_plumbing(&cs, corrstack_id(&cs, "shop.views.checkout")));
  ck_assert(!corrstack_plumbing(&cs, -1));
  static const char *const pre[] = {"runtime.", "sync.(*Cond)", NULL};
  ck_assert(corrstack_has_prefix("sync.(*Cond).Wait", pre));
  ck_assert(!corrstack_has_prefix("sync.(*Mutex).Lock", pre));
  ck_assert(!corrstack_has_prefix(NULL, pre));
  corr_contrast r;
  ck_assert_int_eq(corrstack_contrast(&cs, a, b, NULL, &r), 0);
  ck_assert_str_eq(named(&cs, &r), "shop.rules.fraud");
  ck_assert_uint_eq(json_array_size(r.path), 2);
  ck_assert_str_eq(json_string_value(json_array_get(r.path, 0)), "shop.views.checkout");
  json_decref(r.path);
  release(&cs, p, a, b);
}
END_TEST

/* The coupon rules' time is all in digest, a helper the pricing of every checkout calls too, but little
 * outside the slow requests (below CORRELATE_HELPER_BASE): all of the slow requests' digest comes through
 * apply_coupon, which does nothing else, so apply_coupon is named. */
START_TEST(helper_through_one_caller) {
  pprof_profile *p = pprof_create("samples", "count");
  add(p, "main;shop.checkout;shop.apply_coupon;shop.digest", 97);
  add(p, "main;shop.checkout;shop.apply_coupon", 3);
  add(p, "main;shop.checkout;shop.price_cart;shop.digest", 20);
  add(p, "main;shop.checkout", 300);
  add(p, "main;shop.products", 400);
  corrstack cs;
  unsigned char *a, *b;
  load(&cs, p, 2, &a, &b); /* equal stacks are one sample: a is the first two */
  corr_contrast r;
  corr_opts o = {.skip_chain = 1};
  ck_assert_int_eq(corrstack_contrast(&cs, a, b, &o, &r), 0);
  ck_assert_str_eq(named(&cs, &r), "shop.apply_coupon");
  ck_assert_double_eq_tol(r.a_fn / r.a_tot, 1.0, 1e-9);
  json_decref(r.path);
  /* nothing when a's time in it comes through two callers, half each: a shared helper is never named alone */
  release(&cs, p, a, b);
  p = pprof_create("samples", "count");
  add(p, "main;shop.checkout;shop.apply_coupon;shop.digest", 50);
  add(p, "main;shop.checkout;shop.price_cart;shop.digest", 50);
  add(p, "main;shop.checkout", 300);
  add(p, "main;shop.products", 400);
  load(&cs, p, 2, &a, &b);
  ck_assert_int_eq(corrstack_contrast(&cs, a, b, NULL, &r), 0);
  ck_assert_str_eq(named(&cs, &r), "(none)");
  json_decref(r.path);
  release(&cs, p, a, b);
}
END_TEST

/* The helper's other caller never shows in the contrasted samples (price_cart is too fast for the CPU
 * sampler): the samples alone know one caller, so digest itself is named; the run's other profiles (here a
 * wall-clock one, learned with corrstack_add_calls) show price_cart calling it too, so it is a shared helper
 * and the coupon rules that all of the slow requests' digest comes through are named instead. */
START_TEST(helper_known_from_the_whole_run) {
  pprof_profile *p = pprof_create("samples", "count"), *wall = pprof_create("wall", "count");
  add(p, "main;shop.checkout;shop.apply_coupon;shop.digest", 97);
  add(p, "main;shop.checkout;shop.apply_coupon", 3);
  add(p, "main;shop.checkout", 300);
  add(p, "main;shop.products", 400);
  add(wall, "main;shop.checkout;shop.price_cart;shop.digest", 1);
  add(wall, "main;shop.checkout", 40);
  corrstack cs;
  unsigned char *a, *b;
  corr_contrast r;
  corr_opts o = {.skip_chain = 1};
  load(&cs, p, 2, &a, &b);
  ck_assert_uint_eq(corrstack_callers(&cs, corrstack_id(&cs, "shop.digest"), NULL), 1);
  ck_assert_int_eq(corrstack_contrast(&cs, a, b, &o, &r), 0);
  ck_assert_str_eq(named(&cs, &r), "shop.digest");
  json_decref(r.path);
  ck_assert_int_eq(corrstack_add_calls(&cs, wall), 0);
  ck_assert_int_eq(corrstack_add_calls(&cs, wall), 0); /* learning an edge twice counts it once */
  ck_assert_uint_eq(cs.n, 4);                          /* no samples added */
  ck_assert_uint_eq(corrstack_callers(&cs, corrstack_id(&cs, "shop.digest"), NULL), 2);
  ck_assert_uint_eq(corrstack_callers(&cs, corrstack_id(&cs, "shop.digest"), a),
                    1); /* masked: samples only */
  ck_assert_int_eq(corrstack_contrast(&cs, a, b, &o, &r), 0);
  ck_assert_str_eq(named(&cs, &r), "shop.apply_coupon");
  json_decref(r.path);
  release(&cs, p, a, b);
  pprof_free(wall);
}
END_TEST

/* Many samples' edges: the learned table keeps each edge once however often it repeats (compaction). */
START_TEST(call_edges_compact) {
  pprof_profile *p = pprof_create("samples", "count");
  char frames[64];
  for (int i = 0; i < 3000; i++) {
    snprintf(frames, sizeof frames, "main;caller%d;helper;leaf%d", i % 7, i);
    add(p, frames, 1);
  }
  corrstack cs;
  corrstack_init(&cs);
  for (int round = 0; round < 3; round++) ck_assert_int_eq(corrstack_add_calls(&cs, p), 0);
  ck_assert_uint_eq(corrstack_callers(&cs, corrstack_id(&cs, "helper"), NULL), 7);
  ck_assert_uint_eq(corrstack_callers(&cs, corrstack_id(&cs, "leaf2999"), NULL), 1);
  ck_assert_uint_le(cs.capcalls, 16384); /* 3,014 distinct edges, 27,000 learned */
  corrstack_free(&cs);
  pprof_free(p);
}
END_TEST

/* A perf sample's root is its thread's command (":PID" when perf does not know it), above the C library's
 * thread start: only the compaction threads have these roots, so they separate best, yet they name no work.
 * A Go goroutine's root is its own function (main.rebuild, calling service code): that one is named. */
START_TEST(thread_name_is_not_named) {
  corrstack cs;
  unsigned char *a, *b;
  corr_contrast r;
  pprof_profile *p = pprof_create("samples", "count");
  add(p, ":9717;clone3;start_thread;compact_cache;blend", 50);
  add(p, "serve_conn;handle", 50);
  add(p, ":9600;clone3;start_thread;compact_cache;blend", 10);
  add(p, "serve_conn;handle;reply", 90);
  load(&cs, p, 2, &a, &b);
  ck_assert_int_eq(corrstack_contrast(&cs, a, b, NULL, &r), 0);
  ck_assert_str_eq(named(&cs, &r), "compact_cache");
  json_decref(r.path);
  release(&cs, p, a, b);
  p = pprof_create("samples", "count");
  add(p, "main.rebuild;main.checksum", 50);
  add(p, "main.serve;main.handle", 50);
  add(p, "main.serve;main.items;main.checksum", 10);
  add(p, "main.serve;main.handle;main.reply", 90);
  load(&cs, p, 2, &a, &b);
  ck_assert_int_eq(corrstack_contrast(&cs, a, b, NULL, &r), 0);
  ck_assert_str_eq(named(&cs, &r), "main.rebuild");
  json_decref(r.path);
  release(&cs, p, a, b);
  /* a goroutine's function calling the runtime only is no thread's name either */
  p = pprof_create("samples", "count");
  add(p, "main.reindex;sort.Slice;runtime.memmove", 50);
  add(p, "main.serve;main.handle", 50);
  add(p, "main.serve;main.handle;main.reply", 100);
  load(&cs, p, 2, &a, &b);
  ck_assert_int_eq(corrstack_contrast(&cs, a, b, NULL, &r), 0);
  ck_assert_str_eq(named(&cs, &r), "main.reindex");
  json_decref(r.path);
  release(&cs, p, a, b);
}
END_TEST

/* A finding names a closure's or a comprehension's enclosing function: the code a person edits. */
START_TEST(enclosing_function_named) {
  char b[128];
  ck_assert_str_eq(corrstack_function("main.rebuild.func2.1", b, sizeof b), "main.rebuild");
  ck_assert_str_eq(corrstack_function("shop.store.product_page.<locals>.<listcomp>", b, sizeof b),
                   "shop.store.product_page");
  ck_assert_str_eq(corrstack_function("inn.page.<locals>.<dictcomp>", b, sizeof b), "inn.page");
  ck_assert_str_eq(corrstack_function("app.sort_rows.<locals>.<lambda>", b, sizeof b), "app.sort_rows");
  ck_assert_str_eq(corrstack_function("app.outer.<locals>.inner", b, sizeof b), "app.outer.<locals>.inner");
}
END_TEST

CHECK_MAIN("corrstack", 0, library_files, library_frames_are_plumbing, helper_through_one_caller,
           helper_known_from_the_whole_run, call_edges_compact, thread_name_is_not_named,
           enclosing_function_named)
