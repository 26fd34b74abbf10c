/* es_mapping — index mappings derived from the Avro row schema.
 *
 * Each column gets a field type from its cdc_type_t (the table in
 * sinks/elasticsearch/README.md), never from dynamic guessing; an index
 * cdcsink creates also gets `__deleted` (boolean) for soft deletes. When
 * an index exists, a column's field is compared with what cdcsink would
 * map: a field of another family (a number where text would go, ...) or a
 * narrower number is a conflict, and the records of that schema are
 * rejected with class `schema` rather than sent to fail one by one. */
#ifndef CDC_ES_MAPPING_H
#define CDC_ES_MAPPING_H

#include <stdbool.h>

#include "buf.h"
#include "event.h"

/* The field name soft deletes set. */
#define CDC_ES_DELETED_FIELD "__deleted"

/* Appends the mapping of one column: {"type":"long"} etc. */
void cdc_es_mapping_field(const cdc_column_t *column, cdc_buf_t *buf);

/* The type name a column maps to ("long", "text", ...). */
const char *cdc_es_mapping_type(const cdc_column_t *column);

/* Appends {"properties":{...}} for every column of the schema (and
 * __deleted when with_deleted). */
void cdc_es_mapping_properties(const cdc_row_schema_t *schema, bool with_deleted,
                               cdc_buf_t *buf);

/* Whether an existing field of type `existing` takes the values of a
 * column cdcsink maps to `wanted`. */
bool cdc_es_mapping_compatible(const char *existing, const char *wanted);

#endif
