/* testserver.c - a small libuv HTTP/1.1 server with misbehaving routes, so the HTTP backends, the
 * integration tests and the fault suite can provoke every failure class on 127.0.0.1.
 *
 * Usage: testserver [--port N] [--host ADDR] [--duration-s S] [--tls-dir DIR [--tls-client-cert 1]]
 *   --port 0 (default) picks a free port; the first line on stdout is always "PORT n".
 *   --host defaults to 127.0.0.1. --duration-s (default 60) bounds the run: the server exits by itself.
 *   --tls-dir serves every route over TLS (OpenSSL on memory BIOs, ALPN http/1.1, session tickets on)
 *   with a fresh self-signed certificate for localhost and 127.0.0.1, written to DIR/server.pem for
 *   clients to trust; DIR/client.pem gets a client certificate and its key, which --tls-client-cert 1
 *   requires of every client.
 *   On SIGTERM it prints "SERVED n" (the /count figure) on stdout and exits at once, so a test that
 *   restarts it loses no request from its tally.
 *   Keep-alive by default; requests are served one at a time per connection (no pipelining).
 *
 * Routes (query strings are ignored):
 *   /ok             200, body "ok\n"
 *   /echo           200, body = "METHOD /path?query\r\n" + request header lines "Name: value\r\n"
 *                   + "\r\n" + request body
 *   /status/<code>  that status, body "status <code>\n"
 *   /delay/<ms>     200 "ok\n" after <ms> milliseconds
 *   /reset          headers (Content-Length 1000) and 10 body bytes, then RST (SO_LINGER 0)
 *   /close          200 "ok\n" with Connection: close, then the server closes
 *   /drop           200 "ok\n" that looks kept alive, then the server closes anyway (a silently
 *                   dropped keep-alive connection; clients must reconnect and resend)
 *   /eof            200 with no Content-Length: body "until-close\n" ends when the server closes
 *   /continue       an unsolicited "100 Continue", then 200 "ok\n"
 *   /chunked        200, Transfer-Encoding: chunked, body "chunk-one|chunk-two|chunk-three"
 *   /malformed      a non-HTTP reply ("THIS IS NOT HTTP\r\n\r\n"), then close
 *   /trailer        200, chunked body "ok" with a trailer line "X-Trailer: done"
 *   /status21       a two-digit status line ("HTTP/1.1 21 OK", Content-Length 0), then close
 *   /slow           200, Content-Length 50, one body byte ('x') every 100 ms
 *   /big/<bytes>    200, Content-Length <bytes>, body of 'b' streamed in 64 KiB writes
 *   /redirect       302 to /redirect (a loop)
 *   /setcookie      200, Set-Cookie: session=abc123; Path=/
 *   /needcookie     200 "cookie ok\n" when the request carries session=abc123, else 401
 *   /basic          200 "basic ok\n" with Basic credentials user:pass, else 401 and a Basic challenge
 *   /digest         200 "digest ok\n" with Digest (MD5, qop=auth) credentials user:pass, else 401 and a
 * challenge /count          body = decimal number of requests served before, not counting /count and /conns
 *   /conns          body = decimal number of TCP connections accepted so far
 *   /tls            body = "resumed=R alpn=A client_cert=C\n" of this TLS connection (R, C 0 or 1)
 *   anything else   404
 */
#include <errno.h>
#include <http_parser.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <uv.h>

#include "tests/support/testauth.h"
#include "tests/support/testcert.h"

#define BIG_CHUNK 65536

typedef struct srv_conn {
  uv_tcp_t tcp;
  uv_timer_t timer;
  http_parser parser;
  char url[2048];
  size_t url_len;
  char *hdrs; /* raw "Name: value\r\n" lines of the current request */
  size_t hdrs_len, hdrs_cap;
  char *body;
  size_t body_len, body_cap;
  int last_was_value;
  int busy;        /* a response is in progress: reading is stopped */
  int close_after; /* close once the response is written */
  char *pending;   /* bytes read after a complete request, parsed after the response */
  size_t pending_len;
  uint64_t remaining; /* /big and /slow: body bytes still to send */
  int slow;
  int closing;
  SSL *ssl; /* TLS mode: the session, with memory BIOs in and out */
  BIO *rbio, *wbio;
} srv_conn;

typedef struct wr {
  uv_write_t req;
  srv_conn *conn;
  int then; /* 0 nothing, 1 close, 2 reset, 3 continue /big */
  char data[];
} wr;

static uv_loop_t *loop;
static uv_tcp_t server;
static uv_timer_t deadline;
static long long served, conns_accepted;
static http_parser_settings settings;
static SSL_CTX *tls; /* NULL: plain HTTP */

static void conn_closed(uv_handle_t *h) {
  srv_conn *c = h->data;
  if (h == (uv_handle_t *)&c->tcp) {
    uv_close((uv_handle_t *)&c->timer, NULL);
    return;
  }
  free(c->hdrs);
  free(c->body);
  free(c->pending);
  SSL_free(c->ssl); /* and its BIOs */
  free(c);
}

static void conn_close(srv_conn *c) {
  if (c->closing) return;
  c->closing = 1;
  uv_timer_stop(&c->timer);
  uv_close((uv_handle_t *)&c->tcp, conn_closed);
}

static void conn_reset(srv_conn *c) {
  uv_os_fd_t fd;
  struct linger lg = {1, 0};
  if (uv_fileno((uv_handle_t *)&c->tcp, &fd) == 0) setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
  conn_close(c);
}

static void resume(srv_conn *c);
static void big_next(srv_conn *c);

static void write_done(uv_write_t *req, int status) {
  wr *w = (wr *)req;
  srv_conn *c = w->conn;
  int then = w->then;
  free(w);
  if (c->closing) return;
  if (status < 0 || then == 1)
    conn_close(c);
  else if (then == 2)
    conn_reset(c);
  else if (then == 3)
    big_next(c);
}

static void send_raw(srv_conn *c, const char *data, size_t len, int then);

/* TLS mode: encrypt len bytes (none: what the handshake produced) and queue the ciphertext. */
static void send_tls(srv_conn *c, const char *data, size_t len, int then) {
  size_t done = 0;
  if (len && SSL_write_ex(c->ssl, data, len, &done) != 1) {
    conn_close(c);
    return;
  }
  char *out;
  long n = BIO_get_mem_data(c->wbio, &out);
  if (n > 0 || then) send_raw(c, out, n > 0 ? (size_t)n : 0, then);
  (void)BIO_reset(c->wbio);
}

/* Queue len bytes; then says what happens once they are written. */
static void send_bytes(srv_conn *c, const char *data, size_t len, int then) {
  if (c->ssl)
    send_tls(c, data, len, then);
  else
    send_raw(c, data, len, then);
}

static void send_raw(srv_conn *c, const char *data, size_t len, int then) {
  wr *w = malloc(sizeof *w + len);
  if (!w) {
    conn_close(c);
    return;
  }
  memcpy(w->data, data, len);
  w->conn = c;
  w->then = then;
  uv_buf_t b = uv_buf_init(w->data, (unsigned)len);
  if (uv_write(&w->req, (uv_stream_t *)&c->tcp, &b, 1, write_done) < 0) {
    free(w);
    conn_close(c);
  }
}

static const char *reason(int code) {
  switch (code) {
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 204:
      return "No Content";
    case 302:
      return "Found";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 404:
      return "Not Found";
    case 500:
      return "Internal Server Error";
    case 503:
      return "Service Unavailable";
    default:
      return "Status";
  }
}

/* A whole response with a Content-Length body; finishes the request (unless then says otherwise). */
static void respond(srv_conn *c, int code, const char *extra, const char *body, size_t body_len) {
  char head[1024];
  int n = snprintf(head, sizeof head, "HTTP/1.1 %d %s\r\nContent-Length: %zu\r\n%s%s\r\n", code, reason(code),
                   body_len, extra ? extra : "", c->close_after ? "Connection: close\r\n" : "");
  size_t len = (size_t)n + body_len;
  char *all = malloc(len);
  if (!all) {
    conn_close(c);
    return;
  }
  memcpy(all, head, (size_t)n);
  if (body_len) memcpy(all + n, body, body_len);
  send_bytes(c, all, len, c->close_after ? 1 : 0);
  free(all);
  if (!c->close_after) resume(c);
}

static void respond_text(srv_conn *c, int code, const char *text) {
  respond(c, code, "Content-Type: text/plain\r\n", text, strlen(text));
}

static void big_next(srv_conn *c) {
  static char chunk[BIG_CHUNK];
  if (!chunk[0]) memset(chunk, 'b', sizeof chunk);
  if (c->remaining == 0) {
    resume(c);
    return;
  }
  size_t n = c->remaining < BIG_CHUNK ? (size_t)c->remaining : BIG_CHUNK;
  c->remaining -= n;
  send_bytes(c, chunk, n, 3);
}

static void slow_tick(uv_timer_t *t) {
  srv_conn *c = t->data;
  if (c->remaining == 0) {
    uv_timer_stop(t);
    resume(c);
    return;
  }
  c->remaining--;
  send_bytes(c, "x", 1, 0);
}

static void delay_done(uv_timer_t *t) {
  respond_text(t->data, 200, "ok\n");
}

static void route_auth(srv_conn *c, int digest) {
  char h[512];
  const char *method = http_method_str((enum http_method)c->parser.method);
  if (digest ? testauth_digest_ok(c->hdrs, c->hdrs_len, method)
             : testauth_header(c->hdrs, c->hdrs_len, "authorization", h, sizeof h) &&
                   !strcmp(h, "Basic dXNlcjpwYXNz"))
    respond_text(c, 200, digest ? "digest ok\n" : "basic ok\n");
  else
    respond(c, 401, digest ? TESTAUTH_DIGEST_CHALLENGE : "WWW-Authenticate: Basic realm=\"loadctl\"\r\n",
            "unauthorized\n", 13);
}

static void route_echo(srv_conn *c) {
  const char *m = http_method_str((enum http_method)c->parser.method);
  size_t ml = strlen(m), len = ml + 1 + c->url_len + 2 + c->hdrs_len + 2 + c->body_len;
  char *out = malloc(len);
  if (!out) {
    conn_close(c);
    return;
  }
  size_t o = 0;
  memcpy(out, m, ml), o += ml;
  out[o++] = ' ';
  memcpy(out + o, c->url, c->url_len), o += c->url_len;
  memcpy(out + o, "\r\n", 2), o += 2;
  if (c->hdrs_len) memcpy(out + o, c->hdrs, c->hdrs_len), o += c->hdrs_len;
  memcpy(out + o, "\r\n", 2), o += 2;
  if (c->body_len) memcpy(out + o, c->body, c->body_len);
  respond(c, 200, "Content-Type: text/plain\r\n", out, len);
  free(out);
}

static void route_stream(srv_conn *c, uint64_t bytes, int slow) {
  char head[256];
  int n = snprintf(head, sizeof head, "HTTP/1.1 200 OK\r\nContent-Length: %llu\r\n\r\n",
                   (unsigned long long)bytes);
  c->remaining = bytes;
  if (slow) {
    send_bytes(c, head, (size_t)n, 0);
    uv_timer_start(&c->timer, slow_tick, 100, 100);
  } else {
    send_bytes(c, head, (size_t)n, 3);
  }
}

static void route_tls(srv_conn *c) {
  char out[128];
  const unsigned char *alpn = NULL;
  unsigned alen = 0;
  X509 *peer = c->ssl ? SSL_get1_peer_certificate(c->ssl) : NULL;
  if (c->ssl) SSL_get0_alpn_selected(c->ssl, &alpn, &alen);
  snprintf(out, sizeof out, "resumed=%d alpn=%.*s client_cert=%d\n", c->ssl ? SSL_session_reused(c->ssl) : 0,
           (int)alen, alpn ? (const char *)alpn : "", peer != NULL);
  X509_free(peer);
  respond_text(c, c->ssl ? 200 : 404, out);
}

static void route(srv_conn *c) {
  char path[2048], num[32];
  size_t pl = strcspn(c->url, "?");
  memcpy(path, c->url, pl);
  path[pl] = 0;
  const char *arg = strrchr(path, '/') + 1;
  char *endp;
  unsigned long long v = strtoull(arg, &endp, 10);
  int numeric = *arg && !*endp;
  int counted = strcmp(path, "/count") != 0 && strcmp(path, "/conns") != 0;
  long long before = served;
  if (counted) served++;
  if (!http_should_keep_alive(&c->parser)) c->close_after = 1;
  if (strcmp(path, "/ok") == 0)
    respond_text(c, 200, "ok\n");
  else if (strcmp(path, "/echo") == 0)
    route_echo(c);
  else if (strncmp(path, "/status/", 8) == 0 && numeric && v >= 100 && v < 600) {
    snprintf(num, sizeof num, "status %llu\n", v);
    respond_text(c, (int)v, num);
  } else if (strncmp(path, "/delay/", 7) == 0 && numeric) {
    uv_update_time(c->tcp.loop); /* the loop's cached time may be stale: the delay must not end early */
    uv_timer_start(&c->timer, delay_done, v, 0);
  } else if (strcmp(path, "/reset") == 0) {
    const char *r = "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n0123456789";
    send_bytes(c, r, strlen(r), 2);
  } else if (strcmp(path, "/close") == 0) {
    c->close_after = 1;
    respond_text(c, 200, "ok\n");
  } else if (strcmp(path, "/drop") == 0) {
    send_bytes(c, "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nok\n", 41, 1);
  } else if (strcmp(path, "/eof") == 0) {
    const char *r = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil-close\n";
    send_bytes(c, r, strlen(r), 1);
  } else if (strcmp(path, "/continue") == 0) {
    const char *r = "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nok\n";
    send_bytes(c, r, strlen(r), 0);
    resume(c);
  } else if (strcmp(path, "/chunked") == 0) {
    const char *r =
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        "9\r\nchunk-one\r\na\r\n|chunk-two\r\nc\r\n|chunk-three\r\n0\r\n\r\n";
    send_bytes(c, r, strlen(r), 0);
    resume(c);
  } else if (strcmp(path, "/trailer") == 0) {
    const char *r =
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\nX-Trailer: done\r\n\r\n";
    send_bytes(c, r, strlen(r), 0);
    resume(c);
  } else if (strcmp(path, "/malformed") == 0)
    send_bytes(c, "THIS IS NOT HTTP\r\n\r\n", 20, 1);
  else if (strcmp(path, "/status21") == 0)
    send_bytes(c, "HTTP/1.1 21 OK\r\nContent-Length: 0\r\n\r\n", 38, 1);
  else if (strcmp(path, "/slow") == 0)
    route_stream(c, 50, 1);
  else if (strncmp(path, "/big/", 5) == 0 && numeric)
    route_stream(c, v, 0);
  else if (strcmp(path, "/redirect") == 0)
    respond(c, 302, "Location: /redirect\r\n", "", 0);
  else if (strcmp(path, "/setcookie") == 0)
    respond(c, 200, "Set-Cookie: session=abc123; Path=/\r\n", "ok\n", 3);
  else if (strcmp(path, "/needcookie") == 0) {
    if (testauth_has_cookie(c->hdrs, c->hdrs_len, "session=abc123"))
      respond_text(c, 200, "cookie ok\n");
    else
      respond_text(c, 401, "no cookie\n");
  } else if (strcmp(path, "/count") == 0 || strcmp(path, "/conns") == 0) {
    snprintf(num, sizeof num, "%lld\n", strcmp(path, "/count") == 0 ? before : conns_accepted);
    respond_text(c, 200, num);
  } else if (strcmp(path, "/tls") == 0)
    route_tls(c);
  else if (strcmp(path, "/basic") == 0 || strcmp(path, "/digest") == 0)
    route_auth(c, path[1] == 'd');
  else
    respond_text(c, 404, "not found\n");
}

static int grow_append(char **buf, size_t *len, size_t *cap, const char *at, size_t n) {
  if (*len + n > *cap) {
    size_t nc = (*cap ? *cap * 2 : 1024);
    while (nc < *len + n) nc *= 2;
    char *p = realloc(*buf, nc);
    if (!p) return -1;
    *buf = p, *cap = nc;
  }
  memcpy(*buf + *len, at, n);
  *len += n;
  return 0;
}

static int on_begin(http_parser *p) {
  srv_conn *c = p->data;
  c->url_len = c->hdrs_len = c->body_len = 0;
  c->last_was_value = 0;
  return 0;
}

static int on_url(http_parser *p, const char *at, size_t n) {
  srv_conn *c = p->data;
  if (c->url_len + n >= sizeof c->url) return -1;
  memcpy(c->url + c->url_len, at, n);
  c->url_len += n;
  c->url[c->url_len] = 0;
  return 0;
}

static int on_field(http_parser *p, const char *at, size_t n) {
  srv_conn *c = p->data;
  if (c->last_was_value && grow_append(&c->hdrs, &c->hdrs_len, &c->hdrs_cap, "\r\n", 2)) return -1;
  c->last_was_value = 0;
  return grow_append(&c->hdrs, &c->hdrs_len, &c->hdrs_cap, at, n);
}

static int on_value(http_parser *p, const char *at, size_t n) {
  srv_conn *c = p->data;
  if (!c->last_was_value && grow_append(&c->hdrs, &c->hdrs_len, &c->hdrs_cap, ": ", 2)) return -1;
  c->last_was_value = 1;
  return grow_append(&c->hdrs, &c->hdrs_len, &c->hdrs_cap, at, n);
}

static int on_headers_done(http_parser *p) {
  srv_conn *c = p->data;
  if (c->last_was_value) return grow_append(&c->hdrs, &c->hdrs_len, &c->hdrs_cap, "\r\n", 2);
  return 0;
}

static int on_body(http_parser *p, const char *at, size_t n) {
  srv_conn *c = p->data;
  if (c->body_len + n > (64u << 20)) return -1;
  return grow_append(&c->body, &c->body_len, &c->body_cap, at, n);
}

static int on_complete(http_parser *p) {
  srv_conn *c = p->data;
  c->busy = 1;
  http_parser_pause(p, 1);
  return 0;
}

static void on_alloc(uv_handle_t *h, size_t size, uv_buf_t *buf) {
  static char slab[65536];
  (void)h, (void)size;
  *buf = uv_buf_init(slab, sizeof slab);
}

/* Parse data; when a request completes, stop reading, keep the rest and answer it. */
static void feed(srv_conn *c, const char *data, size_t len) {
  size_t used = http_parser_execute(&c->parser, &settings, data, len);
  if (c->busy) {
    uv_read_stop((uv_stream_t *)&c->tcp);
    http_parser_pause(&c->parser, 0);
    free(c->pending);
    c->pending = NULL, c->pending_len = 0;
    if (used < len && (c->pending = malloc(len - used))) {
      memcpy(c->pending, data + used, len - used);
      c->pending_len = len - used;
    }
    route(c);
    return;
  }
  if (HTTP_PARSER_ERRNO(&c->parser) != HPE_OK) {
    c->close_after = 1;
    respond_text(c, 400, "bad request\n");
  }
}

/* TLS mode: plaintext out of the session into the parser, until a request is complete. */
static void pump_tls(srv_conn *c) {
  static char plain[16384];
  size_t n;
  while (!c->busy && !c->closing && SSL_read_ex(c->ssl, plain, sizeof plain, &n) == 1) feed(c, plain, n);
  if (c->busy || c->closing) return;
  int err = SSL_get_error(c->ssl, 0);
  send_tls(c, NULL, 0, 0); /* what the session wants to say (tickets) */
  if (err != SSL_ERROR_WANT_READ) conn_close(c);
  ERR_clear_error();
}

static void on_read_tls(srv_conn *c, const char *data, size_t len) {
  BIO_write(c->rbio, data, (int)len);
  if (!SSL_is_init_finished(c->ssl)) {
    int rc = SSL_do_handshake(c->ssl);
    int err = rc == 1 ? SSL_ERROR_NONE : SSL_get_error(c->ssl, rc);
    send_tls(c, NULL, 0, err == SSL_ERROR_NONE || err == SSL_ERROR_WANT_READ ? 0 : 1); /* alert, then close */
    ERR_clear_error();
    if (err != SSL_ERROR_NONE) return;
  }
  pump_tls(c);
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf) {
  srv_conn *c = s->data;
  if (n < 0)
    conn_close(c);
  else if (n > 0 && c->ssl)
    on_read_tls(c, buf->base, (size_t)n);
  else if (n > 0)
    feed(c, buf->base, (size_t)n);
}

/* The response is done: parse what came meanwhile and read on. */
static void resume(srv_conn *c) {
  if (c->closing) return;
  c->busy = 0;
  if (c->pending_len) {
    char *p = c->pending;
    size_t n = c->pending_len;
    c->pending = NULL, c->pending_len = 0;
    feed(c, p, n);
    free(p);
    if (c->busy || c->closing) return;
  }
  if (c->ssl) pump_tls(c); /* requests already decrypted or still in the session's buffers */
  if (c->busy || c->closing) return;
  uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
}

static void on_conn(uv_stream_t *srv, int status) {
  if (status < 0) return;
  srv_conn *c = calloc(1, sizeof *c);
  if (!c) return;
  uv_tcp_init(loop, &c->tcp);
  uv_timer_init(loop, &c->timer);
  c->tcp.data = c->timer.data = c;
  if (uv_accept(srv, (uv_stream_t *)&c->tcp) < 0) {
    conn_close(c);
    return;
  }
  conns_accepted++;
  uv_tcp_nodelay(&c->tcp, 1);
  if (tls) {
    c->ssl = SSL_new(tls);
    c->rbio = BIO_new(BIO_s_mem());
    c->wbio = BIO_new(BIO_s_mem());
    if (!c->ssl || !c->rbio || !c->wbio) {
      BIO_free(c->rbio), BIO_free(c->wbio);
      conn_close(c);
      return;
    }
    SSL_set_bio(c->ssl, c->rbio, c->wbio);
    SSL_set_accept_state(c->ssl);
  }
  http_parser_init(&c->parser, HTTP_REQUEST);
  c->parser.data = c;
  uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
}

static void on_deadline(uv_timer_t *t) {
  (void)t;
  fflush(stdout);
  _exit(0);
}

static int select_alpn(SSL *ssl, const unsigned char **out, unsigned char *outlen, const unsigned char *in,
                       unsigned inlen, void *arg) {
  static const unsigned char mine[] = "\x08http/1.1";
  (void)ssl, (void)arg;
  int rc = SSL_select_next_proto((unsigned char **)out, outlen, mine, sizeof mine - 1, in, inlen);
  return rc == OPENSSL_NPN_NEGOTIATED ? SSL_TLSEXT_ERR_OK : SSL_TLSEXT_ERR_ALERT_FATAL;
}

/* dir/file as PEM (testcert_write_pem). */
static int write_pem(const char *dir, const char *file, X509 *cert, EVP_PKEY *key) {
  char path[4096];
  snprintf(path, sizeof path, "%s/%s", dir, file);
  return testcert_write_pem(path, cert, key);
}

/* The TLS context of --tls-dir: fresh server and client certificates, written out for clients. */
static SSL_CTX *tls_setup(const char *dir, int require_client_cert) {
  EVP_PKEY *skey = EVP_EC_gen("P-256"), *ckey = EVP_EC_gen("P-256");
  X509 *scert = skey ? testcert_make(skey, "loadctl testserver", 1) : NULL;
  X509 *ccert = ckey ? testcert_make(ckey, "loadctl test client", 2) : NULL;
  SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
  int ok = scert && ccert && ctx && write_pem(dir, "server.pem", scert, NULL) &&
           write_pem(dir, "client.pem", ccert, ckey) && SSL_CTX_use_certificate(ctx, scert) == 1 &&
           SSL_CTX_use_PrivateKey(ctx, skey) == 1;
  if (ok && require_client_cert) {
    ok = X509_STORE_add_cert(SSL_CTX_get_cert_store(ctx), ccert) == 1;
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
  }
  SSL_CTX_set_alpn_select_cb(ctx, select_alpn, NULL);
  SSL_CTX_set_session_id_context(ctx, (const unsigned char *)"testserver", 10);
  X509_free(scert), X509_free(ccert);
  EVP_PKEY_free(skey), EVP_PKEY_free(ckey);
  if (!ok) {
    fprintf(stderr, "testserver: cannot set up TLS in %s\n", dir);
    SSL_CTX_free(ctx);
    return NULL;
  }
  return ctx;
}

static void on_term(uv_signal_t *h, int signum) {
  (void)h, (void)signum;
  printf("SERVED %lld\n", (long long)served);
  fflush(stdout);
  _exit(0);
}

int main(int argc, char **argv) {
  static uv_signal_t term;
  long port = 0;
  double duration_s = 60;
  const char *host = "127.0.0.1", *tls_dir = NULL;
  int require_client_cert = 0;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (strcmp(argv[i], "--port") == 0)
      port = strtol(argv[i + 1], NULL, 10);
    else if (strcmp(argv[i], "--duration-s") == 0)
      duration_s = strtod(argv[i + 1], NULL);
    else if (strcmp(argv[i], "--host") == 0)
      host = argv[i + 1];
    else if (strcmp(argv[i], "--tls-dir") == 0)
      tls_dir = argv[i + 1];
    else if (strcmp(argv[i], "--tls-client-cert") == 0)
      require_client_cert = strcmp(argv[i + 1], "1") == 0;
    else {
      fprintf(stderr,
              "usage: testserver [--port N] [--host ADDR] [--duration-s S] [--tls-dir DIR "
              "[--tls-client-cert 1]]\n");
      return 1;
    }
  }
  if (tls_dir && !(tls = tls_setup(tls_dir, require_client_cert))) return 1;
  if (port < 0 || port > 65535 || !(duration_s > 0)) {
    fprintf(stderr, "testserver: bad --port or --duration-s\n");
    return 1;
  }
  signal(SIGPIPE, SIG_IGN);
  settings.on_message_begin = on_begin;
  settings.on_url = on_url;
  settings.on_header_field = on_field;
  settings.on_header_value = on_value;
  settings.on_headers_complete = on_headers_done;
  settings.on_body = on_body;
  settings.on_message_complete = on_complete;
  loop = uv_default_loop();
  struct sockaddr_storage ss;
  if (uv_ip4_addr(host, (int)port, (struct sockaddr_in *)&ss) &&
      uv_ip6_addr(host, (int)port, (struct sockaddr_in6 *)&ss)) {
    fprintf(stderr, "testserver: bad --host %s\n", host);
    return 1;
  }
  uv_tcp_init(loop, &server);
  int rc = uv_tcp_bind(&server, (struct sockaddr *)&ss, 0);
  if (rc == 0) rc = uv_listen((uv_stream_t *)&server, 1024, on_conn);
  if (rc < 0) {
    fprintf(stderr, "testserver: listen %s:%ld: %s\n", host, port, uv_strerror(rc));
    return 2;
  }
  struct sockaddr_storage bound;
  int blen = sizeof bound;
  uv_tcp_getsockname(&server, (struct sockaddr *)&bound, &blen);
  int real = ntohs(bound.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&bound)->sin6_port
                                               : ((struct sockaddr_in *)&bound)->sin_port);
  printf("PORT %d\n", real);
  fflush(stdout);
  uv_timer_init(loop, &deadline);
  uv_timer_start(&deadline, on_deadline, (uint64_t)(duration_s * 1000), 0);
  uv_signal_init(loop, &term);
  uv_signal_start(&term, on_term, SIGTERM);
  uv_unref((uv_handle_t *)&term);
  return uv_run(loop, UV_RUN_DEFAULT);
}
