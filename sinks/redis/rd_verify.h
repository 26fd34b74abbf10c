/* rd_verify — the Redis sink's half of `cdcsink verify` (src/verify.h):
 * the store of src/verify_doc.h over the sink's keys.
 *
 * A table's keys are key.format filled with the table and ${key}; they are
 * listed with SCAN on every master (MATCH on what the template puts around
 * ${key}), read with GET (json) or HGETALL (hash), pipelined. --repair
 * writes through the sink's own guard script, at the key's marker
 * position + 1 (1 when the marker is gone, e.g. expired with the key): a
 * real later change still wins, an older one still loses. */
#ifndef CDC_RD_VERIFY_H
#define CDC_RD_VERIFY_H

#include "verify.h"

extern const cdc_verify_ops_t cdc_rd_verify_ops;

#endif
