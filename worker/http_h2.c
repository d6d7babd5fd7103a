/* http_h2.c - the HTTP/2 backend (see http_h2.h): the VUs' conns, their timeouts, origins, and delivery;
 * the sessions a request runs on (up to `connections` per origin, the least loaded taken, a queue while
 * one connects or is at the server's stream limit) are h2sess.c's. Completions found while nghttp2 parses
 * a read are delivered after it returns, so a VU's next request never runs inside nghttp2; what nghttp2
 * has to send goes out once per read and once per loop pass (a uv_prepare). */
#include "worker/http_h2.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/clock.h"
#include "common/stats.h"
#include "worker/h2sess.h"

#define DEFAULT_TIMEOUT_MS 30000
#define DEFAULT_CONNECT_TIMEOUT_MS 10000

static void on_kick(uv_idle_t *idle) {
  (void)idle;
}

/* Before the loop polls: deliver what finished, then send what the sessions queued (the delivered VUs'
 * next requests among it). */
static void on_flusher(uv_prepare_t *p) {
  http_h2 *h = p->data;
  http_h2_deliver(h);
  while (h->dirty) {
    h2sess *s = h->dirty;
    h->dirty = s->next_dirty;
    s->dirty = 0;
    h2sess_flush(s);
  }
  /* what finished meanwhile (a request that failed as it was sent) goes next pass: poll without waiting */
  if (h->finished)
    uv_idle_start(&h->kick, on_kick);
  else
    uv_idle_stop(&h->kick);
}

/* ---- finishing a request ---- */

void http_h2_finish(http_h2_conn *c, int kind, const char *msg) {
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
void http_h2_deliver(http_h2 *h) {
  if (h->delivering) return;
  h->delivering = 1;
  http_h2_conn *list = h->finished; /* what finishes during the callbacks waits for the next pass */
  h->finished = NULL;
  h->finished_end = &h->finished;
  while (list) {
    http_h2_conn *c = list;
    list = c->wnext;
    if (c->released || c->state != C_DONE) continue;
    http_response *res = &c->res; /* in place: the callback reads it before it sends c's next request */
    c->state = C_IDLE;
    if (!res->error && !c->fallback) {
      res->headers_raw = c->hdrs.data;
      res->headers_len = c->hdrs.len;
      res->body = c->body.data;
      res->body_len = c->body.len;
    }
    if (res->ttfb_ns > res->done_ns - res->sent_ns) res->ttfb_ns = res->done_ns - res->sent_ns;
    if (c->got_byte && c->stream_ns) { /* sending is counted in waiting: nghttp2 writes frames for many */
      int64_t first_ns = res->sent_ns + res->ttfb_ns;
      res->waiting_ns = first_ns - c->stream_ns;
      res->receiving_ns = res->done_ns - first_ns;
    }
    http_response_settle(res);
    c->done(c->ud, res, c->fallback);
  }
  h->delivering = 0;
}

static int64_t deadline_ns(const http_h2_conn *c) {
  int64_t at = c->res.sent_ns + clock_ms_to_ns(c->timeout_ms);
  const h2sess *s = c->s;
  if (c->state == C_WAITING && s && s->state != S_OPEN) {
    int64_t conn_at = s->start_ns + clock_ms_to_ns(c->connect_timeout_ms);
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
  h2sess *s = c->s;
  if (c->state == C_WAITING && s->state != S_OPEN &&
      now - s->start_ns >= clock_ms_to_ns(c->connect_timeout_ms)) {
    h2sess_fail(s, STATS_ERR_TIMEOUT, "connect timeout");
  } else if (c->state == C_WAITING) {
    h2sess_unqueue(c);
    http_h2_finish(c, STATS_ERR_TIMEOUT,
                   s->state == S_OPEN ? "request timeout (waiting for a stream)" : "request timeout");
  } else {
    h2sess_cancel_stream(c);
    http_h2_finish(c, STATS_ERR_TIMEOUT, "request timeout");
  }
  http_h2_deliver(c->h);
}

/* Make the timer fire by c's deadline; one due earlier is left to fire early and re-arm (on_timer). */
static void arm_timer(http_h2_conn *c, int64_t now_ns) {
  int64_t left_ms = clock_ns_to_ms_ceil(deadline_ns(c) - now_ns);
  if (left_ms < 0) left_ms = 0;
  if (uv_is_active((uv_handle_t *)&c->timer) && uv_timer_get_due_in(&c->timer) <= (uint64_t)left_ms) return;
  uv_timer_start(&c->timer, on_timer, (uint64_t)left_ms, 0);
}

/* ---- origins and URLs ---- */

static h2origin *origin_find(http_h2 *h, int tls, const char *host, size_t hl, int port) {
  for (h2origin *o = h->origins; o; o = o->next)
    if (o->tls == tls && o->port == port && strlen(o->host) == hl && memcmp(o->host, host, hl) == 0) return o;
  h2origin *o = calloc(1, sizeof *o);
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
  for (h2origin *o = h->origins; o; o = o->next)
    if (o->tls && o->port == u.port && strlen(o->host) == u.host_len && !memcmp(o->host, u.host, u.host_len))
      return o->is_h1;
  return 0;
}

/* The origin of a URL parsed into u (created on first use, its prefix remembered); NULL on -ENOMEM. */
static h2origin *origin_of(http_h2 *h, const h2req_url *u, const char *url) {
  h2origin *o = origin_find(h, u->tls, u->host, u->host_len, u->port);
  if (o && !o->prefix_len && u->prefix_len < sizeof o->prefix) {
    memcpy(o->prefix, url, u->prefix_len);
    o->prefix_len = u->prefix_len;
  }
  return o;
}

int http_h2_preconnect(http_h2 *h, const char *url) {
  h2req_url u;
  if (!url || h2req_parse_url(url, &u) < 0) return -EINVAL;
  h2origin *o = origin_of(h, &u, url);
  if (!o) return -ENOMEM;
  if (o->is_h1 || (o->tls && !h->opt.tls)) return -ENOTSUP;
  return h2sess_preopen(o);
}

/* Resolve req's origin (the conn's last one when the URL starts the same) and build the request, or patch
 * the last one when only header values changed (the same URL: the same origin). */
static int prepare(http_h2_conn *c, const http_request *r) {
  h2req_url u;
  if (c->o && h2req_reuse(&c->q, r)) return 0;
  int rc = h2req_parse_url(r->url, &u);
  if (rc < 0) return rc;
  h2origin *o = c->o;
  if (!o || o->prefix_len != u.prefix_len || strncasecmp(o->prefix, r->url, u.prefix_len) != 0) {
    if (!(o = origin_of(c->h, &u, r->url))) return -ENOMEM;
    c->o = o;
    c->slot_hint = 0;
  }
  return h2req_build(&c->q, r, u.tls ? "https" : "http", u.authority, u.authority_len, u.path, u.path_len);
}

int http_h2_conn_send(http_h2_conn *c, const http_request *req, int forced, http_h2_done_cb done, void *ud) {
  if (c->state != C_IDLE) return -EBUSY;
  if (c->released || !req || !req->method || !req->url || (req->body_len && !req->body) || !done)
    return -EINVAL;
  int rc = prepare(c, req);
  if (rc < 0) return rc;
  memset(&c->res, 0, offsetof(http_response, error_message)); /* not the 256 bytes of the message */
  c->res.error_message[0] = '\0';
  memset(&c->res.headers_raw, 0, sizeof c->res - offsetof(http_response, headers_raw));
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
    http_h2_finish(c, STATS_ERR_TLS,
                   "no TLS context for https://"); /* delivered by the flusher, from the loop */
    return 0;
  }
  h2sess_pick(c);
  if (c->state == C_WAITING || c->state == C_STREAM) arm_timer(c, c->res.sent_ns);
  return 0;
}

static void conn_closed(uv_handle_t *handle) {
  http_h2_conn *c = handle->data;
  http_h2 *h = c->h;
  if (c->prev)
    c->prev->next = c->next;
  else
    h->conns = c->next;
  if (c->next) c->next->prev = c->prev;
  h2req_free(&c->q);
  free(c->hdrs.data);
  free(c->body.data);
  free(c);
  if (--h->live == 0) {
    void (*cb)(void *) = h->close_cb;
    void *cud = h->close_ud;
    free(h->bufs);
    h2mem_free(h->mem);
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
  if (c->state == C_WAITING && c->s)
    h2sess_unqueue(c);
  else if (c->state == C_STREAM && c->s)
    h2sess_cancel_stream(c);
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

int64_t http_h2_conns_opened(const http_h2 *h) {
  return h->conns_opened;
}

int http_h2_create(uv_loop_t *loop, const http_h2_options *opt, http_h2 **out) {
  http_h2 *h = calloc(1, sizeof *h);
  if (!h) return -ENOMEM;
  h->loop = loop;
  if (opt) h->opt = *opt;
  if (h->opt.connections <= 0) h->opt.connections = 1;
  h->finished_end = &h->finished;
  if (h2mem_create(&h->mem) < 0 || nghttp2_session_callbacks_new(&h->cbs) != 0 ||
      nghttp2_option_new(&h->ngopt) != 0) {
    if (h->cbs) nghttp2_session_callbacks_del(h->cbs);
    h2mem_free(h->mem);
    free(h);
    return -ENOMEM;
  }
  h2sess_set_callbacks(h->cbs);
  nghttp2_option_set_peer_max_concurrent_streams(h->ngopt, H2SESS_STREAMS_BEFORE_SETTINGS);
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
  free(h->bufs);
  h2mem_free(h->mem);
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
    h2origin *o = h->origins;
    h->origins = o->next;
    for (int i = 0; i < h->opt.connections; i++)
      if (o->slots[i]) h2sess_free(o->slots[i]);
    while (o->draining) h2sess_free(o->draining);
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
