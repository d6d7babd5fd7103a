/* http_h1.c - lean HTTP/1.1 client on uv_tcp (the default backend for http:// and https://): the
 * per-request path is one uv_try_write and the reads of one long-running uv_read_start, with no allocation
 * once a conn's buffers have grown to the request and response sizes it sees. https:// goes through
 * worker/tls on the same reads and writes. */
#include "worker/http_h1.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/stats.h"
#include "worker/h1req.h"
#include "worker/h1resp.h"
#include "worker/tls.h"

#define READ_BUF 65536
#define PLAIN_BUF 16384 /* one TLS record */
#define DEFAULT_TIMEOUT_MS 30000
#define DEFAULT_CONNECT_TIMEOUT_MS 10000

enum { ST_NONE = 0, ST_CONNECTING, ST_OPEN, ST_CLOSING };

struct http_h1 {
  uv_loop_t *loop;
  tls_ctx *tls;      /* not owned; NULL: no https:// */
  uv_timer_t anchor; /* closed last, so close_cb always runs from the loop */
  http_h1_conn *conns;
  int live;             /* conns not yet freed + anchor */
  int64_t conns_opened; /* TCP connections established, ever */
  int closing;
  void (*close_cb)(void *ud);
  void *close_ud;
  char rbuf[READ_BUF];  /* one read buffer for all conns: reads are parsed before the next alloc */
  char pbuf[PLAIN_BUF]; /* and one for what TLS decrypts from it */
};

struct http_h1_conn {
  http_h1 *h;
  http_h1_conn *prev, *next;
  uv_tcp_t tcp;
  uv_timer_t timer;
  uv_connect_t creq;
  uv_write_t wreq;
  uv_getaddrinfo_t gai;
  int tcp_state, want_connect, gai_pending, released, handles;
  int reused;  /* the open connection already carried a response (or was opened ahead of one) */
  int pre;     /* connecting ahead of any request (http_h1_conn_preconnect) */
  int retried; /* this request was already resent once on a fresh connection */
  char host[256];
  char gai_host[256]; /* what the pending lookup asked for (the host may change meanwhile) */
  int port;
  int https;     /* the destination speaks TLS */
  tls_conn *tls; /* the open connection's TLS session, NULL on plain http:// */
  int tls_ready; /* its handshake is done */
  int64_t tls_start_ns;
  struct sockaddr_storage addr;
  int have_addr;
  /* request */
  int busy, connecting;
  int writing; /* a uv_write of q.bytes is still queued: they must not change, the connection not be reused */
  http_h1_done_cb done;
  void *ud;
  h1req q; /* the request bytes, their shape, and the cookie jar */
  int64_t timeout_ms, connect_timeout_ms, connect_start_ns;
  int64_t read_ns; /* clock of the read being parsed (0 outside feed): the response's done time */
  int64_t write_start_ns, write_end_ns; /* the request's bytes went out (0: not yet) */
  /* response */
  h1resp rsp;
  http_response res;
  int got_byte;
};

static void tcp_closed(uv_handle_t *handle);
static void start_connect(http_h1_conn *c);

/* ms left before the request (or its connect) times out, now_ns being the time now. */
static int64_t time_left_ms(const http_h1_conn *c, int64_t now_ns) {
  int64_t left = c->timeout_ms - clock_ns_to_ms(now_ns - c->res.sent_ns);
  if (c->connecting && c->connect_timeout_ms < left) left = c->connect_timeout_ms;
  return left > 0 ? left : 0;
}

/* ---- connection lifetime ---- */

static void h_unref(http_h1 *h) {
  if (--h->live > 0) return;
  void (*cb)(void *) = h->close_cb;
  void *ud = h->close_ud;
  free(h);
  if (cb) cb(ud);
}

static void maybe_free(http_h1_conn *c) {
  if (!c->released || c->handles > 0 || c->gai_pending) return;
  http_h1 *h = c->h;
  if (c->prev)
    c->prev->next = c->next;
  else
    h->conns = c->next;
  if (c->next) c->next->prev = c->prev;
  h1req_free(&c->q);
  h1resp_free(&c->rsp);
  free(c);
  h_unref(h);
}

static void handle_closed(uv_handle_t *handle) {
  http_h1_conn *c = handle->data;
  c->handles--;
  maybe_free(c);
}

static void close_tcp(http_h1_conn *c) {
  if (c->tcp_state == ST_NONE || c->tcp_state == ST_CLOSING) return;
  c->tcp_state = ST_CLOSING;
  uv_close((uv_handle_t *)&c->tcp, tcp_closed);
}

static void tcp_closed(uv_handle_t *handle) {
  http_h1_conn *c = handle->data;
  c->tcp_state = ST_NONE;
  tls_conn_free(c->tls);
  c->tls = NULL;
  c->tls_ready = 0;
  c->writing = 0;
  c->reused = 0;
  c->handles--;
  if (c->released) {
    maybe_free(c);
  } else if (c->want_connect) {
    c->want_connect = 0;
    start_connect(c);
  }
}

/* ---- completion ---- */

static void finish(http_h1_conn *c) {
  http_response res = c->res; /* the callback may start the next request on c */
  c->busy = 0;
  res.done_ns = c->read_ns ? c->read_ns : clock_mono_ns();
  c->read_ns = 0;
  if (res.error) {
    res.status = 0;
  } else {
    res.headers_raw = c->rsp.hdrs.data;
    res.headers_len = c->rsp.hdrs.len;
    res.body = c->rsp.body.data;
    res.body_len = c->rsp.body.len;
  }
  if (res.ttfb_ns > res.done_ns - res.sent_ns) res.ttfb_ns = res.done_ns - res.sent_ns;
  if (c->write_start_ns) {
    int64_t first_ns = c->got_byte ? res.sent_ns + res.ttfb_ns : res.done_ns;
    int64_t written_ns = c->write_end_ns ? c->write_end_ns : res.done_ns; /* still writing when it failed */
    res.sending_ns = written_ns - c->write_start_ns;
    res.waiting_ns = first_ns - written_ns;
    res.receiving_ns = res.done_ns - first_ns;
  }
  http_response_settle(&res);
  c->done(c->ud, &res);
}

static void fail(http_h1_conn *c, int kind, const char *what, int uverr) {
  close_tcp(c);
  c->want_connect = c->pre = 0;
  if (!c->busy) return; /* a connection opened ahead of any request: nobody to tell */
  c->res.error = kind;
  if (uverr)
    snprintf(c->res.error_message, sizeof c->res.error_message, "%.120s: %.120s", what, uv_strerror(uverr));
  else
    snprintf(c->res.error_message, sizeof c->res.error_message, "%s", what);
  finish(c);
}

static int connect_kind(int uverr) {
  return uverr == UV_ETIMEDOUT ? STATS_ERR_TIMEOUT : STATS_ERR_CONNECT;
}

/* The connection broke (EOF or error) before the response was complete. */
static void broken(http_h1_conn *c, int uverr) {
  if (c->reused && !c->got_byte && !c->retried) {
    /* a kept-alive connection the server had already closed: resend once on a fresh one */
    c->retried = 1;
    c->res.bytes_out = 0;
    c->want_connect = 1;
    close_tcp(c);
    return;
  }
  if (uverr == UV_EOF)
    fail(c, STATS_ERR_RESET,
         c->got_byte ? "connection closed mid-response" : "connection closed before any response", 0);
  else
    fail(c, uverr == UV_ETIMEDOUT ? STATS_ERR_TIMEOUT : STATS_ERR_RESET, "receive", uverr);
}

static void on_timer(uv_timer_t *t) {
  http_h1_conn *c = t->data;
  if (!c->busy) return;
  int64_t left = time_left_ms(c, clock_mono_ns());
  if (left > 0) { /* armed for an earlier request, or for the connect before the whole request */
    uv_timer_start(&c->timer, on_timer, (uint64_t)left, 0);
    return;
  }
  const char *what = !c->connecting ? "request timeout"
                     : c->tls       ? "TLS handshake timeout"
                                    : "connect timeout";
  fail(c, STATS_ERR_TIMEOUT, what, 0);
}

/* ---- response parsing ---- */

/* After a complete response: keep the connection or close it, then report. */
static void response_done(http_h1_conn *c, int trailing) {
  c->res.status = h1resp_status(&c->rsp);
  if (c->res.status == 101 || c->res.status < 100) { /* http-parser takes 1 to 3 digits (fuzz_h1resp) */
    fail(c, STATS_ERR_PROTOCOL,
         c->res.status == 101 ? "101 Switching Protocols not supported"
                              : "malformed HTTP response: status code below 100",
         0);
    return;
  }
  if (trailing || c->writing || !h1resp_keep_alive(&c->rsp))
    close_tcp(c);
  else
    c->reused = 1;
  finish(c);
}

static void feed(http_h1_conn *c, const char *data, size_t len) {
  c->read_ns = clock_mono_ns(); /* first byte and, for most responses, the last: one clock read */
  if (!c->got_byte) {
    c->got_byte = 1;
    c->res.ttfb_ns = c->read_ns - c->res.sent_ns;
  }
  c->res.bytes_in += len;
  size_t used = h1resp_feed(&c->rsp, data, len);
  if (c->rsp.complete) {
    response_done(c, used < len);
    return;
  }
  c->read_ns = 0;
  const char *why = h1resp_error(&c->rsp);
  if (why) {
    char msg[160];
    snprintf(msg, sizeof msg, "malformed HTTP response: %s", why);
    fail(c, STATS_ERR_PROTOCOL, msg, 0);
  }
}

static void on_alloc(uv_handle_t *handle, size_t size, uv_buf_t *b) {
  http_h1_conn *c = handle->data;
  (void)size;
  *b = uv_buf_init(c->h->rbuf, sizeof c->h->rbuf);
}

static void on_eof(http_h1_conn *c, int uverr) {
  if (!c->busy || c->connecting) {
    close_tcp(c);
    return;
  }
  if (uverr == UV_EOF && c->got_byte) {
    h1resp_feed(&c->rsp, NULL, 0);
    if (c->rsp.complete) {
      response_done(c, 0);
      return;
    }
  }
  broken(c, uverr);
}

static void ready(http_h1_conn *c);

static void tls_failed(http_h1_conn *c) {
  fail(c, STATS_ERR_TLS, c->tls ? tls_conn_error(c->tls) : "TLS: out of memory", 0);
}

/* The handshake of c's connection moved on with the bytes fed: 0 when it is done, else -1. */
static int tls_handshake(http_h1_conn *c) {
  int rc = tls_conn_handshake(c->tls);
  if (rc < 0) tls_failed(c);
  if (rc <= 0) return -1;
  c->tls_ready = 1;
  if (c->busy) { /* what a request waited for: from its send, or the handshake's start if later */
    int64_t from = c->tls_start_ns > c->res.sent_ns ? c->tls_start_ns : c->res.sent_ns;
    c->res.tls_ns += clock_mono_ns() - from;
  }
  ready(c);
  return c->tcp_state == ST_OPEN ? 0 : -1;
}

/* Ciphertext read on an https:// connection: the handshake, then plaintext to the parser. */
static void tls_in(http_h1_conn *c, const char *data, size_t len) {
  tls_conn *t = c->tls;
  tls_conn_feed(t, data, len);
  if (!c->tls_ready && tls_handshake(c) < 0) return;
  while (c->tcp_state == ST_OPEN) {
    ssize_t n = tls_conn_read(t, c->h->pbuf, sizeof c->h->pbuf);
    if (n == 0) break;
    if (n > 0 && c->busy)
      feed(c, c->h->pbuf, (size_t)n);
    else if (n > 0)
      close_tcp(c); /* bytes nobody asked for */
    else if (n == TLS_CLOSED)
      on_eof(c, UV_EOF);
    else
      tls_failed(c);
  }
  tls_conn_feed(t, NULL, 0); /* what is left of data (a closed connection's) is not read later */
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b) {
  http_h1_conn *c = s->data;
  if (c->tcp_state != ST_OPEN) return;
  if (n > 0 && c->tls)
    tls_in(c, b->base, (size_t)n);
  else if (n > 0 && c->busy)
    feed(c, b->base, (size_t)n);
  else if (n > 0)
    close_tcp(c); /* bytes nobody asked for: this connection is out of step */
  else if (n < 0)
    on_eof(c, (int)n);
}

/* ---- sending ---- */

static void on_write(uv_write_t *w, int status) {
  http_h1_conn *c = w->data;
  c->writing = 0;
  if (status == UV_ECANCELED || !c->busy || c->tcp_state != ST_OPEN) return;
  if (status < 0)
    broken(c, status);
  else
    c->write_end_ns = clock_mono_ns();
}

static void on_tls_written(void *ud, int status) {
  http_h1_conn *c = ud;
  c->writing = 0;
  if (status == UV_ECANCELED || !c->busy || c->tcp_state != ST_OPEN) return;
  if (status < 0)
    broken(c, status);
  else
    c->write_end_ns = clock_mono_ns();
}

static void write_tls(http_h1_conn *c) {
  int rc = tls_conn_write(c->tls, c->q.bytes.data, c->q.bytes.len);
  c->res.bytes_out = c->q.bytes.len;
  if (rc == UV_EPROTO)
    tls_failed(c);
  else if (rc < 0)
    broken(c, rc);
  else
    c->writing = tls_conn_writing(c->tls);
  if (c->writing) c->write_end_ns = 0; /* set when the queued bytes are out */
}

/* Send the request's bytes, now_ns being the time now. */
static void write_request(http_h1_conn *c, int64_t now_ns) {
  c->write_start_ns = c->write_end_ns = now_ns;
  if (c->tls) {
    write_tls(c);
    return;
  }
  uv_buf_t b = uv_buf_init(c->q.bytes.data, (unsigned)c->q.bytes.len);
  int n = uv_try_write((uv_stream_t *)&c->tcp, &b, 1);
  if (n == UV_EAGAIN || n == UV_ENOSYS) n = 0;
  if (n < 0) {
    broken(c, n);
    return;
  }
  c->res.bytes_out = c->q.bytes.len;
  if ((size_t)n == c->q.bytes.len) return;
  b = uv_buf_init(c->q.bytes.data + n, (unsigned)(c->q.bytes.len - (size_t)n));
  c->wreq.data = c;
  int rc = uv_write(&c->wreq, (uv_stream_t *)&c->tcp, &b, 1, on_write);
  if (rc < 0)
    broken(c, rc);
  else
    c->writing = 1, c->write_end_ns = 0; /* set when the queued bytes are out */
}

/* Make the timer fire by the request's deadline. A timer already due earlier is left running, and
 * fires early to re-arm for what is left (on_timer): back-to-back requests on a connection then cost
 * no uv_timer start and stop each. */
static void arm_timer(http_h1_conn *c, int64_t now_ns) {
  int64_t left = time_left_ms(c, now_ns);
  if (uv_is_active((uv_handle_t *)&c->timer) && uv_timer_get_due_in(&c->timer) <= (uint64_t)left) return;
  uv_timer_start(&c->timer, on_timer, (uint64_t)left, 0);
}

/* c's connection is up, TLS included: send the request that waits for it. */
static void ready(http_h1_conn *c) {
  int pre = c->pre;
  c->connecting = c->pre = 0;
  if (pre) c->reused = 1; /* the server may close it before the first request: that one is resent */
  if (!c->busy) return;
  int64_t now = clock_mono_ns();
  arm_timer(c, now);
  write_request(c, now);
}

static void start_tls(http_h1_conn *c, int64_t now_ns) {
  c->tls_start_ns = now_ns;
  int rc = tls_conn_create(c->h->tls, (uv_stream_t *)&c->tcp, c->host, c->port, "http/1.1", on_tls_written, c,
                           &c->tls);
  if (rc == 0) rc = tls_conn_handshake(c->tls);
  if (rc < 0) tls_failed(c);
}

static void on_connect(uv_connect_t *r, int status) {
  http_h1_conn *c = r->data;
  if (status == UV_ECANCELED || c->tcp_state != ST_CONNECTING) return;
  if (status < 0) {
    c->connecting = c->pre = 0;
    if (c->busy)
      fail(c, connect_kind(status), "connect", status);
    else
      close_tcp(c); /* opened ahead: the first request connects again and reports the error */
    return;
  }
  c->tcp_state = ST_OPEN;
  c->h->conns_opened++;
  int64_t now = clock_mono_ns();
  if (c->busy) { /* what a request waited for: from its send, or the connect's start if later */
    int64_t from = c->connect_start_ns > c->res.sent_ns ? c->connect_start_ns : c->res.sent_ns;
    c->res.connect_ns += now - from;
  }
  uv_tcp_nodelay(&c->tcp, 1);
  int rc = uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
  if (rc < 0) {
    c->connecting = c->pre = 0;
    if (c->busy)
      fail(c, STATS_ERR_CONNECT, "read start", rc);
    else
      close_tcp(c);
    return;
  }
  if (c->https)
    start_tls(c, now);
  else
    ready(c);
}

static void connect_addr(http_h1_conn *c) {
  int rc = uv_tcp_init(c->h->loop, &c->tcp);
  if (rc < 0) {
    fail(c, STATS_ERR_CONNECT, "socket", rc);
    return;
  }
  c->handles++;
  c->tcp.data = c;
  c->tcp_state = ST_CONNECTING;
  c->connecting = 1;
  c->connect_start_ns = clock_mono_ns();
  c->creq.data = c;
  rc = uv_tcp_connect(&c->creq, &c->tcp, (const struct sockaddr *)&c->addr, on_connect);
  if (rc < 0) {
    c->connecting = 0;
    fail(c, connect_kind(rc), "connect", rc);
    return;
  }
  arm_timer(c, clock_mono_ns());
}

static void on_resolved(uv_getaddrinfo_t *g, int status, struct addrinfo *ai) {
  http_h1_conn *c = g->data;
  const struct addrinfo *pick = ai;
  c->gai_pending = 0;
  for (const struct addrinfo *a = ai; a; a = a->ai_next)
    if (a->ai_family == AF_INET) {
      pick = a;
      break;
    }
  if (status == 0 && pick && !c->released && strcmp(c->gai_host, c->host) == 0) {
    memcpy(&c->addr, pick->ai_addr, pick->ai_addrlen);
    ((struct sockaddr_in *)&c->addr)->sin_port = htons((uint16_t)c->port); /* same offset for v6 */
    c->have_addr = 1;
  }
  if (ai) uv_freeaddrinfo(ai);
  if (c->released)
    maybe_free(c);
  else if ((c->busy || c->pre) && c->have_addr && c->tcp_state == ST_NONE)
    connect_addr(c);
  else if (c->busy && strcmp(c->gai_host, c->host) != 0)
    start_connect(c); /* asked for another host */
  else if (c->busy)
    fail(c, STATS_ERR_DNS, c->host, status < 0 ? status : UV_EAI_NONAME);
  else
    c->pre = 0;
}

static void start_connect(http_h1_conn *c) {
  if (c->have_addr) {
    connect_addr(c);
    return;
  }
  if (uv_ip4_addr(c->host, c->port, (struct sockaddr_in *)&c->addr) == 0 ||
      uv_ip6_addr(c->host, c->port, (struct sockaddr_in6 *)&c->addr) == 0) {
    c->have_addr = 1;
    connect_addr(c);
    return;
  }
  c->connecting = 1;
  if (c->gai_pending) { /* an earlier, timed out lookup is still running: wait for it */
    arm_timer(c, clock_mono_ns());
    return;
  }
  struct addrinfo hints;
  memset(&hints, 0, sizeof hints);
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  c->gai.data = c;
  memcpy(c->gai_host, c->host, sizeof c->host);
  int rc = uv_getaddrinfo(c->h->loop, &c->gai, on_resolved, c->host, NULL, &hints);
  if (rc < 0) {
    c->connecting = 0;
    fail(c, STATS_ERR_DNS, c->host, rc);
    return;
  }
  c->gai_pending = 1;
  arm_timer(c, clock_mono_ns());
}

/* Point c at d's host, port and scheme, dropping its connection and address if that is a change. */
static void set_destination(http_h1_conn *c, const h1req_dest *d) {
  size_t hl = d->host_len;
  if (d->port == c->port && d->tls == c->https && strlen(c->host) == hl && memcmp(c->host, d->host, hl) == 0)
    return;
  close_tcp(c);
  memcpy(c->host, d->host, hl);
  c->host[hl] = 0;
  c->port = d->port;
  c->https = d->tls;
  c->have_addr = 0;
  h1req_forget(&c->q);
}

/* d from url, checked for what this backend can send. */
static int destination(const http_h1 *h, const char *url, h1req_dest *d) {
  int rc = h1req_parse_url(url, d);
  if (rc < 0) return rc;
  if (d->tls && !h->tls) return -EPROTONOSUPPORT;
  return d->host_len < sizeof((http_h1_conn *)0)->host ? 0 : -EINVAL;
}

/* Parse the URL; switch destination (dropping connection and address) if it changed. */
static int prepare(http_h1_conn *c, const http_request *r) {
  /* the same method, URL, header names and body as the last request: its destination, parsed and
   * checked then, is c's (set_destination drops the cached shape), and only the values differ */
  if (h1req_reuse(&c->q, r)) return 0;
  h1req_dest d;
  int rc = destination(c->h, r->url, &d);
  if (rc < 0) return rc;
  if (!h1req_token_ok(r->method)) return -EINVAL;
  for (size_t i = 0; i < r->nheaders; i++)
    if (!h1req_token_ok(r->headers[i].name) || !h1req_value_ok(r->headers[i].value)) return -EINVAL;
  set_destination(c, &d);
  return h1req_build(&c->q, r, d.target, d.target_len, d.hostport, d.hostport_len);
}

int64_t http_h1_conns_opened(const http_h1 *h) {
  return h->conns_opened;
}

int http_h1_supports(const char *url) {
  return url && (strncasecmp(url, "http://", 7) == 0 || strncasecmp(url, "https://", 8) == 0);
}

int http_h1_conn_send(http_h1_conn *c, const http_request *req, http_h1_done_cb done, void *ud) {
  if (c->busy) return -EBUSY;
  if (c->released || !req || !req->method || !req->url || (req->body_len && !req->body) || !done)
    return -EINVAL;
  int rc = prepare(c, req);
  if (rc < 0) return rc;
  memset(&c->res, 0, sizeof c->res);
  c->done = done;
  c->ud = ud;
  c->busy = 1;
  c->retried = c->got_byte = c->connecting = 0;
  c->write_start_ns = c->write_end_ns = 0;
  c->timeout_ms = req->timeout_ms > 0 ? req->timeout_ms : DEFAULT_TIMEOUT_MS;
  c->connect_timeout_ms = req->connect_timeout_ms > 0 ? req->connect_timeout_ms : DEFAULT_CONNECT_TIMEOUT_MS;
  h1resp_begin(&c->rsp, &c->q, strcmp(req->method, "HEAD") == 0, req->max_body);
  c->res.sent_ns = req->now_ns > 0 ? req->now_ns : clock_mono_ns();
  if (c->tcp_state == ST_OPEN && (!c->tls || c->tls_ready)) {
    arm_timer(c, c->res.sent_ns);
    write_request(c, c->res.sent_ns);
  } else if (c->tcp_state == ST_OPEN || c->tcp_state == ST_CONNECTING || c->gai_pending) {
    /* opened ahead, not there yet (TCP or TLS handshake): ready() sends it */
    c->connecting = 1;
    arm_timer(c, c->res.sent_ns);
  } else if (c->tcp_state == ST_CLOSING) {
    c->want_connect = 1;
  } else {
    start_connect(c);
  }
  return 0;
}

int http_h1_conn_preconnect(http_h1_conn *c, const char *url) {
  h1req_dest d;
  if (c->released || c->busy || !url || destination(c->h, url, &d) < 0) return -EINVAL;
  set_destination(c, &d);
  if (c->tcp_state != ST_NONE || c->gai_pending) return 0;
  c->pre = 1;
  c->timeout_ms = c->connect_timeout_ms = DEFAULT_CONNECT_TIMEOUT_MS;
  memset(&c->res, 0, sizeof c->res);
  start_connect(c);
  return 0;
}

int http_h1_conn_create(http_h1 *h, http_h1_conn **out) {
  if (h->closing) return -EINVAL;
  http_h1_conn *c = calloc(1, sizeof *c);
  if (!c) return -ENOMEM;
  c->h = h;
  uv_timer_init(h->loop, &c->timer);
  c->timer.data = c;
  c->handles = 1;
  c->next = h->conns;
  if (h->conns) h->conns->prev = c;
  h->conns = c;
  h->live++;
  *out = c;
  return 0;
}

void http_h1_conn_release(http_h1_conn *c) {
  if (!c || c->released) return;
  c->released = 1;
  c->busy = 0;
  c->want_connect = 0;
  close_tcp(c);
  uv_close((uv_handle_t *)&c->timer, handle_closed);
  if (c->gai_pending) uv_cancel((uv_req_t *)&c->gai);
}

int http_h1_create(uv_loop_t *loop, tls_ctx *tls, http_h1 **out) {
  http_h1 *h = calloc(1, sizeof *h);
  if (!h) return -ENOMEM;
  h->loop = loop;
  h->tls = tls;
  uv_timer_init(loop, &h->anchor);
  h->anchor.data = h;
  h->live = 1;
  *out = h;
  return 0;
}

static void anchor_closed(uv_handle_t *handle) {
  h_unref(handle->data);
}

void http_h1_close(http_h1 *h, void (*close_cb)(void *ud), void *ud) {
  if (!h || h->closing) return;
  h->closing = 1;
  h->close_cb = close_cb;
  h->close_ud = ud;
  for (http_h1_conn *c = h->conns; c; c = c->next) http_h1_conn_release(c);
  uv_close((uv_handle_t *)&h->anchor, anchor_closed);
}
