/* http_h2.c - the HTTP/2 backend (see http_h2.h): origins, each with up to `connections` nghttp2 sessions
 * over h2io pipes; a VU's request joins the least loaded session of its origin as a stream, or waits in
 * that session's queue while the session connects or is at the server's stream limit. Completions found
 * while nghttp2 parses a read are delivered after it returns, so a VU's next request never runs inside
 * nghttp2; what nghttp2 has to send goes out once per read and once per loop pass (a uv_prepare). */
#include "worker/http_h2.h"

#include <errno.h>
#include <nghttp2/nghttp2.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/clock.h"
#include "common/stats.h"
#include "worker/h2io.h"
#include "worker/h2req.h"

#define DEFAULT_TIMEOUT_MS 30000
#define DEFAULT_CONNECT_TIMEOUT_MS 10000
#define STREAMS_BEFORE_SETTINGS 100 /* streams a session takes before the server's SETTINGS arrive */
#define LOCAL_WINDOW (16 * 1024 * 1024) /* our receive window per connection and per stream */

enum { S_RESOLVING = 1, S_CONNECTING, S_OPEN };
enum { C_IDLE = 0, C_WAITING, C_STREAM, C_DONE };

typedef struct origin origin;
typedef struct sess sess;

struct sess {
  origin *o;
  int slot, state, goaway, dead;
  h2io *io;
  nghttp2_session *ng;
  int nstreams;           /* streams open on ng (ours, or cancelled ones not yet closed) */
  http_h2_conn *waitq;    /* conns waiting for a stream here, oldest first */
  http_h2_conn **waitend; /* where the next waiting conn goes */
  int nwaiting;
  int dirty;              /* in h->dirty: nghttp2 has bytes to send */
  sess *next_dirty;
  sess *next_drain;       /* in o->draining once a GOAWAY took it out of its slot (slot is then -1) */
  int64_t start_ns, open_ns;
};

struct origin {
  origin *next;
  http_h2 *h;
  int tls, port, is_h1;
  char host[256];
  char prefix[300]; /* "https://host:port" as the first URL spelled it */
  size_t prefix_len;
  struct sockaddr_storage addr;
  int have_addr, resolving;
  uv_getaddrinfo_t gai;
  sess **slots;
  sess *draining; /* sessions after a GOAWAY: no new streams, closed when their last one ends */
};

struct http_h2_conn {
  http_h2 *h;
  http_h2_conn *prev, *next;
  http_h2_conn *wnext; /* in a session's wait queue or the finished list */
  origin *o;
  sess *s;
  int32_t stream_id;
  int state, released, handles, forced, retried, fallback, got_byte;
  uv_timer_t timer;
  h2req q; /* the request as nghttp2 takes it (the VU's cookies from its jar) */
  int64_t timeout_ms, connect_timeout_ms;
  int64_t stream_ns; /* when its stream was submitted: before it, blocked (connecting, or no free stream) */
  http_h2_done_cb done;
  void *ud;
  http_response res;
  h1req_buf hdrs, body;
  size_t max_body;
};

struct http_h2 {
  uv_loop_t *loop;
  http_h2_options opt;
  nghttp2_session_callbacks *cbs;
  nghttp2_option *ngopt;
  uv_prepare_t flusher; /* sends what sessions queued during the loop pass, before the loop polls */
  uv_idle_t kick;       /* active while completions wait for the next pass: the poll must not block */
  origin *origins;
  http_h2_conn *conns;
  sess *dirty;
  http_h2_conn *finished, **finished_end; /* completions to deliver once nghttp2 has returned */
  int live, closing, delivering;
  h1req_buf wbuf;
  h2io_bufs bufs;
  void (*close_cb)(void *ud);
  void *close_ud;
};

static void dispatch(sess *s);
static void deliver(http_h2 *h);
static void pick_session(http_h2_conn *c);

/* ---- sending what nghttp2 queued ---- */

static void session_fail(sess *s, int kind, const char *msg);

static void flush(sess *s) {
  http_h2 *h = s->o->h;
  const uint8_t *data;
  ssize_t n;
  if (s->state != S_OPEN || s->dead) return;
  h->wbuf.len = 0;
  while ((n = nghttp2_session_mem_send(s->ng, &data)) > 0)
    if (h1req_buf_add(&h->wbuf, data, (size_t)n)) break;
  if (n < 0) {
    session_fail(s, STATS_ERR_PROTOCOL, nghttp2_strerror((int)n));
    return;
  }
  if (h->wbuf.len) h2io_write(s->io, h->wbuf.data, h->wbuf.len);
}

static void mark_dirty(sess *s) {
  http_h2 *h = s->o->h;
  if (s->dirty || s->dead) return;
  s->dirty = 1;
  s->next_dirty = h->dirty;
  h->dirty = s;
}

static void on_kick(uv_idle_t *idle) {
  (void)idle;
}

/* Before the loop polls: deliver what finished and send what sessions queued, until neither is left
 * (a delivered VU may queue its next request). */
static void on_flusher(uv_prepare_t *p) {
  http_h2 *h = p->data;
  deliver(h);
  while (h->dirty) {
    sess *s = h->dirty;
    h->dirty = s->next_dirty;
    s->dirty = 0;
    flush(s);
  }
  /* what finished meanwhile (a request that failed as it was sent) goes next pass: poll without waiting */
  if (h->finished) uv_idle_start(&h->kick, on_kick);
  else uv_idle_stop(&h->kick);
}

/* ---- finishing a request ---- */

static void finish(http_h2_conn *c, int kind, const char *msg) {
  if (c->state == C_DONE || c->state == C_IDLE) return;
  c->state = C_DONE;
  c->s = NULL;
  c->stream_id = 0;
  c->res.done_ns = clock_mono_ns();
  if (kind != STATS_ERR_NONE) {
    c->res.error = kind;
    c->res.status = 0;
    snprintf(c->res.error_message, sizeof c->res.error_message, "%s", msg);
  }
  http_h2 *h = c->h;
  c->wnext = NULL;
  *h->finished_end = c;
  h->finished_end = &c->wnext;
}

/* Call the done callbacks of finished requests (outside nghttp2: a callback may send the next one). */
static void deliver(http_h2 *h) {
  if (h->delivering) return;
  h->delivering = 1;
  http_h2_conn *list = h->finished; /* what finishes during the callbacks waits for the next pass */
  h->finished = NULL;
  h->finished_end = &h->finished;
  while (list) {
    http_h2_conn *c = list;
    list = c->wnext;
    if (c->released || c->state != C_DONE) continue;
    http_response res = c->res;
    c->state = C_IDLE;
    if (!res.error && !c->fallback) {
      res.headers_raw = c->hdrs.data;
      res.headers_len = c->hdrs.len;
      res.body = c->body.data;
      res.body_len = c->body.len;
    }
    if (res.ttfb_ns > res.done_ns - res.sent_ns) res.ttfb_ns = res.done_ns - res.sent_ns;
    if (c->got_byte && c->stream_ns) { /* sending is counted in waiting: nghttp2 writes frames for many */
      int64_t first_ns = res.sent_ns + res.ttfb_ns;
      res.waiting_ns = first_ns - c->stream_ns;
      res.receiving_ns = res.done_ns - first_ns;
    }
    http_response_settle(&res);
    c->done(c->ud, &res, c->fallback);
  }
  h->delivering = 0;
}

/* s takes no new streams: its slot is free for a new connection at once. */
static void drain(sess *s) {
  origin *o = s->o;
  s->goaway = 1;
  if (s->slot < 0) return;
  if (o->slots[s->slot] == s) o->slots[s->slot] = NULL;
  s->slot = -1;
  s->next_drain = o->draining;
  o->draining = s;
}

/* ---- nghttp2 callbacks ---- */

static http_h2_conn *stream_conn(nghttp2_session *ng, int32_t id) {
  return id > 0 ? nghttp2_session_get_stream_user_data(ng, id) : NULL;
}

static int on_header(nghttp2_session *ng, const nghttp2_frame *f, const uint8_t *name, size_t nl,
                     const uint8_t *value, size_t vl, uint8_t flags, void *ud) {
  http_h2_conn *c = stream_conn(ng, f->hd.stream_id);
  (void)flags, (void)ud;
  if (!c || f->hd.type != NGHTTP2_HEADERS) return 0;
  if (nl == 7 && memcmp(name, ":status", 7) == 0) {
    int st = 0;
    for (size_t i = 0; i < vl && i < 3; i++) st = st * 10 + (value[i] - '0');
    c->res.status = st;
    c->hdrs.len = 0; /* a final response after an interim one starts over */
    return 0;
  }
  if (nl == 10 && memcmp(name, "set-cookie", 10) == 0) h2req_set_cookie(&c->q, (const char *)value, vl);
  if (h1req_buf_add(&c->hdrs, name, nl) || h1req_buf_add(&c->hdrs, ": ", 2) || h1req_buf_add(&c->hdrs, value, vl) ||
      h1req_buf_add(&c->hdrs, "\r\n", 2))
    return NGHTTP2_ERR_CALLBACK_FAILURE;
  return 0;
}

static int on_begin_headers(nghttp2_session *ng, const nghttp2_frame *f, void *ud) {
  http_h2_conn *c = stream_conn(ng, f->hd.stream_id);
  (void)ud;
  if (c && !c->got_byte) {
    c->got_byte = 1;
    c->res.ttfb_ns = clock_mono_ns() - c->res.sent_ns;
  }
  return 0;
}

static int on_data(nghttp2_session *ng, uint8_t flags, int32_t id, const uint8_t *data, size_t len, void *ud) {
  http_h2_conn *c = stream_conn(ng, id);
  (void)flags, (void)ud;
  if (!c) return 0;
  c->res.bytes_in += len;
  if (c->body.len < c->max_body) {
    size_t keep = c->max_body - c->body.len;
    if (h1req_buf_add(&c->body, data, len < keep ? len : keep)) return NGHTTP2_ERR_CALLBACK_FAILURE;
  }
  return 0;
}

static int on_frame(nghttp2_session *ng, const nghttp2_frame *f, void *ud) {
  sess *s = ud;
  http_h2_conn *c = stream_conn(ng, f->hd.stream_id);
  if (c && f->hd.type == NGHTTP2_HEADERS) c->res.bytes_in += f->hd.length + 9;
  if (f->hd.type == NGHTTP2_GOAWAY) drain(s);
  return 0;
}

/* A stream ended: its response is complete (error_code 0), reset by the server (kind reset, the message
 * naming the HTTP/2 error code), or refused (never processed: resent once on another stream). */
static int on_close(nghttp2_session *ng, int32_t id, uint32_t error_code, void *ud) {
  sess *s = ud;
  http_h2_conn *c = stream_conn(ng, id);
  char msg[160];
  s->nstreams--;
  if (!c) return 0; /* cancelled (timeout or released) */
  nghttp2_session_set_stream_user_data(ng, id, NULL);
  if (error_code == NGHTTP2_NO_ERROR && c->res.status > 0) {
    s->o->is_h1 = 0;
    finish(c, STATS_ERR_NONE, NULL);
    return 0;
  }
  if (error_code == NGHTTP2_REFUSED_STREAM && !c->got_byte && !c->retried) {
    c->retried = 1;
    c->state = C_IDLE; /* pick_session queues it again (this session is draining after a GOAWAY) */
    c->s = NULL;
    pick_session(c);
    return 0;
  }
  snprintf(msg, sizeof msg, "%s: %s", s->goaway ? "stream closed after GOAWAY" : "stream reset by the server (RST_STREAM)",
           nghttp2_http2_strerror(error_code));
  if (error_code == NGHTTP2_NO_ERROR) snprintf(msg, sizeof msg, "stream ended without a response");
  finish(c, STATS_ERR_RESET, msg);
  return 0;
}

/* ---- sessions ---- */

static void session_free(sess *s) {
  origin *o = s->o;
  if (s->slot >= 0 && o->slots[s->slot] == s) o->slots[s->slot] = NULL;
  for (sess **p = &o->draining; s->slot < 0 && *p; p = &(*p)->next_drain)
    if (*p == s) {
      *p = s->next_drain;
      break;
    }
  s->dead = 1;
  if (s->dirty) { /* unlink from the dirty list */
    for (sess **p = &o->h->dirty; *p; p = &(*p)->next_dirty)
      if (*p == s) {
        *p = s->next_dirty;
        break;
      }
  }
  if (s->ng) nghttp2_session_del(s->ng);
  if (s->io) h2io_close(s->io);
  free(s);
}

/* Take the waiting conns off s (for another session or a failure). */
static http_h2_conn *take_waiting(sess *s) {
  http_h2_conn *w = s->waitq;
  s->waitq = NULL;
  s->waitend = &s->waitq;
  s->nwaiting = 0;
  return w;
}

/* The connection is gone: streams on it fail (or, never answered on a connection that had answered
 * before, are resent once); waiting conns move to the origin's other sessions, unless it never opened. */
static void session_fail(sess *s, int kind, const char *msg) {
  if (s->dead) return;
  origin *o = s->o;
  int opened = s->open_ns > 0;
  s->dead = 1;
  http_h2_conn *w = take_waiting(s);
  for (http_h2_conn *c = o->h->conns; c; c = c->next) {
    if (c->s != s || c->state != C_STREAM) continue;
    if (!c->got_byte && !c->retried && opened) {
      c->retried = 1;
      c->state = C_IDLE;
      c->s = NULL;
      c->wnext = w; /* resent below */
      w = c;
    } else {
      finish(c, kind, msg);
    }
  }
  s->dead = 0;
  session_free(s);
  while (w) {
    http_h2_conn *c = w;
    w = w->wnext;
    c->state = C_IDLE;
    c->s = NULL;
    if (!opened) {
      c->state = C_WAITING;
      finish(c, kind, msg);
    } else {
      pick_session(c);
    }
  }
}

static void io_fail(void *ud, int kind, const char *msg) {
  sess *s = ud;
  http_h2 *h = s->o->h;
  session_fail(s, kind, msg);
  deliver(h);
}

static void io_read(void *ud, const char *data, size_t len) {
  sess *s = ud;
  http_h2 *h = s->o->h;
  ssize_t n = nghttp2_session_mem_recv(s->ng, (const uint8_t *)data, len);
  if (n < 0) session_fail(s, STATS_ERR_PROTOCOL, nghttp2_strerror((int)n));
  else if (!nghttp2_session_want_read(s->ng) && !nghttp2_session_want_write(s->ng))
    session_fail(s, STATS_ERR_RESET, "connection closed by GOAWAY");
  else {
    flush(s);
    if (s->goaway && s->nstreams == 0) session_fail(s, STATS_ERR_RESET, "connection closed by GOAWAY");
    else dispatch(s);
  }
  deliver(h);
}

/* The pipe is up: over TLS without h2 the waiting conns fall back to HTTP/1.1 (or fail when forced). */
static void io_open(void *ud, const char *alpn) {
  sess *s = ud;
  origin *o = s->o;
  if (o->tls && strcmp(alpn, "h2") != 0) {
    char msg[128];
    snprintf(msg, sizeof msg, "the server did not pick h2 by ALPN (it picked \"%s\")", *alpn ? alpn : "nothing");
    o->is_h1 = 1;
    http_h2_conn *w = take_waiting(s);
    session_fail(s, STATS_ERR_PROTOCOL, msg);
    for (http_h2_conn *c; (c = w);) {
      w = w->wnext;
      c->fallback = !c->forced;
      finish(c, c->forced ? STATS_ERR_PROTOCOL : STATS_ERR_NONE, msg);
    }
    deliver(o->h);
    return;
  }
  nghttp2_settings_entry iv[] = {{NGHTTP2_SETTINGS_ENABLE_PUSH, 0},
                                 {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, LOCAL_WINDOW}};
  s->state = S_OPEN;
  s->open_ns = clock_mono_ns();
  if (nghttp2_submit_settings(s->ng, NGHTTP2_FLAG_NONE, iv, 2) != 0 ||
      nghttp2_session_set_local_window_size(s->ng, NGHTTP2_FLAG_NONE, 0, LOCAL_WINDOW) != 0) {
    session_fail(s, STATS_ERR_OTHER, "nghttp2: cannot send SETTINGS");
    deliver(o->h);
    return;
  }
  dispatch(s);
  flush(s);
  deliver(o->h);
}

static void session_connect(sess *s) {
  static const h2io_cbs cbs = {io_open, io_read, io_fail};
  origin *o = s->o;
  s->state = S_CONNECTING;
  int rc = h2io_open(o->h->loop, &o->h->bufs, (const struct sockaddr *)&o->addr, o->tls ? o->h->opt.tls : NULL,
                     o->host, o->port, "h2,http/1.1", &cbs, s, &s->io);
  if (rc < 0) session_fail(s, STATS_ERR_CONNECT, uv_strerror(rc));
}

static void on_resolved(uv_getaddrinfo_t *g, int status, struct addrinfo *ai) {
  origin *o = g->data;
  o->resolving = 0;
  for (const struct addrinfo *a = ai; a && status == 0; a = a->ai_next)
    if (a->ai_family == AF_INET || !a->ai_next) {
      memcpy(&o->addr, a->ai_addr, a->ai_addrlen);
      ((struct sockaddr_in *)&o->addr)->sin_port = htons((uint16_t)o->port); /* same offset for v6 */
      o->have_addr = 1;
      break;
    }
  if (ai) uv_freeaddrinfo(ai);
  if (!o->h) { /* the backend closed meanwhile */
    free(o->slots);
    free(o);
    return;
  }
  for (int i = 0; i < o->h->opt.connections; i++) {
    sess *s = o->slots[i];
    if (!s || s->state != S_RESOLVING) continue;
    if (o->have_addr) session_connect(s);
    else session_fail(s, STATS_ERR_DNS, status < 0 ? uv_strerror(status) : "no address");
  }
  deliver(o->h);
}

static sess *session_new(origin *o, int slot) {
  sess *s = calloc(1, sizeof *s);
  if (!s || nghttp2_session_client_new2(&s->ng, o->h->cbs, s, o->h->ngopt) != 0) {
    free(s);
    return NULL;
  }
  s->o = o;
  s->slot = slot;
  s->waitend = &s->waitq;
  s->start_ns = clock_mono_ns();
  o->slots[slot] = s;
  s->state = S_RESOLVING;
  if (o->have_addr) {
    session_connect(s);
    return o->slots[slot];
  }
  if (!o->resolving) {
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
    o->gai.data = o;
    if (uv_getaddrinfo(o->h->loop, &o->gai, on_resolved, o->host, NULL, &hints) < 0) {
      session_fail(s, STATS_ERR_DNS, "cannot start the name lookup");
      return NULL;
    }
    o->resolving = 1;
  }
  return s;
}

static uint32_t stream_limit(sess *s) {
  return nghttp2_session_get_remote_settings(s->ng, NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS);
}

/* ---- streams ---- */

static void start_stream(sess *s, http_h2_conn *c) {
  c->stream_ns = clock_mono_ns();
  if (s->open_ns > c->res.sent_ns) { /* the wait included this connection's connect and handshake */
    c->res.connect_ns = h2io_connect_ns(s->io);
    c->res.tls_ns = h2io_tls_ns(s->io);
  }
  int32_t id = h2req_submit(&c->q, s->ng, c);
  if (id < 0) {
    finish(c, STATS_ERR_PROTOCOL, nghttp2_strerror(id));
    if (id == NGHTTP2_ERR_STREAM_ID_NOT_AVAILABLE) drain(s);
    return;
  }
  c->state = C_STREAM;
  c->s = s;
  c->stream_id = id;
  c->res.bytes_out = c->q.bytes_out;
  s->nstreams++;
  mark_dirty(s);
}

/* Start the waiting conns of s that its stream limit allows. */
static void dispatch(sess *s) {
  if (s->state != S_OPEN || s->dead) return;
  while (s->waitq && !s->goaway && (uint32_t)s->nstreams < stream_limit(s)) {
    http_h2_conn *c = s->waitq;
    s->waitq = c->wnext;
    if (!s->waitq) s->waitend = &s->waitq;
    s->nwaiting--;
    start_stream(s, c);
  }
  if (s->goaway && s->waitq) { /* draining: the rest go elsewhere */
    http_h2_conn *w = take_waiting(s);
    while (w) {
      http_h2_conn *c = w;
      w = w->wnext;
      c->state = C_IDLE;
      pick_session(c);
    }
  }
}

/* Put c on the least loaded usable session of its origin (opening one in an empty slot first). */
static void pick_session(http_h2_conn *c) {
  origin *o = c->o;
  sess *best = NULL;
  if (o->is_h1) { /* a server known to refuse h2: no handshake storm */
    c->state = C_WAITING;
    c->fallback = !c->forced;
    finish(c, c->forced ? STATS_ERR_PROTOCOL : STATS_ERR_NONE, "the server did not pick h2 by ALPN");
    return;
  }
  int best_load = 0, empty = -1;
  for (int i = 0; i < c->h->opt.connections; i++) {
    sess *s = o->slots[i];
    if (!s) {
      if (empty < 0) empty = i;
      continue;
    }
    int load = s->nstreams + s->nwaiting;
    if (!s->goaway && (!best || load < best_load)) best = s, best_load = load;
  }
  if (empty >= 0 && (!best || best_load > 0)) best = session_new(o, empty);
  if (!best) {
    c->state = C_WAITING;
    finish(c, STATS_ERR_OTHER, "no HTTP/2 connection could be opened (out of memory or all draining)");
    return;
  }
  c->state = C_WAITING;
  c->s = best;
  c->wnext = NULL;
  *best->waitend = c;
  best->waitend = &c->wnext;
  best->nwaiting++;
  dispatch(best);
}

/* ---- timeouts ---- */

static void unqueue(http_h2_conn *c) {
  sess *s = c->s;
  for (http_h2_conn **p = &s->waitq; *p; p = &(*p)->wnext)
    if (*p == c) {
      *p = c->wnext;
      if (!*p) s->waitend = p;
      s->nwaiting--;
      return;
    }
}

/* Stop c's stream (timeout, release): RST_STREAM(CANCEL), sent at once. */
static void cancel_stream(http_h2_conn *c) {
  sess *s = c->s;
  nghttp2_session_set_stream_user_data(s->ng, c->stream_id, NULL);
  nghttp2_submit_rst_stream(s->ng, NGHTTP2_FLAG_NONE, c->stream_id, NGHTTP2_CANCEL);
  flush(s);
}

static int64_t deadline_ns(const http_h2_conn *c) {
  int64_t at = c->res.sent_ns + c->timeout_ms * 1000000;
  const sess *s = c->s;
  if (c->state == C_WAITING && s && s->state != S_OPEN) {
    int64_t conn_at = s->start_ns + c->connect_timeout_ms * 1000000;
    if (conn_at < at) at = conn_at;
  }
  return at;
}

static void arm_timer(http_h2_conn *c, int64_t now_ns);

static void on_timer(uv_timer_t *t) {
  http_h2_conn *c = t->data;
  int64_t now = clock_mono_ns();
  if (c->state != C_WAITING && c->state != C_STREAM) return;
  if (deadline_ns(c) > now) {
    arm_timer(c, now);
    return;
  }
  sess *s = c->s;
  if (c->state == C_WAITING && s->state != S_OPEN && now - s->start_ns >= c->connect_timeout_ms * 1000000) {
    session_fail(s, STATS_ERR_TIMEOUT, "connect timeout");
  } else if (c->state == C_WAITING) {
    unqueue(c);
    finish(c, STATS_ERR_TIMEOUT, s->state == S_OPEN ? "request timeout (waiting for a stream)" : "request timeout");
  } else {
    cancel_stream(c);
    finish(c, STATS_ERR_TIMEOUT, "request timeout");
  }
  deliver(c->h);
}

/* Make the timer fire by c's deadline; one due earlier is left to fire early and re-arm (on_timer). */
static void arm_timer(http_h2_conn *c, int64_t now_ns) {
  int64_t left_ms = (deadline_ns(c) - now_ns + 999999) / 1000000;
  if (left_ms < 0) left_ms = 0;
  if (uv_is_active((uv_handle_t *)&c->timer) && uv_timer_get_due_in(&c->timer) <= (uint64_t)left_ms) return;
  uv_timer_start(&c->timer, on_timer, (uint64_t)left_ms, 0);
}

/* ---- origins and URLs ---- */

static origin *origin_find(http_h2 *h, int tls, const char *host, size_t hl, int port) {
  for (origin *o = h->origins; o; o = o->next)
    if (o->tls == tls && o->port == port && strlen(o->host) == hl && memcmp(o->host, host, hl) == 0) return o;
  origin *o = calloc(1, sizeof *o);
  if (o) o->slots = calloc((size_t)h->opt.connections, sizeof *o->slots);
  if (!o || !o->slots) {
    free(o);
    return NULL;
  }
  o->h = h;
  o->tls = tls;
  o->port = port;
  memcpy(o->host, host, hl);
  o->host[hl] = 0;
  if (uv_ip4_addr(o->host, port, (struct sockaddr_in *)&o->addr) == 0 ||
      uv_ip6_addr(o->host, port, (struct sockaddr_in6 *)&o->addr) == 0)
    o->have_addr = 1;
  o->next = h->origins;
  h->origins = o;
  return o;
}

/* ---- the public face ---- */

int http_h2_supports(const char *url) {
  return url && (strncasecmp(url, "http://", 7) == 0 || strncasecmp(url, "https://", 8) == 0);
}

int http_h2_origin_is_h1(http_h2 *h, const char *url) {
  h2req_url u;
  if (h2req_parse_url(url, &u) < 0 || !u.tls) return 0;
  for (origin *o = h->origins; o; o = o->next)
    if (o->tls && o->port == u.port && strlen(o->host) == u.host_len && !memcmp(o->host, u.host, u.host_len))
      return o->is_h1;
  return 0;
}

/* Resolve req's origin (the conn's last one when the URL starts the same) and build the request. */
static int prepare(http_h2_conn *c, const http_request *r) {
  h2req_url u;
  int rc = h2req_parse_url(r->url, &u);
  if (rc < 0) return rc;
  origin *o = c->o;
  if (!o || o->prefix_len != u.prefix_len || strncasecmp(o->prefix, r->url, u.prefix_len) != 0) {
    o = origin_find(c->h, u.tls, u.host, u.host_len, u.port);
    if (!o) return -ENOMEM;
    if (!o->prefix_len && u.prefix_len < sizeof o->prefix) {
      memcpy(o->prefix, r->url, u.prefix_len);
      o->prefix_len = u.prefix_len;
    }
    c->o = o;
  }
  return h2req_build(&c->q, r, u.tls ? "https" : "http", u.authority, u.authority_len, u.path, u.path_len);
}

int http_h2_conn_send(http_h2_conn *c, const http_request *req, int forced, http_h2_done_cb done, void *ud) {
  if (c->state != C_IDLE) return -EBUSY;
  if (c->released || !req || !req->method || !req->url || (req->body_len && !req->body) || !done) return -EINVAL;
  int rc = prepare(c, req);
  if (rc < 0) return rc;
  memset(&c->res, 0, sizeof c->res);
  c->stream_ns = 0;
  c->done = done;
  c->ud = ud;
  c->forced = forced;
  c->retried = c->fallback = c->got_byte = 0;
  c->max_body = req->max_body;
  c->timeout_ms = req->timeout_ms > 0 ? req->timeout_ms : DEFAULT_TIMEOUT_MS;
  c->connect_timeout_ms = req->connect_timeout_ms > 0 ? req->connect_timeout_ms : DEFAULT_CONNECT_TIMEOUT_MS;
  c->hdrs.len = c->body.len = 0;
  c->res.sent_ns = req->now_ns > 0 ? req->now_ns : clock_mono_ns();
  if (c->o->tls && !c->h->opt.tls) {
    c->state = C_WAITING;
    finish(c, STATS_ERR_TLS, "no TLS context for https://"); /* delivered by the flusher, from the loop */
    return 0;
  }
  pick_session(c);
  if (c->state == C_WAITING || c->state == C_STREAM) arm_timer(c, c->res.sent_ns);
  return 0;
}

static void conn_closed(uv_handle_t *handle) {
  http_h2_conn *c = handle->data;
  http_h2 *h = c->h;
  if (c->prev) c->prev->next = c->next;
  else h->conns = c->next;
  if (c->next) c->next->prev = c->prev;
  h2req_free(&c->q);
  free(c->hdrs.data);
  free(c->body.data);
  free(c);
  if (--h->live == 0) {
    void (*cb)(void *) = h->close_cb;
    void *cud = h->close_ud;
    free(h);
    if (cb) cb(cud);
  }
}

int http_h2_conn_create(http_h2 *h, http_h2_conn **out) {
  if (h->closing) return -EINVAL;
  http_h2_conn *c = calloc(1, sizeof *c);
  if (!c) return -ENOMEM;
  c->h = h;
  uv_timer_init(h->loop, &c->timer);
  c->timer.data = c;
  c->next = h->conns;
  if (h->conns) h->conns->prev = c;
  h->conns = c;
  h->live++;
  *out = c;
  return 0;
}

void http_h2_conn_release(http_h2_conn *c) {
  if (!c || c->released) return;
  if (c->state == C_WAITING && c->s) unqueue(c);
  else if (c->state == C_STREAM && c->s) cancel_stream(c);
  for (http_h2_conn **p = &c->h->finished; c->state == C_DONE && *p; p = &(*p)->wnext)
    if (*p == c) { /* memory goes before the next pass would deliver it */
      *p = c->wnext;
      if (!*p) c->h->finished_end = p;
      break;
    }
  c->released = 1;
  c->state = C_IDLE;
  c->s = NULL;
  uv_close((uv_handle_t *)&c->timer, conn_closed);
}

int http_h2_create(uv_loop_t *loop, const http_h2_options *opt, http_h2 **out) {
  http_h2 *h = calloc(1, sizeof *h);
  if (!h) return -ENOMEM;
  h->loop = loop;
  if (opt) h->opt = *opt;
  if (h->opt.connections <= 0) h->opt.connections = 1;
  h->finished_end = &h->finished;
  if (nghttp2_session_callbacks_new(&h->cbs) != 0 || nghttp2_option_new(&h->ngopt) != 0) {
    if (h->cbs) nghttp2_session_callbacks_del(h->cbs);
    free(h);
    return -ENOMEM;
  }
  nghttp2_session_callbacks_set_on_header_callback(h->cbs, on_header);
  nghttp2_session_callbacks_set_on_begin_headers_callback(h->cbs, on_begin_headers);
  nghttp2_session_callbacks_set_on_data_chunk_recv_callback(h->cbs, on_data);
  nghttp2_session_callbacks_set_on_frame_recv_callback(h->cbs, on_frame);
  nghttp2_session_callbacks_set_on_stream_close_callback(h->cbs, on_close);
  nghttp2_option_set_peer_max_concurrent_streams(h->ngopt, STREAMS_BEFORE_SETTINGS);
  uv_prepare_init(loop, &h->flusher);
  h->flusher.data = h;
  uv_prepare_start(&h->flusher, on_flusher);
  uv_unref((uv_handle_t *)&h->flusher);
  uv_idle_init(loop, &h->kick);
  h->kick.data = h;
  uv_unref((uv_handle_t *)&h->kick);
  h->live = 2;
  *out = h;
  return 0;
}

static void flusher_closed(uv_handle_t *handle) {
  http_h2 *h = handle->data;
  if (--h->live > 0) return;
  void (*cb)(void *) = h->close_cb;
  void *ud = h->close_ud;
  free(h);
  if (cb) cb(ud);
}

void http_h2_close(http_h2 *h, void (*close_cb)(void *ud), void *ud) {
  if (!h || h->closing) return;
  h->closing = 1;
  h->close_cb = close_cb;
  h->close_ud = ud;
  for (http_h2_conn *c = h->conns; c; c = c->next) http_h2_conn_release(c);
  h->finished = NULL;
  h->finished_end = &h->finished;
  while (h->origins) {
    origin *o = h->origins;
    h->origins = o->next;
    for (int i = 0; i < h->opt.connections; i++)
      if (o->slots[i]) session_free(o->slots[i]);
    while (o->draining) session_free(o->draining);
    h->dirty = NULL;
    o->h = NULL;
    if (o->resolving) {
      uv_cancel((uv_req_t *)&o->gai); /* on_resolved frees o */
      continue;
    }
    free(o->slots);
    free(o);
  }
  nghttp2_session_callbacks_del(h->cbs);
  nghttp2_option_del(h->ngopt);
  free(h->wbuf.data);
  uv_close((uv_handle_t *)&h->flusher, flusher_closed);
  uv_close((uv_handle_t *)&h->kick, flusher_closed);
}
