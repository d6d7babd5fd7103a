/* web.c - the master's HTTP/1.1 server for the live page and the control API (--web): libuv streams,
 * http-parser for requests, one answer per connection or a server-sent event stream, and the safety
 * rules of web.h checked before any handler sees a request. */
#include "master/web.h"

#include <ctype.h>
#include <errno.h>
#include <http_parser.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "common/secret.h"

#define URL_MAX 2048
#define HEADER_MAX 512
#define SSE_BACKLOG_MAX (4u << 20) /* unsent bytes a stream may hold before it is dropped */
#define TOKEN_MIN 16

enum { H_HOST = 0, H_ORIGIN, H_AUTH, H_CTYPE, H_CLIENT, H_FETCH_SITE, H_COUNT, H_NONE = -1 };
static const char *const header_names[H_COUNT] = {"host",         "origin",           "authorization",
                                                  "content-type", "x-loadctl-client", "sec-fetch-site"};

typedef struct conn {
  uv_tcp_t tcp;
  struct web *w;
  http_parser parser;
  char url[URL_MAX];
  size_t url_len;
  char field[32];
  size_t field_len;
  int header;      /* H_* being read, H_NONE when ignored */
  bool last_value; /* the last callback was a header value */
  bool present[H_COUNT];
  char headers[H_COUNT][HEADER_MAX];
  char *body;
  size_t body_len;
  int fail_status;    /* set while parsing: 400 (NUL), 413, 414, 431 */
  int pending_status; /* 414 or 431 noted while the request line and headers are read, raised at their end */
  bool complete, answered, sse;
  uv_shutdown_t shut;
  struct conn *next;
} conn;

struct web {
  uv_loop_t *loop;
  uv_tcp_t server;
  web_config cfg;
  char token[256];
  bool has_token, loopback, closing;
  char url[300];
  int refs; /* the server handle + open connections */
  conn *conns;
  http_parser_settings settings;
};

typedef struct wreq {
  uv_write_t req;
  conn *c;
  bool close_after;
  char data[];
} wreq;

static void unref(web *w) {
  if (--w->refs == 0) free(w);
}

static void on_conn_closed(uv_handle_t *h) {
  conn *c = h->data, **p;
  web *w = c->w;

  for (p = &w->conns; *p; p = &(*p)->next)
    if (*p == c) {
      *p = c->next;
      break;
    }
  free(c->body);
  free(c);
  unref(w);
}

static void close_conn(conn *c) {
  if (!uv_is_closing((uv_handle_t *)&c->tcp)) uv_close((uv_handle_t *)&c->tcp, on_conn_closed);
}

static void on_written(uv_write_t *req, int status) {
  wreq *r = (wreq *)req;
  if (status < 0 || r->close_after) close_conn(r->c);
  free(r);
}

/* Queue len bytes on c (copied); close_after: close once written. */
static void send_bytes(conn *c, const char *data, size_t len, bool close_after) {
  wreq *r = malloc(sizeof *r + len);
  uv_buf_t buf;

  if (!r) {
    close_conn(c);
    return;
  }
  memcpy(r->data, data, len);
  r->c = c;
  r->close_after = close_after;
  buf = uv_buf_init(r->data, (unsigned)len);
  if (uv_write(&r->req, (uv_stream_t *)&c->tcp, &buf, 1, on_written) < 0) {
    free(r);
    close_conn(c);
  }
}

static const char *status_text(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 409:
      return "Conflict";
    case 413:
      return "Payload Too Large";
    case 414:
      return "URI Too Long";
    case 415:
      return "Unsupported Media Type";
    case 431:
      return "Request Header Fields Too Large";
    default:
      return status < 500 ? "Client Error" : "Internal Server Error";
  }
}

/* Headers every answer carries: nothing cached, no sniffing, no framing, and no CORS header ever. */
#define COMMON_HEADERS                                                                             \
  "Cache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\nReferrer-Policy: no-referrer\r\n" \
  "X-Frame-Options: DENY\r\nContent-Security-Policy: default-src 'self'; script-src 'self' "       \
  "'unsafe-inline'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "                \
  "frame-ancestors 'none'\r\n"

void web_respond(web_request *req, int status, const char *type, const char *body, size_t len) {
  conn *c = req->conn;
  char head[1024];
  int n;
  char *all;

  if (c->answered) return;
  c->answered = true;
  char *shown = NULL; /* text and JSON go out with their secrets hidden (common/secret.h) */
  if (len && (!strncmp(type, "text/", 5) || strstr(type, "json")) && !memchr(body, 0, len)) {
    if (!(shown = secret_scrub_dup(body, len))) {
      close_conn(c);
      return;
    }
    body = shown;
    len = strlen(shown);
  }
  n = snprintf(head, sizeof head,
               "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n%s%sConnection: close\r\n\r\n",
               status, status_text(status), type, len, COMMON_HEADERS,
               status == 401 ? "WWW-Authenticate: Bearer realm=\"loadctl\"\r\n" : "");
  if (!(all = malloc((size_t)n + len))) {
    free(shown);
    close_conn(c);
    return;
  }
  memcpy(all, head, (size_t)n);
  if (len) memcpy(all + n, body, len);
  send_bytes(c, all, (size_t)n + len, true);
  free(all);
  free(shown);
}

void web_sse_begin(web_request *req) {
  static const char head[] = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n" COMMON_HEADERS
                             "Connection: keep-alive\r\n\r\n"
                             ": loadctl live\n\n";
  conn *c = req->conn;

  if (c->answered) return;
  c->answered = c->sse = true;
  send_bytes(c, head, sizeof head - 1, false);
}

void web_sse_send(web *w, const char *event, const char *data) {
  size_t len = strlen(event) + strlen(data) + 17; /* "event: \ndata: \n\n" and the NUL */
  char *frame = malloc(len);
  int n;

  if (!frame) return;
  n = snprintf(frame, len, "event: %s\ndata: %s\n\n", event, data);
  if (secret_scrub(frame)) n = (int)strlen(frame);
  for (conn *c = w->conns; c; c = c->next) {
    if (!c->sse || uv_is_closing((uv_handle_t *)&c->tcp)) continue;
    if (uv_stream_get_write_queue_size((uv_stream_t *)&c->tcp) > SSE_BACKLOG_MAX) {
      LOG(LOG_WARN, "web: an event stream stopped reading; closed");
      close_conn(c);
      continue;
    }
    send_bytes(c, frame, (size_t)n, false);
  }
  free(frame);
}

size_t web_sse_clients(const web *w) {
  size_t n = 0;
  for (const conn *c = w->conns; c; c = c->next) n += c->sse && !uv_is_closing((const uv_handle_t *)&c->tcp);
  return n;
}

const char *web_url(const web *w) {
  return w->url;
}

/* ---- parsing ---- */

static int on_url(http_parser *p, const char *at, size_t len) {
  conn *c = p->data;
  if (c->url_len + len >= sizeof c->url) { /* raised once the headers end: see on_headers_done */
    if (!c->pending_status) c->pending_status = 414;
    return 0;
  }
  memcpy(c->url + c->url_len, at, len);
  c->url_len += len;
  c->url[c->url_len] = 0;
  return 0;
}

static int on_header_field(http_parser *p, const char *at, size_t len) {
  conn *c = p->data;
  if (c->last_value) c->field_len = 0, c->last_value = false;
  for (size_t i = 0; i < len && c->field_len < sizeof c->field - 1; i++)
    c->field[c->field_len++] = (char)tolower((unsigned char)at[i]);
  c->field[c->field_len] = 0;
  return 0;
}

static int on_header_value(http_parser *p, const char *at, size_t len) {
  conn *c = p->data;
  size_t have;

  if (!c->last_value) {
    c->last_value = true;
    c->header = H_NONE;
    for (int i = 0; i < H_COUNT; i++)
      if (strcmp(c->field, header_names[i]) == 0) c->header = i;
    if (c->header != H_NONE) c->present[c->header] = true, c->headers[c->header][0] = 0;
  }
  if (memchr(at, 0, len)) { /* else what is kept after the NUL would depend on how the bytes were cut */
    c->fail_status = 400;
    return 1;
  }
  if (c->header == H_NONE) return 0;
  have = strlen(c->headers[c->header]);
  if (have + len >= HEADER_MAX) {
    if (!c->pending_status) c->pending_status = 431;
    return 0;
  }
  memcpy(c->headers[c->header] + have, at, len);
  c->headers[c->header][have + len] = 0;
  return 0;
}

/* A URL or header over its limit is refused here, once the header block has parsed: refused at once, a
 * syntax error later in the same token would be a 400 or the limit's status depending on where the TCP
 * reads cut the bytes (the parser checks a token's characters before it hands the token over). */
static int on_headers_done(http_parser *p) {
  conn *c = p->data;
  if (!c->pending_status) return 0;
  c->fail_status = c->pending_status;
  return -1;
}

static int on_body(http_parser *p, const char *at, size_t len) {
  conn *c = p->data;
  char *grown;

  if (c->body_len + len > WEB_BODY_MAX) {
    c->fail_status = 413;
    return 1;
  }
  if (!(grown = realloc(c->body, c->body_len + len + 1))) return 1;
  c->body = grown;
  memcpy(c->body + c->body_len, at, len);
  c->body_len += len;
  c->body[c->body_len] = 0;
  return 0;
}

static int on_complete(http_parser *p) {
  conn *c = p->data;
  c->complete = true;
  http_parser_pause(p, 1);
  return 0;
}

/* ---- the safety rules ---- */

/* Is host (a Host header: "name[:port]") a loopback name? */
static bool host_is_loopback(const char *host) {
  char name[HEADER_MAX];
  const char *end;
  size_t n;

  if (host[0] == '[') {
    end = strchr(host, ']');
    return end && (size_t)(end - host) == 4 && strncmp(host, "[::1]", 5) == 0;
  }
  end = strchr(host, ':');
  n = end ? (size_t)(end - host) : strlen(host);
  if (n == 0 || n >= sizeof name) return false;
  memcpy(name, host, n);
  name[n] = 0;
  if (strcasecmp(name, "localhost") == 0) return true;
  {
    struct sockaddr_in a4;
    return uv_ip4_addr(name, 0, &a4) == 0 && (ntohl(a4.sin_addr.s_addr) >> 24) == 127;
  }
}

static bool token_ok(const web *w, const conn *c) {
  const char *auth = c->headers[H_AUTH];
  size_t tlen = strlen(w->token);

  if (!c->present[H_AUTH] || strncasecmp(auth, "Bearer ", 7) != 0) return false;
  auth += 7;
  while (*auth == ' ') auth++;
  return strlen(auth) == tlen && sodium_memcmp(auth, w->token, tlen) == 0;
}

static bool shell_path(const char *method, const char *path) {
  return strcmp(method, "GET") == 0 && (strcmp(path, "/") == 0 || strncmp(path, "/assets/", 8) == 0);
}

/* 0 when c may be served, else the status, with the reason in why. */
static int refuse(const web *w, const conn *c, const char *method, const char *path, char *why, size_t len) {
  char own[HEADER_MAX + 8];

  snprintf(own, sizeof own, "http://%s", c->headers[H_HOST]);
  if (strcmp(method, "OPTIONS") == 0)
    return snprintf(why, len, "cross-origin requests are not served (no CORS)"), 405;
  if (!c->present[H_HOST]) return snprintf(why, len, "the request has no Host header"), 400;
  if (w->loopback && !host_is_loopback(c->headers[H_HOST]))
    return snprintf(why, len, "Host '%s' is not a loopback name (this server binds loopback only)",
                    c->headers[H_HOST]),
           403;
  if (c->present[H_ORIGIN] && strcmp(c->headers[H_ORIGIN], own) != 0)
    return snprintf(why, len, "cross-origin request from '%s' refused (no CORS)", c->headers[H_ORIGIN]), 403;
  if (w->has_token && !shell_path(method, path) && !token_ok(w, c))
    return snprintf(why, len, "this server needs 'Authorization: Bearer <token>' (the --web-token file)"),
           401;
  if (!w->has_token && strcmp(method, "POST") == 0 && !c->present[H_ORIGIN] && !c->present[H_CLIENT] &&
      strcmp(c->headers[H_FETCH_SITE], "same-origin") != 0)
    return snprintf(why, len,
                    "a POST needs the page's own Origin header or an X-Loadctl-Client header (scripts: "
                    "add -H 'X-Loadctl-Client: 1')"),
           403;
  return 0;
}

static void json_error(web_request *req, int status, const char *why) {
  char body[1024];
  size_t n = 0;

  n += (size_t)snprintf(body, sizeof body, "{\"error\":\"");
  for (const char *p = why; *p && n < sizeof body - 8; p++) {
    if (*p == '"' || *p == '\\') body[n++] = '\\';
    body[n++] = (unsigned char)*p < 0x20 ? ' ' : *p;
  }
  n += (size_t)snprintf(body + n, sizeof body - n, "\"}\n");
  web_respond(req, status, "application/json", body, n);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf);
static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf);

/* The request of c as the handler sees it. */
static web_request request_of(conn *c) {
  return (web_request){.method = http_method_str((enum http_method)c->parser.method),
                       .path = c->url,
                       .query = "",
                       .body = c->body ? c->body : "",
                       .body_len = c->body_len,
                       .content_type = c->headers[H_CTYPE],
                       .conn = c};
}

/* Parsed c (whole or failed): 0 when it may be served (req's query split off), else the status, the reason
 * in why. */
static int verdict(const web *w, conn *c, web_request *req, char *why, size_t len) {
  char *q;
  if (c->fail_status || !c->complete) {
    int status = c->fail_status ? c->fail_status : 400;
    snprintf(why, len, "%s",
             status == 413    ? "the body is larger than 64 KiB"
             : status == 414  ? "the URL is longer than 2 KiB"
             : status == 431  ? "a header is longer than 512 bytes"
             : c->fail_status ? "a header value holds a NUL byte"
                              : http_errno_description(HTTP_PARSER_ERRNO(&c->parser)));
    return status;
  }
  if ((q = strchr(c->url, '?'))) *q = 0, req->query = q + 1;
  return refuse(w, c, req->method, req->path, why, len);
}

/* Feed n bytes to c's parser: true when c is ready for verdict (whole, failed or over a limit). */
static bool feed(conn *c, const char *data, size_t n) {
  size_t used = http_parser_execute(&c->parser, &c->w->settings, data, n);
  enum http_errno e = HTTP_PARSER_ERRNO(&c->parser);
  return c->complete || c->fail_status || (e != HPE_OK && e != HPE_PAUSED) || used < n;
}

static void conn_init(conn *c, web *w) {
  c->w = w;
  c->header = H_NONE;
  http_parser_init(&c->parser, HTTP_REQUEST);
  c->parser.data = c;
}

/* A whole request arrived (or parsing failed): check, then hand it over. */
static void serve(conn *c) {
  web *w = c->w;
  char why[600];
  web_request req = request_of(c);
  int status;

  uv_read_stop((uv_stream_t *)&c->tcp);
  if ((status = verdict(w, c, &req, why, sizeof why)) != 0) {
    json_error(&req, status, why);
    return;
  }
  w->cfg.handler(w->cfg.ud, &req);
  if (!c->answered) json_error(&req, 500, "the request was not answered");
  if (c->sse) uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read); /* to see the page leave */
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf) {
  (void)h;
  buf->base = malloc(suggested);
  buf->len = buf->base ? suggested : 0;
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf) {
  conn *c = s->data;

  if (n < 0 || c->sse) { /* an event stream's reader only ever closes */
    if (n < 0) close_conn(c);
    free(buf->base);
    return;
  }
  if (n > 0 && !c->answered) {
    if (feed(c, buf->base, (size_t)n)) serve(c);
  }
  free(buf->base);
}

static void on_connection(uv_stream_t *server, int status) {
  web *w = server->data;
  conn *c;

  if (status < 0 || w->closing || !(c = calloc(1, sizeof *c))) return;
  conn_init(c, w);
  uv_tcp_init(w->loop, &c->tcp);
  c->tcp.data = c;
  w->refs++;
  c->next = w->conns;
  w->conns = c;
  if (uv_accept(server, (uv_stream_t *)&c->tcp) < 0 ||
      uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read) < 0)
    close_conn(c);
}

static void settings_init(http_parser_settings *s) {
  *s = (http_parser_settings){.on_url = on_url,
                              .on_header_field = on_header_field,
                              .on_header_value = on_header_value,
                              .on_headers_complete = on_headers_done,
                              .on_body = on_body,
                              .on_message_complete = on_complete};
}

int web_probe_request(const char *data, size_t len, size_t split, const char *token, bool loopback,
                      web_probe *out) {
  web w = {.loopback = loopback, .has_token = token != NULL};
  conn *c = calloc(1, sizeof *c);
  int status = -EAGAIN;
  bool ready;

  memset(out, 0, sizeof *out);
  if (!c) return -ENOMEM;
  if (token) snprintf(w.token, sizeof w.token, "%s", token);
  settings_init(&w.settings);
  conn_init(c, &w);
  split = split < len ? split : len;
  ready = feed(c, data, split) || (split < len && feed(c, data + split, len - split));
  if (ready) {
    web_request req = request_of(c);
    status = verdict(&w, c, &req, out->why, sizeof out->why);
    snprintf(out->method, sizeof out->method, "%s", req.method);
    snprintf(out->path, sizeof out->path, "%s", req.path);
    snprintf(out->query, sizeof out->query, "%s", req.query);
    out->body_len = req.body_len;
  }
  free(c->body);
  free(c);
  return status;
}

/* ---- setup ---- */

/* [HOST:]PORT -> addr; "localhost" is 127.0.0.1. 0 or -EINVAL. */
static int parse_listen(const char *listen, struct sockaddr_storage *addr) {
  char host[256] = "127.0.0.1";
  const char *colon = strrchr(listen, ':'), *port_text = colon ? colon + 1 : listen;
  char *end;
  long port = strtol(port_text, &end, 10);
  size_t hlen = colon ? (size_t)(colon - listen) : 0;

  if (*end || end == port_text || port < 0 || port > 65535 || hlen >= sizeof host) return -EINVAL;
  if (colon && hlen > 0) {
    memcpy(host, listen, hlen);
    host[hlen] = 0;
  }
  if (strcasecmp(host, "localhost") == 0) snprintf(host, sizeof host, "127.0.0.1");
  memset(addr, 0, sizeof *addr);
  if (host[0] == '[' && hlen > 2 && host[hlen - 1] == ']') {
    host[hlen - 1] = 0;
    return uv_ip6_addr(host + 1, (int)port, (struct sockaddr_in6 *)addr) < 0 ? -EINVAL : 0;
  }
  return uv_ip4_addr(host, (int)port, (struct sockaddr_in *)addr) < 0 ? -EINVAL : 0;
}

static bool addr_is_loopback(const struct sockaddr_storage *a) {
  if (a->ss_family == AF_INET) return (ntohl(((const struct sockaddr_in *)a)->sin_addr.s_addr) >> 24) == 127;
  return memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr, &in6addr_loopback, sizeof in6addr_loopback) ==
         0;
}

int web_listen_is_loopback(const char *listen, bool *loopback) {
  struct sockaddr_storage addr;
  if (parse_listen(listen, &addr) < 0) return -EINVAL;
  *loopback = addr_is_loopback(&addr);
  return 0;
}

int web_free_port(const char *listen) {
  struct sockaddr_storage addr;
  socklen_t len = sizeof addr;
  int fd, port = -EADDRNOTAVAIL;

  if (parse_listen(listen, &addr) < 0) return -EINVAL;
  if (addr.ss_family == AF_INET6)
    ((struct sockaddr_in6 *)&addr)->sin6_port = 0;
  else
    ((struct sockaddr_in *)&addr)->sin_port = 0;
  if ((fd = socket(addr.ss_family, SOCK_STREAM, 0)) < 0) return -errno;
  if (bind(fd, (struct sockaddr *)&addr,
           addr.ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in)) == 0 &&
      getsockname(fd, (struct sockaddr *)&addr, &len) == 0)
    port = ntohs(addr.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&addr)->sin6_port
                                            : ((struct sockaddr_in *)&addr)->sin_port);
  close(fd);
  return port;
}

static void on_server_closed(uv_handle_t *h) {
  unref(h->data);
}

static void set_url(web *w) {
  struct sockaddr_storage addr;
  int namelen = sizeof addr;
  char ip[INET6_ADDRSTRLEN] = "";
  int port;

  uv_tcp_getsockname(&w->server, (struct sockaddr *)&addr, &namelen);
  if (addr.ss_family == AF_INET6) {
    uv_ip6_name((struct sockaddr_in6 *)&addr, ip, sizeof ip);
    port = ntohs(((struct sockaddr_in6 *)&addr)->sin6_port);
    snprintf(w->url, sizeof w->url, "http://[%s]:%d/", ip, port);
  } else {
    uv_ip4_name((struct sockaddr_in *)&addr, ip, sizeof ip);
    port = ntohs(((struct sockaddr_in *)&addr)->sin_port);
    snprintf(w->url, sizeof w->url, "http://%s:%d/", ip, port);
  }
}

int web_start(uv_loop_t *loop, const web_config *cfg, web **out, char *err, size_t errlen) {
  struct sockaddr_storage addr;
  web *w;
  int rc;

  if (parse_listen(cfg->listen, &addr) < 0) {
    snprintf(err, errlen, "--web '%s': expected PORT, HOST:PORT or [IPV6]:PORT", cfg->listen);
    return -EINVAL;
  }
  if (!addr_is_loopback(&addr) && !cfg->token) {
    snprintf(err, errlen,
             "--web '%s' is not a loopback address: anyone who reaches it could steer the load; pass "
             "--web-token FILE (a bearer token every request must carry) or bind 127.0.0.1",
             cfg->listen);
    return -EINVAL;
  }
  if (!(w = calloc(1, sizeof *w))) return -ENOMEM;
  w->loop = loop;
  w->cfg = *cfg;
  w->refs = 1;
  w->loopback = addr_is_loopback(&addr);
  w->has_token = cfg->token != NULL;
  if (cfg->token) snprintf(w->token, sizeof w->token, "%s", cfg->token);
  settings_init(&w->settings);
  uv_tcp_init(loop, &w->server);
  w->server.data = w;
  rc = uv_tcp_bind(&w->server, (const struct sockaddr *)&addr, 0);
  if (rc == 0) rc = uv_listen((uv_stream_t *)&w->server, 64, on_connection);
  if (rc < 0) {
    snprintf(err, errlen, "--web '%s': %s", cfg->listen, uv_strerror(rc));
    uv_close((uv_handle_t *)&w->server, on_server_closed);
    return rc;
  }
  set_url(w);
  *out = w;
  return 0;
}

static void on_shut(uv_shutdown_t *req, int status) {
  (void)status;
  close_conn(req->data);
}

void web_close(web *w) {
  if (!w) return;
  w->closing = true;
  for (conn *c = w->conns; c; c = c->next) { /* what the kernel took (the "done" event) still goes out */
    c->shut.data = c;
    if (uv_is_closing((uv_handle_t *)&c->tcp)) continue;
    if (!c->answered || uv_stream_get_write_queue_size((uv_stream_t *)&c->tcp) > 0 || /* it is not reading */
        uv_shutdown(&c->shut, (uv_stream_t *)&c->tcp, on_shut) < 0)
      close_conn(c);
  }
  uv_close((uv_handle_t *)&w->server, on_server_closed);
}

int web_token_load(const char *path, char *out, size_t outlen, char *err, size_t errlen) {
  FILE *f = fopen(path, "r");
  char line[512];
  size_t n;
  char *p = line;

  if (!f) {
    snprintf(err, errlen, "--web-token %s: %s", path, strerror(errno));
    return -errno;
  }
  if (!fgets(line, sizeof line, f)) line[0] = 0;
  fclose(f);
  while (*p && isspace((unsigned char)*p)) p++;
  n = strlen(p);
  while (n > 0 && isspace((unsigned char)p[n - 1])) p[--n] = 0;
  if (n < TOKEN_MIN || n >= outlen) {
    snprintf(err, errlen, "--web-token %s:1: the token must be %d to %zu characters on the first line", path,
             TOKEN_MIN, outlen - 1);
    return -EINVAL;
  }
  for (size_t i = 0; i < n; i++)
    if (!isgraph((unsigned char)p[i])) {
      snprintf(err, errlen, "--web-token %s:1: the token holds a blank or control character", path);
      return -EINVAL;
    }
  memcpy(out, p, n + 1);
  return 0;
}
