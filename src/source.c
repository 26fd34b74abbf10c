#include "source.h"

#include <stdlib.h>
#include <string.h>

#include "errstr.h"
#include "mask.h"

int cdc_source_error(char *errstr, size_t errstr_size, const char *what,
                     PGconn *conn, const PGresult *res)
{
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    const char *msg = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    char line[512];
    snprintf(line, sizeof line, "%s", msg ? msg : PQerrorMessage(conn));
    line[strcspn(line, "\n")] = '\0';
    return cdc_errstr_set(errstr, errstr_size, "%s: %s%s%s%s", what,
                          state ? "SQLSTATE " : "", state ? state : "",
                          state ? ": " : "", line);
}

static const char *const session_sql =
    "SET default_transaction_read_only = on; SET TimeZone = 'UTC'; "
    "SET DateStyle = 'ISO, YMD'; SET IntervalStyle = 'postgres'; "
    "SET extra_float_digits = 3; SET application_name = 'cdcsink verify'";

PGconn *cdc_source_connect(const cdc_config_t *cfg, char *errstr,
                           size_t errstr_size)
{
    const char *url = cdc_config_get(cfg, "source.connection.url");
    if (!url || !*url) {
        cdc_errstr_set(errstr, errstr_size,
                       "source.connection.url is not set: verify reads the "
                       "source database");
        return NULL;
    }
    const char *keys[] = {"dbname", "connect_timeout", NULL};
    const char *values[] = {url, "10", NULL};
    PGconn *conn = PQconnectdbParams(keys, values, 1);
    if (!conn) {
        cdc_errstr_set(errstr, errstr_size, "out of memory");
        return NULL;
    }
    if (PQstatus(conn) != CONNECTION_OK) {
        char msg[512];
        snprintf(msg, sizeof msg, "%s", PQerrorMessage(conn));
        msg[strcspn(msg, "\n")] = '\0';
        cdc_mask_in_text(msg, sizeof msg, url);
        cdc_errstr_set(errstr, errstr_size, "connecting to the source: %s", msg);
        PQfinish(conn);
        return NULL;
    }
    PGresult *res = PQexec(conn, session_sql);
    if (PQresultStatus(res) != PGRES_COMMAND_OK) {
        cdc_source_error(errstr, errstr_size, "source session setup", conn, res);
        PQclear(res);
        PQfinish(conn);
        return NULL;
    }
    PQclear(res);
    return conn;
}

char **cdc_source_idle_slots(PGconn *source, const char *slot)
{
    const char *params[1] = {slot ? slot : ""};
    PGresult *res = PQexecParams(source,
                                 "SELECT slot_name FROM pg_replication_slots WHERE "
                                 "slot_type = 'logical' AND database = "
                                 "current_database() AND NOT active AND ($1 = '' "
                                 "OR slot_name = $1) ORDER BY 1",
                                 1, NULL, params, NULL, NULL, 0);
    char **names = NULL;
    int n = PQresultStatus(res) == PGRES_TUPLES_OK ? PQntuples(res) : 0;
    if (n > 0) names = calloc((size_t)n + 1, sizeof *names);
    for (int i = 0; names && i < n; i++) names[i] = strdup(PQgetvalue(res, i, 0));
    PQclear(res);
    return names;
}

/* A single bigint of a query, or -1. */
static int64_t query_bigint(PGconn *source, const char *sql, PGresult **res_out)
{
    PGresult *res = PQexec(source, sql);
    int64_t v = -1;
    if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1 &&
        !PQgetisnull(res, 0, 0))
        v = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    if (res_out) *res_out = res;
    else PQclear(res);
    return v;
}

int cdc_source_wal_position(PGconn *source, int64_t *lsn, char *errstr,
                            size_t errstr_size)
{
    PGresult *res;
    *lsn = query_bigint(source,
                        "SELECT (pg_current_wal_lsn() - '0/0'::pg_lsn)::bigint", &res);
    int rc = 0;
    if (*lsn < 0)
        rc = cdc_source_error(errstr, errstr_size, "reading the source's WAL position",
                              source, res);
    PQclear(res);
    return rc;
}

int64_t cdc_source_sent_position(PGconn *source, const char *slot)
{
    /* A slot without a reader has received nothing since its confirmed
     * position; a reader whose walsender this role cannot see counts as
     * nowhere. The least of them: an unnamed slot may be Debezium's. */
    const char *sql =
        "SELECT min(CASE WHEN s.active THEN coalesce(r.sent_lsn, '0/0') "
        "ELSE coalesce(s.confirmed_flush_lsn, '0/0') END - '0/0'::pg_lsn)::bigint "
        "FROM pg_replication_slots s LEFT JOIN pg_stat_replication r "
        "ON r.pid = s.active_pid WHERE s.slot_type = 'logical' "
        "AND s.database = current_database() AND ($1 = '' OR s.slot_name = $1)";
    const char *params[1] = {slot ? slot : ""};
    PGresult *res = PQexecParams(source, sql, 1, NULL, params, NULL, NULL, 0);
    int64_t v = -1;
    if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1 &&
        !PQgetisnull(res, 0, 0))
        v = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    PQclear(res);
    return v;
}
