/* schema — compiles an Avro writer schema into a decoding plan.
 *
 * Debezium's logical types (io.debezium.time.MicroTimestamp, Decimal, ...)
 * travel as Kafka Connect properties on the Avro types ("connect.name",
 * "connect.parameters"). avro-c validates the schema but drops those
 * properties, so the JSON is also read with libbson to build a plan whose
 * nodes carry both the Avro encoding and the semantic cdc_type_t
 * (docs/decisions.md). A compiled schema is immutable and shared by every
 * event decoded with it. */
#ifndef CDC_SCHEMA_H
#define CDC_SCHEMA_H

#include <stdbool.h>
#include <stddef.h>

#include "arena.h"
#include "event.h"

typedef enum cdc_avro_kind {
    CDC_AVRO_NULL,
    CDC_AVRO_BOOLEAN,
    CDC_AVRO_INT,
    CDC_AVRO_LONG,
    CDC_AVRO_FLOAT,
    CDC_AVRO_DOUBLE,
    CDC_AVRO_BYTES,
    CDC_AVRO_STRING,
    CDC_AVRO_RECORD,
    CDC_AVRO_ENUM,
    CDC_AVRO_ARRAY,
    CDC_AVRO_MAP,
    CDC_AVRO_UNION,
    CDC_AVRO_FIXED
} cdc_avro_kind_t;

typedef struct cdc_schema_node cdc_schema_node_t;

struct cdc_schema_node {
    cdc_avro_kind_t kind;
    cdc_type_t type;        /* what the decoded value is */
    int precision, scale;   /* DECIMAL; scale < 0: variable scale */
    int length;             /* BITS: bits; FIXED: bytes */
    bool variable_decimal;  /* io.debezium.data.VariableScaleDecimal record */
    const char *name;       /* full name of named types */
    size_t count;           /* fields, branches or symbols */
    cdc_schema_node_t **children; /* field types, branches, or [items] */
    const char **names;     /* field names or enum symbols */
    bool *has_default;      /* RECORD: per field */
    /* RECORD: per field, set by whoever reads the decoded values (the
     * envelope plan) when nothing reads that field: decoding steps over
     * it and leaves it NULL. NULL: every field is read. */
    bool *unread;
    int null_branch;        /* UNION: index of "null" or -1 */
    cdc_row_schema_t *row;  /* RECORD: the columns as sinks see them */
};

typedef struct cdc_schema {
    cdc_arena_t arena; /* owns every node, name and column */
    cdc_schema_node_t *root;
} cdc_schema_t;

/* NULL with errstr on a schema that is not valid Avro. */
cdc_schema_t *cdc_schema_compile(const char *json, size_t len, char *errstr,
                                 size_t errstr_size);
void cdc_schema_destroy(cdc_schema_t *schema);

/* Index of a record field by name, or -1. */
int cdc_schema_field_index(const cdc_schema_node_t *record, const char *name);
/* A union's non-null branch if it has exactly one; otherwise the node. */
const cdc_schema_node_t *cdc_schema_unwrap_optional(
    const cdc_schema_node_t *node);

#endif
