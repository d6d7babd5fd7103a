/* fuzz_h2resp.c - libFuzzer harness (LOADCTL_FUZZ=ON) for the h2 backend's frame input (worker/http_h2.c,
 * h2sess.c: the nghttp2 client session and its callbacks, h2c with prior knowledge). The harness links its
 * own h2io (the byte pipe under a connection, h2io.h) in place of worker/h2io.c: no socket, no server; once
 * the client has written its preface and request, the fuzzed bytes arrive as the server's frames (in one
 * read, or cut into reads of a size the input picks), then the server's FIN ("connection closed by the
 * server", as h2io reports it). A fresh backend per input, so no session outlives its input.
 * Byte 0: bit 0 GET or HEAD, bit 1 the body kept (0 or 64 bytes), bits 2..7 the read size (0: one read);
 * the rest is the answer. Invariants: the done callback runs exactly once and never asks for an HTTP/1.1
 * fallback (h2c); a success has a status 100..999 and at most max_body body bytes; a failure has status 0
 * and a message; the backend closes, every pipe is closed and freed, and the loop comes back within 5 s.
 * Seeds: corpus/h2resp/ (frames built by hand, HPACK static-table statuses). */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "common/clock.h"
#include "common/stats.h"
#include "worker/h2io.h"
#include "worker/http_h2.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* ---- the in-memory h2io: same contract as worker/h2io.c for a plaintext connection ---- */

struct h2io {
  uv_idle_t step; /* callbacks start from the loop */
  h2io_cbs cbs;
  void *ud;
  int open, asked, answered, failed, closed;
};

static const uint8_t *answer;
static size_t answer_len, read_size;
static int pipes_live; /* opened and not yet freed */

static void deliver(h2io *io) {
  size_t off = 0;
  io->answered = 1;
  while (off < answer_len && !io->closed && !io->failed) {
    size_t n = read_size && answer_len - off > read_size ? read_size : answer_len - off;
    io->cbs.read(io->ud, (const char *)answer + off, n);
    off += n;
  }
  if (io->closed || io->failed) return;
  io->failed = 1;
  io->cbs.fail(io->ud, STATS_ERR_RESET, "connection closed by the server");
}

static void on_step(uv_idle_t *t) {
  h2io *io = t->data;
  uv_idle_stop(t);
  if (io->closed || io->failed) return;
  if (!io->open) {
    io->open = 1;
    io->cbs.open(io->ud, "");
  } else if (io->asked && !io->answered) {
    deliver(io);
  }
}

int h2io_open(uv_loop_t *loop, h2io_bufs **bufs, const struct sockaddr *addr, tls_ctx *tls, const char *host,
              int port, const char *alpn, const h2io_cbs *cbs, void *ud, h2io **out) {
  h2io *io;
  (void)bufs, (void)addr, (void)host, (void)port, (void)alpn;
  if (tls) abort(); /* h2c only */
  if (!(io = calloc(1, sizeof *io))) return -ENOMEM;
  io->cbs = *cbs;
  io->ud = ud;
  uv_idle_init(loop, &io->step);
  io->step.data = io;
  uv_idle_start(&io->step, on_step);
  pipes_live++;
  *out = io;
  return 0;
}

int h2io_write(h2io *io, const void *data, size_t len) {
  (void)data;
  if (io->closed || io->failed || !io->open) return UV_ENOTCONN;
  if (len && !io->asked) {
    io->asked = 1;
    uv_idle_start(&io->step, on_step);
  }
  return 0;
}

static void pipe_freed(uv_handle_t *h) {
  free(h->data);
  pipes_live--;
}

void h2io_close(h2io *io) {
  if (!io || io->closed) return;
  io->closed = 1;
  uv_close((uv_handle_t *)&io->step, pipe_freed);
}

int64_t h2io_connect_ns(const h2io *io) {
  (void)io;
  return 0;
}

int64_t h2io_tls_ns(const h2io *io) {
  (void)io;
  return 0;
}

/* ---- the harness ---- */

static uv_loop_t loop;
static int ndone, closed;
static size_t max_body;

static void on_done(void *ud, const http_response *res, int fallback) {
  (void)ud;
  ndone++;
  if (fallback) abort();
  if (res->error) {
    if (res->status != 0 || !res->error_message[0]) abort();
    return;
  }
  if (res->status < 100 || res->status > 999 || res->body_len > max_body) abort();
}

static void on_closed(void *ud) {
  (void)ud;
  closed = 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static int ready;
  http_h2 *backend;
  http_h2_options opt = {.connections = 1};
  http_h2_conn *c;
  if (!ready) uv_loop_init(&loop), ready = 1;
  if (size < 1) return 0;
  answer = data + 1;
  answer_len = size - 1;
  read_size = data[0] >> 2;
  max_body = (data[0] >> 1) & 1 ? 64 : 0;
  http_request req = {.method = data[0] & 1 ? "HEAD" : "GET",
                      .url = "http://127.0.0.1:9/fuzz",
                      .timeout_ms = 4000,
                      .connect_timeout_ms = 4000,
                      .max_body = max_body};
  ndone = closed = 0;
  if (http_h2_create(&loop, &opt, &backend) < 0 || http_h2_conn_create(backend, &c) < 0 ||
      http_h2_conn_send(c, &req, 1, on_done, NULL) < 0)
    abort();
  int64_t deadline = clock_mono_ns() + 5000000000LL;
  while (!ndone && clock_mono_ns() < deadline) uv_run(&loop, UV_RUN_ONCE);
  http_h2_conn_release(c);
  http_h2_close(backend, on_closed, NULL);
  while ((pipes_live > 0 || !closed) && clock_mono_ns() < deadline) uv_run(&loop, UV_RUN_ONCE);
  uv_run(&loop, UV_RUN_NOWAIT);
  if (ndone != 1 || pipes_live != 0 || !closed) {
    fprintf(stderr, "fuzz_h2resp: done called %d times, %d pipes still open, backend closed %d\n", ndone,
            pipes_live, closed);
    abort();
  }
  return 0;
}
