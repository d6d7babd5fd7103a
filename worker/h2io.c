/* h2io.c - one TCP (optionally TLS) byte pipe for the h2 backend (see h2io.h): plain writes go out with
 * one uv_try_write and queue the rest; TLS goes through worker/tls, whose BIO does the same. */
#include "worker/h2io.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/grow.h"
#include "common/stats.h"

typedef struct bytes {
  char *data;
  size_t len, cap;
} bytes;

struct h2io {
  uv_tcp_t tcp;
  uv_connect_t creq;
  uv_write_t wreq;
  h2io_bufs *bufs;
  tls_ctx *tls_ctx;
  tls_conn *tls;
  h2io_cbs cbs;
  void *ud;
  char host[256];
  int port;
  char alpn[32];
  int open, closed, failed, writing, handshaking;
  bytes out, queued; /* plain: bytes not yet written, and those in the uv_write */
  int64_t start_ns, connect_ns, tls_ns;
};

static int bytes_add(bytes *b, const void *data, size_t n) {
  return grow_append(&b->data, &b->len, &b->cap, data, n, 4096);
}

static void fail(h2io *io, int kind, const char *what, const char *why) {
  char msg[256];
  if (io->closed || io->failed) return;
  io->failed = 1;
  if (why)
    snprintf(msg, sizeof msg, "%.120s: %.120s", what, why);
  else
    snprintf(msg, sizeof msg, "%s", what);
  io->cbs.fail(io->ud, kind, msg);
}

static void on_closed(uv_handle_t *h) { /* libuv ran a cancelled write's callback before this */
  h2io *io = h->data;
  free(io->out.data);
  free(io->queued.data);
  free(io);
}

void h2io_close(h2io *io) {
  if (!io || io->closed) return;
  io->closed = 1;
  if (io->tls) tls_conn_free(io->tls);
  io->tls = NULL;
  uv_close((uv_handle_t *)&io->tcp, on_closed);
}

/* ---- writing ---- */

static int plain_flush(h2io *io);

static void on_written(uv_write_t *w, int status) {
  h2io *io = w->data;
  io->writing = 0;
  io->queued.len = 0;
  if (io->closed) return;
  if (status == 0) status = plain_flush(io);
  if (status < 0) fail(io, STATS_ERR_RESET, "send", uv_strerror(status));
}

static int plain_flush(h2io *io) {
  if (io->out.len == 0 || io->writing) return 0;
  uv_buf_t b = uv_buf_init(io->out.data, (unsigned)io->out.len);
  int n = uv_try_write((uv_stream_t *)&io->tcp, &b, 1);
  if (n == UV_EAGAIN || n == UV_ENOSYS) n = 0;
  if (n < 0) return n;
  if ((size_t)n == io->out.len) {
    io->out.len = 0;
    return 0;
  }
  bytes spare = io->queued; /* the rest moves to queued, untouched until the write ends */
  io->queued = io->out;
  io->out = spare;
  io->out.len = 0;
  memmove(io->queued.data, io->queued.data + n, io->queued.len - (size_t)n);
  io->queued.len -= (size_t)n;
  b = uv_buf_init(io->queued.data, (unsigned)io->queued.len);
  io->wreq.data = io;
  int rc = uv_write(&io->wreq, (uv_stream_t *)&io->tcp, &b, 1, on_written);
  if (rc == 0) io->writing = 1;
  return rc;
}

static void on_tls_written(void *ud, int status) {
  h2io *io = ud;
  if (status < 0 && status != UV_ECANCELED) fail(io, STATS_ERR_RESET, "send", uv_strerror(status));
}

int h2io_write(h2io *io, const void *data, size_t len) {
  int rc;
  if (io->closed || io->failed || !io->open) return UV_ENOTCONN;
  if (io->tls)
    rc = tls_conn_write(io->tls, data, len);
  else
    rc = bytes_add(&io->out, data, len) < 0 ? UV_ENOMEM : plain_flush(io);
  if (rc < 0) {
    const char *why = io->tls ? tls_conn_error(io->tls) : uv_strerror(rc);
    fail(io, io->tls && rc == UV_EPROTO ? STATS_ERR_TLS : STATS_ERR_RESET, "send", why);
  }
  return rc;
}

/* ---- reading ---- */

static void on_alloc(uv_handle_t *h, size_t size, uv_buf_t *b) {
  h2io *io = h->data;
  (void)size;
  *b = uv_buf_init(io->bufs->cipher, sizeof io->bufs->cipher);
}

static void opened(h2io *io, const char *alpn) {
  io->open = 1;
  snprintf(io->alpn, sizeof io->alpn, "%s", alpn);
  io->cbs.open(io->ud, io->alpn);
}

static void handshake(h2io *io) {
  int rc = tls_conn_handshake(io->tls);
  if (rc == 0) return;
  io->handshaking = 0;
  io->tls_ns = clock_mono_ns() - io->start_ns - io->connect_ns;
  if (rc < 0)
    fail(io, STATS_ERR_TLS, tls_conn_error(io->tls), NULL);
  else
    opened(io, tls_conn_alpn(io->tls));
}

/* Ciphertext in: finish the handshake, then hand out every plaintext byte it holds. */
static void tls_in(h2io *io, const char *data, size_t len) {
  tls_conn_feed(io->tls, data, len);
  if (io->handshaking) handshake(io);
  while (io->open && !io->closed && !io->failed) {
    ssize_t n = tls_conn_read(io->tls, io->bufs->plain, sizeof io->bufs->plain);
    if (n == 0) break;
    if (n == TLS_CLOSED)
      fail(io, STATS_ERR_RESET, "connection closed (TLS close_notify)", NULL);
    else if (n < 0)
      fail(io, STATS_ERR_TLS, tls_conn_error(io->tls), NULL);
    else
      io->cbs.read(io->ud, io->bufs->plain, (size_t)n);
    if (n < 0) break;
  }
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b) {
  h2io *io = s->data;
  if (io->closed || io->failed) return;
  if (n < 0) {
    if (n == UV_EOF)
      fail(io, STATS_ERR_RESET, "connection closed by the server", NULL);
    else
      fail(io, STATS_ERR_RESET, "receive", uv_strerror((int)n));
  } else if (n > 0 && io->tls) {
    tls_in(io, b->base, (size_t)n);
  } else if (n > 0) {
    io->cbs.read(io->ud, b->base, (size_t)n);
  }
}

/* ---- connecting ---- */

static void on_connect(uv_connect_t *r, int status) {
  h2io *io = r->data;
  if (io->closed || status == UV_ECANCELED) return;
  if (status < 0) {
    fail(io, status == UV_ETIMEDOUT ? STATS_ERR_TIMEOUT : STATS_ERR_CONNECT, "connect", uv_strerror(status));
    return;
  }
  io->connect_ns = clock_mono_ns() - io->start_ns;
  uv_tcp_nodelay(&io->tcp, 1);
  int rc = uv_read_start((uv_stream_t *)&io->tcp, on_alloc, on_read);
  if (rc < 0) {
    fail(io, STATS_ERR_CONNECT, "read start", uv_strerror(rc));
    return;
  }
  if (!io->tls_ctx) {
    opened(io, "");
    return;
  }
  rc = tls_conn_create(io->tls_ctx, (uv_stream_t *)&io->tcp, io->host, io->port, io->alpn, on_tls_written, io,
                       &io->tls);
  if (rc < 0) {
    fail(io, STATS_ERR_TLS, io->tls ? tls_conn_error(io->tls) : "cannot create a TLS session", NULL);
    return;
  }
  io->handshaking = 1;
  handshake(io);
}

int h2io_open(uv_loop_t *loop, h2io_bufs **bufs, const struct sockaddr *addr, tls_ctx *tls, const char *host,
              int port, const char *alpn, const h2io_cbs *cbs, void *ud, h2io **out) {
  h2io *io;
  if (!*bufs && !(*bufs = malloc(sizeof **bufs))) return -ENOMEM;
  if (!(io = calloc(1, sizeof *io))) return -ENOMEM;
  io->bufs = *bufs;
  io->tls_ctx = tls;
  io->cbs = *cbs;
  io->ud = ud;
  io->port = port;
  snprintf(io->host, sizeof io->host, "%s", host);
  snprintf(io->alpn, sizeof io->alpn, "%s", alpn ? alpn : "");
  int rc = uv_tcp_init(loop, &io->tcp);
  if (rc < 0) {
    free(io);
    return rc;
  }
  io->tcp.data = io;
  io->creq.data = io;
  io->start_ns = clock_mono_ns();
  *out = io;
  rc = uv_tcp_connect(&io->creq, &io->tcp, addr, on_connect);
  if (rc < 0) {
    h2io_close(io);
    *out = NULL;
  }
  return rc;
}

int64_t h2io_connect_ns(const h2io *io) {
  return io->connect_ns;
}

int64_t h2io_tls_ns(const h2io *io) {
  return io->tls_ns;
}
