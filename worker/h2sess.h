/* h2sess.h - the h2 backend's connections (see http_h2.h): per origin, up to `connections` slots, each an
 * nghttp2 session over an h2io pipe carrying VUs' requests as streams, with the queue of VUs waiting for a
 * stream on it. Internal to the h2 backend: the structs below are shared by http_h2.c (conns, timeouts,
 * delivery, the public face) and h2sess.c (sessions, nghttp2's callbacks, picking a session). */
#ifndef LOADCTL_H2SESS_H
#define LOADCTL_H2SESS_H

#include <nghttp2/nghttp2.h>
#include <stdint.h>

#include "worker/h2io.h"
#include "worker/h2mem.h"
#include "worker/h2req.h"
#include "worker/http_h2.h"

#define H2SESS_STREAMS_BEFORE_SETTINGS 100 /* streams a session takes before the server's SETTINGS arrive */
#define H2SESS_LOCAL_WINDOW (16 * 1024 * 1024) /* our receive window per connection and per stream */

enum { S_RESOLVING = 1, S_CONNECTING, S_OPEN };
enum { C_IDLE = 0, C_WAITING, C_STREAM, C_DONE };

typedef struct h2origin h2origin;
typedef struct h2sess h2sess;

struct h2sess {
  h2origin *o;
  int slot, state, goaway, dead;
  h2io *io;
  nghttp2_session *ng;
  int nstreams;           /* streams open on ng (ours, or cancelled ones not yet closed) */
  int trace_named;        /* a traceparent went out indexed: its name is in the HPACK table (h2req_submit) */
  http_h2_conn *waitq;    /* conns waiting for a stream here, oldest first */
  http_h2_conn **waitend; /* where the next waiting conn goes */
  int nwaiting;
  int dirty; /* in h->dirty: nghttp2 has bytes to send */
  h2sess *next_dirty;
  h2sess *next_drain; /* in o->draining once a GOAWAY took it out of its slot (slot is then -1) */
  int64_t start_ns, open_ns;
};

struct h2origin {
  h2origin *next;
  http_h2 *h;
  int tls, port, is_h1;
  char host[256];
  char prefix[300]; /* "https://host:port" as the first URL spelled it */
  size_t prefix_len;
  struct sockaddr_storage addr;
  int have_addr, resolving;
  uv_getaddrinfo_t gai;
  h2sess **slots;
  h2sess *draining; /* sessions after a GOAWAY: no new streams, closed when their last one ends */
};

struct http_h2_conn {
  http_h2 *h;
  http_h2_conn *prev, *next;
  http_h2_conn *wnext; /* in a session's wait queue or the finished list */
  h2origin *o;
  h2sess *s;
  int32_t stream_id;
  int slot_hint; /* 1 + the slot of the session its last stream ran on (0: none): the VU goes back there */
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
  h2origin *origins;
  http_h2_conn *conns;
  h2sess *dirty;
  http_h2_conn *finished, **finished_end; /* completions to deliver once nghttp2 has returned */
  int live, closing, delivering;
  int64_t conns_opened; /* connections (TCP, and TLS when https) established, ever */
  h1req_buf wbuf;
  h2io_bufs *bufs; /* the pipes' read buffers (128 KB), made by the first h2io_open */
  h2mem *mem;      /* what the sessions' nghttp2 allocates in */
  void (*close_cb)(void *ud);
  void *close_ud;
};

/* h2sess.c */

/* nghttp2's callbacks for our sessions into cbs. */
void h2sess_set_callbacks(nghttp2_session_callbacks *cbs);
/* Put c on the session its last stream ran on when that one has a stream free (so the next requests of
 * the VUs answered by one read leave in one write), else on the least loaded usable session of its
 * origin (opening one in an empty slot first), as a stream at once or waiting in that session's queue;
 * or finish it when none can be had. */
void h2sess_pick(http_h2_conn *c);
/* Open a session in each of o's empty slots (http_h2_preconnect): 0, or -EIO when one could not be
 * started (out of memory, or its connect or name lookup failed at once). */
int h2sess_preopen(h2origin *o);
/* Send what nghttp2 has queued on s. */
void h2sess_flush(h2sess *s);
/* The connection is gone: its streams fail with kind and msg (or are resent once when never answered on a
 * connection that had answered before); its waiting conns move to other sessions, or fail with it when it
 * never opened. s is freed. */
void h2sess_fail(h2sess *s, int kind, const char *msg);
/* Free s (its conns must have left it). */
void h2sess_free(h2sess *s);
/* Take waiting c off its session's queue. */
void h2sess_unqueue(http_h2_conn *c);
/* Stop c's stream (timeout, release): RST_STREAM(CANCEL), sent at once. */
void h2sess_cancel_stream(http_h2_conn *c);

/* http_h2.c */

/* c's request is over (kind STATS_ERR_NONE: its response is in c); its callback runs from http_h2_deliver. */
void http_h2_finish(http_h2_conn *c, int kind, const char *msg);
/* Run the callbacks of finished requests (never from inside nghttp2: a callback may send the next one). */
void http_h2_deliver(http_h2 *h);

#endif
