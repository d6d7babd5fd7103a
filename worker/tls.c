/* tls.c - OpenSSL client sessions on uv streams (see tls.h). A BIO of our own hands OpenSSL the bytes a
 * uv read delivered without copying them first, and collects what OpenSSL writes into one buffer that
 * goes out with a single uv_try_write, the way wrk writes a request. */
#include "worker/tls.h"

#include <arpa/inet.h>
#include <errno.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/grow.h"

#define TLS_SESSIONS 64    /* origins whose last session a context keeps for resumption */
#define TLS_ORIGIN_MAX 272 /* "host:port" */
#define TLS_ERROR_MAX 256

typedef struct bytes {
  char *data;
  size_t len, cap;
} bytes;

typedef struct cached_session {
  char origin[TLS_ORIGIN_MAX];
  SSL_SESSION *session;
} cached_session;

struct tls_ctx {
  tls_options opt; /* strings owned */
  SSL_CTX *ssl;    /* built by tls_ctx_prepare */
  char error[TLS_ERROR_MAX];
  int failed; /* prepare failed: every connection fails with error */
  cached_session sessions[TLS_SESSIONS];
  int next_slot; /* the slot a new origin takes when all are used */
};

struct tls_conn {
  tls_ctx *ctx;
  SSL *ssl;
  uv_stream_t *stream;
  tls_write_cb write_cb;
  void *ud;
  const char *in; /* fed ciphertext not yet taken by OpenSSL */
  size_t in_len;
  bytes out;    /* ciphertext written by OpenSSL, not yet handed to the stream */
  bytes queued; /* ciphertext in a uv_write on the stream */
  uv_write_t wreq;
  int writing, freed;
  int failed; /* a call failed: the session is not offered again */
  char origin[TLS_ORIGIN_MAX];
  char alpn[32];
  char error[TLS_ERROR_MAX];
};

/* ---- the BIO between OpenSSL and the uv stream ---- */

static BIO_METHOD *bio_method;
static pthread_once_t bio_once = PTHREAD_ONCE_INIT;

static int bytes_add(bytes *b, const void *data, size_t n) {
  return grow_append(&b->data, &b->len, &b->cap, data, n, 4096);
}

static int bio_write(BIO *b, const char *data, int len) {
  tls_conn *t = BIO_get_data(b);
  BIO_clear_retry_flags(b);
  return len < 0 || bytes_add(&t->out, data, (size_t)len) ? -1 : len;
}

static int bio_read(BIO *b, char *buf, int len) {
  tls_conn *t = BIO_get_data(b);
  BIO_clear_retry_flags(b);
  if (t->in_len == 0 || len <= 0) {
    BIO_set_retry_read(b);
    return -1;
  }
  size_t n = t->in_len < (size_t)len ? t->in_len : (size_t)len;
  memcpy(buf, t->in, n);
  t->in += n;
  t->in_len -= n;
  return (int)n;
}

static long bio_ctrl(BIO *b, int cmd, long num, void *ptr) {
  (void)b, (void)num, (void)ptr;
  return cmd == BIO_CTRL_FLUSH ? 1 : 0;
}

static int bio_create(BIO *b) {
  BIO_set_init(b, 1);
  return 1;
}

static void bio_setup(void) {
  bio_method = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "loadctl-uv");
  if (!bio_method) return;
  BIO_meth_set_write(bio_method, bio_write);
  BIO_meth_set_read(bio_method, bio_read);
  BIO_meth_set_ctrl(bio_method, bio_ctrl);
  BIO_meth_set_create(bio_method, bio_create);
}

/* ---- context: verification, client certificate, sessions ---- */

static char *dup_or_null(const char *s) {
  return s && *s ? strdup(s) : NULL;
}

int tls_ctx_create(const tls_options *opt, tls_ctx **out) {
  tls_ctx *ctx = calloc(1, sizeof *ctx);
  if (!ctx) return -ENOMEM;
  if (opt) {
    ctx->opt.insecure = opt->insecure;
    ctx->opt.ca_file = dup_or_null(opt->ca_file);
    ctx->opt.cert_file = dup_or_null(opt->cert_file);
    ctx->opt.key_file = dup_or_null(opt->key_file);
  }
  *out = ctx;
  return 0;
}

void tls_ctx_free(tls_ctx *ctx) {
  if (!ctx) return;
  for (int i = 0; i < TLS_SESSIONS; i++) SSL_SESSION_free(ctx->sessions[i].session);
  SSL_CTX_free(ctx->ssl);
  free((char *)ctx->opt.ca_file);
  free((char *)ctx->opt.cert_file);
  free((char *)ctx->opt.key_file);
  free(ctx);
}

/* The reason OpenSSL gives for its last error, "what: reason". */
static void ssl_reason(char *buf, size_t size, const char *what) {
  unsigned long e = ERR_peek_last_error();
  const char *reason = e ? ERR_reason_error_string(e) : NULL;
  if (reason)
    snprintf(buf, size, "%s: %s", what, reason);
  else if (e)
    snprintf(buf, size, "%s: OpenSSL error %lx", what, e);
  else
    snprintf(buf, size, "%s", what);
  ERR_clear_error();
}

/* OpenSSL found a new session for t's origin: keep it (the reference is ours) for the next connection. */
static int on_new_session(SSL *ssl, SSL_SESSION *session) {
  tls_conn *t = SSL_get_app_data(ssl);
  if (!t || !SSL_SESSION_is_resumable(session)) return 0;
  tls_ctx *ctx = t->ctx;
  cached_session *slot = NULL;
  for (int i = 0; i < TLS_SESSIONS && !slot; i++)
    if (ctx->sessions[i].session && strcmp(ctx->sessions[i].origin, t->origin) == 0) slot = &ctx->sessions[i];
  if (!slot) {
    slot = &ctx->sessions[ctx->next_slot];
    ctx->next_slot = (ctx->next_slot + 1) % TLS_SESSIONS;
    memcpy(slot->origin, t->origin, sizeof slot->origin);
  }
  SSL_SESSION_free(slot->session);
  slot->session = session;
  return 1;
}

static SSL_SESSION *cached(const tls_ctx *ctx, const char *origin) {
  for (int i = 0; i < TLS_SESSIONS; i++)
    if (ctx->sessions[i].session && strcmp(ctx->sessions[i].origin, origin) == 0)
      return ctx->sessions[i].session;
  return NULL;
}

static int load_files(tls_ctx *ctx) {
  SSL_CTX *s = ctx->ssl;
  const tls_options *o = &ctx->opt;
  if (o->ca_file && SSL_CTX_load_verify_locations(s, o->ca_file, NULL) != 1) {
    char what[300];
    snprintf(what, sizeof what, "CA file %.200s", o->ca_file);
    ssl_reason(ctx->error, sizeof ctx->error, what);
    return -EINVAL;
  }
  if (!o->ca_file && !o->insecure) SSL_CTX_set_default_verify_paths(s);
  if (!o->cert_file) return 0;
  const char *key = o->key_file ? o->key_file : o->cert_file;
  const char *what = o->cert_file;
  if (SSL_CTX_use_certificate_chain_file(s, o->cert_file) == 1) {
    what = key;
    if (SSL_CTX_use_PrivateKey_file(s, key, SSL_FILETYPE_PEM) == 1 && SSL_CTX_check_private_key(s) == 1)
      return 0;
  }
  char w[300];
  snprintf(w, sizeof w, "client certificate %.200s", what);
  ssl_reason(ctx->error, sizeof ctx->error, w);
  return -EINVAL;
}

int tls_ctx_prepare(tls_ctx *ctx, char *err, size_t errlen) {
  if (!ctx->ssl && !ctx->failed) {
    pthread_once(&bio_once, bio_setup);
    ctx->ssl = bio_method ? SSL_CTX_new(TLS_client_method()) : NULL;
    if (!ctx->ssl) {
      ssl_reason(ctx->error, sizeof ctx->error, "cannot create an OpenSSL context");
      ctx->failed = 1;
    } else {
      SSL_CTX_set_min_proto_version(ctx->ssl, TLS1_2_VERSION);
      SSL_CTX_set_verify(ctx->ssl, ctx->opt.insecure ? SSL_VERIFY_NONE : SSL_VERIFY_PEER, NULL);
      SSL_CTX_set_session_cache_mode(ctx->ssl, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
      SSL_CTX_sess_set_new_cb(ctx->ssl, on_new_session);
      SSL_CTX_set_read_ahead(ctx->ssl, 1); /* one BIO read per uv read, not two per record */
      if (load_files(ctx) < 0) ctx->failed = 1;
    }
  }
  if (ctx->failed && err) snprintf(err, errlen, "%s", ctx->error);
  return ctx->failed ? -EINVAL : 0;
}

/* ---- connections ---- */

/* "h2,http/1.1" as ALPN's wire format (length-prefixed names) into wire; its length, or -1. */
static int alpn_wire(const char *list, unsigned char *wire, size_t cap) {
  size_t n = 0;
  while (*list) {
    size_t len = strcspn(list, ",");
    if (len == 0 || len > 255 || n + 1 + len > cap) return -1;
    wire[n++] = (unsigned char)len;
    memcpy(wire + n, list, len);
    n += len;
    list += len + (list[len] == ',');
  }
  return (int)n;
}

/* SNI, host name (or address) verification and ALPN for a new session. */
static int setup_session(tls_conn *t, const char *host, const char *alpn) {
  unsigned char addr[16], wire[64];
  int is_ip = inet_pton(AF_INET, host, addr) == 1 || inet_pton(AF_INET6, host, addr) == 1;
  if (!is_ip && SSL_set_tlsext_host_name(t->ssl, host) != 1) return -EINVAL;
  if (!t->ctx->opt.insecure) {
    X509_VERIFY_PARAM *param = SSL_get0_param(t->ssl);
    int ok = is_ip ? X509_VERIFY_PARAM_set1_ip_asc(param, host) : SSL_set1_host(t->ssl, host);
    if (ok != 1) return -EINVAL;
  }
  if (alpn && *alpn) {
    int len = alpn_wire(alpn, wire, sizeof wire);
    if (len <= 0 || SSL_set_alpn_protos(t->ssl, wire, (unsigned)len) != 0) return -EINVAL;
  }
  SSL_SESSION *s = cached(t->ctx, t->origin);
  if (s) SSL_set_session(t->ssl, s);
  SSL_set_connect_state(t->ssl);
  return 0;
}

int tls_conn_create(tls_ctx *ctx, uv_stream_t *stream, const char *host, int port, const char *alpn,
                    tls_write_cb write_cb, void *ud, tls_conn **out) {
  tls_conn *t = calloc(1, sizeof *t);
  if (!t) return -ENOMEM;
  t->ctx = ctx;
  t->stream = stream;
  t->write_cb = write_cb;
  t->ud = ud;
  snprintf(t->origin, sizeof t->origin, "%s:%d", host, port);
  *out = t;
  if (tls_ctx_prepare(ctx, t->error, sizeof t->error) < 0) return -EINVAL;
  BIO *bio = BIO_new(bio_method);
  t->ssl = bio ? SSL_new(ctx->ssl) : NULL;
  if (!t->ssl) {
    BIO_free(bio);
    ssl_reason(t->error, sizeof t->error, "cannot create a TLS session");
    return -ENOMEM;
  }
  BIO_set_data(bio, t);
  SSL_set_bio(t->ssl, bio, bio);
  SSL_set_app_data(t->ssl, t);
  if (setup_session(t, host, alpn) < 0) {
    ssl_reason(t->error, sizeof t->error, "bad host name or ALPN list");
    return -EINVAL;
  }
  return 0;
}

static void release(tls_conn *t) {
  free(t->out.data);
  free(t->queued.data);
  free(t);
}

void tls_conn_free(tls_conn *t) {
  if (!t) return;
  if (t->ssl) {
    SSL_set_app_data(t->ssl, NULL);
    if (!t->failed) { /* a closed, healthy connection: OpenSSL would else mark its session not resumable */
      SSL_set_quiet_shutdown(t->ssl, 1);
      SSL_shutdown(t->ssl);
    }
    SSL_free(t->ssl);
    t->ssl = NULL;
  }
  t->freed = 1;
  if (!t->writing) release(t);
}

static int flush(tls_conn *t);

static void on_written(uv_write_t *w, int status) {
  tls_conn *t = w->data;
  t->writing = 0;
  t->queued.len = 0;
  if (t->freed) {
    release(t);
    return;
  }
  if (status == 0 && t->out.len) status = flush(t);
  if (!t->writing || status < 0) t->write_cb(t->ud, status);
}

/* Hand what OpenSSL wrote to the stream: try_write it, queue the rest. 0 or a negative uv error. */
static int flush(tls_conn *t) {
  if (t->out.len == 0 || t->writing) return 0;
  uv_buf_t b = uv_buf_init(t->out.data, (unsigned)t->out.len);
  int n = uv_try_write(t->stream, &b, 1);
  if (n == UV_EAGAIN || n == UV_ENOSYS) n = 0;
  if (n < 0) return n;
  if ((size_t)n == t->out.len) {
    t->out.len = 0;
    return 0;
  }
  bytes spare = t->queued; /* the rest moves to queued, which must not change until the write ends */
  t->queued = t->out;
  t->out = spare;
  t->out.len = 0;
  memmove(t->queued.data, t->queued.data + n, t->queued.len - (size_t)n);
  t->queued.len -= (size_t)n;
  b = uv_buf_init(t->queued.data, (unsigned)t->queued.len);
  t->wreq.data = t;
  int rc = uv_write(&t->wreq, t->stream, &b, 1, on_written);
  if (rc == 0) t->writing = 1;
  return rc;
}

void tls_conn_feed(tls_conn *t, const char *data, size_t len) {
  t->in = data;
  t->in_len = len;
}

/* The reason a call failed with SSL_get_error's err. */
static void set_error(tls_conn *t, int err) {
  t->failed = 1;
  long verify = t->ctx->opt.insecure ? X509_V_OK : SSL_get_verify_result(t->ssl);
  if (verify != X509_V_OK) {
    snprintf(t->error, sizeof t->error, "certificate verify failed: %s",
             X509_verify_cert_error_string(verify));
    ERR_clear_error();
  } else if (err == SSL_ERROR_SSL) {
    ssl_reason(t->error, sizeof t->error, SSL_is_init_finished(t->ssl) ? "TLS" : "TLS handshake");
  } else {
    snprintf(t->error, sizeof t->error, "TLS error %d", err);
    ERR_clear_error();
  }
}

int tls_conn_handshake(tls_conn *t) {
  if (!t->ssl) return -EPROTO;
  ERR_clear_error();
  int rc = SSL_do_handshake(t->ssl);
  int err = rc == 1 ? SSL_ERROR_NONE : SSL_get_error(t->ssl, rc);
  if (err != SSL_ERROR_NONE && err != SSL_ERROR_WANT_READ) set_error(t, err);
  int sent = flush(t); /* the alert of a failed handshake goes out too */
  if (err == SSL_ERROR_WANT_READ && sent == 0) return 0;
  if (err != SSL_ERROR_NONE) return -EPROTO;
  if (sent < 0) {
    snprintf(t->error, sizeof t->error, "TLS send: %s", uv_strerror(sent));
    return -EPROTO;
  }
  const unsigned char *proto = NULL;
  unsigned len = 0;
  SSL_get0_alpn_selected(t->ssl, &proto, &len);
  if (len >= sizeof t->alpn) len = 0;
  if (len) memcpy(t->alpn, proto, len);
  t->alpn[len] = 0;
  return 1;
}

ssize_t tls_conn_read(tls_conn *t, char *buf, size_t cap) {
  size_t n = 0;
  if (!t->ssl) return -EPROTO;
  if (t->in_len == 0 && !SSL_has_pending(t->ssl)) { /* nothing to decrypt: skip OpenSSL's WANT_READ path */
    int sent = flush(t);
    if (sent == 0) return 0;
    snprintf(t->error, sizeof t->error, "TLS send: %s", uv_strerror(sent));
    return -EPROTO;
  }
  int rc = SSL_read_ex(t->ssl, buf, cap, &n);
  if (rc == 1) return (ssize_t)n;
  int err = SSL_get_error(t->ssl, rc);
  int sent = flush(t); /* post-handshake messages the read produced (key updates) */
  if (err == SSL_ERROR_ZERO_RETURN) return TLS_CLOSED;
  if (err == SSL_ERROR_WANT_READ && sent == 0) return 0;
  if (err == SSL_ERROR_WANT_READ)
    snprintf(t->error, sizeof t->error, "TLS send: %s", uv_strerror(sent));
  else
    set_error(t, err);
  return -EPROTO;
}

int tls_conn_write(tls_conn *t, const void *data, size_t len) {
  size_t n = 0;
  if (!t->ssl) return UV_EPROTO;
  if (len && SSL_write_ex(t->ssl, data, len, &n) != 1) {
    set_error(t, SSL_get_error(t->ssl, 0));
    return UV_EPROTO;
  }
  return flush(t);
}

int tls_conn_writing(const tls_conn *t) {
  return t->writing;
}

const char *tls_conn_alpn(const tls_conn *t) {
  return t->alpn;
}

int tls_conn_resumed(const tls_conn *t) {
  return t->ssl && SSL_session_reused(t->ssl);
}

const char *tls_conn_error(const tls_conn *t) {
  return t->error;
}
