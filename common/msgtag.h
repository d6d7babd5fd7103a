/* msgtag.h - the tagged series of a stats interval (common/stats.h) in its two encodings. On the wire,
 * compact: each distinct tag set is sent once per message ("tagsets": [text, ...]) and each series as
 * [entry index, tag set index, count, errors, latency histogram] ("tagged"); msg.c calls these for STATS
 * messages, and the decoder trusts nothing (tag sets canonical, indexes in range, errors <= count). In
 * intervals.jsonl, the "(all)" line's "tagged" list: name, tags, counts, percentiles and the histogram in
 * base64, so `loadctl report` rebuilds them exactly. */
#ifndef LOADCTL_MSGTAG_H
#define LOADCTL_MSGTAG_H

#include <jansson.h>
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

/* [{"name", "tags": {k: v}, "count", "errors", "p50_ms".."max_ms", "hist": base64}, ...] for s's
 * series; NULL on -ENOMEM. */
json_t *msgtag_json(const stats_interval *s);
/* Add the series of such a list to s (entries created by name when absent). Bad items are skipped;
 * returns how many were, or -ENOMEM. */
int msgtag_from_json(const json_t *list, stats_interval *s);

#endif
