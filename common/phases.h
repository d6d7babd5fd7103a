/* phases.h - the wire form of a request name's timing-phase histograms (stats_entry.phase, k6's six
 * phases) in the STATS message: nil, or an array of six HdrHistogram V2 blobs (hist_encode) that the
 * master adds exactly. Measured against sparse [value, count] integer pairs (tests/unit/test_phases.c):
 * V2 was 0.6x their bytes and decoded in under half their CPU, so the phases reuse the latency codec. */
#ifndef LOADCTL_PHASES_H
#define LOADCTL_PHASES_H

#include <msgpack.h>
#include <stddef.h>

#include "common/stats.h"

/* Pack e's phases: nil when e has none, else an array of STATS_PHASE_COUNT V2 blobs (an absent phase as an
 * empty histogram). 0, or -1 when encoding or the packer failed. */
int phases_pack(msgpack_packer *pk, const stats_entry *e);

/* Add the phases in o (what phases_pack wrote; nil adds nothing) into e. Never trusts o: 0, -EPROTO with
 * the reason in why (a wrong shape, a blob hist_decode refuses), -ENOMEM. On failure e's phases may hold
 * part of o: callers discard the whole message. */
int phases_unpack(const msgpack_object *o, stats_entry *e, char *why, size_t why_size);

#endif
