#include "pg_migrate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errstr.h"
#include "log.h"
#include "pg_table.h"

/* Any constant works; this one spells "cdcsink" in ASCII. */
static const char *const lock_sql = "SELECT pg_advisory_xact_lock(6363647369)";

static const char *const bookkeeping_sql =
    "CREATE SCHEMA IF NOT EXISTS cdcsink; "
    "CREATE TABLE IF NOT EXISTS cdcsink.schema_migrations ("
    " version integer PRIMARY KEY, name text NOT NULL,"
    " applied_at timestamptz NOT NULL DEFAULT now())";

static int exec_ok(PGconn *conn, const char *sql, int *retry, char *errstr,
                   size_t errstr_size, const char *what)
{
    PGresult *res = PQexec(conn, sql);
    ExecStatusType st = PQresultStatus(res);
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
        PQclear(res);
        return 0;
    }
    *retry = cdc_pg_classify(conn, res) == CDC_PG_RETRY;
    const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
    cdc_errstr_set(errstr, errstr_size, "migration %s: %s%s%s", what,
                   state ? "SQLSTATE " : "", state ? state : "",
                   PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY)
                       ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY)
                       : PQerrorMessage(conn));
    PQclear(res);
    return -1;
}

static int applied_version(PGconn *conn, int *version, int *retry,
                           char *errstr, size_t errstr_size)
{
    PGresult *res = PQexec(conn, "SELECT COALESCE(max(version), 0) FROM "
                                 "cdcsink.schema_migrations");
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        *retry = cdc_pg_classify(conn, res) == CDC_PG_RETRY;
        cdc_errstr_set(errstr, errstr_size, "reading migrations: %s",
                       PQerrorMessage(conn));
        PQclear(res);
        return -1;
    }
    *version = atoi(PQgetvalue(res, 0, 0));
    PQclear(res);
    return 0;
}

static int record_version(PGconn *conn, const cdc_pg_migration_t *m,
                          int *retry, char *errstr, size_t errstr_size)
{
    char version[16];
    snprintf(version, sizeof version, "%d", m->version);
    const char *params[2] = {version, m->name};
    PGresult *res = PQexecParams(conn,
                                 "INSERT INTO cdcsink.schema_migrations "
                                 "(version, name) VALUES ($1, $2)",
                                 2, NULL, params, NULL, NULL, 0);
    int rc = PQresultStatus(res) == PGRES_COMMAND_OK ? 0 : -1;
    if (rc) {
        *retry = cdc_pg_classify(conn, res) == CDC_PG_RETRY;
        cdc_errstr_set(errstr, errstr_size, "recording migration %s: %s",
                       m->name, PQerrorMessage(conn));
    }
    PQclear(res);
    return rc;
}

int cdc_pg_migrate(PGconn *conn, int *applied, int *retry, char *errstr,
                   size_t errstr_size)
{
    *applied = 0;
    *retry = 0;
    int version = 0;
    if (exec_ok(conn, "BEGIN", retry, errstr, errstr_size, "begin") ||
        exec_ok(conn, lock_sql, retry, errstr, errstr_size, "lock") ||
        exec_ok(conn, bookkeeping_sql, retry, errstr, errstr_size, "bookkeeping") ||
        applied_version(conn, &version, retry, errstr, errstr_size))
        goto err;
    for (const cdc_pg_migration_t *m = cdc_pg_migrations; m->name; m++) {
        if (m->version <= version) continue;
        if (exec_ok(conn, m->sql, retry, errstr, errstr_size, m->name) ||
            record_version(conn, m, retry, errstr, errstr_size))
            goto err;
        cdc_log_info("migration %s applied", m->name);
        (*applied)++;
    }
    if (exec_ok(conn, "COMMIT", retry, errstr, errstr_size, "commit")) goto err;
    return 0;
err:
    PQclear(PQexec(conn, "ROLLBACK"));
    *applied = 0;
    return -1;
}
