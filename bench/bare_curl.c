/* bare_curl.c - the baseline for issue 4's ratio: a bare libcurl multi_socket + libuv loop (curl's own
 * multi-uv.c pattern, no Lua, no stats, no tuning), N easy handles re-added as soon as they finish.
 * Usage: bare_curl --url http://127.0.0.1:8080/ [--conns 50] [--duration-s 5]
 *    or: bare_curl URL [CONNS [DURATION_S]]        (as bench/run calls it)
 * Prints one line: requests, errors, rps, p50_ms, p99_ms (latency from add_handle to done). */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "common/clock.h"
#include "common/hist.h"

typedef struct ctx {
  uv_poll_t poll;
  curl_socket_t fd;
} ctx;

static uv_loop_t *loop;
static CURLM *multi;
static uv_timer_t timer;
static long long done_count, errors;
static int stopping;
static hist *latency;

static void check_done(void) {
  CURLMsg *m;
  int left;
  while ((m = curl_multi_info_read(multi, &left))) {
    if (m->msg != CURLMSG_DONE) continue;
    CURL *e = m->easy_handle;
    int64_t *started = NULL, now = clock_mono_ns();
    if (m->data.result != CURLE_OK) errors++;
    done_count++;
    curl_easy_getinfo(e, CURLINFO_PRIVATE, (char **)&started);
    hist_record(latency, (now - *started) / 1000);
    curl_multi_remove_handle(multi, e);
    *started = now;
    if (!stopping) curl_multi_add_handle(multi, e);
  }
}

static void on_poll(uv_poll_t *p, int status, int events) {
  ctx *c = p->data;
  int running, flags = 0;
  if (status < 0) flags = CURL_CSELECT_ERR;
  if (events & UV_READABLE) flags |= CURL_CSELECT_IN;
  if (events & UV_WRITABLE) flags |= CURL_CSELECT_OUT;
  curl_multi_socket_action(multi, c->fd, flags, &running);
  check_done();
}

static void on_timeout(uv_timer_t *t) {
  int running;
  (void)t;
  curl_multi_socket_action(multi, CURL_SOCKET_TIMEOUT, 0, &running);
  check_done();
}

static int on_timer_set(CURLM *m, long ms, void *userp) {
  (void)m, (void)userp;
  if (ms < 0)
    uv_timer_stop(&timer);
  else
    uv_timer_start(&timer, on_timeout, (uint64_t)ms, 0);
  return 0;
}

static void ctx_closed(uv_handle_t *h) {
  free(h->data);
}

static int on_socket(CURL *e, curl_socket_t s, int what, void *userp, void *socketp) {
  ctx *c = socketp;
  (void)e, (void)userp;
  if (what == CURL_POLL_REMOVE) {
    if (c) {
      uv_poll_stop(&c->poll);
      uv_close((uv_handle_t *)&c->poll, ctx_closed);
      curl_multi_assign(multi, s, NULL);
    }
    return 0;
  }
  if (!c) {
    c = calloc(1, sizeof *c);
    if (!c) return -1;
    c->fd = s;
    uv_poll_init_socket(loop, &c->poll, s);
    c->poll.data = c;
    curl_multi_assign(multi, s, c);
  }
  int ev = ((what & CURL_POLL_IN) ? UV_READABLE : 0) | ((what & CURL_POLL_OUT) ? UV_WRITABLE : 0);
  uv_poll_start(&c->poll, ev, on_poll);
  return 0;
}

static size_t discard(char *p, size_t size, size_t n, void *ud) {
  (void)p, (void)ud;
  return size * n;
}

static void on_stop(uv_timer_t *t) {
  stopping = 1;
  uv_stop(t->loop);
}

int main(int argc, char **argv) {
  const char *url = "http://127.0.0.1:8080/";
  long conns = 50;
  double duration_s = 5;
  if (argc > 1 && strncmp(argv[1], "--", 2) != 0) {
    url = argv[1];
    if (argc > 2) conns = strtol(argv[2], NULL, 10);
    if (argc > 3) duration_s = strtod(argv[3], NULL);
  }
  for (int i = 1; i + 1 < argc && strncmp(argv[1], "--", 2) == 0; i += 2) {
    if (strcmp(argv[i], "--url") == 0)
      url = argv[i + 1];
    else if (strcmp(argv[i], "--conns") == 0)
      conns = strtol(argv[i + 1], NULL, 10);
    else if (strcmp(argv[i], "--duration-s") == 0)
      duration_s = strtod(argv[i + 1], NULL);
  }
  if (conns < 1 || conns > 10000 || !(duration_s > 0 && duration_s <= 60)) return 1;
  if (hist_create(&latency) < 0) return 2;
  curl_global_init(CURL_GLOBAL_DEFAULT);
  loop = uv_default_loop();
  multi = curl_multi_init();
  curl_multi_setopt(multi, CURLMOPT_SOCKETFUNCTION, on_socket);
  curl_multi_setopt(multi, CURLMOPT_TIMERFUNCTION, on_timer_set);
  uv_timer_init(loop, &timer);
  CURL **easy = calloc((size_t)conns, sizeof *easy);
  int64_t *started = calloc((size_t)conns, sizeof *started);
  for (long i = 0; i < conns; i++) {
    easy[i] = curl_easy_init();
    started[i] = clock_mono_ns();
    curl_easy_setopt(easy[i], CURLOPT_PRIVATE, (void *)&started[i]);
    curl_easy_setopt(easy[i], CURLOPT_URL, url);
    curl_easy_setopt(easy[i], CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(easy[i], CURLOPT_WRITEFUNCTION, discard);
    curl_multi_add_handle(multi, easy[i]);
  }
  uv_timer_t stop;
  uv_timer_init(loop, &stop);
  int64_t t0 = clock_mono_ns();
  uv_timer_start(&stop, on_stop, (uint64_t)(duration_s * 1000), 0);
  uv_run(loop, UV_RUN_DEFAULT);
  double secs = (double)(clock_mono_ns() - t0) / 1e9;
  printf("bare_curl conns=%ld duration=%.2fs requests=%lld errors=%lld rps=%.0f p50_ms=%.3f p99_ms=%.3f\n",
         conns, secs, done_count, errors, (double)done_count / secs,
         hist_value_at_percentile(latency, 50) / 1000.0, hist_value_at_percentile(latency, 99) / 1000.0);
  for (long i = 0; i < conns; i++) {
    curl_multi_remove_handle(multi, easy[i]);
    curl_easy_cleanup(easy[i]);
  }
  free(easy);
  free(started);
  hist_destroy(latency);
  curl_multi_cleanup(multi);
  curl_global_cleanup();
  return 0;
}
