/* envelope — where the parts of a change are inside a decoded value.
 *
 * Two shapes reach us. The Debezium envelope: {before, after, source, op,
 * ts_ms, transaction}. The flattened row of ExtractNewRecordState: the
 * columns plus metadata fields starting with "__" (__op, __lsn, __deleted,
 * __source_ts_ms, __table, __db, __schema). A plan is resolved once per
 * value schema; reading an event from a decoded value is then a handful of
 * array lookups. */
#ifndef CDC_ENVELOPE_H
#define CDC_ENVELOPE_H

#include <stdbool.h>

#include "arena.h"
#include "event.h"
#include "schema.h"

typedef struct cdc_envelope_plan cdc_envelope_plan_t;

/* The plan is allocated in the schema's own arena and lives as long as it.
 * NULL with errstr when the value schema is not a record. */
cdc_envelope_plan_t *cdc_envelope_plan_new(cdc_schema_t *value_schema,
                                           const char *position_field,
                                           char *errstr, size_t errstr_size);

/* False when position.field names no field of the value schema (and the
 * schema is no heartbeat or transaction record): nothing of its topic can
 * ever be applied guarded. */
bool cdc_envelope_plan_has_position(const cdc_envelope_plan_t *plan);

/* Fills op, row_schema, before/after, position and source fields of event
 * from a value decoded with the plan's schema. -1 with errstr when the
 * value is not a change event (e.g. an unknown op). */
int cdc_envelope_read(const cdc_envelope_plan_t *plan, const cdc_value_t *value,
                      cdc_arena_t *arena, cdc_event_t *event, char *errstr,
                      size_t errstr_size);

/* The key's columns: a record key gives its fields, any other key one
 * column named "key". */
const cdc_row_schema_t *cdc_envelope_key_schema(cdc_schema_t *key_schema);
const cdc_value_t *cdc_envelope_key_values(const cdc_schema_t *key_schema,
                                           const cdc_value_t *key,
                                           cdc_arena_t *arena);

#endif
