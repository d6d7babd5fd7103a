/* cookiejar.h - one VU's cookies, kept and sent as RFC 6265 says (section 5: Domain, Path, Expires,
 * Max-Age and Secure), shared by every HTTP backend the VU's requests go through (http.c owns one per
 * http_conn and hands it to h1 and curl in http_request.jar). Sized as browsers are: 4096 bytes per
 * cookie, 180 per domain, 3000 in all; past that the least recently used cookie goes. Not thread-safe:
 * a jar lives on its VU's engine thread. Without a public suffix list, a Domain attribute naming a
 * single label ("com") is refused; one such as "co.uk" is not. */
#ifndef LOADCTL_COOKIEJAR_H
#define LOADCTL_COOKIEJAR_H

#include <stddef.h>
#include <stdint.h>

#define COOKIEJAR_MAX_BYTES 4096     /* name + value of one cookie; larger ones are ignored */
#define COOKIEJAR_MAX_PER_DOMAIN 180 /* cookies per domain (Chrome's figure) */
#define COOKIEJAR_MAX 3000           /* cookies per jar (RFC 6265 6.1 asks for at least 3000) */

typedef struct cookiejar cookiejar;

/* An empty jar; *out is owned by the caller, released with cookiejar_free. 0 or -ENOMEM. */
int cookiejar_create(cookiejar **out);
void cookiejar_free(cookiejar *j);

/* Take the cookie of one Set-Cookie header value (text, len bytes; "name=value; Path=/; ...") that came
 * in the response to url ("http://host:port/path?query") at wall time now_s (seconds since the epoch).
 * A cookie whose expiry has passed deletes the stored one of the same name, domain and path.
 * 1 when the jar changed, 0 when the cookie was ignored (malformed, too large, a Domain the host is
 * not in), -ENOMEM. */
int cookiejar_set(cookiejar *j, const char *url, const char *text, size_t len, int64_t now_s);

/* The Cookie header value for a request to url at now_s: "a=1; b=2" (longer paths first, then older
 * cookies first), NUL-terminated in *out, *len bytes; "" (0) when no cookie applies. *out belongs to the
 * jar and stays valid until the jar's next call. 0 or -ENOMEM. */
int cookiejar_header(cookiejar *j, const char *url, int64_t now_s, const char **out, size_t *len);

/* Changes whenever a cookie is added, replaced or removed: a Cookie header built at one generation is
 * still right at the same generation until cookiejar_next_expiry. */
uint64_t cookiejar_generation(const cookiejar *j);
/* The earliest expiry (s since the epoch) of a stored cookie; INT64_MAX when none expires. */
int64_t cookiejar_next_expiry(const cookiejar *j);
size_t cookiejar_count(const cookiejar *j);

/* RFC 6265 5.1.1's date: "Sun, 06 Nov 1994 08:49:37 GMT", "Sunday, 06-Nov-94 08:49:37 GMT",
 * "Sun Nov  6 08:49:37 1994" and the other spellings servers send. 0 and *out_s, or -EINVAL. */
int cookiejar_parse_date(const char *text, size_t len, int64_t *out_s);

#endif
