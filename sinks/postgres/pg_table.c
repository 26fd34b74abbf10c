#include "pg_table.h"

#include <stdlib.h>
#include <string.h>

#include "errstr.h"

static const char *const catalog_sql =
    "SELECT a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull, "
    "a.atthasdef, COALESCE(a.attnum = ANY(i.indkey), false) "
    "FROM pg_attribute a "
    "JOIN pg_class c ON c.oid = a.attrelid "
    "JOIN pg_namespace n ON n.oid = c.relnamespace "
    "LEFT JOIN pg_index i ON i.indrelid = c.oid AND i.indisprimary "
    "WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind IN ('r', 'p') "
    "AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum";

cdc_pg_status_t cdc_pg_classify(PGconn *conn, const PGresult *res)
{
    if (PQstatus(conn) == CONNECTION_BAD) return CDC_PG_RETRY;
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    if (!state) return CDC_PG_RETRY; /* no answer at all: the connection */
    if (strncmp(state, "08", 2) == 0 || strncmp(state, "53", 2) == 0 ||
        strcmp(state, "40001") == 0 || strcmp(state, "40P01") == 0 ||
        strcmp(state, "57P01") == 0 || strcmp(state, "57P02") == 0 ||
        strcmp(state, "57P03") == 0 || strcmp(state, "55P03") == 0)
        return CDC_PG_RETRY;
    return CDC_PG_FATAL;
}

static int pg_error(char *errstr, size_t errstr_size, const char *what,
                    PGconn *conn, const PGresult *res)
{
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    const char *msg = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    return cdc_errstr_set(errstr, errstr_size, "%s: %s%s%s%s", what,
                          state ? "SQLSTATE " : "", state ? state : "",
                          state ? ": " : "", msg ? msg : PQerrorMessage(conn));
}

void cdc_pg_table_free(cdc_pg_table_t *t)
{
    if (!t) return;
    for (size_t i = 0; i < t->ncolumns; i++) {
        free(t->columns[i].name);
        free(t->columns[i].type);
    }
    free(t->columns);
    free(t->pk);
    free(t->schema);
    free(t->name);
    free(t->qualified);
    free(t);
}

int cdc_pg_table_find(const cdc_pg_table_t *t, const char *name)
{
    for (size_t i = 0; i < t->ncolumns; i++)
        if (strcmp(t->columns[i].name, name) == 0) return (int)i;
    return -1;
}

static char *qualified_name(const char *schema, const char *name)
{
    cdc_buf_t b;
    cdc_buf_init(&b);
    cdc_pg_sql_quote_ident(&b, schema);
    cdc_buf_putc(&b, '.');
    cdc_pg_sql_quote_ident(&b, name);
    return b.data;
}

static cdc_pg_table_t *table_from_result(const PGresult *res,
                                         const char *schema, const char *name)
{
    cdc_pg_table_t *t = calloc(1, sizeof *t);
    int rows = PQntuples(res);
    t->schema = strdup(schema);
    t->name = strdup(name);
    t->qualified = qualified_name(schema, name);
    t->columns = calloc((size_t)rows + 1, sizeof *t->columns);
    t->pk = calloc((size_t)rows + 1, sizeof *t->pk);
    t->ncolumns = (size_t)rows;
    for (int r = 0; r < rows; r++) {
        cdc_pg_column_t *c = &t->columns[r];
        c->name = strdup(PQgetvalue(res, r, 0));
        c->type = strdup(PQgetvalue(res, r, 1));
        c->not_null = PQgetvalue(res, r, 2)[0] == 't';
        c->has_default = PQgetvalue(res, r, 3)[0] == 't';
        if (PQgetvalue(res, r, 4)[0] == 't') t->pk[t->npk++] = r;
    }
    return t;
}

cdc_pg_status_t cdc_pg_table_read(PGconn *conn, const char *schema,
                                  const char *name, cdc_pg_table_t **out,
                                  char *errstr, size_t errstr_size)
{
    const char *params[2] = {schema, name};
    PGresult *res = PQexecParams(conn, catalog_sql, 2, NULL, params, NULL,
                                 NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        cdc_pg_status_t s = cdc_pg_classify(conn, res);
        pg_error(errstr, errstr_size, "reading the catalog", conn, res);
        PQclear(res);
        return s;
    }
    if (PQntuples(res) == 0) {
        PQclear(res);
        cdc_errstr_set(errstr, errstr_size, "table \"%s\".\"%s\" does not exist",
                       schema, name);
        return CDC_PG_MISSING;
    }
    *out = table_from_result(res, schema, name);
    PQclear(res);
    (*out)->position_column = (*out)->deleted_column = -1;
    return CDC_PG_OK;
}

cdc_pg_status_t cdc_pg_table_load(PGconn *conn, const char *schema,
                                  const char *name,
                                  const cdc_pg_table_options_t *o,
                                  cdc_pg_table_t **out, char *errstr,
                                  size_t errstr_size)
{
    cdc_pg_table_t *t = NULL;
    cdc_pg_status_t st = cdc_pg_table_read(conn, schema, name, &t, errstr, errstr_size);
    if (st == CDC_PG_MISSING)
        cdc_errstr_set(errstr, errstr_size,
                       "table \"%s\".\"%s\" does not exist (create it, or set "
                       "auto.create=true)", schema, name);
    if (st != CDC_PG_OK) return st;
    t->position_column = cdc_pg_table_find(t, o->position_column);
    t->deleted_column = cdc_pg_table_find(t, o->deleted_column);
    if (t->npk == 0 || t->position_column < 0) {
        cdc_errstr_set(errstr, errstr_size,
                       t->npk == 0
                           ? "table %s has no primary key: cdcsink upserts by it"
                           : "table %s has no column \"%s\" (position.column): "
                             "add it as bigint, or let auto.create make the table",
                       t->qualified, o->position_column);
        cdc_pg_table_free(t);
        return CDC_PG_FATAL;
    }
    *out = t;
    return CDC_PG_OK;
}

void cdc_pg_table_type_for(const cdc_column_t *c, cdc_buf_t *out)
{
    char tmp[64];
    switch (c->type) {
    case CDC_TYPE_BOOLEAN: cdc_buf_puts(out, "boolean"); break;
    case CDC_TYPE_INT16: cdc_buf_puts(out, "smallint"); break;
    case CDC_TYPE_INT32: cdc_buf_puts(out, "integer"); break;
    case CDC_TYPE_INT64: cdc_buf_puts(out, "bigint"); break;
    case CDC_TYPE_FLOAT32: cdc_buf_puts(out, "real"); break;
    case CDC_TYPE_FLOAT64: cdc_buf_puts(out, "double precision"); break;
    case CDC_TYPE_BYTES: cdc_buf_puts(out, "bytea"); break;
    case CDC_TYPE_DECIMAL:
        if (c->precision > 0 && c->scale >= 0) {
            snprintf(tmp, sizeof tmp, "numeric(%d,%d)", c->precision, c->scale);
            cdc_buf_puts(out, tmp);
        } else {
            cdc_buf_puts(out, "numeric");
        }
        break;
    case CDC_TYPE_DATE: cdc_buf_puts(out, "date"); break;
    case CDC_TYPE_TIME_MILLIS: cdc_buf_puts(out, "time(3)"); break;
    case CDC_TYPE_TIME_MICROS:
    case CDC_TYPE_TIME_NANOS: cdc_buf_puts(out, "time"); break;
    case CDC_TYPE_TIMESTAMP_MILLIS: cdc_buf_puts(out, "timestamp(3)"); break;
    case CDC_TYPE_TIMESTAMP_MICROS:
    case CDC_TYPE_TIMESTAMP_NANOS: cdc_buf_puts(out, "timestamp"); break;
    case CDC_TYPE_ZONED_TIMESTAMP: cdc_buf_puts(out, "timestamptz"); break;
    case CDC_TYPE_ZONED_TIME: cdc_buf_puts(out, "timetz"); break;
    case CDC_TYPE_INTERVAL_MICROS:
    case CDC_TYPE_INTERVAL_STRING: cdc_buf_puts(out, "interval"); break;
    case CDC_TYPE_UUID: cdc_buf_puts(out, "uuid"); break;
    case CDC_TYPE_JSON: cdc_buf_puts(out, "jsonb"); break;
    case CDC_TYPE_XML: cdc_buf_puts(out, "xml"); break;
    case CDC_TYPE_BITS: cdc_buf_puts(out, "bit varying"); break;
    case CDC_TYPE_ARRAY: {
        /* PostgreSQL's arrays have any number of dimensions; the type of
         * an array of arrays' innermost items is not known here. */
        if (c->element_type == CDC_TYPE_ARRAY) {
            cdc_buf_puts(out, "text[]");
            break;
        }
        cdc_column_t element = {.type = c->element_type};
        cdc_pg_table_type_for(&element, out);
        cdc_buf_puts(out, "[]");
        break;
    }
    case CDC_TYPE_MAP:
    case CDC_TYPE_RECORD: cdc_buf_puts(out, "jsonb"); break;
    default: cdc_buf_puts(out, "text"); /* string, enum */
    }
}

typedef enum type_kind {
    KIND_OTHER, /* user-defined, domain, or not judged */
    KIND_TEXT, KIND_INT, KIND_FLOAT, KIND_NUMERIC, KIND_BOOL, KIND_BYTES,
    KIND_DATE, KIND_TIME, KIND_TIMESTAMP, KIND_INTERVAL, KIND_UUID,
    KIND_JSON, KIND_XML, KIND_BITS, KIND_ARRAY
} type_kind_t;

static bool starts(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

static type_kind_t column_kind(const char *type)
{
    size_t n = strlen(type);
    if (n >= 2 && strcmp(type + n - 2, "[]") == 0) return KIND_ARRAY;
    static const struct { const char *prefix; type_kind_t kind; } kinds[] = {
        {"smallint", KIND_INT}, {"integer", KIND_INT}, {"bigint", KIND_INT},
        {"real", KIND_FLOAT}, {"double precision", KIND_FLOAT},
        {"numeric", KIND_NUMERIC}, {"boolean", KIND_BOOL}, {"bytea", KIND_BYTES},
        {"date", KIND_DATE}, {"timestamp", KIND_TIMESTAMP}, {"time", KIND_TIME},
        {"interval", KIND_INTERVAL}, {"uuid", KIND_UUID}, {"json", KIND_JSON},
        {"xml", KIND_XML}, {"bit", KIND_BITS}, {"text", KIND_TEXT},
        {"character", KIND_TEXT}, {"name", KIND_TEXT}, {"citext", KIND_TEXT},
    };
    for (size_t i = 0; i < sizeof kinds / sizeof *kinds; i++)
        if (starts(type, kinds[i].prefix)) return kinds[i].kind;
    return KIND_OTHER;
}

static type_kind_t field_kind(cdc_type_t type)
{
    switch (type) {
    case CDC_TYPE_BOOLEAN: return KIND_BOOL;
    case CDC_TYPE_INT16: case CDC_TYPE_INT32: case CDC_TYPE_INT64: return KIND_INT;
    case CDC_TYPE_FLOAT32: case CDC_TYPE_FLOAT64: return KIND_FLOAT;
    case CDC_TYPE_DECIMAL: return KIND_NUMERIC;
    case CDC_TYPE_BYTES: return KIND_BYTES;
    case CDC_TYPE_DATE: return KIND_DATE;
    case CDC_TYPE_TIME_MILLIS: case CDC_TYPE_TIME_MICROS:
    case CDC_TYPE_TIME_NANOS: case CDC_TYPE_ZONED_TIME: return KIND_TIME;
    case CDC_TYPE_TIMESTAMP_MILLIS: case CDC_TYPE_TIMESTAMP_MICROS:
    case CDC_TYPE_TIMESTAMP_NANOS: case CDC_TYPE_ZONED_TIMESTAMP: return KIND_TIMESTAMP;
    case CDC_TYPE_INTERVAL_MICROS: case CDC_TYPE_INTERVAL_STRING: return KIND_INTERVAL;
    case CDC_TYPE_UUID: return KIND_UUID;
    case CDC_TYPE_JSON: case CDC_TYPE_MAP: case CDC_TYPE_RECORD: return KIND_JSON;
    case CDC_TYPE_XML: return KIND_XML;
    case CDC_TYPE_BITS: return KIND_BITS;
    case CDC_TYPE_ARRAY: return KIND_ARRAY;
    default: return KIND_TEXT; /* string, enum */
    }
}

bool cdc_pg_table_type_accepts(const char *column_type, const cdc_column_t *field)
{
    type_kind_t col = column_kind(column_type), f = field_kind(field->type);
    if (col == KIND_OTHER || col == KIND_TEXT || col == f) return true;
    switch (f) {
    case KIND_INT: return col == KIND_NUMERIC || col == KIND_FLOAT;
    case KIND_FLOAT: return col == KIND_NUMERIC;
    case KIND_NUMERIC: return col == KIND_FLOAT;
    case KIND_DATE: return col == KIND_TIMESTAMP;
    case KIND_JSON: return false;
    /* Debezium sends some types as strings (decimal.handling.mode=string,
     * hstore, inet...): a string may go into any type read from text, but
     * not into a number, boolean, bytea or array column. */
    case KIND_TEXT:
        return col != KIND_INT && col != KIND_FLOAT && col != KIND_BOOL &&
               col != KIND_BYTES && col != KIND_ARRAY;
    default: return false;
    }
}

static bool is_pk_field(const cdc_pg_table_options_t *o, const cdc_event_t *ev,
                        const char *name)
{
    if (o->pk_fields) {
        for (const char *const *f = o->pk_fields; *f; f++)
            if (strcmp(*f, name) == 0) return true;
        return false;
    }
    return ev->key_schema && cdc_row_schema_find(ev->key_schema, name) >= 0;
}

/* Replicas of one pipeline start together and meet the same new tables:
 * CREATE ... IF NOT EXISTS is not safe against a concurrent CREATE of the
 * same name (the loser fails with 23505 on the catalog's unique index, and
 * a replica stopped on it at start in tests/bench/scale-out). Every DDL
 * statement of the sink takes this transaction-scoped lock first, so the
 * second replica waits, then finds the object there. The statements are
 * sent as one simple query: one implicit transaction, the lock included. */
#define DDL_LOCK_SQL "SELECT pg_advisory_xact_lock(6363647370); "

static cdc_pg_status_t run_ddl(PGconn *conn, const char *sql, const char *what,
                               char *sqlstate, char *errstr, size_t errstr_size)
{
    PGresult *res = PQexec(conn, sql);
    cdc_pg_status_t s = CDC_PG_OK;
    sqlstate[0] = '\0';
    if (PQresultStatus(res) != PGRES_COMMAND_OK) {
        const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
        snprintf(sqlstate, 6, "%s", state ? state : "");
        s = state && strncmp(state, "54", 2) == 0 ? CDC_PG_LIMIT : cdc_pg_classify(conn, res);
        pg_error(errstr, errstr_size, what, conn, res);
    }
    PQclear(res);
    return s;
}

size_t cdc_pg_table_create_sql(cdc_buf_t *sql, const char *quoted_schema,
                                const char *qualified,
                                const cdc_pg_table_options_t *o,
                                const cdc_event_t *ev)
{
    const cdc_row_schema_t *row = ev->row_schema;
    cdc_buf_puts(sql, DDL_LOCK_SQL "CREATE SCHEMA IF NOT EXISTS ");
    cdc_buf_puts(sql, quoted_schema);
    cdc_buf_puts(sql, "; CREATE TABLE IF NOT EXISTS ");
    cdc_buf_puts(sql, qualified);
    cdc_buf_puts(sql, " (");
    size_t npk = 0;
    for (size_t i = 0; i < row->ncolumns; i++) {
        const cdc_column_t *c = &row->columns[i];
        cdc_pg_sql_quote_ident(sql, c->name);
        cdc_buf_putc(sql, ' ');
        cdc_pg_table_type_for(c, sql);
        cdc_buf_puts(sql, ", ");
        npk += is_pk_field(o, ev, c->name);
    }
    cdc_pg_sql_quote_ident(sql, o->position_column);
    cdc_buf_puts(sql, " bigint NOT NULL, ");
    cdc_pg_sql_quote_ident(sql, o->deleted_column);
    cdc_buf_puts(sql, " boolean NOT NULL DEFAULT false, PRIMARY KEY (");
    for (size_t i = 0, k = 0; i < row->ncolumns; i++) {
        if (!is_pk_field(o, ev, row->columns[i].name)) continue;
        if (k++) cdc_buf_puts(sql, ", ");
        cdc_pg_sql_quote_ident(sql, row->columns[i].name);
    }
    cdc_buf_puts(sql, "))");
    return npk;
}

cdc_pg_status_t cdc_pg_table_create(PGconn *conn, const char *schema,
                                    const char *name,
                                    const cdc_pg_table_options_t *o,
                                    const cdc_event_t *ev, char *sqlstate,
                                    char *errstr, size_t errstr_size)
{
    sqlstate[0] = '\0';
    if (!ev->row_schema) {
        cdc_errstr_set(errstr, errstr_size,
                       "cannot create %s.%s from a record without a value "
                       "schema", schema, name);
        return CDC_PG_FATAL;
    }
    cdc_buf_t quoted_schema, sql;
    cdc_buf_init(&quoted_schema);
    cdc_buf_init(&sql);
    cdc_pg_sql_quote_ident(&quoted_schema, schema);
    char *qualified = qualified_name(schema, name);
    size_t npk = cdc_pg_table_create_sql(&sql, quoted_schema.data ? quoted_schema.data : "",
                                         qualified ? qualified : "", o, ev);
    cdc_pg_status_t s = CDC_PG_FATAL;
    if (!qualified || sql.failed || quoted_schema.failed) {
        cdc_errstr_set(errstr, errstr_size, "out of memory");
        s = CDC_PG_RETRY;
    } else if (npk == 0) {
        cdc_errstr_set(errstr, errstr_size,
                       "cannot create %s: no primary key (the record has no "
                       "key and pk.fields is not set)", qualified);
    } else {
        s = run_ddl(conn, sql.data, qualified, sqlstate, errstr, errstr_size);
    }
    free(qualified);
    cdc_buf_free(&quoted_schema);
    cdc_buf_free(&sql);
    return s;
}

void cdc_pg_table_add_columns_sql(cdc_buf_t *sql, const cdc_pg_table_t *t,
                                  const cdc_column_t *const *columns,
                                  size_t count)
{
    cdc_buf_puts(sql, DDL_LOCK_SQL "ALTER TABLE ");
    cdc_buf_puts(sql, t->qualified);
    for (size_t i = 0; i < count; i++) {
        cdc_buf_puts(sql, i ? ", ADD COLUMN IF NOT EXISTS " : " ADD COLUMN IF NOT EXISTS ");
        cdc_pg_sql_quote_ident(sql, columns[i]->name);
        cdc_buf_putc(sql, ' ');
        cdc_pg_table_type_for(columns[i], sql);
    }
}

cdc_pg_status_t cdc_pg_table_add_columns(PGconn *conn, const cdc_pg_table_t *t,
                                         const cdc_column_t *const *columns,
                                         size_t count, char *sqlstate,
                                         char *errstr, size_t errstr_size)
{
    cdc_buf_t sql;
    cdc_buf_init(&sql);
    cdc_pg_table_add_columns_sql(&sql, t, columns, count);
    cdc_pg_status_t s = CDC_PG_RETRY;
    sqlstate[0] = '\0';
    if (sql.failed)
        cdc_errstr_set(errstr, errstr_size, "out of memory");
    else
        s = run_ddl(conn, sql.data, t->qualified, sqlstate, errstr, errstr_size);
    cdc_buf_free(&sql);
    return s;
}
