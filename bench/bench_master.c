/* bench_master.c - the master against many simulated workers in one process: the real master loop on a
 * real tcp://127.0.0.1 nanomsg socket, and N workers simulated on one libuv loop that speak the real
 * protocol (nanomsg's SP-over-TCP framing, sealed frames, msgpack) and each send one stats interval with
 * 20 request names every second. Prints the master's CPU % and the decode + merge time per message.
 * --web 1: the master also serves its live page (--web) and one page follows it the way the browser does
 * (GET /, /api/run, /api/chart, then the /api/events stream), simulated on the workers' loop.
 * --phases 0: the intervals carry no timing phases (as before they were measured).
 *   bench_master [--workers 1000] [--seconds 15] [--names 20] [--web 1] [--phases 1] */
#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#include "common/clock.h"
#include "common/log.h"
#include "common/msg.h"
#include "common/transport.h"
#include "master/master.h"

#define SP_BUS 112 /* NN_BUS: protocol 7 * 16 */

typedef struct bench bench;

typedef struct sim {
  uv_tcp_t tcp;
  uv_connect_t conn;
  bench *b;
  int idx;
  char id[16];
  uint8_t *rbuf;
  size_t rlen, rcap;
  int hdr_ok, connected, bound, assigned, running, finished;
  uint8_t sess[TRANSPORT_SESS_LEN], msess[TRANSPORT_SESS_LEN]; /* ours; the master's once WELCOMEd */
  int64_t start_ms, last_hello_ns;
  int next;
  uint64_t tseq, mseq;
} sim;

typedef struct tmpl {
  uint8_t *body;
  size_t len, id_at;
} tmpl;

struct bench {
  uv_loop_t loop;
  uv_timer_t timer;
  sim *sims;
  int n, names, seconds, port, phases;
  uint8_t key[TRANSPORT_KEY_LEN];
  char run_id[MSG_ID_MAX];
  tmpl *tmpls; /* one stats body per interval, worker id patched per sim */
  atomic_int master_done;
  int64_t window_start_ns, window_end_ns;
  double cpu_proc_start, cpu_sim_start, cpu_master_start, cpu_proc_end, cpu_sim_end, cpu_master_end;
  pthread_t master_tid;
  int64_t sent_stats, frames_in, frames_bad, assigns_seen, readies;
  int web_port;  /* --web: the master's live page port, 0 = off */
  uv_tcp_t page; /* the simulated page's event stream */
  uv_connect_t page_conn;
  int page_started;
  int64_t page_bytes, page_events; /* stream bytes and "event: interval" frames read */
  char page_tail[32];              /* the last bytes read, to find frames split over reads */
};

typedef struct wreq {
  uv_write_t req;
  uint8_t hdr[8];
  uint8_t *frame;
} wreq;

static double thread_cpu_s(clockid_t id) {
  struct timespec ts;
  clock_gettime(id, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double proc_cpu_s(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
         (double)ru.ru_stime.tv_usec / 1e6;
}

static double master_cpu_s(bench *b) {
  clockid_t id;
  return pthread_getcpuclockid(b->master_tid, &id) == 0 ? thread_cpu_s(id) : 0;
}

static void on_written(uv_write_t *req, int status) {
  wreq *w = (wreq *)req;
  (void)status;
  free(w->frame);
  free(w);
}

/* Seal body (a frame of kind) from sim s and write it with SP's 8-byte length prefix. */
static void sim_send_kind(sim *s, int kind, const uint8_t *body, size_t len) {
  wreq *w = calloc(1, sizeof *w);
  size_t flen = 0;
  transport_meta meta = {.seq = ++s->tseq, .kind = kind};
  memcpy(meta.sess, s->sess, sizeof meta.sess);
  if (kind == TRANSPORT_KIND_DATA) memcpy(meta.peer_sess, s->msess, sizeof meta.peer_sess);
  if (!w || transport_frame_seal(s->b->key, s->id, &meta, body, len, &w->frame, &flen) < 0) {
    free(w);
    return;
  }
  for (int i = 0; i < 8; i++) w->hdr[i] = (uint8_t)((uint64_t)flen >> (56 - 8 * i));
  uv_buf_t bufs[2] = {uv_buf_init((char *)w->hdr, 8), uv_buf_init((char *)w->frame, (unsigned)flen)};
  if (uv_write(&w->req, (uv_stream_t *)&s->tcp, bufs, 2, on_written) < 0) {
    free(w->frame);
    free(w);
  }
}

static void sim_send(sim *s, const uint8_t *body, size_t len) {
  sim_send_kind(s, TRANSPORT_KIND_DATA, body, len);
}

static void sim_send_msg(sim *s, msg *m) {
  uint8_t *buf = NULL;
  size_t len = 0;
  snprintf(m->worker_id, sizeof m->worker_id, "%s", s->id);
  snprintf(m->run_id, sizeof m->run_id, "%s", s->b->run_id);
  m->seq = ++s->mseq;
  if (msg_encode(m, &buf, &len) == 0) sim_send(s, buf, len);
  free(buf);
}

/* The transport's HELLO until the master WELCOMEs us, then the protocol's hello. */
static void sim_hello(sim *s) {
  msg m;
  if (!s->bound) {
    sim_send_kind(s, TRANSPORT_KIND_HELLO, NULL, 0);
    s->last_hello_ns = clock_mono_ns();
    return;
  }
  msg_init(&m, MSG_HELLO);
  snprintf(m.u.hello.hostname, sizeof m.u.hello.hostname, "bench");
  snprintf(m.u.hello.version, sizeof m.u.hello.version, "%s", LOADCTL_VERSION);
  m.u.hello.cores = 1;
  m.u.hello.threads = 1;
  sim_send_msg(s, &m);
  s->last_hello_ns = clock_mono_ns();
}

/* The stats body of interval k (built once, for "sim-0000"; the id is patched per sim). */
static tmpl *stats_template(bench *b, int k, int64_t start_ms) {
  tmpl *t = &b->tmpls[k];
  stats_interval *iv;
  msg m;

  if (t->body) return t;
  stats_create(&iv, start_ms + (int64_t)k * 1000, 1000);
  for (int n = 0; n < b->names; n++) {
    char name[64];
    snprintf(name, sizeof name, "GET /api/item/%02d", n);
    stats_entry *e = stats_entry_get(iv, name, "GET");
    for (int i = 0; i < 50; i++) {
      stats_entry_record(e, 800 + n * 100 + i * 37 + k * 11, 700 + i * 29);
      if (b->phases) { /* k6's six phases, as an HTTP worker sends them (1 in 25 on a new connection) */
        int fresh = i % 25 == 0;
        const int64_t us[STATS_PHASE_COUNT] = {i % 10 ? 0 : i * 3,
                                               fresh ? 60 + i : 0,
                                               fresh ? 1500 + i * 7 : 0,
                                               i % 7,
                                               600 + n * 100 + i * 31 + k * 11,
                                               5 + i % 13};
        stats_entry_phases(e, us);
      }
    }
  }
  iv->users = 1;
  msg_init(&m, MSG_STATS);
  m.u.stats = iv;
  snprintf(m.worker_id, sizeof m.worker_id, "sim-0000");
  snprintf(m.run_id, sizeof m.run_id, "%s", b->run_id);
  m.seq = (uint64_t)k + 100;
  msg_encode(&m, &t->body, &t->len);
  stats_destroy(iv);
  uint8_t *at = memmem(t->body, t->len, "\xa8sim-0000", 9);
  t->id_at = at ? (size_t)(at - t->body) + 1 : 0;
  return t;
}

static void sim_stats(sim *s) {
  tmpl *t = stats_template(s->b, s->next, s->start_ms);
  uint8_t *copy = malloc(t->len);
  memcpy(copy, t->body, t->len);
  if (t->id_at) memcpy(copy + t->id_at, s->id, 8);
  sim_send(s, copy, t->len);
  free(copy);
  s->b->sent_stats++;
  s->next++;
}

static void sim_on_msg(sim *s, msg *m) {
  msg r;
  switch (m->type) {
    case MSG_ASSIGN:
      snprintf(s->b->run_id, sizeof s->b->run_id, "%s", m->run_id);
      s->b->assigns_seen++;
      if (!s->assigned) {
        s->b->readies++;
        s->assigned = 1;
        msg_init(&r, MSG_READY);
        sim_send_msg(s, &r);
      }
      break;
    case MSG_START:
      if (!s->running) {
        s->running = 1;
        s->start_ms = m->u.start_wall_ns / 1000000;
      }
      break;
    case MSG_HEARTBEAT:
      msg_init(&r, MSG_HEARTBEAT);
      r.u.heartbeat.echo_wall_ns = m->u.heartbeat.sent_wall_ns;
      r.u.heartbeat.recv_wall_ns = clock_wall_ns();
      r.u.heartbeat.sent_wall_ns = clock_wall_ns();
      sim_send_msg(s, &r);
      break;
    default:
      break;
  }
}

static void sim_frame(sim *s, const uint8_t *f, size_t len) {
  char peer[TRANSPORT_ID_MAX + 1], err[128];
  const uint8_t *body;
  size_t blen;
  uint8_t *plain = NULL;
  transport_meta meta;
  msg m;

  s->b->frames_in++;
  if (transport_frame_open(s->b->key, f, len, peer, &meta, &body, &blen, &plain) < 0) {
    s->b->frames_bad++;
    goto out;
  }
  if (meta.kind == TRANSPORT_KIND_WELCOME) {
    if (!s->bound && !memcmp(meta.peer_sess, s->sess, sizeof s->sess)) {
      s->bound = 1;
      memcpy(s->msess, meta.sess, sizeof s->msess);
      sim_hello(s);
    }
    goto out;
  }
  /* frames addressed to other workers: skip without decoding (a real agent decodes and drops them) */
  if (!memmem(body, blen, s->id, 8) && !memmem(body, blen, "\xa1w\xa0", 3)) goto out;
  if (msg_decode(body, blen, &m, err, sizeof err) < 0) goto out;
  if (!m.worker_id[0] || !strcmp(m.worker_id, s->id)) sim_on_msg(s, &m);
  msg_free(&m);
out:
  free(plain);
}

static void sim_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf) {
  sim *s = h->data;
  (void)hint;
  if (s->rcap - s->rlen < 65536) {
    s->rcap = s->rcap ? s->rcap * 2 : 131072;
    s->rbuf = realloc(s->rbuf, s->rcap);
  }
  *buf = uv_buf_init((char *)s->rbuf + s->rlen, (unsigned)(s->rcap - s->rlen));
}

static void sim_read(uv_stream_t *st, ssize_t n, const uv_buf_t *buf) {
  sim *s = st->data;
  size_t off = 0;
  (void)buf;
  if (n <= 0) return;
  s->rlen += (size_t)n;
  if (!s->hdr_ok && s->rlen >= 8) s->hdr_ok = 1, off = 8;
  while (s->hdr_ok && s->rlen - off >= 8) {
    uint64_t flen = 0;
    for (int i = 0; i < 8; i++) flen = (flen << 8) | s->rbuf[off + i];
    if (s->rlen - off - 8 < flen) break;
    sim_frame(s, s->rbuf + off + 8, (size_t)flen);
    off += 8 + (size_t)flen;
  }
  memmove(s->rbuf, s->rbuf + off, s->rlen - off);
  s->rlen -= off;
}

static void free_write(uv_write_t *w, int status) {
  (void)status;
  free(w);
}

static void sim_connected(uv_connect_t *c, int status) {
  sim *s = c->data;
  static uint8_t hdr[8] = {0, 'S', 'P', 0, SP_BUS >> 8, SP_BUS & 0xff, 0, 0};
  uv_write_t *w = calloc(1, sizeof *w);
  uv_buf_t b = uv_buf_init((char *)hdr, 8);
  if (status < 0) {
    fprintf(stderr, "bench: sim %d cannot connect: %s\n", s->idx, uv_strerror(status));
    free(w);
    return;
  }
  s->connected = 1;
  uv_write(w, (uv_stream_t *)&s->tcp, &b, 1, free_write);
  uv_read_start((uv_stream_t *)&s->tcp, sim_alloc, sim_read);
  sim_hello(s);
}

/* ---- --web: one page following the live stream ---- */

static void page_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf) {
  (void)h;
  buf->base = malloc(suggested);
  buf->len = buf->base ? suggested : 0;
}

/* Count "event: interval" frames, also when one is split over two reads (page_tail keeps the last bytes). */
static void page_read(uv_stream_t *st, ssize_t n, const uv_buf_t *buf) {
  bench *b = st->data;
  static const char key[] = "event: interval";
  size_t tail = strlen(b->page_tail);
  char *joined;

  if (n > 0 && (joined = malloc(tail + (size_t)n + 1))) {
    memcpy(joined, b->page_tail, tail);
    memcpy(joined + tail, buf->base, (size_t)n);
    joined[tail + (size_t)n] = 0;
    /* the tail is shorter than the key: every match ends in the new bytes and is counted once */
    for (char *p = joined; (p = strstr(p, key)); p += sizeof key - 1) b->page_events++;
    snprintf(b->page_tail, sizeof b->page_tail, "%s",
             joined + (tail + (size_t)n > sizeof key - 2 ? tail + (size_t)n - (sizeof key - 2) : 0));
    b->page_bytes += n;
    free(joined);
  }
  free(buf->base);
}

/* One blocking GET of path, body discarded (the page's first requests). */
static void page_get(int port, const char *path) {
  char buf[65536];
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a;
  int n = snprintf(buf, sizeof buf, "GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n\r\n", path, port);

  uv_ip4_addr("127.0.0.1", port, &a);
  if (fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof a) == 0 && write(fd, buf, (size_t)n) == n)
    while (read(fd, buf, sizeof buf) > 0) {
    }
  if (fd >= 0) close(fd);
}

static void page_connected(uv_connect_t *c, int status) {
  bench *b = c->data;
  static char req[128];
  uv_write_t *w;
  uv_buf_t buf;

  if (status < 0 || !(w = calloc(1, sizeof *w))) {
    fprintf(stderr, "bench: the page cannot connect: %s\n", uv_strerror(status));
    return;
  }
  buf = uv_buf_init(
      req, (unsigned)snprintf(req, sizeof req, "GET /api/events HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n\r\n",
                              b->web_port));
  uv_write(w, (uv_stream_t *)&b->page, &buf, 1, free_write);
  uv_read_start((uv_stream_t *)&b->page, page_alloc, page_read);
}

static void page_open(bench *b) {
  struct sockaddr_in a;
  b->page_started = 1;
  page_get(b->web_port, "/");
  page_get(b->web_port, "/api/run");
  page_get(b->web_port, "/api/chart");
  uv_tcp_init(&b->loop, &b->page);
  b->page.data = b->page_conn.data = b;
  uv_ip4_addr("127.0.0.1", b->web_port, &a);
  uv_tcp_connect(&b->page_conn, &b->page, (const struct sockaddr *)&a, page_connected);
}

/* A free port on 127.0.0.1 for the master's --web. */
static int free_port(void) {
  struct sockaddr_in a;
  socklen_t len = sizeof a;
  int fd = socket(AF_INET, SOCK_STREAM, 0), port = 0;

  uv_ip4_addr("127.0.0.1", 0, &a);
  if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
      getsockname(fd, (struct sockaddr *)&a, &len) == 0)
    port = ntohs(a.sin_port);
  if (fd >= 0) close(fd);
  return port;
}

static void on_timer(uv_timer_t *t) {
  bench *b = t->data;
  int64_t now_ms = clock_wall_ns() / 1000000, now = clock_mono_ns();
  int running = 0;

  if (b->web_port && !b->page_started && b->readies > 0) page_open(b);
  for (int i = 0; i < b->n; i++) {
    sim *s = &b->sims[i];
    if (s->connected && !s->assigned && now - s->last_hello_ns > 1000000000LL) sim_hello(s);
    if (!s->running || s->finished) continue;
    running++;
    if (b->window_start_ns == 0) {
      b->window_start_ns = now;
      b->cpu_proc_start = proc_cpu_s();
      b->cpu_sim_start = thread_cpu_s(CLOCK_THREAD_CPUTIME_ID);
      b->cpu_master_start = master_cpu_s(b);
    }
    while (s->next < b->seconds && now_ms >= s->start_ms + (int64_t)(s->next + 1) * 1000) sim_stats(s);
    if (s->next >= b->seconds) {
      msg q;
      msg_init(&q, MSG_QUIT);
      sim_send_msg(s, &q);
      s->finished = 1;
    }
  }
  if (b->window_start_ns && !b->window_end_ns && running == 0) {
    b->window_end_ns = now;
    b->cpu_proc_end = proc_cpu_s();
    b->cpu_sim_end = thread_cpu_s(CLOCK_THREAD_CPUTIME_ID);
    b->cpu_master_end = master_cpu_s(b);
  }
  if (atomic_load(&b->master_done)) uv_stop(&b->loop);
}

typedef struct master_arg {
  bench *b;
  master_config mc;
  options opt;
  master_counters counters;
  int rc;
} master_arg;

static void *master_main(void *p) {
  master_arg *a = p;
  a->rc = master_run(&a->mc);
  atomic_store(&a->b->master_done, 1);
  return NULL;
}

int main(int argc, char **argv) {
  bench b = {.n = 1000, .names = 20, .seconds = 15, .phases = 1};
  master_arg ma;
  char url[64], out[128], web[32];
  const char *src = "-- bench scenario";

  for (int i = 1; i + 1 < argc; i += 2) {
    int v = (int)strtol(argv[i + 1], NULL, 10);
    if (v <= 0) continue;
    if (!strcmp(argv[i], "--workers"))
      b.n = v;
    else if (!strcmp(argv[i], "--seconds"))
      b.seconds = v;
    else if (!strcmp(argv[i], "--names"))
      b.names = v;
    else if (!strcmp(argv[i], "--phases"))
      b.phases = v;
    else if (!strcmp(argv[i], "--web"))
      b.web_port = free_port();
  }
  if (!getenv("LOADCTL_LOG")) log_threshold = LOG_WARN;
  b.port = 20000 + (int)(getpid() % 20000);
  snprintf(url, sizeof url, "tcp://127.0.0.1:%d", b.port);
  snprintf(out, sizeof out, "/tmp/loadctl-bench-master-%d", (int)getpid());
  transport_key_random(b.key);
  b.sims = calloc((size_t)b.n, sizeof *b.sims);
  b.tmpls = calloc((size_t)b.seconds + 1, sizeof *b.tmpls);
  memset(&ma, 0, sizeof ma);
  ma.b = &b;
  snprintf(ma.opt.name, sizeof ma.opt.name, "bench");
  ma.opt.model = OPTIONS_CLOSED;
  ma.opt.users = b.n;
  ma.opt.duration_ns = (int64_t)b.seconds * 1000000000LL;
  ma.opt.interval_ns = 1000000000LL;
  ma.mc = (master_config){.scenario_path = "bench.lua",
                          .script_name = "bench.lua",
                          .script_source = src,
                          .script_len = strlen(src),
                          .opt = &ma.opt,
                          .listen = url,
                          .key = b.key,
                          .expect_workers = b.n,
                          .expect_timeout_ns = 120000000000LL,
                          .out_dir = out,
                          .quiet = true,
                          .counters = &ma.counters};
  snprintf(web, sizeof web, "127.0.0.1:%d", b.web_port);
  if (b.web_port) ma.mc.web_listen = web;
  atomic_init(&b.master_done, 0);
  pthread_create(&b.master_tid, NULL, master_main, &ma);
  usleep(300000);
  uv_loop_init(&b.loop);
  for (int i = 0; i < b.n; i++) {
    sim *s = &b.sims[i];
    struct sockaddr_in addr;
    s->b = &b;
    s->idx = i;
    snprintf(s->id, sizeof s->id, "sim-%04d", i);
    {
      uint8_t rnd[TRANSPORT_KEY_LEN];
      transport_key_random(rnd);
      memcpy(s->sess, rnd, sizeof s->sess);
    }
    uv_tcp_init(&b.loop, &s->tcp);
    s->tcp.data = s;
    s->conn.data = s;
    uv_ip4_addr("127.0.0.1", b.port, &addr);
    uv_tcp_connect(&s->conn, &s->tcp, (const struct sockaddr *)&addr, sim_connected);
  }
  uv_timer_init(&b.loop, &b.timer);
  b.timer.data = &b;
  uv_timer_start(&b.timer, on_timer, 20, 20);
  uv_run(&b.loop, UV_RUN_DEFAULT);
  pthread_join(b.master_tid, NULL);

  double wall = (double)(b.window_end_ns - b.window_start_ns) / 1e9;
  double proc = b.cpu_proc_end - b.cpu_proc_start, simc = b.cpu_sim_end - b.cpu_sim_start;
  double mthread = b.cpu_master_end - b.cpu_master_start;
  master_counters *c = &ma.counters;
  printf(
      "bench_master: %d simulated workers x %d names, %d s of 1 s intervals over tcp://127.0.0.1 (sealed)\n",
      b.n, b.names, b.seconds);
  printf("  frames in %lld (bad %lld), assigns %lld, ready %lld\n", (long long)b.frames_in,
         (long long)b.frames_bad, (long long)b.assigns_seen, (long long)b.readies);
  printf("  stats messages sent %lld, merged by the master %lld, intervals emitted %lld, exit code %d\n",
         (long long)b.sent_stats, (long long)c->stats_msgs, (long long)c->intervals, ma.rc);
  if (wall > 0) {
    printf(
        "  master CPU over the %.1f s run: loop thread %.1f %% of one core; whole master (loop + nanomsg I/O "
        "threads) %.1f %%\n",
        wall, 100.0 * mthread / wall, 100.0 * (proc - simc) / wall);
  }
  if (b.web_port)
    printf("  live page open (--web): %lld interval events, %.1f KB read by the page\n",
           (long long)b.page_events, (double)b.page_bytes / 1024.0);
  if (c->stats_msgs) {
    printf("  per stats message: decode %.1f us + merge %.1f us (mean), slowest %.1f us\n",
           (double)c->decode_ns / 1e3 / (double)c->stats_msgs,
           (double)c->merge_ns / 1e3 / (double)c->stats_msgs, (double)c->merge_max_ns / 1e3);
    printf("  per 1 s interval of all workers: %.1f ms of decode + merge\n",
           (double)(c->decode_ns + c->merge_ns) / 1e6 / (double)b.seconds);
  }
  for (int i = 0; i <= b.seconds; i++) free(b.tmpls[i].body);
  if (b.web_port && b.page_events < b.seconds - 1) return 1; /* the page must have seen the run */
  return c->stats_msgs == (int64_t)b.n * b.seconds ? 0 : 1;
}
