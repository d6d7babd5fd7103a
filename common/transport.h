/* transport.h - master <-> worker frames over nanomsg, driven from a libuv loop, authenticated with a
 * pre-shared 32-byte key (libsodium), with replay and size checks; the bytes inside are msg.h's.
 *
 * Socket pattern: NN_BUS. The master binds one bus socket, every worker connects to it. A worker's sends
 * reach only the master (bus does not forward between peers), the master's sends reach every worker, and
 * msg.worker_id names the addressee ("" = all). That gives per-worker addressing over one listening
 * endpoint with heartbeats and start/stop as one broadcast each, which PUSH/PULL + PUB/SUB would need two
 * ports for. Because every worker sees every master frame, keyed frames are sealed (crypto_secretbox:
 * XSalsa20-Poly1305, an authentication tag plus confidentiality), so a peer without the key neither
 * passes authentication nor reads another worker's scenario.
 *
 * Frame: "LC" | protocol version (1) | flags (1) | id length (1) | sender id | then
 *   keyed:   nonce (24) | secretbox(meta | id length (1) | sender id | body)
 *   keyless: meta | body
 * meta: seq (8, big endian) | kind (1) | session (16) | peer session (16).
 * The clear sender id only names the peer in log lines; the sealed copy is the one trusted.
 *
 * Replays. Sequence numbers start at the sender's wall clock in ns and grow by one per frame; a frame
 * at or below the last accepted sequence number of its sender is dropped. That alone does not stop a
 * frame captured earlier from being replayed to a process that has never seen its sender (a freshly
 * started worker, a restarted master), so each side also draws a random session id when it opens, and
 * a challenge binds the two:
 *   - the connecting side (worker) sends HELLO(session = its own) until the binding side (master)
 *     answers WELCOME(peer session = the worker's session, session = the master's). Only then does the
 *     worker accept the master's frames, and only those of that master session with a sequence number
 *     above the WELCOME's; its own data frames wait (bounded) until then.
 *   - every data frame a worker sends carries the master's session as its peer session; the master
 *     drops data frames whose peer session is not its own (frames from before it started).
 * So a captured frame replayed to a new worker fails the challenge (its WELCOME named another session,
 * or its sequence number is below the fresh WELCOME's), and one replayed to a restarted master names a
 * session that no longer exists. When the master's session changes (it restarted), a worker says HELLO
 * again and follows the new session once WELCOMEd. HELLO and WELCOME never reach the callback.
 * Not covered: an attacker with the key (it can make any frame), and delaying or dropping frames. */
#ifndef LOADCTL_TRANSPORT_H
#define LOADCTL_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#define TRANSPORT_KEY_LEN 32
#define TRANSPORT_MAX_BODY ((size_t)16 << 20) /* frames carrying more are dropped */
#define TRANSPORT_ID_MAX 64
#define TRANSPORT_PROTO 2 /* 2: session ids and the HELLO/WELCOME challenge */
#define TRANSPORT_SESS_LEN 16

enum transport_mode { TRANSPORT_BIND = 0, TRANSPORT_CONNECT = 1 };

/* Why a frame was dropped (counted per reason; each drop is also logged naming the peer). */
enum transport_drop {
  TRANSPORT_DROP_MALFORMED = 0, /* too short, bad magic, truncated */
  TRANSPORT_DROP_VERSION,       /* other protocol version */
  TRANSPORT_DROP_AUTH,          /* tag did not verify: wrong key or corrupted */
  TRANSPORT_DROP_KEYMODE,       /* keyless frame to a keyed side, or the other way round */
  TRANSPORT_DROP_REPLAY,        /* sequence number not above the last accepted one */
  TRANSPORT_DROP_OVERSIZE,      /* body over TRANSPORT_MAX_BODY */
  TRANSPORT_DROP_SELF,          /* a peer claiming our own id */
  TRANSPORT_DROP_SESSION,       /* from another session than the one we are bound to (stale or replayed) */
  TRANSPORT_DROP_COUNT
};

typedef struct transport transport;

/* Called on the loop thread for each accepted frame; peer_id is the authenticated sender id, body the
 * msgpack bytes (both valid for the call only). */
typedef void (*transport_message_fn)(void *ud, const char *peer_id, const uint8_t *body, size_t len);

typedef struct transport_config {
  const char *url;     /* "tcp://0.0.0.0:5557", "tcp://127.0.0.1:5557", "ipc:///tmp/x.ipc" */
  int mode;            /* enum transport_mode */
  const uint8_t *key;  /* TRANSPORT_KEY_LEN bytes, or NULL for none (bind: loopback/ipc only) */
  const char *self_id; /* our sender id, 1..TRANSPORT_ID_MAX bytes */
  transport_message_fn on_message;
  void *ud;
} transport_config;

/* Open a bus socket bound or connected to cfg->url and watched from loop. Without a key, binding to
 * anything but ipc://, 127.0.0.0/8, localhost or [::1] is refused (-EPERM, message in err).
 * *out owned by the caller; release with transport_close. Negative errno and a message in err. */
int transport_open(uv_loop_t *loop, const transport_config *cfg, transport **out, char *err, size_t errlen);

/* Seal body with our next sequence number and send it (to the master, or to every worker from the
 * master). Never blocks: when nanomsg pushes back, the frame waits in a queue flushed from the loop; a
 * worker not yet WELCOMEd holds it until it is. 0, -E2BIG, -ENOMEM, -ENOBUFS (queue full), or a negative
 * errno from nanomsg. */
int transport_send(transport *t, const uint8_t *body, size_t len);

/* Stop watching, close the socket; memory is freed from the uv close callbacks, so run the loop
 * afterwards. NULL is fine. */
void transport_close(transport *t);

/* Frames dropped for reason (enum transport_drop), and in total (reason < 0). */
uint64_t transport_drops(const transport *t, int reason);
/* Frames accepted so far. */
uint64_t transport_received(const transport *t);
/* True while reading is behind: the last read stopped after its time budget (50 ms) with frames maybe
 * left unread (a master merging slower than frames come). A peer's frames waiting unread there are not
 * its silence. */
bool transport_behind(const transport *t);

/* --- frames without sockets (tests, bench) --- */
enum transport_kind { TRANSPORT_KIND_DATA = 0, TRANSPORT_KIND_HELLO = 1, TRANSPORT_KIND_WELCOME = 2 };

/* What a frame says besides its body (see the layout above). */
typedef struct transport_meta {
  uint64_t seq;
  int kind;                              /* enum transport_kind */
  uint8_t sess[TRANSPORT_SESS_LEN];      /* the sender's session */
  uint8_t peer_sess[TRANSPORT_SESS_LEN]; /* HELLO: zero; WELCOME: the worker's; worker data: the master's */
} transport_meta;

/* Build a frame for body from sender self_id; *out malloc'd, caller frees. 0, -EINVAL, -E2BIG, -ENOMEM. */
int transport_frame_seal(const uint8_t *key, const char *self_id, const transport_meta *meta,
                         const uint8_t *body, size_t len, uint8_t **out, size_t *out_len);

/* Check and open a frame without a socket (no replay or session check): 0 with the sender in peer, its
 * meta, and body/body_len pointing into frame or into *plain (malloc'd or NULL; caller frees); or
 * -(1 + enum transport_drop) when it would be dropped. */
int transport_frame_open(const uint8_t *key, const uint8_t *frame, size_t len,
                         char peer[TRANSPORT_ID_MAX + 1], transport_meta *meta, const uint8_t **body,
                         size_t *body_len, uint8_t **plain);

/* Whether t (connecting side) has been WELCOMEd by the master, so its frames flow. Binding side: true. */
bool transport_bound(const transport *t);

/* --- keys --- */
/* Parse 64 hex digits (surrounding whitespace allowed). 0 or -EINVAL. */
int transport_key_parse(const char *hex, uint8_t key[TRANSPORT_KEY_LEN]);
/* Key from path (hex text) when path is non-NULL, else from $LOADCTL_KEY; *have = whether one was found.
 * 0, or negative errno with a message naming the file or variable in err. */
int transport_key_load(const char *path, uint8_t key[TRANSPORT_KEY_LEN], bool *have, char *err,
                       size_t errlen);
/* Write a fresh random key as hex to path, created with mode 0600 (refuses to overwrite: -EEXIST). */
int transport_key_generate(const char *path, char *err, size_t errlen);
/* Fill key with random bytes (libsodium). */
void transport_key_random(uint8_t key[TRANSPORT_KEY_LEN]);

/* True for ipc://, inproc://, and tcp:// on 127.0.0.0/8, localhost or [::1]. */
bool transport_url_is_local(const char *url);

/* "malformed", "version", "auth", ... */
const char *transport_drop_name(int reason);

#endif
