/* rights.h - faultnative's watermark policies (variant native_rights): agency albums' thumbnails carry
 * the agency's watermark, whose policy the rights service answers over HTTP. The service here is a
 * stand-in thread on a loopback port that answers each request after RIGHTS_DELAY_MS, as the agency's
 * API does. */
#ifndef RIGHTS_H
#define RIGHTS_H

#include <stdint.h>

/* rights_start starts the rights service stand-in; 0, or -1 with a message on stderr. */
int rights_start(void);
/* rights_fetch asks the rights service for album's watermark policy (a blocking HTTP/1.0 GET); returns
 * the policy, or 0 when the service did not answer. */
uint64_t rights_fetch(long album);

#endif
