#include "pg_pair.h"

#include <stdlib.h>
#include <string.h>

#include "errstr.h"
#include "pg_sql.h"
#include "pg_value.h"

void cdc_pg_pair_free(pg_pair_t *p)
{
    if (!p) return;
    for (size_t i = 0; p->target && i < p->target->npk; i++) {
        if (p->source_types) free(p->source_types[i]);
        if (p->target_types) free(p->target_types[i]);
    }
    free(p->cols);
    free(p->source_types);
    free(p->target_types);
    cdc_pg_table_free(p->target);
    cdc_pg_table_free(p->source);
    free(p->digest);
    free(p->keys);
    free(p->keys_desc);
    free(p->key_texts);
    free(p->target_filter);
    free(p);
}

/* ---------------------------------------------------------------------
 * The SQL of a pair
 * ------------------------------------------------------------------- */

static char *buf_take(cdc_buf_t *b)
{
    if (b->failed) {
        cdc_buf_free(b);
        return NULL;
    }
    return b->data ? b->data : strdup("");
}

/* md5(ROW("c1"::t1, ...)::text), every compared column cast to the
 * source's type, so that both servers render the same text for the same
 * value (the replica may hold it in another type: an interval Debezium
 * sent as an ISO string is text there). */
static char *digest_expr(const cdc_pg_table_t *target, const int *cols,
                         char *const *types, size_t ncols)
{
    cdc_buf_t b;
    cdc_buf_init(&b);
    cdc_buf_puts(&b, "md5(ROW(");
    for (size_t i = 0; i < ncols; i++) {
        /* Debezium drops the trailing zeros of a numeric without scale
         * (6.0000 arrives as 6): equal numbers compare by value. */
        bool numeric = strncmp(types[i], "numeric", 7) == 0 && !strchr(types[i], '[');
        if (i) cdc_buf_puts(&b, ", ");
        if (numeric) cdc_buf_puts(&b, "trim_scale(");
        cdc_pg_sql_quote_ident(&b, target->columns[cols[i]].name);
        cdc_buf_puts(&b, "::");
        cdc_buf_puts(&b, types[i]);
        if (numeric) cdc_buf_putc(&b, ')');
    }
    cdc_buf_puts(&b, ")::text)");
    return buf_take(&b);
}

/* The type both sides cast a column to: the source's, when the replica's
 * server knows it too (a source's own enum or domain it may not: text);
 * json as jsonb. */
static char *compare_type(PGconn *target, const char *source_type)
{
    /* json keeps its input's spacing, the replica's jsonb does not. */
    if (strcmp(source_type, "json") == 0) return strdup("jsonb");
    if (strcmp(source_type, "json[]") == 0) return strdup("jsonb[]");
    const char *params[1] = {source_type};
    PGresult *res = PQexecParams(target, "SELECT to_regtype($1) IS NOT NULL",
                                 1, NULL, params, NULL, NULL, 0);
    bool known = PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1 &&
                 PQgetvalue(res, 0, 0)[0] == 't';
    PQclear(res);
    return strdup(known ? source_type : "text");
}

static char *key_list(const cdc_pg_table_t *t, const char *suffix)
{
    cdc_buf_t b;
    cdc_buf_init(&b);
    for (size_t i = 0; i < t->npk; i++) {
        if (i) cdc_buf_puts(&b, ", ");
        cdc_pg_sql_quote_ident(&b, t->columns[t->pk[i]].name);
        cdc_buf_puts(&b, suffix);
    }
    return buf_take(&b);
}

/* ("k1", "k2") OP ($n::t1, $n+1::t2) */
void cdc_pg_pair_key_condition(cdc_buf_t *b, const pg_pair_t *p, char *const *types,
                          const char *op, int first_param)
{
    cdc_buf_puts(b, " AND (");
    cdc_buf_puts(b, p->keys);
    cdc_buf_puts(b, ") ");
    cdc_buf_puts(b, op);
    cdc_buf_puts(b, " (");
    for (size_t i = 0; i < p->target->npk; i++) {
        char param[32];
        snprintf(param, sizeof param, "%s$%d::", i ? ", " : "", first_param + (int)i);
        cdc_buf_puts(b, param);
        cdc_buf_puts(b, types[i]);
    }
    cdc_buf_putc(b, ')');
}

static int source_column(const cdc_pg_table_t *source, const char *name)
{
    return cdc_pg_table_find(source, name);
}

/* The compared columns: the replica's, but the position and deleted
 * columns, that the source has too. */
static size_t compared_columns(const cdc_pg_table_t *target,
                               const cdc_pg_table_t *source, int *cols)
{
    size_t n = 0;
    for (size_t i = 0; i < target->ncolumns; i++) {
        if ((int)i == target->position_column || (int)i == target->deleted_column) continue;
        if (source_column(source, target->columns[i].name) >= 0) cols[n++] = (int)i;
    }
    return n;
}

static int pair_digest(pg_verifier_t *v, pg_pair_t *p)
{
    char **types = calloc(p->ncols + 1, sizeof *types);
    bool ok = types != NULL;
    for (size_t i = 0; ok && i < p->ncols; i++) {
        int s = source_column(p->source, p->target->columns[p->cols[i]].name);
        ok = (types[i] = compare_type(v->sink->pool[0].conn, p->source->columns[s].type)) != NULL;
    }
    if (ok) p->digest = digest_expr(p->target, p->cols, types, p->ncols);
    for (size_t i = 0; types && i < p->ncols; i++) free(types[i]);
    free(types);
    return p->digest ? 0 : -1;
}

/* Takes target and source: they are freed with the pair, or at once when
 * NULL is returned (errstr says why). */
static pg_pair_t *pair_build(pg_verifier_t *v, cdc_pg_table_t *target,
                             cdc_pg_table_t *source, char *errstr,
                             size_t errstr_size)
{
    pg_pair_t *p = calloc(1, sizeof *p);
    if (!p) {
        cdc_pg_table_free(target);
        cdc_pg_table_free(source);
        cdc_errstr_set(errstr, errstr_size, "out of memory");
        return NULL;
    }
    p->target = target;
    p->source = source;
    if (target->npk > PG_VERIFY_MAX_KEY_COLUMNS) {
        cdc_errstr_set(errstr, errstr_size, "%s has %zu primary-key columns; "
                       "verify compares at most %d", target->qualified,
                       target->npk, PG_VERIFY_MAX_KEY_COLUMNS);
        cdc_pg_pair_free(p);
        return NULL;
    }
    p->cols = calloc(target->ncolumns + 1, sizeof *p->cols);
    p->source_types = calloc(target->npk + 1, sizeof *p->source_types);
    p->target_types = calloc(target->npk + 1, sizeof *p->target_types);
    if (!p->cols || !p->source_types || !p->target_types) goto oom;
    p->ncols = compared_columns(target, source, p->cols);
    for (size_t i = 0; i < target->npk; i++) {
        const cdc_pg_column_t *k = &target->columns[target->pk[i]];
        int s = source_column(source, k->name);
        if (s < 0) {
            cdc_errstr_set(errstr, errstr_size, "the source table %s has no "
                           "column \"%s\" of the replica's primary key",
                           source->qualified, k->name);
            cdc_pg_pair_free(p);
            return NULL;
        }
        p->source_types[i] = strdup(source->columns[s].type);
        p->target_types[i] = strdup(k->type);
        if (!p->source_types[i] || !p->target_types[i]) goto oom;
    }
    p->keys = key_list(target, "");
    p->keys_desc = key_list(target, " DESC");
    p->key_texts = key_list(target, "::text");
    cdc_buf_t f;
    cdc_buf_init(&f);
    cdc_buf_puts(&f, "");
    if (v->soft && target->deleted_column >= 0) {
        cdc_buf_puts(&f, " AND NOT ");
        cdc_pg_sql_quote_ident(&f, target->columns[target->deleted_column].name);
    }
    p->target_filter = buf_take(&f);
    if (pair_digest(v, p) != 0 || !p->keys || !p->keys_desc || !p->key_texts ||
        !p->target_filter)
        goto oom;
    return p;
oom:
    cdc_pg_pair_free(p);
    cdc_errstr_set(errstr, errstr_size, "out of memory");
    return NULL;
}

pg_pair_t *cdc_pg_pair_find(const pg_verifier_t *v, const cdc_verify_table_t *t)
{
    for (size_t i = 0; i < v->npairs; i++)
        if (v->pairs[i]->table == t) return v->pairs[i];
    return NULL;
}

void cdc_pg_pair_text_array(cdc_buf_t *b, const char *const *items, size_t n)
{
    cdc_buf_putc(b, '{');
    for (size_t i = 0; i < n; i++) /* it puts the commas */
        cdc_pg_value_array_element(b, items[i] ? items[i] : "",
                                   items[i] ? strlen(items[i]) : 0, !items[i]);
    cdc_buf_putc(b, '}');
}

pg_pair_t *cdc_pg_pair_for(pg_verifier_t *v, PGconn *source,
                           cdc_verify_table_t *t, char *errstr,
                           size_t errstr_size)
{
    for (size_t i = 0; i < v->npairs; i++)
        if (v->pairs[i]->table == t) return v->pairs[i];
    cdc_pg_table_t *target = NULL, *src = NULL;
    if (cdc_pg_table_load(v->sink->pool[0].conn, v->sink->schema, t->target,
                          &v->sink->table_options, &target, errstr,
                          errstr_size) != CDC_PG_OK)
        return NULL;
    if (cdc_pg_table_read(source, t->source_schema, t->source_table, &src,
                          errstr, errstr_size) != CDC_PG_OK) {
        cdc_pg_table_free(target);
        return NULL;
    }
    pg_pair_t *p = pair_build(v, target, src, errstr, errstr_size);
    if (!p) return NULL;
    pg_pair_t **grown = realloc(v->pairs, (v->npairs + 1) * sizeof *grown);
    if (!grown) {
        cdc_pg_pair_free(p);
        cdc_errstr_set(errstr, errstr_size, "out of memory");
        return NULL;
    }
    v->pairs = grown;
    p->table = t;
    v->pairs[v->npairs++] = p;
    free(t->target_shown);
    t->target_shown = strdup(target->qualified);
    return p;
}

