#include "pg_write.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errstr.h"
#include "log.h"
#include "pg_value.h"
#include "thread.h"

/* ---------------------------------------------------------------------
 * Groups: one statement per (table, action, column set)
 * ------------------------------------------------------------------- */

typedef struct pg_group {
    const pg_work_t *first; /* its table, action and columns */
    size_t *members;        /* indexes into the work array */
    size_t count;
} pg_group_t;

static bool same_shape(const pg_work_t *a, const pg_work_t *b)
{
    return a->target == b->target && a->action == b->action &&
           a->event->position_inclusive == b->event->position_inclusive &&
           a->ncolumns == b->ncolumns &&
           memcmp(a->columns, b->columns, a->ncolumns * sizeof *a->columns) == 0;
}

/* Groups the work items listed in `items` (n of them); NULL when out of
 * memory, else the group array with *ngroups set. */
static pg_group_t *make_groups(const pg_work_t *work, const size_t *items,
                               size_t n, size_t *ngroups, cdc_arena_t *arena)
{
    pg_group_t *groups = cdc_arena_alloc(arena, (n + 1) * sizeof *groups);
    if (!groups) return NULL;
    *ngroups = 0;
    for (size_t k = 0; k < n; k++) {
        const pg_work_t *w = &work[items[k]];
        size_t g = 0;
        while (g < *ngroups && !same_shape(groups[g].first, w)) g++;
        if (g == *ngroups) {
            groups[g].first = w;
            groups[g].members = cdc_arena_alloc(arena, (n + 1) * sizeof(size_t));
            groups[g].count = 0;
            if (!groups[g].members) return NULL;
            (*ngroups)++;
        }
        groups[g].members[groups[g].count++] = items[k];
    }
    return groups;
}

static bool uses_ledger(const pg_sink_t *s, cdc_action_t action)
{
    return s->hard_deletes &&
           (action == CDC_ACTION_UPSERT || action == CDC_ACTION_DELETE);
}

/* The name of the prepared statement for this SQL on this session; NULL
 * with *failure set when the server refused it, NULL alone when out of
 * memory. */
static const char *prepared_name(pg_conn_t *c, const char *sql, int nparams,
                                 PGresult **failure)
{
    for (size_t i = 0; i < c->nprepared; i++)
        if (strcmp(c->prepared[i].sql, sql) == 0) return c->prepared[i].name;
    prepared_t *grown = realloc(c->prepared, (c->nprepared + 1) * sizeof *grown);
    if (!grown) return NULL;
    c->prepared = grown;
    prepared_t *p = &c->prepared[c->nprepared];
    snprintf(p->name, sizeof p->name, "cdcsink_%zu", c->nprepared);
    /* Copied first: a statement the server has prepared is always
     * recorded, or its name would be taken for good on this session. */
    char *copy = strdup(sql);
    if (!copy) return NULL;
    PGresult *res = PQprepare(c->conn, p->name, sql, nparams, NULL);
    if (PQresultStatus(res) != PGRES_COMMAND_OK) {
        free(copy);
        *failure = res;
        return NULL;
    }
    PQclear(res);
    p->sql = copy;
    c->nprepared++;
    return p->name;
}

/* text[] literals for the group's columns and positions. */
static int group_params(const pg_sink_t *s, const pg_group_t *g,
                        const pg_work_t *work, cdc_buf_t *params,
                        size_t nparams)
{
    const pg_work_t *shape = g->first;
    cdc_buf_t text;
    cdc_buf_init(&text);
    int rc = 0;
    size_t arrays = shape->ncolumns + (shape->action != CDC_ACTION_KEY_DELETE);
    for (size_t j = 0; j < arrays; j++) cdc_buf_putc(&params[j], '{');
    for (size_t m = 0; m < g->count && rc == 0; m++) {
        const pg_work_t *w = &work[g->members[m]];
        for (size_t j = 0; j < shape->ncolumns && rc == 0; j++) {
            const cdc_value_t *v = &w->row[w->source[shape->columns[j]]];
            cdc_buf_reset(&text);
            if (!v->is_null) rc = cdc_pg_value_text(v, &text);
            cdc_pg_value_array_element(&params[j], text.data ? text.data : "",
                                       text.len, v->is_null);
        }
        if (shape->action != CDC_ACTION_KEY_DELETE) {
            cdc_buf_reset(&text);
            cdc_buf_put_int(&text, w->event->position);
            cdc_pg_value_array_element(&params[shape->ncolumns], text.data,
                                       text.len, false);
        }
    }
    for (size_t j = 0; j < arrays; j++) cdc_buf_putc(&params[j], '}');
    if (uses_ledger(s, shape->action))
        cdc_buf_puts(&params[nparams - 1], shape->target->table->qualified);
    for (size_t j = 0; j < nparams; j++) rc |= params[j].failed ? -1 : 0;
    cdc_buf_free(&text);
    return rc;
}

typedef enum exec_result {
    EXEC_OK,
    EXEC_MIXED,  /* a counted statement changed some rows, not all */
    EXEC_DATA,   /* the database refused a value: isolate the record */
    EXEC_RETRY,
    EXEC_FATAL
} exec_result_t;

/* An SQLSTATE is five characters; the error's code travels as data, never
 * read back out of a message. */
#define SQLSTATE_SIZE 6

/* Data exceptions, constraints, a datatype mismatch, and a value beyond a
 * PostgreSQL limit (class 54: an index row larger than a page can take, an
 * array of more than 6 dimensions): isolating the records finds the one. */
static bool is_data_error(const char *state)
{
    return state && (strncmp(state, "22", 2) == 0 || strncmp(state, "23", 2) == 0 ||
                     strncmp(state, "54", 2) == 0 || strcmp(state, "42804") == 0);
}

/* Runs on the writer threads: reads the target, never changes it (a
 * changed table is only flagged, and read again by the next batch).
 * sqlstate, when not NULL, receives the server's SQLSTATE ("" if none). */
static exec_result_t classify_failure(PGconn *conn, PGresult *res,
                                      pg_target_t *target, char *sqlstate,
                                      char *errstr, size_t errstr_size)
{
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    const char *msg = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    if (sqlstate) snprintf(sqlstate, SQLSTATE_SIZE, "%s", state ? state : "");
    cdc_errstr_set(errstr, errstr_size, "%s: SQLSTATE %s: %s",
                   target->table->qualified, state ? state : "none",
                   msg ? msg : PQerrorMessage(conn));
    if (is_data_error(state)) return EXEC_DATA;
    if (state && (strcmp(state, "42703") == 0 || strcmp(state, "42P01") == 0)) {
        target->catalog_stale = true;
        return EXEC_RETRY;
    }
    return cdc_pg_classify(conn, res) == CDC_PG_RETRY ? EXEC_RETRY : EXEC_FATAL;
}

/* The outcome of a counted statement: all changed or none did; anything
 * in between needs the precise form to say which. */
static exec_result_t counted_outcome(PGresult *res, const pg_group_t *g,
                                     bool *applied)
{
    unsigned long changed = strtoul(PQcmdTuples(res), NULL, 10);
    if (changed != 0 && changed != g->count) return EXEC_MIXED;
    for (size_t m = 0; m < g->count; m++) applied[g->members[m]] = changed != 0;
    return EXEC_OK;
}

/* Runs one group; marks applied[i] for the work items it changed. A
 * counted run (`counted` and an action that has the form) may answer
 * EXEC_MIXED, after which the transaction must be rolled back. sqlstate,
 * when not NULL, receives the SQLSTATE of a failure the server reported,
 * "" otherwise. */
static exec_result_t group_exec(const pg_sink_t *s, pg_conn_t *c,
                                const pg_group_t *g, const pg_work_t *work,
                                bool counted, bool *applied, char *sqlstate,
                                char *errstr, size_t errstr_size)
{
    if (sqlstate) sqlstate[0] = '\0';
    const pg_work_t *shape = g->first;
    bool ledger = uses_ledger(s, shape->action);
    counted = counted && cdc_pg_sql_countable(shape->action);
    size_t nparams = shape->ncolumns + (shape->action != CDC_ACTION_KEY_DELETE) + ledger;
    cdc_buf_t sql, params[nparams];
    cdc_buf_init(&sql);
    for (size_t j = 0; j < nparams; j++) cdc_buf_init(&params[j]);
    cdc_pg_sql_build(&sql, shape->target->table, shape->action, shape->columns,
                     shape->ncolumns, ledger, counted, shape->event->position_inclusive);
    exec_result_t r = EXEC_OK;
    PGresult *res = NULL;
    const char *values[nparams];
    if (sql.failed || group_params(s, g, work, params, nparams) != 0) {
        cdc_errstr_set(errstr, errstr_size, "out of memory building a statement");
        r = EXEC_RETRY;
        goto done;
    }
    const char *name = prepared_name(c, sql.data, (int)nparams, &res);
    if (!name && !res) {
        cdc_errstr_set(errstr, errstr_size, "out of memory preparing a statement");
        r = EXEC_RETRY;
        goto done;
    }
    if (!name) {
        r = classify_failure(c->conn, res, shape->target, sqlstate, errstr,
                             errstr_size);
        goto done;
    }
    for (size_t j = 0; j < nparams; j++) values[j] = params[j].data;
    res = PQexecPrepared(c->conn, name, (int)nparams, values, NULL, NULL, 0);
    if (PQresultStatus(res) != (counted ? PGRES_COMMAND_OK : PGRES_TUPLES_OK)) {
        r = classify_failure(c->conn, res, shape->target, sqlstate, errstr,
                             errstr_size);
        goto done;
    }
    if (counted) {
        r = counted_outcome(res, g, applied);
        goto done;
    }
    for (int row = 0; row < PQntuples(res); row++) {
        long ord = strtol(PQgetvalue(res, row, 0), NULL, 10);
        if (ord >= 1 && (size_t)ord <= g->count) applied[g->members[ord - 1]] = true;
    }
done:
    PQclear(res);
    cdc_buf_free(&sql);
    for (size_t j = 0; j < nparams; j++) cdc_buf_free(&params[j]);
    return r;
}

static exec_result_t run_sql(PGconn *conn, const char *sql, char *errstr,
                             size_t errstr_size)
{
    PGresult *res = PQexec(conn, sql);
    exec_result_t r = EXEC_OK;
    if (PQresultStatus(res) != PGRES_COMMAND_OK) {
        const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
        cdc_errstr_set(errstr, errstr_size, "%s: SQLSTATE %s: %s", sql,
                       state ? state : "none", PQerrorMessage(conn));
        r = is_data_error(state) ? EXEC_DATA
            : cdc_pg_classify(conn, res) == CDC_PG_RETRY ? EXEC_RETRY
                                                         : EXEC_FATAL;
    }
    PQclear(res);
    return r;
}

static void rollback(PGconn *conn)
{
    if (conn && PQstatus(conn) == CONNECTION_OK) PQclear(PQexec(conn, "ROLLBACK"));
}

/* ---------------------------------------------------------------------
 * Shards: the batch split by key over the pool, written in parallel
 * ------------------------------------------------------------------- */

typedef struct pg_shard {
    const pg_sink_t *sink;
    pg_conn_t *conn;
    const pg_work_t *work;
    size_t *items; /* winners of this shard */
    size_t nitems;
    pg_group_t *groups;
    size_t ngroups;
    bool *applied; /* shared, but each shard writes only its own items */
    exec_result_t result;
    char errstr[1024];
} pg_shard_t;

/* One transaction, one statement per group. */
static exec_result_t shard_transaction(pg_shard_t *sh, bool counted)
{
    PGconn *conn = sh->conn->conn;
    for (size_t k = 0; k < sh->nitems; k++) sh->applied[sh->items[k]] = false;
    exec_result_t r = run_sql(conn, "BEGIN", sh->errstr, sizeof sh->errstr);
    for (size_t g = 0; g < sh->ngroups && r == EXEC_OK; g++)
        r = group_exec(sh->sink, sh->conn, &sh->groups[g], sh->work, counted,
                       sh->applied, NULL, sh->errstr, sizeof sh->errstr);
    if (r == EXEC_OK) r = run_sql(conn, "COMMIT", sh->errstr, sizeof sh->errstr);
    else rollback(conn);
    return r;
}

/* Runs on its own thread. Counted statements first: a live stream is all
 * applied and a replay all stale, which the row count tells apart. Only
 * a batch with both is rolled back and written again, precisely. */
static void *shard_run(void *arg)
{
    pg_shard_t *sh = arg;
    exec_result_t r = shard_transaction(sh, true);
    if (r == EXEC_MIXED) r = shard_transaction(sh, false);
    sh->result = r;
    return NULL;
}

static uint64_t shard_hash(const pg_work_t *w)
{
    const cdc_event_t *ev = w->event;
    const uint8_t *k = ev->raw_key;
    size_t len = ev->raw_key ? ev->raw_key_len : 0;
    if (len >= 5) { /* skip the framing: the same key, any schema id */
        k += 5;
        len -= 5;
    }
    uint64_t h = UINT64_C(14695981039346656037);
    for (size_t i = 0; i < len; i++) h = (h ^ k[i]) * UINT64_C(1099511628211);
    return h;
}

/* Splits the winners by key hash; small batches stay on one session. */
static size_t shards_make(const pg_sink_t *s, pg_work_t *work,
                          const size_t *winners, size_t n, bool *applied,
                          pg_shard_t *shards, cdc_arena_t *arena)
{
    size_t nshards = n < 64 ? 1 : s->npool;
    for (size_t i = 0; i < nshards; i++) {
        shards[i] = (pg_shard_t){.sink = s, .conn = &s->pool[i], .work = work,
                                 .applied = applied, .result = EXEC_OK};
        shards[i].items = cdc_arena_alloc(arena, (n + 1) * sizeof(size_t));
        if (!shards[i].items) return 0;
    }
    for (size_t k = 0; k < n; k++) {
        pg_shard_t *sh = &shards[shard_hash(&work[winners[k]]) % nshards];
        sh->items[sh->nitems++] = winners[k];
    }
    for (size_t i = 0; i < nshards; i++) {
        shards[i].groups = make_groups(work, shards[i].items, shards[i].nitems,
                                       &shards[i].ngroups, arena);
        if (!shards[i].groups) return 0;
    }
    return nshards;
}

/* Every shard on its own session at once; shard 0 on this thread. */
static void shards_run(pg_shard_t *shards, size_t nshards)
{
    pthread_t threads[nshards];
    bool started[nshards];
    for (size_t i = 1; i < nshards; i++)
        started[i] = shards[i].nitems > 0 &&
                     cdc_thread_start(&threads[i], shard_run, &shards[i]) == 0;
    if (shards[0].nitems > 0) shard_run(&shards[0]);
    for (size_t i = 1; i < nshards; i++) {
        if (started[i]) pthread_join(threads[i], NULL);
        else if (shards[i].nitems > 0) shard_run(&shards[i]);
    }
}

/* The record's outcome after the database refused it: the exception is
 * named by its SQLSTATE ("SQLSTATE 23514"), the message is errstr. */
static void reject_from_error(cdc_outcome_t *o, const char *sqlstate,
                              const char *errstr, cdc_arena_t *arena)
{
    char name[24] = "SQLSTATE";
    if (sqlstate[0]) snprintf(name, sizeof name, "SQLSTATE %s", sqlstate);
    o->kind = CDC_OUTCOME_REJECTED;
    o->error_class = "data";
    o->exception_name = cdc_arena_strndup(arena, name, strlen(name));
    o->message = cdc_arena_strndup(arena, errstr, strlen(errstr));
}

/* After a data error: the shard's items one by one, each in a savepoint,
 * so only the records the database refuses are rejected. */
static exec_result_t shard_isolate(pg_shard_t *sh, cdc_outcome_t *outcomes,
                                   cdc_arena_t *arena)
{
    PGconn *conn = sh->conn->conn;
    char *errstr = sh->errstr;
    size_t errstr_size = sizeof sh->errstr;
    for (size_t k = 0; k < sh->nitems; k++) sh->applied[sh->items[k]] = false;
    exec_result_t r = run_sql(conn, "BEGIN", errstr, errstr_size);
    for (size_t k = 0; k < sh->nitems && r == EXEC_OK; k++) {
        size_t member = sh->items[k];
        pg_group_t one = {&sh->work[member], &member, 1};
        r = run_sql(conn, "SAVEPOINT cdcsink_record", errstr, errstr_size);
        if (r != EXEC_OK) break;
        char why[1024], sqlstate[SQLSTATE_SIZE];
        r = group_exec(sh->sink, sh->conn, &one, sh->work, false, sh->applied,
                       sqlstate, why, sizeof why);
        if (r == EXEC_DATA) {
            reject_from_error(&outcomes[member], sqlstate, why, arena);
            r = run_sql(conn, "ROLLBACK TO SAVEPOINT cdcsink_record", errstr,
                        errstr_size);
        } else if (r == EXEC_OK) {
            r = run_sql(conn, "RELEASE SAVEPOINT cdcsink_record", errstr,
                        errstr_size);
        } else {
            cdc_errstr_set(errstr, errstr_size, "%s", why);
        }
    }
    if (r == EXEC_OK) r = run_sql(conn, "COMMIT", errstr, errstr_size);
    else rollback(conn);
    return r;
}

/* The worst result over the shards decides the batch; a shard that
 * committed while another failed is harmless: the retry finds its rows
 * already written (stale). */
static cdc_sink_status_t shards_finish(pg_shard_t *shards,
                                       size_t nshards, cdc_outcome_t *outcomes,
                                       cdc_arena_t *arena, char *errstr,
                                       size_t errstr_size)
{
    exec_result_t worst = EXEC_OK;
    for (size_t i = 0; i < nshards; i++) {
        pg_shard_t *sh = &shards[i];
        if (sh->result == EXEC_DATA) {
            cdc_log_warn("%s; isolating the offending records", sh->errstr);
            sh->result = shard_isolate(sh, outcomes, arena);
        }
        if (sh->result > worst) {
            worst = sh->result;
            cdc_errstr_set(errstr, errstr_size, "%s", sh->errstr);
        }
    }
    if (worst == EXEC_OK) return CDC_SINK_OK;
    return worst == EXEC_FATAL ? CDC_SINK_FATAL : CDC_SINK_RETRY;
}


cdc_sink_status_t cdc_pg_write_batch(const pg_sink_t *s, pg_work_t *work,
                                     const size_t *winners, size_t n,
                                     bool *applied, cdc_outcome_t *outcomes,
                                     cdc_arena_t *arena, char *errstr,
                                     size_t errstr_size)
{
    pg_shard_t *shards = cdc_arena_alloc(arena, (s->npool + 1) * sizeof *shards);
    size_t nshards = shards ? shards_make(s, work, winners, n, applied, shards, arena) : 0;
    if (nshards == 0 && n > 0) {
        cdc_errstr_set(errstr, errstr_size, "out of memory");
        return CDC_SINK_RETRY;
    }
    shards_run(shards, nshards);
    return shards_finish(shards, nshards, outcomes, arena, errstr, errstr_size);
}
