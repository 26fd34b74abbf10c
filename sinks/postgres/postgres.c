#include "postgres.h"

#include <libpq-fe.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "errstr.h"
#include "log.h"
#include "mask.h"
#include "pg_migrate.h"
#include "pg_plan.h"
#include "pg_sink.h"
#include "pg_verify.h"
#include "pg_write.h"
#include "route.h"

/* ---------------------------------------------------------------------
 * Connection
 * ------------------------------------------------------------------- */

static void pg_conn_forget(pg_conn_t *c)
{
    if (c->conn) PQfinish(c->conn);
    c->conn = NULL;
    for (size_t i = 0; i < c->nprepared; i++) free(c->prepared[i].sql);
    c->nprepared = 0; /* prepared statements die with their session */
}

static void pg_forget_connection(pg_sink_t *s)
{
    for (size_t i = 0; i < s->npool; i++) pg_conn_forget(&s->pool[i]);
}

/* Drops the sessions that broke, keeps the others. */
void cdc_pg_forget_broken(pg_sink_t *s)
{
    for (size_t i = 0; i < s->npool; i++)
        if (s->pool[i].conn && PQstatus(s->pool[i].conn) != CONNECTION_OK)
            pg_conn_forget(&s->pool[i]);
}

/* Whether a failed connection attempt (conn still open, msg its first
 * line) cannot succeed later by itself: bad credentials, or a database or
 * role that does not exist. Anything else (refused, timed out, starting
 * up, too many connections) is retried.
 *
 * A password the server asked for and we lack, libpq tells as data. For
 * the rest the server's SQLSTATE (28P01, 28000, 3D000) would be the
 * signal, but libpq 15 keeps the error fields of a failed connection to
 * itself (there is no PGresult and no accessor), and
 * PQconnectionUsedPassword() cannot tell a wrong password from a failure
 * after the password was accepted (too many connections, shutdown). So
 * those cases still match the server's English text; a server with
 * translated lc_messages gets them retried. */
static bool connect_error_is_fatal(const PGconn *conn, const char *msg)
{
    if (PQconnectionNeedsPassword(conn)) return true; /* none supplied */
    /* TLS that cannot be set up as the URL asks (sslmode=verify-ca or
     * verify-full with a CA or name that does not match, a missing root
     * certificate, a server without TLS) is libpq's own text. */
    return strstr(msg, "password authentication failed") ||
           strstr(msg, "no pg_hba.conf entry") ||
           strstr(msg, "pg_hba.conf rejects connection") ||
           strstr(msg, "certificate verify failed") ||
           strstr(msg, "does not match host name") ||
           strstr(msg, "root certificate file") ||
           strstr(msg, "server does not support SSL") ||
           (strstr(msg, "database \"") && strstr(msg, "does not exist")) ||
           (strstr(msg, "role \"") && strstr(msg, "does not exist"));
}

/* Server NOTICEs ("schema already exists, skipping") are debug chatter. */
static void pg_notice(void *arg, const char *message)
{
    (void)arg;
    cdc_log_debug("postgres: %.*s", (int)strcspn(message, "\n"), message);
}

static cdc_sink_status_t pg_conn_open(pg_sink_t *s, pg_conn_t *c,
                                      char *errstr, size_t errstr_size)
{
    if (c->conn && PQstatus(c->conn) == CONNECTION_OK) return CDC_SINK_OK;
    pg_conn_forget(c);
    c->conn = PQconnectdb(s->conninfo);
    if (!c->conn) {
        cdc_errstr_set(errstr, errstr_size, "out of memory");
        return CDC_SINK_RETRY;
    }
    if (PQstatus(c->conn) != CONNECTION_OK) {
        /* libpq's message names host and user; but one about the URI's
         * syntax quotes the token, which may be the password
         * ('invalid percent-encoded token: "..."'). */
        char msg[512];
        snprintf(msg, sizeof msg, "%s", PQerrorMessage(c->conn));
        msg[strcspn(msg, "\n")] = '\0';
        cdc_mask_in_text(msg, sizeof msg, s->conninfo);
        bool fatal = connect_error_is_fatal(c->conn, msg);
        pg_conn_forget(c);
        cdc_errstr_set(errstr, errstr_size, "connecting to PostgreSQL: %s", msg);
        return fatal ? CDC_SINK_FATAL : CDC_SINK_RETRY;
    }
    PQsetNoticeProcessor(c->conn, pg_notice, NULL);
    /* Text values are written and compared in one, fixed convention. */
    PGresult *res = PQexec(c->conn, "SET TimeZone = 'UTC'; SET DateStyle = "
                                    "'ISO, YMD'; SET IntervalStyle = "
                                    "'postgres'; SET extra_float_digits = 3");
    bool ok = PQresultStatus(res) == PGRES_COMMAND_OK;
    PQclear(res);
    if (!ok) {
        cdc_errstr_set(errstr, errstr_size, "session setup: %s",
                       PQerrorMessage(c->conn));
        pg_conn_forget(c);
        return CDC_SINK_RETRY;
    }
    return CDC_SINK_OK;
}

static cdc_sink_status_t pg_connect(pg_sink_t *s, char *errstr,
                                    size_t errstr_size)
{
    for (size_t i = 0; i < s->npool; i++) {
        cdc_sink_status_t st = pg_conn_open(s, &s->pool[i], errstr, errstr_size);
        if (st != CDC_SINK_OK) return st;
    }
    return CDC_SINK_OK;
}

/* ---------------------------------------------------------------------
 * Open and close
 * ------------------------------------------------------------------- */

static void pg_close(void *state)
{
    pg_sink_t *s = state;
    if (!s) return;
    pg_forget_connection(s);
    for (size_t i = 0; i < s->ntargets; i++) {
        pg_target_t *t = s->targets[i];
        for (size_t k = 0; k < t->nmaps; k++) free(t->maps[k].target);
        free(t->maps);
        cdc_pg_table_free(t->table);
        free(t->name);
        free(t);
    }
    free(s->targets);
    for (size_t i = 0; i < s->npool; i++) free(s->pool[i].prepared);
    free(s->pool);
    cdc_config_free_list(s->pk_fields);
    free(s->conninfo);
    free(s->schema);
    free(s->position_column);
    free(s->deleted_column);
    free(s);
}

/* The sink's state from cfg, not connected yet; NULL when out of memory. */
static pg_sink_t *pg_sink_new(const cdc_config_t *cfg)
{
    const cdc_settings_t *set = cdc_config_settings(cfg); /* core keys */
    pg_sink_t *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    int oom;
    s->conninfo = strdup(cdc_config_get(cfg, "connection.url"));
    s->npool = (size_t)cdc_config_get_int(cfg, "connection.pool.size");
    s->pool = calloc(s->npool, sizeof *s->pool);
    if (!s->pool) s->npool = 0; /* pg_close walks the pool */
    s->schema = strdup(cdc_config_get(cfg, "table.schema"));
    s->position_column = strdup(cdc_config_get(cfg, "position.column"));
    s->deleted_column = strdup(cdc_config_get(cfg, "deleted.column"));
    s->pk_fields = cdc_config_split_list(set->pk_fields, &oom);
    if (!s->conninfo || !s->pool || !s->schema || !s->position_column ||
        !s->deleted_column || oom) {
        pg_close(s);
        return NULL;
    }
    s->table_options.position_column = s->position_column;
    s->table_options.deleted_column = s->deleted_column;
    s->table_options.pk_fields = (const char *const *)s->pk_fields;
    s->auto_create = cdc_config_get_bool(cfg, "auto.create");
    s->auto_evolve = cdc_config_get_bool(cfg, "auto.evolve");
    /* The core decides what a delete does; the sink keeps the ledger
     * that hard deletes need (checked by upserts, purged here). */
    s->hard_deletes = strcmp(set->delete_mode, "hard") == 0;
    s->retention_ms = set->delete_retention_ms;
    return s;
}

static cdc_sink_status_t pg_open(const cdc_config_t *cfg, void **state,
                                 char *errstr, size_t errstr_size)
{
    pg_sink_t *s = pg_sink_new(cfg);
    if (!s) {
        cdc_errstr_set(errstr, errstr_size, "out of memory");
        return CDC_SINK_FATAL;
    }
    cdc_sink_status_t st = pg_connect(s, errstr, errstr_size);
    if (st == CDC_SINK_FATAL) {
        pg_close(s);
        return CDC_SINK_FATAL;
    }
    if (st == CDC_SINK_RETRY) /* not up yet: apply() keeps trying */
        cdc_log_warn("%s; will retry", errstr);
    else if (cdc_config_get_bool(cfg, "auto.migrate")) {
        int applied, retry;
        if (cdc_pg_migrate(s->pool[0].conn, &applied, &retry, errstr, errstr_size) != 0) {
            pg_close(s);
            return CDC_SINK_FATAL;
        }
    }
    *state = s;
    return CDC_SINK_OK;
}

/* `cdcsink migrate`: cdcsink's migrations in the target of cfg. */
static int pg_migrate(const cdc_config_t *cfg, int *applied, char *errstr,
                      size_t errstr_size)
{
    pg_sink_t *s = pg_sink_new(cfg);
    if (!s) return cdc_errstr_set(errstr, errstr_size, "out of memory");
    int retry = 0, rc = -1;
    if (pg_connect(s, errstr, errstr_size) == CDC_SINK_OK)
        rc = cdc_pg_migrate(s->pool[0].conn, applied, &retry, errstr, errstr_size);
    pg_close(s);
    return rc;
}

pg_sink_t *cdc_pg_sink_connect_reader(const cdc_config_t *cfg, char *errstr,
                                      size_t errstr_size)
{
    pg_sink_t *s = pg_sink_new(cfg);
    if (!s) {
        cdc_errstr_set(errstr, errstr_size, "out of memory");
        return NULL;
    }
    s->npool = 1; /* one session reads; the others stay unopened */
    if (pg_conn_open(s, &s->pool[0], errstr, errstr_size) != CDC_SINK_OK) {
        pg_close(s);
        return NULL;
    }
    return s;
}

void cdc_pg_sink_free(pg_sink_t *s) { pg_close(s); }

static int pg_ping(void *state)
{
    pg_sink_t *s = state;
    char errstr[256];
    if (pg_connect(s, errstr, sizeof errstr) != CDC_SINK_OK) return -1;
    PGresult *res = PQexec(s->pool[0].conn, "SELECT 1");
    int ok = PQresultStatus(res) == PGRES_TUPLES_OK;
    PQclear(res);
    return ok ? 0 : -1;
}

/* ---------------------------------------------------------------------
 * The batch
 * ------------------------------------------------------------------- */

/* Hard-delete tombstones older than delete.retention.ms, once a minute. */
static void purge_ledger(pg_sink_t *s)
{
    time_t now = time(NULL);
    if (!s->hard_deletes || now - s->last_purge < 60) return;
    s->last_purge = now;
    char ms[32];
    snprintf(ms, sizeof ms, "%lld", (long long)s->retention_ms);
    const char *params[1] = {ms};
    PGconn *conn = s->pool[0].conn;
    PGresult *res = PQexecParams(
        conn,
        "DELETE FROM cdcsink.tombstones WHERE deleted_at < now() - "
        "make_interval(secs => $1::bigint / 1000.0)",
        1, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_COMMAND_OK)
        cdc_log_warn("purging cdcsink.tombstones: %s", PQerrorMessage(conn));
    else if (atoi(PQcmdTuples(res)) > 0)
        cdc_log_info("purged %s tombstone(s) older than delete.retention.ms",
                     PQcmdTuples(res));
    PQclear(res);
}

static cdc_sink_status_t pg_apply(void *state, const cdc_change_t *changes,
                                  size_t count, cdc_outcome_t *outcomes,
                                  cdc_arena_t *arena, char *errstr,
                                  size_t errstr_size)
{
    pg_sink_t *s = state;
    cdc_sink_status_t st = pg_connect(s, errstr, errstr_size);
    if (st != CDC_SINK_OK) return st;
    cdc_pg_plan_forget_stale(s);
    pg_work_t *work = cdc_arena_alloc(arena, (count + 1) * sizeof *work);
    size_t *writable = cdc_arena_alloc(arena, (count + 1) * sizeof *writable);
    bool *applied = cdc_arena_alloc(arena, count + 1);
    if (!work || !writable || !applied) {
        cdc_errstr_set(errstr, errstr_size, "out of memory");
        return CDC_SINK_RETRY;
    }
    memset(applied, 0, count + 1);
    size_t nwritable;
    st = cdc_pg_plan_batch(s, changes, count, work, outcomes, writable,
                           &nwritable, arena, errstr, errstr_size);
    if (st == CDC_SINK_OK) {
        st = cdc_pg_write_batch(s, work, writable, nwritable, applied, outcomes,
                                arena, errstr, errstr_size);
        if (st == CDC_SINK_OK) {
            for (size_t k = 0; k < nwritable; k++)
                if (applied[writable[k]]) outcomes[writable[k]].kind = CDC_OUTCOME_APPLIED;
            purge_ledger(s);
            return CDC_SINK_OK;
        }
    }
    cdc_pg_forget_broken(s);
    return st;
}

/* PQlibVersion() is major * 10000 + minor from PostgreSQL 10 on. */
static void pg_library(char *out, size_t size)
{
    int v = PQlibVersion();
    snprintf(out, size, "libpq %d.%d", v / 10000, v % 10000);
}

const cdc_sink_ops_t cdc_postgres_sink = {
    .name = "postgres",
    .plan_mode = CDC_PLAN_LATEST,
    .route_key = "table.name.format",
    .keys = cdc_pg_keys,
    .nkeys = CDC_PG_KEY_COUNT,
    .open = pg_open,
    .apply = pg_apply,
    .ping = pg_ping,
    .close = pg_close,
    .migrate = pg_migrate,
    .library = pg_library,
    .verify = &cdc_pg_verify_ops,
};
