/* h1resp.h - the h1 backend's response reader: Debian's http-parser fed the bytes of one connection,
 * collecting a response's header block (raw "Name: value\r\n" lines) and body (cut at a limit), handing
 * Set-Cookie lines to the request's cookie jar, skipping interim 1xx responses and pausing at the end of
 * the response. Plain data embedded in each h1 connection (http_h1.c), which owns it and frees it with
 * h1resp_free; once its buffers have grown, response after response allocates nothing. */
#ifndef LOADCTL_H1RESP_H
#define LOADCTL_H1RESP_H

#include <http_parser.h>
#include <stddef.h>

#include "worker/h1req.h"

typedef struct h1resp {
  http_parser parser;
  h1req_buf hdrs, body; /* the response's header lines and its body, up to max_body bytes */
  size_t max_body, line_start;
  int last_was_value, is_head;
  int complete; /* the response ended: the parser is paused, the bytes after it belong to no request */
  h1req *q;     /* the request, whose jar takes the cookies (not owned) */
} h1resp;

/* Get ready for the response to q (a HEAD request's has no body); at most max_body bytes of body kept. */
void h1resp_begin(h1resp *r, h1req *q, int is_head, size_t max_body);

/* Parse len bytes of the connection; len 0 says the peer closed (which ends a body read to EOF). Returns
 * the bytes used: fewer than len when the response ended inside them (r->complete) or on an error. */
size_t h1resp_feed(h1resp *r, const char *data, size_t len);

/* The parse error as http-parser describes it, or NULL when there is none. */
const char *h1resp_error(const h1resp *r);

/* The status code as parsed (http-parser takes 1 to 3 digits: check the range), and whether the
 * response lets the connection carry another request. */
int h1resp_status(const h1resp *r);
int h1resp_keep_alive(const h1resp *r);

/* Free the buffers (the struct itself is the caller's). */
void h1resp_free(h1resp *r);

#endif
