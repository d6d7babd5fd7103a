/* transport.c - nanomsg bus sockets on a libuv loop (NN_RCVFD/NN_SNDFD watched with uv_poll, then
 * nn_recv/nn_send with NN_DONTWAIT until EAGAIN), frames sealed with libsodium's secretbox, replays and
 * oversize frames dropped with a log line naming the peer. See transport.h for the frame layout. */
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
};

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

int transport_frame_seal(const uint8_t *key, const char *self_id, uint64_t seq, const uint8_t *body,
                         size_t len, uint8_t **out, size_t *out_len) {
  size_t idlen = strlen(self_id), inner_len = 8 + 1 + idlen + len, total;
  uint8_t *f, *inner = NULL;

  if (idlen == 0 || idlen > TRANSPORT_ID_MAX) return -EINVAL;
  if (len > TRANSPORT_MAX_BODY) return -E2BIG;
  total = HDR_FIXED + idlen +
          (key ? crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES + inner_len : 8 + len);
  f = malloc(total);
  if (!f) return -ENOMEM;
  f[0] = 'L', f[1] = 'C', f[2] = TRANSPORT_PROTO, f[3] = key ? FLAG_SEALED : 0, f[4] = (uint8_t)idlen;
  memcpy(f + HDR_FIXED, self_id, idlen);
  if (!key) {
    put_be64(f + HDR_FIXED + idlen, seq);
    if (len) memcpy(f + HDR_FIXED + idlen + 8, body, len);
  } else {
    uint8_t *nonce = f + HDR_FIXED + idlen;
    inner = malloc(inner_len);
    if (!inner) {
      free(f);
      return -ENOMEM;
    }
    put_be64(inner, seq);
    inner[8] = (uint8_t)idlen;
    memcpy(inner + 9, self_id, idlen);
    if (len) memcpy(inner + 9 + idlen, body, len);
    randombytes_buf(nonce, crypto_secretbox_NONCEBYTES);
    crypto_secretbox_easy(nonce + crypto_secretbox_NONCEBYTES, inner, inner_len, nonce, key);
    free(inner);
  }
  *out = f;
  *out_len = total;
  return 0;
}

/* Count and log one dropped frame. */
static void drop(transport *t, int reason, const char *peer) {
  t->drops[reason]++;
  LOG(LOG_WARN, "%s: dropped a frame from %s: %s (%llu dropped so far)", t->self_id, peer,
      transport_drop_name(reason), (unsigned long long)t->drops[reason]);
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
static int unseal(const uint8_t *key, const uint8_t *f, size_t len, const char *clear_id, uint64_t *seq,
                  const uint8_t **body, size_t *body_len, uint8_t **plain) {
  size_t idlen = f[4], off = HDR_FIXED + idlen;
  bool sealed = f[3] & FLAG_SEALED;

  if (sealed != (key != NULL)) return TRANSPORT_DROP_KEYMODE;
  if (!sealed) {
    if (len < off + 8) return TRANSPORT_DROP_MALFORMED;
    *seq = get_be64(f + off);
    *body = f + off + 8;
    *body_len = len - off - 8;
    return *body_len > TRANSPORT_MAX_BODY ? TRANSPORT_DROP_OVERSIZE : -1;
  }
  if (len < off + crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES + 9 + idlen)
    return TRANSPORT_DROP_MALFORMED;
  size_t clen = len - off - crypto_secretbox_NONCEBYTES, plen = clen - crypto_secretbox_MACBYTES;
  if (plen - 9 - idlen > TRANSPORT_MAX_BODY) return TRANSPORT_DROP_OVERSIZE;
  *plain = malloc(plen);
  if (!*plain) return TRANSPORT_DROP_MALFORMED;
  if (crypto_secretbox_open_easy(*plain, f + off + crypto_secretbox_NONCEBYTES, clen, f + off, key) != 0)
    return TRANSPORT_DROP_AUTH;
  if ((*plain)[8] != idlen || memcmp(*plain + 9, clear_id, idlen) != 0) return TRANSPORT_DROP_AUTH;
  *seq = get_be64(*plain);
  *body = *plain + 9 + idlen;
  *body_len = plen - 9 - idlen;
  return -1;
}

/* Check one received frame and hand its body to the callback. */
static void on_frame(transport *t, const uint8_t *f, size_t len) {
  char id[TRANSPORT_ID_MAX + 1], label[TRANSPORT_ID_MAX + 16];
  const uint8_t *body = NULL;
  size_t body_len = 0;
  uint8_t *plain = NULL;
  uint64_t seq = 0;
  peer_seq *p;
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
  reason = unseal(t->keyed ? t->key : NULL, f, len, id, &seq, &body, &body_len, &plain);
  if (reason < 0 && strcmp(id, t->self_id) == 0) reason = TRANSPORT_DROP_SELF;
  if (reason < 0) {
    p = peer_get(t, id);
    if (p && seq <= p->last)
      reason = TRANSPORT_DROP_REPLAY;
    else if (p)
      p->last = seq;
  }
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
                         char peer[TRANSPORT_ID_MAX + 1], uint64_t *seq, const uint8_t **body,
                         size_t *body_len, uint8_t **plain) {
  int reason = check_header(frame, len);

  *plain = NULL;
  if (reason >= 0) return -(reason + 1);
  memcpy(peer, frame + HDR_FIXED, frame[4]);
  peer[frame[4]] = 0;
  reason = unseal(key, frame, len, peer, seq, body, body_len, plain);
  return reason >= 0 ? -(reason + 1) : 0;
}

static void on_readable(uv_poll_t *h, int status, int events) {
  transport *t = h->data;
  (void)events;
  if (status < 0) return;
  for (int i = 0; i < RECV_BATCH && t->sock >= 0; i++) {
    void *buf = NULL;
    int n = nn_recv(t->sock, &buf, NN_MSG, NN_DONTWAIT);
    if (n < 0) {
      if (nn_errno() == EINTR) continue;
      if (nn_errno() != EAGAIN) LOG(LOG_WARN, "%s: receive failed: %s", t->self_id, nn_strerror(nn_errno()));
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

int transport_send(transport *t, const uint8_t *body, size_t len) {
  uint8_t *f = NULL;
  size_t flen = 0;
  qframe *q;
  int rc = transport_frame_seal(t->keyed ? t->key : NULL, t->self_id, ++t->seq, body, len, &f, &flen);

  if (rc < 0) return rc;
  if (!t->qhead && nn_send(t->sock, f, flen, NN_DONTWAIT) >= 0) goto out;
  if (!t->qhead && nn_errno() != EAGAIN) {
    rc = -nn_errno();
    goto out;
  }
  if (t->qbytes + flen > QUEUE_MAX_BYTES) {
    rc = -ENOBUFS;
    goto out;
  }
  q = malloc(sizeof *q + flen);
  if (!q) {
    rc = -ENOMEM;
    goto out;
  }
  q->next = NULL;
  q->len = flen;
  memcpy(q->data, f, flen);
  if (t->qtail)
    t->qtail->next = q;
  else
    t->qhead = q;
  t->qtail = q;
  t->qbytes += flen;
  if (!t->spoll_active && t->spoll_init) {
    uv_poll_start(&t->spoll, UV_READABLE, on_writable);
    t->spoll_active = 1;
  }
out:
  free(f);
  return rc;
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
  while (t->qhead) {
    qframe *q = t->qhead;
    t->qhead = q->next;
    free(q);
  }
  t->qtail = NULL;
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
