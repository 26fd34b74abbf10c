#include "postgres.h"

#include <libpq-fe.h>
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
    column_map_t *maps;
    size_t nmaps;
} pg_target_t;

typedef struct prepared {
    char *sql;
    char name[24];
} prepared_t;

typedef struct pg_sink {
    char *conninfo;
    PGconn *conn;
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
    prepared_t *prepared;
    size_t nprepared;
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

static void pg_forget_connection(pg_sink_t *s)
{
    if (s->conn) PQfinish(s->conn);
    s->conn = NULL;
    for (size_t i = 0; i < s->nprepared; i++) free(s->prepared[i].sql);
    s->nprepared = 0; /* prepared statements die with their session */
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

static cdc_sink_status_t pg_connect(pg_sink_t *s, char *errstr,
                                    size_t errstr_size)
{
    if (s->conn && PQstatus(s->conn) == CONNECTION_OK) return CDC_SINK_OK;
    pg_forget_connection(s);
    s->conn = PQconnectdb(s->conninfo);
    if (PQstatus(s->conn) != CONNECTION_OK) {
        /* libpq's message names host and user, never the password. */
        char msg[512];
        snprintf(msg, sizeof msg, "%s", PQerrorMessage(s->conn));
        msg[strcspn(msg, "\n")] = '\0';
        pg_forget_connection(s);
        cdc_errstr_set(errstr, errstr_size, "connecting to PostgreSQL: %s", msg);
        return connect_error_is_fatal(msg) ? CDC_SINK_FATAL : CDC_SINK_RETRY;
    }
    PQsetNoticeProcessor(s->conn, pg_notice, NULL);
    /* Text values are written and compared in one, fixed convention. */
    PGresult *res = PQexec(s->conn, "SET TimeZone = 'UTC'; SET DateStyle = "
                                    "'ISO, YMD'; SET IntervalStyle = "
                                    "'postgres'; SET extra_float_digits = 3");
    bool ok = PQresultStatus(res) == PGRES_COMMAND_OK;
    PQclear(res);
    if (!ok) {
        cdc_errstr_set(errstr, errstr_size, "session setup: %s",
                       PQerrorMessage(s->conn));
        pg_forget_connection(s);
        return CDC_SINK_RETRY;
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
    free(s->prepared);
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
        if (cdc_pg_migrate(s->conn, &applied, &retry, errstr, errstr_size) != 0) {
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
        rc = cdc_pg_migrate(s->conn, applied, &retry, errstr, errstr_size);
    pg_close(s);
    return rc;
}

static int pg_ping(void *state)
{
    pg_sink_t *s = state;
    char errstr[256];
    if (pg_connect(s, errstr, sizeof errstr) != CDC_SINK_OK) return -1;
    PGresult *res = PQexec(s->conn, "SELECT 1");
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
    cdc_pg_status_t st = cdc_pg_table_load(s->conn, s->schema, t->name,
                                           &s->table_options, &t->table,
                                           errstr, errstr_size);
    if (st == CDC_PG_MISSING && s->auto_create && ev->row_schema) {
        st = cdc_pg_table_create(s->conn, s->schema, t->name, &s->table_options,
                                 ev, errstr, errstr_size);
        if (st == CDC_PG_OK) {
            cdc_log_info("created table \"%s\".\"%s\"", s->schema, t->name);
            st = cdc_pg_table_load(s->conn, s->schema, t->name,
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
        cdc_pg_status_t st = cdc_pg_table_add_column(s->conn, t->table, c, why,
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
                s->conn, s->schema, w->target->name, &s->table_options,
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
    if (rc < 0) {
        *status = CDC_SINK_RETRY;
        cdc_errstr_set(errstr, errstr_size, "out of memory");
        return PLAN_STOP;
    }
    if (rc > 0) {
        reject(o, "data", "cdcsink.MissingKey",
               "a primary-key column of the target has no value in the record",
               arena);
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

/* Groups the work items listed in `items` (n of them). */
static size_t make_groups(const pg_work_t *work, const size_t *items, size_t n,
                          pg_group_t *groups, cdc_arena_t *arena)
{
    size_t ngroups = 0;
    for (size_t k = 0; k < n; k++) {
        const pg_work_t *w = &work[items[k]];
        size_t g = 0;
        while (g < ngroups && !same_shape(groups[g].first, w)) g++;
        if (g == ngroups) {
            groups[g].first = w;
            groups[g].members = cdc_arena_alloc(arena, (n + 1) * sizeof(size_t));
            groups[g].count = 0;
            ngroups++;
        }
        if (groups[g].members) groups[g].members[groups[g].count++] = items[k];
    }
    return ngroups;
}

static bool uses_ledger(const pg_sink_t *s, cdc_pg_action_t action)
{
    return s->delete_mode == DELETE_HARD &&
           (action == CDC_PG_UPSERT || action == CDC_PG_HARD_DELETE);
}

/* The name of the prepared statement for this SQL on this connection. */
static const char *prepared_name(pg_sink_t *s, const char *sql, int nparams,
                                 PGresult **failure)
{
    for (size_t i = 0; i < s->nprepared; i++)
        if (strcmp(s->prepared[i].sql, sql) == 0) return s->prepared[i].name;
    prepared_t *grown = realloc(s->prepared, (s->nprepared + 1) * sizeof *grown);
    if (!grown) return NULL;
    s->prepared = grown;
    prepared_t *p = &s->prepared[s->nprepared];
    snprintf(p->name, sizeof p->name, "cdcsink_%zu", s->nprepared);
    PGresult *res = PQprepare(s->conn, p->name, sql, nparams, NULL);
    if (PQresultStatus(res) != PGRES_COMMAND_OK) {
        *failure = res;
        return NULL;
    }
    PQclear(res);
    p->sql = strdup(sql);
    s->nprepared++;
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

static exec_result_t classify_failure(pg_sink_t *s, PGresult *res,
                                      pg_target_t *target, char *errstr,
                                      size_t errstr_size)
{
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    const char *msg = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    cdc_errstr_set(errstr, errstr_size, "%s: SQLSTATE %s: %s",
                   target->table->qualified, state ? state : "none",
                   msg ? msg : PQerrorMessage(s->conn));
    if (is_data_error(state)) return EXEC_DATA;
    if (state && (strcmp(state, "42703") == 0 || strcmp(state, "42P01") == 0)) {
        /* The table changed under us: read the catalog again. */
        cdc_pg_table_free(target->table);
        target->table = NULL;
        for (size_t k = 0; k < target->nmaps; k++) free(target->maps[k].target);
        target->nmaps = 0;
        return EXEC_RETRY;
    }
    return cdc_pg_classify(s->conn, res) == CDC_PG_RETRY ? EXEC_RETRY : EXEC_FATAL;
}

/* Runs one group; marks applied[i] for the work items it changed. */
static exec_result_t group_exec(pg_sink_t *s, const pg_group_t *g,
                                const pg_work_t *work, bool *applied,
                                char *errstr, size_t errstr_size)
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
    const char *name = prepared_name(s, sql.data, (int)nparams, &res);
    if (!name) {
        r = res ? classify_failure(s, res, shape->target, errstr, errstr_size)
                : EXEC_RETRY;
        goto done;
    }
    for (size_t j = 0; j < nparams; j++) values[j] = params[j].data;
    res = PQexecPrepared(s->conn, name, (int)nparams, values, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        r = classify_failure(s, res, shape->target, errstr, errstr_size);
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

static exec_result_t run_sql(pg_sink_t *s, const char *sql, char *errstr,
                             size_t errstr_size)
{
    PGresult *res = PQexec(s->conn, sql);
    exec_result_t r = EXEC_OK;
    if (PQresultStatus(res) != PGRES_COMMAND_OK) {
        const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
        cdc_errstr_set(errstr, errstr_size, "%s: SQLSTATE %s: %s", sql,
                       state ? state : "none", PQerrorMessage(s->conn));
        r = is_data_error(state) ? EXEC_DATA
            : cdc_pg_classify(s->conn, res) == CDC_PG_RETRY ? EXEC_RETRY
                                                            : EXEC_FATAL;
    }
    PQclear(res);
    return r;
}

/* ---------------------------------------------------------------------
 * The batch
 * ------------------------------------------------------------------- */

static cdc_sink_status_t status_from_exec(pg_sink_t *s, exec_result_t r)
{
    if (r == EXEC_OK) return CDC_SINK_OK;
    if (s->conn && PQstatus(s->conn) != CONNECTION_OK) pg_forget_connection(s);
    return r == EXEC_FATAL ? CDC_SINK_FATAL : CDC_SINK_RETRY;
}

static void rollback(pg_sink_t *s)
{
    if (s->conn && PQstatus(s->conn) == CONNECTION_OK)
        PQclear(PQexec(s->conn, "ROLLBACK"));
}

/* Every item in one transaction, one statement per group. */
static exec_result_t run_batch(pg_sink_t *s, const pg_work_t *work,
                               const size_t *items, size_t n, bool *applied,
                               cdc_arena_t *arena, char *errstr,
                               size_t errstr_size)
{
    pg_group_t *groups = cdc_arena_alloc(arena, (n + 1) * sizeof *groups);
    if (!groups) return EXEC_RETRY;
    size_t ngroups = make_groups(work, items, n, groups, arena);
    exec_result_t r = run_sql(s, "BEGIN", errstr, errstr_size);
    for (size_t g = 0; g < ngroups && r == EXEC_OK; g++)
        r = group_exec(s, &groups[g], work, applied, errstr, errstr_size);
    if (r == EXEC_OK) r = run_sql(s, "COMMIT", errstr, errstr_size);
    else rollback(s);
    return r;
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

/* After a data error: the same items one by one, each in a savepoint, so
 * only the records the database refuses are rejected. */
static exec_result_t run_isolated(pg_sink_t *s, const pg_work_t *work,
                                  const size_t *items, size_t n, bool *applied,
                                  cdc_outcome_t *outcomes, size_t *rejected,
                                  cdc_arena_t *arena, char *errstr,
                                  size_t errstr_size)
{
    exec_result_t r = run_sql(s, "BEGIN", errstr, errstr_size);
    for (size_t k = 0; k < n && r == EXEC_OK; k++) {
        size_t member = items[k];
        pg_group_t one = {&work[member], &member, 1};
        r = run_sql(s, "SAVEPOINT cdcsink_record", errstr, errstr_size);
        if (r != EXEC_OK) break;
        char why[1024];
        r = group_exec(s, &one, work, applied, why, sizeof why);
        if (r == EXEC_DATA) {
            reject_from_error(&outcomes[member], why, arena);
            (*rejected)++;
            r = run_sql(s, "ROLLBACK TO SAVEPOINT cdcsink_record", errstr,
                        errstr_size);
        } else if (r == EXEC_OK) {
            r = run_sql(s, "RELEASE SAVEPOINT cdcsink_record", errstr,
                        errstr_size);
        } else {
            cdc_errstr_set(errstr, errstr_size, "%s", why);
        }
    }
    if (r == EXEC_OK) r = run_sql(s, "COMMIT", errstr, errstr_size);
    else rollback(s);
    return r;
}

/* Hard-delete tombstones older than delete.retention.ms, once a minute. */
static void purge_ledger(pg_sink_t *s)
{
    time_t now = time(NULL);
    if (s->delete_mode != DELETE_HARD || now - s->last_purge < 60) return;
    s->last_purge = now;
    char ms[32];
    snprintf(ms, sizeof ms, "%lld", (long long)s->retention_ms);
    const char *params[1] = {ms};
    PGresult *res = PQexecParams(
        s->conn,
        "DELETE FROM cdcsink.tombstones WHERE deleted_at < now() - "
        "make_interval(secs => $1::bigint / 1000.0)",
        1, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_COMMAND_OK)
        cdc_log_warn("purging cdcsink.tombstones: %s", PQerrorMessage(s->conn));
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
            if (s->conn && PQstatus(s->conn) != CONNECTION_OK) pg_forget_connection(s);
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

static cdc_sink_status_t pg_apply(void *state, const cdc_event_t *const *events,
                                  size_t count, cdc_outcome_t *outcomes,
                                  cdc_arena_t *arena, char *errstr,
                                  size_t errstr_size)
{
    pg_sink_t *s = state;
    cdc_sink_status_t st = pg_connect(s, errstr, errstr_size);
    if (st != CDC_SINK_OK) return st;
    pg_work_t *work = cdc_arena_alloc(arena, (count + 1) * sizeof *work);
    size_t *actionable = cdc_arena_alloc(arena, (count + 1) * sizeof *actionable);
    size_t *winners = cdc_arena_alloc(arena, (count + 1) * sizeof *winners);
    bool *applied = cdc_arena_alloc(arena, count + 1);
    if (!work || !actionable || !winners || !applied) {
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
    if (nwinners == SIZE_MAX) {
        cdc_errstr_set(errstr, errstr_size, "out of memory");
        return CDC_SINK_RETRY;
    }
    exec_result_t r = EXEC_OK;
    if (nwinners > 0)
        r = run_batch(s, work, winners, nwinners, applied, arena, errstr,
                      errstr_size);
    if (r == EXEC_DATA) {
        size_t rejected = 0;
        cdc_log_warn("%s; isolating the offending records", errstr);
        memset(applied, 0, count + 1);
        r = run_isolated(s, work, winners, nwinners, applied, outcomes,
                         &rejected, arena, errstr, errstr_size);
    }
    if (r != EXEC_OK) return status_from_exec(s, r);
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
