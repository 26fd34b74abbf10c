/* collapse — one change per key per batch, the newest by position.
 *
 * docs/semantics.md: inside a batch, changes to the same key collapse to the one
 * with the highest source position — by position, never by arrival — so
 * update → delete → update ends with the row present. A Kafka tombstone has
 * no position; it is ordered by arrival against the others of its key (it
 * follows its delete in the partition). The superseded changes are stale:
 * something newer for their key is applied in the same batch. */
#ifndef CDC_COLLAPSE_H
#define CDC_COLLAPSE_H

#include <stddef.h>

#include "arena.h"
#include "event.h"

/* A key's identity: equal bytes, equal key. ptr NULL: the change has no
 * key and collapses with nothing. */
typedef struct cdc_key_id {
    const void *ptr;
    size_t len;
} cdc_key_id_t;

/* The record key's identity: its Avro bytes after the 5-byte framing
 * header (equal keys encode equally whatever the schema id); ptr NULL for
 * a record without a key. */
cdc_key_id_t cdc_collapse_record_key(const cdc_event_t *event);

/* groups[i] names where events[i] goes (e.g. its target table): the same
 * key in two tables is two keys. keys[i] is the identity of events[i]'s
 * key; keys NULL means every event's record key. On return winner_of[i]
 * is i for a winning event, or the index of the event that supersedes it.
 * Returns the number of winners, or -1 when out of memory. */
long cdc_collapse(const cdc_event_t *const *events, const char *const *groups,
                  const cdc_key_id_t *keys, size_t count, size_t *winner_of,
                  cdc_arena_t *arena);

/* The winner's `after` row with its unavailable (unchanged TOASTed) columns
 * filled from the newest superseded insert/update of the same key that has
 * them: an insert and an update collapsed in one batch must not lose the
 * value the update left unchanged. Returns the winner's own row when
 * nothing could be filled, NULL when out of memory. */
const cdc_value_t *cdc_collapse_fill_unavailable(
    const cdc_event_t *const *events, size_t count, const size_t *winner_of,
    size_t winner, cdc_arena_t *arena);

/* Index of the newest superseded insert/update of the winner's key, or
 * SIZE_MAX. A soft delete collapsed with the insert before it keeps that
 * insert's values, as it would had they come in two batches. */
size_t cdc_collapse_last_upsert(const cdc_event_t *const *events, size_t count,
                                const size_t *winner_of, size_t winner);

#endif
