/* msgtag.h - the tagged series of a stats interval on the wire, kept compact: each distinct tag set is
 * sent once per message ("tagsets": [text, ...]) and each series as [entry index, tag set index, count,
 * errors, latency histogram] ("tagged"). msg.c calls these for STATS messages; the decoder trusts nothing
 * (tag sets must be canonical, indexes in range, errors <= count). */
#ifndef LOADCTL_MSGTAG_H
#define LOADCTL_MSGTAG_H

#include <msgpack.h>
#include <stddef.h>

#include "common/stats.h"

/* Pack the two values of "tagsets" and "tagged" (the caller packs the keys: see msg.c). msgpack's status,
 * OR-ed: 0 when every write succeeded; -ENOMEM for the table of distinct sets. */
int msgtag_pack_sets(msgpack_packer *pk, const stats_interval *s, uint32_t *ids);
int msgtag_pack_series(msgpack_packer *pk, const stats_interval *s, const uint32_t *ids);

/* Add the series in series (an array as packed above; sets the array of tag sets) to s, whose entries
 * are already decoded. 0, or a negative errno with the reason in err. */
int msgtag_unpack(const msgpack_object *sets, const msgpack_object *series, stats_interval *s, char *err,
                  size_t errlen);

#endif
