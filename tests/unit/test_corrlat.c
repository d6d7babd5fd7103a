/* test_corrlat.c - when a request name's latency stands out (corrlat: per interval as well as over the run;
 * tail against body), and the two contrasts that depend on it or on request counts, end to end through
 * correlate_findings: the per-request rates when the shares do not pass, and an endpoint slow in its body
 * named by what all of its samples run; a name with slow exemplar samples gets no endpoint finding for its
 * tail; with no baseline of a name's own (its typical requests unsampled), the frame below its entry, and a
 * wait's handler chain only from enough samples; requests seen waiting that never compute show the entry; a
 * shared helper lifts to the caller the slow requests go through beyond the others. Synthetic intervals and
 * stacks with known answers. */
#include <check.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "master/profile/correlate.h"
#include "master/profile/corrlat.h"
#include "tests/support/checkrun.h"
#include "tests/support/testcorr.h"
#include "tests/support/teststack.h"

/* One interval line. */
static json_t *line(int64_t t, const char *name, int64_t count, double p50, double p99) {
  return json_pack("{s:I,s:s,s:I,s:f,s:f,s:f}", "t", (json_int_t)t, "name", name, "count", (json_int_t)count,
                   "p50_ms", p50, "p99_ms", p99, "mean_ms", p50);
}

/* Seven steady seconds where orders' p99 is 3x products' (p50 half), then three overloaded ones where both
 * take a second, with ten times the requests: the run's means are the overload's, the median second is not.
 */
START_TEST(per_interval_tail) {
  json_t *iv = json_array();
  for (int64_t t = 0; t < 10; t++) {
    int over = t >= 7;
    json_array_append_new(iv,
                          line(t * 1000, "POST /orders", over ? 100 : 10, over ? 500 : 1, over ? 1000 : 30));
    json_array_append_new(iv,
                          line(t * 1000, "GET /products", over ? 100 : 10, over ? 500 : 2, over ? 1000 : 10));
  }
  corrlat_standing st = corrlat_stand(iv, "POST /orders");
  ck_assert(st.p99[0] < 1.1); /* the means alone would miss it */
  ck_assert_double_eq_tol(st.p99[1], 3.0, 1e-9);
  ck_assert_double_eq_tol(st.p50[1], 0.5, 1e-9);
  ck_assert_uint_eq(st.n, 10);
  char why[160];
  ck_assert_int_eq(corrlat_stands_out(&st, why, sizeof why), CORRLAT_TAIL);
  ck_assert_ptr_nonnull(strstr(why, "p99 is 3.0x the other requests' (the median interval)"));
  ck_assert_int_eq((int)corrlat_requests(iv, "POST /orders"), 370);
  ck_assert_int_eq((int)corrlat_requests(iv, NULL), 740);
  json_decref(iv);
}
END_TEST

/* products twice as slow as orders in p50 and p99 alike: heavier by design, not a tail; ten times in p50
 * (p99 four times): its body. */
START_TEST(design_tail_body) {
  json_t *iv = json_array();
  for (int64_t t = 0; t < 5; t++) {
    json_array_append_new(iv, line(t * 1000, "GET /products", 50, 4, 40));
    json_array_append_new(iv, line(t * 1000, "POST /orders", 50, 2, 20));
  }
  char why[160];
  corrlat_standing st = corrlat_stand(iv, "GET /products");
  ck_assert_double_eq_tol(st.p99[1], 2.0, 1e-9);
  ck_assert_int_eq(corrlat_stands_out(&st, why, sizeof why), 0);
  json_decref(iv);
  iv = json_array();
  for (int64_t t = 0; t < 5; t++) {
    json_array_append_new(iv, line(t * 1000, "GET /report", 50, 20, 80));
    json_array_append_new(iv, line(t * 1000, "GET /items", 50, 2, 20));
  }
  st = corrlat_stand(iv, "GET /report");
  ck_assert_int_eq(corrlat_stands_out(&st, why, sizeof why), CORRLAT_BODY);
  ck_assert_ptr_nonnull(strstr(why, "p50 is 10.0x"));
  json_decref(iv);
}
END_TEST

/* The requests' time a lock is weighed against is the run's typical pace: 20 seconds of 100 requests at 5 ms
 * and 3 stalled ones at 2 s each: 23 x 100 x 5 ms, not the 645 s the stalled seconds would make it. */
START_TEST(request_time_is_robust) {
  json_t *iv = json_array();
  for (int64_t t = 0; t < 23; t++) {
    json_t *o = line(t * 1000, "(all)", 100, 5, 9);
    json_object_set_new(o, "mean_ms", json_real(t >= 20 ? 2000.0 : 5.0));
    json_array_append_new(iv, o);
    json_array_append_new(iv, line(t * 1000, "GET /x", 100, 5, 9)); /* names are not the total */
  }
  ck_assert_double_eq_tol(corrlat_request_ms(iv), 23 * 100 * 5.0, 1e-6);
  json_decref(iv);
  iv = json_array();
  ck_assert_double_eq_tol(corrlat_request_ms(iv), -1, 1e-9);
  json_decref(iv);
}
END_TEST

/* A sample of v, frames root first separated by ';', labelled name and (when tid) trace_id. */
static void add(pprof_profile *p, const char *frames, int64_t v, const char *name, const char *tid) {
  testcorr_sample(p, frames, NULL, v, name, tid);
}

/* 10 slow requests spend all 100 of their samples in fraud (its time in mix, which price shares); 17 slow
 * requests the exemplars did not list sit among the typical and carry 85 of its 100 samples. Shares: 100 % vs
 * 85 %, under 1.25x; per request: 10 vs 0.17 samples, so fraud is named on the rates. */
START_TEST(rates_when_shares_fail) {
  pprof_profile *p = pprof_create("samples", "count");
  json_t *slow = json_array(), *typ = json_array();
  char tid[16];
  for (int i = 0; i < 42; i++) {
    snprintf(tid, sizeof tid, "t%02d", i);
    if (i < 10) {
      add(p, "main;handle;fraud;mix", 10, "POST /o", tid);
      test_exemplar(slow, tid, 300.0);
    } else if (i < 27) {
      add(p, "main;handle;fraud;mix", 5, "POST /o", tid);
    } else {
      add(p, "main;handle;price;mix", 1, "POST /o", tid);
      test_exemplar(typ, tid, 5.0);
    }
  }
  json_t *ex = test_exemplars("POST /o", slow, typ);
  json_t *iv = json_array();
  json_array_append_new(iv, line(0, "POST /o", 500, 5, 300));
  json_t *fs = test_findings("cpu", p, iv, ex), *f = json_array_get(fs, 0);
  ck_assert_uint_eq(json_array_size(fs), 1);
  ck_assert_str_eq(json_string_value(json_object_get(f, "kind")), "tail");
  ck_assert_str_eq(json_string_value(json_object_get(f, "function")), "fraud");
  ck_assert_double_eq_tol(json_number_value(json_object_get(f, "baseline_share")), 0.85, 1e-9);
  const char *ev = json_string_value(json_object_get(f, "evidence"));
  ck_assert_ptr_nonnull(strstr(ev, "10.00 samples in it per slow request vs 0.17 per typical request"));
  ck_assert_ptr_nonnull(strstr(ev, "conditional binomial test of the rates"));
  json_decref(fs);
  json_decref(ex);
  json_decref(iv);
  pprof_free(p);
}
END_TEST

/* Products: 10 slow requests and 20 typical ones (1 sample each); with body set all in store.product and the
 * slow ones 2 samples each (too few for a tail contrast), else the typical ones in the handler only and the
 * slow ones 5 samples each; 100 home requests elsewhere. Products' p99 stands out. */
static json_t *body_or_tail(int body) {
  pprof_profile *p = pprof_create("samples", "count");
  json_t *slow = json_array(), *ex, *iv, *fs;
  char tid[40];
  for (int i = 0; i < 130; i++) {
    snprintf(tid, sizeof tid, "%032d", i);
    const char *name = i < 30 ? "GET /api/products/{id}" : "GET /api/home";
    const char *fr = i < 10 || (i < 30 && body) ? "main;app.get_product;store.product"
                     : i < 30                   ? "main;app.get_product"
                                                : "main;app.home;app.render";
    add(p, fr, i < 10 ? (body ? 2 : 5) : 1, name, tid);
    if (i < 10) test_exemplar(slow, tid, 900.0);
  }
  ex = test_exemplars("GET /api/products/{id}", slow, json_array());
  iv = json_pack("[{s:I,s:s,s:I,s:f},{s:I,s:s,s:I,s:f},{s:I,s:s,s:I,s:f}]", "t", (json_int_t)1000, "name",
                 "GET /api/products/{id}", "count", (json_int_t)30, "p99_ms", 200.0, "t", (json_int_t)1000,
                 "name", "GET /api/home", "count", (json_int_t)100, "p99_ms", 20.0, "t", (json_int_t)1000,
                 "name", "(all)", "count", (json_int_t)130, "p99_ms", 200.0);
  fs = test_findings("cpu", p, iv, ex);
  json_decref(ex);
  json_decref(iv);
  pprof_free(p);
  return fs;
}

/* The products name has samples of requests measured slow, so what sets its tail apart is the tail method's
 * to say: no endpoint finding from how its code differs from other endpoints' (its own store.product, which
 * every one of its requests runs). When its typical requests do not run store.product, the tail finding
 * names it. */
START_TEST(tail_is_not_an_endpoint) {
  json_t *fs = body_or_tail(1), *f;
  ck_assert_uint_eq(json_array_size(fs), 0);
  json_decref(fs);
  fs = body_or_tail(0);
  ck_assert_uint_eq(json_array_size(fs), 1);
  f = json_array_get(fs, 0);
  ck_assert_str_eq(json_string_value(json_object_get(f, "kind")), "tail");
  ck_assert_str_eq(json_string_value(json_object_get(f, "function")), "store.product");
  ck_assert_str_eq(json_string_value(json_object_get(f, "request")), "GET /api/products/{id}");
  json_decref(fs);
}
END_TEST

/* Every report request is slow (p50 25x items'): render runs in all of its samples, 70 % of them in
 * newRecord below it; items is too fast to be sampled more than 4 times. Named: render, on the rates. */
START_TEST(body_names_the_chain) {
  pprof_profile *p = pprof_create("samples", "count");
  add(p, "main;mw;report;render;newRecord", 70, "GET /report", NULL);
  add(p, "main;mw;report;render", 30, "GET /report", NULL);
  add(p, "main;mw;items;newRecord", 4, "GET /items", NULL);
  json_t *iv = json_array();
  for (int64_t t = 0; t < 5; t++) {
    json_array_append_new(iv, line(t * 1000, "GET /report", 20, 50, 100));
    json_array_append_new(iv, line(t * 1000, "GET /items", 200, 2, 20));
  }
  json_t *fs = test_findings("cpu", p, iv, NULL), *f = json_array_get(fs, 0);
  ck_assert_uint_eq(json_array_size(fs), 1);
  ck_assert_str_eq(json_string_value(json_object_get(f, "kind")), "endpoint");
  ck_assert_str_eq(json_string_value(json_object_get(f, "function")), "render");
  ck_assert_str_eq(json_string_value(json_object_get(f, "request")), "GET /report");
  ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(f, "evidence")), "p50 is 25.0x"));
  json_decref(fs);
  json_decref(iv);
  pprof_free(p);
}
END_TEST

/* Transfers: 20 slow ones, 3 CPU samples each down handler closure -> apply, 2 of them on to audit -> mix
 * (one callee with under ENTRY_SHARE of the entry's time: the finding stays where it is placed); the 20
 * typical ones are too fast to be sampled (0 samples: no baseline of their own, nor of any other name). With
 * typical_parked, the goroutine profile caught each typical one parked in apply (on the lock): they run
 * apply, so the slow ones diverge below it. */
static json_t *no_baseline(int typical_parked) {
  pprof_profile *cpu = pprof_create("samples", "count"), *gr = pprof_create("goroutine", "count");
  json_t *slow = json_array(), *typ = json_array(), *iv = json_array();
  char tid[40];
  for (int i = 0; i < 40; i++) {
    snprintf(tid, sizeof tid, "%032d", i);
    if (i < 20) {
      add(cpu, "runtime.goexit;net/http.(*conn).serve;main.newLedger.func1;main.apply;main.audit;main.mix", 2,
          "POST /transfer", tid);
      add(cpu, "runtime.goexit;net/http.(*conn).serve;main.newLedger.func1;main.apply", 1, "POST /transfer",
          tid);
      test_exemplar(slow, tid, 300.0);
      continue;
    }
    if (typical_parked)
      add(gr, "runtime.goexit;main.newLedger.func1;main.apply;sync.(*Mutex).Lock;runtime.gopark", 1,
          "POST /transfer", tid);
    test_exemplar(typ, tid, 2.0);
  }
  json_array_append_new(iv, line(0, "POST /transfer", 400, 2, 300));
  json_t *ex = test_exemplars("POST /transfer", slow, typ);
  json_t *fs = test_findings2("cpu", cpu, "goroutine", gr, iv, ex);
  json_decref(ex);
  json_decref(iv);
  pprof_free(cpu);
  pprof_free(gr);
  return fs;
}

/* No baseline: every frame of the slow path has the same excess per request. Not the leaf (mix): where the
 * slow requests' path leaves their entry (the handler closure), apply; below what typical requests are seen
 * running in another profile, audit. The evidence says which baseline placed it. */
START_TEST(no_baseline_names_below_the_entry) {
  json_t *fs = no_baseline(0), *f = json_array_get(fs, 0);
  ck_assert_uint_eq(json_array_size(fs), 1);
  ck_assert_str_eq(json_string_value(json_object_get(f, "kind")), "tail");
  ck_assert_str_eq(json_string_value(json_object_get(f, "function")), "main.apply");
  ck_assert_double_eq_tol(json_number_value(json_object_get(f, "baseline_share")), 0.0, 1e-9);
  const char *ev = json_string_value(json_object_get(f, "evidence"));
  ck_assert_ptr_nonnull(strstr(ev, "too few for a baseline of their own"));
  ck_assert_ptr_nonnull(strstr(ev, "leaves their entry"));
  ck_assert_ptr_null(strstr(ev, "nan"));
  json_decref(fs);
  fs = no_baseline(1), f = json_array_get(fs, 0);
  ck_assert_uint_eq(json_array_size(fs), 1);
  ck_assert_str_eq(json_string_value(json_object_get(f, "function")), "main.audit");
  ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(f, "evidence")), "what typical ones run"));
  json_decref(fs);
}
END_TEST

/* Exports: 20 slow ones through middleware mw (which the items requests run too) into their handler export,
 * 4 samples each in encodeXML -> mix; nothing of the typical ones sampled. The entry is export, not mw. */
START_TEST(no_baseline_middleware_is_not_the_entry) {
  pprof_profile *p = pprof_create("samples", "count");
  json_t *slow = json_array(), *typ = json_array(), *iv = json_array();
  char tid[40];
  for (int i = 0; i < 40; i++) {
    snprintf(tid, sizeof tid, "%032d", i);
    if (i < 20) add(p, "runtime.goexit;main.mw;main.export;main.encodeXML;main.mix", 4, "POST /export", tid);
    test_exemplar(i < 20 ? slow : typ, tid, i < 20 ? 90.0 : 1.0);
  }
  add(p, "runtime.goexit;main.mw;main.items;main.newRecord", 4, "GET /items", NULL);
  json_array_append_new(iv, line(0, "POST /export", 40, 1, 90));
  json_array_append_new(iv, line(0, "GET /items", 2000, 1, 2));
  json_t *ex = test_exemplars("POST /export", slow, typ);
  json_t *fs = test_findings("cpu", p, iv, ex), *f = json_array_get(fs, 0);
  ck_assert_uint_eq(json_array_size(fs), 1);
  ck_assert_str_eq(json_string_value(json_object_get(f, "function")), "main.encodeXML");
  ck_assert_str_eq(json_string_value(json_object_get(f, "request")), "POST /export");
  json_decref(fs);
  json_decref(ex);
  json_decref(iv);
  pprof_free(p);
}
END_TEST

/* Quotes: 20 slow ones parked 4 observations each in the shared client call getJSON under fetchRates; the
 * name has 2 CPU samples, both in fetchRates: too few to say that fetchRates is its handler chain, so the
 * wait climbs from getJSON to fetchRates (the outermost service frame holding it below the handler closure).
 */
START_TEST(wait_chain_needs_samples) {
  pprof_profile *cpu = pprof_create("samples", "count"), *gr = pprof_create("goroutine", "count");
  json_t *slow = json_array(), *typ = json_array();
  char tid[40];
  add(cpu, "runtime.goexit;main.quote.func1;main.fetchRates;main.getJSON;encoding/json.Unmarshal", 2,
      "GET /quote", NULL);
  for (int i = 0; i < 200; i++) {
    snprintf(tid, sizeof tid, "%032d", i);
    if (i < 20) {
      add(gr,
          "runtime.goexit;main.quote.func1;main.fetchRates;main.getJSON;net/http.(*Client).Do;runtime.gopark",
          4, "GET /quote", tid);
      test_exemplar(slow, tid, 41.0);
    } else {
      add(gr, "runtime.goexit;main.quote.func1;main.price", 1, "GET /quote", tid);
      if (i < 40) test_exemplar(typ, tid, 1.0);
    }
  }
  json_t *ex = test_exemplars("GET /quote", slow, typ);
  json_t *fs = test_findings2("cpu", cpu, "goroutine", gr, NULL, ex), *f = json_array_get(fs, 0);
  ck_assert_uint_eq(json_array_size(fs), 1);
  ck_assert_str_eq(json_string_value(json_object_get(f, "kind")), "wait");
  ck_assert_str_eq(json_string_value(json_object_get(f, "function")), "main.fetchRates");
  json_decref(fs);
  json_decref(ex);
  pprof_free(cpu);
  pprof_free(gr);
}
END_TEST

/* GET /find: each of 200 requests' shard goroutines waits in the shared client call get under queryShard
 * (get_slow observations each for the 20 slow ones, 1 for the others); the slow ones' shard goroutine also
 * waits in warmShard (warm observations each) and is caught with no stack at all (stackless observations
 * each). Whatever the mix, the one finding is the wait in warmShard; its slow sample count is returned. */
static int64_t fanout_wait(int get_slow, int warm, int stackless) {
  pprof_profile *cpu = pprof_create("samples", "count"), *gr = pprof_create("goroutine", "count");
  json_t *slow = json_array(), *typ = json_array();
  char tid[40];
  for (int i = 0; i < 200; i++) {
    snprintf(tid, sizeof tid, "%032d", i);
    add(gr, "runtime.goexit;main.fanOut.func1;main.queryShard;main.get;net/http.(*Client).Do;runtime.gopark",
        i < 20 ? get_slow : 1, "GET /find", tid);
    if (i < 20)
      add(gr,
          "runtime.goexit;main.fanOut.func1;main.queryShard;main.warmShard;main.get;net/http.(*Client).Do;"
          "runtime.gopark",
          warm, "GET /find", tid);
    if (i < 20 && stackless) {
      pprof_label lb[2] = {
          {(uint32_t)pprof_intern(gr, "loadctl.name"), (uint32_t)pprof_intern(gr, "GET /find"), 0, 0},
          {(uint32_t)pprof_intern(gr, "trace_id"), (uint32_t)pprof_intern(gr, tid), 0, 0}};
      int64_t n[1] = {stackless};
      ck_assert_int_eq(pprof_add_sample(gr, NULL, 0, n, lb, 2), 0);
    }
    if (i < 40) test_exemplar(i < 20 ? slow : typ, tid, i < 20 ? 55.0 : 2.0);
  }
  json_t *ex = test_exemplars("GET /find", slow, typ);
  json_t *fs = test_findings2("cpu", cpu, "goroutine", gr, NULL, ex), *f = json_array_get(fs, 0);
  ck_assert_uint_eq(json_array_size(fs), 1);
  ck_assert_str_eq(json_string_value(json_object_get(f, "kind")), "wait");
  ck_assert_str_eq(json_string_value(json_object_get(f, "function")), "main.warmShard");
  int64_t n = json_integer_value(json_object_get(json_object_get(f, "samples"), "slow"));
  json_decref(fs);
  json_decref(ex);
  pprof_free(cpu);
  pprof_free(gr);
  return n;
}

/* Every request waits under queryShard, the slow ones first in warmShard (4 each): the wait climbs from get
 * to warmShard, not past it. */
START_TEST(wait_climb_stops_where_typical_join) {
  fanout_wait(1, 4, 0);
}
END_TEST

/* On a loaded host the slow requests' other shard calls are slow too, so more of their observations sit in
 * get straight under queryShard (3 each) than under warmShard (2 each). Of get's callers the one the slow
 * requests go through beyond the others is warmShard, not the heaviest (queryShard, which every request
 * calls it from). */
START_TEST(wait_helper_lifts_to_the_divergent_caller) {
  fanout_wait(3, 2, 0);
}
END_TEST

/* 4 more observations of each slow request's goroutine with no stack at all (caught between stacks) say
 * nothing of where it waits and must not dilute warmShard's share below CORRELATE_WAIT_SHARE. */
START_TEST(wait_ignores_samples_without_stack) {
  ck_assert_int_eq(fanout_wait(1, 2, 4), 60);
}
END_TEST

/* Prices: 20 slow requests wait in waitForReload under price (3 observations each) while one of them
 * reloads the list under price on CPU (10 observations); typical ones are never caught. price does more than
 * the wait in the slow requests, so the wait is not climbed past waitForReload. */
START_TEST(wait_climb_stops_where_the_caller_does_more) {
  pprof_profile *cpu = pprof_create("samples", "count"), *gr = pprof_create("goroutine", "count");
  json_t *slow = json_array(), *typ = json_array(), *iv = json_array();
  char tid[40];
  for (int i = 0; i < 40; i++) {
    snprintf(tid, sizeof tid, "%032d", i);
    if (i < 20)
      add(gr,
          "runtime.goexit;main.pricing.func1;main.price;main.waitForReload;runtime.selectgo;runtime.gopark",
          3, "GET /price", tid);
    if (i == 0)
      add(gr, "runtime.goexit;main.pricing.func1;main.price;main.loadPriceList;main.mix", 10, "GET /price",
          tid);
    test_exemplar(i < 20 ? slow : typ, tid, i < 20 ? 80.0 : 1.0);
  }
  json_array_append_new(iv, line(0, "GET /price", 400, 1, 80));
  json_t *ex = test_exemplars("GET /price", slow, typ);
  json_t *fs = test_findings2("cpu", cpu, "goroutine", gr, iv, ex), *f = json_array_get(fs, 0);
  ck_assert_uint_eq(json_array_size(fs), 1);
  ck_assert_str_eq(json_string_value(json_object_get(f, "kind")), "wait");
  ck_assert_str_eq(json_string_value(json_object_get(f, "function")), "main.waitForReload");
  json_decref(fs);
  json_decref(ex);
  json_decref(iv);
  pprof_free(cpu);
  pprof_free(gr);
}
END_TEST

/* Prices, no baseline: 4 slow requests reload the list (10 CPU samples each under the handler closure ->
 * price -> loadPriceList -> mix, 5 in price's own code: loadPriceList under ENTRY_SHARE of price) while
 * `waiters` other slow ones are caught parked in waitForReload under price and never on CPU; typical ones are
 * never sampled. With >= KNOWN_REQUESTS waiters, price is what the name's requests run without the CPU work:
 * the slow ones' CPU diverges below it, in loadPriceList; with fewer, the frame below the entry (price) is
 * the guess. */
static const char *reload_tail(int waiters) {
  static char fn[128];
  pprof_profile *cpu = pprof_create("samples", "count"), *gr = pprof_create("goroutine", "count");
  json_t *slow = json_array(), *typ = json_array(), *iv = json_array();
  char tid[40];
  for (int i = 0; i < 40; i++) {
    snprintf(tid, sizeof tid, "%032d", i);
    if (i < 4) {
      add(cpu, "runtime.goexit;main.pricing.func1;main.price;main.loadPriceList;main.mix", 10, "GET /price",
          tid);
      add(cpu, "runtime.goexit;main.pricing.func1;main.price", 5, "GET /price", tid);
    } else if (i < 4 + waiters)
      add(gr,
          "runtime.goexit;main.pricing.func1;main.price;main.waitForReload;runtime.selectgo;runtime.gopark",
          2, "GET /price", tid);
    test_exemplar(i < 4 + waiters ? slow : typ, tid, i < 4 + waiters ? 80.0 : 1.0);
  }
  json_array_append_new(iv, line(0, "GET /price", 400, 1, 80));
  json_t *ex = test_exemplars("GET /price", slow, typ);
  json_t *fs = test_findings2("cpu", cpu, "goroutine", gr, iv, ex), *f;
  size_t i;
  fn[0] = 0;
  json_array_foreach(fs, i, f) if (strcmp(json_string_value(json_object_get(f, "kind")), "tail") == 0)
      snprintf(fn, sizeof fn, "%s", json_string_value(json_object_get(f, "function")));
  json_decref(fs);
  json_decref(ex);
  json_decref(iv);
  pprof_free(cpu);
  pprof_free(gr);
  return fn;
}

START_TEST(no_baseline_waiters_show_the_entry) {
  ck_assert_str_eq(reload_tail(12), "main.loadPriceList");
  ck_assert_str_eq(reload_tail(CORRELATE_KNOWN_REQUESTS - 1), "main.price");
}
END_TEST

/* Products, no baseline of their own: 10 slow requests, 4 CPU samples each in the handler's getProduct ->
 * product (a database call below it); typical ones: reqs requests with per samples each down the same
 * path; 40 typical samples of another name elsewhere. With >= MIN_BASELINE typical requests running product
 * it is what every such request runs: not named for the tail (nothing below it is the service's); a few
 * typical requests (3, slow ones the exemplars classed typical) with many samples each prove nothing. */
static size_t product_tail(int reqs, int per) {
  pprof_profile *cpu = pprof_create("samples", "count");
  json_t *slow = json_array(), *typ = json_array();
  char tid[40];
  for (int i = 0; i < 10 + reqs; i++) {
    snprintf(tid, sizeof tid, "%032d", i);
    add(cpu, "runtime.goexit;main.serve.func1;main.getProduct;main.product;runtime.cgocall", i < 10 ? 4 : per,
        "GET /product", tid);
    test_exemplar(i < 10 ? slow : typ, tid, i < 10 ? 90.0 : 2.0);
  }
  for (int i = 0; i < 40; i++) {
    snprintf(tid, sizeof tid, "%031dx", i);
    add(cpu, "runtime.goexit;main.serve.func1;main.other;main.render", 1, "GET /other", tid);
    test_exemplar(typ, tid, 2.0);
  }
  json_t *ex = test_exemplars("GET /product", slow, typ);
  json_t *fs = test_findings("cpu", cpu, NULL, ex), *f;
  size_t i, named = 0;
  json_array_foreach(fs, i, f) named +=
      strcmp(json_string_value(json_object_get(f, "function")), "main.product") == 0;
  json_decref(fs);
  json_decref(ex);
  pprof_free(cpu);
  return named;
}

START_TEST(no_baseline_known_frame_is_not_named) {
  ck_assert_uint_eq(product_tail(12, 1), 0);
  ck_assert_uint_eq(product_tail(3, 6), 1);
}
END_TEST

/* Checkouts: 20 slow ones spend 3 samples each in digest under the coupon rules and 1 under price_cart; 40
 * typical ones 1 sample each in price_cart's own format. digest (called from both, and by a background
 * job) holds the slow ones' time through two callers, neither with all of it: no frame is named for it
 * alone (a shared helper is never named alone), and no finding names digest. */
START_TEST(helper_through_several_callers_is_not_named) {
  pprof_profile *cpu = pprof_create("samples", "count");
  json_t *slow = json_array(), *typ = json_array();
  char tid[40];
  for (int i = 0; i < 60; i++) {
    snprintf(tid, sizeof tid, "%032d", i);
    if (i < 20) {
      add(cpu, "runtime.goexit;main.checkout;main.applyCoupons;main.digest", 3, "POST /checkout", tid);
      add(cpu, "runtime.goexit;main.checkout;main.priceCart;main.digest", 1, "POST /checkout", tid);
    } else {
      add(cpu, "runtime.goexit;main.checkout;main.priceCart;main.format", 1, "POST /checkout", tid);
    }
    test_exemplar(i < 20 ? slow : typ, tid, i < 20 ? 60.0 : 2.0);
  }
  add(cpu, "runtime.goexit;main.reindex;main.digest", 1, "POST /reindex", NULL);
  json_t *ex = test_exemplars("POST /checkout", slow, typ);
  json_t *fs = test_findings("cpu", cpu, NULL, ex), *f;
  size_t i;
  json_array_foreach(fs, i, f)
      ck_assert_str_ne(json_string_value(json_object_get(f, "function")), "main.digest");
  json_decref(fs);
  json_decref(ex);
  pprof_free(cpu);
}
END_TEST

CHECK_MAIN("corrlat", 0, per_interval_tail, design_tail_body, rates_when_shares_fail, body_names_the_chain,
           tail_is_not_an_endpoint, request_time_is_robust, no_baseline_names_below_the_entry,
           no_baseline_middleware_is_not_the_entry, wait_chain_needs_samples,
           wait_climb_stops_where_typical_join, wait_climb_stops_where_the_caller_does_more,
           no_baseline_waiters_show_the_entry, wait_helper_lifts_to_the_divergent_caller,
           wait_ignores_samples_without_stack, no_baseline_known_frame_is_not_named,
           helper_through_several_callers_is_not_named)
