/* transport.c - nanomsg bus sockets on a libuv loop (NN_RCVFD/NN_SNDFD watched with uv_poll, then
 * nn_recv/nn_send with NN_DONTWAIT until EAGAIN), frames sealed with libsodium's secretbox, replays and
 * oversize frames dropped with a log line naming the peer, and the HELLO/WELCOME session challenge. See
 * transport.h for the frame layout and the replay rules. */
#include "common/transport.h"

#include <errno.h>
#include <fcntl.h>
#include <nanomsg/bus.h>
#include <nanomsg/nn.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/log.h"

#define HDR_FIXED 5 /* "LC" ver flags idlen */
#define FLAG_SEALED 1
#define MAX_FRAME (TRANSPORT_MAX_BODY + 4096)
#define QUEUE_MAX_BYTES ((size_t)64 << 20)
#define RECV_BATCH 4096
/* Frames read per wakeup stop after this long (at least one is read): a master merging big frames
 * slower than they come would otherwise stand in this loop for seconds, its timers (heartbeats,
 * acknowledgements, interval closing) not running, and workers would judge it silent. The fd stays
 * readable, so the loop comes back here after its timers. */
#define RECV_BUDGET_NS (50 * CLOCK_NS_PER_MS)
#define META_LEN (8 + 1 + 2 * TRANSPORT_SESS_LEN)
#define HELLO_EVERY_MS 200           /* a worker not yet WELCOMEd says HELLO this often */
#define HELLO_MIN_GAP_NS 200000000LL /* and at most this often when the master's session changes */
#define CONSUMED (-2)                /* a frame the session rules used up (HELLO, WELCOME) */

typedef struct peer_seq {
  char id[TRANSPORT_ID_MAX + 1];
  uint64_t last;
} peer_seq;

typedef struct qframe {
  struct qframe *next;
  size_t len;
  uint8_t data[];
} qframe;

struct transport {
  uv_loop_t *loop;
  int sock;
  uv_poll_t rpoll, spoll;
  int rpoll_init, spoll_init, spoll_active, closes_pending;
  int behind; /* the last read stopped at RECV_BUDGET_NS with frames maybe left (transport_behind) */
  uint8_t key[TRANSPORT_KEY_LEN];
  bool keyed;
  char self_id[TRANSPORT_ID_MAX + 1];
  uint64_t seq;
  transport_message_fn on_message;
  void *ud;
  peer_seq *peers; /* open addressing on the sender id */
  size_t npeers, cappeers;
  qframe *qhead, *qtail;
  size_t qbytes;
  uint8_t sess[TRANSPORT_SESS_LEN];
  /* connecting side: the master session we are bound to, and bodies waiting for its WELCOME */
  bool connecting, bound;
  uint8_t master_sess[TRANSPORT_SESS_LEN];
  qframe *whead, *wtail;
  size_t wbytes;
  uv_timer_t hello_timer;
  int hello_timer_init;
  int64_t last_hello_ns;
  uint64_t drops[TRANSPORT_DROP_COUNT], received;
};

static const char *const drop_names[TRANSPORT_DROP_COUNT] = {
    "malformed frame",
    "other protocol version",
    "authentication failed (wrong key or corrupted frame)",
    "key mode mismatch (one side has a key, the other not)",
    "replayed sequence number",
    "oversize frame",
    "sender claims our own id",
    "from another session (sent before a restart, or replayed)",
};

static int send_frame(transport *t, const uint8_t *f, size_t flen);

const char *transport_drop_name(int reason) {
  return reason >= 0 && reason < TRANSPORT_DROP_COUNT ? drop_names[reason] : "unknown";
}

static uint64_t fnv1a(const char *s) {
  uint64_t h = 1469598103934665603ull;
  for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ull;
  return h;
}

static peer_seq *peer_slot(peer_seq *tab, size_t cap, const char *id) {
  size_t i = (size_t)fnv1a(id) & (cap - 1);
  while (tab[i].id[0] && strcmp(tab[i].id, id) != 0) i = (i + 1) & (cap - 1);
  return &tab[i];
}

/* The replay record of id, created (last = 0) when new. NULL on -ENOMEM. */
static peer_seq *peer_get(transport *t, const char *id) {
  peer_seq *p;
  if ((t->npeers + 1) * 10 >= t->cappeers * 7) {
    size_t cap = t->cappeers ? t->cappeers * 2 : 64;
    peer_seq *tab = calloc(cap, sizeof *tab);
    if (!tab) return NULL;
    for (size_t i = 0; i < t->cappeers; i++)
      if (t->peers[i].id[0]) *peer_slot(tab, cap, t->peers[i].id) = t->peers[i];
    free(t->peers);
    t->peers = tab;
    t->cappeers = cap;
  }
  p = peer_slot(t->peers, t->cappeers, id);
  if (!p->id[0]) {
    snprintf(p->id, sizeof p->id, "%s", id);
    t->npeers++;
  }
  return p;
}

static void put_be64(uint8_t *p, uint64_t v) {
  for (int i = 7; i >= 0; i--, v >>= 8) p[i] = (uint8_t)v;
}

static uint64_t get_be64(const uint8_t *p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; i++) v = (v << 8) | p[i];
  return v;
}

static void put_meta(uint8_t *p, const transport_meta *m) {
  put_be64(p, m->seq);
  p[8] = (uint8_t)m->kind;
  memcpy(p + 9, m->sess, TRANSPORT_SESS_LEN);
  memcpy(p + 9 + TRANSPORT_SESS_LEN, m->peer_sess, TRANSPORT_SESS_LEN);
}

/* -1 when the kind is known, else TRANSPORT_DROP_MALFORMED. */
static int get_meta(const uint8_t *p, transport_meta *m) {
  m->seq = get_be64(p);
  m->kind = p[8];
  memcpy(m->sess, p + 9, TRANSPORT_SESS_LEN);
  memcpy(m->peer_sess, p + 9 + TRANSPORT_SESS_LEN, TRANSPORT_SESS_LEN);
  return m->kind <= TRANSPORT_KIND_WELCOME ? -1 : TRANSPORT_DROP_MALFORMED;
}

int transport_frame_seal(const uint8_t *key, const char *self_id, const transport_meta *meta,
                         const uint8_t *body, size_t len, uint8_t **out, size_t *out_len) {
  size_t idlen = strlen(self_id), inner_len = META_LEN + 1 + idlen + len, total;
  uint8_t *f, *inner = NULL;

  if (idlen == 0 || idlen > TRANSPORT_ID_MAX) return -EINVAL;
  if (len > TRANSPORT_MAX_BODY) return -E2BIG;
  total = HDR_FIXED + idlen +
          (key ? crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES + inner_len : META_LEN + len);
  f = malloc(total);
  if (!f) return -ENOMEM;
  f[0] = 'L', f[1] = 'C', f[2] = TRANSPORT_PROTO, f[3] = key ? FLAG_SEALED : 0, f[4] = (uint8_t)idlen;
  memcpy(f + HDR_FIXED, self_id, idlen);
  if (!key) {
    put_meta(f + HDR_FIXED + idlen, meta);
    if (len) memcpy(f + HDR_FIXED + idlen + META_LEN, body, len);
  } else {
    uint8_t *nonce = f + HDR_FIXED + idlen;
    inner = malloc(inner_len);
    if (!inner) {
      free(f);
      return -ENOMEM;
    }
    put_meta(inner, meta);
    inner[META_LEN] = (uint8_t)idlen;
    memcpy(inner + META_LEN + 1, self_id, idlen);
    if (len) memcpy(inner + META_LEN + 1 + idlen, body, len);
    randombytes_buf(nonce, crypto_secretbox_NONCEBYTES);
    crypto_secretbox_easy(nonce + crypto_secretbox_NONCEBYTES, inner, inner_len, nonce, key);
    free(inner);
  }
  *out = f;
  *out_len = total;
  return 0;
}

/* Count and log one dropped frame (a worker's drops while it waits for its WELCOME are expected: the
 * master's frames to the others reach it too, so those are logged at debug level). */
static void drop(transport *t, int reason, const char *peer) {
  t->drops[reason]++;
  LOG(reason == TRANSPORT_DROP_SESSION && t->connecting && !t->bound ? LOG_DEBUG : LOG_WARN,
      "%s: dropped a frame from %s: %s (%llu dropped so far)", t->self_id, peer, transport_drop_name(reason),
      (unsigned long long)t->drops[reason]);
}

/* Printable copy of an untrusted id for log lines. */
static void clean_id(const uint8_t *id, size_t len, char *buf, size_t size) {
  size_t j = 0;
  for (size_t i = 0; i < len && j + 1 < size; i++)
    buf[j++] = (id[i] >= 0x20 && id[i] < 0x7f) ? (char)id[i] : '?';
  buf[j] = 0;
}

/* Unseal frame f in place of out-params; returns a drop reason or -1 when accepted. *body points into
 * *plain (malloc'd, caller frees) or into f. */
static int unseal(const uint8_t *key, const uint8_t *f, size_t len, const char *clear_id,
                  transport_meta *meta, const uint8_t **body, size_t *body_len, uint8_t **plain) {
  size_t idlen = f[4], off = HDR_FIXED + idlen, in = META_LEN + 1 + idlen;
  bool sealed = f[3] & FLAG_SEALED;

  if (sealed != (key != NULL)) return TRANSPORT_DROP_KEYMODE;
  if (!sealed) {
    if (len < off + META_LEN) return TRANSPORT_DROP_MALFORMED;
    *body = f + off + META_LEN;
    *body_len = len - off - META_LEN;
    if (*body_len > TRANSPORT_MAX_BODY) return TRANSPORT_DROP_OVERSIZE;
    return get_meta(f + off, meta);
  }
  if (len < off + crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES + in)
    return TRANSPORT_DROP_MALFORMED;
  size_t clen = len - off - crypto_secretbox_NONCEBYTES, plen = clen - crypto_secretbox_MACBYTES;
  if (plen - in > TRANSPORT_MAX_BODY) return TRANSPORT_DROP_OVERSIZE;
  *plain = malloc(plen);
  if (!*plain) return TRANSPORT_DROP_MALFORMED;
  if (crypto_secretbox_open_easy(*plain, f + off + crypto_secretbox_NONCEBYTES, clen, f + off, key) != 0)
    return TRANSPORT_DROP_AUTH;
  if ((*plain)[META_LEN] != idlen || memcmp(*plain + META_LEN + 1, clear_id, idlen) != 0)
    return TRANSPORT_DROP_AUTH;
  *body = *plain + in;
  *body_len = plen - in;
  return get_meta(*plain, meta);
}

/* Above the last sequence number accepted from id (then recorded as the last)? -1, or a drop reason. */
static int check_seq(transport *t, const char *id, uint64_t seq) {
  peer_seq *p = peer_get(t, id);
  if (p && seq <= p->last) return TRANSPORT_DROP_REPLAY;
  if (p) p->last = seq;
  return -1;
}

/* Seal body as a frame of kind with our next sequence number and send it. */
static int send_kind(transport *t, int kind, const uint8_t *peer_sess, const uint8_t *body, size_t len) {
  transport_meta m = {.seq = ++t->seq, .kind = kind};
  uint8_t *f = NULL;
  size_t flen = 0;
  int rc;

  memcpy(m.sess, t->sess, sizeof m.sess);
  if (peer_sess) memcpy(m.peer_sess, peer_sess, sizeof m.peer_sess);
  rc = transport_frame_seal(t->keyed ? t->key : NULL, t->self_id, &m, body, len, &f, &flen);
  if (rc == 0) rc = send_frame(t, f, flen);
  free(f);
  return rc;
}

static void say_hello(transport *t) {
  t->last_hello_ns = clock_mono_ns();
  send_kind(t, TRANSPORT_KIND_HELLO, NULL, NULL, 0);
}

static void on_hello_timer(uv_timer_t *h) {
  transport *t = h->data;
  if (!t->bound) say_hello(t);
}

/* A WELCOME that answers our HELLO: follow that master session from its sequence number on, and send
 * what waited for it. */
static void bind_session(transport *t, const char *id, const transport_meta *m) {
  peer_seq *p = peer_get(t, id);
  if (p) p->last = m->seq;
  if (t->bound)
    LOG(LOG_INFO, "%s: the master's session changed (a restarted master): following it", t->self_id);
  t->bound = true;
  memcpy(t->master_sess, m->sess, sizeof t->master_sess);
  uv_timer_stop(&t->hello_timer);
  while (t->whead) {
    qframe *q = t->whead;
    t->whead = q->next;
    t->wbytes -= q->len;
    send_kind(t, TRANSPORT_KIND_DATA, t->master_sess, q->data, q->len);
    free(q);
  }
  t->wtail = NULL;
}

/* The binding side's rules (transport.h): -1 deliver, CONSUMED, or a drop reason. */
static int master_rules(transport *t, const char *id, const transport_meta *m) {
  int reason;
  if (m->kind == TRANSPORT_KIND_WELCOME) return TRANSPORT_DROP_MALFORMED;
  if (m->kind == TRANSPORT_KIND_DATA && memcmp(m->peer_sess, t->sess, sizeof t->sess) != 0)
    return TRANSPORT_DROP_SESSION;
  reason = check_seq(t, id, m->seq);
  if (reason >= 0 || m->kind == TRANSPORT_KIND_DATA) return reason;
  send_kind(t, TRANSPORT_KIND_WELCOME, m->sess, NULL, 0);
  return CONSUMED;
}

/* The connecting side's rules (transport.h): -1 deliver, CONSUMED, or a drop reason. */
static int worker_rules(transport *t, const char *id, const transport_meta *m) {
  bool ours = memcmp(m->peer_sess, t->sess, sizeof t->sess) == 0,
       followed = t->bound && memcmp(m->sess, t->master_sess, sizeof t->master_sess) == 0;
  int reason;

  if (m->kind == TRANSPORT_KIND_HELLO) return TRANSPORT_DROP_MALFORMED;
  if (m->kind == TRANSPORT_KIND_WELCOME && ours && !followed) {
    bind_session(t, id, m);
    return CONSUMED;
  }
  if (!followed) {
    if (m->kind == TRANSPORT_KIND_WELCOME)
      return CONSUMED; /* another worker's, of a session we don't follow */
    if (t->bound && clock_mono_ns() - t->last_hello_ns >= HELLO_MIN_GAP_NS) say_hello(t);
    return TRANSPORT_DROP_SESSION;
  }
  reason = check_seq(t, id, m->seq);
  return reason >= 0 || m->kind == TRANSPORT_KIND_DATA ? reason : CONSUMED;
}

/* Check one received frame and hand its body to the callback. */
static void on_frame(transport *t, const uint8_t *f, size_t len) {
  char id[TRANSPORT_ID_MAX + 1], label[TRANSPORT_ID_MAX + 16];
  const uint8_t *body = NULL;
  size_t body_len = 0;
  uint8_t *plain = NULL;
  transport_meta meta = {0};
  int reason;

  if (len < HDR_FIXED || f[0] != 'L' || f[1] != 'C' || f[4] == 0 || f[4] > TRANSPORT_ID_MAX ||
      len < HDR_FIXED + (size_t)f[4]) {
    drop(t, TRANSPORT_DROP_MALFORMED, "an unknown peer");
    return;
  }
  memcpy(id, f + HDR_FIXED, f[4]);
  id[f[4]] = 0;
  {
    char printable[TRANSPORT_ID_MAX + 1];
    clean_id(f + HDR_FIXED, f[4], printable, sizeof printable);
    snprintf(label, sizeof label, "peer '%s'", printable);
  }
  if (f[2] != TRANSPORT_PROTO) {
    drop(t, TRANSPORT_DROP_VERSION, label);
    goto out;
  }
  if (len > MAX_FRAME) {
    drop(t, TRANSPORT_DROP_OVERSIZE, label);
    goto out;
  }
  reason = unseal(t->keyed ? t->key : NULL, f, len, id, &meta, &body, &body_len, &plain);
  if (reason < 0 && strcmp(id, t->self_id) == 0) reason = TRANSPORT_DROP_SELF;
  if (reason < 0) reason = t->connecting ? worker_rules(t, id, &meta) : master_rules(t, id, &meta);
  if (reason == CONSUMED) goto out;
  if (reason >= 0) {
    drop(t, reason, label);
    goto out;
  }
  t->received++;
  t->on_message(t->ud, id, body, body_len);
out:
  free(plain);
}

/* Header checks shared by on_frame and transport_frame_open; -1 when fine, else a drop reason. */
static int check_header(const uint8_t *f, size_t len) {
  if (len < HDR_FIXED || f[0] != 'L' || f[1] != 'C' || f[4] == 0 || f[4] > TRANSPORT_ID_MAX ||
      len < HDR_FIXED + (size_t)f[4])
    return TRANSPORT_DROP_MALFORMED;
  if (f[2] != TRANSPORT_PROTO) return TRANSPORT_DROP_VERSION;
  return len > MAX_FRAME ? TRANSPORT_DROP_OVERSIZE : -1;
}

int transport_frame_open(const uint8_t *key, const uint8_t *frame, size_t len,
                         char peer[TRANSPORT_ID_MAX + 1], transport_meta *meta, const uint8_t **body,
                         size_t *body_len, uint8_t **plain) {
  int reason = check_header(frame, len);

  *plain = NULL;
  if (reason >= 0) return -(reason + 1);
  memcpy(peer, frame + HDR_FIXED, frame[4]);
  peer[frame[4]] = 0;
  reason = unseal(key, frame, len, peer, meta, body, body_len, plain);
  return reason >= 0 ? -(reason + 1) : 0;
}

static void on_readable(uv_poll_t *h, int status, int events) {
  transport *t = h->data;
  (void)events;
  int64_t t0 = clock_mono_ns();
  if (status < 0) return;
  t->behind = 1;
  for (int i = 0; i < RECV_BATCH && t->sock >= 0 && (i == 0 || clock_mono_ns() - t0 < RECV_BUDGET_NS); i++) {
    void *buf = NULL;
    int n = nn_recv(t->sock, &buf, NN_MSG, NN_DONTWAIT);
    if (n < 0) {
      if (nn_errno() == EINTR) continue;
      if (nn_errno() != EAGAIN) LOG(LOG_WARN, "%s: receive failed: %s", t->self_id, nn_strerror(nn_errno()));
      t->behind = 0;
      break;
    }
    on_frame(t, buf, (size_t)n);
    nn_freemsg(buf);
  }
}

/* Send queued frames until nanomsg pushes back; stop watching the send fd once empty. */
static void flush_queue(transport *t) {
  while (t->qhead) {
    qframe *q = t->qhead;
    if (nn_send(t->sock, q->data, q->len, NN_DONTWAIT) < 0) {
      if (nn_errno() == EAGAIN || nn_errno() == EINTR) return;
      LOG(LOG_WARN, "%s: send failed: %s (frame dropped)", t->self_id, nn_strerror(nn_errno()));
    }
    t->qhead = q->next;
    if (!t->qhead) t->qtail = NULL;
    t->qbytes -= q->len;
    free(q);
  }
  if (t->spoll_active) {
    uv_poll_stop(&t->spoll);
    t->spoll_active = 0;
  }
}

static void on_writable(uv_poll_t *h, int status, int events) {
  (void)status, (void)events;
  flush_queue(h->data);
}

/* Append a copy of data to a queue (head, tail, bytes held); -ENOBUFS over QUEUE_MAX_BYTES. */
static int enqueue(qframe **head, qframe **tail, size_t *bytes, const uint8_t *data, size_t len) {
  qframe *q;
  if (*bytes + len > QUEUE_MAX_BYTES) return -ENOBUFS;
  q = malloc(sizeof *q + len);
  if (!q) return -ENOMEM;
  q->next = NULL;
  q->len = len;
  if (len) memcpy(q->data, data, len);
  if (*tail)
    (*tail)->next = q;
  else
    *head = q;
  *tail = q;
  *bytes += len;
  return 0;
}

static void free_queue(qframe **head, qframe **tail) {
  while (*head) {
    qframe *q = *head;
    *head = q->next;
    free(q);
  }
  *tail = NULL;
}

/* Send a sealed frame now, or queue it (in order) while nanomsg pushes back. */
static int send_frame(transport *t, const uint8_t *f, size_t flen) {
  int rc;
  if (!t->qhead && nn_send(t->sock, f, flen, NN_DONTWAIT) >= 0) return 0;
  if (!t->qhead && nn_errno() != EAGAIN) return -nn_errno();
  rc = enqueue(&t->qhead, &t->qtail, &t->qbytes, f, flen);
  if (rc == 0 && !t->spoll_active && t->spoll_init) {
    uv_poll_start(&t->spoll, UV_READABLE, on_writable);
    t->spoll_active = 1;
  }
  return rc;
}

int transport_send(transport *t, const uint8_t *body, size_t len) {
  if (len > TRANSPORT_MAX_BODY) return -E2BIG;
  if (t->connecting && !t->bound) return enqueue(&t->whead, &t->wtail, &t->wbytes, body, len);
  return send_kind(t, TRANSPORT_KIND_DATA, t->connecting ? t->master_sess : NULL, body, len);
}

bool transport_bound(const transport *t) {
  return !t->connecting || t->bound;
}

bool transport_url_is_local(const char *url) {
  const char *host, *end;
  size_t n;

  if (!url) return false;
  if (!strncmp(url, "ipc://", 6) || !strncmp(url, "inproc://", 9)) return true;
  if (strncmp(url, "tcp://", 6) != 0) return false;
  host = url + 6;
  if (strchr(host, ';')) host = strchr(host, ';') + 1;
  if (host[0] == '[') return !strncmp(host, "[::1]", 5);
  end = strrchr(host, ':');
  n = end ? (size_t)(end - host) : strlen(host);
  if (n == 9 && !strncmp(host, "localhost", 9)) return true;
  return n >= 4 && !strncmp(host, "127.", 4);
}

static int fail(char *err, size_t errlen, int rc, const char *fmt, const char *a, const char *b) {
  snprintf(err, errlen, fmt, a, b);
  return rc;
}

/* Socket options and the bind/connect; -errno with a message in err. */
static int setup_socket(transport *t, const transport_config *cfg, char *err, size_t errlen) {
  int maxsize = (int)MAX_FRAME * 2, ivl_max = 1000, ipv4only = strchr(cfg->url, '[') ? 0 : 1;
  size_t sz = sizeof(int);

  t->sock = nn_socket(AF_SP, NN_BUS);
  if (t->sock < 0) return fail(err, errlen, -nn_errno(), "nanomsg socket: %s%s", nn_strerror(nn_errno()), "");
  nn_setsockopt(t->sock, NN_SOL_SOCKET, NN_RCVMAXSIZE, &maxsize, sizeof maxsize);
  nn_setsockopt(t->sock, NN_SOL_SOCKET, NN_RECONNECT_IVL_MAX, &ivl_max, sizeof ivl_max);
  nn_setsockopt(t->sock, NN_SOL_SOCKET, NN_IPV4ONLY, &ipv4only, sizeof ipv4only);
  if ((cfg->mode == TRANSPORT_BIND ? nn_bind(t->sock, cfg->url) : nn_connect(t->sock, cfg->url)) < 0)
    return fail(err, errlen, -nn_errno(), "cannot use %s: %s", cfg->url, nn_strerror(nn_errno()));
  int rfd = -1, sfd = -1;
  if (nn_getsockopt(t->sock, NN_SOL_SOCKET, NN_RCVFD, &rfd, &sz) < 0 ||
      nn_getsockopt(t->sock, NN_SOL_SOCKET, NN_SNDFD, &sfd, &sz) < 0)
    return fail(err, errlen, -nn_errno(), "nanomsg fds: %s%s", nn_strerror(nn_errno()), "");
  if (uv_poll_init(t->loop, &t->rpoll, rfd) < 0)
    return fail(err, errlen, -EIO, "uv_poll on %s%s", cfg->url, "");
  t->rpoll_init = 1;
  t->rpoll.data = t;
  if (uv_poll_init(t->loop, &t->spoll, sfd) < 0)
    return fail(err, errlen, -EIO, "uv_poll on %s%s", cfg->url, "");
  t->spoll_init = 1;
  t->spoll.data = t;
  uv_poll_start(&t->rpoll, UV_READABLE, on_readable);
  if (t->connecting) { /* the challenge: HELLO now and every HELLO_EVERY_MS until WELCOMEd */
    uv_timer_init(t->loop, &t->hello_timer);
    t->hello_timer_init = 1;
    t->hello_timer.data = t;
    uv_timer_start(&t->hello_timer, on_hello_timer, HELLO_EVERY_MS, HELLO_EVERY_MS);
    say_hello(t);
  }
  return 0;
}

int transport_open(uv_loop_t *loop, const transport_config *cfg, transport **out, char *err, size_t errlen) {
  transport *t;
  int rc;

  if (sodium_init() < 0) return fail(err, errlen, -EIO, "libsodium failed to initialise%s%s", "", "");
  if (!cfg->url || !cfg->self_id || !cfg->self_id[0] || strlen(cfg->self_id) > TRANSPORT_ID_MAX ||
      !cfg->on_message)
    return fail(err, errlen, -EINVAL, "transport: missing url, id (1..64 bytes) or callback%s%s", "", "");
  if (!cfg->key && cfg->mode == TRANSPORT_BIND && !transport_url_is_local(cfg->url))
    return fail(
        err, errlen, -EPERM,
        "refusing to listen on %s without a key: anyone who can reach it could run load from your "
        "workers. Create one with `loadctl keygen FILE` and pass --key-file FILE (or LOADCTL_KEY), or "
        "listen on 127.0.0.1 / ipc://%s",
        cfg->url, "");
  t = calloc(1, sizeof *t);
  if (!t) return -ENOMEM;
  t->loop = loop;
  t->sock = -1;
  t->keyed = cfg->key != NULL;
  if (cfg->key) memcpy(t->key, cfg->key, TRANSPORT_KEY_LEN);
  snprintf(t->self_id, sizeof t->self_id, "%s", cfg->self_id);
  t->seq = (uint64_t)clock_wall_ns();
  t->connecting = cfg->mode == TRANSPORT_CONNECT;
  randombytes_buf(t->sess, sizeof t->sess);
  t->on_message = cfg->on_message;
  t->ud = cfg->ud;
  rc = setup_socket(t, cfg, err, errlen);
  if (rc < 0) {
    transport_close(t);
    return rc;
  }
  *out = t;
  return 0;
}

static void free_transport(transport *t) {
  sodium_memzero(t->key, sizeof t->key);
  free(t->peers);
  free(t);
}

static void on_closed(uv_handle_t *h) {
  transport *t = h->data;
  if (--t->closes_pending == 0) free_transport(t);
}

void transport_close(transport *t) {
  if (!t) return;
  free_queue(&t->qhead, &t->qtail);
  free_queue(&t->whead, &t->wtail);
  if (t->hello_timer_init) t->closes_pending++, uv_close((uv_handle_t *)&t->hello_timer, on_closed);
  if (t->rpoll_init) t->closes_pending++, uv_close((uv_handle_t *)&t->rpoll, on_closed);
  if (t->spoll_init) t->closes_pending++, uv_close((uv_handle_t *)&t->spoll, on_closed);
  if (t->sock >= 0) nn_close(t->sock);
  t->sock = -1;
  if (t->closes_pending == 0) free_transport(t);
}

uint64_t transport_drops(const transport *t, int reason) {
  uint64_t n = 0;
  if (reason >= 0) return reason < TRANSPORT_DROP_COUNT ? t->drops[reason] : 0;
  for (int i = 0; i < TRANSPORT_DROP_COUNT; i++) n += t->drops[i];
  return n;
}

uint64_t transport_received(const transport *t) {
  return t->received;
}

bool transport_behind(const transport *t) {
  return t && t->behind;
}

int transport_key_parse(const char *hex, uint8_t key[TRANSPORT_KEY_LEN]) {
  size_t bin_len = 0;
  const char *end = NULL;

  while (*hex == ' ' || *hex == '\t' || *hex == '\n' || *hex == '\r') hex++;
  if (sodium_hex2bin(key, TRANSPORT_KEY_LEN, hex, strlen(hex), NULL, &bin_len, &end) != 0 ||
      bin_len != TRANSPORT_KEY_LEN)
    return -EINVAL;
  while (*end == ' ' || *end == '\t' || *end == '\n' || *end == '\r') end++;
  return *end ? -EINVAL : 0;
}

int transport_key_load(const char *path, uint8_t key[TRANSPORT_KEY_LEN], bool *have, char *err,
                       size_t errlen) {
  char text[256];
  const char *env = getenv("LOADCTL_KEY");
  FILE *f;
  size_t n;

  *have = false;
  if (!path) {
    if (!env || !*env) return 0;
    if (transport_key_parse(env, key) != 0)
      return fail(err, errlen, -EINVAL, "LOADCTL_KEY is not a key: expected 64 hex digits%s%s", "", "");
    *have = true;
    return 0;
  }
  f = fopen(path, "r");
  if (!f) return fail(err, errlen, -errno, "cannot read key file %s: %s", path, strerror(errno));
  n = fread(text, 1, sizeof text - 1, f);
  fclose(f);
  text[n] = 0;
  if (transport_key_parse(text, key) != 0)
    return fail(err, errlen, -EINVAL,
                "key file %s: expected 64 hex digits (make one with `loadctl keygen %s`)", path, path);
  *have = true;
  return 0;
}

void transport_key_random(uint8_t key[TRANSPORT_KEY_LEN]) {
  if (sodium_init() < 0) abort();
  randombytes_buf(key, TRANSPORT_KEY_LEN);
}

int transport_key_generate(const char *path, char *err, size_t errlen) {
  uint8_t key[TRANSPORT_KEY_LEN];
  char hex[TRANSPORT_KEY_LEN * 2 + 2];
  int fd, rc = 0;

  transport_key_random(key);
  sodium_bin2hex(hex, sizeof hex - 1, key, sizeof key);
  hex[TRANSPORT_KEY_LEN * 2] = '\n';
  hex[TRANSPORT_KEY_LEN * 2 + 1] = 0;
  fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
  if (fd < 0) {
    rc = -errno;
    return fail(err, errlen, rc, "cannot create %s: %s (an existing key is never overwritten)", path,
                strerror(errno));
  }
  if (fchmod(fd, 0600) < 0 || write(fd, hex, strlen(hex)) != (ssize_t)strlen(hex) || fsync(fd) < 0) {
    rc = -errno;
    snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
  }
  close(fd);
  sodium_memzero(key, sizeof key);
  sodium_memzero(hex, sizeof hex);
  return rc;
}
