/* bench_http.c - closed-loop throughput of worker/http alone (no Lua, no stats): N conns on one uv loop
 * each sending the next GET from its done callback, for h1 vs curl vs wrk comparisons.
 * Usage: bench_http --url http://127.0.0.1:8080/ [--conns 50] [--duration-s 5] [--backend h1|curl] [--trace
 * 1]
 * --trace 1 adds a traceparent header with a new value on every request (as the engine sends). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "common/clock.h"
#include "common/hist.h"
#include "worker/http.h"

typedef struct bench {
  http_request req;
  http_header trace;
  char traceparent[64];
  int with_trace;
  long long done, errors, non2xx;
  int stopping, closed;
  hist *latency; /* us, send -> done */
} bench;

static void on_done(http_conn *conn, const http_response *res, void *ud) {
  bench *b = ud;
  b->done++;
  hist_record(b->latency, (res->done_ns - res->sent_ns) / 1000);
  if (res->error)
    b->errors++;
  else if (res->status < 200 || res->status > 299)
    b->non2xx++;
  if (b->with_trace) /* same length, new value: what a per-request span id looks like */
    snprintf(b->traceparent, sizeof b->traceparent, "00-%032llx-%016llx-01", (unsigned long long)b->done,
             (unsigned long long)b->done * 7919);
  if (!b->stopping && http_conn_send(conn, &b->req, on_done, b) != 0) b->errors++;
}

static void on_stop(uv_timer_t *t) {
  ((bench *)t->data)->stopping = 1;
  uv_stop(t->loop);
}

static void on_closed(void *ud) {
  ((bench *)ud)->closed = 1;
}

int main(int argc, char **argv) {
  const char *url = "http://127.0.0.1:8080/";
  long conns = 50;
  double duration_s = 5;
  int backend = HTTP_H1, with_trace = 0;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (strcmp(argv[i], "--url") == 0)
      url = argv[i + 1];
    else if (strcmp(argv[i], "--conns") == 0)
      conns = strtol(argv[i + 1], NULL, 10);
    else if (strcmp(argv[i], "--duration-s") == 0)
      duration_s = strtod(argv[i + 1], NULL);
    else if (strcmp(argv[i], "--trace") == 0)
      with_trace = strcmp(argv[i + 1], "1") == 0;
    else if (strcmp(argv[i], "--backend") == 0)
      backend = strcmp(argv[i + 1], "curl") == 0 ? HTTP_CURL : HTTP_H1;
    else {
      fprintf(stderr, "usage: bench_http --url URL [--conns N] [--duration-s S] [--backend h1|curl]\n");
      return 1;
    }
  }
  if (conns < 1 || conns > 100000 || !(duration_s > 0 && duration_s <= 60)) {
    fprintf(stderr, "bench_http: --conns 1..100000, --duration-s 0..60\n");
    return 1;
  }
  uv_loop_t *loop = uv_default_loop();
  bench b = {.req = {.method = "GET", .url = url, .max_body = 0}, .with_trace = with_trace};
  snprintf(b.traceparent, sizeof b.traceparent, "00-%032x-%016x-01", 0, 0);
  b.trace = (http_header){"traceparent", b.traceparent};
  if (with_trace) b.req.headers = &b.trace, b.req.nheaders = 1;
  http_client_options opt = {.backend = backend};
  if (hist_create(&b.latency) < 0) return 2;
  http_client *c;
  if (http_client_create(loop, &opt, &c) < 0) return 2;
  for (long i = 0; i < conns; i++) {
    http_conn *conn;
    if (http_conn_create(c, &conn) < 0 || http_conn_send(conn, &b.req, on_done, &b) < 0) return 2;
  }
  uv_timer_t stop;
  uv_timer_init(loop, &stop);
  stop.data = &b;
  int64_t t0 = clock_mono_ns();
  uv_timer_start(&stop, on_stop, (uint64_t)(duration_s * 1000), 0);
  uv_run(loop, UV_RUN_DEFAULT);
  double secs = (double)(clock_mono_ns() - t0) / 1e9;
  printf(
      "trace=%d backend=%s conns=%ld duration=%.2fs requests=%lld errors=%lld non2xx=%lld rps=%.0f "
      "p50_ms=%.3f "
      "p99_ms=%.3f\n",
      with_trace, backend == HTTP_CURL ? "curl" : "h1", conns, secs, b.done, b.errors, b.non2xx,
      (double)b.done / secs, hist_value_at_percentile(b.latency, 50) / 1000.0,
      hist_value_at_percentile(b.latency, 99) / 1000.0);
  hist_destroy(b.latency);
  uv_close((uv_handle_t *)&stop, NULL);
  http_client_close(c, on_closed, &b);
  uv_run(loop, UV_RUN_DEFAULT);
  return uv_loop_close(loop) == 0 && b.closed ? 0 : 2;
}
