/* render — change events and values as JSON, the way a person reads them.
 *
 * Decimals exact (strings), timestamps ISO-8601, bytes base64, JSON columns
 * embedded, unchanged TOASTed values as {"$unavailable":true}; the table
 * is in sinks/jsonl/README.md. Used by the jsonl sink and by `dlq inspect`
 * and `dlq replay`. Needs only event.h and a cdc_buf_t. */
#ifndef CDC_RENDER_H
#define CDC_RENDER_H

#include <stddef.h>

#include "buf.h"
#include "event.h"

/* Appends the JSON line of one event, WITHOUT the trailing newline:
 * {"topic":…,"partition":…,"offset":…,"op":…,"position":…,"ts_ms":…,
 *  "source":{"db":…,"schema":…,"table":…},"key":…,"before":…,"after":…}
 * Returns 0, or -1 when out of memory (buf->failed). */
int cdc_render_event(const cdc_event_t *ev, cdc_buf_t *buf);

/* Appends a row as a JSON object, column name → value in schema order;
 * `null` when row is NULL (or has no schema). Returns 0 or -1 (memory). */
int cdc_render_row(const cdc_row_schema_t *schema,
                         const cdc_value_t *row, cdc_buf_t *buf);

/* Appends one value. `column` gives what the value itself does not carry:
 * the field names of a RECORD and the element column of an ARRAY; it may be
 * NULL (a RECORD then renders as a JSON array of its items). The type is
 * taken from value->type. Returns 0 or -1 (memory). */
int cdc_render_value(const cdc_value_t *value,
                           const cdc_column_t *column, cdc_buf_t *buf);

/* Appends one value as plain text, the form a Redis hash field or a key
 * holds: text types as they are (no quotes, no escapes), JSON as its text,
 * dates, times, timestamps and base64 bytes as in JSON without the
 * quotes, numbers and booleans as in JSON, arrays and structs as JSON.
 * NULL renders as `null`. Returns 0 or -1 (memory). */
int cdc_render_text(const cdc_value_t *value, const cdc_column_t *column,
                    cdc_buf_t *buf);

/* Appends `len` bytes of text as a JSON string: quotes, escapes, invalid
 * UTF-8 replaced by \ufffd. Returns 0 or -1 (memory). */
int cdc_render_string(const char *text, size_t len,
                            cdc_buf_t *buf);

#endif
