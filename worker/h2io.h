/* h2io.h - the byte pipe under one HTTP/2 connection of the h2 backend: a uv_tcp connect to an address,
 * TLS by worker/tls when a tls_ctx is given (ALPN offered, the server's pick reported), plaintext in by
 * callback and out by h2io_write. Knows nothing of HTTP/2; http_h2.c puts nghttp2 on top. */
#ifndef LOADCTL_H2IO_H
#define LOADCTL_H2IO_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <uv.h>

#include "worker/tls.h"

typedef struct h2io h2io;

typedef struct h2io_cbs {
  /* Connected (and, over TLS, handshake done); alpn is the server's ALPN pick, "" for none or plain. */
  void (*open)(void *ud, const char *alpn);
  /* Plaintext arrived; valid only during the call. */
  void (*read)(void *ud, const char *data, size_t len);
  /* The pipe failed or the peer closed it: kind (enum stats_err) and why. No callback follows; the
   * owner still calls h2io_close. */
  void (*fail)(void *ud, int kind, const char *msg);
} h2io_cbs;

/* Read buffers one loop's pipes share (a read is consumed before the next one is asked for). */
typedef struct h2io_bufs {
  char cipher[65536];
  char plain[65536];
} h2io_bufs;

/* Connect to addr (host and port name the origin for SNI, verification and session resumption); TLS
 * with tls offering alpn ("h2" or "h2,http/1.1") when tls is not NULL. Callbacks start from the loop.
 * *bufs is the loop's shared buffers, made by the first open when NULL (the caller frees it, after its
 * last pipe is closed). *out is owned by the caller and released with h2io_close. 0 or negative errno. */
int h2io_open(uv_loop_t *loop, h2io_bufs **bufs, const struct sockaddr *addr, tls_ctx *tls, const char *host,
              int port, const char *alpn, const h2io_cbs *cbs, void *ud, h2io **out);
/* Send len bytes (copied). 0, or a negative uv error (the failure also arrives by cbs->fail later). */
int h2io_write(h2io *io, const void *data, size_t len);
/* Close (safe inside a callback): no callback runs after this; memory goes when the handle is closed. */
void h2io_close(h2io *io);
/* ns spent in the TCP connect and in the TLS handshake (0 for plain). */
int64_t h2io_connect_ns(const h2io *io);
int64_t h2io_tls_ns(const h2io *io);

#endif
