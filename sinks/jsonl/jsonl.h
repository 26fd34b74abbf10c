/* jsonl — a sink that writes each change event as one JSON line.
 *
 * The sink appends to the file named by `jsonl.path` ("-" = stdout) and
 * makes every batch durable (write + fsync) before apply() returns OK, since
 * the core commits the Kafka offsets right after. Every event, tombstones
 * included, comes back APPLIED. sinks/jsonl/README.md documents the line
 * shape and how each column type is rendered.
 *
 * The renderer is usable on its own (e.g. by `dlq inspect`): it needs only
 * event.h and a cdc_buf_t, never a sink state. */
#ifndef CDC_JSONL_H
#define CDC_JSONL_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"
#include "event.h"
#include "sink.h"

/* Appends the JSON line of one event, WITHOUT the trailing newline:
 * {"topic":…,"partition":…,"offset":…,"op":…,"position":…,"ts_ms":…,
 *  "source":{"db":…,"schema":…,"table":…},"key":…,"before":…,"after":…}
 * Returns 0, or -1 when out of memory (buf->failed). */
int cdc_jsonl_render_event(const cdc_event_t *ev, cdc_buf_t *buf);

/* Appends a row as a JSON object, column name → value in schema order;
 * `null` when row is NULL (or has no schema). Returns 0 or -1 (memory). */
int cdc_jsonl_render_row(const cdc_row_schema_t *schema,
                         const cdc_value_t *row, cdc_buf_t *buf);

/* Appends one value. `column` gives what the value itself does not carry:
 * the field names of a RECORD and the element column of an ARRAY; it may be
 * NULL (a RECORD then renders as a JSON array of its items). The type is
 * taken from value->type. Returns 0 or -1 (memory). */
int cdc_jsonl_render_value(const cdc_value_t *value,
                           const cdc_column_t *column, cdc_buf_t *buf);

/* Appends `len` bytes of text as a JSON string: quotes, escapes, invalid
 * UTF-8 replaced by \ufffd. Returns 0 or -1 (memory). */
int cdc_jsonl_render_string(const char *text, size_t len,
                            cdc_buf_t *buf);

/* What open() does once it has the path: opens `path` for appending
 * ("-" = stdout) and allocates the sink state. Returns CDC_SINK_OK, or
 * CDC_SINK_FATAL with errstr naming the path. Exposed for tests and tools
 * that have no config file. */
int cdc_jsonl_open_path(const char *path, void **state, char *errstr,
                        size_t errstr_size);

/* The sink registered as "jsonl" (src/sink.c). */
extern const cdc_sink_ops_t cdc_jsonl_sink;

#endif
