/* phases.c - encode and decode a request name's timing-phase histograms for the STATS message (see
 * phases.h), so msg.c stays the message layout and this the one field with six histograms in it. */
#include "common/phases.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

static int pack_one(msgpack_packer *pk, const hist *h) {
  hist *empty = NULL;
  uint8_t *buf = NULL;
  size_t len = 0;
  int rc;

  if (!h && hist_create(&empty) < 0) return -1;
  rc = hist_encode(h ? h : empty, &buf, &len) < 0 ? -1 : msgpack_pack_bin_with_body(pk, buf, len);
  free(buf);
  hist_destroy(empty);
  return rc ? -1 : 0;
}

int phases_pack(msgpack_packer *pk, const stats_entry *e) {
  int has = 0, rc;

  for (int k = 0; k < STATS_PHASE_COUNT; k++) has |= e->phase[k] && hist_count(e->phase[k]) > 0;
  if (!has) return msgpack_pack_nil(pk) ? -1 : 0;
  rc = msgpack_pack_array(pk, STATS_PHASE_COUNT);
  for (int k = 0; k < STATS_PHASE_COUNT; k++) rc |= pack_one(pk, e->phase[k]);
  return rc ? -1 : 0;
}

int phases_unpack(const msgpack_object *o, stats_entry *e, char *why, size_t why_size) {
  if (o->type == MSGPACK_OBJECT_NIL) return 0;
  if (o->type != MSGPACK_OBJECT_ARRAY || o->via.array.size != STATS_PHASE_COUNT) {
    snprintf(why, why_size, "field 'ph' is not an array of %d phases", STATS_PHASE_COUNT);
    return -EPROTO;
  }
  for (int k = 0; k < STATS_PHASE_COUNT; k++) {
    const msgpack_object *blob = &o->via.array.ptr[k];
    hist *h = stats_entry_phase(e, k);
    if (!h) return -ENOMEM;
    if (blob->type != MSGPACK_OBJECT_BIN) {
      snprintf(why, why_size, "phase '%s' is not binary", stats_phase_name(k));
      return -EPROTO;
    }
    int rc = hist_decode_add(h, (const uint8_t *)blob->via.bin.ptr, blob->via.bin.size);
    if (rc < 0) {
      snprintf(why, why_size, "phase '%s': bad histogram", stats_phase_name(k));
      return rc == -ENOMEM ? rc : -EPROTO;
    }
  }
  return 0;
}
