/* tls.h - TLS for our own HTTP backends (h1, h2) on a uv_tcp stream: OpenSSL driven through a memory
 * BIO of our own, so a backend keeps its uv_read_start reads, feeds the ciphertext it reads in, takes
 * plaintext out, and never blocks. One tls_ctx per loop (verification, client certificate, session cache
 * by origin); one tls_conn per TCP connection. Nothing here is shared between threads. */
#ifndef LOADCTL_TLS_H
#define LOADCTL_TLS_H

#include <stddef.h>
#include <sys/types.h>
#include <uv.h>

typedef struct tls_ctx tls_ctx;   /* one per loop; owned by whoever created it (http.c's client) */
typedef struct tls_conn tls_conn; /* one per TCP connection; owned by the backend that created it */

typedef struct tls_options {
  int insecure;          /* no certificate or host name checks (self-signed test servers) */
  const char *ca_file;   /* PEM bundle to verify the server against; NULL = the system store */
  const char *cert_file; /* client certificate chain (PEM) for mTLS; NULL = none */
  const char *key_file;  /* its private key (PEM); NULL = the key is in cert_file */
} tls_options;

#define TLS_CLOSED (-ESHUTDOWN) /* tls_conn_read: the peer ended the TLS session (close_notify) */

/* A queued write of ciphertext finished; status is 0 or a negative uv error (UV_ECANCELED when the
 * stream was closed under it). */
typedef void (*tls_write_cb)(void *ud, int status);

/* A context from opt (strings copied). The OpenSSL context is built on the first connection, so a
 * thread that never speaks TLS pays nothing; a bad CA or certificate file fails that connection's
 * handshake with the reason. *out owned by the caller, released with tls_ctx_free. 0 or -ENOMEM. */
int tls_ctx_create(const tls_options *opt, tls_ctx **out);
/* Free ctx and its cached sessions. Its conns must be freed first. */
void tls_ctx_free(tls_ctx *ctx);
/* Build the OpenSSL context now (it is otherwise built on the first connection). 0, or -EINVAL with
 * the reason (a CA file that does not load, a key that does not match its certificate) in err. */
int tls_ctx_prepare(tls_ctx *ctx, char *err, size_t errlen);

/* A client session for host:port over stream (a connected uv_tcp_t the caller reads from): SNI and
 * host name verification with host (an IP literal is verified as an address and sent no SNI), ALPN
 * offering alpn (a comma list, "http/1.1" or "h2,http/1.1"; NULL = none), and the origin's cached
 * session offered for resumption. Ciphertext goes out through stream; write_cb hears how queued writes
 * end. *out owned by the caller, released with tls_conn_free. 0, -ENOMEM, or -EINVAL (reason in
 * tls_conn_error when *out was set, which the caller then frees). */
int tls_conn_create(tls_ctx *ctx, uv_stream_t *stream, const char *host, int port, const char *alpn,
                    tls_write_cb write_cb, void *ud, tls_conn **out);
/* Free t. A write still queued on the stream keeps its buffer until the write ends (the stream's close
 * cancels it); write_cb is not called after this. */
void tls_conn_free(tls_conn *t);

/* Ciphertext read from the stream. It is consumed by the tls_conn_handshake and tls_conn_read calls
 * that follow, which must be repeated until they ask for more input (0) before data goes away. */
void tls_conn_feed(tls_conn *t, const char *data, size_t len);
/* Drive the handshake (and send what it produced): 1 done, 0 needs more input, -EPROTO failed (reason
 * in tls_conn_error). The first call sends the ClientHello. */
int tls_conn_handshake(tls_conn *t);
/* Plaintext into buf: >0 bytes, 0 when more input is needed, TLS_CLOSED, or -EPROTO (reason in
 * tls_conn_error). Sends what the session has to send meanwhile (post-handshake messages). */
ssize_t tls_conn_read(tls_conn *t, char *buf, size_t cap);
/* Encrypt len bytes and send them (uv_try_write, the rest queued in t's own buffer). 0, or a negative
 * uv error of the try_write; errors of a queued write arrive by write_cb. */
int tls_conn_write(tls_conn *t, const void *data, size_t len);
/* Nonzero while ciphertext is queued on the stream. */
int tls_conn_writing(const tls_conn *t);

/* After the handshake: the ALPN protocol the server picked ("h2", "http/1.1") or "" when none. */
const char *tls_conn_alpn(const tls_conn *t);
/* After the handshake: nonzero when the session was resumed (no full handshake). */
int tls_conn_resumed(const tls_conn *t);
/* Why the last failing call failed ("certificate verify failed: self-signed certificate"). */
const char *tls_conn_error(const tls_conn *t);

#endif
