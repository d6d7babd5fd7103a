/* test_transport.c - frames over real nanomsg ipc sockets on a uv loop: a sealed frame arrives, and a
 * wrong key, a replay, a corrupted, truncated, oversize or keyless frame is dropped and counted; frames
 * captured by a relay in the middle and replayed to a new worker or a restarted master are dropped. */
#include <check.h>
#include <errno.h>
#include <nanomsg/bus.h>
#include <nanomsg/nn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/transport.h"
#include "tests/support/checkrun.h"

typedef struct inbox {
  int count;
  char last_peer[80];
  char last_body[256];
} inbox;

static void on_msg(void *ud, const char *peer, const uint8_t *body, size_t len) {
  inbox *in = ud;
  in->count++;
  snprintf(in->last_peer, sizeof in->last_peer, "%s", peer);
  snprintf(in->last_body, sizeof in->last_body, "%.*s", (int)len, (const char *)body);
}

static uint8_t key_a[TRANSPORT_KEY_LEN], key_b[TRANSPORT_KEY_LEN];
static char url[128], url2[128];

static void setup(void) {
  memset(key_a, 0xa5, sizeof key_a);
  memset(key_b, 0x5a, sizeof key_b);
  snprintf(url, sizeof url, "ipc:///tmp/loadctl-test-transport-%d.ipc", (int)getpid());
  snprintf(url2, sizeof url2, "ipc:///tmp/loadctl-test-transport-relay-%d.ipc", (int)getpid());
}

/* A frame of kind from id with session sess, answering peer (may be NULL). */
static void seal(const char *id, uint64_t seq, int kind, const uint8_t *sess, const uint8_t *peer,
                 const char *body, size_t len, uint8_t **f, size_t *flen) {
  transport_meta m = {.seq = seq, .kind = kind};
  memcpy(m.sess, sess, TRANSPORT_SESS_LEN);
  if (peer) memcpy(m.peer_sess, peer, TRANSPORT_SESS_LEN);
  ck_assert_int_eq(transport_frame_seal(key_a, id, &m, (const uint8_t *)body, len, f, flen), 0);
}

/* Run the loop until cond() holds or ms pass. */
static void spin(uv_loop_t *loop, const int *watch, int want, const uint64_t *drops, int ms) {
  int64_t end = clock_mono_ns() + (int64_t)ms * 1000000;
  while (clock_mono_ns() < end) {
    uv_run(loop, UV_RUN_NOWAIT);
    if (watch && *watch >= want) return;
    if (drops && (int)*drops >= want) return;
    usleep(2000);
  }
}

static transport *open_side(uv_loop_t *loop, int mode, const uint8_t *key, const char *id, inbox *in) {
  transport_config cfg = {
      .url = url, .mode = mode, .key = key, .self_id = id, .on_message = on_msg, .ud = in};
  transport *t = NULL;
  char err[512];
  ck_assert_msg(transport_open(loop, &cfg, &t, err, sizeof err) == 0, "%s", err);
  return t;
}

/* Send from client until the master has it (bus connect is asynchronous). */
static void send_until(uv_loop_t *loop, transport *c, inbox *in, const char *text) {
  int before = in->count;
  for (int i = 0; i < 100 && in->count == before; i++) {
    ck_assert_int_eq(transport_send(c, (const uint8_t *)text, strlen(text)), 0);
    spin(loop, &in->count, before + 1, NULL, 20);
  }
}

START_TEST(sealed_round_trip) {
  uv_loop_t loop;
  inbox m = {0}, w = {0};
  uv_loop_init(&loop);
  transport *master = open_side(&loop, TRANSPORT_BIND, key_a, "master", &m);
  transport *worker = open_side(&loop, TRANSPORT_CONNECT, key_a, "w1", &w);
  send_until(&loop, worker, &m, "hello");
  ck_assert_int_ge(m.count, 1);
  ck_assert_str_eq(m.last_peer, "w1");
  ck_assert_str_eq(m.last_body, "hello");
  ck_assert_int_eq(transport_send(master, (const uint8_t *)"assign", 6), 0);
  spin(&loop, &w.count, 1, NULL, 2000);
  ck_assert_int_eq(w.count, 1);
  ck_assert_str_eq(w.last_peer, "master");
  ck_assert_str_eq(w.last_body, "assign");
  ck_assert_int_eq(transport_drops(master, -1), 0);
  transport_close(worker);
  transport_close(master);
  uv_run(&loop, UV_RUN_DEFAULT);
  ck_assert_int_eq(uv_loop_close(&loop), 0);
}
END_TEST

START_TEST(wrong_key_rejected) {
  uv_loop_t loop;
  inbox m = {0}, w = {0};
  uv_loop_init(&loop);
  transport *master = open_side(&loop, TRANSPORT_BIND, key_a, "master", &m);
  transport *worker = open_side(&loop, TRANSPORT_CONNECT, key_b, "intruder", &w);
  const uint64_t *auth = NULL;
  for (int i = 0; i < 100 && transport_drops(master, TRANSPORT_DROP_AUTH) == 0; i++) {
    transport_send(worker, (const uint8_t *)"hello", 5);
    spin(&loop, NULL, 1, auth, 20);
  }
  ck_assert_int_ge(transport_drops(master, TRANSPORT_DROP_AUTH), 1);
  ck_assert_int_eq(m.count, 0);
  /* and the other way: the intruder cannot open the master's frames */
  transport_send(master, (const uint8_t *)"scenario", 8);
  spin(&loop, &w.count, 1, NULL, 300);
  ck_assert_int_eq(w.count, 0);
  ck_assert_int_ge(transport_drops(worker, TRANSPORT_DROP_AUTH), 1);
  transport_close(worker);
  transport_close(master);
  uv_run(&loop, UV_RUN_DEFAULT);
  ck_assert_int_eq(uv_loop_close(&loop), 0);
}
END_TEST

/* A raw bus socket that injects hand-made frames into the master. */
static int raw_connect(void) {
  int s = nn_socket(AF_SP, NN_BUS);
  ck_assert_int_ge(s, 0);
  ck_assert_int_ge(nn_connect(s, url), 0);
  return s;
}

static void raw_send(uv_loop_t *loop, int s, const uint8_t *f, size_t len) {
  ck_assert_int_eq(nn_send(s, f, len, 0), (int)len);
  spin(loop, NULL, 0, NULL, 50);
}

/* As raw worker id with session sess: HELLO until the master WELCOMEs it; the master's session in msess. */
static void raw_handshake(uv_loop_t *loop, int raw, const char *id, const uint8_t *sess, uint64_t *seq,
                          uint8_t *msess) {
  for (int i = 0; i < 100; i++) {
    uint8_t *f = NULL;
    size_t flen = 0;
    void *buf = NULL;
    int n;
    seal(id, (*seq)++, TRANSPORT_KIND_HELLO, sess, NULL, "", 0, &f, &flen);
    nn_send(raw, f, flen, NN_DONTWAIT);
    free(f);
    spin(loop, NULL, 0, NULL, 20);
    while ((n = nn_recv(raw, &buf, NN_MSG, NN_DONTWAIT)) >= 0) {
      char peer[TRANSPORT_ID_MAX + 1];
      transport_meta m;
      const uint8_t *body;
      size_t blen;
      uint8_t *plain = NULL;
      int rc = transport_frame_open(key_a, buf, (size_t)n, peer, &m, &body, &blen, &plain);
      nn_freemsg(buf);
      free(plain);
      if (rc == 0 && m.kind == TRANSPORT_KIND_WELCOME && !memcmp(m.peer_sess, sess, TRANSPORT_SESS_LEN)) {
        memcpy(msess, m.sess, TRANSPORT_SESS_LEN);
        return;
      }
    }
  }
  ck_abort_msg("no WELCOME from the master");
}

START_TEST(replay_corrupt_truncated_dropped) {
  uv_loop_t loop;
  inbox m = {0};
  uint8_t *f = NULL, *g = NULL, sess[TRANSPORT_SESS_LEN], msess[TRANSPORT_SESS_LEN];
  size_t flen = 0, glen = 0;
  uv_loop_init(&loop);
  transport *master = open_side(&loop, TRANSPORT_BIND, key_a, "master", &m);
  int raw = raw_connect();
  uint64_t seq = (uint64_t)clock_wall_ns();
  memset(sess, 7, sizeof sess);
  raw_handshake(&loop, raw, "w7", sess, &seq, msess);
  seal("w7", seq, TRANSPORT_KIND_DATA, sess, msess, "one", 3, &f, &flen);
  /* the first copy may be lost while the connection comes up: resend until it is accepted */
  for (int i = 0; i < 100 && m.count == 0; i++) {
    nn_send(raw, f, flen, 0);
    spin(&loop, &m.count, 1, NULL, 20);
  }
  ck_assert_int_eq(m.count, 1);
  uint64_t replays = transport_drops(master, TRANSPORT_DROP_REPLAY);
  raw_send(&loop, raw, f, flen); /* replay */
  spin(&loop, NULL, 0, NULL, 100);
  ck_assert_int_eq(m.count, 1);
  ck_assert_uint_eq(transport_drops(master, TRANSPORT_DROP_REPLAY), replays + 1);

  seal("w7", seq + 1, TRANSPORT_KIND_DATA, sess, msess, "two", 3, &g, &glen);
  g[glen - 2] ^= 0x40; /* corrupted ciphertext */
  raw_send(&loop, raw, g, glen);
  g[glen - 2] ^= 0x40;
  raw_send(&loop, raw, g, glen - 5); /* truncated */
  raw_send(&loop, raw, g, 3);        /* truncated header */
  spin(&loop, NULL, 0, NULL, 100);
  ck_assert_int_eq(m.count, 1);
  /* corrupted -> auth; cut by 5 bytes (shorter than a sealed frame can be) and cut to 3 -> malformed */
  ck_assert_uint_eq(transport_drops(master, TRANSPORT_DROP_AUTH), 1);
  ck_assert_uint_eq(transport_drops(master, TRANSPORT_DROP_MALFORMED), 2);
  /* the connection recovers: the intact frame still goes through */
  raw_send(&loop, raw, g, glen);
  spin(&loop, &m.count, 2, NULL, 1000);
  ck_assert_int_eq(m.count, 2);
  ck_assert_str_eq(m.last_body, "two");
  free(f);
  free(g);
  /* keyless frame to a keyed master */
  transport_meta km = {.seq = seq + 5};
  ck_assert_int_eq(transport_frame_seal(NULL, "w8", &km, (const uint8_t *)"x", 1, &f, &flen), 0);
  raw_send(&loop, raw, f, flen);
  spin(&loop, NULL, 0, NULL, 100);
  ck_assert_uint_eq(transport_drops(master, TRANSPORT_DROP_KEYMODE), 1);
  free(f);
  /* oversize body: refused when sealing */
  ck_assert_int_eq(
      transport_frame_seal(key_a, "w7", &km, (const uint8_t *)"", TRANSPORT_MAX_BODY + 1, &f, &flen), -E2BIG);
  nn_close(raw);
  transport_close(master);
  uv_run(&loop, UV_RUN_DEFAULT);
  ck_assert_int_eq(uv_loop_close(&loop), 0);
}
END_TEST

START_TEST(oversize_frame_dropped) {
  uv_loop_t loop;
  inbox m = {0};
  size_t big = TRANSPORT_MAX_BODY + 100, blen = 5 + 2 + 8 + big;
  uint8_t *b = calloc(1, blen);
  uint64_t seq = (uint64_t)clock_wall_ns();
  uv_loop_init(&loop);
  transport *master = open_side(&loop, TRANSPORT_BIND, NULL, "master", &m);
  int raw = raw_connect();
  b[0] = 'L', b[1] = 'C', b[2] = TRANSPORT_PROTO, b[3] = 0, b[4] = 2, b[5] = 'w', b[6] = '9';
  for (int i = 0; i < 8; i++) b[7 + i] = (uint8_t)(seq >> (56 - 8 * i));
  for (int i = 0; i < 200 && transport_drops(master, TRANSPORT_DROP_OVERSIZE) == 0; i++) {
    nn_send(raw, b, blen, NN_DONTWAIT);
    spin(&loop, NULL, 0, NULL, 20);
  }
  ck_assert_uint_ge(transport_drops(master, TRANSPORT_DROP_OVERSIZE), 1);
  ck_assert_int_eq(m.count, 0);
  free(b);
  nn_close(raw);
  transport_close(master);
  uv_run(&loop, UV_RUN_DEFAULT);
  ck_assert_int_eq(uv_loop_close(&loop), 0);
}
END_TEST

START_TEST(keyless_bind_rules) {
  uv_loop_t loop;
  inbox m = {0};
  char err[512] = "";
  transport *t = NULL;
  transport_config cfg = {
      .url = "tcp://0.0.0.0:0", .mode = TRANSPORT_BIND, .self_id = "master", .on_message = on_msg, .ud = &m};
  uv_loop_init(&loop);
  ck_assert_int_eq(transport_open(&loop, &cfg, &t, err, sizeof err), -EPERM);
  ck_assert_ptr_nonnull(strstr(err, "without a key"));
  ck_assert(transport_url_is_local("tcp://127.0.0.1:5557"));
  ck_assert(transport_url_is_local("ipc:///tmp/x.ipc"));
  ck_assert(transport_url_is_local("tcp://localhost:1"));
  ck_assert(transport_url_is_local("tcp://[::1]:1"));
  ck_assert(!transport_url_is_local("tcp://10.0.0.1:1"));
  ck_assert(!transport_url_is_local("tcp://*:5557"));
  ck_assert_int_eq(uv_loop_close(&loop), 0);
}
END_TEST

/* A relay between workers (they connect to url2, where it binds) and the master (at url, it connects):
 * it forwards every frame and keeps a copy of each, to replay later. */
#define RELAY_CAP 256
typedef struct relay {
  int wside, mside;
  uint8_t *cap[RELAY_CAP];
  size_t caplen[RELAY_CAP];
  int ncap;
} relay;

static void relay_open(relay *r) {
  memset(r, 0, sizeof *r);
  r->wside = nn_socket(AF_SP, NN_BUS);
  r->mside = nn_socket(AF_SP, NN_BUS);
  ck_assert_int_ge(nn_bind(r->wside, url2), 0);
  ck_assert_int_ge(nn_connect(r->mside, url), 0);
}

static void relay_close(relay *r) {
  for (int i = 0; i < r->ncap; i++) free(r->cap[i]);
  nn_close(r->wside);
  nn_close(r->mside);
}

static void relay_pass(relay *r, int from, int to) {
  void *buf = NULL;
  int n;
  while ((n = nn_recv(from, &buf, NN_MSG, NN_DONTWAIT)) >= 0) {
    if (r->ncap < RELAY_CAP) {
      r->cap[r->ncap] = malloc((size_t)n);
      memcpy(r->cap[r->ncap], buf, (size_t)n);
      r->caplen[r->ncap++] = (size_t)n;
    }
    nn_send(to, buf, (size_t)n, NN_DONTWAIT);
    nn_freemsg(buf);
  }
}

/* Run the loop and the relay for ms, or until *watch >= want. */
static void pump(uv_loop_t *loop, relay *r, int ms, const int *watch, int want) {
  int64_t end = clock_mono_ns() + (int64_t)ms * 1000000;
  while (clock_mono_ns() < end && !(watch && *watch >= want)) {
    uv_run(loop, UV_RUN_NOWAIT);
    relay_pass(r, r->wside, r->mside);
    relay_pass(r, r->mside, r->wside);
    usleep(1000);
  }
}

static void pump_until_bound(uv_loop_t *loop, relay *r, transport *w) {
  for (int i = 0; i < 200 && !transport_bound(w); i++) pump(loop, r, 10, NULL, 0);
  ck_assert(transport_bound(w));
}

/* The captured frame of kind whose body is body (kind HELLO/WELCOME: body ""). */
static int relay_find(const relay *r, int kind, const char *body) {
  for (int i = r->ncap - 1; i >= 0; i--) {
    char peer[TRANSPORT_ID_MAX + 1];
    transport_meta m;
    const uint8_t *b;
    size_t blen;
    uint8_t *plain = NULL;
    int rc = transport_frame_open(key_a, r->cap[i], r->caplen[i], peer, &m, &b, &blen, &plain);
    int hit = rc == 0 && m.kind == kind && blen == strlen(body) && !memcmp(b, body, blen);
    free(plain);
    if (hit) return i;
  }
  ck_abort_msg("no captured frame of kind %d with body '%s'", kind, body);
  return -1;
}

/* Send captured frame i into side until drops of reason at t pass before (bounded). */
static void replay(uv_loop_t *loop, relay *r, int side, int i, transport *t, int reason) {
  uint64_t before = transport_drops(t, reason);
  for (int k = 0; k < 100 && transport_drops(t, reason) == before; k++) {
    nn_send(side, r->cap[i], r->caplen[i], NN_DONTWAIT);
    uv_run(loop, UV_RUN_NOWAIT);
    usleep(10000);
    uv_run(loop, UV_RUN_NOWAIT);
  }
  ck_assert_uint_gt(transport_drops(t, reason), before);
}

START_TEST(replay_to_new_worker) {
  uv_loop_t loop;
  inbox m = {0}, w1 = {0}, w2 = {0}, w3 = {0};
  relay r;
  uv_loop_init(&loop);
  transport *master = open_side(&loop, TRANSPORT_BIND, key_a, "master", &m);
  relay_open(&r);
  snprintf(url, sizeof url, "%s", url2); /* workers connect to the relay */
  transport *worker = open_side(&loop, TRANSPORT_CONNECT, key_a, "w1", &w1);
  setup();
  pump_until_bound(&loop, &r, worker);
  ck_assert_int_eq(transport_send(master, (const uint8_t *)"assign-1", 8), 0);
  pump(&loop, &r, 2000, &w1.count, 1);
  ck_assert_int_eq(w1.count, 1);
  int assign = relay_find(&r, TRANSPORT_KIND_DATA, "assign-1"),
      welcome = relay_find(&r, TRANSPORT_KIND_WELCOME, "");
  transport_close(worker);

  /* a restarted worker, same id, bound to the same master: the old frame is below its WELCOME */
  snprintf(url, sizeof url, "%s", url2);
  worker = open_side(&loop, TRANSPORT_CONNECT, key_a, "w1", &w2);
  setup();
  pump_until_bound(&loop, &r, worker);
  replay(&loop, &r, r.wside, assign, worker, TRANSPORT_DROP_REPLAY);
  ck_assert_int_eq(w2.count, 0);
  transport_close(worker);

  /* a worker the master never answers (the master is gone): the old WELCOME names another session,
   * so it never binds, and the old frame is dropped */
  transport_close(master);
  snprintf(url, sizeof url, "%s", url2);
  worker = open_side(&loop, TRANSPORT_CONNECT, key_a, "w1", &w3);
  setup();
  pump(&loop, &r, 100, NULL, 0);
  nn_send(r.wside, r.cap[welcome], r.caplen[welcome], NN_DONTWAIT);
  replay(&loop, &r, r.wside, assign, worker, TRANSPORT_DROP_SESSION);
  ck_assert(!transport_bound(worker));
  ck_assert_int_eq(w3.count, 0);
  transport_close(worker);
  relay_close(&r);
  uv_run(&loop, UV_RUN_DEFAULT);
  ck_assert_int_eq(uv_loop_close(&loop), 0);
}
END_TEST

START_TEST(replay_to_restarted_master) {
  uv_loop_t loop;
  inbox m1 = {0}, m2 = {0}, w = {0};
  relay r;
  uv_loop_init(&loop);
  transport *master = open_side(&loop, TRANSPORT_BIND, key_a, "master", &m1);
  relay_open(&r);
  snprintf(url, sizeof url, "%s", url2);
  transport *worker = open_side(&loop, TRANSPORT_CONNECT, key_a, "w1", &w);
  setup();
  pump_until_bound(&loop, &r, worker);
  ck_assert_int_eq(transport_send(worker, (const uint8_t *)"stats-1", 7), 0);
  pump(&loop, &r, 2000, &m1.count, 1);
  ck_assert_int_eq(m1.count, 1);
  int stats = relay_find(&r, TRANSPORT_KIND_DATA, "stats-1"),
      hello = relay_find(&r, TRANSPORT_KIND_HELLO, "");
  transport_close(master);
  uv_run(&loop, UV_RUN_NOWAIT);

  /* a new master on the same address: the captured frames name the old session */
  master = open_side(&loop, TRANSPORT_BIND, key_a, "master", &m2);
  replay(&loop, &r, r.mside, stats, master, TRANSPORT_DROP_SESSION);
  nn_send(r.mside, r.cap[hello], r.caplen[hello], NN_DONTWAIT); /* answered, never delivered */
  pump(&loop, &r, 100, NULL, 0);
  ck_assert_int_eq(m2.count, 0);

  /* the live worker follows the new session once it hears the new master */
  for (int i = 0; i < 100 && m2.count == 0; i++) {
    transport_send(master, (const uint8_t *)"heartbeat", 9);
    transport_send(worker, (const uint8_t *)"stats-2", 7);
    pump(&loop, &r, 20, &m2.count, 1);
  }
  ck_assert_int_ge(m2.count, 1);
  ck_assert_str_eq(m2.last_body, "stats-2");
  transport_close(worker);
  transport_close(master);
  relay_close(&r);
  uv_run(&loop, UV_RUN_DEFAULT);
  ck_assert_int_eq(uv_loop_close(&loop), 0);
}
END_TEST

START_TEST(keys_parse_and_generate) {
  uint8_t k[TRANSPORT_KEY_LEN], k2[TRANSPORT_KEY_LEN];
  char path[128], err[256];
  struct stat st;
  bool have = false;
  ck_assert_int_eq(
      transport_key_parse(" 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n", k), 0);
  ck_assert_int_eq(k[31], 0x1f);
  ck_assert_int_eq(transport_key_parse("0011", k), -EINVAL);
  ck_assert_int_eq(transport_key_parse("zz0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f", k),
                   -EINVAL);
  snprintf(path, sizeof path, "/tmp/loadctl-test-key-%d", (int)getpid());
  unlink(path);
  ck_assert_int_eq(transport_key_generate(path, err, sizeof err), 0);
  ck_assert_int_eq(stat(path, &st), 0);
  ck_assert_int_eq(st.st_mode & 0777, 0600);
  ck_assert_int_eq(transport_key_generate(path, err, sizeof err), -EEXIST);
  ck_assert_int_eq(transport_key_load(path, k, &have, err, sizeof err), 0);
  ck_assert(have);
  ck_assert_int_eq(transport_key_load(path, k2, &have, err, sizeof err), 0);
  ck_assert_int_eq(memcmp(k, k2, sizeof k), 0);
  unlink(path);
  ck_assert_int_eq(transport_key_load(path, k, &have, err, sizeof err), -ENOENT);
  ck_assert(!have);
}
END_TEST

int main(void) {
  const TTest *tests[] = {sealed_round_trip,      wrong_key_rejected,     replay_corrupt_truncated_dropped,
                          oversize_frame_dropped, replay_to_new_worker,   replay_to_restarted_master,
                          keyless_bind_rules,     keys_parse_and_generate};
  TCase *tc = check_case("transport", 60, tests, sizeof tests / sizeof tests[0]);
  tcase_add_checked_fixture(tc, setup, NULL);
  return check_run(check_suite_of("transport", tc));
}
