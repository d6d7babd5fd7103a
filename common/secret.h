/* secret.h - values that must never reach a file, a log line, the report or the web UI: the values of
 * `--secret NAME=VALUE` (shipped with the scenario like --env) and the user:password of URLs. Every
 * process keeps one list (a process-wide registry, like the log threshold, because a secret known to
 * the options loader must be hidden by the logger and every writer); writers pass text through
 * secret_scrub before it leaves the process.
 *
 * What is replaced: each registered value (SECRET_MIN_LEN bytes or longer) by "***", and the userinfo
 * of any "scheme://user:password@" by "***" whether registered or not. Shorter values are not hidden
 * (they would hide ordinary text); `--secret` refuses them. */
#ifndef LOADCTL_SECRET_H
#define LOADCTL_SECRET_H

#include <stddef.h>

#define SECRET_MIN_LEN 4
#define SECRET_MAX 64 /* values kept; more are refused with -ENOSPC */

/* Register value (copied). 0, -EINVAL (shorter than SECRET_MIN_LEN), -ENOSPC, -ENOMEM. Thread-safe. */
int secret_add(const char *value);
/* Register the password (and user:password) in url's userinfo, if it has one. 0 or as secret_add. */
int secret_add_url(const char *url);
/* Values registered so far. */
size_t secret_count(void);

/* Hide every secret in s, in place (the text only shrinks). Returns how many were hidden. */
size_t secret_scrub(char *s);
/* A scrubbed malloc'd copy of the len bytes at s (NUL-terminated; NULL on -ENOMEM); caller frees. */
char *secret_scrub_dup(const char *s, size_t len);

/* Forget every registered value (tests; not while another thread scrubs). */
void secret_clear(void);

#endif
