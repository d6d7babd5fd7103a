/* test_corrdesc.c - the finding moves down from a frame that only leads to the fault (corrdesc.h), end to end
 * through correlate_findings: from a request's entry to the callee holding most of its slow requests' excess
 * (CORRELATE_ENTRY_SHARE); a wall-clock wait from the callers that pass it on to the frame that waits; and a
 * goroutine wait not climbed onto the entry every typical request runs when the typical ones pass through the
 * waiting frame to wait below it (a retry's backoff); of two findings of one request's same time, the
 * slow-vs-typical one below an endpoint one takes its place. Synthetic stacks with known answers. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "master/profile/corrdesc.h"
#include "master/profile/correlate.h"
#include "tests/support/checkrun.h"
#include "tests/support/testcorr.h"
#include "tests/support/teststack.h"

static void add(pprof_profile *p, const char *frames, int64_t v, const char *name, const char *tid) {
  testcorr_sample(p, frames, "/srv/app/main.go", v, name, tid);
}

/* The function of the first finding about request name (asserted to exist). */
static const char *named(json_t *fs, const char *name) {
  const char *fn = testcorr_named(fs, name);
  ck_assert_msg(*fn, "no finding for %s", name);
  return fn;
}

/* Batches: 30 slow requests spend 4 of their 5 CPU samples in chunkEvents (below ingestBatch, the handler
 * every batch runs) and 1 in ingestBatch's own decoding; 60 typical ones 1 sample each, two thirds in
 * chunkEvents. The shares do not pass (100 % vs 100 %; 80 % vs 67 %, under 1.25x); per request ingestBatch
 * holds the most excess, chunkEvents 80 % of it: it is named, not the entry. */
START_TEST(entry_moves_to_the_callee_holding_the_excess) {
  pprof_profile *cpu = pprof_create("samples", "count");
  json_t *slow = json_array(), *typ = json_array(), *iv = json_array();
  char tid[40];
  for (int i = 0; i < 90; i++) {
    snprintf(tid, sizeof tid, "%032d", i);
    if (i < 30) {
      add(cpu, "runtime.goexit;main.serve.func1;main.ingestBatch;main.chunkEvents;encoding/json.Marshal", 4,
          "POST /batch", tid);
      add(cpu, "runtime.goexit;main.serve.func1;main.ingestBatch;encoding/json.Unmarshal", 1, "POST /batch",
          tid);
    } else {
      add(cpu,
          i < 70 ? "runtime.goexit;main.serve.func1;main.ingestBatch;main.chunkEvents;encoding/json.Marshal"
                 : "runtime.goexit;main.serve.func1;main.ingestBatch;encoding/json.Unmarshal",
          1, "POST /batch", tid);
    }
    test_exemplar(i < 30 ? slow : typ, tid, i < 30 ? 200.0 : 10.0);
  }
  testcorr_interval(iv, 0, "POST /batch", 400, 10.0, 200.0, 12.0);
  json_t *ex = test_exemplars("POST /batch", slow, typ);
  json_t *fs = test_findings("cpu", cpu, iv, ex);
  ck_assert_str_eq(named(fs, "POST /batch"), "main.chunkEvents");
  json_decref(fs);
  json_decref(ex);
  json_decref(iv);
  pprof_free(cpu);
}
END_TEST

/* Forecasts (wall clock, Python): 20 slow requests' 5 samples each wait in a socket read under coords_for ->
 * geocode_postcode -> urllib; of 40 typical ones, half wait there once, half render. coords_for and
 * geocode_postcode hold the same samples in both populations: the frame that waits, geocode_postcode, is
 * named, not coords_for, which only calls it. */
START_TEST(wall_wait_names_the_frame_that_waits) {
  pprof_profile *wall = pprof_create("wall", "nanoseconds");
  json_t *slow = json_array(), *typ = json_array();
  char tid[40];
  const char *wait =
      "weather.app.app@/srv/weather/app.py;weather.app.forecast@/srv/weather/app.py;"
      "weather.app.coords_for@/srv/weather/app.py;weather.app.geocode_postcode@/srv/weather/app.py;"
      "urllib.request.urlopen@/usr/lib/python3.11/urllib/request.py;"
      "socket.SocketIO.readinto@/usr/lib/python3.11/socket.py";
  for (int i = 0; i < 60; i++) {
    snprintf(tid, sizeof tid, "%032d", i);
    if (i < 40)
      add(wall, wait, i < 20 ? 5 : 1, "GET /forecast", tid);
    else
      add(wall,
          "weather.app.app@/srv/weather/app.py;weather.app.forecast@/srv/weather/app.py;"
          "weather.app.render@/srv/weather/app.py",
          1, "GET /forecast", tid);
    test_exemplar(i < 20 ? slow : typ, tid, i < 20 ? 300.0 : 30.0);
  }
  json_t *ex = test_exemplars("GET /forecast", slow, typ);
  json_t *fs = test_findings("wall", wall, NULL, ex);
  ck_assert_str_eq(named(fs, "GET /forecast"), "weather.app.geocode_postcode");
  json_decref(fs);
  json_decref(ex);
  pprof_free(wall);
}
END_TEST

/* Charges (goroutine polls): 20 slow requests are seen 3 times each parked in withRetry's backoff select and
 * once in post's network read; 30 typical ones once each, half in withRetry's select (awaiting the reply),
 * half in post. Every observation of both lies under charge, the entry; the slow ones park in withRetry
 * itself more (75 % vs 50 %): the wait is withRetry, not climbed onto charge. */
START_TEST(wait_not_climbed_onto_the_entry) {
  pprof_profile *gr = pprof_create("goroutine", "count"), *cpu = pprof_create("samples", "count");
  json_t *slow = json_array(), *typ = json_array(), *iv = json_array();
  char tid[40];
  const char *backoff =
                 "runtime.goexit;main.pay.func1;main.charge;main.withRetry;runtime.selectgo;runtime.gopark",
             *read =
                 "runtime.goexit;main.pay.func1;main.charge;main.withRetry;main.post;net/http.(*Client).Do;"
                 "internal/poll.runtime_pollWait";
  for (int i = 0; i < 50; i++) {
    snprintf(tid, sizeof tid, "%032d", i);
    if (i < 20) {
      add(gr, backoff, 3, "POST /charge", tid);
      add(gr, read, 1, "POST /charge", tid);
    } else {
      add(gr, i < 35 ? backoff : read, 1, "POST /charge", tid);
    }
    test_exemplar(i < 20 ? slow : typ, tid, i < 20 ? 80.0 : 2.0);
  }
  testcorr_interval(iv, 0, "POST /charge", 400, 2.0, 80.0, 5.0);
  json_t *ex = test_exemplars("POST /charge", slow, typ);
  json_t *fs = test_findings2("cpu", cpu, "goroutine", gr, iv, ex);
  ck_assert_str_eq(named(fs, "POST /charge"), "main.withRetry");
  json_decref(fs);
  json_decref(ex);
  json_decref(iv);
  pprof_free(gr);
  pprof_free(cpu);
}
END_TEST

/* Redirects (no baseline of their own): 40 slow requests spend 4 of their 5 CPU samples compiling regexps in
 * applyCustomRules (its time in regexp, a library), 1 in checksum; their 5 typical ones have 1 sample each,
 * too few for a baseline, and links' creation runs checksum too. Below the handler closure the slow ones'
 * hot path runs resolve, the frame every redirect runs (all above it a closure or plumbing), and its callee
 * applyCustomRules holds 80 % of it: applyCustomRules is named, not resolve. */
START_TEST(entry_without_baseline_moves_down) {
  pprof_profile *cpu = pprof_create("samples", "count");
  json_t *slow = json_array(), *typ = json_array(), *iv = json_array();
  char tid[40];
  const char *rules =
                 "runtime.goexit;main.newLinks.func1;main.(*linkStore).resolve;"
                 "main.(*linkStore).applyCustomRules;regexp.Compile;regexp/syntax.Parse",
             *sum = "runtime.goexit;main.newLinks.func1;main.(*linkStore).resolve;main.checksum";
  for (int i = 0; i < 45; i++) {
    snprintf(tid, sizeof tid, "%032d", i);
    add(cpu, i < 40 ? rules : sum, i < 40 ? 4 : 1, "GET /r", tid);
    if (i < 40) add(cpu, sum, 1, "GET /r", tid);
    test_exemplar(i < 40 ? slow : typ, tid, i < 40 ? 40.0 : 2.0);
    snprintf(tid, sizeof tid, "9%031d", i);
    add(cpu, "runtime.goexit;main.newLinks.func2;main.(*linkStore).create;main.checksum", 1, "POST /links",
        tid);
  }
  testcorr_interval(iv, 0, "GET /r", 1000, 2.0, 40.0, 3.0);
  json_t *ex = test_exemplars("GET /r", slow, typ);
  json_t *fs = test_findings("cpu", cpu, iv, ex);
  ck_assert_str_eq(named(fs, "GET /r"), "main.(*linkStore).applyCustomRules");
  ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(json_array_get(fs, 0), "evidence")),
                               "which every such request may run too (it holds >= 75%"));
  json_decref(fs);
  json_decref(ex);
  json_decref(iv);
  pprof_free(cpu);
}
END_TEST

/* Orders service (goroutine polls): the monthly report's 40 observations, 36 parked in the database client
 * below query (31 queries a report, one connection held across them), 4 in acquire; orders and customers,
 * 60 each, park half in their own query calls and half in acquire. The report's wait climbs from send to
 * query, which holds the same observations; query is the helper every route calls (three callers, 25 % of
 * the other routes' observations): its caller in the report is named, monthlyTotals, not query. */
START_TEST(wait_not_named_on_a_helper_every_route_calls) {
  pprof_profile *gr = pprof_create("goroutine", "count");
  json_t *iv = json_array();
  char tid[40], st[400];
  const char *db = "main.query;main.send;net/http.(*Client).Do;runtime.selectgo;runtime.gopark",
             *wait = "main.(*connPool).acquire;runtime.selectgo;runtime.gopark";
  const char *route[3][2] = {
      {"GET /api/reports/monthly", "main.newOrderDB.func4;main.(*reportRepo).monthlyTotals"},
      {"GET /api/orders", "main.newOrderDB.func1;main.(*orderRepo).list"},
      {"GET /api/customers", "main.newOrderDB.func2;main.(*customerRepo).get"}};
  for (int r = 0; r < 3; r++) {
    for (int i = 0; i < (r ? 60 : 40); i++) {
      snprintf(tid, sizeof tid, "%d%031d", r, i);
      snprintf(st, sizeof st, "runtime.goexit;%s;%s", route[r][1], (r ? i % 2 : i < 36) ? db : wait);
      add(gr, st, 1, route[r][0], tid);
    }
    for (int64_t t = 0; t < 5; t++)
      testcorr_interval(iv, (t * 1000), route[r][0], (r ? 100 : 5), r ? 3.0 : 130.0, r ? 40.0 : 160.0,
                        r ? 5.0 : 130.0);
  }
  json_t *fs = test_findings("goroutine", gr, iv, NULL);
  ck_assert_str_eq(named(fs, "GET /api/reports/monthly"), "main.(*reportRepo).monthlyTotals");
  json_decref(fs);
  json_decref(iv);
  pprof_free(gr);
}
END_TEST

/* Exports (no baseline of their own) through a handler registered as a method value, s.export: Go's wrapper
 * export-fm above export. 20 slow requests spend 4 samples each in encodeXML -> mix, typical ones are never
 * sampled. The wrapper is plumbing, export the entry: encodeXML is named, not the handler export. */
START_TEST(method_value_wrapper_is_not_the_entry) {
  pprof_profile *cpu = pprof_create("samples", "count");
  json_t *slow = json_array(), *typ = json_array(), *iv = json_array();
  char tid[40];
  for (int i = 0; i < 40; i++) {
    snprintf(tid, sizeof tid, "%032d", i);
    if (i < 20)
      add(cpu,
          "runtime.goexit;net/http.HandlerFunc.ServeHTTP;main.(*server).export-fm;main.(*server).export;"
          "main.encodeXML;main.mix",
          4, "POST /export", tid);
    test_exemplar(i < 20 ? slow : typ, tid, i < 20 ? 90.0 : 1.0);
  }
  testcorr_interval(iv, 0, "POST /export", 400, 1.0, 90.0, 2.0);
  json_t *ex = test_exemplars("POST /export", slow, typ);
  json_t *fs = test_findings("cpu", cpu, iv, ex);
  ck_assert_str_eq(named(fs, "POST /export"), "main.encodeXML");
  json_decref(fs);
  json_decref(ex);
  json_decref(iv);
  pprof_free(cpu);
}
END_TEST

/* Applications (no baseline of their own): 40 slow requests spend 4 CPU samples each in cleanName below
 * checkForm (a name check that backtracks, computing itself: no library below it), 1 in checkEmail beside it
 * and 1 in apply's store; their 25 typical ones 1 sample each, too few for a baseline: 15 in store, 8 in
 * checkEmail, 2 in cleanName. Below apply, which the typical ones are seen running, the no-baseline rule
 * places checkForm; within it cleanName holds 80 % of the slow samples and 20 % of the typical ones, and all
 * of its excess: cleanName is named (CORRELATE_DOWN_COMMON; off: checkForm). With no typical sample in
 * checkForm nothing says where they diverge within it, and the frame placed stays (test_corrpres's
 * encode_xml and escape). */
START_TEST(placed_frame_moves_down_to_the_callee_holding_its_excess) {
  pprof_profile *cpu = pprof_create("samples", "count");
  json_t *slow = json_array(), *typ = json_array(), *iv = json_array();
  char tid[40];
  const char *clean = "runtime.goexit;main.apply;main.checkForm;main.cleanName",
             *email = "runtime.goexit;main.apply;main.checkForm;main.checkEmail",
             *store = "runtime.goexit;main.apply;main.store";
  for (int i = 0; i < 65; i++) {
    snprintf(tid, sizeof tid, "%032d", i);
    if (i < 40) {
      add(cpu, clean, 4, "POST /apply", tid);
      add(cpu, email, 1, "POST /apply", tid);
      add(cpu, store, 1, "POST /apply", tid);
    } else {
      add(cpu, i < 55 ? store : i < 63 ? email : clean, 1, "POST /apply", tid);
    }
    test_exemplar(i < 40 ? slow : typ, tid, i < 40 ? 60.0 : 3.0);
  }
  testcorr_interval(iv, 0, "POST /apply", 1000, 3.0, 60.0, 4.0);
  json_t *ex = test_exemplars("POST /apply", slow, typ);
  json_t *fs = test_findings("cpu", cpu, iv, ex);
  ck_assert_str_eq(named(fs, "POST /apply"), "main.cleanName");
  ck_assert_ptr_nonnull(
      strstr(json_string_value(json_object_get(json_array_get(fs, 0), "evidence")), "what typical ones run"));
  json_decref(fs);
  json_decref(ex);
  json_decref(iv);
  pprof_free(cpu);
}
END_TEST

/* The same with a baseline (100 typical requests, 1 sample each: 88 in store, 10 in checkEmail and 2 in
 * cleanName, both below checkForm; 40 slow ones 10 in store, 2 in checkEmail, 8 in cleanName). checkForm and
 * cleanName differ alike (38 points), so the outermost, checkForm, is picked; within it cleanName holds 80 %
 * of the slow samples and 17 % of the typical ones: cleanName is named. Where cleanName is checkForm's whole
 * body in both (an encoder and the loop inside it: checkEmail's samples moved into cleanName), the frame
 * picked stays: checkForm. */
static const char *form_named(int whole_body) {
  pprof_profile *cpu = pprof_create("samples", "count");
  json_t *slow = json_array(), *typ = json_array(), *iv = json_array();
  char tid[40];
  const char *clean = "runtime.goexit;main.apply;main.checkForm;main.cleanName",
             *email = "runtime.goexit;main.apply;main.checkForm;main.checkEmail",
             *store = "runtime.goexit;main.apply;main.store";
  static char fn[128];
  for (int i = 0; i < 140; i++) {
    snprintf(tid, sizeof tid, "%032d", i);
    if (i < 40) {
      add(cpu, clean, whole_body ? 10 : 8, "POST /apply", tid);
      if (!whole_body) add(cpu, email, 2, "POST /apply", tid);
      add(cpu, store, 10, "POST /apply", tid);
    } else {
      add(cpu, i < 128 ? store : i < 138 && !whole_body ? email : clean, 1, "POST /apply", tid);
    }
    test_exemplar(i < 40 ? slow : typ, tid, i < 40 ? 60.0 : 3.0);
  }
  testcorr_interval(iv, 0, "POST /apply", 1000, 3.0, 60.0, 4.0);
  json_t *ex = test_exemplars("POST /apply", slow, typ);
  json_t *fs = test_findings("cpu", cpu, iv, ex);
  snprintf(fn, sizeof fn, "%s", named(fs, "POST /apply"));
  json_decref(fs);
  json_decref(ex);
  json_decref(iv);
  pprof_free(cpu);
  return fn;
}

START_TEST(picked_frame_moves_down_where_the_callee_sets_slow_apart) {
  ck_assert_str_eq(form_named(0), "main.cleanName");
  ck_assert_str_eq(form_named(1), "main.checkForm");
}
END_TEST

/* Two steps: the name check's time is in matchPart below cleanName. 40 slow requests, 20 samples each: 10 in
 * store, 1 in checkEmail, 1 in cleanName's own code, 8 in matchPart; 100 typical ones, 1 each: 88 in store, 5
 * in checkEmail, 5 in cleanName's own code, 2 in matchPart. checkForm, cleanName and matchPart differ alike
 * (38 points): checkForm is picked; within it cleanName holds 90 % of the slow samples and 58 % of the
 * typical ones, within cleanName matchPart 89 % and 29 %: matchPart is named. */
START_TEST(each_step_down_where_the_callee_sets_slow_apart) {
  pprof_profile *cpu = pprof_create("samples", "count");
  json_t *slow = json_array(), *typ = json_array(), *iv = json_array();
  char tid[40];
  const char *match = "runtime.goexit;main.apply;main.checkForm;main.cleanName;main.matchPart",
             *clean = "runtime.goexit;main.apply;main.checkForm;main.cleanName",
             *email = "runtime.goexit;main.apply;main.checkForm;main.checkEmail",
             *store = "runtime.goexit;main.apply;main.store";
  for (int i = 0; i < 140; i++) {
    snprintf(tid, sizeof tid, "%032d", i);
    if (i < 40) {
      add(cpu, store, 10, "POST /apply", tid);
      add(cpu, email, 1, "POST /apply", tid);
      add(cpu, clean, 1, "POST /apply", tid);
      add(cpu, match, 8, "POST /apply", tid);
    } else {
      add(cpu, i < 128 ? store : i < 133 ? email : i < 138 ? clean : match, 1, "POST /apply", tid);
    }
    test_exemplar(i < 40 ? slow : typ, tid, i < 40 ? 60.0 : 3.0);
  }
  testcorr_interval(iv, 0, "POST /apply", 1000, 3.0, 60.0, 4.0);
  json_t *ex = test_exemplars("POST /apply", slow, typ);
  json_t *fs = test_findings("cpu", cpu, iv, ex);
  ck_assert_str_eq(named(fs, "POST /apply"), "main.matchPart");
  json_decref(fs);
  json_decref(ex);
  json_decref(iv);
  pprof_free(cpu);
}
END_TEST

/* One request's time found twice: an endpoint finding on charge (the name against other names) and a wait in
 * withRetry below it on its path (slow against typical charges): the wait is the finer and takes the place;
 * not the other way round, not a frame above, and not two findings of the same method. */
START_TEST(finer_finding_of_the_same_time) {
  json_t *ep = json_pack("{s:s,s:s,s:[s,s,s,s]}", "kind", "endpoint", "function", "main.charge", "path",
                         "main.pay.func1", "main.charge", "main.withRetry", "runtime.selectgo");
  json_t *wait = json_pack("{s:s,s:s,s:[s,s,s]}", "kind", "wait", "function", "main.withRetry", "path",
                           "main.pay.func1", "main.charge", "main.withRetry");
  json_t *above =
      json_pack("{s:s,s:s,s:[s]}", "kind", "tail", "function", "main.pay.func1", "path", "main.pay.func1");
  json_t *ep2 = json_pack("{s:s,s:s,s:[]}", "kind", "endpoint", "function", "main.withRetry", "path");
  ck_assert_int_eq(corrdesc_finer(ep, wait), 1);
  ck_assert_int_eq(corrdesc_finer(wait, ep), 0);
  ck_assert_int_eq(corrdesc_finer(ep, above), 0);
  ck_assert_int_eq(corrdesc_finer(ep, ep2), 0);
  json_decref(ep);
  json_decref(wait);
  json_decref(above);
  json_decref(ep2);
}
END_TEST

CHECK_MAIN("corrdesc", 0, entry_moves_to_the_callee_holding_the_excess, wall_wait_names_the_frame_that_waits,
           wait_not_climbed_onto_the_entry, finer_finding_of_the_same_time, entry_without_baseline_moves_down,
           wait_not_named_on_a_helper_every_route_calls, method_value_wrapper_is_not_the_entry,
           placed_frame_moves_down_to_the_callee_holding_its_excess,
           picked_frame_moves_down_where_the_callee_sets_slow_apart,
           each_step_down_where_the_callee_sets_slow_apart)
