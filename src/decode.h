/* decode — one Kafka record (Confluent framing + Avro) → one cdc_event_t.
 *
 * Understands the Debezium envelope (before/after/source/op/ts_ms), the
 * flattened value of ExtractNewRecordState (__op, __lsn, __deleted, ...),
 * keys, and tombstones. Schemas come from the registry and are compiled once
 * per id. Every failure is classified the way docs/semantics.md, "Errors" wants: a record
 * that can never decode is DATA (→ DLQ), a registry that cannot be reached
 * is RETRY, bad registry credentials are FATAL. */
#ifndef CDC_DECODE_H
#define CDC_DECODE_H

#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "event.h"
#include "config.h"
#include "registry.h"
#include "schema.h"

typedef enum cdc_decode_status {
    CDC_DECODE_OK = 0,
    CDC_DECODE_DATA_ERROR = 1,
    CDC_DECODE_RETRY = 2,
    CDC_DECODE_FATAL = 3
} cdc_decode_status_t;

typedef struct cdc_decoder cdc_decoder_t;

/* position_field: dotted path into the value, e.g. "source.lsn" (the
 * default) or "__lsn". For flattened values "source.lsn" means "__lsn".
 * The registry is borrowed, not owned. */
/* A pipeline that writes guarded (not a log, not `dlq inspect` or
 * `replay`) stops at a value schema position.field names no field of:
 * every record of its topic would go to the DLQ. */
void cdc_decoder_require_position(cdc_decoder_t *decoder, bool require);

cdc_decoder_t *cdc_decoder_new(cdc_registry_t *registry,
                               const char *position_field);
void cdc_decoder_destroy(cdc_decoder_t *decoder);

/* Decodes key and value (either may be NULL; a NULL value is a tombstone)
 * into *event, allocating in arena. The topic and raw pointers are stored
 * as given: they must outlive the event. */
cdc_decode_status_t cdc_decoder_decode(cdc_decoder_t *decoder,
                                       const void *key, size_t key_len,
                                       const void *value, size_t value_len,
                                       cdc_arena_t *arena, cdc_event_t *event,
                                       char *errstr, size_t errstr_size);

/* The Avro body of one framed datum, decoded against a compiled schema node
 * (exposed for tests and tools). */
int cdc_decode_avro(const cdc_schema_node_t *node, const uint8_t *data,
                    size_t len, cdc_arena_t *arena, cdc_value_t *out,
                    char *errstr, size_t errstr_size);

/* The placeholder Debezium writes for unchanged TOASTed columns. */
#define CDC_UNAVAILABLE_PLACEHOLDER "__debezium_unavailable_value"

/* The registry client (schema.registry.*) and the decoder (position.field)
 * of cfg's pipeline. On failure both are NULL and errstr says why. */
int cdc_decoder_from_config(const cdc_config_t *cfg, cdc_registry_t **registry,
                            cdc_decoder_t **decoder, char *errstr,
                            size_t errstr_size);

#endif
