/* fuzz_h1resp.c - libFuzzer harness (LOADCTL_FUZZ=ON) for the h1 backend's response path (worker/http_h1.c,
 * http-parser callbacks, keep-alive/close decision, Set-Cookie into the jar): a hostile server (fuzzpeer.c,
 * this process's own uv loop) answers the backend's request with the fuzzed bytes and closes its side.
 * Byte 0 picks GET or HEAD and the body kept; the rest is the answer. Invariants: the done callback runs
 * exactly once; a success has a status 100..999, at most max_body body bytes and header lines that end in
 * CRLF; a failure has status 0 and a message; the loop comes back within 5 s.
 * The connection is a socketpair, not loopback TCP: this file defines uv_tcp_connect, which the linker
 * takes in place of libuv's for the whole harness, so http_h1.c's connect opens its handle on one end and
 * the server gets the other (a TCP connect, accept and teardown per input were ~40 % of the CPU). Every
 * read, write and close still goes through libuv's stream code on the backend's own uv_tcp handle.
 * Seeds: corpus/h1resp/. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include "common/clock.h"
#include "tests/fuzz/fuzzpeer.h"
#include "worker/http_h1.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uv_loop_t loop;
static http_h1 *backend;
static int ndone;
static size_t max_body;
static uv_timer_t connected;  /* runs the connect callback on the next loop turn, as libuv would */
static uv_connect_t *pending; /* the connect it is for */

static void on_connected(uv_timer_t *t) {
  uv_connect_t *req = pending;
  (void)t;
  pending = NULL;
  if (req) req->cb(req, uv_is_closing((uv_handle_t *)req->handle) ? UV_ECANCELED : 0);
}

/* Replaces libuv's for this binary: handle gets one end of a socketpair, the hostile server the other;
 * addr is not used (every connection of this harness goes to the server). */
int uv_tcp_connect(uv_connect_t *req, uv_tcp_t *handle, const struct sockaddr *addr, uv_connect_cb cb) {
  int fds[2], rc;
  (void)addr;
  if (pending) abort(); /* the harness makes one connection at a time */
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) < 0) return uv_translate_sys_error(errno);
  rc = uv_tcp_open(handle, fds[0]);
  if (rc < 0) {
    close(fds[0]);
    close(fds[1]);
    return rc;
  }
  if (fuzzpeer_adopt(handle->loop, fds[1]) < 0) abort();
  req->handle = (uv_stream_t *)handle;
  req->cb = cb;
  pending = req;
  return uv_timer_start(&connected, on_connected, 0, 0);
}

static void setup(void) {
  uv_loop_init(&loop);
  uv_timer_init(&loop, &connected);
  if (http_h1_create(&loop, NULL, &backend) < 0) {
    fprintf(stderr, "fuzz_h1resp: cannot create the h1 backend\n");
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
                      .url = "http://127.0.0.1:9/fuzz", /* the port is not used: see uv_tcp_connect */
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
  if (ndone != 1 || pending || fuzzpeer_open() != 0) {
    fprintf(stderr, "fuzz_h1resp: done called %d times, %d server sides still open\n", ndone,
            fuzzpeer_open());
    abort();
  }
  return 0;
}
