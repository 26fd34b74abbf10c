/* pg_sql — the statements the PostgreSQL sink runs, as text.
 *
 * One statement writes one group of rows (same table, same action, same
 * column set) in one round trip: every column is an array parameter of the
 * column's catalog type (sent as an array literal), unnest()ed. A statement
 * comes in two forms:
 *   precise  returns the ordinals of the rows it really changed, so the
 *            caller can tell applied from stale;
 *   counted  (upserts only) returns just the command tag's row count, and
 *            costs the server about half as much; when the count is neither
 *            0 nor all, the caller rolls back and runs the precise form.
 * Identifiers come from the catalog or the configuration and are always
 * quoted; values are only parameters. */
#ifndef CDC_PG_SQL_H
#define CDC_PG_SQL_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"
#include "plan.h"

typedef struct cdc_pg_column {
    char *name;
    char *type;     /* format_type(): a valid SQL type expression */
    bool not_null;
    bool has_default;
} cdc_pg_column_t;

typedef struct cdc_pg_table {
    char *schema;
    char *name;
    char *qualified;        /* "schema"."name", quoted */
    cdc_pg_column_t *columns;
    size_t ncolumns;
    int *pk;                /* indexes into columns */
    size_t npk;
    int position_column;    /* index, or -1 */
    int deleted_column;     /* index, or -1 */
} cdc_pg_table_t;


/* Parameters: $1..$n are the arrays of `columns` (for deletes: the primary
 * key columns), $n+1 the positions (bigint[]; absent for KEY_DELETE), then
 * the ledger's table name (text) when `ledger`. `counted` asks for the
 * counted form; actions without one (see cdc_pg_sql_countable) ignore it.
 * `inclusive`: the rows' positions apply over equal stored ones too (the
 * event's position_inclusive; a statement holds rows of one kind). */
void cdc_pg_sql_build(cdc_buf_t *sql, const cdc_pg_table_t *table,
                      cdc_action_t action, const int *columns,
                      size_t ncolumns, bool ledger, bool counted, bool inclusive);

/* Whether the action has a counted form. */
bool cdc_pg_sql_countable(cdc_action_t action);

void cdc_pg_sql_quote_ident(cdc_buf_t *out, const char *name);

#endif
