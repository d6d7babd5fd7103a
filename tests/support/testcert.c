/* testcert.c - self-signed test certificates with OpenSSL (tests/support/testcert.h). */
#include "tests/support/testcert.h"

#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <stdio.h>

X509 *testcert_make(EVP_PKEY *key, const char *cn, long serial) {
  X509 *x = X509_new();
  if (!x) return NULL;
  X509_set_version(x, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(x), serial);
  X509_gmtime_adj(X509_getm_notBefore(x), -3600);
  X509_gmtime_adj(X509_getm_notAfter(x), 86400);
  X509_set_pubkey(x, key);
  X509_NAME *name = X509_get_subject_name(x);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
  X509_set_issuer_name(x, name);
  X509V3_CTX v3;
  X509V3_set_ctx_nodb(&v3);
  X509V3_set_ctx(&v3, x, x, NULL, NULL, 0);
  X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &v3, NID_subject_alt_name, "DNS:localhost,IP:127.0.0.1");
  if (!ext || !X509_add_ext(x, ext, -1) || !X509_sign(x, key, EVP_sha256())) X509_free(x), x = NULL;
  X509_EXTENSION_free(ext);
  return x;
}

int testcert_write_pem(const char *path, X509 *cert, EVP_PKEY *key) {
  FILE *f = fopen(path, "w");
  int ok = f && PEM_write_X509(f, cert) && (!key || PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL));
  if (f && fclose(f) != 0) ok = 0;
  if (!ok) fprintf(stderr, "testcert: cannot write %s\n", path);
  return ok;
}
