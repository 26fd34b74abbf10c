#include "event.h"

#include <string.h>

const char *cdc_type_name(cdc_type_t type)
{
    static const char *const names[] = {
        [CDC_TYPE_BOOLEAN] = "boolean",
        [CDC_TYPE_INT16] = "int16",
        [CDC_TYPE_INT32] = "int32",
        [CDC_TYPE_INT64] = "int64",
        [CDC_TYPE_FLOAT32] = "float32",
        [CDC_TYPE_FLOAT64] = "float64",
        [CDC_TYPE_STRING] = "string",
        [CDC_TYPE_BYTES] = "bytes",
        [CDC_TYPE_DECIMAL] = "decimal",
        [CDC_TYPE_DATE] = "date",
        [CDC_TYPE_TIME_MILLIS] = "time-millis",
        [CDC_TYPE_TIME_MICROS] = "time-micros",
        [CDC_TYPE_TIME_NANOS] = "time-nanos",
        [CDC_TYPE_TIMESTAMP_MILLIS] = "timestamp-millis",
        [CDC_TYPE_TIMESTAMP_MICROS] = "timestamp-micros",
        [CDC_TYPE_TIMESTAMP_NANOS] = "timestamp-nanos",
        [CDC_TYPE_ZONED_TIMESTAMP] = "zoned-timestamp",
        [CDC_TYPE_ZONED_TIME] = "zoned-time",
        [CDC_TYPE_INTERVAL_MICROS] = "interval-micros",
        [CDC_TYPE_INTERVAL_STRING] = "interval-string",
        [CDC_TYPE_UUID] = "uuid",
        [CDC_TYPE_JSON] = "json",
        [CDC_TYPE_XML] = "xml",
        [CDC_TYPE_ENUM] = "enum",
        [CDC_TYPE_BITS] = "bits",
        [CDC_TYPE_ARRAY] = "array",
        [CDC_TYPE_MAP] = "map",
        [CDC_TYPE_RECORD] = "record",
    };
    if ((unsigned)type < sizeof names / sizeof names[0] && names[type])
        return names[type];
    return "unknown";
}

const char *cdc_op_name(cdc_op_t op)
{
    switch (op) {
    case CDC_OP_CREATE: return "c";
    case CDC_OP_UPDATE: return "u";
    case CDC_OP_DELETE: return "d";
    case CDC_OP_READ: return "r";
    case CDC_OP_TRUNCATE: return "t";
    case CDC_OP_TOMBSTONE: return "tombstone";
    case CDC_OP_CONTROL: return "control";
    }
    return "?";
}

int cdc_row_schema_find(const cdc_row_schema_t *schema, const char *name)
{
    if (!schema) return -1;
    for (size_t i = 0; i < schema->ncolumns; i++)
        if (strcmp(schema->columns[i].name, name) == 0) return (int)i;
    return -1;
}

const cdc_value_t *cdc_event_row(const cdc_event_t *event)
{
    return event->op == CDC_OP_DELETE ? event->before : event->after;
}
