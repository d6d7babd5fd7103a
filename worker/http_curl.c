/* http_curl.c - libcurl on the thread's uv loop (curl_multi_socket_action): sockets map to uv_poll
 * handles kept across requests (events changed only when curl's wishes change), one uv_timer drives
 * curl's timeouts, finished transfers are drained with curl_multi_info_read after every action. */
#include "worker/http_curl.h"

#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/grow.h"
#include "common/stats.h"
#include "worker/cookiejar.h"

#define DEFAULT_TIMEOUT_MS 30000
#define DEFAULT_CONNECT_TIMEOUT_MS 10000

typedef struct buf {
  char *data;
  size_t len, cap;
} buf;

typedef struct sock {
  uv_poll_t poll;
  http_curl *h;
  curl_socket_t fd;
  int events; /* what the poll is started with; 0 = stopped */
  int wanted; /* what curl asked for; 0 after CURL_POLL_REMOVE (parked until curl closes it) */
} sock;

struct http_curl {
  uv_loop_t *loop;
  CURLM *multi;
  CURLSH *share;
  uv_timer_t timer;
  uv_idle_t soon; /* curl's "timeout 0": run once on the next loop pass, after the loop polled I/O */
  sock **socks;   /* by fd */
  size_t nsocks;
  http_curl_conn *conns;
  int live; /* open uv handles (timer + polls) */
  long nconns;
  int closing;
  int insecure;                         /* skip TLS certificate checks on every easy handle */
  char *ca_file, *cert_file, *key_file; /* worker/tls's options, owned; NULL when not set */
  int64_t conns_opened;                 /* new connections curl reported for our transfers, ever */
  void (*close_cb)(void *ud);
  void *close_ud;
};

struct http_curl_conn {
  http_curl *h;
  http_curl_conn *prev, *next;
  CURL *easy;
  struct curl_slist *slist;
  buf key; /* the header list slist was built from */
  size_t key_n;
  int key_valid;
  buf reqbody;
  buf url; /* the URL last given to curl (with its NUL): setting it again costs a copy and a parse */
  int busy, got_byte, resent;
  http_curl_done_cb done;
  void *ud;
  http_response res;
  buf hdrs, body;
  size_t max_body;
  struct cookiejar *jar; /* the request's jar (not owned): curl's own cookie engine stays off */
  int auth_set;          /* the easy handle carries digest credentials from an earlier request */
  char errbuf[CURL_ERROR_SIZE];
};

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static CURLcode global_rc;

static void global_init(void) {
  global_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

static int buf_add(buf *b, const void *data, size_t n) {
  return grow_append(&b->data, &b->len, &b->cap, data, n, 256);
}

int http_curl_error_kind(int code) {
  switch (code) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
      return STATS_ERR_DNS;
    case CURLE_COULDNT_CONNECT:
      return STATS_ERR_CONNECT;
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_SSL_ENGINE_NOTFOUND:
    case CURLE_SSL_ENGINE_SETFAILED:
    case CURLE_SSL_SHUTDOWN_FAILED:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_CLIENTCERT:
    case CURLE_USE_SSL_FAILED:
      return STATS_ERR_TLS;
    case CURLE_OPERATION_TIMEDOUT:
      return STATS_ERR_TIMEOUT;
    case CURLE_GOT_NOTHING:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_PARTIAL_FILE:
      return STATS_ERR_RESET;
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_WEIRD_SERVER_REPLY:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_TOO_MANY_REDIRECTS:
    case CURLE_BAD_CONTENT_ENCODING:
    case CURLE_HTTP3:
      return STATS_ERR_PROTOCOL;
    default:
      return STATS_ERR_OTHER;
  }
}

/* ---- sockets and the timer ---- */

static void unref(http_curl *h) {
  if (--h->live > 0) return;
  void (*cb)(void *) = h->close_cb;
  void *ud = h->close_ud;
  free(h->socks);
  free(h->ca_file);
  free(h->cert_file);
  free(h->key_file);
  free(h);
  if (cb) cb(ud);
}

static void sock_closed(uv_handle_t *handle) {
  sock *k = handle->data;
  http_curl *h = k->h;
  free(k);
  unref(h);
}

static void sock_drop(http_curl *h, curl_socket_t fd) {
  sock *k = (size_t)fd < h->nsocks ? h->socks[fd] : NULL;
  if (!k) return;
  h->socks[fd] = NULL;
  uv_close((uv_handle_t *)&k->poll, sock_closed);
}

static void drain(http_curl *h);

static void on_poll(uv_poll_t *p, int status, int events) {
  sock *k = p->data;
  http_curl *h = k->h;
  int running, flags = 0;
  if (!k->wanted) { /* parked idle connection became readable (closed by the peer): curl checks on reuse */
    uv_poll_stop(p);
    k->events = 0;
    return;
  }
  if (status < 0) flags = CURL_CSELECT_ERR;
  if (events & UV_READABLE) flags |= CURL_CSELECT_IN;
  if (events & UV_WRITABLE) flags |= CURL_CSELECT_OUT;
  curl_multi_socket_action(h->multi, k->fd, flags, &running);
  drain(h);
}

static sock *sock_new(http_curl *h, curl_socket_t fd) {
  if ((size_t)fd >= h->nsocks) {
    size_t n = h->nsocks ? h->nsocks : 64;
    while (n <= (size_t)fd) n *= 2;
    sock **t = realloc(h->socks, n * sizeof *t);
    if (!t) return NULL;
    memset(t + h->nsocks, 0, (n - h->nsocks) * sizeof *t);
    h->socks = t;
    h->nsocks = n;
  }
  sock *k = calloc(1, sizeof *k);
  if (!k) return NULL;
  if (uv_poll_init_socket(h->loop, &k->poll, fd) < 0) {
    free(k);
    return NULL;
  }
  k->h = h;
  k->fd = fd;
  k->poll.data = k;
  h->live++;
  h->socks[fd] = k;
  return k;
}

static int on_socket(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp) {
  http_curl *h = userp;
  sock *k = (size_t)fd < h->nsocks ? h->socks[fd] : NULL;
  (void)easy, (void)socketp;
  if (what == CURL_POLL_REMOVE) {
    if (k && (k->events & UV_WRITABLE)) { /* writable would fire at once: stop; readable may stay */
      uv_poll_stop(&k->poll);
      k->events = 0;
    }
    if (k) k->wanted = 0;
    return 0;
  }
  if (!k && !(k = sock_new(h, fd))) return -1;
  int ev = ((what & CURL_POLL_IN) ? UV_READABLE : 0) | ((what & CURL_POLL_OUT) ? UV_WRITABLE : 0);
  k->wanted = ev;
  if (ev != k->events) {
    if (uv_poll_start(&k->poll, ev, on_poll) < 0) return -1;
    k->events = ev;
  }
  return 0;
}

static int on_closesocket(void *clientp, curl_socket_t fd) {
  sock_drop(clientp, fd);
  return close(fd);
}

static void on_timeout(uv_timer_t *t) {
  http_curl *h = t->data;
  int running;
  curl_multi_socket_action(h->multi, CURL_SOCKET_TIMEOUT, 0, &running);
  drain(h);
}

static void on_soon(uv_idle_t *idle) {
  http_curl *h = idle->data;
  int running;
  uv_idle_stop(idle);
  curl_multi_socket_action(h->multi, CURL_SOCKET_TIMEOUT, 0, &running);
  drain(h);
}

/* curl asks for "now" (0) after every transfer it is given and, over HTTP/2, whenever it buffered data
 * for another stream. A uv timer restarted with 0 from inside a timer callback runs again in the same
 * pass of libuv's timer phase (libuv 1.44 compares it with a loop time that does not advance there):
 * answer, new request, "now" again, with no poll and no other timer in between, so one thread starved
 * its interval timer and its end for seconds. "Now" is an idle handle instead: once per loop pass. */
static int on_timer_set(CURLM *multi, long timeout_ms, void *userp) {
  http_curl *h = userp;
  (void)multi;
  if (timeout_ms == 0) {
    uv_timer_stop(&h->timer);
    uv_idle_start(&h->soon, on_soon);
    return 0;
  }
  uv_idle_stop(&h->soon);
  if (timeout_ms < 0)
    uv_timer_stop(&h->timer);
  else
    uv_timer_start(&h->timer, on_timeout, (uint64_t)timeout_ms, 0);
  return 0;
}

/* ---- transfers ---- */

static int64_t wall_s(void) {
  return clock_ns_to_whole_s(clock_wall_ns());
}

/* A Set-Cookie value (after "Set-Cookie:") into the jar, for the URL of the response it came in (a
 * redirect's own URL when curl follows one). */
static void keep_cookie(http_curl_conn *c, const char *v, size_t len) {
  char *url = NULL;
  while (len > 0 && (*v == ' ' || *v == '\t')) v++, len--;
  while (len > 0 && (v[len - 1] == '\r' || v[len - 1] == '\n')) len--;
  if (curl_easy_getinfo(c->easy, CURLINFO_EFFECTIVE_URL, &url) != CURLE_OK || !url) url = c->url.data;
  cookiejar_set(c->jar, url, v, len, wall_s());
}

static size_t on_header(char *p, size_t size, size_t n, void *ud) {
  http_curl_conn *c = ud;
  size_t len = size * n;
  if (len >= 5 && memcmp(p, "HTTP/", 5) == 0) { /* a new response: interim, redirect or final */
    c->hdrs.len = c->body.len = 0;
    if (!c->got_byte) {
      c->got_byte = 1;
      c->res.ttfb_ns = clock_mono_ns() - c->res.sent_ns;
    }
    return len;
  }
  if (len == 0 || p[0] == '\r' || p[0] == '\n') return len;
  if (c->jar && len > 11 && strncasecmp(p, "set-cookie:", 11) == 0) keep_cookie(c, p + 11, len - 11);
  return buf_add(&c->hdrs, p, len) ? 0 : len;
}

static size_t on_body(char *p, size_t size, size_t n, void *ud) {
  http_curl_conn *c = ud;
  size_t len = size * n;
  if (c->body.len < c->max_body) {
    size_t keep = c->max_body - c->body.len;
    if (buf_add(&c->body, p, len < keep ? len : keep)) return 0;
  }
  return len;
}

/* curl's times (us from the transfer's start) -> k6's phases; curl does not say when the request was
 * written, so sending is counted in waiting. */
static void fill_phases(http_curl_conn *c) {
  curl_off_t lookup = 0, conn = 0, tls = 0, pre = 0, first = 0, total = 0;
  http_response *r = &c->res;
  curl_easy_getinfo(c->easy, CURLINFO_NAMELOOKUP_TIME_T, &lookup);
  curl_easy_getinfo(c->easy, CURLINFO_CONNECT_TIME_T, &conn);
  curl_easy_getinfo(c->easy, CURLINFO_APPCONNECT_TIME_T, &tls);
  curl_easy_getinfo(c->easy, CURLINFO_PRETRANSFER_TIME_T, &pre);
  curl_easy_getinfo(c->easy, CURLINFO_STARTTRANSFER_TIME_T, &first);
  curl_easy_getinfo(c->easy, CURLINFO_TOTAL_TIME_T, &total);
  if (first > 0) r->ttfb_ns = clock_us_to_ns(first);
  if (conn > 0) r->connect_ns = clock_us_to_ns(conn - lookup);
  if (tls > 0) r->tls_ns = clock_us_to_ns(tls - conn);
  if (first > 0) r->waiting_ns = clock_us_to_ns(first - pre), r->receiving_ns = clock_us_to_ns(total - first);
}

static void fill_info(http_curl_conn *c, CURLcode code) {
  curl_off_t down = 0, up = 0;
  long status = 0, hsize = 0, rsize = 0;
  long fresh = 0;
  http_response *r = &c->res;
  r->done_ns = clock_mono_ns();
  fill_phases(c);
  if (curl_easy_getinfo(c->easy, CURLINFO_NUM_CONNECTS, &fresh) == CURLE_OK && fresh > 0)
    c->h->conns_opened += fresh;
  curl_easy_getinfo(c->easy, CURLINFO_SIZE_DOWNLOAD_T, &down);
  curl_easy_getinfo(c->easy, CURLINFO_HEADER_SIZE, &hsize);
  curl_easy_getinfo(c->easy, CURLINFO_REQUEST_SIZE, &rsize);
  curl_easy_getinfo(c->easy, CURLINFO_SIZE_UPLOAD_T, &up);
  r->bytes_in = (uint64_t)down + (uint64_t)hsize;
  /* libcurl 7.88 counts a POSTFIELDS body below 64 KiB (sent with the headers) in REQUEST_SIZE,
   * a larger one only in SIZE_UPLOAD */
  r->bytes_out = (uint64_t)rsize + (up >= 65536 ? (uint64_t)up : 0);
  if (r->ttfb_ns > r->done_ns - r->sent_ns) r->ttfb_ns = r->done_ns - r->sent_ns;
  http_response_settle(r);
  if (code == CURLE_OK) {
    curl_easy_getinfo(c->easy, CURLINFO_RESPONSE_CODE, &status);
    r->status = (int)status;
    r->headers_raw = c->hdrs.data;
    r->headers_len = c->hdrs.len;
    r->body = c->body.data;
    r->body_len = c->body.len;
  } else {
    r->error = http_curl_error_kind(code);
    snprintf(r->error_message, sizeof r->error_message, "%s",
             c->errbuf[0] ? c->errbuf : curl_easy_strerror(code));
  }
}

/* A reused connection the peer had closed: curl resends on a fresh one, but its retry counter lives in
 * the easy handle and is never reset (libcurl 7.88), so every sixth such retry of a VU fails. When
 * nothing came back and no connection was made, resend once more ourselves, as http_h1 does. */
static int resend_dead(http_curl_conn *c, CURLcode code) {
  long connects = -1;
  if (c->resent || c->got_byte) return 0;
  if (code != CURLE_SEND_ERROR && code != CURLE_RECV_ERROR && code != CURLE_GOT_NOTHING) return 0;
  if (curl_easy_getinfo(c->easy, CURLINFO_NUM_CONNECTS, &connects) != CURLE_OK || connects != 0) return 0;
  c->resent = 1;
  c->errbuf[0] = 0;
  return curl_multi_add_handle(c->h->multi, c->easy) == CURLM_OK;
}

static void drain(http_curl *h) {
  CURLMsg *m;
  int left;
  while (!h->closing && (m = curl_multi_info_read(h->multi, &left))) { /* a callback may close h */
    if (m->msg != CURLMSG_DONE) continue;
    CURL *easy = m->easy_handle;
    CURLcode code = m->data.result;
    http_curl_conn *c = NULL;
    curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&c);
    curl_multi_remove_handle(h->multi, easy);
    if (!c || !c->busy || resend_dead(c, code)) continue;
    fill_info(c, code);
    http_response res = c->res; /* the callback may start the next request on c */
    c->busy = 0;
    c->done(c->ud, &res);
  }
}

static int headers_same(const http_curl_conn *c, const http_request *r) {
  const char *p = c->key.data, *end = c->key.data + c->key.len;
  if (!c->key_valid || c->key_n != r->nheaders) return 0;
  for (size_t i = 0; i < r->nheaders; i++) {
    const char *s[2] = {r->headers[i].name, r->headers[i].value};
    for (int j = 0; j < 2; j++) {
      size_t n = strlen(s[j]) + 1;
      if ((size_t)(end - p) < n || memcmp(p, s[j], n) != 0) return 0;
      p += n;
    }
  }
  return p == end;
}

static int has_header(const http_request *r, const char *name) {
  for (size_t i = 0; i < r->nheaders; i++)
    if (strcasecmp(r->headers[i].name, name) == 0) return 1;
  return 0;
}

/* Build (or keep) the curl header list for req: its headers, no Expect, no default Content-Type. */
static int set_headers(http_curl_conn *c, const http_request *r) {
  if (headers_same(c, r)) return 0;
  curl_slist_free_all(c->slist);
  c->slist = NULL;
  c->key.len = 0;
  c->key_valid = 0;
  struct curl_slist *l = curl_slist_append(NULL, "Expect:");
  if (l && !has_header(r, "Content-Type")) l = curl_slist_append(l, "Content-Type:");
  for (size_t i = 0; l && i < r->nheaders; i++) {
    buf line = {0};
    size_t nl = strlen(r->headers[i].name), vl = strlen(r->headers[i].value);
    int rc = buf_add(&line, r->headers[i].name, nl) | buf_add(&line, vl ? ": " : ";", vl ? 2 : 1) |
             buf_add(&line, r->headers[i].value, vl + 1);
    struct curl_slist *nlst = rc ? NULL : curl_slist_append(l, line.data);
    free(line.data);
    if (!nlst) curl_slist_free_all(l);
    l = nlst;
    if (l &&
        (buf_add(&c->key, r->headers[i].name, nl + 1) || buf_add(&c->key, r->headers[i].value, vl + 1))) {
      curl_slist_free_all(l);
      l = NULL;
    }
  }
  if (!l) return -ENOMEM;
  c->slist = l;
  c->key_n = r->nheaders;
  c->key_valid = 1;
  return curl_easy_setopt(c->easy, CURLOPT_HTTPHEADER, l) == CURLE_OK ? 0 : -EINVAL;
}

static int set_method(http_curl_conn *c, const http_request *r) {
  CURL *e = c->easy;
  curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, NULL);
  curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
  if (strcmp(r->method, "HEAD") == 0)
    return curl_easy_setopt(e, CURLOPT_NOBODY, 1L) == CURLE_OK ? 0 : -EINVAL;
  int post = strcmp(r->method, "POST") == 0;
  if (post || r->body_len) {
    c->reqbody.len = 0;
    if (buf_add(&c->reqbody, r->body ? r->body : "", r->body_len + (r->body ? 0 : 1))) return -ENOMEM;
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)r->body_len);
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, c->reqbody.data);
  }
  if (!post && strcmp(r->method, "GET") != 0) curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, r->method);
  return 0;
}

/* The Cookie header from r's jar for r's URL (CURLOPT_COOKIE copies it; NULL sends none). 0 or -ENOMEM. */
static int set_cookies(http_curl_conn *c, const http_request *r) {
  const char *cookies = NULL;
  size_t len = 0;
  c->jar = r->jar;
  if (r->jar && cookiejar_header(r->jar, r->url, wall_s(), &cookies, &len) < 0) return -ENOMEM;
  return curl_easy_setopt(c->easy, CURLOPT_COOKIE, len ? cookies : NULL) == CURLE_OK ? 0 : -ENOMEM;
}

/* Digest credentials for r, or none (cleared when an earlier request on this handle set them). */
static int set_auth(http_curl_conn *c, const http_request *r) {
  CURLcode rc = CURLE_OK;
  if (r->auth_digest && r->auth_user) {
    rc = curl_easy_setopt(c->easy, CURLOPT_HTTPAUTH, (long)CURLAUTH_DIGEST);
    if (rc == CURLE_OK) rc = curl_easy_setopt(c->easy, CURLOPT_USERNAME, r->auth_user);
    if (rc == CURLE_OK)
      rc = curl_easy_setopt(c->easy, CURLOPT_PASSWORD, r->auth_password ? r->auth_password : "");
    c->auth_set = 1;
  } else if (c->auth_set) {
    curl_easy_setopt(c->easy, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
    curl_easy_setopt(c->easy, CURLOPT_USERNAME, NULL);
    curl_easy_setopt(c->easy, CURLOPT_PASSWORD, NULL);
    c->auth_set = 0;
  }
  return rc == CURLE_OK ? 0 : -ENOMEM;
}

int http_curl_conn_send(http_curl_conn *c, const http_request *r, http_curl_done_cb done, void *ud) {
  if (c->busy) return -EBUSY;
  if (!r || !r->method || !r->url || !*r->method || (r->body_len && !r->body) || !done) return -EINVAL;
  CURL *e = c->easy;
  int rc = set_method(c, r);
  if (rc == 0) rc = set_headers(c, r);
  if (rc < 0) return rc;
  size_t ul = strlen(r->url) + 1;
  if (c->url.len != ul || memcmp(c->url.data, r->url, ul) != 0) {
    c->url.len = 0;
    if (buf_add(&c->url, r->url, ul)) return -ENOMEM;
    if (curl_easy_setopt(e, CURLOPT_URL, c->url.data) != CURLE_OK) return -EINVAL;
  }
  /* PIPEWAIT (share one h2 connection rather than open one each) only where h2 can come, by ALPN over
   * https://. Over http:// curl would hold every new request to a host behind a connection whose first
   * response has not come yet, to learn whether it multiplexes: one stalled request stalled them all. */
  curl_easy_setopt(e, CURLOPT_PIPEWAIT, strncasecmp(r->url, "https://", 8) == 0 ? 1L : 0L);
  rc = set_cookies(c, r);
  if (rc == 0) rc = set_auth(c, r);
  if (rc < 0) return rc;
  curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)(r->timeout_ms > 0 ? r->timeout_ms : DEFAULT_TIMEOUT_MS));
  curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS,
                   (long)(r->connect_timeout_ms > 0 ? r->connect_timeout_ms : DEFAULT_CONNECT_TIMEOUT_MS));
  curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, r->max_redirects > 0 ? 1L : 0L);
  /* curl counts the digest challenge's second request as a follow, too */
  curl_easy_setopt(e, CURLOPT_MAXREDIRS,
                   (long)(r->max_redirects > 0 ? r->max_redirects : 0) + (r->auth_digest ? 1 : 0));
  memset(&c->res, 0, sizeof c->res);
  c->errbuf[0] = 0;
  c->hdrs.len = c->body.len = 0;
  c->max_body = r->max_body;
  c->got_byte = c->resent = 0;
  c->done = done;
  c->ud = ud;
  c->res.sent_ns = clock_mono_ns();
  if (curl_multi_add_handle(c->h->multi, e) != CURLM_OK) return -EINVAL;
  c->busy = 1;
  return 0;
}

static CURL *easy_new(http_curl *h, http_curl_conn *c) {
  CURL *e = curl_easy_init();
  if (!e) return NULL;
  curl_easy_setopt(e, CURLOPT_PRIVATE, c);
  curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(e, CURLOPT_TCP_NODELAY, 1L);
  curl_easy_setopt(e, CURLOPT_SHARE, h->share);
  curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
  curl_easy_setopt(e, CURLOPT_USERAGENT, "loadctl/" LOADCTL_VERSION);
  curl_easy_setopt(e, CURLOPT_ERRORBUFFER, c->errbuf);
  curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(e, CURLOPT_HEADERDATA, c);
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(e, CURLOPT_WRITEDATA, c);
  curl_easy_setopt(e, CURLOPT_CLOSESOCKETFUNCTION, on_closesocket);
  curl_easy_setopt(e, CURLOPT_CLOSESOCKETDATA, h);
  if (h->insecure) {
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
  }
  if (h->ca_file) curl_easy_setopt(e, CURLOPT_CAINFO, h->ca_file);
  if (h->cert_file) curl_easy_setopt(e, CURLOPT_SSLCERT, h->cert_file);
  if (h->key_file || h->cert_file)
    curl_easy_setopt(e, CURLOPT_SSLKEY, h->key_file ? h->key_file : h->cert_file);
  return e;
}

int http_curl_conn_create(http_curl *h, http_curl_conn **out) {
  if (h->closing) return -EINVAL;
  http_curl_conn *c = calloc(1, sizeof *c);
  if (!c) return -ENOMEM;
  c->h = h;
  c->easy = easy_new(h, c);
  if (!c->easy) {
    free(c);
    return -ENOMEM;
  }
  c->next = h->conns;
  if (h->conns) h->conns->prev = c;
  h->conns = c;
  /* curl's default cache is 4 x the handles added *now*: with VUs thinking, it would close their idle
   * connections; keep one per conn (and a few for redirects to other hosts) */
  curl_multi_setopt(h->multi, CURLMOPT_MAXCONNECTS, ++h->nconns + 8);
  *out = c;
  return 0;
}

void http_curl_conn_release(http_curl_conn *c) {
  if (!c) return;
  http_curl *h = c->h;
  if (c->busy) curl_multi_remove_handle(h->multi, c->easy);
  curl_easy_cleanup(c->easy);
  curl_slist_free_all(c->slist);
  if (c->prev)
    c->prev->next = c->next;
  else
    h->conns = c->next;
  if (c->next) c->next->prev = c->prev;
  h->nconns--;
  free(c->key.data);
  free(c->reqbody.data);
  free(c->url.data);
  free(c->hdrs.data);
  free(c->body.data);
  free(c);
}

static char *dup_set(const char *s) {
  return s && *s ? strdup(s) : NULL;
}

static void free_h(http_curl *h) {
  if (h->multi) curl_multi_cleanup(h->multi);
  if (h->share) curl_share_cleanup(h->share);
  free(h->ca_file);
  free(h->cert_file);
  free(h->key_file);
  free(h);
}

int64_t http_curl_conns_opened(const http_curl *h) {
  return h->conns_opened;
}

int http_curl_create(uv_loop_t *loop, const tls_options *tls, http_curl **out) {
  pthread_once(&global_once, global_init);
  if (global_rc != CURLE_OK) return -EIO;
  http_curl *h = calloc(1, sizeof *h);
  if (!h) return -ENOMEM;
  h->loop = loop;
  if (tls) {
    h->insecure = tls->insecure;
    h->ca_file = dup_set(tls->ca_file);
    h->cert_file = dup_set(tls->cert_file);
    h->key_file = dup_set(tls->key_file);
  }
  h->multi = curl_multi_init();
  h->share = curl_share_init();
  if (!h->multi || !h->share) {
    free_h(h);
    return -ENOMEM;
  }
  curl_share_setopt(h->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS); /* one thread: no lock needed */
  curl_multi_setopt(h->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
  curl_multi_setopt(h->multi, CURLMOPT_SOCKETDATA, h);
  curl_multi_setopt(h->multi, CURLMOPT_TIMERFUNCTION, on_timer_set);
  curl_multi_setopt(h->multi, CURLMOPT_TIMERDATA, h);
  uv_timer_init(loop, &h->timer);
  h->timer.data = h;
  uv_idle_init(loop, &h->soon);
  h->soon.data = h;
  h->live = 2;
  *out = h;
  return 0;
}

static void anchor_closed(uv_handle_t *handle) {
  unref(handle->data);
}

void http_curl_close(http_curl *h, void (*close_cb)(void *ud), void *ud) {
  if (!h || h->closing) return;
  h->closing = 1;
  h->close_cb = close_cb;
  h->close_ud = ud;
  while (h->conns) http_curl_conn_release(h->conns);
  curl_multi_cleanup(h->multi); /* closes the cached connections through on_closesocket */
  curl_share_cleanup(h->share);
  for (size_t fd = 0; fd < h->nsocks; fd++) sock_drop(h, (curl_socket_t)fd);
  uv_timer_stop(&h->timer);
  uv_close((uv_handle_t *)&h->timer, anchor_closed);
  uv_close((uv_handle_t *)&h->soon, anchor_closed);
}
