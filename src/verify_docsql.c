#include "verify_docsql.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "config.h"
#include "errstr.h"
#include "source.h"

/* Rows per keyset step of the source walk (verify_doc.c reads them, then
 * the store's documents of the same keys). */
#define KEYSET_ROWS 1000

/* How a column is compared and rendered (cdc_docsql_column_t.kind). */
enum {
    KIND_CAST = 'c',      /* the member's text cast to the column's type */
    KIND_NUMBER = 'o',    /* booleans and integers: JSON numbers, true/false */
    KIND_FLOAT = 'f',     /* NaN and infinities are strings */
    KIND_NUMERIC = 'n',   /* exact text, compared by value */
    KIND_MONEY = 'm',     /* a decimal in the documents */
    KIND_BYTES = 'b',     /* base64 */
    KIND_JSON = 'j',      /* embedded JSON, compared as jsonb */
    KIND_ARRAY = 'a',     /* a JSON array of the items */
    KIND_XML = 'x',       /* no equality: compared as text */
    KIND_DATE = 'd',
    KIND_TIME = 'h',
    KIND_TIMESTAMP = 't',
    KIND_TIMESTAMPTZ = 'T',
    KIND_TIMETZ = 'z',    /* compared as the instant in UTC */
    KIND_INTERVAL = 'i'
};

static void quote_ident(cdc_buf_t *b, const char *name)
{
    cdc_buf_putc(b, '"');
    for (const char *p = name; *p; p++) {
        if (*p == '"') cdc_buf_putc(b, '"');
        cdc_buf_putc(b, *p);
    }
    cdc_buf_putc(b, '"');
}

static void quote_literal(cdc_buf_t *b, const char *text)
{
    cdc_buf_putc(b, '\'');
    for (const char *p = text; *p; p++) {
        if (*p == '\'') cdc_buf_putc(b, '\'');
        cdc_buf_putc(b, *p);
    }
    cdc_buf_putc(b, '\'');
}

/* s."column" */
static void column_ref(cdc_buf_t *b, const cdc_docsql_column_t *c)
{
    cdc_buf_puts(b, "s.");
    quote_ident(b, c->name);
}

static bool one_of(const char *name, const char *const *names)
{
    for (; *names; names++)
        if (strcmp(name, *names) == 0) return true;
    return false;
}

/* The kind of a scalar type, from its base type's name and category;
 * 0 for a type that is not compared. */
static char scalar_kind(const char *typname, char category)
{
    static const char *const numbers[] = {"bool", "int2", "int4", "int8", NULL};
    static const char *const floats[] = {"float4", "float8", NULL};
    static const char *const uncomparable[] = {"bit", "varbit", NULL};
    if (one_of(typname, numbers)) return KIND_NUMBER;
    if (one_of(typname, floats)) return KIND_FLOAT;
    if (one_of(typname, uncomparable)) return 0;
    if (!strcmp(typname, "numeric")) return KIND_NUMERIC;
    if (!strcmp(typname, "money")) return KIND_MONEY;
    if (!strcmp(typname, "bytea")) return KIND_BYTES;
    if (!strcmp(typname, "json") || !strcmp(typname, "jsonb")) return KIND_JSON;
    if (!strcmp(typname, "xml")) return KIND_XML;
    if (!strcmp(typname, "date")) return KIND_DATE;
    if (!strcmp(typname, "time")) return KIND_TIME;
    if (!strcmp(typname, "timestamp")) return KIND_TIMESTAMP;
    if (!strcmp(typname, "timestamptz")) return KIND_TIMESTAMPTZ;
    if (!strcmp(typname, "timetz")) return KIND_TIMETZ;
    if (!strcmp(typname, "interval")) return KIND_INTERVAL;
    if (!strcmp(typname, "uuid")) return KIND_CAST;
    /* strings, enums, network addresses, ranges; user types (hstore),
     * geometry, pseudo types: their document form is not PostgreSQL's */
    return strchr("SEIRN", category) ? KIND_CAST : 0;
}

/* Arrays compare item by item: of scalars the documents hold as text. */
static char array_kind(const char *elem_name, char elem_category)
{
    char k = scalar_kind(elem_name, elem_category);
    return k && k != KIND_BYTES && k != KIND_JSON && k != KIND_XML ? KIND_ARRAY : 0;
}

/* Timestamps of precision 0..3 are Debezium's millisecond ones. */
static bool millisecond_type(const char *type)
{
    const char *p = strchr(type, '(');
    return p && p[1] >= '0' && p[1] <= '3' && p[2] == ')';
}

/* ---------------------------------------------------------------------
 * Expressions
 * ------------------------------------------------------------------- */

/* A key column as ${key} renders the value Debezium sends for it. */
static void key_render(cdc_buf_t *b, const cdc_docsql_column_t *c)
{
    const char *us = millisecond_type(c->type) ? "MS" : "US";
    if (c->kind == KIND_BYTES) {
        cdc_buf_puts(b, "replace(encode(");
        column_ref(b, c);
        cdc_buf_puts(b, ", 'base64'), E'\\n', '')");
    } else if (c->kind == KIND_TIMESTAMP) {
        cdc_buf_puts(b, "to_char(");
        column_ref(b, c);
        cdc_buf_puts(b, ", 'YYYY-MM-DD\"T\"HH24:MI:SS.");
        cdc_buf_puts(b, us);
        cdc_buf_puts(b, "')");
    } else {
        column_ref(b, c);
        cdc_buf_puts(b, "::text");
    }
}

/* A ${key} part (text) as the column's value. */
static void key_parse(cdc_buf_t *b, const cdc_docsql_column_t *c, const char *part)
{
    if (c->kind == KIND_BYTES) {
        cdc_buf_puts(b, "decode(");
        cdc_buf_puts(b, part);
        cdc_buf_puts(b, ", 'base64')");
        return;
    }
    cdc_buf_putc(b, '(');
    cdc_buf_puts(b, part);
    cdc_buf_puts(b, ")::");
    cdc_buf_puts(b, c->type);
}

/* s.k1 = F(p1) AND s.k2 = F(p2): the source row of a ${key}'s parts. */
static void key_match(cdc_buf_t *b, const cdc_docsql_table_t *t, const char *prefix)
{
    for (size_t k = 0; k < t->nkeys; k++) {
        const cdc_docsql_column_t *c = &t->cols[t->keys[k]];
        if (k) cdc_buf_puts(b, " AND ");
        column_ref(b, c);
        cdc_buf_puts(b, " = ");
        char part[48];
        snprintf(part, sizeof part, "%s%zu", prefix, k + 1);
        key_parse(b, c, part);
    }
}

/* The document member's text (v) and JSON (jv) of a column. */
typedef struct member {
    cdc_buf_t text, json;
} member_t;

static void member_make(member_t *m, const cdc_docsql_column_t *c)
{
    cdc_buf_init(&m->text);
    cdc_buf_init(&m->json);
    cdc_buf_puts(&m->text, "(x.j->>");
    quote_literal(&m->text, c->name);
    cdc_buf_putc(&m->text, ')');
    cdc_buf_puts(&m->json, "(x.j->");
    quote_literal(&m->json, c->name);
    cdc_buf_putc(&m->json, ')');
}

static void member_free(member_t *m)
{
    cdc_buf_free(&m->text);
    cdc_buf_free(&m->json);
}

/* The member, read as the column's type, equals the column (both not
 * NULL). textual: JSON and arrays are JSON text in a string. */
static void typed_equal(cdc_buf_t *b, const cdc_docsql_column_t *c, const member_t *m,
                        bool textual)
{
    const char *v = m->text.data;
    char json[512];
    snprintf(json, sizeof json, textual ? "%s::jsonb" : "%s", textual ? v : m->json.data);
    switch (c->kind) {
    case KIND_BYTES:
        cdc_buf_puts(b, "decode("), cdc_buf_puts(b, v), cdc_buf_puts(b, ", 'base64') = ");
        column_ref(b, c);
        return;
    case KIND_JSON:
        cdc_buf_puts(b, json), cdc_buf_puts(b, " = ");
        column_ref(b, c);
        cdc_buf_puts(b, "::jsonb");
        return;
    case KIND_ARRAY:
        cdc_buf_puts(b, "ARRAY(SELECT jsonb_array_elements_text(");
        cdc_buf_puts(b, json);
        cdc_buf_puts(b, "))::"), cdc_buf_puts(b, c->type), cdc_buf_puts(b, " = ");
        column_ref(b, c);
        return;
    case KIND_XML:
        cdc_buf_puts(b, v), cdc_buf_puts(b, " = ");
        column_ref(b, c);
        cdc_buf_puts(b, "::text");
        return;
    case KIND_MONEY:
        cdc_buf_puts(b, v), cdc_buf_puts(b, "::numeric = ");
        column_ref(b, c);
        cdc_buf_puts(b, "::numeric");
        return;
    case KIND_TIMETZ:
        cdc_buf_puts(b, "("), cdc_buf_puts(b, v), cdc_buf_puts(b, "::timetz AT TIME ZONE 'UTC') = (");
        column_ref(b, c);
        cdc_buf_puts(b, " AT TIME ZONE 'UTC')");
        return;
    default:
        cdc_buf_puts(b, v), cdc_buf_puts(b, "::"), cdc_buf_puts(b, c->type), cdc_buf_puts(b, " = ");
        column_ref(b, c);
        return;
    }
}

/* One column of a document equals the row's: both NULL (no member in a
 * textual document, null in a JSON one) or the same value. A JSON
 * document without the member does not carry the column: not compared. */
static void column_equal(cdc_buf_t *b, const cdc_docsql_column_t *c, bool textual)
{
    member_t m;
    member_make(&m, c);
    cdc_buf_puts(b, textual ? "(" : "(NOT x.j ? ");
    if (!textual) {
        quote_literal(b, c->name);
        cdc_buf_puts(b, " OR ");
    }
    cdc_buf_puts(b, "CASE WHEN ");
    column_ref(b, c);
    cdc_buf_puts(b, " IS NULL THEN ");
    cdc_buf_puts(b, m.text.data);
    cdc_buf_puts(b, " IS NULL WHEN ");
    cdc_buf_puts(b, m.text.data);
    cdc_buf_puts(b, " IS NULL THEN false ELSE ");
    typed_equal(b, c, &m, textual);
    cdc_buf_puts(b, " END)");
    member_free(&m);
}

/* The column as the document member the sinks write (JSON text), in the
 * jsonl form for the common types (sinks/jsonl/README.md); a value whose
 * exact text differs (an interval's, a float's layout) still reads back
 * equal. */
static void column_render(cdc_buf_t *b, const cdc_docsql_column_t *c)
{
    cdc_buf_t ref;
    cdc_buf_init(&ref);
    column_ref(&ref, c);
    const char *r = ref.data;
    char e[1024];
    const char *us = millisecond_type(c->type) ? "MS" : "US";
    switch (c->kind) {
    case KIND_NUMBER:
    case KIND_ARRAY:
        snprintf(e, sizeof e, "to_json(%s)", r);
        break;
    case KIND_FLOAT:
        snprintf(e, sizeof e, "CASE WHEN %s::text IN ('NaN', 'Infinity', '-Infinity') "
                 "THEN to_json(%s::text) ELSE to_json(%s) END", r, r, r);
        break;
    case KIND_MONEY:
        snprintf(e, sizeof e, "to_json(%s::numeric::text)", r);
        break;
    case KIND_BYTES:
        snprintf(e, sizeof e, "to_json(replace(encode(%s, 'base64'), E'\\n', ''))", r);
        break;
    case KIND_JSON:
        snprintf(e, sizeof e, "%s::json", r);
        break;
    case KIND_TIME:
        snprintf(e, sizeof e, "to_json(to_char('2000-01-01'::timestamp + %s, 'HH24:MI:SS.%s'))",
                 r, us);
        break;
    case KIND_TIMESTAMP:
        snprintf(e, sizeof e, "to_json(to_char(%s, 'YYYY-MM-DD\"T\"HH24:MI:SS.%s'))", r, us);
        break;
    case KIND_TIMESTAMPTZ:
        snprintf(e, sizeof e, "to_json(to_char(%s AT TIME ZONE 'UTC', "
                 "'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'))", r);
        break;
    case KIND_INTERVAL: /* P{d}DT{h}H{m}M{s}.{ffffff}S, a month counted as 30 days
                        * (as Debezium and interval comparison count it; an
                        * epoch would count a year as 365.25 days) */
        snprintf(e, sizeof e,
                 "(SELECT to_json('P' || (u / 86400000000) || 'DT' || "
                 "(u %% 86400000000 / 3600000000) || 'H' || (u %% 3600000000 / 60000000) "
                 "|| 'M' || (u %% 60000000 / 1000000) || '.' || "
                 "lpad(abs(u %% 1000000)::text, 6, '0') || 'S') FROM (SELECT "
                 "(((extract(year FROM %s) * 12 + extract(month FROM %s)) * 30 + "
                 "extract(day FROM %s)) * 86400000000 + extract(epoch FROM %s - "
                 "date_trunc('day', %s)) * 1000000)::bigint AS u) z)", r, r, r, r, r);
        break;
    default:
        snprintf(e, sizeof e, "to_json(%s::text)", r);
        break;
    }
    cdc_buf_puts(b, "coalesce((");
    cdc_buf_puts(b, e);
    cdc_buf_puts(b, ")::text, 'null')");
    cdc_buf_free(&ref);
}

/* ---------------------------------------------------------------------
 * Statements
 * ------------------------------------------------------------------- */

static void key_list(cdc_buf_t *b, const cdc_docsql_table_t *t, const char *suffix)
{
    for (size_t k = 0; k < t->nkeys; k++) {
        if (k) cdc_buf_puts(b, ", ");
        column_ref(b, &t->cols[t->keys[k]]);
        cdc_buf_puts(b, suffix);
    }
}

/* raw key texts (for the next step's $n), then the ${key} parts */
static void key_columns(cdc_buf_t *b, const cdc_docsql_table_t *t)
{
    key_list(b, t, "::text");
    for (size_t k = 0; k < t->nkeys; k++) {
        cdc_buf_puts(b, ", ");
        key_render(b, &t->cols[t->keys[k]]);
    }
}

static char *build_keyset(const cdc_docsql_table_t *t)
{
    cdc_buf_t b;
    cdc_buf_init(&b);
    cdc_buf_puts(&b, "SELECT ");
    key_columns(&b, t);
    cdc_buf_puts(&b, " FROM ");
    cdc_buf_puts(&b, t->qualified);
    cdc_buf_puts(&b, " s WHERE $1::text IS NULL OR (");
    key_list(&b, t, "");
    cdc_buf_puts(&b, ") > (");
    for (size_t k = 0; k < t->nkeys; k++) {
        char p[64];
        snprintf(p, sizeof p, "%s$%zu::%s", k ? ", " : "", k + 1,
                 t->cols[t->keys[k]].type);
        cdc_buf_puts(&b, p);
    }
    cdc_buf_puts(&b, ") ORDER BY ");
    key_list(&b, t, "");
    char limit[32];
    snprintf(limit, sizeof limit, " LIMIT %d", KEYSET_ROWS);
    cdc_buf_puts(&b, limit);
    return b.failed ? (cdc_buf_free(&b), NULL) : b.data;
}

static char *build_sample(const cdc_docsql_table_t *t)
{
    cdc_buf_t b;
    cdc_buf_init(&b);
    cdc_buf_puts(&b, "SELECT ");
    key_columns(&b, t);
    cdc_buf_puts(&b, " FROM ");
    cdc_buf_puts(&b, t->qualified);
    cdc_buf_puts(&b, " s TABLESAMPLE SYSTEM ($1::float4) LIMIT $2::bigint");
    return b.failed ? (cdc_buf_free(&b), NULL) : b.data;
}

/* unnest($1::text[], ..., $n::text[][, $n+1::jsonb[]]) WITH ORDINALITY AS
 * d(p1, ..., pn[, doc], i) */
static void unnest_keys(cdc_buf_t *b, const cdc_docsql_table_t *t, bool with_doc)
{
    cdc_buf_puts(b, "unnest(");
    size_t n = t->nkeys + with_doc;
    for (size_t k = 0; k < n; k++) { /* documents parsed once, as jsonb[] */
        char p[48];
        snprintf(p, sizeof p, "%s$%zu::%s[]", k ? ", " : "", k + 1,
                 k < t->nkeys ? "text" : "jsonb");
        cdc_buf_puts(b, p);
    }
    cdc_buf_puts(b, ") WITH ORDINALITY AS d(");
    for (size_t k = 0; k < t->nkeys; k++) {
        char p[32];
        snprintf(p, sizeof p, "%sp%zu", k ? ", " : "", k + 1);
        cdc_buf_puts(b, p);
    }
    cdc_buf_puts(b, with_doc ? ", doc, i)" : ", i)");
}

/* Per document: its ordinal, whether the source has the row, the row's
 * digest, whether the document is live (there, not soft-deleted), and
 * whether it equals the row. */
static char *build_compare(const cdc_docsql_table_t *t, bool textual)
{
    cdc_buf_t b;
    cdc_buf_init(&b);
    cdc_buf_puts(&b, "SELECT d.i, s.ctid IS NOT NULL, CASE WHEN s.ctid IS NULL THEN '' "
                     "ELSE left(md5(s::text), 16) END, x.j IS NOT NULL AND NOT coalesce(x.j->>"
                     "'__deleted' = 'true', false), CASE WHEN s.ctid IS NULL OR x.j IS "
                     "NULL THEN false ELSE jsonb_typeof(x.j) = 'object'");
    for (size_t i = 0; i < t->ncols; i++) {
        if (!t->cols[i].compared) continue;
        cdc_buf_puts(&b, " AND ");
        column_equal(&b, &t->cols[i], textual);
    }
    cdc_buf_puts(&b, " END FROM ");
    unnest_keys(&b, t, true);
    cdc_buf_puts(&b, " CROSS JOIN LATERAL (SELECT d.doc AS j) x LEFT JOIN ");
    cdc_buf_puts(&b, t->qualified);
    cdc_buf_puts(&b, " s ON ");
    key_match(&b, t, "d.p");
    return b.failed ? (cdc_buf_free(&b), NULL) : b.data;
}

static char *build_exists(const cdc_docsql_table_t *t)
{
    cdc_buf_t b;
    cdc_buf_init(&b);
    cdc_buf_puts(&b, "SELECT d.i FROM ");
    unnest_keys(&b, t, false);
    cdc_buf_puts(&b, " WHERE NOT EXISTS (SELECT 1 FROM ");
    cdc_buf_puts(&b, t->qualified);
    cdc_buf_puts(&b, " s WHERE ");
    key_match(&b, t, "d.p");
    cdc_buf_puts(&b, ")");
    return b.failed ? (cdc_buf_free(&b), NULL) : b.data;
}

/* '{' || '"c1":' || <json1> || ',' || ... || '}': no argument limit (a
 * json_build_object takes 50 columns) and the columns in table order. */
static char *build_render(const cdc_docsql_table_t *t)
{
    cdc_buf_t b;
    cdc_buf_init(&b);
    cdc_buf_puts(&b, "SELECT '{'");
    for (size_t i = 0; i < t->ncols; i++) {
        cdc_buf_puts(&b, i ? " || ',' || to_json(" : " || to_json(");
        quote_literal(&b, t->cols[i].name);
        cdc_buf_puts(&b, "::text)::text || ':' || ");
        column_render(&b, &t->cols[i]);
    }
    cdc_buf_puts(&b, " || '}' FROM ");
    cdc_buf_puts(&b, t->qualified);
    cdc_buf_puts(&b, " s WHERE ");
    for (size_t k = 0; k < t->nkeys; k++) {
        const cdc_docsql_column_t *c = &t->cols[t->keys[k]];
        char part[32];
        snprintf(part, sizeof part, "$%zu::text", k + 1);
        if (k) cdc_buf_puts(&b, " AND ");
        column_ref(&b, c);
        cdc_buf_puts(&b, " = ");
        key_parse(&b, c, part);
    }
    return b.failed ? (cdc_buf_free(&b), NULL) : b.data;
}

/* ---------------------------------------------------------------------
 * Catalog
 * ------------------------------------------------------------------- */

static const char CATALOG_SQL[] =
    "SELECT a.attname, format_type(a.atttypid, a.atttypmod), b.typname, b.typcategory, "
    "coalesce(e.typname, ''), coalesce(e.typcategory, ''), "
    "array_position(i.indkey::int2[], a.attnum) "
    "FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid "
    "JOIN pg_type b ON b.oid = CASE WHEN t.typtype = 'd' THEN t.typbasetype ELSE t.oid END "
    "LEFT JOIN pg_type e ON e.oid = b.typelem AND b.typcategory = 'A' "
    "LEFT JOIN pg_index i ON i.indrelid = a.attrelid AND i.indisprimary "
    "WHERE a.attrelid = to_regclass($1) AND a.attnum > 0 AND NOT a.attisdropped "
    "ORDER BY a.attnum";

/* The key's columns: the primary key's in its order, else key_fields'. */
static int find_keys(cdc_docsql_table_t *t, const int *pk_position,
                     const char *key_fields, char *errstr, size_t errstr_size)
{
    t->keys = calloc(t->ncols + 1, sizeof *t->keys);
    if (!t->keys) return cdc_errstr_set(errstr, errstr_size, "out of memory"), -1;
    for (int pos = 0; (size_t)pos < t->ncols; pos++)
        for (size_t i = 0; i < t->ncols; i++)
            if (pk_position[i] == pos) t->keys[t->nkeys++] = i;
    if (t->nkeys) return 0;
    int oom = 0;
    char **fields = key_fields && *key_fields ? cdc_config_split_list(key_fields, &oom) : NULL;
    for (size_t f = 0; fields && fields[f]; f++) {
        size_t i = 0;
        while (i < t->ncols && strcmp(t->cols[i].name, fields[f]) != 0) i++;
        if (i == t->ncols) {
            cdc_errstr_set(errstr, errstr_size, "pk.fields names %s, which %s does not have",
                           fields[f], t->qualified);
            cdc_config_free_list(fields);
            return -1;
        }
        t->keys[t->nkeys++] = i;
    }
    cdc_config_free_list(fields);
    if (t->nkeys) return 0;
    return cdc_errstr_set(errstr, errstr_size, "%s has no primary key (and pk.fields is not set)",
                          t->qualified), -1;
}

static int read_columns(cdc_docsql_table_t *t, PGresult *res, int **pk_position)
{
    int n = PQntuples(res);
    t->cols = calloc((size_t)n + 1, sizeof *t->cols);
    *pk_position = calloc((size_t)n + 1, sizeof **pk_position);
    if (!t->cols || !*pk_position) return -1;
    for (int r = 0; r < n; r++) {
        cdc_docsql_column_t *c = &t->cols[t->ncols++];
        if (!(c->name = strdup(PQgetvalue(res, r, 0))) || !(c->type = strdup(PQgetvalue(res, r, 1))))
            return -1;
        c->category = PQgetvalue(res, r, 3)[0];
        c->kind = c->category == 'A' ? array_kind(PQgetvalue(res, r, 4), PQgetvalue(res, r, 5)[0])
                                     : scalar_kind(PQgetvalue(res, r, 2), c->category);
        c->compared = c->kind != 0;
        if (!c->compared) c->kind = KIND_CAST, t->uncompared++;
        (*pk_position)[r] = PQgetisnull(res, r, 6) ? -1 : atoi(PQgetvalue(res, r, 6));
    }
    return 0;
}

cdc_docsql_table_t *cdc_docsql_table_load(PGconn *source, const char *schema,
                                          const char *table, const char *key_fields,
                                          bool textual, char *errstr, size_t errstr_size)
{
    cdc_docsql_table_t *t = calloc(1, sizeof *t);
    cdc_buf_t q;
    cdc_buf_init(&q);
    quote_ident(&q, schema);
    cdc_buf_putc(&q, '.');
    quote_ident(&q, table);
    if (!t || q.failed) {
        free(t);
        cdc_buf_free(&q);
        cdc_errstr_set(errstr, errstr_size, "out of memory");
        return NULL;
    }
    t->qualified = q.data;
    const char *params[] = {t->qualified};
    PGresult *res = PQexecParams(source, CATALOG_SQL, 1, NULL, params, NULL, NULL, 0);
    int *pk_position = NULL;
    int rc = -1;
    if (PQresultStatus(res) != PGRES_TUPLES_OK)
        cdc_source_error(errstr, errstr_size, "reading the source's catalog", source, res);
    else if (PQntuples(res) == 0)
        cdc_errstr_set(errstr, errstr_size, "the source has no table %s", t->qualified);
    else if (read_columns(t, res, &pk_position) != 0)
        cdc_errstr_set(errstr, errstr_size, "out of memory");
    else if (find_keys(t, pk_position, key_fields, errstr, errstr_size) == 0)
        rc = 0;
    PQclear(res);
    free(pk_position);
    if (rc == 0) {
        t->keyset_sql = build_keyset(t);
        t->sample_sql = build_sample(t);
        t->compare_sql = build_compare(t, textual);
        t->exists_sql = build_exists(t);
        t->render_sql = build_render(t);
        if (!t->keyset_sql || !t->sample_sql || !t->compare_sql || !t->exists_sql ||
            !t->render_sql)
            rc = (cdc_errstr_set(errstr, errstr_size, "out of memory"), -1);
    }
    if (rc != 0) {
        cdc_docsql_table_free(t);
        return NULL;
    }
    return t;
}

void cdc_docsql_table_free(cdc_docsql_table_t *t)
{
    if (!t) return;
    for (size_t i = 0; i < t->ncols; i++) {
        free(t->cols[i].name);
        free(t->cols[i].type);
    }
    free(t->cols);
    free(t->keys);
    free(t->qualified);
    free(t->keyset_sql);
    free(t->sample_sql);
    free(t->compare_sql);
    free(t->exists_sql);
    free(t->render_sql);
    free(t);
}
