#include "postgres.h"

#include <libpq-fe.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "collapse.h"
#include "errstr.h"
#include "log.h"
#include "pg_migrate.h"
#include "pg_sql.h"
#include "pg_table.h"
#include "pg_value.h"
#include "route.h"

typedef enum delete_mode { DELETE_HARD, DELETE_SOFT, DELETE_NONE } delete_mode_t;

/* A target table and, per writer schema seen, where its columns go. */
typedef struct column_map {
    const cdc_row_schema_t *row;
    int *target; /* row column i → table column, or -1 (not written) */
} column_map_t;

typedef struct pg_target {
    char *name;
    cdc_pg_table_t *table;
    bool catalog_stale; /* the table changed under us: read it again */
    column_map_t *maps;
    size_t nmaps;
} pg_target_t;

typedef struct prepared {
    char *sql;
    char name[24];
} prepared_t;

/* One session: a connection and the statements prepared on it. */
typedef struct pg_conn {
    PGconn *conn;
    prepared_t *prepared;
    size_t nprepared;
} pg_conn_t;

typedef struct pg_sink {
    char *conninfo;
    /* pool[0] also reads the catalog and runs DDL; each batch is split by
     * key over the pool and written in parallel (connection.pool.size). */
    pg_conn_t *pool;
    size_t npool;
    char *schema;
    char *name_format;
    char **pk_fields; /* NULL-terminated, or NULL */
    cdc_pg_table_options_t table_options;
    char *position_column;
    char *deleted_column;
    bool auto_create, auto_evolve, delete_on_tombstone;
    delete_mode_t delete_mode;
    int64_t retention_ms;
    time_t last_purge;
    pg_target_t *targets;
    size_t ntargets;
} pg_sink_t;

/* What one record of the batch asks of the database. */
typedef struct pg_work {
    const cdc_event_t *event;
    pg_target_t *target;
    cdc_pg_action_t action;
    const cdc_value_t *row;       /* values, parallel to `row_schema` */
    const cdc_row_schema_t *row_schema;
    int *columns;                 /* table columns written, ascending */
    size_t ncolumns;
    const int *source;            /* table column → index into row */
    const int *map;               /* row column → table column */
} pg_work_t;

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
static void pg_forget_broken(pg_sink_t *s)
{
    for (size_t i = 0; i < s->npool; i++)
        if (s->pool[i].conn && PQstatus(s->pool[i].conn) != CONNECTION_OK)
            pg_conn_forget(&s->pool[i]);
}

/* Whether a failed connection attempt can succeed later by itself. */
static bool connect_error_is_fatal(const char *msg)
{
    return strstr(msg, "password authentication failed") ||
           strstr(msg, "no password supplied") ||
           strstr(msg, "no pg_hba.conf entry") ||
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
    if (PQstatus(c->conn) != CONNECTION_OK) {
        /* libpq's message names host and user, never the password. */
        char msg[512];
        snprintf(msg, sizeof msg, "%s", PQerrorMessage(c->conn));
        msg[strcspn(msg, "\n")] = '\0';
        pg_conn_forget(c);
        cdc_errstr_set(errstr, errstr_size, "connecting to PostgreSQL: %s", msg);
        return connect_error_is_fatal(msg) ? CDC_SINK_FATAL : CDC_SINK_RETRY;
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

static char **split_list(const char *list)
{
    if (!list || !*list) return NULL;
    size_t n = 1;
    for (const char *p = list; *p; p++) n += *p == ',';
    char **out = calloc(n + 1, sizeof *out);
    char *copy = strdup(list), *save = NULL;
    size_t i = 0;
    for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        while (*t == ' ') t++;
        size_t len = strlen(t);
        while (len && t[len - 1] == ' ') t[--len] = '\0';
        if (len) out[i++] = strdup(t);
    }
    free(copy);
    return out;
}

static void pg_close(void *state)
{
    pg_sink_t *s = state;
    if (!s) return;
    pg_forget_connection(s);
    for (size_t i = 0; i < s->ntargets; i++) {
        pg_target_t *t = &s->targets[i];
        for (size_t k = 0; k < t->nmaps; k++) free(t->maps[k].target);
        free(t->maps);
        cdc_pg_table_free(t->table);
        free(t->name);
    }
    free(s->targets);
    for (size_t i = 0; i < s->npool; i++) free(s->pool[i].prepared);
    free(s->pool);
    for (char **f = s->pk_fields; f && *f; f++) free(*f);
    free(s->pk_fields);
    free(s->conninfo);
    free(s->schema);
    free(s->name_format);
    free(s->position_column);
    free(s->deleted_column);
    free(s);
}

static pg_sink_t *pg_sink_new(const cdc_config_t *cfg)
{
    pg_sink_t *s = calloc(1, sizeof *s);
    s->conninfo = strdup(cdc_config_get(cfg, "connection.url"));
    s->npool = (size_t)cdc_config_get_int(cfg, "connection.pool.size");
    s->pool = calloc(s->npool, sizeof *s->pool);
    s->schema = strdup(cdc_config_get(cfg, "table.schema"));
    s->name_format = strdup(cdc_config_get(cfg, "table.name.format"));
    s->position_column = strdup(cdc_config_get(cfg, "position.column"));
    s->deleted_column = strdup(cdc_config_get(cfg, "deleted.column"));
    s->pk_fields = split_list(cdc_config_get(cfg, "pk.fields"));
    s->table_options.position_column = s->position_column;
    s->table_options.deleted_column = s->deleted_column;
    s->table_options.pk_fields = (const char *const *)s->pk_fields;
    s->auto_create = cdc_config_get_bool(cfg, "auto.create");
    s->auto_evolve = cdc_config_get_bool(cfg, "auto.evolve");
    s->delete_on_tombstone = cdc_config_get_bool(cfg, "delete.on.tombstone");
    const char *mode = cdc_config_get(cfg, "delete.mode");
    s->delete_mode = strcmp(mode, "soft") == 0   ? DELETE_SOFT
                     : strcmp(mode, "none") == 0 ? DELETE_NONE
                                                 : DELETE_HARD;
    s->retention_ms = cdc_config_get_int(cfg, "delete.retention.ms");
    return s;
}

static int pg_open(const cdc_config_t *cfg, void **state, char *errstr,
                   size_t errstr_size)
{
    if (cdc_route_check(cdc_config_get(cfg, "table.name.format"), errstr,
                        errstr_size) != 0)
        return -1;
    pg_sink_t *s = pg_sink_new(cfg);
    cdc_sink_status_t st = pg_connect(s, errstr, errstr_size);
    if (st == CDC_SINK_FATAL) {
        pg_close(s);
        return -1;
    }
    if (st == CDC_SINK_RETRY) /* not up yet: apply() keeps trying */
        cdc_log_warn("%s; will retry", errstr);
    else if (cdc_config_get_bool(cfg, "auto.migrate")) {
        int applied, retry;
        if (cdc_pg_migrate(s->pool[0].conn, &applied, &retry, errstr, errstr_size) != 0) {
            pg_close(s);
            return -1;
        }
    }
    *state = s;
    return 0;
}

int cdc_postgres_migrate(const cdc_config_t *cfg, int *applied, char *errstr,
                         size_t errstr_size)
{
    pg_sink_t *s = pg_sink_new(cfg);
    int retry = 0, rc = -1;
    if (pg_connect(s, errstr, errstr_size) == CDC_SINK_OK)
        rc = cdc_pg_migrate(s->pool[0].conn, applied, &retry, errstr, errstr_size);
    pg_close(s);
    return rc;
}

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
 * Targets: table, columns, auto.create, auto.evolve
 * ------------------------------------------------------------------- */

static cdc_sink_status_t status_of(cdc_pg_status_t s)
{
    return s == CDC_PG_RETRY ? CDC_SINK_RETRY : CDC_SINK_FATAL;
}

static cdc_sink_status_t target_load(pg_sink_t *s, pg_target_t *t,
                                     const cdc_event_t *ev, char *errstr,
                                     size_t errstr_size)
{
    cdc_pg_table_free(t->table);
    t->table = NULL;
    for (size_t k = 0; k < t->nmaps; k++) free(t->maps[k].target);
    t->nmaps = 0;
    cdc_pg_status_t st = cdc_pg_table_load(s->pool[0].conn, s->schema, t->name,
                                           &s->table_options, &t->table,
                                           errstr, errstr_size);
    if (st == CDC_PG_MISSING && s->auto_create && ev->row_schema) {
        st = cdc_pg_table_create(s->pool[0].conn, s->schema, t->name, &s->table_options,
                                 ev, errstr, errstr_size);
        if (st == CDC_PG_OK) {
            cdc_log_info("created table \"%s\".\"%s\"", s->schema, t->name);
            st = cdc_pg_table_load(s->pool[0].conn, s->schema, t->name,
                                   &s->table_options, &t->table, errstr,
                                   errstr_size);
        }
    }
    if (st == CDC_PG_OK) return CDC_SINK_OK;
    return st == CDC_PG_MISSING ? CDC_SINK_FATAL : status_of(st);
}

static pg_target_t *target_find(pg_sink_t *s, const char *name)
{
    for (size_t i = 0; i < s->ntargets; i++)
        if (strcmp(s->targets[i].name, name) == 0) return &s->targets[i];
    pg_target_t *grown = realloc(s->targets, (s->ntargets + 1) * sizeof *grown);
    if (!grown) return NULL;
    s->targets = grown;
    pg_target_t *t = &s->targets[s->ntargets++];
    memset(t, 0, sizeof *t);
    t->name = strdup(name);
    return t;
}

typedef enum map_result { MAP_OK, MAP_REJECT, MAP_ERROR } map_result_t;

/* Adds the row's new columns (auto.evolve) or says why it cannot. */
static map_result_t target_evolve(pg_sink_t *s, pg_target_t *t,
                                  const cdc_event_t *ev,
                                  cdc_sink_status_t *status, char *why,
                                  size_t why_size)
{
    const cdc_row_schema_t *row = ev->row_schema;
    bool added = false;
    for (size_t i = 0; i < row->ncolumns; i++) {
        const cdc_column_t *c = &row->columns[i];
        if (cdc_pg_table_find(t->table, c->name) >= 0) continue;
        if (!s->auto_evolve) {
            cdc_errstr_set(why, why_size,
                           "table %s has no column \"%s\" that the record "
                           "carries (add it, or set auto.evolve=true)",
                           t->table->qualified, c->name);
            *status = CDC_SINK_FATAL;
            return MAP_ERROR;
        }
        if (!c->optional && !c->has_default) {
            cdc_errstr_set(why, why_size,
                           "new required column \"%s\" without a default "
                           "cannot be added to %s safely", c->name,
                           t->table->qualified);
            return MAP_REJECT;
        }
        cdc_pg_status_t st = cdc_pg_table_add_column(s->pool[0].conn, t->table, c, why,
                                                     why_size);
        if (st != CDC_PG_OK) {
            *status = status_of(st);
            return MAP_ERROR;
        }
        cdc_log_info("auto.evolve: added column \"%s\" to %s", c->name,
                     t->table->qualified);
        added = true;
    }
    if (added) {
        *status = target_load(s, t, ev, why, why_size);
        if (*status != CDC_SINK_OK) return MAP_ERROR;
    }
    return MAP_OK;
}

/* The column map of this writer schema for the target, made once. */
static map_result_t target_map(pg_sink_t *s, pg_target_t *t,
                               const cdc_event_t *ev,
                               const cdc_row_schema_t *row, const int **map,
                               cdc_sink_status_t *status, char *why,
                               size_t why_size)
{
    for (size_t k = 0; k < t->nmaps; k++)
        if (t->maps[k].row == row) {
            *map = t->maps[k].target;
            return MAP_OK;
        }
    if (row == ev->row_schema) { /* keys never evolve a table */
        map_result_t r = target_evolve(s, t, ev, status, why, why_size);
        if (r != MAP_OK) return r;
    }
    column_map_t *grown = realloc(t->maps, (t->nmaps + 1) * sizeof *grown);
    if (!grown) {
        *status = CDC_SINK_RETRY;
        cdc_errstr_set(why, why_size, "out of memory");
        return MAP_ERROR;
    }
    t->maps = grown;
    column_map_t *m = &t->maps[t->nmaps++];
    m->row = row;
    m->target = calloc(row->ncolumns + 1, sizeof *m->target);
    for (size_t i = 0; i < row->ncolumns; i++)
        m->target[i] = cdc_pg_table_find(t->table, row->columns[i].name);
    *map = m->target;
    return MAP_OK;
}

/* ---------------------------------------------------------------------
 * Planning: what each record asks for
 * ------------------------------------------------------------------- */

typedef enum plan_result {
    PLAN_WORK,     /* w is filled: write it */
    PLAN_DECIDED,  /* the outcome is set (skipped or rejected) */
    PLAN_STOP      /* batch-level failure: *status says which */
} plan_result_t;

static void reject(cdc_outcome_t *o, const char *error_class,
                   const char *name, const char *message, cdc_arena_t *arena)
{
    o->kind = CDC_OUTCOME_REJECTED;
    o->error_class = error_class;
    o->exception_name = name;
    o->message = cdc_arena_strndup(arena, message, strlen(message));
}

static bool row_supported(const cdc_row_schema_t *schema, const cdc_value_t *row)
{
    for (size_t i = 0; i < schema->ncolumns; i++)
        if (!row[i].is_null && (row[i].type == CDC_TYPE_MAP ||
                                row[i].type == CDC_TYPE_RECORD))
            return false;
    return true;
}

static bool action_for(const pg_sink_t *s, const cdc_event_t *ev,
                       cdc_pg_action_t *action)
{
    switch (ev->op) {
    case CDC_OP_TRUNCATE: return false;
    case CDC_OP_TOMBSTONE:
        *action = CDC_PG_KEY_DELETE;
        return s->delete_on_tombstone;
    case CDC_OP_DELETE:
        *action = s->delete_mode == DELETE_SOFT ? CDC_PG_SOFT_DELETE
                                                : CDC_PG_HARD_DELETE;
        return s->delete_mode != DELETE_NONE;
    default:
        *action = CDC_PG_UPSERT;
        return true;
    }
}

/* Which row, in which schema, provides the values. Deletes take the key
 * (always complete), falling back to the before image. */
static void choose_row(const cdc_event_t *ev, pg_work_t *w)
{
    bool by_key = w->action == CDC_PG_HARD_DELETE || w->action == CDC_PG_KEY_DELETE;
    if (by_key && ev->key) {
        w->row = ev->key;
        w->row_schema = ev->key_schema;
    } else if (w->action == CDC_PG_UPSERT) {
        w->row = ev->after;
        w->row_schema = ev->row_schema;
    } else if (ev->before) {
        w->row = ev->before;
        w->row_schema = ev->row_schema;
    } else {
        w->row = ev->key;
        w->row_schema = ev->key_schema;
    }
}

/* Fills w->columns/source from a column map: every available column the
 * table has, except the position and deleted columns cdcsink owns. */
static int plan_columns(const cdc_pg_table_t *table, pg_work_t *w,
                        const int *map, cdc_arena_t *arena)
{
    int *source = cdc_arena_alloc(arena, (table->ncolumns + 1) * sizeof *source);
    int *columns = cdc_arena_alloc(arena, (table->ncolumns + 1) * sizeof *columns);
    if (!source || !columns) return -1;
    for (size_t c = 0; c < table->ncolumns; c++) source[c] = -1;
    bool keys_only = w->action == CDC_PG_HARD_DELETE || w->action == CDC_PG_KEY_DELETE;
    for (size_t i = 0; i < w->row_schema->ncolumns; i++) {
        int c = map[i];
        if (c < 0 || c == table->position_column || c == table->deleted_column ||
            w->row[i].unavailable)
            continue;
        source[c] = (int)i;
    }
    w->ncolumns = 0;
    for (size_t c = 0; c < table->ncolumns; c++) {
        bool is_pk = false;
        for (size_t k = 0; k < table->npk; k++) is_pk |= table->pk[k] == (int)c;
        if (source[c] < 0 || (keys_only && !is_pk)) continue;
        columns[w->ncolumns++] = (int)c;
    }
    for (size_t k = 0; k < table->npk; k++)
        if (source[table->pk[k]] < 0) return 1; /* a key column is missing */
    w->columns = columns;
    w->source = source;
    return 0;
}

static plan_result_t plan_target(pg_sink_t *s, const cdc_event_t *ev,
                                 pg_work_t *w, cdc_arena_t *arena,
                                 cdc_sink_status_t *status, char *errstr,
                                 size_t errstr_size)
{
    cdc_buf_t name;
    cdc_buf_init(&name);
    cdc_route_format(s->name_format, ev, &name);
    w->target = name.failed ? NULL : target_find(s, name.data ? name.data : "");
    cdc_buf_free(&name);
    if (!w->target) {
        *status = CDC_SINK_RETRY;
        cdc_errstr_set(errstr, errstr_size, "out of memory");
        return PLAN_STOP;
    }
    if (!w->target->table) {
        if (ev->op == CDC_OP_TOMBSTONE && !ev->row_schema) {
            cdc_pg_status_t st = cdc_pg_table_load(
                s->pool[0].conn, s->schema, w->target->name, &s->table_options,
                &w->target->table, errstr, errstr_size);
            if (st == CDC_PG_MISSING) return PLAN_DECIDED; /* nothing to delete */
            if (st != CDC_PG_OK) {
                *status = status_of(st);
                return PLAN_STOP;
            }
        } else if ((*status = target_load(s, w->target, ev, errstr,
                                          errstr_size)) != CDC_SINK_OK) {
            return PLAN_STOP;
        }
    }
    (void)arena;
    return PLAN_WORK;
}

static plan_result_t plan_event(pg_sink_t *s, const cdc_event_t *ev,
                                pg_work_t *w, cdc_outcome_t *o,
                                cdc_arena_t *arena, cdc_sink_status_t *status,
                                char *errstr, size_t errstr_size)
{
    memset(w, 0, sizeof *w);
    w->event = ev;
    o->kind = CDC_OUTCOME_SKIPPED;
    if (!action_for(s, ev, &w->action)) return PLAN_DECIDED;
    if (w->action != CDC_PG_KEY_DELETE && !ev->has_position) {
        reject(o, "data", "cdcsink.NoPosition",
               "the record has no position (position.field): it cannot be "
               "applied guarded", arena);
        return PLAN_DECIDED;
    }
    choose_row(ev, w);
    if (!w->row || !w->row_schema) {
        reject(o, "data", "cdcsink.NoRow", "the record has neither a row nor a key",
               arena);
        return PLAN_DECIDED;
    }
    if (!row_supported(w->row_schema, w->row)) {
        reject(o, "data", "cdcsink.UnsupportedType",
               "a column holds a map or struct, which this sink cannot write",
               arena);
        return PLAN_DECIDED;
    }
    plan_result_t r = plan_target(s, ev, w, arena, status, errstr, errstr_size);
    if (r != PLAN_WORK) return r;
    const int *map;
    char why[512];
    switch (target_map(s, w->target, ev, w->row_schema, &map, status, why,
                       sizeof why)) {
    case MAP_OK: break;
    case MAP_REJECT:
        reject(o, "schema", "cdcsink.SchemaChange", why, arena);
        return PLAN_DECIDED;
    case MAP_ERROR:
        cdc_errstr_set(errstr, errstr_size, "%s", why);
        return PLAN_STOP;
    }
    w->map = map;
    int rc = plan_columns(w->target->table, w, map, arena);
    if (rc > 0 && w->row == ev->key && ev->before) {
        /* pk.fields beyond the record key: the before image has them when
         * the source table has REPLICA IDENTITY FULL. */
        w->row = ev->before;
        w->row_schema = ev->row_schema;
        if (target_map(s, w->target, ev, w->row_schema, &map, status, why,
                       sizeof why) != MAP_OK) {
            cdc_errstr_set(errstr, errstr_size, "%s", why);
            return PLAN_STOP;
        }
        w->map = map;
        rc = plan_columns(w->target->table, w, map, arena);
    }
    if (rc < 0) {
        *status = CDC_SINK_RETRY;
        cdc_errstr_set(errstr, errstr_size, "out of memory");
        return PLAN_STOP;
    }
    if (rc > 0) {
        reject(o, "data", "cdcsink.MissingKey",
               "a primary-key column of the target has no value in the record "
               "(pk.fields beyond the record key need REPLICA IDENTITY FULL "
               "on the source table for deletes)", arena);
        return PLAN_DECIDED;
    }
    return PLAN_WORK;
}

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

static bool uses_ledger(const pg_sink_t *s, cdc_pg_action_t action)
{
    return s->delete_mode == DELETE_HARD &&
           (action == CDC_PG_UPSERT || action == CDC_PG_HARD_DELETE);
}

/* The name of the prepared statement for this SQL on this session. */
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
    PGresult *res = PQprepare(c->conn, p->name, sql, nparams, NULL);
    if (PQresultStatus(res) != PGRES_COMMAND_OK) {
        *failure = res;
        return NULL;
    }
    PQclear(res);
    p->sql = strdup(sql);
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
    size_t arrays = shape->ncolumns + (shape->action != CDC_PG_KEY_DELETE);
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
        if (shape->action != CDC_PG_KEY_DELETE) {
            char pos[24];
            snprintf(pos, sizeof pos, "%lld", (long long)w->event->position);
            cdc_pg_value_array_element(&params[shape->ncolumns], pos,
                                       strlen(pos), false);
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
    EXEC_DATA,   /* the database refused a value: isolate the record */
    EXEC_RETRY,
    EXEC_FATAL
} exec_result_t;

static bool is_data_error(const char *state)
{
    return state && (strncmp(state, "22", 2) == 0 || strncmp(state, "23", 2) == 0 ||
                     strcmp(state, "42804") == 0);
}

/* Runs on the writer threads: reads the target, never changes it (a
 * changed table is only flagged, and read again by the next batch). */
static exec_result_t classify_failure(PGconn *conn, PGresult *res,
                                      pg_target_t *target, char *errstr,
                                      size_t errstr_size)
{
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    const char *msg = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
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

/* Runs one group; marks applied[i] for the work items it changed. */
static exec_result_t group_exec(const pg_sink_t *s, pg_conn_t *c,
                                const pg_group_t *g, const pg_work_t *work,
                                bool *applied, char *errstr, size_t errstr_size)
{
    const pg_work_t *shape = g->first;
    bool ledger = uses_ledger(s, shape->action);
    size_t nparams = shape->ncolumns + (shape->action != CDC_PG_KEY_DELETE) + ledger;
    cdc_buf_t sql, params[nparams];
    cdc_buf_init(&sql);
    for (size_t j = 0; j < nparams; j++) cdc_buf_init(&params[j]);
    cdc_pg_sql_build(&sql, shape->target->table, shape->action, shape->columns,
                     shape->ncolumns, ledger);
    exec_result_t r = EXEC_OK;
    PGresult *res = NULL;
    const char *values[nparams];
    if (sql.failed || group_params(s, g, work, params, nparams) != 0) {
        cdc_errstr_set(errstr, errstr_size, "out of memory building a statement");
        r = EXEC_RETRY;
        goto done;
    }
    const char *name = prepared_name(c, sql.data, (int)nparams, &res);
    if (!name) {
        r = res ? classify_failure(c->conn, res, shape->target, errstr, errstr_size)
                : EXEC_RETRY;
        goto done;
    }
    for (size_t j = 0; j < nparams; j++) values[j] = params[j].data;
    res = PQexecPrepared(c->conn, name, (int)nparams, values, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        r = classify_failure(c->conn, res, shape->target, errstr, errstr_size);
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

/* One transaction, one statement per group. Runs on its own thread. */
static void *shard_run(void *arg)
{
    pg_shard_t *sh = arg;
    PGconn *conn = sh->conn->conn;
    exec_result_t r = run_sql(conn, "BEGIN", sh->errstr, sizeof sh->errstr);
    for (size_t g = 0; g < sh->ngroups && r == EXEC_OK; g++)
        r = group_exec(sh->sink, sh->conn, &sh->groups[g], sh->work, sh->applied,
                       sh->errstr, sizeof sh->errstr);
    if (r == EXEC_OK) r = run_sql(conn, "COMMIT", sh->errstr, sizeof sh->errstr);
    else rollback(conn);
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
                     pthread_create(&threads[i], NULL, shard_run, &shards[i]) == 0;
    if (shards[0].nitems > 0) shard_run(&shards[0]);
    for (size_t i = 1; i < nshards; i++) {
        if (started[i]) pthread_join(threads[i], NULL);
        else if (shards[i].nitems > 0) shard_run(&shards[i]);
    }
}

static void reject_from_error(cdc_outcome_t *o, const char *errstr,
                              cdc_arena_t *arena)
{
    const char *state = strstr(errstr, "SQLSTATE ");
    char name[24] = "SQLSTATE";
    if (state) snprintf(name, sizeof name, "%.14s", state);
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
        char why[1024];
        r = group_exec(sh->sink, sh->conn, &one, sh->work, sh->applied, why,
                       sizeof why);
        if (r == EXEC_DATA) {
            reject_from_error(&outcomes[member], why, arena);
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
static cdc_sink_status_t shards_finish(pg_sink_t *s, pg_shard_t *shards,
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
    pg_forget_broken(s);
    return worst == EXEC_FATAL ? CDC_SINK_FATAL : CDC_SINK_RETRY;
}

/* ---------------------------------------------------------------------
 * The batch
 * ------------------------------------------------------------------- */

/* Hard-delete tombstones older than delete.retention.ms, once a minute. */
static void purge_ledger(pg_sink_t *s)
{
    time_t now = time(NULL);
    if (s->delete_mode != DELETE_HARD || now - s->last_purge < 60) return;
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

/* Plans every event; the actionable ones' indexes go to `actionable`. */
static cdc_sink_status_t plan_batch(pg_sink_t *s, const cdc_event_t *const *events,
                                    size_t count, pg_work_t *work,
                                    cdc_outcome_t *outcomes, size_t *actionable,
                                    size_t *nactionable, cdc_arena_t *arena,
                                    char *errstr, size_t errstr_size)
{
    *nactionable = 0;
    for (size_t i = 0; i < count; i++) {
        cdc_sink_status_t status = CDC_SINK_OK;
        plan_result_t r = plan_event(s, events[i], &work[i], &outcomes[i], arena,
                                     &status, errstr, errstr_size);
        if (r == PLAN_STOP) {
            pg_forget_broken(s);
            return status;
        }
        if (r == PLAN_WORK) actionable[(*nactionable)++] = i;
    }
    return CDC_SINK_OK;
}

/* Collapses the actionable items to one per key; the others are stale. */
static size_t collapse_batch(pg_work_t *work, const size_t *actionable,
                             size_t n, size_t *winners, cdc_outcome_t *outcomes,
                             cdc_arena_t *arena)
{
    const cdc_event_t **events = cdc_arena_alloc(arena, (n + 1) * sizeof *events);
    const char **groups = cdc_arena_alloc(arena, (n + 1) * sizeof *groups);
    size_t *winner_of = cdc_arena_alloc(arena, (n + 1) * sizeof *winner_of);
    if (!events || !groups || !winner_of) return SIZE_MAX;
    for (size_t k = 0; k < n; k++) {
        events[k] = work[actionable[k]].event;
        groups[k] = work[actionable[k]].target->name;
    }
    if (cdc_collapse(events, groups, n, winner_of, arena) < 0) return SIZE_MAX;
    size_t nwinners = 0;
    for (size_t k = 0; k < n; k++) {
        if (winner_of[k] == k) winners[nwinners++] = actionable[k];
        outcomes[actionable[k]].kind = CDC_OUTCOME_STALE; /* until applied */
    }
    for (size_t k = 0; k < n; k++) {
        pg_work_t *w = &work[actionable[k]];
        if (winner_of[k] != k || w->action != CDC_PG_SOFT_DELETE) continue;
        size_t last = cdc_collapse_last_upsert(events, n, winner_of, k);
        if (last == SIZE_MAX) continue;
        const pg_work_t *upsert = &work[actionable[last]];
        w->row = upsert->row;
        w->row_schema = upsert->row_schema;
        w->map = upsert->map;
        if (plan_columns(w->target->table, w, w->map, arena) < 0) return SIZE_MAX;
    }
    for (size_t k = 0; k < n; k++) {
        pg_work_t *w = &work[actionable[k]];
        if (winner_of[k] != k || w->action != CDC_PG_UPSERT) continue;
        const cdc_value_t *row = cdc_collapse_fill_unavailable(events, n, winner_of,
                                                               k, arena);
        if (!row) return SIZE_MAX;
        if (row != w->row) { /* values filled in: the column set grows */
            w->row = row;
            if (plan_columns(w->target->table, w, w->map, arena) < 0) return SIZE_MAX;
        }
    }
    return nwinners;
}

/* Tables flagged as changed under us are read again before planning. */
static void forget_stale_catalogs(pg_sink_t *s)
{
    for (size_t i = 0; i < s->ntargets; i++) {
        pg_target_t *t = &s->targets[i];
        if (!t->catalog_stale) continue;
        cdc_pg_table_free(t->table);
        t->table = NULL;
        for (size_t k = 0; k < t->nmaps; k++) free(t->maps[k].target);
        t->nmaps = 0;
        t->catalog_stale = false;
    }
}

static cdc_sink_status_t pg_apply(void *state, const cdc_event_t *const *events,
                                  size_t count, cdc_outcome_t *outcomes,
                                  cdc_arena_t *arena, char *errstr,
                                  size_t errstr_size)
{
    pg_sink_t *s = state;
    cdc_sink_status_t st = pg_connect(s, errstr, errstr_size);
    if (st != CDC_SINK_OK) return st;
    forget_stale_catalogs(s);
    pg_work_t *work = cdc_arena_alloc(arena, (count + 1) * sizeof *work);
    size_t *actionable = cdc_arena_alloc(arena, (count + 1) * sizeof *actionable);
    size_t *winners = cdc_arena_alloc(arena, (count + 1) * sizeof *winners);
    bool *applied = cdc_arena_alloc(arena, count + 1);
    pg_shard_t *shards = cdc_arena_alloc(arena, (s->npool + 1) * sizeof *shards);
    if (!work || !actionable || !winners || !applied || !shards) {
        cdc_errstr_set(errstr, errstr_size, "out of memory");
        return CDC_SINK_RETRY;
    }
    memset(applied, 0, count + 1);
    size_t nactionable;
    st = plan_batch(s, events, count, work, outcomes, actionable, &nactionable,
                    arena, errstr, errstr_size);
    if (st != CDC_SINK_OK) return st;
    size_t nwinners = collapse_batch(work, actionable, nactionable, winners,
                                     outcomes, arena);
    size_t nshards = nwinners == SIZE_MAX ? 0
                     : shards_make(s, work, winners, nwinners, applied, shards, arena);
    if (nshards == 0 && nwinners > 0) {
        cdc_errstr_set(errstr, errstr_size, "out of memory");
        return CDC_SINK_RETRY;
    }
    shards_run(shards, nshards);
    st = shards_finish(s, shards, nshards, outcomes, arena, errstr, errstr_size);
    if (st != CDC_SINK_OK) return st;
    for (size_t k = 0; k < nwinners; k++)
        if (applied[winners[k]]) outcomes[winners[k]].kind = CDC_OUTCOME_APPLIED;
    purge_ledger(s);
    return CDC_SINK_OK;
}

const cdc_sink_ops_t cdc_postgres_sink = {
    .name = "postgres",
    .open = pg_open,
    .apply = pg_apply,
    .ping = pg_ping,
    .close = pg_close,
};
