/* pg_table — what the target tables look like, and making them so.
 *
 * Reads a table's columns, types and primary key from the catalog; creates
 * it from a change's schema (auto.create) and adds columns a newer writer
 * schema brings (auto.evolve). The catalog is the truth: statements cast
 * every value to the type the catalog names. */
#ifndef CDC_PG_TABLE_H
#define CDC_PG_TABLE_H

#include <libpq-fe.h>
#include <stdbool.h>

#include "event.h"
#include "pg_sql.h"

typedef enum cdc_pg_status {
    CDC_PG_OK = 0,
    CDC_PG_RETRY = 1,   /* connection-level trouble: try again later */
    CDC_PG_FATAL = 2,   /* permission, missing table/column, bad config */
    CDC_PG_MISSING = 3, /* the table does not exist */
    CDC_PG_LIMIT = 4    /* DDL beyond a PostgreSQL limit (SQLSTATE class 54:
                         * more than 1,600 columns, ...): the records that
                         * ask for it cannot be written, the others can */
} cdc_pg_status_t;

typedef struct cdc_pg_table_options {
    const char *position_column;
    const char *deleted_column;
    const char *const *pk_fields; /* NULL-terminated; NULL: the key's */
} cdc_pg_table_options_t;

/* Reads schema.name's columns and primary key from the catalog, whatever
 * table it is (a source table too: no position column needed). MISSING
 * when it does not exist. */
cdc_pg_status_t cdc_pg_table_read(PGconn *conn, const char *schema,
                                  const char *name, cdc_pg_table_t **out,
                                  char *errstr, size_t errstr_size);

/* Loads schema.name from the catalog into a new table. MISSING when it
 * does not exist; FATAL when it has no primary key or no position column. */
cdc_pg_status_t cdc_pg_table_load(PGconn *conn, const char *schema,
                                  const char *name,
                                  const cdc_pg_table_options_t *options,
                                  cdc_pg_table_t **out, char *errstr,
                                  size_t errstr_size);
void cdc_pg_table_free(cdc_pg_table_t *table);

/* CREATE TABLE IF NOT EXISTS from a change: its row columns, primary key
 * from options->pk_fields or the record key, plus the position and deleted
 * columns. sqlstate (6 bytes) receives the server's SQLSTATE of a failure,
 * "" otherwise. */
cdc_pg_status_t cdc_pg_table_create(PGconn *conn, const char *schema,
                                    const char *name,
                                    const cdc_pg_table_options_t *options,
                                    const cdc_event_t *event, char *sqlstate,
                                    char *errstr, size_t errstr_size);

/* One ALTER TABLE ADD COLUMN IF NOT EXISTS (nullable) for all `count`
 * columns: they are all added or none is. sqlstate as above. */
cdc_pg_status_t cdc_pg_table_add_columns(PGconn *conn,
                                         const cdc_pg_table_t *table,
                                         const cdc_column_t *const *columns,
                                         size_t count, char *sqlstate,
                                         char *errstr, size_t errstr_size);

/* The statements the two calls above send, built without a server (the
 * unit tests read them). Each begins with the sink's DDL advisory lock, so
 * replicas meeting the same missing object queue instead of failing.
 * create_sql returns how many primary-key columns it found (0: no key). */
size_t cdc_pg_table_create_sql(cdc_buf_t *sql, const char *quoted_schema,
                               const char *qualified,
                               const cdc_pg_table_options_t *options,
                               const cdc_event_t *event);
void cdc_pg_table_add_columns_sql(cdc_buf_t *sql, const cdc_pg_table_t *table,
                                  const cdc_column_t *const *columns,
                                  size_t count);

/* The PostgreSQL type auto.create gives a column (docs: the sink README). */
void cdc_pg_table_type_for(const cdc_column_t *column, cdc_buf_t *out);

/* Whether a column of catalog type `column_type` (format_type() text) can
 * take the values of record field `field` without a type change: the same
 * kind of type (any width or precision), a widening (integer into numeric,
 * anything into text), or a string into a type read from text (uuid, json,
 * numeric, dates...). A user-defined type or domain is never judged. */
bool cdc_pg_table_type_accepts(const char *column_type, const cdc_column_t *field);

/* Index of a column by name, or -1. */
int cdc_pg_table_find(const cdc_pg_table_t *table, const char *name);

/* Classifies a failed result: RETRY for connection, shutdown, resources,
 * serialization and deadlock; FATAL otherwise (callers that know better,
 * e.g. data errors in a batch, look at the SQLSTATE themselves). */
cdc_pg_status_t cdc_pg_classify(PGconn *conn, const PGresult *res);

#endif
