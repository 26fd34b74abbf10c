#include "verify_doc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "errstr.h"
#include "route.h"
#include "source.h"
#include "verify_docsql.h"

typedef struct vdoc_table {
    const cdc_verify_table_t *t;
    cdc_docsql_table_t *sql;
} vdoc_table_t;

typedef struct vdoc {
    const cdc_vdoc_store_t *store;
    void *st;
    char *key_fields;   /* pk.fields */
    bool keeps_deleted; /* delete.mode=none */
    bool soft;          /* delete.mode=soft */
    bool textual;       /* the store keeps text (a Redis hash) */
    vdoc_table_t *tables;
    size_t ntables;
} vdoc_t;

/* What comparing one key found. */
typedef struct doc_result {
    bool present;     /* the source has the row */
    bool live;        /* the store has a document, not soft-deleted */
    bool equal;
    char digest[24];  /* of the source row (16 hex digits), "" when it has none */
} doc_result_t;

/* A batch of keys: their ${key} texts and parts. */
typedef struct key_batch {
    char **texts;
    char ***parts;
    size_t n, cap, nparts;
} key_batch_t;

void *cdc_vdoc_open(const cdc_config_t *cfg, const cdc_vdoc_store_t *store, void *st,
                    bool textual, char *errstr, size_t errstr_size)
{
    vdoc_t *v = calloc(1, sizeof *v);
    const char *fields = cdc_config_settings(cfg)->pk_fields;
    if (!v || !(v->key_fields = strdup(fields ? fields : ""))) {
        free(v);
        store->close(st);
        cdc_errstr_set(errstr, errstr_size, "out of memory");
        return NULL;
    }
    v->store = store;
    v->st = st;
    v->textual = textual;
    const char *mode = cdc_config_settings(cfg)->delete_mode;
    v->keeps_deleted = strcmp(mode, "none") == 0;
    v->soft = strcmp(mode, "soft") == 0;
    return v;
}

void cdc_vdoc_close(void *state)
{
    vdoc_t *v = state;
    if (!v) return;
    for (size_t i = 0; i < v->ntables; i++) cdc_docsql_table_free(v->tables[i].sql);
    free(v->tables);
    v->store->close(v->st);
    free(v->key_fields);
    free(v);
}

static cdc_docsql_table_t *table_for(vdoc_t *v, PGconn *source, const cdc_verify_table_t *t,
                                     char *errstr, size_t errstr_size)
{
    for (size_t i = 0; i < v->ntables; i++)
        if (v->tables[i].t == t) return v->tables[i].sql;
    vdoc_table_t *grown = realloc(v->tables, (v->ntables + 1) * sizeof *grown);
    if (!grown) return cdc_errstr_set(errstr, errstr_size, "out of memory"), NULL;
    v->tables = grown;
    cdc_docsql_table_t *sql =
        cdc_docsql_table_load(source, t->source_schema, t->source_table, v->key_fields,
                              v->textual, errstr, errstr_size);
    if (!sql) return NULL;
    v->tables[v->ntables++] = (vdoc_table_t){t, sql};
    return sql;
}

/* ---------------------------------------------------------------------
 * Batches of keys
 * ------------------------------------------------------------------- */

static void batch_clear(key_batch_t *b)
{
    for (size_t i = 0; i < b->n; i++) {
        free(b->texts[i]);
        cdc_route_key_parts_free(b->parts[i], b->nparts);
    }
    b->n = 0;
}

static void batch_free(key_batch_t *b)
{
    batch_clear(b);
    free(b->texts);
    free(b->parts);
}

/* Adds a key by its parts (copied); -1 when out of memory. */
static int batch_add_parts(key_batch_t *b, char *const *parts)
{
    if (b->n == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 64;
        char **texts = realloc(b->texts, cap * sizeof *texts);
        if (texts) b->texts = texts;
        char ***p = realloc(b->parts, cap * sizeof *p);
        if (p) b->parts = p;
        if (!texts || !p) return -1;
        b->cap = cap;
    }
    char **copy = calloc(b->nparts + 1, sizeof *copy);
    cdc_buf_t text;
    cdc_buf_init(&text);
    for (size_t k = 0; copy && k < b->nparts; k++) {
        if (parts[k] && !(copy[k] = strdup(parts[k]))) text.failed = true;
        cdc_route_key_part(&text, k, parts[k], parts[k] ? strlen(parts[k]) : 0);
    }
    if (!copy || text.failed) {
        cdc_route_key_parts_free(copy, b->nparts);
        cdc_buf_free(&text);
        return -1;
    }
    b->texts[b->n] = text.data ? text.data : strdup("");
    b->parts[b->n++] = copy;
    return b->texts[b->n - 1] ? 0 : -1;
}

/* A text[] literal: {"a","b",NULL}. */
static void text_array(cdc_buf_t *b, char *const *items, size_t n)
{
    cdc_buf_putc(b, '{');
    for (size_t i = 0; i < n; i++) {
        if (i) cdc_buf_putc(b, ',');
        if (!items[i]) {
            cdc_buf_puts(b, "NULL");
            continue;
        }
        cdc_buf_putc(b, '"');
        for (const char *p = items[i]; *p; p++) {
            if (*p == '"' || *p == '\\') cdc_buf_putc(b, '\\');
            cdc_buf_putc(b, *p);
        }
        cdc_buf_putc(b, '"');
    }
    cdc_buf_putc(b, '}');
}

/* Runs sql over keys [from, from+n) of the batch, with one text[] per key
 * column and, when docs is not NULL, one of documents. */
static PGresult *run_keys(PGconn *source, const char *sql, const key_batch_t *b,
                          size_t from, size_t n, char *const *docs)
{
    size_t nparams = b->nparts + (docs != NULL);
    cdc_buf_t *arrays = calloc(nparams, sizeof *arrays);
    const char **values = calloc(nparams, sizeof *values);
    char **column = calloc(n + 1, sizeof *column);
    PGresult *res = NULL;
    if (arrays && values && column) {
        for (size_t k = 0; k < nparams; k++) {
            cdc_buf_init(&arrays[k]);
            for (size_t i = 0; i < n; i++)
                column[i] = k < b->nparts ? b->parts[from + i][k] : docs[from + i];
            text_array(&arrays[k], column, n);
            values[k] = arrays[k].data;
        }
        res = PQexecParams(source, sql, (int)nparams, NULL, values, NULL, NULL, 0);
    }
    for (size_t k = 0; arrays && k < nparams; k++) cdc_buf_free(&arrays[k]);
    free(arrays);
    free(values);
    free(column);
    return res;
}

/* ---------------------------------------------------------------------
 * Comparing keys
 * ------------------------------------------------------------------- */

/* The rows of a compare statement into out[ordinal - 1 + from]. */
static void read_compare(const PGresult *res, size_t from, doc_result_t *out, size_t n)
{
    for (int r = 0; r < PQntuples(res); r++) {
        long i = atol(PQgetvalue(res, r, 0)) - 1;
        if (i < 0 || (size_t)i >= n) continue;
        doc_result_t *d = &out[from + (size_t)i];
        d->present = PQgetvalue(res, r, 1)[0] == 't';
        snprintf(d->digest, sizeof d->digest, "%s", PQgetvalue(res, r, 2));
        d->live = PQgetvalue(res, r, 3)[0] == 't';
        d->equal = PQgetvalue(res, r, 4)[0] == 't';
    }
}

/* A key the compare statement failed on (a document member that does not
 * read as its column's type, a key that is not one of the source's): its
 * row is looked up alone; the document, if live, differs. */
static int compare_alone(PGconn *source, const cdc_docsql_table_t *sql, const key_batch_t *b,
                         size_t i, char *const *docs, doc_result_t *d, char *errstr,
                         size_t errstr_size)
{
    PGresult *res = run_keys(source, sql->exists_sql, b, i, 1, NULL);
    ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
    if (!res || (st != PGRES_TUPLES_OK && PQstatus(source) != CONNECTION_OK)) {
        int rc = cdc_source_error(errstr, errstr_size, "comparing documents", source, res);
        PQclear(res);
        return rc;
    }
    /* a key that does not cast to the source's key is none of its rows */
    d->present = st == PGRES_TUPLES_OK && PQntuples(res) == 0;
    d->live = docs[i] != NULL;
    d->equal = false;
    d->digest[0] = '\0';
    PQclear(res);
    return 0;
}

/* Compares the documents of keys [0, b->n) with the source's rows. */
static int compare_keys(vdoc_t *v, PGconn *source, const cdc_verify_table_t *t,
                        const cdc_docsql_table_t *sql, const key_batch_t *b,
                        doc_result_t *out, char *errstr, size_t errstr_size)
{
    char **docs = calloc(b->n + 1, sizeof *docs);
    if (!docs) return cdc_errstr_set(errstr, errstr_size, "out of memory"), -1;
    memset(out, 0, b->n * sizeof *out);
    int rc = v->store->fetch(v->st, t, (const char *const *)b->texts, b->n, docs, errstr,
                             errstr_size);
    if (rc == 0) {
        PGresult *res = run_keys(source, sql->compare_sql, b, 0, b->n, docs);
        if (res && PQresultStatus(res) == PGRES_TUPLES_OK) {
            read_compare(res, 0, out, b->n);
        } else if (PQstatus(source) != CONNECTION_OK) {
            rc = cdc_source_error(errstr, errstr_size, "comparing documents", source, res);
        } else { /* one of them does not read as the source's types */
            for (size_t i = 0; rc == 0 && i < b->n; i++) {
                PGresult *one = run_keys(source, sql->compare_sql, b, i, 1, docs);
                if (one && PQresultStatus(one) == PGRES_TUPLES_OK)
                    read_compare(one, i, out, b->n);
                else
                    rc = compare_alone(source, sql, b, i, docs, &out[i], errstr, errstr_size);
                PQclear(one);
            }
        }
        PQclear(res);
    }
    for (size_t i = 0; i < b->n; i++) free(docs[i]);
    free(docs);
    return rc;
}

/* -1: equal; else what the difference is. */
static int difference(const vdoc_t *v, const doc_result_t *d)
{
    if (d->present && d->live) return d->equal ? -1 : CDC_VERIFY_DIFFERENT;
    if (d->present) return CDC_VERIFY_MISSING;
    if (d->live && !v->keeps_deleted) return CDC_VERIFY_EXTRA;
    return -1;
}

/* Adds the differing keys of a batch; rows the source lacks are left to
 * the store's listing (skip_absent), so that no key is added twice. */
static int add_differences(const vdoc_t *v, cdc_verify_table_t *t, const key_batch_t *b,
                           const doc_result_t *res, bool skip_absent)
{
    for (size_t i = 0; i < b->n; i++) {
        if (skip_absent && !res[i].present) continue;
        int kind = difference(v, &res[i]);
        if (kind >= 0 && cdc_verify_add_candidate(t, (cdc_verify_kind_t)kind,
                                                  (const char *const *)b->parts[i],
                                                  b->nparts, res[i].digest) != 0)
            return -1;
    }
    return 0;
}

/* Compares the rows a keyset or sample statement read (raw key texts,
 * then ${key} parts). */
static int compare_rows(vdoc_t *v, PGconn *source, cdc_verify_table_t *t,
                        const cdc_docsql_table_t *sql, const PGresult *rows, key_batch_t *b,
                        char *errstr, size_t errstr_size)
{
    batch_clear(b);
    char *parts[64];
    for (int r = 0; r < PQntuples(rows); r++) {
        for (size_t k = 0; k < sql->nkeys; k++)
            parts[k] = PQgetisnull(rows, r, (int)(sql->nkeys + k))
                           ? NULL : PQgetvalue(rows, r, (int)(sql->nkeys + k));
        if (batch_add_parts(b, parts) != 0)
            return cdc_errstr_set(errstr, errstr_size, "out of memory"), -1;
    }
    doc_result_t *res = calloc(b->n + 1, sizeof *res);
    int rc = res ? compare_keys(v, source, t, sql, b, res, errstr, errstr_size)
                 : (cdc_errstr_set(errstr, errstr_size, "out of memory"), -1);
    if (rc == 0 && add_differences(v, t, b, res, true) != 0)
        rc = (cdc_errstr_set(errstr, errstr_size, "out of memory"), -1);
    t->compared += (int64_t)b->n;
    free(res);
    return rc;
}

/* ---------------------------------------------------------------------
 * The store's documents the source lacks
 * ------------------------------------------------------------------- */

typedef struct listing {
    vdoc_t *v;
    PGconn *source;
    cdc_verify_table_t *t;
    const cdc_docsql_table_t *sql;
    key_batch_t batch;
    char *errstr;
    size_t errstr_size;
    int failed;
} listing_t;

/* The keys of the batch the source has no row for: flags absent[i]. */
static int find_absent(listing_t *l, bool *absent)
{
    PGresult *res = run_keys(l->source, l->sql->exists_sql, &l->batch, 0, l->batch.n, NULL);
    if (res && PQresultStatus(res) == PGRES_TUPLES_OK) {
        for (int r = 0; r < PQntuples(res); r++) {
            long i = atol(PQgetvalue(res, r, 0)) - 1;
            if (i >= 0 && (size_t)i < l->batch.n) absent[i] = true;
        }
        PQclear(res);
        return 0;
    }
    if (PQstatus(l->source) != CONNECTION_OK) {
        int rc = cdc_source_error(l->errstr, l->errstr_size, "listing documents", l->source, res);
        PQclear(res);
        return rc;
    }
    PQclear(res);
    for (size_t i = 0; i < l->batch.n; i++) { /* one key does not cast: alone */
        PGresult *one = run_keys(l->source, l->sql->exists_sql, &l->batch, i, 1, NULL);
        absent[i] = !one || PQresultStatus(one) != PGRES_TUPLES_OK || PQntuples(one) == 1;
        PQclear(one);
    }
    return 0;
}

/* The absent keys' documents, read again: soft-deleted ones are not extra. */
static int add_extra(listing_t *l, const bool *absent)
{
    key_batch_t gone = {.nparts = l->batch.nparts};
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < l->batch.n; i++)
        if (absent[i] && batch_add_parts(&gone, l->batch.parts[i]) != 0)
            rc = (cdc_errstr_set(l->errstr, l->errstr_size, "out of memory"), -1);
    doc_result_t *res = calloc(gone.n + 1, sizeof *res);
    if (rc == 0 && gone.n && res)
        rc = compare_keys(l->v, l->source, l->t, l->sql, &gone, res, l->errstr, l->errstr_size);
    if (rc == 0 && gone.n && add_differences(l->v, l->t, &gone, res, false) != 0)
        rc = (cdc_errstr_set(l->errstr, l->errstr_size, "out of memory"), -1);
    free(res);
    batch_free(&gone);
    return rc;
}

/* A batch of the store's keys: a key of another shape than the table's
 * (its number of parts) cannot be a source row, and is extra too. */
static int each_listed(void *arg, char *const *keys, size_t n)
{
    listing_t *l = arg;
    batch_clear(&l->batch);
    for (size_t i = 0; i < n && !l->failed; i++) {
        char **parts = NULL;
        int nparts = cdc_route_key_split(keys[i], &parts);
        if (nparts < 0) l->failed = -1;
        else if ((size_t)nparts == l->sql->nkeys && batch_add_parts(&l->batch, parts) != 0)
            l->failed = -1;
        else if ((size_t)nparts != l->sql->nkeys) {
            cdc_verify_add_candidate(l->t, CDC_VERIFY_EXTRA, (const char *const *)parts,
                                     (size_t)nparts, "");
        }
        cdc_route_key_parts_free(parts, nparts > 0 ? (size_t)nparts : 0);
    }
    if (l->failed) return cdc_errstr_set(l->errstr, l->errstr_size, "out of memory"), -1;
    bool *absent = calloc(l->batch.n + 1, sizeof *absent);
    if (!absent) return l->failed = -1;
    if (find_absent(l, absent) != 0 || add_extra(l, absent) != 0) l->failed = -1;
    free(absent);
    return l->failed;
}

static int list_store(vdoc_t *v, PGconn *source, cdc_verify_table_t *t,
                      const cdc_docsql_table_t *sql, int64_t limit, char *errstr,
                      size_t errstr_size)
{
    listing_t l = {.v = v, .source = source, .t = t, .sql = sql,
                   .batch = {.nparts = sql->nkeys}, .errstr = errstr,
                   .errstr_size = errstr_size};
    int rc = v->store->scan(v->st, t, limit, each_listed, &l, errstr, errstr_size);
    batch_free(&l.batch);
    return rc != 0 || l.failed ? -1 : 0;
}

static int by_text(const void *x, const void *y)
{
    const cdc_verify_key_t *a = x, *b = y;
    return strcmp(a->text, b->text);
}

/* Sets what the report shows for the table, and the sql of it. */
static const cdc_docsql_table_t *begin_table(vdoc_t *v, PGconn *source, cdc_verify_table_t *t,
                                             char *errstr, size_t errstr_size)
{
    const cdc_docsql_table_t *sql = table_for(v, source, t, errstr, errstr_size);
    if (!sql) return NULL;
    if (!t->target_shown && v->store->shown) t->target_shown = v->store->shown(v->st, t);
    if (sql->nkeys > 64) {
        cdc_errstr_set(errstr, errstr_size, "%s has more than 64 key columns", sql->qualified);
        return NULL;
    }
    return sql;
}

/* ---------------------------------------------------------------------
 * The verifier's operations
 * ------------------------------------------------------------------- */

int cdc_vdoc_compare(void *state, PGconn *source, cdc_verify_table_t *t,
                     cdc_verify_pace_t *pace, char *errstr, size_t errstr_size)
{
    vdoc_t *v = state;
    const cdc_docsql_table_t *sql = begin_table(v, source, t, errstr, errstr_size);
    if (!sql) return -1;
    key_batch_t b = {.nparts = sql->nkeys};
    char *last[64] = {0};
    int rc = 0;
    for (;;) {
        PGresult *rows = PQexecParams(source, sql->keyset_sql, (int)sql->nkeys, NULL,
                                      (const char *const *)last, NULL, NULL, 0);
        if (PQresultStatus(rows) != PGRES_TUPLES_OK) {
            rc = cdc_source_error(errstr, errstr_size, "reading the source", source, rows);
            PQclear(rows);
            break;
        }
        int n = PQntuples(rows);
        rc = compare_rows(v, source, t, sql, rows, &b, errstr, errstr_size);
        for (size_t k = 0; rc == 0 && n > 0 && k < sql->nkeys; k++) {
            free(last[k]);
            if (!(last[k] = strdup(PQgetvalue(rows, n - 1, (int)k))))
                rc = (cdc_errstr_set(errstr, errstr_size, "out of memory"), -1);
        }
        PQclear(rows);
        if (rc == 0 && cdc_verify_pace(pace, n) != 0)
            rc = (cdc_errstr_set(errstr, errstr_size, "stopped"), -1);
        if (rc != 0 || n == 0 || !last[0]) break;
    }
    for (size_t k = 0; k < sql->nkeys; k++) free(last[k]);
    batch_free(&b);
    if (rc == 0) rc = list_store(v, source, t, sql, 0, errstr, errstr_size);
    if (rc == 0 && t->ncandidates > 1)
        qsort(t->candidates, t->ncandidates, sizeof *t->candidates, by_text);
    return rc;
}

/* The share of the table's pages that holds about 2n rows. */
static double sample_percent(PGconn *source, const cdc_docsql_table_t *sql, int64_t n)
{
    const char *params[] = {sql->qualified};
    PGresult *res = PQexecParams(source, "SELECT reltuples FROM pg_class WHERE oid = "
                                 "to_regclass($1)", 1, NULL, params, NULL, NULL, 0);
    double rows = PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1
                      ? atof(PQgetvalue(res, 0, 0)) : -1;
    PQclear(res);
    if (rows <= 0) return 100;
    double pct = 200.0 * (double)n / rows;
    return pct > 100 ? 100 : pct < 0.0001 ? 0.0001 : pct;
}

int cdc_vdoc_sample(void *state, PGconn *source, cdc_verify_table_t *t, int64_t n,
                    cdc_verify_pace_t *pace, char *errstr, size_t errstr_size)
{
    vdoc_t *v = state;
    const cdc_docsql_table_t *sql = begin_table(v, source, t, errstr, errstr_size);
    if (!sql) return -1;
    char pct[32], limit[32];
    snprintf(pct, sizeof pct, "%.6f", sample_percent(source, sql, n));
    snprintf(limit, sizeof limit, "%lld", (long long)n);
    const char *params[] = {pct, limit};
    PGresult *rows = PQexecParams(source, sql->sample_sql, 2, NULL, params, NULL, NULL, 0);
    key_batch_t b = {.nparts = sql->nkeys};
    int rc = PQresultStatus(rows) == PGRES_TUPLES_OK
                 ? compare_rows(v, source, t, sql, rows, &b, errstr, errstr_size)
                 : cdc_source_error(errstr, errstr_size, "sampling the source", source, rows);
    if (rc == 0 && cdc_verify_pace(pace, PQntuples(rows)) != 0)
        rc = (cdc_errstr_set(errstr, errstr_size, "stopped"), -1);
    PQclear(rows);
    batch_free(&b);
    if (rc == 0) rc = list_store(v, source, t, sql, n, errstr, errstr_size);
    if (rc == 0 && t->ncandidates > 1)
        qsort(t->candidates, t->ncandidates, sizeof *t->candidates, by_text);
    return rc;
}

int cdc_vdoc_recheck(void *state, PGconn *source, const cdc_verify_table_t *t,
                     cdc_verify_key_t *key, char *errstr, size_t errstr_size)
{
    vdoc_t *v = state;
    const cdc_docsql_table_t *sql = table_for(v, source, t, errstr, errstr_size);
    if (!sql) return -1;
    if (key->nparts != sql->nkeys) return 1; /* not a key of the source's shape */
    key_batch_t b = {.nparts = sql->nkeys};
    doc_result_t d;
    int rc = batch_add_parts(&b, key->parts) != 0
                 ? (cdc_errstr_set(errstr, errstr_size, "out of memory"), -1)
                 : compare_keys(v, source, t, sql, &b, &d, errstr, errstr_size);
    batch_free(&b);
    if (rc != 0) return -1;
    int kind = difference(v, &d);
    if (strcmp(d.digest, key->source_digest) != 0) key->moving = true;
    snprintf(key->source_digest, sizeof key->source_digest, "%s", d.digest);
    if (kind < 0) return 0;
    key->kind = (cdc_verify_kind_t)kind;
    return 1;
}

/* The members of a document as text, for a textual store. */
static int row_fields(PGconn *source, const char *json, cdc_vdoc_row_t *row, char *errstr,
                      size_t errstr_size)
{
    const char *params[] = {json};
    PGresult *res = PQexecParams(source, "SELECT key, value FROM json_each_text($1::json)", 1,
                                 NULL, params, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        int rc = cdc_source_error(errstr, errstr_size, "rendering a row", source, res);
        PQclear(res);
        return rc;
    }
    size_t n = (size_t)PQntuples(res);
    row->names = calloc(n + 1, sizeof *row->names);
    row->texts = calloc(n + 1, sizeof *row->texts);
    int rc = row->names && row->texts ? 0 : -1;
    for (size_t i = 0; rc == 0 && i < n; i++, row->n++) {
        if (!(row->names[i] = strdup(PQgetvalue(res, (int)i, 0)))) rc = -1;
        if (!PQgetisnull(res, (int)i, 1) && !(row->texts[i] = strdup(PQgetvalue(res, (int)i, 1))))
            rc = -1;
    }
    PQclear(res);
    return rc == 0 ? 0 : (cdc_errstr_set(errstr, errstr_size, "out of memory"), -1);
}

static void row_free(cdc_vdoc_row_t *row)
{
    for (size_t i = 0; i < row->n; i++) {
        free(row->names[i]);
        free(row->texts[i]);
    }
    free(row->names);
    free(row->texts);
}

int cdc_vdoc_repair(void *state, PGconn *source, const cdc_verify_table_t *t,
                    const cdc_verify_key_t *key, char *errstr, size_t errstr_size)
{
    vdoc_t *v = state;
    const cdc_docsql_table_t *sql = table_for(v, source, t, errstr, errstr_size);
    if (!sql) return -1;
    cdc_vdoc_row_t row = {.soft = v->soft};
    PGresult *res = NULL;
    if (key->nparts == sql->nkeys) { /* else no row of the source's: a delete */
        res = PQexecParams(source, sql->render_sql, (int)sql->nkeys, NULL,
                           (const char *const *)key->parts, NULL, NULL, 0);
        if (PQresultStatus(res) != PGRES_TUPLES_OK && PQstatus(source) != CONNECTION_OK) {
            int rc = cdc_source_error(errstr, errstr_size, "reading the source's row", source, res);
            PQclear(res);
            return rc;
        }
        if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1)
            row.json = PQgetvalue(res, 0, 0);
    }
    int rc = 0;
    if (row.json && v->textual)
        rc = row_fields(source, row.json, &row, errstr, errstr_size);
    if (rc == 0) rc = v->store->write(v->st, t, key->text, &row, errstr, errstr_size);
    row_free(&row);
    PQclear(res);
    return rc;
}
