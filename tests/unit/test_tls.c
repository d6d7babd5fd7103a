/* test_tls.c - worker/tls against an OpenSSL server in a thread of this test, with certificates made by
 * the test: a round trip, verification (self-signed refused, accepted with the CA file, wrong address
 * refused), SNI, ALPN, client certificates, and session resumption on the second connection. Then the same
 * through the h1 backend (worker/http) against the testserver in TLS mode, which reports per connection
 * whether the session was resumed, the ALPN protocol and whether a client certificate came. */
#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>
#include <uv.h>

#include "common/stats.h"
#include "tests/support/checkrun.h"
#include "tests/support/testcert.h"
#include "tests/support/testhttp.h"
#include "tests/support/testspawn.h"
#include "worker/http.h"
#include "worker/tls.h"

static EVP_PKEY *server_key, *client_key;
static X509 *server_cert, *client_cert;
static char dir[] = "/tmp/test_tls.XXXXXX";
static char ca_path[128], client_path[128], bad_path[128];

static void write_pem(const char *path, X509 *cert, EVP_PKEY *key) {
  ck_assert_int_eq(testcert_write_pem(path, cert, key), 1);
}

static void setup(void) {
  ck_assert_ptr_nonnull(mkdtemp(dir));
  server_key = EVP_EC_gen("P-256");
  client_key = EVP_EC_gen("P-256");
  server_cert = testcert_make(server_key, "loadctl test server", 1);
  client_cert = testcert_make(client_key, "loadctl test client", 2);
  snprintf(ca_path, sizeof ca_path, "%s/ca.pem", dir);
  snprintf(client_path, sizeof client_path, "%s/client.pem", dir);
  snprintf(bad_path, sizeof bad_path, "%s/missing.pem", dir);
  write_pem(ca_path, server_cert, NULL);
  write_pem(client_path, client_cert, client_key);
}

static void teardown(void) {
  unlink(ca_path);
  unlink(client_path);
  rmdir(dir);
  X509_free(server_cert), X509_free(client_cert);
  EVP_PKEY_free(server_key), EVP_PKEY_free(client_key);
}

/* ---- the server: a thread accepting `conns` connections, echoing one message on each ---- */

typedef struct server {
  int fd, port, conns, require_client_cert;
  int accepted, peer_certs; /* handshakes that succeeded; of them, with a client certificate */
  char sni[64];             /* the server name the last client sent ("" for none) */
  pthread_t thread;
} server;

static int select_alpn(SSL *ssl, const unsigned char **out, unsigned char *outlen, const unsigned char *in,
                       unsigned inlen, void *arg) {
  static const unsigned char mine[] = "\x08http/1.1";
  (void)ssl, (void)arg;
  int rc = SSL_select_next_proto((unsigned char **)out, outlen, mine, sizeof mine - 1, in, inlen);
  return rc == OPENSSL_NPN_NEGOTIATED ? SSL_TLSEXT_ERR_OK : SSL_TLSEXT_ERR_NOACK;
}

static void serve_one(server *s, SSL_CTX *ctx, int fd) {
  SSL *ssl = SSL_new(ctx);
  SSL_set_fd(ssl, fd);
  if (SSL_accept(ssl) == 1) {
    char buf[256];
    size_t n = 0;
    s->accepted++;
    const char *name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
    snprintf(s->sni, sizeof s->sni, "%s", name ? name : "");
    X509 *peer = SSL_get1_peer_certificate(ssl);
    if (peer) s->peer_certs++;
    X509_free(peer);
    if (SSL_read_ex(ssl, buf, sizeof buf, &n) == 1) SSL_write_ex(ssl, buf, n, &n);
    SSL_shutdown(ssl);
  } else { /* after the alert, read until the client closes: closing with its bytes unread would reset */
    char drain[256];
    struct timeval limit = {.tv_sec = 5};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit);
    shutdown(fd, SHUT_WR);
    while (read(fd, drain, sizeof drain) > 0) continue;
  }
  SSL_free(ssl);
  ERR_clear_error();
  close(fd);
}

static void *serve(void *arg) {
  server *s = arg;
  SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
  SSL_CTX_use_certificate(ctx, server_cert);
  SSL_CTX_use_PrivateKey(ctx, server_key);
  SSL_CTX_set_alpn_select_cb(ctx, select_alpn, NULL);
  if (s->require_client_cert) {
    X509_STORE_add_cert(SSL_CTX_get_cert_store(ctx), client_cert);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
  }
  for (int i = 0; i < s->conns; i++) {
    int fd = accept(s->fd, NULL, NULL);
    if (fd < 0) break;
    serve_one(s, ctx, fd);
  }
  SSL_CTX_free(ctx);
  return NULL;
}

static void server_start(server *s, int conns, int require_client_cert) {
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t len = sizeof a;
  memset(s, 0, sizeof *s);
  s->conns = conns;
  s->require_client_cert = require_client_cert;
  s->fd = socket(AF_INET, SOCK_STREAM, 0);
  ck_assert_int_eq(bind(s->fd, (struct sockaddr *)&a, sizeof a), 0);
  ck_assert_int_eq(listen(s->fd, 8), 0);
  ck_assert_int_eq(getsockname(s->fd, (struct sockaddr *)&a, &len), 0);
  s->port = ntohs(a.sin_port);
  ck_assert_int_eq(pthread_create(&s->thread, NULL, serve, s), 0);
}

static void server_stop(server *s) {
  shutdown(s->fd, SHUT_RDWR);
  pthread_join(s->thread, NULL);
  close(s->fd);
}

/* ---- the client: one connection on a uv loop, "ping" and its echo ---- */

typedef struct client {
  uv_tcp_t tcp;
  uv_connect_t creq;
  tls_conn *tls;
  const char *host;
  int port, handshaken, resumed, failed, write_cbs;
  char alpn[32], error[256], echo[64];
  size_t echo_len;
} client;

static void on_write_done(void *ud, int status) {
  client *c = ud;
  c->write_cbs++;
  if (status < 0) c->failed = 1;
}

static void end(client *c, const char *why) {
  if (why && !c->error[0]) snprintf(c->error, sizeof c->error, "%s", why);
  if (!uv_is_closing((uv_handle_t *)&c->tcp)) uv_close((uv_handle_t *)&c->tcp, NULL);
}

static void on_alloc(uv_handle_t *h, size_t size, uv_buf_t *b) {
  static char buf[65536];
  (void)h, (void)size;
  *b = uv_buf_init(buf, sizeof buf);
}

static void read_plain(client *c) {
  for (;;) {
    ssize_t n = tls_conn_read(c->tls, c->echo + c->echo_len, sizeof c->echo - 1 - c->echo_len);
    if (n > 0) c->echo_len += (size_t)n;
    if (n > 0) continue;
    if (n < 0 && n != TLS_CLOSED) c->failed = 1, end(c, tls_conn_error(c->tls));
    if (c->echo_len == 4 || n == TLS_CLOSED) end(c, NULL);
    return;
  }
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b) {
  client *c = s->data;
  if (n < 0) {
    end(c, "eof before the echo");
    return;
  }
  tls_conn_feed(c->tls, b->base, (size_t)n);
  if (!c->handshaken) {
    int rc = tls_conn_handshake(c->tls);
    if (rc < 0) c->failed = 1, end(c, tls_conn_error(c->tls));
    if (rc <= 0) return;
    c->handshaken = 1;
    c->resumed = tls_conn_resumed(c->tls);
    snprintf(c->alpn, sizeof c->alpn, "%s", tls_conn_alpn(c->tls));
    ck_assert_int_eq(tls_conn_write(c->tls, "ping", 4), 0);
  }
  read_plain(c);
}

static void on_connect(uv_connect_t *r, int status) {
  client *c = r->data;
  ck_assert_int_eq(status, 0);
  uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
  if (tls_conn_handshake(c->tls) < 0) c->failed = 1, end(c, tls_conn_error(c->tls));
}

/* One connection to 127.0.0.1:port (named host) with ctx; the outcome in *c. */
static void connect_once(tls_ctx *ctx, const char *host, int port, client *c) {
  uv_loop_t loop;
  struct sockaddr_in a;
  memset(c, 0, sizeof *c);
  ck_assert_int_eq(uv_loop_init(&loop), 0);
  uv_ip4_addr("127.0.0.1", port, &a);
  uv_tcp_init(&loop, &c->tcp);
  c->tcp.data = c;
  c->creq.data = c;
  int rc = tls_conn_create(ctx, (uv_stream_t *)&c->tcp, host, port, "http/1.1", on_write_done, c, &c->tls);
  if (rc < 0) {
    snprintf(c->error, sizeof c->error, "%s", c->tls ? tls_conn_error(c->tls) : "no memory");
    c->failed = 1;
    uv_close((uv_handle_t *)&c->tcp, NULL);
  } else {
    ck_assert_int_eq(uv_tcp_connect(&c->creq, &c->tcp, (struct sockaddr *)&a, on_connect), 0);
  }
  uv_run(&loop, UV_RUN_DEFAULT);
  tls_conn_free(c->tls);
  ck_assert_int_eq(uv_loop_close(&loop), 0);
}

static void expect_echo(const client *c) {
  ck_assert_msg(!c->failed, "failed: %s", c->error);
  ck_assert_int_eq(c->handshaken, 1);
  ck_assert_int_eq((int)c->echo_len, 4);
  ck_assert_int_eq(memcmp(c->echo, "ping", 4), 0);
}

START_TEST(test_insecure_round_trip_and_alpn) {
  server s;
  client c;
  tls_ctx *ctx;
  tls_options opt = {.insecure = 1};
  server_start(&s, 1, 0);
  ck_assert_int_eq(tls_ctx_create(&opt, &ctx), 0);
  connect_once(ctx, "localhost", s.port, &c);
  expect_echo(&c);
  ck_assert_str_eq(c.alpn, "http/1.1");
  ck_assert_int_eq(c.resumed, 0);
  tls_ctx_free(ctx);
  server_stop(&s);
  ck_assert_int_eq(s.accepted, 1);
}
END_TEST

START_TEST(test_self_signed_refused_by_default) {
  server s;
  client c;
  tls_ctx *ctx;
  server_start(&s, 1, 0);
  ck_assert_int_eq(tls_ctx_create(NULL, &ctx), 0);
  connect_once(ctx, "localhost", s.port, &c);
  ck_assert_int_eq(c.failed, 1);
  ck_assert_int_eq(c.handshaken, 0);
  ck_assert_msg(strstr(c.error, "certificate verify failed: self-signed certificate"), "error: %s", c.error);
  tls_ctx_free(ctx);
  server_stop(&s);
  ck_assert_int_eq(s.accepted, 0);
}
END_TEST

START_TEST(test_ca_file_verifies_name_and_address) {
  server s;
  client c;
  tls_ctx *ctx;
  tls_options opt = {.ca_file = ca_path};
  server_start(&s, 3, 0);
  ck_assert_int_eq(tls_ctx_create(&opt, &ctx), 0);
  connect_once(ctx, "localhost", s.port, &c);
  expect_echo(&c);
  ck_assert_str_eq(s.sni, "localhost");
  connect_once(ctx, "127.0.0.1", s.port, &c);
  expect_echo(&c);
  ck_assert_str_eq(s.sni, "");                    /* no SNI for an address (RFC 6066) */
  connect_once(ctx, "other.example", s.port, &c); /* the certificate does not name it */
  ck_assert_int_eq(c.failed, 1);
  ck_assert_msg(strstr(c.error, "hostname mismatch"), "error: %s", c.error);
  tls_ctx_free(ctx);
  server_stop(&s);
  ck_assert_int_eq(s.accepted, 2);
}
END_TEST

START_TEST(test_bad_ca_file_names_it) {
  client c;
  tls_ctx *ctx;
  char err[256] = "";
  tls_options opt = {.ca_file = bad_path};
  ck_assert_int_eq(tls_ctx_create(&opt, &ctx), 0);
  ck_assert_int_eq(tls_ctx_prepare(ctx, err, sizeof err), -EINVAL);
  ck_assert_msg(strstr(err, bad_path) != NULL, "error: %s", err);
  connect_once(ctx, "localhost", 9, &c);
  ck_assert_int_eq(c.failed, 1);
  ck_assert_msg(strstr(c.error, bad_path) != NULL, "error: %s", c.error);
  tls_ctx_free(ctx);
}
END_TEST

START_TEST(test_client_certificate) {
  server s;
  client c;
  tls_ctx *with, *without;
  tls_options o1 = {.insecure = 1, .cert_file = client_path}, o2 = {.insecure = 1};
  server_start(&s, 2, 1);
  ck_assert_int_eq(tls_ctx_create(&o1, &with), 0);
  ck_assert_int_eq(tls_ctx_create(&o2, &without), 0);
  connect_once(with, "localhost", s.port, &c);
  expect_echo(&c);
  connect_once(without, "localhost", s.port, &c);
  ck_assert_int_eq(c.failed, 1); /* TLS 1.3: the server's refusal arrives after the client's handshake */
  ck_assert_msg(strstr(c.error, "certificate required"), "error: %s", c.error);
  tls_ctx_free(with), tls_ctx_free(without);
  server_stop(&s);
  ck_assert_int_eq(s.accepted, 1);
  ck_assert_int_eq(s.peer_certs, 1);
}
END_TEST

START_TEST(test_session_resumed_on_reconnect) {
  server s;
  client first, second, other;
  tls_ctx *ctx;
  tls_options opt = {.ca_file = ca_path};
  server_start(&s, 3, 0);
  ck_assert_int_eq(tls_ctx_create(&opt, &ctx), 0);
  connect_once(ctx, "localhost", s.port, &first);
  expect_echo(&first);
  ck_assert_int_eq(first.resumed, 0);
  connect_once(ctx, "localhost", s.port, &second);
  expect_echo(&second);
  ck_assert_int_eq(second.resumed, 1);
  connect_once(ctx, "127.0.0.1", s.port, &other); /* another origin: its own, full handshake */
  expect_echo(&other);
  ck_assert_int_eq(other.resumed, 0);
  tls_ctx_free(ctx);
  server_stop(&s);
}
END_TEST

/* ---- through the h1 backend, against the testserver in TLS mode ---- */

typedef struct tserver {
  testspawn proc;
  char dir[64], ca[128], client[128];
} tserver;

/* The testserver with --tls-dir (and --tls-client-cert 1 when require_client_cert). */
static void tserver_start(tserver *t, int require_client_cert) {
  snprintf(t->dir, sizeof t->dir, "/tmp/test_tls_srv.XXXXXX");
  ck_assert_ptr_nonnull(mkdtemp(t->dir));
  snprintf(t->ca, sizeof t->ca, "%s/server.pem", t->dir);
  snprintf(t->client, sizeof t->client, "%s/client.pem", t->dir);
  ck_assert_int_eq(testspawn_start(&t->proc, 60, "--tls-dir", t->dir, "--tls-client-cert",
                                   require_client_cert ? "1" : "0", NULL),
                   0);
}

static void tserver_stop(tserver *t) {
  testspawn_stop(&t->proc);
  unlink(t->ca);
  unlink(t->client);
  rmdir(t->dir);
}

/* GET each path in turn on one conn of an h1 client with opt (20 s timeout: a loaded machine, valgrind). */
static void h1_gets(const tserver *t, http_client_options opt, const char *const *paths, int n,
                    testhttp_result *out) {
  char urls[4][128];
  http_request reqs[4];
  ck_assert_int_le(n, 4);
  for (int i = 0; i < n; i++) {
    snprintf(urls[i], sizeof urls[i], "https://localhost:%d%s", t->proc.port, paths[i]);
    reqs[i] = (http_request){.method = "GET", .url = urls[i], .max_body = 128};
  }
  opt.backend = HTTP_H1;
  opt.default_timeout_ms = 20000;
  ck_assert_str_eq(testhttp_run(&opt, NULL, 0, reqs, (size_t)n, out), "h1");
}

START_TEST(test_h1_verifies_by_default) {
  tserver t;
  testhttp_result r[1];
  static const char *const tls_path[] = {"/tls"};
  tserver_start(&t, 0);
  h1_gets(&t, (http_client_options){0}, tls_path, 1, r); /* the system store does not know it */
  ck_assert_int_eq(r[0].status, 0);
  ck_assert_int_eq(r[0].error, STATS_ERR_TLS);
  ck_assert_msg(strstr(r[0].message, "certificate verify failed: self-signed certificate"), "%s",
                r[0].message);
  testhttp_free(r, 1);
  h1_gets(&t, (http_client_options){.insecure_tls = 1}, tls_path, 1, r);
  ck_assert_msg(r[0].status == 200, "%d %s", r[0].status, r[0].message);
  testhttp_free(r, 1);
  h1_gets(&t, (http_client_options){.tls_ca_file = bad_path}, tls_path, 1, r);
  ck_assert_int_eq(r[0].error, STATS_ERR_TLS);
  ck_assert_msg(strstr(r[0].message, bad_path), "%s", r[0].message);
  testhttp_free(r, 1);
  tserver_stop(&t);
}
END_TEST

START_TEST(test_h1_alpn_timings_and_resumption) {
  tserver t;
  testhttp_result r[3];
  static const char *const paths[] = {"/tls", "/close", "/tls"}; /* /close: the next request reconnects */
  tserver_start(&t, 0);
  h1_gets(&t, (http_client_options){.tls_ca_file = t.ca}, paths, 3, r);
  for (int i = 0; i < 3; i++)
    ck_assert_msg(r[i].status == 200, "req %d: %d %s", i, r[i].status, r[i].message);
  ck_assert_str_eq(r[0].body, "resumed=0 alpn=http/1.1 client_cert=0\n");
  ck_assert_str_eq(r[2].body, "resumed=1 alpn=http/1.1 client_cert=0\n");
  ck_assert_int_gt(r[0].connect_ns, 0);
  ck_assert_int_gt(r[0].tls_ns, 0);
  ck_assert_int_eq(r[1].tls_ns, 0); /* kept alive: no handshake */
  ck_assert_int_eq(r[1].connect_ns, 0);
  ck_assert_int_gt(r[2].tls_ns, 0); /* resumed, still a (short) handshake */
  testhttp_free(r, 3);
  tserver_stop(&t);
}
END_TEST

START_TEST(test_h1_client_certificate) {
  tserver t;
  testhttp_result r[1];
  static const char *const tls_path[] = {"/tls"};
  tserver_start(&t, 1);
  h1_gets(&t, (http_client_options){.tls_ca_file = t.ca, .tls_cert_file = t.client}, tls_path, 1, r);
  ck_assert_msg(r[0].status == 200, "%d %s", r[0].status, r[0].message);
  ck_assert_str_eq(r[0].body, "resumed=0 alpn=http/1.1 client_cert=1\n");
  testhttp_free(r, 1);
  h1_gets(&t, (http_client_options){.tls_ca_file = t.ca}, tls_path, 1, r);
  ck_assert_int_eq(r[0].status, 0);
  ck_assert_int_eq(r[0].error, STATS_ERR_TLS);
  ck_assert_msg(strstr(r[0].message, "certificate required"), "%s", r[0].message);
  testhttp_free(r, 1);
  tserver_stop(&t);
}
END_TEST

int main(void) {
  const TTest *tests[] = {test_insecure_round_trip_and_alpn,
                          test_self_signed_refused_by_default,
                          test_ca_file_verifies_name_and_address,
                          test_bad_ca_file_names_it,
                          test_client_certificate,
                          test_session_resumed_on_reconnect,
                          test_h1_verifies_by_default,
                          test_h1_alpn_timings_and_resumption,
                          test_h1_client_certificate};
  TCase *tc = check_case("tls", 0, tests, sizeof tests / sizeof tests[0]);
  signal(SIGPIPE, SIG_IGN);
  tcase_add_unchecked_fixture(tc, setup, teardown);
  return check_run_mode(check_suite_of("tls", tc), CK_NOFORK);
}
