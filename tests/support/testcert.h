/* testcert.h - self-signed certificates for the TLS tests (tests/targets/testserver's --tls-dir, test_tls):
 * made fresh each run with OpenSSL, so no key or certificate is kept in the repository. Test-only code,
 * linked into the test programs (CMakeLists.txt: loadctl_testsupport). */
#ifndef LOADCTL_TESTCERT_H
#define LOADCTL_TESTCERT_H

#include <openssl/evp.h>
#include <openssl/x509.h>

/* A self-signed certificate for key, subject CN cn, serial serial, valid for DNS:localhost and
 * IP:127.0.0.1 from an hour ago for a day. Owned by the caller (X509_free); NULL on failure. */
X509 *testcert_make(EVP_PKEY *key, const char *cn, long serial);

/* Write cert, then key when non-NULL, as PEM to path. 1 on success; 0, naming path on stderr, otherwise. */
int testcert_write_pem(const char *path, X509 *cert, EVP_PKEY *key);

#endif
