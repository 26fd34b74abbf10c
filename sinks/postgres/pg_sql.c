#include "pg_sql.h"

#include <stdio.h>
#include <string.h>

void cdc_pg_sql_quote_ident(cdc_buf_t *out, const char *name)
{
    cdc_buf_putc(out, '"');
    for (const char *p = name; *p; p++) {
        if (*p == '"') cdc_buf_putc(out, '"');
        cdc_buf_putc(out, *p);
    }
    cdc_buf_putc(out, '"');
}

static void put_param(cdc_buf_t *sql, size_t n)
{
    char tmp[24];
    snprintf(tmp, sizeof tmp, "$%zu", n);
    cdc_buf_puts(sql, tmp);
}

static bool is_array_type(const char *type)
{
    size_t n = strlen(type);
    return n >= 2 && strcmp(type + n - 2, "[]") == 0;
}

/* unnest($1::T0[], ...) AS t(c0, ..., [pos], [ord]): each parameter is an
 * array of its column's type, so the server parses every value once, with
 * the type's own input function. A column that is itself an array travels
 * as text[] (its rows may differ in length, which a 2-D array cannot hold)
 * and is cast per row by put_col(). */
static void put_unnest(cdc_buf_t *sql, const cdc_pg_table_t *t,
                       const int *cols, size_t n, bool with_position,
                       bool with_ordinality)
{
    cdc_buf_puts(sql, "unnest(");
    for (size_t i = 0; i < n; i++) {
        const char *type = t->columns[cols[i]].type;
        if (i) cdc_buf_puts(sql, ", ");
        put_param(sql, i + 1);
        cdc_buf_puts(sql, "::");
        cdc_buf_puts(sql, is_array_type(type) ? "text" : type);
        cdc_buf_puts(sql, "[]");
    }
    if (with_position) {
        cdc_buf_puts(sql, ", ");
        put_param(sql, n + 1);
        cdc_buf_puts(sql, "::bigint[]");
    }
    cdc_buf_puts(sql, with_ordinality ? ") WITH ORDINALITY AS t(" : ") AS t(");
    for (size_t i = 0; i < n; i++) {
        char tmp[24];
        snprintf(tmp, sizeof tmp, "%sc%zu", i ? ", " : "", i);
        cdc_buf_puts(sql, tmp);
    }
    if (with_position) cdc_buf_puts(sql, ", pos");
    if (with_ordinality) cdc_buf_puts(sql, ", ord");
    cdc_buf_putc(sql, ')');
}

/* WITH t AS (SELECT * FROM unnest(...) WITH ORDINALITY ...) */
static void put_input(cdc_buf_t *sql, const cdc_pg_table_t *t,
                      const int *cols, size_t n, bool with_position)
{
    cdc_buf_puts(sql, "WITH t AS (SELECT * FROM ");
    put_unnest(sql, t, cols, n, with_position, true);
    cdc_buf_putc(sql, ')');
}

/* alias.cI, typed: array columns arrive as text and are cast here. */
static void put_col(cdc_buf_t *sql, const cdc_pg_table_t *t, const int *cols,
                    size_t i, const char *alias)
{
    char tmp[48];
    snprintf(tmp, sizeof tmp, "%s.c%zu", alias, i);
    cdc_buf_puts(sql, tmp);
    if (is_array_type(t->columns[cols[i]].type)) {
        cdc_buf_puts(sql, "::");
        cdc_buf_puts(sql, t->columns[cols[i]].type);
    }
}

/* Where in `cols` the primary key column `pk` is (it is always there). */
static size_t pk_slot(const int *cols, size_t n, int pk)
{
    for (size_t i = 0; i < n; i++)
        if (cols[i] == pk) return i;
    return 0;
}

/* ARRAY[t.c0::text, ...]: the key as the ledger stores it. */
static void put_ledger_key(cdc_buf_t *sql, const cdc_pg_table_t *t,
                           const int *cols, size_t n, const char *alias)
{
    cdc_buf_puts(sql, "ARRAY[");
    for (size_t k = 0; k < t->npk; k++) {
        if (k) cdc_buf_puts(sql, ", ");
        put_col(sql, t, cols, pk_slot(cols, n, t->pk[k]), alias);
        cdc_buf_puts(sql, "::text");
    }
    cdc_buf_putc(sql, ']');
}

/* t.cK = alias."pk" AND ... */
static void put_pk_match(cdc_buf_t *sql, const cdc_pg_table_t *t,
                         const int *cols, size_t n, const char *alias)
{
    for (size_t k = 0; k < t->npk; k++) {
        if (k) cdc_buf_puts(sql, " AND ");
        put_col(sql, t, cols, pk_slot(cols, n, t->pk[k]), "t");
        cdc_buf_puts(sql, " = ");
        cdc_buf_puts(sql, alias);
        cdc_buf_putc(sql, '.');
        cdc_pg_sql_quote_ident(sql, t->columns[t->pk[k]].name);
    }
}

/* "pk1", "pk2" — each name after `prefix` (e.g. "target."). */
static void put_pk_list(cdc_buf_t *sql, const cdc_pg_table_t *t,
                        const char *prefix)
{
    for (size_t k = 0; k < t->npk; k++) {
        if (k) cdc_buf_puts(sql, ", ");
        cdc_buf_puts(sql, prefix);
        cdc_pg_sql_quote_ident(sql, t->columns[t->pk[k]].name);
    }
}

static void put_column_list(cdc_buf_t *sql, const cdc_pg_table_t *t,
                            const int *cols, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (i) cdc_buf_puts(sql, ", ");
        cdc_pg_sql_quote_ident(sql, t->columns[cols[i]].name);
    }
}

/* INSERT ... SELECT <t's columns> FROM <source> ... ON CONFLICT ... DO
 * UPDATE ... WHERE <guard>: the upsert both statement forms share. The
 * source is the CTE t (precise) or the unnest itself (counted). */
static void put_guarded_insert(cdc_buf_t *sql, const cdc_pg_table_t *t,
                               const int *cols, size_t n, bool soft_delete,
                               bool ledger, bool counted, bool inclusive)
{
    const char *pos = t->columns[t->position_column].name;
    const char *del = t->deleted_column >= 0 ? t->columns[t->deleted_column].name : NULL;
    const char *flag = soft_delete ? "true" : "false";
    cdc_buf_puts(sql, "INSERT INTO ");
    cdc_buf_puts(sql, t->qualified);
    cdc_buf_puts(sql, " AS target (");
    put_column_list(sql, t, cols, n);
    cdc_buf_puts(sql, ", ");
    cdc_pg_sql_quote_ident(sql, pos);
    if (del) {
        cdc_buf_puts(sql, ", ");
        cdc_pg_sql_quote_ident(sql, del);
    }
    cdc_buf_puts(sql, ") SELECT ");
    for (size_t i = 0; i < n; i++) {
        put_col(sql, t, cols, i, "t");
        cdc_buf_puts(sql, ", ");
    }
    cdc_buf_puts(sql, "t.pos");
    if (del) {
        cdc_buf_puts(sql, ", ");
        cdc_buf_puts(sql, flag);
    }
    cdc_buf_puts(sql, " FROM ");
    if (counted) put_unnest(sql, t, cols, n, true, false);
    else cdc_buf_putc(sql, 't');
    if (ledger) {
        /* A row deleted at a newer position must not come back. */
        cdc_buf_puts(sql, " WHERE NOT EXISTS (SELECT 1 FROM cdcsink.tombstones tb"
                          " WHERE tb.target_table = ");
        put_param(sql, n + 2);
        cdc_buf_puts(sql, " AND tb.key = ");
        put_ledger_key(sql, t, cols, n, "t");
        cdc_buf_puts(sql, inclusive ? " AND tb.position > t.pos)" : " AND tb.position >= t.pos)");
    }
    cdc_buf_puts(sql, " ON CONFLICT (");
    put_pk_list(sql, t, "");
    cdc_buf_puts(sql, ") DO UPDATE SET ");
    cdc_pg_sql_quote_ident(sql, pos);
    cdc_buf_puts(sql, " = EXCLUDED.");
    cdc_pg_sql_quote_ident(sql, pos);
    if (del) {
        cdc_buf_puts(sql, ", ");
        cdc_pg_sql_quote_ident(sql, del);
        cdc_buf_puts(sql, " = ");
        cdc_buf_puts(sql, flag);
    }
    /* A soft delete keeps the row's values: its image may hold only the
     * key (REPLICA IDENTITY DEFAULT). */
    for (size_t i = 0; i < n && !soft_delete; i++) {
        cdc_buf_puts(sql, ", ");
        cdc_pg_sql_quote_ident(sql, t->columns[cols[i]].name);
        cdc_buf_puts(sql, " = EXCLUDED.");
        cdc_pg_sql_quote_ident(sql, t->columns[cols[i]].name);
    }
    /* A row without a position (loaded before cdcsink) takes any change. */
    cdc_buf_puts(sql, " WHERE (target.");
    cdc_pg_sql_quote_ident(sql, pos);
    cdc_buf_puts(sql, inclusive ? " <= EXCLUDED." : " < EXCLUDED.");
    cdc_pg_sql_quote_ident(sql, pos);
    cdc_buf_puts(sql, " OR target.");
    cdc_pg_sql_quote_ident(sql, pos);
    cdc_buf_puts(sql, " IS NULL)");
}

/* Counted: the command tag alone says how many rows changed. Precise: the
 * ordinals of the rows that changed, at the price of materializing the
 * input and joining it back (about half again the server time). */
static void build_upsert(cdc_buf_t *sql, const cdc_pg_table_t *t,
                         const int *cols, size_t n, bool soft_delete,
                         bool ledger, bool counted, bool inclusive)
{
    if (counted) {
        put_guarded_insert(sql, t, cols, n, soft_delete, ledger, true, inclusive);
        return;
    }
    put_input(sql, t, cols, n, true);
    cdc_buf_puts(sql, ", ins AS (");
    put_guarded_insert(sql, t, cols, n, soft_delete, ledger, false, inclusive);
    cdc_buf_puts(sql, " RETURNING ");
    put_pk_list(sql, t, "target.");
    cdc_buf_puts(sql, ") SELECT t.ord FROM t JOIN ins ON ");
    put_pk_match(sql, t, cols, n, "ins");
}

static void build_hard_delete(cdc_buf_t *sql, const cdc_pg_table_t *t,
                              const int *cols, size_t n, bool inclusive)
{
    const char *pos = t->columns[t->position_column].name;
    put_input(sql, t, cols, n, true);
    cdc_buf_puts(sql, ", del AS (DELETE FROM ");
    cdc_buf_puts(sql, t->qualified);
    cdc_buf_puts(sql, " AS target USING t WHERE ");
    put_pk_match(sql, t, cols, n, "target");
    cdc_buf_puts(sql, " AND (target.");
    cdc_pg_sql_quote_ident(sql, pos);
    cdc_buf_puts(sql, inclusive ? " <= t.pos" : " < t.pos");
    cdc_buf_puts(sql, " OR target.");
    cdc_pg_sql_quote_ident(sql, pos);
    cdc_buf_puts(sql, " IS NULL)");
    cdc_buf_puts(sql, " RETURNING 1), tomb AS (INSERT INTO "
                      "cdcsink.tombstones AS tb (target_table, key, position, "
                      "deleted_at) SELECT ");
    put_param(sql, n + 2);
    cdc_buf_puts(sql, ", ");
    put_ledger_key(sql, t, cols, n, "t");
    cdc_buf_puts(sql, ", t.pos, now() FROM t ON CONFLICT (target_table, key) "
                      "DO UPDATE SET position = EXCLUDED.position, deleted_at = "
                      "EXCLUDED.deleted_at WHERE tb.position ");
    cdc_buf_puts(sql, inclusive ? "<=" : "<");
    cdc_buf_puts(sql, " EXCLUDED.position RETURNING tb.key) SELECT t.ord FROM t JOIN "
                      "tomb ON tomb.key = ");
    put_ledger_key(sql, t, cols, n, "t");
    /* Applied unless the row holds something newer than the delete (the
     * CTEs' changes are not visible here: this sees the row as it was). */
    cdc_buf_puts(sql, " WHERE NOT EXISTS (SELECT 1 FROM ");
    cdc_buf_puts(sql, t->qualified);
    cdc_buf_puts(sql, " AS target WHERE ");
    put_pk_match(sql, t, cols, n, "target");
    cdc_buf_puts(sql, " AND target.");
    cdc_pg_sql_quote_ident(sql, pos);
    cdc_buf_puts(sql, inclusive ? " > t.pos)" : " >= t.pos)");
}

static void build_key_delete(cdc_buf_t *sql, const cdc_pg_table_t *t,
                             const int *cols, size_t n)
{
    put_input(sql, t, cols, n, false);
    cdc_buf_puts(sql, ", del AS (DELETE FROM ");
    cdc_buf_puts(sql, t->qualified);
    cdc_buf_puts(sql, " AS target USING t WHERE ");
    put_pk_match(sql, t, cols, n, "target");
    cdc_buf_puts(sql, " RETURNING ");
    put_pk_list(sql, t, "target.");
    cdc_buf_puts(sql, ") SELECT t.ord FROM t JOIN del ON ");
    put_pk_match(sql, t, cols, n, "del");
}

bool cdc_pg_sql_countable(cdc_action_t action)
{
    return action == CDC_ACTION_UPSERT || action == CDC_ACTION_SOFT_DELETE;
}

void cdc_pg_sql_build(cdc_buf_t *sql, const cdc_pg_table_t *t,
                      cdc_action_t action, const int *cols, size_t n,
                      bool ledger, bool counted, bool inclusive)
{
    counted = counted && cdc_pg_sql_countable(action);
    switch (action) {
    case CDC_ACTION_UPSERT: build_upsert(sql, t, cols, n, false, ledger, counted, inclusive); break;
    case CDC_ACTION_SOFT_DELETE: build_upsert(sql, t, cols, n, true, false, counted, inclusive); break;
    case CDC_ACTION_DELETE: build_hard_delete(sql, t, cols, n, inclusive); break;
    case CDC_ACTION_KEY_DELETE: build_key_delete(sql, t, cols, n); break;
    }
}
