/* fuzzpeer.c - the hostile server of the response-path harnesses (fuzzpeer.h). One per process, like the
 * harness that uses it: its state is this file's. */
#include "tests/fuzz/fuzzpeer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct peer {
  uv_tcp_t tcp;
  uv_write_t wreq;
  uv_shutdown_t sreq;
  int answered;
  char *copy;
} peer;

static uv_tcp_t server;
static const uint8_t *answer;
static size_t answer_len;
static int peers_open;

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
  uv_tcp_init(srv->loop, &p->tcp);
  p->tcp.data = p;
  peers_open++;
  if (uv_accept(srv, (uv_stream_t *)&p->tcp) < 0 ||
      uv_read_start((uv_stream_t *)&p->tcp, peer_alloc, peer_read) < 0)
    uv_close((uv_handle_t *)&p->tcp, peer_closed);
}

int fuzzpeer_listen(uv_loop_t *loop, char *url, size_t urlsize) {
  struct sockaddr_in a;
  struct sockaddr_storage bound;
  int len = sizeof bound;
  uv_ip4_addr("127.0.0.1", 0, &a);
  uv_tcp_init(loop, &server);
  if (uv_tcp_bind(&server, (const struct sockaddr *)&a, 0) < 0 ||
      uv_listen((uv_stream_t *)&server, 16, on_peer) < 0 ||
      uv_tcp_getsockname(&server, (struct sockaddr *)&bound, &len) < 0)
    return -1;
  snprintf(url, urlsize, "http://127.0.0.1:%d/fuzz", ntohs(((struct sockaddr_in *)&bound)->sin_port));
  return 0;
}

void fuzzpeer_answer(const uint8_t *data, size_t len) {
  answer = data;
  answer_len = len;
}

int fuzzpeer_open(void) {
  return peers_open;
}
