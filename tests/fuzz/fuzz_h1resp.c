/* fuzz_h1resp.c - libFuzzer harness (LOADCTL_FUZZ=ON) for the h1 backend's response path (worker/http_h1.c,
 * http-parser callbacks, keep-alive/close decision, Set-Cookie into the jar): a hostile server on
 * 127.0.0.1 (port 0, this process's own uv loop) answers the backend's request with the fuzzed bytes and
 * closes its side. Byte 0 picks GET or HEAD and the body kept; the rest is the answer. Invariants: the done
 * callback runs exactly once; a success has a status 100..999, at most max_body body bytes and header
 * lines that end in CRLF; a failure has status 0 and a message; the loop comes back within 5 s.
 * Seeds: corpus/h1resp/. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "common/clock.h"
#include "tests/fuzz/fuzzpeer.h"
#include "worker/http_h1.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uv_loop_t loop;
static http_h1 *backend;
static char url[64];
static int ndone;
static size_t max_body;

static void setup(void) {
  uv_loop_init(&loop);
  if (fuzzpeer_listen(&loop, url, sizeof url) < 0 || http_h1_create(&loop, NULL, &backend) < 0) {
    fprintf(stderr, "fuzz_h1resp: cannot listen on 127.0.0.1\n");
    abort();
  }
}

static void on_done(void *ud, const http_response *res) {
  (void)ud;
  ndone++;
  if (res->error) {
    if (res->status != 0 || !res->error_message[0]) abort();
    return;
  }
  if (res->status < 100 || res->status > 999 || res->body_len > max_body) abort();
  if (res->headers_len &&
      (res->headers_len < 2 || memcmp(res->headers_raw + res->headers_len - 2, "\r\n", 2)))
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static int ready;
  http_h1_conn *c;
  if (!ready) setup(), ready = 1;
  if (size < 1) return 0;
  fuzzpeer_answer(data + 1, size - 1);
  max_body = (data[0] >> 1) & 1 ? 64 : 0;
  http_request req = {.method = data[0] & 1 ? "HEAD" : "GET",
                      .url = url,
                      .timeout_ms = 4000,
                      .connect_timeout_ms = 4000,
                      .max_body = max_body};
  ndone = 0;
  if (http_h1_conn_create(backend, &c) < 0 || http_h1_conn_send(c, &req, on_done, NULL) < 0) abort();
  int64_t deadline = clock_mono_ns() + 5000000000LL;
  while (!ndone && clock_mono_ns() < deadline) uv_run(&loop, UV_RUN_ONCE);
  http_h1_conn_release(c);
  while (fuzzpeer_open() > 0 && clock_mono_ns() < deadline) uv_run(&loop, UV_RUN_ONCE);
  uv_run(&loop, UV_RUN_NOWAIT);
  if (ndone != 1 || fuzzpeer_open() != 0) {
    fprintf(stderr, "fuzz_h1resp: done called %d times, %d server sides still open\n", ndone,
            fuzzpeer_open());
    abort();
  }
  return 0;
}
