#include "pg_plan.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errstr.h"
#include "log.h"

/* ---------------------------------------------------------------------
 * Targets: table, columns, auto.create, auto.evolve
 * ------------------------------------------------------------------- */

static cdc_sink_status_t status_of(cdc_pg_status_t s)
{
    return s == CDC_PG_RETRY ? CDC_SINK_RETRY : CDC_SINK_FATAL;
}

/* LIMIT (with the SQLSTATE in sqlstate) when the table cannot be created
 * as the record asks; MISSING when it does not exist and may not be. */
static cdc_pg_status_t target_load(pg_sink_t *s, pg_target_t *t,
                                   const cdc_event_t *ev, char *sqlstate,
                                   char *errstr, size_t errstr_size)
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
                                 ev, sqlstate, errstr, errstr_size);
        if (st == CDC_PG_OK) {
            cdc_log_info("created table \"%s\".\"%s\"", s->schema, t->name);
            st = cdc_pg_table_load(s->pool[0].conn, s->schema, t->name,
                                   &s->table_options, &t->table, errstr,
                                   errstr_size);
        }
    }
    return st;
}

/* Targets are allocated one by one and never move: work items planned
 * earlier in the batch keep pointing at theirs while later events of the
 * same batch add new tables (a pipeline over a whole database). */
static pg_target_t *target_find(pg_sink_t *s, const char *name)
{
    for (size_t i = 0; i < s->ntargets; i++)
        if (strcmp(s->targets[i]->name, name) == 0) return s->targets[i];
    pg_target_t **grown = realloc(s->targets, (s->ntargets + 1) * sizeof *grown);
    if (!grown) return NULL;
    s->targets = grown;
    pg_target_t *t = calloc(1, sizeof *t);
    if (t) t->name = strdup(name);
    if (!t || !t->name) {
        free(t);
        return NULL;
    }
    s->targets[s->ntargets++] = t;
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
    const cdc_column_t **added = calloc(row->ncolumns + 1, sizeof *added);
    size_t nadded = 0;
    if (!added) {
        *status = CDC_SINK_RETRY;
        cdc_errstr_set(why, why_size, "out of memory");
        return MAP_ERROR;
    }
    map_result_t r = MAP_OK;
    for (size_t i = 0; i < row->ncolumns && r == MAP_OK; i++) {
        const cdc_column_t *c = &row->columns[i];
        int existing = cdc_pg_table_find(t->table, c->name);
        if (existing >= 0 &&
            !cdc_pg_table_type_accepts(t->table->columns[existing].type, c)) {
            cdc_errstr_set(why, why_size,
                           "column \"%s\" of %s is %s, but the record carries "
                           "%s (its type changed at the source?); change the "
                           "target column, then replay the DLQ", c->name,
                           t->table->qualified, t->table->columns[existing].type,
                           cdc_type_name(c->type));
            /* Read the catalog again next batch: once the operator fixes
             * the column, new records go through without a restart. */
            t->catalog_stale = true;
            r = MAP_REJECT;
        } else if (existing >= 0) {
            continue;
        } else if (!s->auto_evolve) {
            cdc_errstr_set(why, why_size,
                           "table %s has no column \"%s\" that the record "
                           "carries (add it, or set auto.evolve=true)",
                           t->table->qualified, c->name);
            *status = CDC_SINK_FATAL;
            r = MAP_ERROR;
        } else if (!c->optional && !c->has_default) {
            cdc_errstr_set(why, why_size,
                           "new required column \"%s\" without a default "
                           "cannot be added to %s safely", c->name,
                           t->table->qualified);
            r = MAP_REJECT;
        } else {
            added[nadded++] = c;
        }
    }
    if (r == MAP_OK && nadded > 0) {
        /* All the new columns in one statement: a schema PostgreSQL cannot
         * take (more than 1,600 columns) leaves the table as it was. */
        char sqlstate[6];
        cdc_pg_status_t st = cdc_pg_table_add_columns(s->pool[0].conn, t->table, added,
                                                      nadded, sqlstate, why, why_size);
        if (st == CDC_PG_LIMIT) {
            r = MAP_REJECT;
        } else if (st != CDC_PG_OK) {
            *status = status_of(st);
            r = MAP_ERROR;
        } else {
            for (size_t k = 0; k < nadded; k++)
                cdc_log_info("auto.evolve: added column \"%s\" to %s", added[k]->name,
                             t->table->qualified);
            st = target_load(s, t, ev, sqlstate, why, why_size);
            if (st != CDC_PG_OK) {
                *status = st == CDC_PG_RETRY ? CDC_SINK_RETRY : CDC_SINK_FATAL;
                r = MAP_ERROR;
            }
        }
    }
    free(added);
    return r;
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

/* Maps and structs, also as the items of arrays (the decoder bounds the
 * depth), have no PostgreSQL array text. */
static bool value_supported(const cdc_value_t *v)
{
    if (v->is_null) return true;
    if (v->type == CDC_TYPE_MAP || v->type == CDC_TYPE_RECORD) return false;
    if (v->type == CDC_TYPE_ARRAY)
        for (size_t i = 0; i < v->u.array.count; i++)
            if (!value_supported(&v->u.array.items[i])) return false;
    return true;
}

static bool row_supported(const cdc_row_schema_t *schema, const cdc_value_t *row)
{
    for (size_t i = 0; i < schema->ncolumns; i++)
        if (!value_supported(&row[i])) return false;
    return true;
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
    bool keys_only = w->action == CDC_ACTION_DELETE || w->action == CDC_ACTION_KEY_DELETE;
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

static plan_result_t plan_target(pg_sink_t *s, const cdc_change_t *c,
                                 pg_work_t *w, cdc_outcome_t *o, cdc_arena_t *arena,
                                 cdc_sink_status_t *status, char *errstr,
                                 size_t errstr_size)
{
    const cdc_event_t *ev = c->event;
    w->target = target_find(s, c->target ? c->target : "");
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
        } else {
            char sqlstate[6], name[24];
            cdc_pg_status_t st = target_load(s, w->target, ev, sqlstate, errstr,
                                             errstr_size);
            if (st == CDC_PG_LIMIT) { /* this schema cannot be a table */
                snprintf(name, sizeof name, "SQLSTATE %s", sqlstate);
                cdc_outcome_reject(o, "schema", cdc_arena_strndup(arena, name, strlen(name)),
                                   errstr, arena);
                return PLAN_DECIDED;
            }
            if (st != CDC_PG_OK) {
                *status = st == CDC_PG_RETRY ? CDC_SINK_RETRY : CDC_SINK_FATAL;
                return PLAN_STOP;
            }
        }
    }
    return PLAN_WORK;
}

/* The table and columns of one planned change. */
static plan_result_t plan_change(pg_sink_t *s, const cdc_change_t *c,
                                 pg_work_t *w, cdc_outcome_t *o,
                                 cdc_arena_t *arena, cdc_sink_status_t *status,
                                 char *errstr, size_t errstr_size)
{
    const cdc_event_t *ev = c->event;
    memset(w, 0, sizeof *w);
    w->event = ev;
    w->action = c->action;
    w->row = c->row;
    w->row_schema = c->row_schema;
    o->kind = CDC_OUTCOME_SKIPPED;
    if (!row_supported(w->row_schema, w->row)) {
        cdc_outcome_reject(o, "data", "cdcsink.UnsupportedType",
                           "a column holds a map or struct (or an array of "
                           "them), which this sink cannot write", arena);
        return PLAN_DECIDED;
    }
    plan_result_t r = plan_target(s, c, w, o, arena, status, errstr, errstr_size);
    if (r != PLAN_WORK) return r;
    const int *map;
    char why[512];
    switch (target_map(s, w->target, ev, w->row_schema, &map, status, why,
                       sizeof why)) {
    case MAP_OK: break;
    case MAP_REJECT:
        cdc_outcome_reject(o, "schema", "cdcsink.SchemaChange", why, arena);
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
        cdc_outcome_reject(o, "data", "cdcsink.MissingKey",
                           "a primary-key column of the target has no value in "
                           "the record (pk.fields beyond the record key need "
                           "REPLICA IDENTITY FULL on the source table for "
                           "deletes)", arena);
        return PLAN_DECIDED;
    }
    o->kind = CDC_OUTCOME_STALE; /* until written */
    return PLAN_WORK;
}

/* Plans every change; the writable ones' indexes go to `writable`. */
cdc_sink_status_t cdc_pg_plan_batch(pg_sink_t *s, const cdc_change_t *changes,
                                    size_t count, pg_work_t *work,
                                    cdc_outcome_t *outcomes, size_t *writable,
                                    size_t *nwritable, cdc_arena_t *arena,
                                    char *errstr, size_t errstr_size)
{
    *nwritable = 0;
    for (size_t k = 0; k < count; k++) {
        cdc_sink_status_t status = CDC_SINK_OK;
        plan_result_t r = plan_change(s, &changes[k], &work[k], &outcomes[k],
                                      arena, &status, errstr, errstr_size);
        if (r == PLAN_STOP) return status;
        if (r == PLAN_WORK) writable[(*nwritable)++] = k;
    }
    return CDC_SINK_OK;
}

/* Tables flagged as changed under us are read again before planning. */
void cdc_pg_plan_forget_stale(pg_sink_t *s)
{
    for (size_t i = 0; i < s->ntargets; i++) {
        pg_target_t *t = s->targets[i];
        if (!t->catalog_stale) continue;
        cdc_pg_table_free(t->table);
        t->table = NULL;
        for (size_t k = 0; k < t->nmaps; k++) free(t->maps[k].target);
        t->nmaps = 0;
        t->catalog_stale = false;
    }
}

