/* h1resp.c - reading one HTTP/1.1 response at a time with http-parser for the h1 backend (worker/h1resp.h).
 */
#include "worker/h1resp.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* One header line "Name: value" is complete in hdrs: end it and look at it. */
static int end_line(h1resp *r) {
  const char *line = r->hdrs.data + r->line_start;
  size_t len = r->hdrs.len - r->line_start;
  if (len > 12 && strncasecmp(line, "set-cookie: ", 12) == 0) h1req_set_cookie(r->q, line + 12, len - 12);
  r->last_was_value = 0;
  return h1req_buf_add(&r->hdrs, "\r\n", 2);
}

static int on_begin(http_parser *p) {
  h1resp *r = p->data;
  r->hdrs.len = r->body.len = 0;
  r->last_was_value = 0;
  return 0;
}

static int on_field(http_parser *p, const char *at, size_t n) {
  h1resp *r = p->data;
  if (r->last_was_value) {
    if (end_line(r)) return -1;
    r->line_start = r->hdrs.len;
  } else if (r->hdrs.len == 0) {
    r->line_start = 0;
  }
  return h1req_buf_add(&r->hdrs, at, n);
}

static int on_value(http_parser *p, const char *at, size_t n) {
  h1resp *r = p->data;
  if (!r->last_was_value && h1req_buf_add(&r->hdrs, ": ", 2)) return -1;
  r->last_was_value = 1;
  return h1req_buf_add(&r->hdrs, at, n);
}

static int on_headers(http_parser *p) {
  h1resp *r = p->data;
  if (r->last_was_value && end_line(r)) return -1;
  return r->is_head ? 1 : 0;
}

static int on_body(http_parser *p, const char *at, size_t n) {
  h1resp *r = p->data;
  if (r->body.len < r->max_body) {
    size_t keep = r->max_body - r->body.len;
    if (h1req_buf_add(&r->body, at, n < keep ? n : keep)) return -1;
  }
  return 0;
}

static int on_complete(http_parser *p) {
  h1resp *r = p->data;
  if (r->last_was_value && end_line(r)) return -1; /* a chunked body's trailers (found by fuzz_h1resp) */
  if (p->status_code >= 100 && p->status_code < 200 && p->status_code != 101) return 0; /* interim */
  r->complete = 1;
  http_parser_pause(p, 1);
  return 0;
}

static const http_parser_settings settings = {
    .on_message_begin = on_begin,
    .on_header_field = on_field,
    .on_header_value = on_value,
    .on_headers_complete = on_headers,
    .on_body = on_body,
    .on_message_complete = on_complete,
};

void h1resp_begin(h1resp *r, h1req *q, int is_head, size_t max_body) {
  http_parser_init(&r->parser, HTTP_RESPONSE);
  r->parser.data = r;
  r->hdrs.len = r->body.len = 0;
  r->q = q;
  r->is_head = is_head;
  r->max_body = max_body;
  r->complete = 0;
}

size_t h1resp_feed(h1resp *r, const char *data, size_t len) {
  return http_parser_execute(&r->parser, &settings, data, len);
}

const char *h1resp_error(const h1resp *r) {
  return HTTP_PARSER_ERRNO(&r->parser) == HPE_OK ? NULL
                                                 : http_errno_description(HTTP_PARSER_ERRNO(&r->parser));
}

int h1resp_status(const h1resp *r) {
  return (int)r->parser.status_code;
}

int h1resp_keep_alive(const h1resp *r) {
  return http_should_keep_alive(&r->parser);
}

void h1resp_free(h1resp *r) {
  free(r->hdrs.data);
  free(r->body.data);
  r->hdrs = r->body = (h1req_buf){0};
}
