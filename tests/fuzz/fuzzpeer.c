/* fuzzpeer.c - the hostile server of fuzz_h1resp (fuzzpeer.h). One per process, like the
 * harness that uses it: its state is this file's. */
#include "tests/fuzz/fuzzpeer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct peer {
  uv_tcp_t tcp;
  uv_write_t wreq;
  uv_shutdown_t sreq;
  int answered;
  char *copy;
} peer;

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

int fuzzpeer_adopt(uv_loop_t *loop, int fd) {
  peer *p = calloc(1, sizeof *p);
  int rc;
  if (!p) {
    close(fd);
    return UV_ENOMEM;
  }
  uv_tcp_init(loop, &p->tcp);
  p->tcp.data = p;
  peers_open++;
  rc = uv_tcp_open(&p->tcp, fd);
  if (rc < 0) close(fd); /* not the handle's yet */
  if (rc == 0) rc = uv_read_start((uv_stream_t *)&p->tcp, peer_alloc, peer_read);
  if (rc < 0) uv_close((uv_handle_t *)&p->tcp, peer_closed);
  return rc;
}

void fuzzpeer_answer(const uint8_t *data, size_t len) {
  answer = data;
  answer_len = len;
}

int fuzzpeer_open(void) {
  return peers_open;
}
