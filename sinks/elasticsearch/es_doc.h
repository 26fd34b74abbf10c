/* es_doc — the document an index or soft delete writes.
 *
 * The document is the row as the jsonl sink renders `after` (src/render.h).
 * Two cases need what the index already holds (fetched with _mget before
 * the bulk request; `stored` is that _source, NULL when there is none):
 *   - an unchanged TOASTed column (Debezium's placeholder) keeps the stored
 *     field's value, `null` when nothing is stored;
 *   - a soft delete writes the newest values known with `__deleted: true`:
 *     those of an upsert superseded in the same batch, else the stored
 *     document, else the delete's before image.
 * A stored value is copied as the raw JSON text the engine holds
 * (es_json.h), byte for byte. */
#ifndef CDC_ES_DOC_H
#define CDC_ES_DOC_H

#include <stdbool.h>

#include "buf.h"
#include "es_json.h"
#include "plan.h"

/* Whether writing the change needs the stored document. */
bool cdc_es_doc_needs_stored(const cdc_change_t *change);

/* Appends the document JSON; stored is the stored _source or NULL. -1
 * when out of memory. */
int cdc_es_doc_render(const cdc_change_t *change, const cdc_es_span_t *stored, cdc_buf_t *buf);

#endif
