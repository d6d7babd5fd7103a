/* test_corrhand.c - work handed to a pool of unlabelled workers (corrhand.h): when a request name's slow
 * requests wait in hand-off machinery (a Future's result, a channel), the work its workers did more of in the
 * windows where the waiters were mostly slow is named, not the frame where every request waits; a pool busy
 * with more of the same work, or waiters that are not slower than the typical ones, is no such finding.
 * Synthetic stacks with known answers, end to end through correlate_findings over 20 one-second windows. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "master/profile/correlate.h"
#include "master/profile/corrhand.h"
#include "tests/support/checkrun.h"
#include "tests/support/testcorr.h"
#include "tests/support/teststack.h"

#define PY "@/usr/lib/python3.11/"
#define SCAN "@/srv/desk/scan.py;"
/* an upload waits for the verdict of the scanner pool */
#define PY_WAITS                                                                                        \
  "threading.Thread.run" PY "threading.py;desk.app.attach@/srv/desk/app.py;desk.scan.scan" SCAN         \
  "concurrent.futures._base.Future.result" PY "concurrent/futures/_base.py;threading.Condition.wait" PY \
  "threading.py"
#define PY_LOOP "threading.Thread.run" PY "threading.py;desk.scan._scanner" SCAN
#define PY_IDLE PY_LOOP "queue.Queue.get" PY "queue.py;threading.Condition.wait" PY "threading.py"
#define PY_STREAM \
  PY_LOOP "desk.scan.inspect" SCAN "desk.scan.instream" SCAN "socket.SocketIO.readinto" PY "socket.py"
#define PY_ARCHIVE                                                                         \
  PY_LOOP "desk.scan.inspect" SCAN "desk.scan.scan_archive" SCAN "desk.scan.instream" SCAN \
          "socket.SocketIO."                                                               \
          "readinto" PY "socket.py"
/* a message waits until one of the outbox's sender goroutines handed it to the relay */
#define GO_WAITS "main.(*mailer).postMessage;main.(*mailer).Send;runtime.selectgo;runtime.gopark"
#define GO_IDLE "main.(*mailer).sender;runtime.chanrecv2;runtime.chanrecv;runtime.gopark"
#define GO_STREAM "main.(*mailer).sender;main.(*mailer).relay;main.send;internal/poll.runtime_pollWait"
#define GO_ARCHIVE \
  "main.(*mailer).sender;main.(*mailer).renderDigest;main.send;internal/poll.runtime_pollWait"

/* a report waits for its pages, rendered on a ThreadPoolExecutor (whose idle workers sit in C, below _worker)
 */
#define PDF "@/srv/report/pdf.py;"
#define PYX_WAITS                                                                                       \
  "threading.Thread.run" PY                                                                             \
  "threading.py;report.app.export@/srv/report/app.py;"                                                  \
  "concurrent.futures._base.Future.result" PY "concurrent/futures/_base.py;threading.Condition.wait" PY \
  "threading.py"
#define PYX_LOOP                                                                \
  "threading.Thread.run" PY "threading.py;concurrent.futures.thread._worker" PY \
  "concurrent/futures/"                                                         \
  "thread.py;"
#define PYX_IDLE                                                                \
  "threading.Thread.run" PY "threading.py;concurrent.futures.thread._worker" PY \
  "concurrent/futures/"                                                         \
  "thread.py"
#define PYX_STREAM                                                   \
  PYX_LOOP "concurrent.futures.thread._WorkItem.run" PY              \
           "concurrent/futures/thread.py;report.pdf.render_page" PDF \
           "report.pdf.draw_text@/srv/report/pdf.py"
#define PYX_ARCHIVE                                                                               \
  PYX_LOOP "concurrent.futures.thread._WorkItem.run" PY                                           \
           "concurrent/futures/thread.py;report.pdf.render_page" PDF "report.pdf.embed_fonts" PDF \
           "zlib.compress" PY "zlib.py"

typedef struct scene {
  const char *type, *name, *waits, *idle, *stream, *archive, *own; /* own: a request's own work */
} scene;

static const scene py = {"wall",
                         "POST /attach",
                         PY_WAITS,
                         PY_IDLE,
                         PY_STREAM,
                         PY_ARCHIVE,
                         "threading.Thread.run" PY
                         "threading.py;desk.app.attach@/srv/desk/app.py;desk.app.render@/srv/desk/app.py"};
static const scene pyx = {"wall", "GET /export", PYX_WAITS, PYX_IDLE, PYX_STREAM, PYX_ARCHIVE, NULL};
static const scene go = {"goroutine", "POST /api/messages", GO_WAITS, GO_IDLE, GO_STREAM, GO_ARCHIVE, NULL};

static void add(pprof_profile *p, const char *frames, int64_t v, const char *name, const char *tid) {
  testcorr_sample(p, frames, NULL, v, name, tid);
}

/* 20 windows of 1 s. In every window 3 typical requests wait typ_stay samples each in the hand-off (and run
 * typ_own samples of their own work) and the workers stream 6 samples and idle 150; in the even ones 2 slow
 * requests wait slow_stay each, and the workers do 20 samples more: archives when archives is set, else more
 * of the same streams. Returns the findings. */
static json_t *pool_run2(const scene *sc, int archives, int slow_stay, int typ_stay, int typ_own) {
  correlate_window w[20];
  pprof_profile *p[20];
  json_t *slow = json_array(), *typ = json_array();
  char tid[40];
  for (int k = 0; k < 20; k++) {
    ck_assert_ptr_nonnull(p[k] = pprof_create(sc->type, strcmp(sc->type, "wall") ? "count" : "nanoseconds"));
    w[k] = (correlate_window){k * 1000, (k + 1) * 1000, sc->type, p[k]};
    for (int r = 0; r < 3; r++) {
      snprintf(tid, sizeof tid, "%030d%02d", k, r);
      add(p[k], sc->waits, typ_stay, sc->name, tid);
      if (typ_own) add(p[k], sc->own, typ_own, sc->name, tid);
      test_exemplar(typ, tid, 10.0);
    }
    for (int r = 0; k % 2 == 0 && r < 2; r++) {
      snprintf(tid, sizeof tid, "%030d%02d", k, 10 + r);
      add(p[k], sc->waits, slow_stay, sc->name, tid);
      test_exemplar(slow, tid, 300.0);
    }
    add(p[k], sc->idle, 150, NULL, NULL);
    add(p[k], sc->stream, 6, NULL, NULL);
    if (k % 2 == 0) add(p[k], archives ? sc->archive : sc->stream, 20, NULL, NULL);
  }
  json_t *ex = test_exemplars(sc->name, slow, typ), *out = NULL;
  correlate_input in = {w, 20, NULL, ex};
  ck_assert_int_eq(correlate_findings(&in, &out), 0);
  json_decref(ex);
  for (int k = 0; k < 20; k++) pprof_free(p[k]);
  return out;
}

static json_t *pool_run(const scene *sc, int archives, int slow_stay, int typ_stay) {
  return pool_run2(sc, archives, slow_stay, typ_stay, 0);
}

/* The first finding about name, or NULL. */
static const json_t *first(const json_t *fs, const char *name) {
  size_t i;
  json_t *f;
  json_array_foreach(fs, i, f) {
    const char *r = json_string_value(json_object_get(f, "request"));
    if (r && strcmp(r, name) == 0) return f;
  }
  return NULL;
}

/* Is any finding a hand-off one? */
static int any_hand(const json_t *fs) {
  size_t i;
  json_t *f;
  json_array_foreach(
      fs, i, f) if (strncmp(json_string_value(json_object_get(f, "evidence")), "hand-off", 8) == 0) return 1;
  return 0;
}

static void expect_named(const scene *sc, const char *fn, const char *waiter) {
  json_t *fs = pool_run(sc, 1, 10, 1);
  const json_t *f = first(fs, sc->name);
  ck_assert_ptr_nonnull(f);
  ck_assert_str_eq(json_string_value(json_object_get(f, "function")), fn);
  ck_assert_str_eq(json_string_value(json_object_get(f, "kind")), "wait");
  ck_assert_int_eq(strncmp(json_string_value(json_object_get(f, "evidence")), "hand-off", 8), 0);
  /* the path goes from the waiting request through the hand-off to the worker's work */
  size_t i, at_wait = 0, at_fn = 0;
  json_t *v;
  json_array_foreach(json_object_get(f, "path"), i, v) {
    if (strcmp(json_string_value(v), waiter) == 0) at_wait = i + 1;
    if (strcmp(json_string_value(v), fn) == 0) at_fn = i + 1;
  }
  ck_assert_uint_gt(at_wait, 0);
  ck_assert_uint_gt(at_fn, at_wait);
  json_decref(fs);
}

/* Uploads wait in scan for the scanner threads; in the seconds where slow uploads waited the scanners unpack
 * archives (83 % of their busy samples vs 0 %): scan_archive is named, ahead of scan, where every upload
 * waits.
 */
START_TEST(python_pool_work_the_slow_waited_behind_is_named) {
  expect_named(&py, "desk.scan.scan_archive", "desk.scan.scan");
}
END_TEST

/* The same through Go's goroutine polls: senders idle in a channel receive, the slow messages' seconds are
 * the digests'. */
START_TEST(go_senders_work_the_slow_waited_behind_is_named) {
  expect_named(&go, "main.(*mailer).renderDigest", "main.(*mailer).Send");
}
END_TEST

/* The same with Python's own pool, a ThreadPoolExecutor: its worker loop is the library's _worker (idle in C,
 * below it), the work a service function under it. */
START_TEST(executor_work_the_slow_waited_behind_is_named) {
  expect_named(&pyx, "report.pdf.embed_fonts", "report.app.export");
}
END_TEST

/* The typical uploads spend most of their time in their own work, so the wait method names the wait in scan
 * (the slow ones' 100 % against 17 %), scoring above the hand-off finding: the hand-off finding, which says
 * what that wait queued behind, takes its place. */
START_TEST(hand_off_takes_the_symptom_waits_place) {
  json_t *fs = pool_run2(&py, 1, 10, 1, 5);
  const json_t *f = first(fs, py.name);
  ck_assert_ptr_nonnull(f);
  ck_assert_str_eq(json_string_value(json_object_get(f, "function")), "desk.scan.scan_archive");
  size_t i;
  json_t *g;
  json_array_foreach(fs, i, g)
      ck_assert_str_ne(json_string_value(json_object_get(g, "function")), "desk.scan.scan");
  json_decref(fs);
}
END_TEST

/* A pool merely busier with the same work in those seconds (more uploads, more streams): no hand-off finding;
 * what rose is load, not other work. */
START_TEST(busier_pool_doing_the_same_work_is_no_finding) {
  json_t *fs = pool_run(&py, 0, 10, 1);
  ck_assert_msg(!any_hand(fs), "a hand-off finding on the same work");
  json_decref(fs);
  fs = pool_run(&go, 0, 10, 1);
  ck_assert_msg(!any_hand(fs), "a hand-off finding on the same work (Go)");
  json_decref(fs);
}
END_TEST

/* Slow requests that wait in the hand-off no longer than the typical ones (2 samples each, 30 typical
 * requests reach it): they are slow elsewhere, and the workers' archives are not why. */
START_TEST(waiters_no_slower_than_typical_is_no_finding) {
  json_t *fs = pool_run(&py, 1, 2, 2);
  ck_assert_msg(!any_hand(fs), "a hand-off finding for waits as long as the typical ones'");
  json_decref(fs);
}
END_TEST

/* The hand-off frame: the service frame above the waiting machinery; not a socket read nor a lock (library
 * frames above the machinery), nor a running sample. */
START_TEST(waiter_is_the_service_frame_above_the_machinery) {
  pprof_profile *p = pprof_create("goroutine", "count");
  corrstack cs;
  corrstack_init(&cs);
  add(p, GO_WAITS, 1, NULL, NULL);
  add(p, GO_STREAM, 1, NULL, NULL);
  add(p,
      "main.(*store).get;sync.(*Mutex).Lock;sync.(*Mutex).lockSlow;sync.runtime_SemacquireMutex;runtime."
      "gopark",
      1, NULL, NULL);
  add(p, "main.(*mailer).sender;main.(*mailer).relay", 1, NULL, NULL);
  for (size_t i = 0; i < p->nsamples; i++) ck_assert_int_eq(corrstack_add(&cs, p, &p->samples[i], 0, 0), 0);
  ck_assert_int_eq(corrhand_waiter(&cs, &cs.s[0]), corrstack_id(&cs, "main.(*mailer).Send"));
  ck_assert_int_eq(corrhand_waiter(&cs, &cs.s[1]), -1); /* a network wait: work */
  ck_assert_int_eq(corrhand_waiter(&cs, &cs.s[2]), -1); /* a lock: the lock method's */
  ck_assert_int_eq(corrhand_waiter(&cs, &cs.s[3]), -1); /* running */
  corrstack_free(&cs);
  pprof_free(p);
}
END_TEST

CHECK_MAIN("corrhand", 0, python_pool_work_the_slow_waited_behind_is_named,
           executor_work_the_slow_waited_behind_is_named, hand_off_takes_the_symptom_waits_place,
           go_senders_work_the_slow_waited_behind_is_named, busier_pool_doing_the_same_work_is_no_finding,
           waiters_no_slower_than_typical_is_no_finding, waiter_is_the_service_frame_above_the_machinery)
