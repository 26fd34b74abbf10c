/* es_bulk — `_bulk` bodies and their per-item answers.
 *
 * Every item is versioned by the source position (`version_type=external`):
 * the engine applies it only when the position is newer than the one it
 * holds for that _id, deletes included, so a replay or a second consumer
 * group cannot move a document back. An index item carries the document,
 * a delete item nothing.
 *
 * Per item: 2xx applied; a delete's 404 applied too (the document was
 * already gone; the delete's version is kept as for any delete); 409 stale
 * (the engine holds this position or a newer one); 429 and 5xx retriable;
 * any other status rejected with the engine's error type and reason. */
#ifndef CDC_ES_BULK_H
#define CDC_ES_BULK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

typedef enum cdc_es_item_result {
    CDC_ES_ITEM_APPLIED = 0,
    CDC_ES_ITEM_STALE,
    CDC_ES_ITEM_RETRY,
    CDC_ES_ITEM_REJECTED
} cdc_es_item_result_t;

/* Appends an item's action line, newline included; an index's document
 * line is the caller's to append (straight into the body, no copy). A
 * negative version sends it unversioned; an inclusive one (the event's
 * position_inclusive) as external_gte: it applies over an equal stored
 * version too. */
void cdc_es_bulk_action(cdc_buf_t *body, bool is_index, const char *index, const char *id,
                        int64_t version, bool inclusive);

/* Appends one item: its action line and, for an index, the document line
 * (doc is one line of JSON; NULL for a delete). A negative version sends
 * the item unversioned (a tombstone's delete). */
void cdc_es_bulk_item(cdc_buf_t *body, const char *index, const char *id,
                      int64_t version, bool inclusive, const char *doc, size_t doc_len);

/* The path of a _bulk request that answers only what the items need. */
#define CDC_ES_BULK_PATH \
    "/_bulk?filter_path=errors,items.*.status,items.*.error.type,items.*.error.reason"

typedef struct cdc_es_item_answer {
    cdc_es_item_result_t result;
    long status;
    char error_type[96];
    char reason[416];
} cdc_es_item_answer_t;

/* Reads the answer of a _bulk request of n items into answers[0..n).
 * -1 when the answer is not a _bulk answer of n items. */
int cdc_es_bulk_read(const char *json, size_t len, cdc_es_item_answer_t *answers, size_t n);

#endif
