#include "pg_verify.h"

#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "errstr.h"
#include "pg_sink.h"
#include "pg_sql.h"
#include "pg_table.h"
#include "pg_value.h"
#include "route.h"
#include "source.h"

/* A source table and its replica, with the SQL that compares them. */
typedef struct pg_pair {
    const cdc_verify_table_t *table; /* the core's; identifies the pair */
    cdc_pg_table_t *target, *source;
    int *cols;           /* the compared columns, replica indexes */
    size_t ncols;
    char *digest;        /* the row digest expression, the same on both sides */
    char *keys;          /* "k1", "k2" (target order) */
    char *keys_desc;     /* "k1" DESC, "k2" DESC */
    char *key_texts;     /* "k1"::text, "k2"::text */
    char **source_types, **target_types; /* of the key columns */
    char *target_filter; /* " AND NOT deleted" or "" */
} pg_pair_t;

typedef struct pg_verifier {
    pg_sink_t *sink;
    bool keeps_deleted; /* delete.mode=none: the source's deletes stay */
    bool soft;          /* delete.mode=soft */
    pg_pair_t **pairs;
    size_t npairs;
} pg_verifier_t;

static void pair_free(pg_pair_t *p)
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

static void *pgv_open(const cdc_config_t *cfg, char *errstr, size_t errstr_size)
{
    pg_verifier_t *v = calloc(1, sizeof *v);
    if (!v) {
        cdc_errstr_set(errstr, errstr_size, "out of memory");
        return NULL;
    }
    if (!(v->sink = cdc_pg_sink_connect_reader(cfg, errstr, errstr_size))) {
        free(v);
        return NULL;
    }
    const char *mode = cdc_config_settings(cfg)->delete_mode;
    v->keeps_deleted = strcmp(mode, "none") == 0;
    v->soft = strcmp(mode, "soft") == 0;
    PGresult *res = PQexec(v->sink->pool[0].conn,
                           "SET default_transaction_read_only = on");
    PQclear(res);
    return v;
}

static void pgv_close(void *state)
{
    pg_verifier_t *v = state;
    for (size_t i = 0; i < v->npairs; i++) pair_free(v->pairs[i]);
    free(v->pairs);
    cdc_pg_sink_free(v->sink);
    free(v);
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
static void key_condition(cdc_buf_t *b, const pg_pair_t *p, char *const *types,
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
        pair_free(p);
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
            pair_free(p);
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
    pair_free(p);
    cdc_errstr_set(errstr, errstr_size, "out of memory");
    return NULL;
}

/* ---------------------------------------------------------------------
 * Ranges
 * ------------------------------------------------------------------- */

typedef struct range_sum {
    long long rows;
    char sum[48];
    char **last; /* the range's last key (source side), npk texts */
} range_sum_t;

static void range_sum_free(range_sum_t *r, size_t npk)
{
    for (size_t i = 0; r->last && i < npk; i++) free(r->last[i]);
    free(r->last);
    r->last = NULL;
}

#define DIGEST64 "coalesce(sum(('x' || left(%s, 16))::bit(64)::bigint), 0)::text"

/* The next PG_VERIFY_RANGE_ROWS source rows after `lo` (NULL: from the
 * first): their count, digest sum and last key. */
static int source_range(PGconn *source, const pg_pair_t *p, char *const *lo,
                        range_sum_t *out, char *errstr, size_t errstr_size)
{
    size_t npk = p->target->npk;
    cdc_buf_t q;
    cdc_buf_init(&q);
    cdc_buf_puts(&q, "WITH c AS (SELECT ");
    cdc_buf_puts(&q, p->keys);
    cdc_buf_puts(&q, ", ");
    cdc_buf_puts(&q, p->digest);
    cdc_buf_puts(&q, " AS d FROM ");
    cdc_buf_puts(&q, p->source->qualified);
    cdc_buf_puts(&q, " WHERE true");
    if (lo) key_condition(&q, p, p->source_types, ">", 1);
    char tail[160];
    snprintf(tail, sizeof tail, " ORDER BY %s LIMIT %d) SELECT count(*), ", p->keys,
             PG_VERIFY_RANGE_ROWS);
    cdc_buf_puts(&q, tail);
    char sum[96];
    snprintf(sum, sizeof sum, DIGEST64, "d");
    cdc_buf_puts(&q, sum);
    for (size_t i = 0; i < npk; i++) {
        cdc_buf_puts(&q, ", (SELECT ");
        cdc_pg_sql_quote_ident(&q, p->target->columns[p->target->pk[i]].name);
        cdc_buf_puts(&q, "::text FROM c ORDER BY ");
        cdc_buf_puts(&q, p->keys_desc);
        cdc_buf_puts(&q, " LIMIT 1)");
    }
    cdc_buf_puts(&q, " FROM c");
    if (q.failed) {
        cdc_buf_free(&q);
        return cdc_errstr_set(errstr, errstr_size, "out of memory");
    }
    PGresult *res = PQexecParams(source, q.data, lo ? (int)npk : 0, NULL,
                                 (const char *const *)lo, NULL, NULL, 0);
    cdc_buf_free(&q);
    int rc = 0;
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        rc = cdc_source_error(errstr, errstr_size, "reading the source", source, res);
    } else {
        out->rows = atoll(PQgetvalue(res, 0, 0));
        snprintf(out->sum, sizeof out->sum, "%s", PQgetvalue(res, 0, 1));
        out->last = calloc(npk + 1, sizeof *out->last);
        for (size_t i = 0; out->last && i < npk; i++)
            out->last[i] = PQgetisnull(res, 0, 2 + (int)i)
                               ? NULL : strdup(PQgetvalue(res, 0, 2 + (int)i));
        if (!out->last) rc = cdc_errstr_set(errstr, errstr_size, "out of memory");
    }
    PQclear(res);
    return rc;
}

/* SELECT <what> FROM the replica (or the source) WHERE lo < key <= hi. */
static PGresult *range_query(PGconn *conn, const pg_pair_t *p, bool target_side,
                             const char *what, const char *order,
                             char *const *lo, char *const *hi)
{
    size_t npk = p->target->npk;
    char *const *types = target_side ? p->target_types : p->source_types;
    cdc_buf_t q;
    cdc_buf_init(&q);
    cdc_buf_puts(&q, "SELECT ");
    cdc_buf_puts(&q, what);
    cdc_buf_puts(&q, " FROM ");
    cdc_buf_puts(&q, target_side ? p->target->qualified : p->source->qualified);
    cdc_buf_puts(&q, " WHERE true");
    const char *params[2 * PG_VERIFY_MAX_KEY_COLUMNS];
    int n = 0;
    if (lo) {
        key_condition(&q, p, types, ">", n + 1);
        for (size_t i = 0; i < npk; i++) params[n++] = lo[i];
    }
    if (hi) {
        key_condition(&q, p, types, "<=", n + 1);
        for (size_t i = 0; i < npk; i++) params[n++] = hi[i];
    }
    if (target_side) cdc_buf_puts(&q, p->target_filter);
    if (order) {
        cdc_buf_puts(&q, " ORDER BY ");
        cdc_buf_puts(&q, order);
    }
    PGresult *res = q.failed ? NULL
                             : PQexecParams(conn, q.data, n, NULL, params, NULL, NULL, 0);
    cdc_buf_free(&q);
    return res;
}

/* ---------------------------------------------------------------------
 * The keys of a range whose sums differ
 * ------------------------------------------------------------------- */

typedef struct row_ref {
    const PGresult *res;
    int row;
    char *key; /* joined as ${key} */
} row_ref_t;

static int row_ref_cmp(const void *a, const void *b)
{
    return strcmp(((const row_ref_t *)a)->key, ((const row_ref_t *)b)->key);
}

static row_ref_t *rows_sorted(const PGresult *res, size_t npk)
{
    int n = PQntuples(res);
    row_ref_t *rows = calloc((size_t)n + 1, sizeof *rows);
    cdc_buf_t b;
    cdc_buf_init(&b);
    for (int r = 0; rows && r < n; r++) {
        cdc_buf_reset(&b);
        for (size_t i = 0; i < npk; i++) {
            const char *v = PQgetisnull(res, r, (int)i) ? NULL : PQgetvalue(res, r, (int)i);
            cdc_route_key_part(&b, i, v, v ? strlen(v) : 0);
        }
        rows[r] = (row_ref_t){res, r, strdup(b.data ? b.data : "")};
    }
    cdc_buf_free(&b);
    if (rows) qsort(rows, (size_t)n, sizeof *rows, row_ref_cmp);
    return rows;
}

static void rows_free(row_ref_t *rows, int n)
{
    for (int i = 0; rows && i < n; i++) free(rows[i].key);
    free(rows);
}

static int add_row_candidate(cdc_verify_table_t *t, cdc_verify_kind_t kind,
                             const row_ref_t *ref, size_t npk,
                             const char *source_digest)
{
    const char *parts[PG_VERIFY_MAX_KEY_COLUMNS];
    for (size_t i = 0; i < npk; i++)
        parts[i] = PQgetisnull(ref->res, ref->row, (int)i)
                       ? NULL : PQgetvalue(ref->res, ref->row, (int)i);
    char digest[24];
    snprintf(digest, sizeof digest, "%.16s", source_digest ? source_digest : "");
    return cdc_verify_add_candidate(t, kind, parts, npk, digest);
}

/* Merges the two sides' (key, digest) rows, both sorted by key text. */
static int diff_rows(cdc_verify_table_t *t, const pg_verifier_t *v,
                     const PGresult *src, const PGresult *tgt, size_t npk)
{
    int ns = PQntuples(src), nt = PQntuples(tgt);
    row_ref_t *a = rows_sorted(src, npk), *b = rows_sorted(tgt, npk);
    int rc = a && b ? 0 : -1;
    int i = 0, j = 0, dcol = (int)npk;
    while (rc == 0 && (i < ns || j < nt)) {
        int c = i >= ns ? 1 : j >= nt ? -1 : strcmp(a[i].key, b[j].key);
        if (c < 0) {
            rc = add_row_candidate(t, CDC_VERIFY_MISSING, &a[i], npk,
                                   PQgetvalue(src, a[i].row, dcol));
            i++;
        } else if (c > 0) {
            if (!v->keeps_deleted)
                rc = add_row_candidate(t, CDC_VERIFY_EXTRA, &b[j], npk, NULL);
            j++;
        } else {
            const char *ds = PQgetvalue(src, a[i].row, dcol);
            if (strcmp(ds, PQgetvalue(tgt, b[j].row, dcol)) != 0)
                rc = add_row_candidate(t, CDC_VERIFY_DIFFERENT, &a[i], npk, ds);
            i++;
            j++;
        }
    }
    rows_free(a, ns);
    rows_free(b, nt);
    return rc;
}

static int diff_range(const pg_verifier_t *v, PGconn *source, const pg_pair_t *p,
                      cdc_verify_table_t *t, char *const *lo, char *const *hi,
                      char *errstr, size_t errstr_size)
{
    PGconn *target = v->sink->pool[0].conn;
    cdc_buf_t what_s, what_t;
    cdc_buf_init(&what_s);
    cdc_buf_init(&what_t);
    cdc_buf_puts(&what_s, p->key_texts);
    cdc_buf_puts(&what_s, ", ");
    cdc_buf_puts(&what_s, p->digest);
    cdc_buf_puts(&what_t, p->key_texts);
    cdc_buf_puts(&what_t, ", ");
    cdc_buf_puts(&what_t, p->digest);
    PGresult *src = range_query(source, p, false, what_s.data, NULL, lo, hi);
    PGresult *tgt = range_query(target, p, true, what_t.data, NULL, lo, hi);
    int rc = 0;
    if (PQresultStatus(src) != PGRES_TUPLES_OK)
        rc = cdc_source_error(errstr, errstr_size, "reading the source", source, src);
    else if (PQresultStatus(tgt) != PGRES_TUPLES_OK)
        rc = cdc_source_error(errstr, errstr_size, "reading the replica", target, tgt);
    else if (diff_rows(t, v, src, tgt, p->target->npk) != 0)
        rc = cdc_errstr_set(errstr, errstr_size, "out of memory");
    PQclear(src);
    PQclear(tgt);
    cdc_buf_free(&what_s);
    cdc_buf_free(&what_t);
    return rc;
}

/* The replica's count and digest sum of lo < key <= hi. */
static int target_range(const pg_verifier_t *v, const pg_pair_t *p,
                        char *const *lo, char *const *hi, range_sum_t *out,
                        char *errstr, size_t errstr_size)
{
    PGconn *target = v->sink->pool[0].conn;
    cdc_buf_t what;
    cdc_buf_init(&what);
    cdc_buf_puts(&what, "count(*), coalesce(sum(('x' || left(");
    cdc_buf_puts(&what, p->digest);
    cdc_buf_puts(&what, ", 16))::bit(64)::bigint), 0)::text");
    PGresult *res = what.failed ? NULL
                                : range_query(target, p, true, what.data, NULL, lo, hi);
    cdc_buf_free(&what);
    int rc = 0;
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        rc = cdc_source_error(errstr, errstr_size, "reading the replica", target, res);
    } else {
        out->rows = atoll(PQgetvalue(res, 0, 0));
        snprintf(out->sum, sizeof out->sum, "%s", PQgetvalue(res, 0, 1));
    }
    PQclear(res);
    return rc;
}

/* ---------------------------------------------------------------------
 * The contract
 * ------------------------------------------------------------------- */

static pg_pair_t *pair_for(pg_verifier_t *v, PGconn *source,
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
        pair_free(p);
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

static int pgv_compare(void *state, PGconn *source, cdc_verify_table_t *t,
                       cdc_verify_pace_t *pace, char *errstr, size_t errstr_size)
{
    pg_verifier_t *v = state;
    pg_pair_t *p = pair_for(v, source, t, errstr, errstr_size);
    if (!p) return -1;
    size_t npk = p->target->npk;
    char **lo = NULL;
    int rc = 0;
    for (;;) {
        range_sum_t s = {0}, r = {0};
        rc = source_range(source, p, lo, &s, errstr, errstr_size);
        bool last = rc == 0 && s.rows < PG_VERIFY_RANGE_ROWS;
        if (rc == 0)
            rc = target_range(v, p, lo, last ? NULL : s.last, &r, errstr, errstr_size);
        if (rc == 0 && (s.rows != r.rows || strcmp(s.sum, r.sum) != 0))
            rc = diff_range(v, source, p, t, lo, last ? NULL : s.last, errstr, errstr_size);
        t->compared += s.rows;
        if (rc == 0 && cdc_verify_pace(pace, s.rows) != 0)
            rc = cdc_errstr_set(errstr, errstr_size, "interrupted");
        if (lo) {
            range_sum_t old = {.last = lo};
            range_sum_free(&old, npk);
        }
        lo = s.last;
        if (rc != 0 || last) break;
    }
    if (lo) {
        range_sum_t old = {.last = lo};
        range_sum_free(&old, npk);
    }
    return rc;
}

/* One key's digest on one side: 1 and *digest filled when the row is
 * there, 0 when not, -1 with errstr. */
static int key_digest(PGconn *conn, const pg_pair_t *p, bool target_side,
                      const cdc_verify_key_t *k, char *digest, size_t size,
                      char *errstr, size_t errstr_size)
{
    cdc_buf_t q;
    cdc_buf_init(&q);
    cdc_buf_puts(&q, "SELECT ");
    cdc_buf_puts(&q, p->digest);
    cdc_buf_puts(&q, " FROM ");
    cdc_buf_puts(&q, target_side ? p->target->qualified : p->source->qualified);
    cdc_buf_puts(&q, " WHERE true");
    key_condition(&q, p, target_side ? p->target_types : p->source_types, "=", 1);
    if (target_side) cdc_buf_puts(&q, p->target_filter);
    PGresult *res = q.failed ? NULL
                             : PQexecParams(conn, q.data, (int)k->nparts, NULL,
                                            (const char *const *)k->parts, NULL, NULL, 0);
    cdc_buf_free(&q);
    int rc;
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        rc = cdc_source_error(errstr, errstr_size,
                              target_side ? "reading the replica" : "reading the source",
                              conn, res);
    } else if (PQntuples(res) == 0) {
        rc = 0;
    } else {
        snprintf(digest, size, "%.16s", PQgetvalue(res, 0, 0));
        rc = 1;
    }
    PQclear(res);
    return rc;
}

static int pgv_recheck(void *state, PGconn *source, const cdc_verify_table_t *t,
                       cdc_verify_key_t *k, char *errstr, size_t errstr_size)
{
    pg_verifier_t *v = state;
    pg_pair_t *p = NULL;
    for (size_t i = 0; i < v->npairs && !p; i++)
        if (v->pairs[i]->table == t) p = v->pairs[i];
    if (!p) return cdc_errstr_set(errstr, errstr_size, "%s was not compared", t->target);
    char ds[24] = "", dt[24] = "";
    int in_source = key_digest(source, p, false, k, ds, sizeof ds, errstr, errstr_size);
    if (in_source < 0) return -1;
    int in_target = key_digest(v->sink->pool[0].conn, p, true, k, dt, sizeof dt,
                               errstr, errstr_size);
    if (in_target < 0) return -1;
    if (strcmp(ds, k->source_digest) != 0) k->moving = true;
    snprintf(k->source_digest, sizeof k->source_digest, "%s", ds);
    if (in_source && in_target && strcmp(ds, dt) == 0) return 0;
    if (!in_source && !in_target) return 0;
    if (!in_source && v->keeps_deleted) return 0;
    k->kind = !in_source ? CDC_VERIFY_EXTRA
              : !in_target ? CDC_VERIFY_MISSING : CDC_VERIFY_DIFFERENT;
    return 1;
}

/* ---------------------------------------------------------------------
 * --sample N: random keys of each side, compared one by one
 * ------------------------------------------------------------------- */

/* Up to n keys of one side, from a TABLESAMPLE SYSTEM sized by the
 * planner's row estimate (pages, not a full scan). */
static PGresult *sample_keys(PGconn *conn, const pg_pair_t *p, bool target_side,
                             int64_t n)
{
    const cdc_pg_table_t *t = target_side ? p->target : p->source;
    const char *params[1] = {t->qualified};
    PGresult *est = PQexecParams(conn, "SELECT reltuples FROM pg_class WHERE oid = "
                                       "$1::regclass", 1, NULL, params, NULL, NULL, 0);
    double rows = PQresultStatus(est) == PGRES_TUPLES_OK && PQntuples(est) == 1
                      ? atof(PQgetvalue(est, 0, 0)) : -1;
    PQclear(est);
    double pct = rows > 0 ? 200.0 * (double)n / rows : 100.0;
    if (pct > 100.0 || rows < 10000) pct = 100.0;
    char tail[128];
    snprintf(tail, sizeof tail, " TABLESAMPLE SYSTEM (%.6f) WHERE true", pct);
    cdc_buf_t q;
    cdc_buf_init(&q);
    cdc_buf_puts(&q, "SELECT ");
    cdc_buf_puts(&q, p->key_texts);
    cdc_buf_puts(&q, " FROM ");
    cdc_buf_puts(&q, t->qualified);
    cdc_buf_puts(&q, tail);
    if (target_side) cdc_buf_puts(&q, p->target_filter);
    snprintf(tail, sizeof tail, " ORDER BY random() LIMIT %lld", (long long)n);
    cdc_buf_puts(&q, tail);
    PGresult *res = q.failed ? NULL : PQexec(conn, q.data);
    cdc_buf_free(&q);
    return res;
}

/* Whether row r of `keys` is one of `seen`'s rows (both key texts). */
static bool key_in(const PGresult *seen, const PGresult *keys, int r, size_t npk)
{
    for (int i = 0; seen && i < PQntuples(seen); i++) {
        size_t j = 0;
        while (j < npk && strcmp(PQgetvalue(seen, i, (int)j), PQgetvalue(keys, r, (int)j)) == 0)
            j++;
        if (j == npk) return true;
    }
    return false;
}

/* Each sampled key of one side read on both sides; the differing ones
 * become candidates. Keys in `seen` (the other side's sample, already
 * compared) are skipped. The sample is returned through *out. */
static int sample_side(pg_verifier_t *v, PGconn *source, pg_pair_t *p,
                       cdc_verify_table_t *t, bool target_side, int64_t n,
                       const PGresult *seen, PGresult **out,
                       cdc_verify_pace_t *pace, char *errstr, size_t errstr_size)
{
    PGconn *conn = target_side ? v->sink->pool[0].conn : source;
    PGresult *res = *out = sample_keys(conn, p, target_side, n);
    if (PQresultStatus(res) != PGRES_TUPLES_OK)
        return cdc_source_error(errstr, errstr_size,
                                target_side ? "sampling the replica" : "sampling the source",
                                conn, res);
    size_t npk = p->target->npk;
    int rc = 0;
    for (int r = 0; r < PQntuples(res) && rc == 0; r++) {
        if (key_in(seen, res, r, npk)) continue;
        const char *parts[PG_VERIFY_MAX_KEY_COLUMNS];
        for (size_t i = 0; i < npk; i++)
            parts[i] = PQgetisnull(res, r, (int)i) ? NULL : PQgetvalue(res, r, (int)i);
        cdc_verify_key_t k = {.parts = (char **)parts, .nparts = npk};
        int differs = pgv_recheck(v, source, t, &k, errstr, errstr_size);
        t->compared++;
        if (differs < 0) rc = -1;
        else if (differs)
            rc = cdc_verify_add_candidate(t, k.kind, parts, npk, k.source_digest) == 0
                     ? 0 : cdc_errstr_set(errstr, errstr_size, "out of memory");
    }
    if (rc == 0 && cdc_verify_pace(pace, PQntuples(res)) != 0)
        rc = cdc_errstr_set(errstr, errstr_size, "interrupted");
    return rc;
}

static int pgv_sample(void *state, PGconn *source, cdc_verify_table_t *t,
                      int64_t n, cdc_verify_pace_t *pace, char *errstr,
                      size_t errstr_size)
{
    pg_verifier_t *v = state;
    pg_pair_t *p = pair_for(v, source, t, errstr, errstr_size);
    if (!p) return -1;
    PGresult *from_source = NULL, *from_replica = NULL;
    int rc = sample_side(v, source, p, t, false, n, NULL, &from_source, pace,
                         errstr, errstr_size);
    if (rc == 0)
        rc = sample_side(v, source, p, t, true, n, from_source, &from_replica, pace,
                         errstr, errstr_size);
    PQclear(from_source);
    PQclear(from_replica);
    return rc;
}

/* ---------------------------------------------------------------------
 * --repair: the source's row now, through the sink's guarded statements
 * ------------------------------------------------------------------- */

static pg_pair_t *pair_find(const pg_verifier_t *v, const cdc_verify_table_t *t)
{
    for (size_t i = 0; i < v->npairs; i++)
        if (v->pairs[i]->table == t) return v->pairs[i];
    return NULL;
}

static void put_text_array(cdc_buf_t *b, const char *const *items, size_t n)
{
    cdc_buf_putc(b, '{');
    for (size_t i = 0; i < n; i++) /* it puts the commas */
        cdc_pg_value_array_element(b, items[i] ? items[i] : "",
                                   items[i] ? strlen(items[i]) : 0, !items[i]);
    cdc_buf_putc(b, '}');
}

/* The newest position the replica holds for the key: its row's (a
 * soft-deleted one too) or its tombstone's; -1 for none. */
static int stored_position(const pg_verifier_t *v, const pg_pair_t *p,
                           const cdc_verify_key_t *k, int64_t *pos,
                           char *errstr, size_t errstr_size)
{
    PGconn *target = v->sink->pool[0].conn;
    cdc_buf_t q, key;
    cdc_buf_init(&q);
    cdc_buf_init(&key);
    cdc_buf_puts(&q, "SELECT greatest((SELECT ");
    cdc_pg_sql_quote_ident(&q, p->target->columns[p->target->position_column].name);
    cdc_buf_puts(&q, " FROM ");
    cdc_buf_puts(&q, p->target->qualified);
    cdc_buf_puts(&q, " WHERE true");
    key_condition(&q, p, p->target_types, "=", 1);
    cdc_buf_puts(&q, ")");
    if (v->sink->hard_deletes) {
        char ledger[96];
        snprintf(ledger, sizeof ledger, ", (SELECT position FROM cdcsink.tombstones "
                 "WHERE target_table = $%zu AND key = $%zu::text[])",
                 k->nparts + 1, k->nparts + 2);
        cdc_buf_puts(&q, ledger);
    }
    cdc_buf_puts(&q, ", -1)");
    put_text_array(&key, (const char *const *)k->parts, k->nparts);
    const char *params[PG_VERIFY_MAX_KEY_COLUMNS + 2];
    for (size_t i = 0; i < k->nparts; i++) params[i] = k->parts[i];
    params[k->nparts] = p->target->qualified;
    params[k->nparts + 1] = key.data;
    int n = (int)k->nparts + (v->sink->hard_deletes ? 2 : 0);
    PGresult *res = q.failed || key.failed
                        ? NULL : PQexecParams(target, q.data, n, NULL, params, NULL, NULL, 0);
    int rc = 0;
    if (PQresultStatus(res) != PGRES_TUPLES_OK)
        rc = cdc_source_error(errstr, errstr_size, "reading the replica", target, res);
    else
        *pos = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    PQclear(res);
    cdc_buf_free(&q);
    cdc_buf_free(&key);
    return rc;
}

/* The source row's compared columns as text; NULL with errstr on error,
 * a result of no row when the source has none. */
static PGresult *source_row(PGconn *source, const pg_pair_t *p,
                            const cdc_verify_key_t *k, char *errstr,
                            size_t errstr_size)
{
    cdc_buf_t q;
    cdc_buf_init(&q);
    cdc_buf_puts(&q, "SELECT ");
    for (size_t i = 0; i < p->ncols; i++) {
        if (i) cdc_buf_puts(&q, ", ");
        cdc_pg_sql_quote_ident(&q, p->target->columns[p->cols[i]].name);
        cdc_buf_puts(&q, "::text");
    }
    cdc_buf_puts(&q, " FROM ");
    cdc_buf_puts(&q, p->source->qualified);
    cdc_buf_puts(&q, " WHERE true");
    key_condition(&q, p, p->source_types, "=", 1);
    PGresult *res = q.failed ? NULL
                             : PQexecParams(source, q.data, (int)k->nparts, NULL,
                                            (const char *const *)k->parts, NULL, NULL, 0);
    cdc_buf_free(&q);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        cdc_source_error(errstr, errstr_size, "reading the source", source, res);
        PQclear(res);
        return NULL;
    }
    return res;
}

/* Runs one of the sink's statements (pg_sql.h, the precise form) for a
 * single row in its own read-write transaction; 1 when it changed the
 * row, 0 when the guard kept a newer one. */
static int run_guarded(const pg_verifier_t *v, const pg_pair_t *p,
                       cdc_action_t action, const int *columns, size_t ncolumns,
                       const char *const *values, int64_t position,
                       char *errstr, size_t errstr_size)
{
    PGconn *target = v->sink->pool[0].conn;
    bool ledger = v->sink->hard_deletes &&
                  (action == CDC_ACTION_UPSERT || action == CDC_ACTION_DELETE);
    cdc_buf_t sql, params[PG_VERIFY_MAX_COLUMNS + 2];
    cdc_buf_init(&sql);
    cdc_pg_sql_build(&sql, p->target, action, columns, ncolumns, ledger, false);
    size_t n = 0;
    for (; n < ncolumns; n++) {
        cdc_buf_init(&params[n]);
        put_text_array(&params[n], &values[n], 1);
    }
    cdc_buf_init(&params[n]);
    cdc_buf_putc(&params[n], '{');
    cdc_buf_put_int(&params[n], position);
    cdc_buf_putc(&params[n++], '}');
    if (ledger) {
        cdc_buf_init(&params[n]);
        cdc_buf_puts(&params[n++], p->target->qualified);
    }
    const char *values_in[PG_VERIFY_MAX_COLUMNS + 2];
    bool failed = sql.failed;
    for (size_t i = 0; i < n; i++) {
        values_in[i] = params[i].data;
        failed |= params[i].failed;
    }
    int rc = -1;
    PGresult *res = PQexec(target, "BEGIN READ WRITE");
    bool began = PQresultStatus(res) == PGRES_COMMAND_OK;
    PQclear(res);
    res = began && !failed
              ? PQexecParams(target, sql.data, (int)n, NULL, values_in, NULL, NULL, 0)
              : NULL;
    if (PQresultStatus(res) == PGRES_TUPLES_OK) {
        rc = PQntuples(res) > 0;
    } else {
        cdc_source_error(errstr, errstr_size, failed ? "out of memory" : "repairing the replica",
                         target, res);
    }
    PQclear(res);
    res = PQexec(target, rc >= 0 ? "COMMIT" : "ROLLBACK");
    if (rc >= 0 && PQresultStatus(res) != PGRES_COMMAND_OK)
        rc = cdc_source_error(errstr, errstr_size, "repairing the replica", target, res);
    PQclear(res);
    for (size_t i = 0; i < n; i++) cdc_buf_free(&params[i]);
    cdc_buf_free(&sql);
    return rc;
}

static int pgv_repair(void *state, PGconn *source, const cdc_verify_table_t *t,
                      const cdc_verify_key_t *k, char *errstr, size_t errstr_size)
{
    pg_verifier_t *v = state;
    pg_pair_t *p = pair_find(v, t);
    if (!p) return cdc_errstr_set(errstr, errstr_size, "%s was not compared", t->target);
    if (p->ncols > PG_VERIFY_MAX_COLUMNS)
        return cdc_errstr_set(errstr, errstr_size, "%s: more than %d columns to "
                              "repair", p->target->qualified, PG_VERIFY_MAX_COLUMNS);
    int64_t stored = -1;
    if (stored_position(v, p, k, &stored, errstr, errstr_size) != 0) return -1;
    /* Just newer than what the replica holds: the guard takes it, and any
     * real change still to come (a higher source.lsn) takes over. */
    int64_t position = stored >= 0 ? stored + 1 : 1;
    PGresult *row = source_row(source, p, k, errstr, errstr_size);
    if (!row) return -1;
    int rc;
    if (PQntuples(row) == 1) {
        const char *values[PG_VERIFY_MAX_COLUMNS];
        for (size_t i = 0; i < p->ncols; i++)
            values[i] = PQgetisnull(row, 0, (int)i) ? NULL : PQgetvalue(row, 0, (int)i);
        rc = run_guarded(v, p, CDC_ACTION_UPSERT, p->cols, p->ncols, values,
                         position, errstr, errstr_size);
    } else if (v->keeps_deleted) {
        rc = 0; /* delete.mode=none keeps what the source deleted */
    } else {
        rc = run_guarded(v, p, v->soft ? CDC_ACTION_SOFT_DELETE : CDC_ACTION_DELETE,
                         p->target->pk, p->target->npk,
                         (const char *const *)k->parts, position, errstr, errstr_size);
    }
    PQclear(row);
    return rc;
}

const cdc_verify_ops_t cdc_pg_verify_ops = {
    .open = pgv_open,
    .compare = pgv_compare,
    .sample = pgv_sample,
    .recheck = pgv_recheck,
    .repair = pgv_repair,
    .close = pgv_close,
};
