#include "pg_verify.h"

#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "errstr.h"
#include "pg_pair.h"
#include "pg_repair.h"
#include "pg_table.h"
#include "route.h"
#include "source.h"

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
    for (size_t i = 0; i < v->npairs; i++) cdc_pg_pair_free(v->pairs[i]);
    free(v->pairs);
    cdc_pg_sink_free(v->sink);
    free(v);
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
    if (lo) cdc_pg_pair_key_condition(&q, p, p->source_types, ">", 1);
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
        /* Aliased: named like the key, the text would be what ORDER BY
         * sorts ('9999' after '10000'). */
        cdc_buf_puts(&q, "::text AS last_key FROM c ORDER BY ");
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
        cdc_pg_pair_key_condition(&q, p, types, ">", n + 1);
        for (size_t i = 0; i < npk; i++) params[n++] = lo[i];
    }
    if (hi) {
        cdc_pg_pair_key_condition(&q, p, types, "<=", n + 1);
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

static int pgv_compare(void *state, PGconn *source, cdc_verify_table_t *t,
                       cdc_verify_pace_t *pace, char *errstr, size_t errstr_size)
{
    pg_verifier_t *v = state;
    pg_pair_t *p = cdc_pg_pair_for(v, source, t, errstr, errstr_size);
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
    cdc_pg_pair_key_condition(&q, p, target_side ? p->target_types : p->source_types, "=", 1);
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
    pg_pair_t *p = cdc_pg_pair_find(v, t);
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
    pg_pair_t *p = cdc_pg_pair_for(v, source, t, errstr, errstr_size);
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

static int pgv_repair(void *state, PGconn *source, const cdc_verify_table_t *t,
                      const cdc_verify_key_t *k, char *errstr, size_t errstr_size)
{
    pg_verifier_t *v = state;
    pg_pair_t *p = cdc_pg_pair_find(v, t);
    if (!p) return cdc_errstr_set(errstr, errstr_size, "%s was not compared", t->target);
    return cdc_pg_repair_key(v, source, p, k, errstr, errstr_size);
}

const cdc_verify_ops_t cdc_pg_verify_ops = {
    .open = pgv_open,
    .compare = pgv_compare,
    .sample = pgv_sample,
    .recheck = pgv_recheck,
    .repair = pgv_repair,
    .close = pgv_close,
};
