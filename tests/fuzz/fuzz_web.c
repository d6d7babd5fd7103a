/* fuzz_web.c - libFuzzer harness (LOADCTL_FUZZ=ON) for the web UI's request parsing and safety rules
 * (master/web.c through web_probe_request: the server's http-parser callbacks and checks without a socket).
 * Byte 0 picks the server (token or not, loopback or not) and where the bytes are cut into two reads; the
 * rest is the request. Invariants: the verdict does not depend on the cut (a 400's reason may); it is 0,
 * -EAGAIN or one of the documented statuses, with a reason for a refusal; a served request has no OPTIONS
 * method, a path without
 * '?', a body within WEB_BODY_MAX, and with a token its bytes carry "Bearer <token>" (the page shell aside).
 * Seeds: corpus/web/. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "master/web.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define TOKEN "fuzz-token-0123456789abcdef"

static int is_status(int rc) {
  static const int ok[] = {0, -EAGAIN, 400, 401, 403, 405, 413, 414, 431};
  for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
    if (rc == ok[i]) return 1;
  return 0;
}

static int shell(const web_probe *p) {
  return strcmp(p->method, "GET") == 0 && (strcmp(p->path, "/") == 0 || strncmp(p->path, "/assets/", 8) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static web_probe one, two;
  if (size < 1 || size > 200000) return 0;
  const char *req = (const char *)data + 1, *token = data[0] & 1 ? TOKEN : NULL;
  size_t len = size - 1, split = len ? (size_t)(data[0] >> 2) * len / 64 : 0;
  int loopback = (data[0] >> 1) & 1;
  int a = web_probe_request(req, len, len, token, loopback, &one);
  int b = web_probe_request(req, len, split, token, loopback, &two);
  if (a == -ENOMEM || b == -ENOMEM) return 0;
  if (a != b || !is_status(a)) abort();
  /* a 400's reason may be the parser's or ours depending on where the cut falls; the others' may not */
  if (a > 0 && (!one.why[0] || !two.why[0] || (a != 400 && strcmp(one.why, two.why) != 0))) abort();
  if (a == 0) {
    if (strcmp(one.method, two.method) || strcmp(one.path, two.path) || strcmp(one.query, two.query) ||
        one.body_len != two.body_len)
      abort();
    if (strcmp(one.method, "OPTIONS") == 0 || strchr(one.path, '?') || one.body_len > WEB_BODY_MAX) abort();
    if (token && !shell(&one) && !memmem(req, len, TOKEN, strlen(TOKEN))) abort();
  }
  return 0;
}
