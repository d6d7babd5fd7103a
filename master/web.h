/* web.h - the master's small HTTP/1.1 server on its uv loop (requests parsed by http-parser): one request
 * per connection, or a server-sent event stream that stays open. It enforces the safety rules before any
 * handler runs: loopback binds unless a bearer token is set, the token on every request but the page
 * shell, no CORS, POSTs only with the token or from the page's own origin, Host checked on loopback
 * (DNS rebinding), bodies capped, and a clear 400 for what cannot be parsed (a NUL in a header value too). */
#ifndef LOADCTL_WEB_H
#define LOADCTL_WEB_H

#include <stdbool.h>
#include <stddef.h>
#include <uv.h>

#define WEB_BODY_MAX 65536 /* request bodies above this get 413 */

typedef struct web web;
typedef struct web_request web_request;

/* One request as the handler sees it; every string is NUL-terminated and borrowed for the call. */
struct web_request {
  const char *method; /* "GET", "POST", ... */
  const char *path;   /* "/api/stats" (no query) */
  const char *query;  /* after '?', "" when none */
  const char *body;   /* "" when none */
  size_t body_len;
  const char *content_type; /* "" when absent */
  void *conn;               /* the connection (web.c's) */
};

/* Called once per request that passed the safety checks; it must answer with exactly one of web_respond
 * or web_sse_begin before returning. */
typedef void (*web_handler)(void *ud, web_request *req);

typedef struct web_config {
  const char *listen; /* "PORT", "HOST:PORT", "[V6]:PORT"; PORT 0 = any free port */
  const char *token;  /* bearer token (NUL-terminated) or NULL; required for a non-loopback bind */
  web_handler handler;
  void *ud;
} web_config;

/* Bind and listen on loop. *out owned by the caller, release with web_close. -EINVAL (bad address, or a
 * non-loopback bind without a token: message says to pass --web-token FILE) or a negative errno from the
 * bind, message in err. */
int web_start(uv_loop_t *loop, const web_config *cfg, web **out, char *err, size_t errlen);

/* The bound address as a URL: "http://127.0.0.1:8089/". Borrowed. */
const char *web_url(const web *w);

/* Answer req: status (200, 400, ...), content type, body (copied). Connection: close. */
void web_respond(web_request *req, int status, const char *type, const char *body, size_t len);

/* Answer req with an event stream (text/event-stream) that stays open for web_sse_send. */
void web_sse_begin(web_request *req);

/* Send "event: EVENT\ndata: DATA\n\n" to every open event stream (data without newlines). A client that
 * has more than 4 MiB unsent (it stopped reading) is dropped. */
void web_sse_send(web *w, const char *event, const char *data);

/* Open event streams. */
size_t web_sse_clients(const web *w);

/* Close the server and every connection; the memory is freed once libuv closed the handles (run the
 * loop). NULL is fine. */
void web_close(web *w);

/* One request checked as the server does it, without a socket (tests, tests/fuzz/fuzz_web.c): data fed to
 * the parser in two reads cut at split, then the safety rules of a server with token (NULL: none), bound on
 * loopback or not. 0 when the handler would be called (method, path, query, body_len set), the status of
 * the refusal (400, 401, 403, 405, 413, 414, 431; why set), -EAGAIN when the server would wait for more
 * bytes, -ENOMEM. */
typedef struct web_probe {
  char method[24];
  char path[2048];
  char query[2048];
  size_t body_len;
  char why[600];
} web_probe;
int web_probe_request(const char *data, size_t len, size_t split, const char *token, bool loopback,
                      web_probe *out);

/* "HOST:PORT" parse for --web: is the host a loopback address (127.0.0.0/8, ::1, "localhost", or none)?
 * -EINVAL when listen is not [HOST:]PORT. */
int web_listen_is_loopback(const char *listen, bool *loopback);

/* A free TCP port on listen's host ([HOST:]PORT, the port ignored), or a negative errno. */
int web_free_port(const char *listen);

/* Read a token file: first line, surrounding blanks removed, at least 16 characters. 0 or -EINVAL/-errno
 * with "FILE: why" in err. */
int web_token_load(const char *path, char *out, size_t outlen, char *err, size_t errlen);

#endif
