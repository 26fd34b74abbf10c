#include "pg_repair.h"

#include <stdlib.h>
#include <string.h>

#include "errstr.h"
#include "pg_sql.h"
#include "source.h"

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
    cdc_pg_pair_key_condition(&q, p, p->target_types, "=", 1);
    cdc_buf_puts(&q, ")");
    if (v->sink->hard_deletes) {
        char ledger[96];
        snprintf(ledger, sizeof ledger, ", (SELECT position FROM cdcsink.tombstones "
                 "WHERE target_table = $%zu AND key = $%zu::text[])",
                 k->nparts + 1, k->nparts + 2);
        cdc_buf_puts(&q, ledger);
    }
    cdc_buf_puts(&q, ", -1)");
    cdc_pg_pair_text_array(&key, (const char *const *)k->parts, k->nparts);
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
    cdc_pg_pair_key_condition(&q, p, p->source_types, "=", 1);
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
    cdc_pg_sql_build(&sql, p->target, action, columns, ncolumns, ledger, false, false);
    size_t n = 0;
    for (; n < ncolumns; n++) {
        cdc_buf_init(&params[n]);
        cdc_pg_pair_text_array(&params[n], &values[n], 1);
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

int cdc_pg_repair_key(const pg_verifier_t *v, PGconn *source, const pg_pair_t *p,
                      const cdc_verify_key_t *k, char *errstr, size_t errstr_size)
{
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

