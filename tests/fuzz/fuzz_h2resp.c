/* fuzz_h2resp.c - libFuzzer harness (LOADCTL_FUZZ=ON) for the h2 backend's frame input (worker/http_h2.c,
 * h2sess.c: the nghttp2 client session and its callbacks, h2c with prior knowledge): a hostile server on
 * 127.0.0.1 (port 0, this process's own uv loop) answers the client's preface and request with the fuzzed
 * bytes (server frames) and closes its side. A fresh backend per input, so no session outlives its input.
 * Byte 0 picks GET or HEAD and the body kept; the rest is the answer. Invariants: the done callback runs
 * exactly once and never asks for an HTTP/1.1 fallback (h2c); a success has a status 100..999 and at most
 * max_body body bytes; a failure has status 0 and a message; the backend closes and the loop comes back
 * within 5 s. Seeds: corpus/h2resp/ (frames built by hand, HPACK static-table statuses). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "common/clock.h"
#include "worker/http_h2.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct peer {
  uv_tcp_t tcp;
  uv_write_t wreq;
  uv_shutdown_t sreq;
  int answered;
  char *copy;
} peer;

static uv_loop_t loop;
static uv_tcp_t server;
static char url[64];
static const uint8_t *answer;
static size_t answer_len;
static int peers_open, ndone, closed;
static size_t max_body;

static void peer_closed(uv_handle_t *h) {
  peer *p = h->data;
  free(p->copy);
  free(p);
  peers_open--;
}

static void peer_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *b) {
  (void)h;
  b->base = malloc(suggested);
  b->len = b->base ? suggested : 0;
}

static void peer_shut(uv_shutdown_t *r, int status) {
  (void)r;
  (void)status; /* the client closes; the read side then sees EOF and closes the peer */
}

static void peer_written(uv_write_t *w, int status) {
  peer *p = w->data;
  if (status == 0) uv_shutdown(&p->sreq, (uv_stream_t *)&p->tcp, peer_shut);
}

static void peer_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b) {
  peer *p = s->data;
  if (n > 0 && !p->answered) { /* the request arrived: answer with the input, then FIN */
    p->answered = 1;
    p->copy = malloc(answer_len ? answer_len : 1);
    if (p->copy) {
      if (answer_len) memcpy(p->copy, answer, answer_len);
      uv_buf_t out = uv_buf_init(p->copy, (unsigned)answer_len);
      p->wreq.data = p;
      if (uv_write(&p->wreq, s, &out, 1, peer_written) < 0) uv_close((uv_handle_t *)s, peer_closed);
    }
  } else if (n < 0 && !uv_is_closing((uv_handle_t *)s)) {
    uv_close((uv_handle_t *)s, peer_closed);
  }
  free(b->base);
}

static void on_peer(uv_stream_t *srv, int status) {
  peer *p;
  if (status < 0 || !(p = calloc(1, sizeof *p))) return;
  uv_tcp_init(&loop, &p->tcp);
  p->tcp.data = p;
  peers_open++;
  if (uv_accept(srv, (uv_stream_t *)&p->tcp) < 0 ||
      uv_read_start((uv_stream_t *)&p->tcp, peer_alloc, peer_read) < 0)
    uv_close((uv_handle_t *)&p->tcp, peer_closed);
}

static void setup(void) {
  struct sockaddr_in a;
  struct sockaddr_storage bound;
  int len = sizeof bound;
  uv_loop_init(&loop);
  uv_ip4_addr("127.0.0.1", 0, &a);
  uv_tcp_init(&loop, &server);
  if (uv_tcp_bind(&server, (const struct sockaddr *)&a, 0) < 0 ||
      uv_listen((uv_stream_t *)&server, 16, on_peer) < 0 ||
      uv_tcp_getsockname(&server, (struct sockaddr *)&bound, &len) < 0) {
    fprintf(stderr, "fuzz_h2resp: cannot listen on 127.0.0.1\n");
    abort();
  }
  snprintf(url, sizeof url, "http://127.0.0.1:%d/fuzz", ntohs(((struct sockaddr_in *)&bound)->sin_port));
}

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
  if (!ready) setup(), ready = 1;
  if (size < 1) return 0;
  answer = data + 1;
  answer_len = size - 1;
  max_body = (data[0] >> 1) & 1 ? 64 : 0;
  http_request req = {.method = data[0] & 1 ? "HEAD" : "GET",
                      .url = url,
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
  while ((peers_open > 0 || !closed) && clock_mono_ns() < deadline) uv_run(&loop, UV_RUN_ONCE);
  uv_run(&loop, UV_RUN_NOWAIT);
  if (ndone != 1 || peers_open != 0 || !closed) {
    fprintf(stderr, "fuzz_h2resp: done called %d times, %d server sides still open, backend closed %d\n",
            ndone, peers_open, closed);
    abort();
  }
  return 0;
}
