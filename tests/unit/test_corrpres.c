/* test_corrpres.c - per-request presence (corrpres.h): the Fisher test on request counts, and the finding
 * moved down to the call site of library work when that callee separates requests, end to end through
 * correlate_findings. Synthetic stacks with known answers. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "master/profile/correlate.h"
#include "master/profile/corrpres.h"
#include "tests/support/checkrun.h"
#include "tests/support/testcorr.h"
#include "tests/support/teststack.h"

#define APP "@/srv/search/app.py"
#define RE "@/usr/lib/python3.11/re/__init__.py"

static void add(pprof_profile *p, const char *frames, int64_t v, const char *name, const char *tid) {
  testcorr_sample(p, frames, "/srv/search/app.py", v, name, tid);
}

/* The function of the first finding about request name from profile prof, or "". */
static const char *named_by(json_t *fs, const char *name, const char *prof) {
  size_t i;
  json_t *f;
  json_array_foreach(fs, i, f) {
    const char *r = json_string_value(json_object_get(f, "request"));
    const char *p = json_string_value(json_object_get(f, "profile"));
    if (r && p && strcmp(r, name) == 0 && strcmp(p, prof) == 0)
      return json_string_value(json_object_get(f, "function"));
  }
  return "";
}

/* Hypergeometric tails by hand: all 3 of 6 requests holding a frame among the 3 slow ones: 1 / C(6,3); 2 of
 * the 3 (with 1 of the 3 typical): (C(3,2) C(3,1) + C(3,3)) / C(6,3); none of the typical: 1. */
START_TEST(fisher_one_sided) {
  ck_assert_double_eq_tol(corrpres_fisher(3, 3, 0, 3), 1.0 / 20, 1e-12);
  ck_assert_double_eq_tol(corrpres_fisher(2, 3, 1, 3), 10.0 / 20, 1e-12);
  ck_assert_double_eq_tol(corrpres_fisher(0, 3, 0, 3), 1.0, 1e-12);
  ck_assert(corrpres_fisher(23, 23, 0, 109) < 1e-20);
  ck_assert_double_eq(corrpres_fisher(3, 3, 0, 0), 1.0);
}
END_TEST

/* Searches (Python, no CPU sample of a typical search: no baseline of their own): 20 slow searches spend 3
 * CPU samples each in search -> plan -> expand_synonyms -> re.compile (the standard library's re); 40 typical
 * requests of another name render items. With the entry rule alone, plan (the first frame below the entry
 * search, which every search runs) would be named; expand_synonyms runs on every slow search and on no
 * typical request, and hands all its time to re: it is the call site named. */
START_TEST(call_site_of_library_work_is_named) {
  pprof_profile *cpu = pprof_create("samples", "count");
  json_t *slow = json_array(), *typ = json_array(), *iv = json_array();
  char tid[40];
  for (int i = 0; i < 60; i++) {
    snprintf(tid, sizeof tid, "%032d", i);
    if (i < 20)
      add(cpu,
          "threading.Thread.run;app.search" APP ";app.plan" APP ";app.expand_synonyms" APP ";re.compile" RE
          ";re._compile" RE,
          3, "POST /search", tid);
    else
      add(cpu,
          "threading.Thread.run;app.items" APP ";app.render" APP ";json.dumps@/usr/lib/python3.11/json.py", 1,
          "GET /items", tid);
    test_exemplar(i < 20 ? slow : typ, tid, i < 20 ? 200.0 : 10.0);
  }
  testcorr_interval(iv, 0, "POST /search", 400, 10.0, 200.0, 12.0);
  json_t *ex = test_exemplars("POST /search", slow, typ);
  json_t *fs = test_findings("cpu", cpu, iv, ex);
  ck_assert_str_eq(testcorr_named(fs, "POST /search"), "app.expand_synonyms");
  json_decref(fs);
  json_decref(ex);
  json_decref(iv);
  pprof_free(cpu);
}
END_TEST

/* Searches with a baseline of their own: 30 slow searches spend 3 samples each in plan -> expand_synonyms ->
 * re.compile; of 60 typical searches, 40 spend 1 sample there and 20 one in search's own rendering.
 * expand_synonyms holds the slow ones' excess and calls re, but two thirds of the typical searches run it
 * too: it does not set the slow ones apart (a step all of them take, here taking longer), so the finding
 * stays where the contrast placed it, plan, the outermost frame of the largest difference. */
START_TEST(callee_most_typical_requests_run_is_not_the_call_site) {
  pprof_profile *cpu = pprof_create("samples", "count");
  json_t *slow = json_array(), *typ = json_array(), *iv = json_array();
  char tid[40];
  const char *site =
      "threading.Thread.run;app.search" APP ";app.plan" APP ";app.expand_synonyms" APP ";re.compile" RE;
  for (int i = 0; i < 90; i++) {
    snprintf(tid, sizeof tid, "%032d", i);
    if (i < 30)
      add(cpu, site, 3, "POST /search", tid);
    else
      add(cpu, i < 70 ? site : "threading.Thread.run;app.search" APP ";app.render" APP, 1, "POST /search",
          tid);
    test_exemplar(i < 30 ? slow : typ, tid, i < 30 ? 200.0 : 10.0);
  }
  testcorr_interval(iv, 0, "POST /search", 400, 10.0, 200.0, 12.0);
  json_t *ex = test_exemplars("POST /search", slow, typ);
  json_t *fs = test_findings("cpu", cpu, iv, ex);
  ck_assert_str_eq(testcorr_named(fs, "POST /search"), "app.plan");
  json_decref(fs);
  json_decref(ex);
  json_decref(iv);
  pprof_free(cpu);
}
END_TEST

/* A callee that computes itself (its samples its own, no library below it) is no call site of library work:
 * exports whose XML encoding spends its time in the service's own loop under encode_xml -> escape stay named
 * at encode_xml (the entry rule's frame), as without the rule. */
START_TEST(own_computation_is_not_a_call_site) {
  pprof_profile *cpu = pprof_create("samples", "count");
  json_t *slow = json_array(), *typ = json_array(), *iv = json_array();
  char tid[40];
  for (int i = 0; i < 60; i++) {
    snprintf(tid, sizeof tid, "%032d", i);
    if (i < 20)
      add(cpu, "threading.Thread.run;app.export" APP ";app.encode_xml" APP ";app.escape" APP, 3,
          "POST /export", tid);
    else
      add(cpu,
          "threading.Thread.run;app.items" APP ";app.render" APP ";json.dumps@/usr/lib/python3.11/json.py", 1,
          "GET /items", tid);
    test_exemplar(i < 20 ? slow : typ, tid, i < 20 ? 200.0 : 10.0);
  }
  testcorr_interval(iv, 0, "POST /export", 400, 10.0, 200.0, 12.0);
  json_t *ex = test_exemplars("POST /export", slow, typ);
  json_t *fs = test_findings("cpu", cpu, iv, ex);
  ck_assert_str_eq(testcorr_named(fs, "POST /export"), "app.encode_xml");
  json_decref(fs);
  json_decref(ex);
  json_decref(iv);
  pprof_free(cpu);
}
END_TEST

/* Go statements rendered with html/template: 20 slow statements spend 3 CPU samples each in the service's
 * own template function (*categoryTable).name, which text/template calls back through reflect; 40 typical
 * requests of another name (not under the labelling middleware) encode JSON. Every frame from the handler
 * statement down has the same excess, and the frames right below statement are library code: the finding goes
 * through them to name (the service's code holding the time), not statement (which every statement runs). */
#define GO_SERVE \
  "net/http.(*conn).serve;main.withLabels.func1;runtime/pprof.Do;net/http.HandlerFunc.ServeHTTP"
#define GO_TMPL                                                                                             \
  ";html/template.(*Template).Execute;text/template.(*state).walk;text/template.(*state).evalCall;reflect." \
  "Value.call"
static json_t *statements(const char *other_leaf) {
  pprof_profile *cpu = pprof_create("samples", "count");
  json_t *slow = json_array(), *typ = json_array(), *iv = json_array();
  char tid[40];
  for (int i = 0; i < 60; i++) {
    snprintf(tid, sizeof tid, "%032d", i);
    if (i < 20)
      add(cpu, GO_SERVE ";main.(*svc).statement" GO_TMPL ";main.(*categoryTable).name@/src/svc/cat.go", 3,
          "GET /statements/{id}", tid);
    else
      add(cpu, other_leaf, 1, "GET /items", tid);
    test_exemplar(i < 20 ? slow : typ, tid, i < 20 ? 200.0 : 10.0);
  }
  json_array_append_new(
      iv, json_pack("{s:I,s:s,s:I,s:f,s:f,s:f}", "t", (json_int_t)0, "name", "GET /statements/{id}", "count",
                    (json_int_t)400, "p50_ms", 10.0, "p99_ms", 200.0, "mean_ms", 12.0));
  json_t *ex =
      json_pack("[{s:I,s:s,s:o,s:[]},{s:I,s:s,s:[],s:o}]", "t", (json_int_t)0, "name", "GET /statements/{id}",
                "slow", slow, "typical", "t", (json_int_t)0, "name", "GET /items", "slow", "typical", typ);
  json_t *fs = test_findings("cpu", cpu, iv, ex);
  json_decref(ex);
  json_decref(iv);
  pprof_free(cpu);
  return fs;
}

START_TEST(callback_below_library_frames_is_named) {
  json_t *fs = statements("net/http.(*conn).serve;main.(*svc).items;encoding/json.Marshal");
  ck_assert_str_eq(testcorr_named(fs, "GET /statements/{id}"), "main.(*categoryTable).name");
  json_decref(fs);
}
END_TEST

/* The same statements, but the template function is a helper other code shares: the items pages call it too
 * and spend their sample in it. It is not the slow statements' own: the finding stays on the handler
 * statement (a shared helper is never named alone). */
START_TEST(shared_callback_is_not_named) {
  json_t *fs =
      statements("net/http.(*conn).serve;main.(*svc).items;main.(*categoryTable).name@/src/svc/cat.go");
  ck_assert_str_eq(testcorr_named(fs, "GET /statements/{id}"), "main.(*svc).statement");
  json_decref(fs);
}
END_TEST

/* Python invoices: 20 slow corporate invoices spend 3 CPU samples each in corporate_rate_card -> json.dumps
 * (a call site of library work) under invoice, which every invoice runs; the typical requests have 2 CPU
 * samples among them (short requests are rarely on CPU), too few requests for the presence test (p >= 0.001
 * whatever they run). The wall-clock profile samples every request in flight: 60 typical requests of another
 * name and 5 typical invoices, none of them in corporate_rate_card. Counted with them, corporate_rate_card
 * separates the slow invoices and is named, not invoice. */
#define INN "@/srv/inn/billing.py"
START_TEST(presence_counts_wall_clock_samples) {
  pprof_profile *cpu = pprof_create("samples", "count"), *wall = pprof_create("wall", "nanoseconds");
  json_t *slow = json_array(), *typ = json_array(), *other = json_array(), *iv = json_array();
  const char *card =
      "threading.Thread.run;inn.app.dispatch" INN ";inn.app.invoice" INN ";inn.billing.invoice" INN
      ";inn.billing.corporate_rate_card" INN ";json.dumps@/usr/lib/python3.11/json/__init__.py";
  const char *guest = "threading.Thread.run;inn.app.dispatch" INN ";inn.app.invoice" INN
                      ";inn.billing.invoice" INN ";inn.billing._discounted" INN;
  const char *hotel = "threading.Thread.run;inn.app.dispatch" INN ";inn.app.hotel" INN;
  char tid[40];
  for (int i = 0; i < 85; i++) {
    snprintf(tid, sizeof tid, "%032d", i);
    const char *inv = "GET /invoice", *name = i < 25 ? inv : "GET /hotel";
    if (i < 20) add(cpu, card, 3, inv, tid), add(wall, card, 4, inv, tid);
    if (i >= 20 && i < 25) add(wall, guest, 1, inv, tid);
    if (i >= 25) add(wall, hotel, 1, name, tid);
    if (i == 20 || i == 25) add(cpu, i == 20 ? guest : hotel, 1, name, tid);
    test_exemplar(i < 20 ? slow : i < 25 ? typ : other, tid, i < 20 ? 200.0 : 10.0);
  }
  json_array_append_new(
      iv, json_pack("{s:I,s:s,s:I,s:f,s:f,s:f}", "t", (json_int_t)0, "name", "GET /invoice", "count",
                    (json_int_t)400, "p50_ms", 10.0, "p99_ms", 200.0, "mean_ms", 12.0));
  json_t *ex =
      json_pack("[{s:I,s:s,s:o,s:o},{s:I,s:s,s:[],s:o}]", "t", (json_int_t)0, "name", "GET /invoice", "slow",
                slow, "typical", typ, "t", (json_int_t)0, "name", "GET /hotel", "slow", "typical", other);
  json_t *fs = test_findings2("cpu", cpu, "wall", wall, iv, ex);
  ck_assert_str_eq(named_by(fs, "GET /invoice", "cpu"), "inn.billing.corporate_rate_card");
  json_decref(fs);
  json_decref(ex);
  json_decref(iv);
  pprof_free(cpu);
  pprof_free(wall);
}
END_TEST

/* A rare kind of redirect: 10 slow ones, 2 CPU samples each (20, under CORRELATE_MIN_SAMPLES) in
 * applyCustomRules -> regexp.Compile below resolve; 6 typical redirects are seen in the goroutine profile,
 * in resolve -> lookup, and 20 typical requests of another name are on CPU. The rate test is strong and
 * applyCustomRules runs on none of the typical redirects seen: named (slow_leaf), ranked as weak evidence
 * (score below 0: below every finding on >= CORRELATE_MIN_SAMPLES samples and a strong test). When the slow
 * ones' samples are in what every redirect runs (resolve's own loop, which the typical ones are seen in
 * too), few samples are no finding. */
static json_t *redirects(const char *slow_leaf) {
  pprof_profile *cpu = pprof_create("samples", "count"), *gr = pprof_create("goroutine", "count");
  json_t *slow = json_array(), *typ = json_array(), *other = json_array(), *iv = json_array();
  char st[256], tid[40];
  snprintf(st, sizeof st, "net/http.(*conn).serve;main.withLabels.func1;main.(*store).resolve%s", slow_leaf);
  for (int i = 0; i < 36; i++) {
    snprintf(tid, sizeof tid, "%032d", i);
    const char *name = i < 16 ? "GET /r/{code}" : "POST /api/links";
    if (i < 10) add(cpu, st, 2, name, tid), add(gr, st, 1, name, tid);
    if (i >= 10 && i < 16)
      add(gr, "net/http.(*conn).serve;main.withLabels.func1;main.(*store).resolve;main.(*store).lookup", 1,
          name, tid);
    if (i >= 16) add(cpu, "net/http.(*conn).serve;main.withLabels.func1;main.(*store).create", 1, name, tid);
    test_exemplar(i < 10 ? slow : i < 16 ? typ : other, tid, i < 10 ? 200.0 : 5.0);
  }
  json_array_append_new(
      iv, json_pack("{s:I,s:s,s:I,s:f,s:f,s:f}", "t", (json_int_t)0, "name", "GET /r/{code}", "count",
                    (json_int_t)400, "p50_ms", 5.0, "p99_ms", 200.0, "mean_ms", 8.0));
  json_t *ex = json_pack("[{s:I,s:s,s:o,s:o},{s:I,s:s,s:[],s:o}]", "t", (json_int_t)0, "name",
                         "GET /r/{code}", "slow", slow, "typical", typ, "t", (json_int_t)0, "name",
                         "POST /api/links", "slow", "typical", other);
  json_t *fs = test_findings2("cpu", cpu, "goroutine", gr, iv, ex);
  json_decref(ex);
  json_decref(iv);
  pprof_free(cpu);
  pprof_free(gr);
  return fs;
}

START_TEST(few_samples_of_a_rare_frame_are_named) {
  json_t *fs = redirects(";main.(*store).applyCustomRules;regexp.Compile;regexp/syntax.Parse");
  ck_assert_str_eq(named_by(fs, "GET /r/{code}", "cpu"), "main.(*store).applyCustomRules");
  size_t i;
  json_t *f;
  json_array_foreach(fs, i, f) if (strcmp(json_string_value(json_object_get(f, "function")),
                                          "main.(*store).applyCustomRules") == 0)
      ck_assert(json_number_value(json_object_get(f, "score")) < 0);
  json_decref(fs);
  fs = redirects("");
  ck_assert_str_eq(named_by(fs, "GET /r/{code}", "cpu"), "");
  json_decref(fs);
}
END_TEST

CHECK_MAIN("corrpres", 0, fisher_one_sided, call_site_of_library_work_is_named,
           callee_most_typical_requests_run_is_not_the_call_site, own_computation_is_not_a_call_site,
           callback_below_library_frames_is_named, shared_callback_is_not_named,
           presence_counts_wall_clock_samples, few_samples_of_a_rare_frame_are_named)
