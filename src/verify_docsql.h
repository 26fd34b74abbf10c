/* verify_docsql — a source table as `cdcsink verify` reads it for a sink
 * that keeps documents (Redis, Elasticsearch/OpenSearch): its columns and
 * key from the source's catalog, and the SQL, run by the source server,
 * that
 *   - names its keys the way ${key} names them (src/route.h),
 *   - compares stored documents with its rows, column by column, each
 *     document member read back as the column's type (decimals by value,
 *     timestamps as instants, bytes from base64, JSON as jsonb, arrays
 *     element by element), so that a document equals its row when it
 *     holds the same values, whatever the text they were written as,
 *   - renders a row as the document the sinks write (--repair), in the
 *     form of sinks/jsonl/README.md for the common types.
 * Columns of a type that has no equality or no text the documents share
 * with PostgreSQL (geometric types, bit strings, hstore and other
 * extension types) are not compared; docs/operations.md says so.
 *
 * Parameters of the compare and exists statements: one text[] per key
 * column (the ${key} parts, unescaped; NULL for \N), then, for compare,
 * one jsonb[] of documents (NULL when the store holds none).
 * Internal to src/verify_doc.c. */
#ifndef CDC_VERIFY_DOCSQL_H
#define CDC_VERIFY_DOCSQL_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct cdc_docsql_column {
    char *name;
    char *type;       /* format_type(): int4, numeric(10,2), text[] ... */
    char category;    /* pg_type.typcategory */
    char kind;        /* how it is compared (verify_docsql.c) */
    bool compared;    /* false: a type the documents cannot be compared on */
} cdc_docsql_column_t;

typedef struct cdc_docsql_table {
    char *qualified;  /* "schema"."table" */
    cdc_docsql_column_t *cols;
    size_t ncols;
    size_t *keys;     /* indexes of the key columns, in key order */
    size_t nkeys;
    size_t uncompared; /* columns not compared */
    char *keyset_sql;   /* $1..$n: the last key's raw texts ($1 NULL: from the start) */
    char *sample_sql;   /* $1: percent, $2: limit */
    char *compare_sql;
    char *exists_sql;   /* the ordinals of the keys the source lacks */
    char *render_sql;   /* the row of a key as a document; no row: none */
} cdc_docsql_table_t;

/* Reads the table from the catalog and builds its statements. key_fields
 * (pk.fields, comma-separated) names the key of a table without a primary
 * key; textual: the documents hold every value as text (a Redis hash),
 * else as JSON (an absent member is then a column the document does not
 * carry, not compared). NULL with errstr. */
cdc_docsql_table_t *cdc_docsql_table_load(PGconn *source, const char *schema,
                                          const char *table, const char *key_fields,
                                          bool textual, char *errstr,
                                          size_t errstr_size);
void cdc_docsql_table_free(cdc_docsql_table_t *t);

#endif
