/* secret.c - the process's list of secret values and the scrubber every writer uses (secret.h). The
 * list is short and only grows (at startup): adding takes a lock, and publishes the new count after the
 * value, so scrubbing reads the first count values without one (request names pass through it). */
#include "common/secret.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define MASK "***"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static char *values[SECRET_MAX];
static size_t nvalues; /* written under lock, read with __atomic_load_n */

int secret_add(const char *value) {
  int rc = 0;
  if (!value || strlen(value) < SECRET_MIN_LEN) return -EINVAL;
  pthread_mutex_lock(&lock);
  for (size_t i = 0; i < nvalues; i++)
    if (!strcmp(values[i], value)) goto out;
  if (nvalues == SECRET_MAX) {
    rc = -ENOSPC;
  } else if (!(values[nvalues] = strdup(value))) {
    rc = -ENOMEM;
  } else {
    __atomic_store_n(&nvalues, nvalues + 1, __ATOMIC_RELEASE);
  }
out:
  pthread_mutex_unlock(&lock);
  return rc;
}

/* The userinfo of the URL at s ("user:pw" of "http://user:pw@host/"): its start and length, or NULL. */
static char *userinfo(char *s, size_t *len) {
  char *scheme = strstr(s, "://");
  while (scheme) {
    char *u = scheme + 3, *at = u + strcspn(u, "/?#@ \t\r\n\"'<>");
    if (*at == '@' && at > u) {
      *len = (size_t)(at - u);
      return u;
    }
    scheme = strstr(u, "://");
  }
  return NULL;
}

int secret_add_url(const char *url) {
  char *copy, *u, *colon;
  size_t len = 0;
  int rc = 0;
  if (!url || !(copy = strdup(url))) return url ? -ENOMEM : 0;
  if ((u = userinfo(copy, &len)) != NULL) {
    u[len] = '\0';
    colon = strchr(u, ':');
    if (colon && strlen(colon + 1) >= SECRET_MIN_LEN) rc = secret_add(colon + 1);
    if (rc == 0 && strlen(u) >= SECRET_MIN_LEN) rc = secret_add(u);
  }
  free(copy);
  return rc;
}

size_t secret_count(void) {
  return __atomic_load_n(&nvalues, __ATOMIC_ACQUIRE);
}

/* Replace the n bytes at at (inside s) with MASK. */
static void mask(char *at, size_t n) {
  size_t m = strlen(MASK);
  memmove(at + m, at + n, strlen(at + n) + 1);
  memcpy(at, MASK, m);
}

size_t secret_scrub(char *s) {
  size_t hidden = 0, len = 0;
  char *u, *from = s;
  if (!s) return 0;
  while ((u = userinfo(from, &len)) != NULL) { /* any URL's user:password, registered or not */
    if (len != strlen(MASK) || strncmp(u, MASK, len) != 0) mask(u, len), hidden++;
    from = u + strlen(MASK);
  }
  for (size_t i = 0, count = secret_count(); i < count; i++) {
    size_t n = strlen(values[i]);
    for (char *at = strstr(s, values[i]); at; at = strstr(at + strlen(MASK), values[i]))
      mask(at, n), hidden++;
  }
  return hidden;
}

char *secret_scrub_dup(const char *s, size_t len) {
  char *copy = malloc(len + 1);
  if (!copy) return NULL;
  memcpy(copy, s, len);
  copy[len] = '\0';
  secret_scrub(copy);
  return copy;
}

void secret_clear(void) {
  pthread_mutex_lock(&lock);
  size_t n = nvalues;
  __atomic_store_n(&nvalues, 0, __ATOMIC_RELEASE);
  for (size_t i = 0; i < n; i++) free(values[i]);
  pthread_mutex_unlock(&lock);
}
