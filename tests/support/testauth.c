/* testauth.c - request-header checks for tests/targets/testserver: cookies, header values and the
 * Basic/Digest credentials its /needcookie, /basic and /digest routes accept. Test-only code. */
#include "tests/support/testauth.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

int testauth_has_cookie(const char *hdrs, size_t hdrs_len, const char *want) {
  const char *p = hdrs, *end = hdrs + hdrs_len;
  size_t wl = strlen(want);
  while (p && p < end) {
    const char *eol = memchr(p, '\n', (size_t)(end - p));
    if (!eol) break;
    if ((size_t)(eol - p) > 7 && strncasecmp(p, "cookie:", 7) == 0) {
      for (const char *q = p + 7; q + wl <= eol; q++)
        if (memcmp(q, want, wl) == 0) return 1;
    }
    p = eol + 1;
  }
  return 0;
}

int testauth_header(const char *hdrs, size_t hdrs_len, const char *name, char *buf, size_t size) {
  const char *p = hdrs, *end = hdrs + hdrs_len;
  size_t nl = strlen(name);
  while (p && p < end) {
    const char *eol = memchr(p, '\n', (size_t)(end - p));
    if (!eol) break;
    if ((size_t)(eol - p) > nl && strncasecmp(p, name, nl) == 0 && p[nl] == ':') {
      const char *v = p + nl + 1, *ve = eol;
      while (v < ve && *v == ' ') v++;
      while (ve > v && (ve[-1] == '\r' || ve[-1] == ' ')) ve--;
      if ((size_t)(ve - v) >= size) return 0;
      memcpy(buf, v, (size_t)(ve - v));
      buf[ve - v] = 0;
      return 1;
    }
    p = eol + 1;
  }
  return 0;
}

static void md5_hex(const char *text, char out[33]) {
  unsigned char d[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  EVP_Digest(text, strlen(text), d, &n, EVP_md5(), NULL);
  for (unsigned i = 0; i < 16 && i < n; i++) snprintf(out + 2 * i, 3, "%02x", d[i]);
}

/* key="value" or key=value of a Digest header into buf; 0 when absent. */
static int digest_param(const char *h, const char *key, char *buf, size_t size) {
  size_t kl = strlen(key);
  for (const char *p = h; (p = strstr(p, key)) != NULL; p += kl) {
    if ((p > h && p[-1] != ' ' && p[-1] != ',') || p[kl] != '=') continue;
    const char *v = p + kl + 1;
    size_t n = *v == '"' ? strcspn(++v, "\"") : strcspn(v, ", ");
    if (n >= size) return 0;
    memcpy(buf, v, n);
    buf[n] = 0;
    return 1;
  }
  return 0;
}

int testauth_digest_ok(const char *hdrs, size_t hdrs_len, const char *method) {
  char h[2048], user[64], realm[64], nonce[64], uri[512], resp[64], nc[16], cnonce[128], qop[16];
  char text[1024], a1[33], a2[33], want[33];
  if (!testauth_header(hdrs, hdrs_len, "authorization", h, sizeof h) || strncasecmp(h, "Digest ", 7) != 0)
    return 0;
  if (!digest_param(h, "username", user, sizeof user) || !digest_param(h, "realm", realm, sizeof realm) ||
      !digest_param(h, "nonce", nonce, sizeof nonce) || !digest_param(h, "uri", uri, sizeof uri) ||
      !digest_param(h, "response", resp, sizeof resp) || !digest_param(h, "nc", nc, sizeof nc) ||
      !digest_param(h, "cnonce", cnonce, sizeof cnonce) || !digest_param(h, "qop", qop, sizeof qop))
    return 0;
  if (strcmp(user, "user") || strcmp(realm, "loadctl") || strcmp(nonce, "5f2a7c1e9b")) return 0;
  snprintf(text, sizeof text, "%s:%s:%s", user, realm, "pass");
  md5_hex(text, a1);
  snprintf(text, sizeof text, "%s:%s", method, uri);
  md5_hex(text, a2);
  snprintf(text, sizeof text, "%s:%s:%s:%s:%s:%s", a1, nonce, nc, cnonce, qop, a2);
  md5_hex(text, want);
  return strcmp(want, resp) == 0;
}
