/* h2sess.c - the h2 backend's sessions (see h2sess.h): connecting (name lookup, h2io, ALPN), nghttp2's
 * callbacks filling the conns' responses, GOAWAY draining, and which session a VU's stream goes to.
 * Completions found while nghttp2 parses a read are finished here and delivered by http_h2.c once
 * nghttp2 has returned. */
#include "worker/h2sess.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/stats.h"

static void dispatch(h2sess *s);

/* ---- sending what nghttp2 queued ---- */

void h2sess_flush(h2sess *s) {
  http_h2 *h = s->o->h;
  const uint8_t *data;
  ssize_t n;
  if (s->state != S_OPEN || s->dead) return;
  h->wbuf.len = 0;
  while ((n = nghttp2_session_mem_send(s->ng, &data)) > 0)
    if (h1req_buf_add(&h->wbuf, data, (size_t)n)) break;
  if (n < 0) {
    h2sess_fail(s, STATS_ERR_PROTOCOL, nghttp2_strerror((int)n));
    return;
  }
  if (h->wbuf.len) h2io_write(s->io, h->wbuf.data, h->wbuf.len);
}

static void mark_dirty(h2sess *s) {
  http_h2 *h = s->o->h;
  if (s->dirty || s->dead) return;
  s->dirty = 1;
  s->next_dirty = h->dirty;
  h->dirty = s;
}

/* s takes no new streams: its slot is free for a new connection at once. */
static void drain(h2sess *s) {
  h2origin *o = s->o;
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
  char line[256]; /* "name: value\r\n" in one append when it is short, as it mostly is */
  if (nl + vl + 4 <= sizeof line) {
    memcpy(line, name, nl);
    memcpy(line + nl, ": ", 2);
    memcpy(line + nl + 2, value, vl);
    memcpy(line + nl + 2 + vl, "\r\n", 2);
    return h1req_buf_add(&c->hdrs, line, nl + vl + 4) ? NGHTTP2_ERR_CALLBACK_FAILURE : 0;
  }
  if (h1req_buf_add(&c->hdrs, name, nl) || h1req_buf_add(&c->hdrs, ": ", 2) ||
      h1req_buf_add(&c->hdrs, value, vl) || h1req_buf_add(&c->hdrs, "\r\n", 2))
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

static int on_data(nghttp2_session *ng, uint8_t flags, int32_t id, const uint8_t *data, size_t len,
                   void *ud) {
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
  h2sess *s = ud;
  http_h2_conn *c = stream_conn(ng, f->hd.stream_id);
  if (c && f->hd.type == NGHTTP2_HEADERS) c->res.bytes_in += f->hd.length + 9;
  if (f->hd.type == NGHTTP2_GOAWAY) drain(s);
  return 0;
}

/* A stream ended: its response is complete (error_code 0), reset by the server (kind reset, the message
 * naming the HTTP/2 error code), or refused (never processed: resent once on another stream). */
static int on_close(nghttp2_session *ng, int32_t id, uint32_t error_code, void *ud) {
  h2sess *s = ud;
  http_h2_conn *c = stream_conn(ng, id);
  char msg[160];
  s->nstreams--;
  if (!c) return 0; /* cancelled (timeout or released) */
  nghttp2_session_set_stream_user_data(ng, id, NULL);
  if (error_code == NGHTTP2_NO_ERROR && c->res.status > 0) {
    s->o->is_h1 = 0;
    http_h2_finish(c, STATS_ERR_NONE, NULL);
    return 0;
  }
  if (error_code == NGHTTP2_REFUSED_STREAM && !c->got_byte && !c->retried) {
    c->retried = 1;
    c->state = C_IDLE; /* pick_session queues it again (this session is draining after a GOAWAY) */
    c->s = NULL;
    h2sess_pick(c);
    return 0;
  }
  snprintf(msg, sizeof msg, "%s: %s",
           s->goaway ? "stream closed after GOAWAY" : "stream reset by the server (RST_STREAM)",
           nghttp2_http2_strerror(error_code));
  if (error_code == NGHTTP2_NO_ERROR) snprintf(msg, sizeof msg, "stream ended without a response");
  http_h2_finish(c, STATS_ERR_RESET, msg);
  return 0;
}

/* ---- sessions ---- */

void h2sess_free(h2sess *s) {
  h2origin *o = s->o;
  if (s->slot >= 0 && o->slots[s->slot] == s) o->slots[s->slot] = NULL;
  for (h2sess **p = &o->draining; s->slot < 0 && *p; p = &(*p)->next_drain)
    if (*p == s) {
      *p = s->next_drain;
      break;
    }
  s->dead = 1;
  if (s->dirty) { /* unlink from the dirty list */
    for (h2sess **p = &o->h->dirty; *p; p = &(*p)->next_dirty)
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
static http_h2_conn *take_waiting(h2sess *s) {
  http_h2_conn *w = s->waitq;
  s->waitq = NULL;
  s->waitend = &s->waitq;
  s->nwaiting = 0;
  return w;
}

/* The connection is gone: streams on it fail (or, never answered on a connection that had answered
 * before, are resent once); waiting conns move to the origin's other sessions, unless it never opened. */
void h2sess_fail(h2sess *s, int kind, const char *msg) {
  if (s->dead) return;
  h2origin *o = s->o;
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
      http_h2_finish(c, kind, msg);
    }
  }
  s->dead = 0;
  h2sess_free(s);
  while (w) {
    http_h2_conn *c = w;
    w = w->wnext;
    c->state = C_IDLE;
    c->s = NULL;
    if (!opened) {
      c->state = C_WAITING;
      http_h2_finish(c, kind, msg);
    } else {
      h2sess_pick(c);
    }
  }
}

static void io_fail(void *ud, int kind, const char *msg) {
  h2sess *s = ud;
  http_h2 *h = s->o->h;
  h2sess_fail(s, kind, msg);
  http_h2_deliver(h);
}

static void io_read(void *ud, const char *data, size_t len) {
  h2sess *s = ud;
  http_h2 *h = s->o->h;
  ssize_t n = nghttp2_session_mem_recv(s->ng, (const uint8_t *)data, len);
  if (n < 0)
    h2sess_fail(s, STATS_ERR_PROTOCOL, nghttp2_strerror((int)n));
  else if (!nghttp2_session_want_read(s->ng) && !nghttp2_session_want_write(s->ng))
    h2sess_fail(s, STATS_ERR_RESET, "connection closed by GOAWAY");
  else {
    mark_dirty(s); /* sent before the loop polls, with the requests of the VUs answered now: over TLS a read
                    * arrives record by record, and a flush per record was a write per response */
    if (s->goaway && s->nstreams == 0)
      h2sess_fail(s, STATS_ERR_RESET, "connection closed by GOAWAY");
    else
      dispatch(s);
  }
  http_h2_deliver(h);
}

/* The pipe is up: over TLS without h2 the waiting conns fall back to HTTP/1.1 (or fail when forced). */
static void io_open(void *ud, const char *alpn) {
  h2sess *s = ud;
  h2origin *o = s->o;
  o->h->conns_opened++;
  if (o->tls && strcmp(alpn, "h2") != 0) {
    char msg[128];
    snprintf(msg, sizeof msg, "the server did not pick h2 by ALPN (it picked \"%s\")",
             *alpn ? alpn : "nothing");
    o->is_h1 = 1;
    http_h2_conn *w = take_waiting(s);
    h2sess_fail(s, STATS_ERR_PROTOCOL, msg);
    for (http_h2_conn *c; (c = w);) {
      w = w->wnext;
      c->fallback = !c->forced;
      http_h2_finish(c, c->forced ? STATS_ERR_PROTOCOL : STATS_ERR_NONE, msg);
    }
    http_h2_deliver(o->h);
    return;
  }
  nghttp2_settings_entry iv[] = {{NGHTTP2_SETTINGS_ENABLE_PUSH, 0},
                                 {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, H2SESS_LOCAL_WINDOW}};
  s->state = S_OPEN;
  s->open_ns = clock_mono_ns();
  if (nghttp2_submit_settings(s->ng, NGHTTP2_FLAG_NONE, iv, 2) != 0 ||
      nghttp2_session_set_local_window_size(s->ng, NGHTTP2_FLAG_NONE, 0, H2SESS_LOCAL_WINDOW) != 0) {
    h2sess_fail(s, STATS_ERR_OTHER, "nghttp2: cannot send SETTINGS");
    http_h2_deliver(o->h);
    return;
  }
  dispatch(s);
  h2sess_flush(s);
  http_h2_deliver(o->h);
}

static void session_connect(h2sess *s) {
  static const h2io_cbs cbs = {io_open, io_read, io_fail};
  h2origin *o = s->o;
  s->state = S_CONNECTING;
  int rc = h2io_open(o->h->loop, &o->h->bufs, (const struct sockaddr *)&o->addr,
                     o->tls ? o->h->opt.tls : NULL, o->host, o->port, "h2,http/1.1", &cbs, s, &s->io);
  if (rc < 0) h2sess_fail(s, STATS_ERR_CONNECT, uv_strerror(rc));
}

static void on_resolved(uv_getaddrinfo_t *g, int status, struct addrinfo *ai) {
  h2origin *o = g->data;
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
    h2sess *s = o->slots[i];
    if (!s || s->state != S_RESOLVING) continue;
    if (o->have_addr)
      session_connect(s);
    else
      h2sess_fail(s, STATS_ERR_DNS, status < 0 ? uv_strerror(status) : "no address");
  }
  http_h2_deliver(o->h);
}

static h2sess *session_new(h2origin *o, int slot) {
  h2sess *s = calloc(1, sizeof *s);
  if (!s || nghttp2_session_client_new3(&s->ng, o->h->cbs, s, o->h->ngopt, h2mem_nghttp2(o->h->mem)) != 0) {
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
      h2sess_fail(s, STATS_ERR_DNS, "cannot start the name lookup");
      return NULL;
    }
    o->resolving = 1;
  }
  return s;
}

int h2sess_preopen(h2origin *o) {
  for (int i = 0; i < o->h->opt.connections; i++)
    if (!o->slots[i] && !session_new(o, i)) return -EIO;
  return 0;
}

static uint32_t stream_limit(h2sess *s) {
  return nghttp2_session_get_remote_settings(s->ng, NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS);
}

/* ---- streams ---- */

static void start_stream(h2sess *s, http_h2_conn *c) {
  c->stream_ns = clock_mono_ns();
  if (s->open_ns > c->res.sent_ns) { /* the wait included this connection's connect and handshake */
    c->res.connect_ns = h2io_connect_ns(s->io);
    c->res.tls_ns = h2io_tls_ns(s->io);
  }
  int32_t id = h2req_submit(&c->q, s->ng, c, !s->trace_named);
  if (id < 0) {
    http_h2_finish(c, STATS_ERR_PROTOCOL, nghttp2_strerror(id));
    if (id == NGHTTP2_ERR_STREAM_ID_NOT_AVAILABLE) drain(s);
    return;
  }
  s->trace_named |= c->q.trace_nv < c->q.nnv;
  c->state = C_STREAM;
  c->s = s;
  c->stream_id = id;
  c->slot_hint = s->slot + 1;
  c->res.bytes_out = c->q.bytes_out;
  s->nstreams++;
  mark_dirty(s);
}

/* Start the waiting conns of s that its stream limit allows. */
static void dispatch(h2sess *s) {
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
      h2sess_pick(c);
    }
  }
}

/* Put c on the least loaded usable session of its origin (opening one in an empty slot first). */
void h2sess_pick(http_h2_conn *c) {
  h2origin *o = c->o;
  h2sess *best = NULL;
  if (o->is_h1) { /* a server known to refuse h2: no handshake storm */
    c->state = C_WAITING;
    c->fallback = !c->forced;
    http_h2_finish(c, c->forced ? STATS_ERR_PROTOCOL : STATS_ERR_NONE, "the server did not pick h2 by ALPN");
    return;
  }
  int best_load = 0, empty = -1, hint = c->slot_hint - 1;
  h2sess *last = hint >= 0 && hint < c->h->opt.connections ? o->slots[hint] : NULL;
  if (last && last->state == S_OPEN && !last->goaway && !last->waitq &&
      (uint32_t)last->nstreams < stream_limit(last)) {
    c->state = C_WAITING; /* what start_stream takes (and finishes on failure) */
    start_stream(last, c);
    return;
  }
  for (int i = 0; i < c->h->opt.connections; i++) {
    h2sess *s = o->slots[i];
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
    http_h2_finish(c, STATS_ERR_OTHER,
                   "no HTTP/2 connection could be opened (out of memory or all draining)");
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

void h2sess_unqueue(http_h2_conn *c) {
  h2sess *s = c->s;
  for (http_h2_conn **p = &s->waitq; *p; p = &(*p)->wnext)
    if (*p == c) {
      *p = c->wnext;
      if (!*p) s->waitend = p;
      s->nwaiting--;
      return;
    }
}

/* Stop c's stream (timeout, release): RST_STREAM(CANCEL), sent at once. */
void h2sess_cancel_stream(http_h2_conn *c) {
  h2sess *s = c->s;
  nghttp2_session_set_stream_user_data(s->ng, c->stream_id, NULL);
  nghttp2_submit_rst_stream(s->ng, NGHTTP2_FLAG_NONE, c->stream_id, NGHTTP2_CANCEL);
  h2sess_flush(s);
}

void h2sess_set_callbacks(nghttp2_session_callbacks *cbs) {
  nghttp2_session_callbacks_set_on_header_callback(cbs, on_header);
  nghttp2_session_callbacks_set_on_begin_headers_callback(cbs, on_begin_headers);
  nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs, on_data);
  nghttp2_session_callbacks_set_on_frame_recv_callback(cbs, on_frame);
  nghttp2_session_callbacks_set_on_stream_close_callback(cbs, on_close);
}
