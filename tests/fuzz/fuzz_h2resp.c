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
#include "tests/fuzz/fuzzpeer.h"
#include "worker/http_h2.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uv_loop_t loop;
static char url[64];
static int ndone, closed;
static size_t max_body;

static void setup(void) {
  uv_loop_init(&loop);
  if (fuzzpeer_listen(&loop, url, sizeof url) < 0) {
    fprintf(stderr, "fuzz_h2resp: cannot listen on 127.0.0.1\n");
    abort();
  }
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
  fuzzpeer_answer(data + 1, size - 1);
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
  while ((fuzzpeer_open() > 0 || !closed) && clock_mono_ns() < deadline) uv_run(&loop, UV_RUN_ONCE);
  uv_run(&loop, UV_RUN_NOWAIT);
  if (ndone != 1 || fuzzpeer_open() != 0 || !closed) {
    fprintf(stderr, "fuzz_h2resp: done called %d times, %d server sides still open, backend closed %d\n",
            ndone, fuzzpeer_open(), closed);
    abort();
  }
  return 0;
}
