/* hostile.c - a target that attacks its client, for the fault suite (tests/integration/faults_hostile.sh):
 * every answer is one a real server on a bad day, or a hostile one, might send. loadctl must classify
 * each as an error, keep its memory bounded and let its other VUs go on.
 *
 * Usage: hostile [--duration-s S]   (default 60; exits by itself). Listens on 127.0.0.1, two free ports,
 * printed first: "PORT n" (HTTP/1.1) and "H2PORT n" (speaks HTTP/2 frames to anyone who sends the preface).
 *
 * HTTP/1.1 routes (the request line's path; one request per connection, then it stays open):
 *   /headers   "200 OK" then header lines of 1 KiB each, without end (an oversized header block)
 *   /endless   200 with Transfer-Encoding: chunked, then 16 KiB chunks without end
 *   /trickle   the status line and headers one byte every 200 ms (slowloris from the server side)
 *   /ok        200 "ok\n" (Connection: close)
 * HTTP/2 port: after the client's preface it sends a SETTINGS frame of 5 bytes (a length that is not a
 * multiple of 6: FRAME_SIZE_ERROR), then a DATA frame on stream 0 (PROTOCOL_ERROR), then keeps quiet. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#define CHUNK 16384
#define HEADER_LINE 1024
#define TRICKLE_MS 200

typedef struct conn {
  uv_tcp_t tcp;
  uv_timer_t timer;
  char in[4096];
  size_t inlen;
  int mode; /* 0 reading, 1 headers, 2 endless, 3 trickle, 4 h2 answered */
  size_t sent;
  int closing;
} conn;

static uv_loop_t *loop;
static char filler[CHUNK + 64];
static const char trickle_text[] = "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nok\n";

static void on_closed(uv_handle_t *h) {
  conn *c = h->data;
  if (h == (uv_handle_t *)&c->tcp)
    uv_close((uv_handle_t *)&c->timer, NULL), c->tcp.data = NULL;
  else
    free(c);
}

static void close_conn(conn *c) {
  if (c->closing) return;
  c->closing = 1;
  uv_timer_stop(&c->timer);
  c->timer.data = c;
  uv_close((uv_handle_t *)&c->tcp, on_closed);
}

static void pump(conn *c);

static void on_written(uv_write_t *w, int status) {
  conn *c = w->data;
  free(w);
  if (status < 0) {
    close_conn(c);
    return;
  }
  if (!c->closing && (c->mode == 1 || c->mode == 2)) pump(c); /* more of the same, as fast as read */
}

static void send_bytes(conn *c, const char *data, size_t len) {
  uv_write_t *w = malloc(sizeof *w);
  uv_buf_t b = uv_buf_init((char *)data, (unsigned)len);
  if (!w) return;
  w->data = c;
  if (uv_write(w, (uv_stream_t *)&c->tcp, &b, 1, on_written) < 0) free(w), close_conn(c);
}

/* The next piece of an endless answer (headers or chunks); data is static, so no copy is needed. */
static void pump(conn *c) {
  static char header_line[HEADER_LINE], chunk[CHUNK + 16];
  static size_t chunk_len;
  if (!chunk_len) {
    memset(header_line, 'h', HEADER_LINE);
    memcpy(header_line, "X-Flood: ", 9);
    header_line[HEADER_LINE - 2] = '\r', header_line[HEADER_LINE - 1] = '\n';
    chunk_len = (size_t)snprintf(chunk, sizeof chunk, "%x\r\n", CHUNK);
    memcpy(chunk + chunk_len, filler, CHUNK);
    memcpy(chunk + chunk_len + CHUNK, "\r\n", 2);
    chunk_len += CHUNK + 2;
  }
  if (c->mode == 1)
    send_bytes(c, header_line, HEADER_LINE);
  else
    send_bytes(c, chunk, chunk_len);
}

static void on_trickle(uv_timer_t *t) {
  conn *c = t->data;
  if (c->closing) return;
  if (c->sent < sizeof trickle_text - 1)
    send_bytes(c, trickle_text + c->sent++, 1);
  else
    uv_timer_stop(t);
}

static void answer_http(conn *c) {
  char path[64] = "";
  sscanf(c->in, "%*s %63s", path);
  if (!strcmp(path, "/headers")) {
    c->mode = 1;
    static const char status_line[] = "HTTP/1.1 200 OK\r\n";
    send_bytes(c, status_line, sizeof status_line - 1);
  } else if (!strcmp(path, "/endless")) {
    c->mode = 2;
    static const char head[] = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
    send_bytes(c, head, sizeof head - 1);
  } else if (!strcmp(path, "/trickle")) {
    c->mode = 3;
    c->timer.data = c;
    uv_timer_start(&c->timer, on_trickle, TRICKLE_MS, TRICKLE_MS);
  } else {
    static const char ok[] = "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nConnection: close\r\n\r\nok\n";
    c->mode = 5;
    send_bytes(c, ok, sizeof ok - 1);
  }
}

static void answer_h2(conn *c) {
  /* server SETTINGS of 5 bytes, then DATA (type 0) on stream 0: both connection errors */
  static const char frames[] =
      "\x00\x00\x05\x04\x00\x00\x00\x00\x00"
      "\x00\x03\x00\x00\x00\x00"
      "\x00\x00\x02\x00\x00\x00\x00\x00\x00"
      "ok";
  c->mode = 4;
  send_bytes(c, frames, sizeof frames - 1);
}

static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *b) {
  conn *c = h->data;
  (void)hint;
  *b = uv_buf_init(c->in + c->inlen, (unsigned)(sizeof c->in - 1 - c->inlen));
  if (b->len == 0) c->inlen = 0, *b = uv_buf_init(c->in, sizeof c->in - 1); /* a flood: keep reading */
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b) {
  conn *c = s->data;
  (void)b;
  if (n < 0) {
    close_conn(c);
    return;
  }
  c->inlen += (size_t)n;
  c->in[c->inlen] = '\0';
  if (c->mode == -1 && c->inlen >= 24)
    answer_h2(c); /* the preface is in */
  else if (c->mode == 0 && strstr(c->in, "\r\n\r\n"))
    answer_http(c);
}

static void on_conn(uv_stream_t *server, int status) {
  conn *c;
  if (status < 0 || !(c = calloc(1, sizeof *c))) return;
  uv_tcp_init(loop, &c->tcp);
  uv_timer_init(loop, &c->timer);
  c->tcp.data = c;
  c->mode = server->data ? -1 : 0; /* the HTTP/2 listener carries a mark */
  if (uv_accept(server, (uv_stream_t *)&c->tcp) < 0) {
    close_conn(c);
    return;
  }
  uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
}

static int listen_on(uv_tcp_t *srv, void *mark) {
  struct sockaddr_in addr;
  struct sockaddr_storage bound;
  int len = sizeof bound;
  uv_ip4_addr("127.0.0.1", 0, &addr);
  uv_tcp_init(loop, srv);
  srv->data = mark;
  if (uv_tcp_bind(srv, (struct sockaddr *)&addr, 0) < 0 || uv_listen((uv_stream_t *)srv, 256, on_conn) < 0)
    return -1;
  uv_tcp_getsockname(srv, (struct sockaddr *)&bound, &len);
  return ntohs(((struct sockaddr_in *)&bound)->sin_port);
}

static void on_deadline(uv_timer_t *t) {
  (void)t;
  exit(0);
}

int main(int argc, char **argv) {
  static uv_tcp_t http_srv, h2_srv;
  static uv_timer_t deadline;
  static int mark = 1;
  double duration_s = 60;
  int p1, p2;

  if (argc == 3 && !strcmp(argv[1], "--duration-s"))
    duration_s = strtod(argv[2], NULL);
  else if (argc != 1) {
    fprintf(stderr, "usage: hostile [--duration-s S]\n");
    return 1;
  }
  signal(SIGPIPE, SIG_IGN);
  memset(filler, 'z', sizeof filler);
  loop = uv_default_loop();
  p1 = listen_on(&http_srv, NULL);
  p2 = listen_on(&h2_srv, &mark);
  if (p1 < 0 || p2 < 0) {
    fprintf(stderr, "hostile: cannot listen on 127.0.0.1\n");
    return 2;
  }
  printf("PORT %d\nH2PORT %d\n", p1, p2);
  fflush(stdout);
  uv_timer_init(loop, &deadline);
  uv_timer_start(&deadline, on_deadline, (uint64_t)(duration_s * 1000), 0);
  return uv_run(loop, UV_RUN_DEFAULT);
}
