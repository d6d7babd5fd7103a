/* testauth.h - request-header checks for tests/targets/testserver (cookies, header values, Basic and
 * Digest credentials), over a request's raw "Name: value\r\n" header lines. Test-only code, linked
 * into the test programs (CMakeLists.txt: loadctl_testsupport). */
#ifndef LOADCTL_TESTAUTH_H
#define LOADCTL_TESTAUTH_H

#include <stddef.h>

/* /basic and /digest accept user "user" with password "pass" (RFC 7617, RFC 7616 MD5 qop=auth);
 * this is the challenge /digest answers 401 with. */
#define TESTAUTH_DIGEST_CHALLENGE \
  "WWW-Authenticate: Digest realm=\"loadctl\", qop=\"auth\", nonce=\"5f2a7c1e9b\", algorithm=MD5\r\n"

/* 1 when a Cookie header line of hdrs contains want, else 0. */
int testauth_has_cookie(const char *hdrs, size_t hdrs_len, const char *want);

/* The value of request header name (case-insensitive, without ':') into buf; 0 when absent or too long. */
int testauth_header(const char *hdrs, size_t hdrs_len, const char *name, char *buf, size_t size);

/* 1 when the Authorization header holds valid Digest credentials for user:pass and method, else 0. */
int testauth_digest_ok(const char *hdrs, size_t hdrs_len, const char *method);

#endif
