/* jsonl — a sink that writes each change event as one JSON line
 * (src/render.h renders it).
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

#include "event.h"
#include "sink.h"



/* What open() does once it has the path: opens `path` for appending
 * ("-" = stdout) and allocates the sink state. Returns CDC_SINK_OK, or
 * CDC_SINK_FATAL with errstr naming the path. Exposed for tests and tools
 * that have no config file. */
cdc_sink_status_t cdc_jsonl_open_path(const char *path, void **state,
                                      char *errstr, size_t errstr_size);

/* The sink registered as "jsonl" (src/sink.c). */
extern const cdc_sink_ops_t cdc_jsonl_sink;

#endif
