/* event — the change-event model every sink sees.
 *
 * The decoder turns one Kafka record (Debezium envelope, flattened
 * ExtractNewRecordState value, or tombstone) into a cdc_event_t. Rows are
 * arrays of cdc_value_t parallel to the columns of a cdc_row_schema_t.
 * Strings, bytes and arrays point into the batch's arena; schemas are owned
 * by the decoder's cache and outlive every batch. */
#ifndef CDC_EVENT_H
#define CDC_EVENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* What a column holds, after Debezium's logical types are applied. */
typedef enum cdc_type {
    CDC_TYPE_BOOLEAN,
    CDC_TYPE_INT16,
    CDC_TYPE_INT32,
    CDC_TYPE_INT64,
    CDC_TYPE_FLOAT32,
    CDC_TYPE_FLOAT64,
    CDC_TYPE_STRING,
    CDC_TYPE_BYTES,
    CDC_TYPE_DECIMAL,          /* text in .str: exact, e.g. "-12.50" */
    CDC_TYPE_DATE,             /* .i: days since 1970-01-01 */
    CDC_TYPE_TIME_MILLIS,      /* .i: ms since midnight */
    CDC_TYPE_TIME_MICROS,      /* .i: µs since midnight */
    CDC_TYPE_TIME_NANOS,       /* .i: ns since midnight */
    CDC_TYPE_TIMESTAMP_MILLIS, /* .i: ms since epoch, no zone */
    CDC_TYPE_TIMESTAMP_MICROS, /* .i: µs since epoch, no zone */
    CDC_TYPE_TIMESTAMP_NANOS,  /* .i: ns since epoch, no zone */
    CDC_TYPE_ZONED_TIMESTAMP,  /* .str: ISO-8601 with offset, as Debezium wrote it */
    CDC_TYPE_ZONED_TIME,       /* .str: ISO-8601 time with offset */
    CDC_TYPE_INTERVAL_MICROS,  /* .i: MicroDuration, µs (a month = 30 days) */
    CDC_TYPE_INTERVAL_STRING,  /* .str: ISO-8601 duration (interval.handling.mode=string) */
    CDC_TYPE_UUID,             /* .str */
    CDC_TYPE_JSON,             /* .str: JSON text */
    CDC_TYPE_XML,              /* .str */
    CDC_TYPE_ENUM,             /* .str: the label */
    CDC_TYPE_BITS,             /* .bytes: little-endian bit string as Connect writes it */
    CDC_TYPE_ARRAY,            /* .array */
    CDC_TYPE_MAP,              /* .array of key/value pairs (2n items) */
    CDC_TYPE_RECORD            /* .array: nested struct, items parallel to fields */
} cdc_type_t;

typedef struct cdc_row_schema cdc_row_schema_t;

typedef struct cdc_column {
    const char *name;
    cdc_type_t type;
    bool optional;
    int precision;     /* Decimal: connect.decimal.precision, 0 if unknown */
    int scale;         /* Decimal: scale */
    int length;        /* Bits: number of bits; strings: 0 */
    cdc_type_t element_type; /* ARRAY: type of the items */
    bool has_default;  /* the writer schema gives a default */
    const cdc_row_schema_t *fields; /* RECORD: nested fields */
} cdc_column_t;

struct cdc_row_schema {
    const char *name;   /* Avro full name, e.g. "cdc.public.orders.Value" */
    size_t ncolumns;
    const cdc_column_t *columns;
};

typedef struct cdc_value cdc_value_t;

struct cdc_value {
    cdc_type_t type;
    bool is_null;
    /* Debezium's __debezium_unavailable_value: an unchanged TOASTed column.
     * Sinks must leave the stored value alone. */
    bool unavailable;
    union {
        bool b;
        int64_t i;
        double d;
        struct {
            const char *ptr; /* NUL-terminated for text types */
            size_t len;
        } str;
        struct {
            const cdc_value_t *items;
            size_t count;
        } array;
    } u;
};

typedef enum cdc_op {
    CDC_OP_CREATE = 'c',
    CDC_OP_UPDATE = 'u',
    CDC_OP_DELETE = 'd',
    CDC_OP_READ = 'r',      /* snapshot: applied like an insert */
    CDC_OP_TRUNCATE = 't',  /* table truncated (not applied by default) */
    CDC_OP_TOMBSTONE = 'T', /* Kafka tombstone: null value */
    /* No change of a row: a heartbeat, a transaction boundary, a logical
     * decoding message (op=m). Skipped; control_kind says which. */
    CDC_OP_CONTROL = 'x'
} cdc_op_t;

/* Which snapshot a record belongs to (Debezium's source.snapshot). */
typedef enum cdc_snapshot_kind {
    CDC_SNAPSHOT_NONE = 0,    /* "false" or absent: streamed from the log */
    CDC_SNAPSHOT_FULL,        /* true/first/last/...: an initial, re-, or blocking snapshot */
    CDC_SNAPSHOT_INCREMENTAL  /* a chunk of a signalled incremental snapshot */
} cdc_snapshot_kind_t;

typedef struct cdc_event {
    /* Where the record came from; the raw bytes stay valid for the batch. */
    const char *topic;
    int32_t partition;
    int64_t offset;
    int64_t kafka_timestamp_ms;
    const void *raw_key;
    size_t raw_key_len;
    const void *raw_value;
    size_t raw_value_len;

    cdc_op_t op;

    /* The record key: one value per key column (NULL when the record has
     * no key). */
    const cdc_row_schema_t *key_schema;
    const cdc_value_t *key;

    /* before/after rows, parallel to row_schema (either may be NULL). */
    const cdc_row_schema_t *row_schema;
    const cdc_value_t *before;
    const cdc_value_t *after;

    /* The guard (docs/semantics.md, "Snapshots and the stream"): every
     * sink stores `position` with what it writes and applies a change only
     * over a smaller stored position, or over an equal one when
     * position_inclusive. cdc_position_resolve() sets them from what the
     * record carried (below); until then position is the raw value. */
    bool has_position;
    int64_t position;
    bool position_inclusive;

    /* What the record carried: position.field's value (source.lsn: where
     * the change was written), source.sequence's first member (the commit
     * of the transaction before this one), and which snapshot it is of.
     * commit_ordered: a PostgreSQL envelope read with the default
     * position.field, for which the snapshot rules apply. */
    int64_t change_lsn;
    bool has_last_commit;
    int64_t last_commit_lsn;
    cdc_snapshot_kind_t snapshot_kind;
    bool commit_ordered;

    int64_t source_ts_ms;       /* 0 when unknown */
    const char *source_db;      /* "" when unknown */
    const char *source_schema;
    const char *source_table;
    const char *control_kind;   /* CDC_OP_CONTROL: "heartbeat", "transaction", "message" */
} cdc_event_t;

const char *cdc_type_name(cdc_type_t type);
const char *cdc_op_name(cdc_op_t op);

/* Index of a column by name, or -1. */
int cdc_row_schema_find(const cdc_row_schema_t *schema, const char *name);

/* The row a sink writes: after for c/u/r, before for d (may be NULL). */
const cdc_value_t *cdc_event_row(const cdc_event_t *event);

#endif
