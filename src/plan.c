#include "plan.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "collapse.h"
#include "errstr.h"
#include "log.h"
#include "render.h"
#include "route.h"

typedef enum plan_delete_mode {
    DELETE_HARD,
    DELETE_SOFT,
    DELETE_NONE
} plan_delete_mode_t;

struct cdc_planner {
    cdc_plan_mode_t mode;
    plan_delete_mode_t delete_mode;
    bool delete_on_tombstone;
    char *route_template;   /* NULL: no route */
    char **pk_fields;       /* NULL-terminated, or NULL */
    cdc_buf_t route;        /* scratch for one rendered route */
    /* Tables whose TRUNCATE was skipped and said so (once each). */
    char **truncated;
    size_t ntruncated;
};

cdc_planner_t *cdc_planner_new(const cdc_config_t *cfg, cdc_plan_mode_t mode,
                               const char *route_template, bool route_allows_key,
                               char *errstr, size_t errstr_size)
{
    if (route_template && cdc_route_check(route_template, route_allows_key, errstr, errstr_size) != 0)
        return NULL;
    cdc_planner_t *p = calloc(1, sizeof *p);
    if (!p) goto oom;
    p->mode = mode;
    cdc_buf_init(&p->route);
    const cdc_settings_t *set = cdc_config_settings(cfg);
    const char *delete_mode = set->delete_mode;
    p->delete_mode = strcmp(delete_mode, "soft") == 0   ? DELETE_SOFT
                     : strcmp(delete_mode, "none") == 0 ? DELETE_NONE
                                                        : DELETE_HARD;
    p->delete_on_tombstone = set->delete_on_tombstone;
    int oom;
    p->pk_fields = cdc_config_split_list(set->pk_fields, &oom);
    if (oom) goto oom;
    if (route_template && !(p->route_template = strdup(route_template))) goto oom;
    return p;
oom:
    cdc_planner_destroy(p);
    cdc_errstr_set(errstr, errstr_size, "out of memory");
    return NULL;
}

void cdc_planner_destroy(cdc_planner_t *p)
{
    if (!p) return;
    cdc_config_free_list(p->pk_fields);
    for (size_t i = 0; i < p->ntruncated; i++) free(p->truncated[i]);
    free(p->truncated);
    free(p->route_template);
    cdc_buf_free(&p->route);
    free(p);
}

const char *cdc_action_name(cdc_action_t action)
{
    switch (action) {
    case CDC_ACTION_UPSERT: return "upsert";
    case CDC_ACTION_DELETE: return "delete";
    case CDC_ACTION_SOFT_DELETE: return "soft_delete";
    case CDC_ACTION_KEY_DELETE: return "key_delete";
    }
    return "?";
}

void cdc_outcome_reject(cdc_outcome_t *o, const char *error_class,
                        const char *exception_name, const char *message,
                        cdc_arena_t *arena)
{
    o->kind = CDC_OUTCOME_REJECTED;
    o->error_class = error_class;
    o->exception_name = exception_name;
    o->message = cdc_arena_strndup(arena, message, strlen(message));
}

/* ---------------------------------------------------------------------
 * One event: action, guard, key, row
 * ------------------------------------------------------------------- */

/* A TRUNCATE is not applied: the sink keeps the rows the source removed.
 * Said once per table, so that an operator knows why they are there. */
static void truncate_skipped(cdc_planner_t *p, const cdc_event_t *ev)
{
    char table[512];
    snprintf(table, sizeof table, "%s.%s", ev->source_schema, ev->source_table);
    for (size_t i = 0; i < p->ntruncated; i++)
        if (strcmp(p->truncated[i], table) == 0) return;
    char **grown = realloc(p->truncated, (p->ntruncated + 1) * sizeof *grown);
    if (grown) {
        p->truncated = grown;
        if ((grown[p->ntruncated] = strdup(table))) p->ntruncated++;
    }
    cdc_log_warn("TRUNCATE of %s (%s [%d] @%lld) skipped: the sink keeps the rows the "
                 "source removed; later ones of this table are counted as skipped "
                 "without a line (docs/semantics.md)",
                 table, ev->topic ? ev->topic : "?", ev->partition, (long long)ev->offset);
}

/* The action an event asks for; false when it asks for nothing. */
static bool action_for(cdc_planner_t *p, const cdc_event_t *ev,
                       cdc_action_t *action)
{
    switch (ev->op) {
    case CDC_OP_TRUNCATE:
        truncate_skipped(p, ev);
        return false;
    case CDC_OP_CONTROL: return false;
    case CDC_OP_TOMBSTONE:
        *action = CDC_ACTION_KEY_DELETE;
        return p->delete_on_tombstone;
    case CDC_OP_DELETE:
        *action = p->delete_mode == DELETE_SOFT ? CDC_ACTION_SOFT_DELETE
                                                : CDC_ACTION_DELETE;
        return p->delete_mode != DELETE_NONE;
    default:
        *action = CDC_ACTION_UPSERT;
        return true;
    }
}

/* A log sink writes every event as it came. */
static cdc_action_t log_action(const cdc_event_t *ev)
{
    switch (ev->op) {
    case CDC_OP_TOMBSTONE: return CDC_ACTION_KEY_DELETE;
    case CDC_OP_DELETE: return CDC_ACTION_DELETE;
    default: return CDC_ACTION_UPSERT;
    }
}

/* Which row provides the values. Deletes take the key (always complete),
 * falling back to the before image; soft deletes the before image. */
static void choose_row(const cdc_event_t *ev, cdc_change_t *c)
{
    bool by_key = c->action == CDC_ACTION_DELETE || c->action == CDC_ACTION_KEY_DELETE;
    if (by_key && ev->key) {
        c->row = ev->key;
        c->row_schema = ev->key_schema;
    } else if (c->action == CDC_ACTION_UPSERT) {
        c->row = ev->after;
        c->row_schema = ev->row_schema;
    } else if (ev->before) {
        c->row = ev->before;
        c->row_schema = ev->row_schema;
    } else {
        c->row = ev->key;
        c->row_schema = ev->key_schema;
    }
}

/* A table without a primary key gives Debezium nothing to key its records
 * by; without pk.fields there is nothing to write them by. */
static void reject_keyless(const cdc_event_t *ev, cdc_outcome_t *o,
                           cdc_arena_t *arena)
{
    char why[512];
    cdc_errstr_set(why, sizeof why,
                   "the record from %s has no key: source table %s.%s has no "
                   "primary key. Give it one, set Debezium's "
                   "message.key.columns for it, or set pk.fields; then run "
                   "cdcsink dlq replay", ev->topic ? ev->topic : "?",
                   ev->source_schema ? ev->source_schema : "?",
                   ev->source_table ? ev->source_table : "?");
    cdc_outcome_reject(o, "schema", "cdcsink.NoKey", why, arena);
}

/* A keyless change's identity: its pk.fields columns and values from the
 * row, in pk.fields order. Left NULL when a field is missing or is an
 * unchanged TOASTed value (the sink then has no key to write under). -1
 * when out of memory. */
static int key_from_pk_fields(const cdc_planner_t *p, cdc_change_t *c, cdc_arena_t *arena)
{
    size_t n = 0;
    while (p->pk_fields[n]) n++;
    cdc_row_schema_t *schema = cdc_arena_alloc(arena, sizeof *schema);
    cdc_column_t *cols = cdc_arena_alloc(arena, (n + 1) * sizeof *cols);
    cdc_value_t *values = cdc_arena_alloc(arena, (n + 1) * sizeof *values);
    if (!schema || !cols || !values) return -1;
    for (size_t k = 0; k < n; k++) {
        int i = cdc_row_schema_find(c->row_schema, p->pk_fields[k]);
        if (i < 0 || c->row[i].unavailable) return 0; /* no value to key by */
        cols[k] = c->row_schema->columns[i];
        values[k] = c->row[i];
    }
    *schema = (cdc_row_schema_t){.name = "pk.fields", .ncolumns = n, .columns = cols};
    c->key_schema = schema;
    c->key = values;
    return 0;
}

/* The route of a change, in the arena; the previous one when equal (a
 * batch mostly holds few targets). NULL when out of memory. */
static const char *route_of(cdc_planner_t *p, const cdc_change_t *c,
                            const char *previous, cdc_arena_t *arena)
{
    cdc_buf_reset(&p->route);
    cdc_route_format_keyed(p->route_template, c->event, c->key_schema, c->key, &p->route);
    if (p->route.failed) return NULL;
    const char *text = p->route.data ? p->route.data : "";
    if (previous && strcmp(previous, text) == 0) return previous;
    return cdc_arena_strndup(arena, text, strlen(text));
}

/* Decides one event; true when it is a change to write (c is filled). */
static bool plan_event(cdc_planner_t *p, const cdc_event_t *ev,
                       cdc_change_t *c, cdc_outcome_t *o, cdc_arena_t *arena)
{
    memset(c, 0, sizeof *c);
    c->event = ev;
    o->kind = CDC_OUTCOME_SKIPPED;
    if (!action_for(p, ev, &c->action)) return false;
    if (c->action != CDC_ACTION_KEY_DELETE && !ev->has_position) {
        cdc_outcome_reject(o, "data", "cdcsink.NoPosition",
                           "the record has no position (position.field): it "
                           "cannot be applied guarded", arena);
        return false;
    }
    if (!ev->key && c->action != CDC_ACTION_KEY_DELETE && !p->pk_fields) {
        reject_keyless(ev, o, arena);
        return false;
    }
    choose_row(ev, c);
    if (!c->row || !c->row_schema) {
        cdc_outcome_reject(o, "data", "cdcsink.NoRow",
                           "the record has neither a row nor a key", arena);
        return false;
    }
    c->key_schema = ev->key_schema;
    c->key = ev->key;
    return true;
}

/* ---------------------------------------------------------------------
 * Collapse
 * ------------------------------------------------------------------- */

/* A keyless change is identified by its pk.fields values: each column's
 * type, null flag and value bytes. ptr NULL when a field is missing (the
 * change then collapses with nothing and the sink says what is wrong);
 * -1 when out of memory. */
static int key_of_values(const cdc_planner_t *p, const cdc_change_t *c,
                         cdc_key_id_t *id, cdc_arena_t *arena)
{
    cdc_buf_t bytes;
    cdc_buf_init(&bytes);
    id->ptr = NULL;
    id->len = 0;
    for (char **f = p->pk_fields; *f; f++) {
        int i = cdc_row_schema_find(c->row_schema, *f);
        if (i < 0) {
            cdc_buf_free(&bytes);
            return 0;
        }
        const cdc_value_t *v = &c->row[i];
        unsigned char head[2] = {(unsigned char)v->type, v->is_null};
        cdc_buf_append(&bytes, head, sizeof head);
        if (v->is_null) continue;
        size_t at = bytes.len, len = 0;
        cdc_buf_append(&bytes, &len, sizeof len); /* filled in below */
        cdc_render_value(v, &c->row_schema->columns[i], &bytes);
        if (bytes.failed) break;
        len = bytes.len - at - sizeof len;
        memcpy(bytes.data + at, &len, sizeof len);
    }
    char *copy = bytes.failed ? NULL : cdc_arena_alloc(arena, bytes.len + 1);
    if (copy) memcpy(copy, bytes.data, bytes.len);
    id->ptr = copy;
    id->len = bytes.len;
    cdc_buf_free(&bytes);
    return copy ? 0 : -1;
}

/* The winners' rows get what the changes they superseded knew. */
static int fill_winner(cdc_change_t *c, const cdc_event_t *const *events,
                       size_t n, const size_t *winner_of, size_t k,
                       const cdc_change_t *candidates, cdc_arena_t *arena)
{
    if (c->action == CDC_ACTION_SOFT_DELETE) {
        size_t last = cdc_collapse_last_upsert(events, n, winner_of, k);
        if (last != SIZE_MAX) {
            c->row = candidates[last].row;
            c->row_schema = candidates[last].row_schema;
        }
    } else if (c->action == CDC_ACTION_UPSERT) {
        const cdc_value_t *row =
            cdc_collapse_fill_unavailable(events, n, winner_of, k, arena);
        if (!row) return -1;
        c->row = row;
    }
    return 0;
}

/* Collapses the candidates to one change per (target, key) into out. */
static int plan_collapse(const cdc_planner_t *p, cdc_change_t *candidates,
                         const size_t *candidate_event, size_t n,
                         cdc_outcome_t *outcomes, cdc_change_t *out,
                         size_t *out_event, size_t *nout, cdc_arena_t *arena)
{
    const cdc_event_t **events = cdc_arena_alloc(arena, (n + 1) * sizeof *events);
    const char **groups = cdc_arena_alloc(arena, (n + 1) * sizeof *groups);
    cdc_key_id_t *keys = cdc_arena_alloc(arena, (n + 1) * sizeof *keys);
    size_t *winner_of = cdc_arena_alloc(arena, (n + 1) * sizeof *winner_of);
    if (!events || !groups || !keys || !winner_of) return -1;
    for (size_t k = 0; k < n; k++) {
        const cdc_change_t *c = &candidates[k];
        events[k] = c->event;
        groups[k] = c->target ? c->target : "";
        keys[k] = cdc_collapse_record_key(c->event);
        if (!keys[k].ptr && p->pk_fields && key_of_values(p, c, &keys[k], arena) < 0)
            return -1;
    }
    if (cdc_collapse(events, groups, keys, n, winner_of, arena) < 0) return -1;
    *nout = 0;
    for (size_t k = 0; k < n; k++) {
        /* Superseded in the batch: stale. Winners too, until the sink
         * reports them applied. */
        outcomes[candidate_event[k]].kind = CDC_OUTCOME_STALE;
        if (winner_of[k] != k) continue;
        cdc_change_t *c = &out[*nout];
        *c = candidates[k];
        if (fill_winner(c, events, n, winner_of, k, candidates, arena) < 0) return -1;
        out_event[(*nout)++] = candidate_event[k];
    }
    return 0;
}

/* ---------------------------------------------------------------------
 * The batch
 * ------------------------------------------------------------------- */

static int plan_log(const cdc_event_t *const *events, size_t count,
                    cdc_outcome_t *outcomes, cdc_change_t *changes,
                    size_t *event_index, size_t *nchanges)
{
    size_t n = 0;
    for (size_t i = 0; i < count; i++) {
        const cdc_event_t *ev = events[i];
        /* Heartbeats and transaction boundaries are no rows. */
        if (ev->op == CDC_OP_CONTROL) {
            outcomes[i].kind = CDC_OUTCOME_SKIPPED;
            continue;
        }
        changes[n] = (cdc_change_t){
            .event = ev,
            .action = log_action(ev),
            .row_schema = ev->row_schema,
            .row = cdc_event_row(ev),
        };
        event_index[n++] = i;
        outcomes[i].kind = CDC_OUTCOME_STALE; /* until the sink says */
    }
    *nchanges = n;
    return 0;
}

int cdc_plan_batch(cdc_planner_t *p, const cdc_event_t *const *events,
                   size_t count, cdc_outcome_t *outcomes,
                   cdc_change_t **changes, size_t **event_index,
                   size_t *nchanges, cdc_arena_t *arena)
{
    *nchanges = 0;
    *changes = cdc_arena_alloc(arena, (count + 1) * sizeof **changes);
    *event_index = cdc_arena_alloc(arena, (count + 1) * sizeof **event_index);
    if (!*changes || !*event_index) return -1;
    memset(outcomes, 0, count * sizeof *outcomes);
    if (p->mode == CDC_PLAN_LOG)
        return plan_log(events, count, outcomes, *changes, *event_index, nchanges);

    cdc_change_t *candidates = cdc_arena_alloc(arena, (count + 1) * sizeof *candidates);
    size_t *candidate_event = cdc_arena_alloc(arena, (count + 1) * sizeof *candidate_event);
    if (!candidates || !candidate_event) return -1;
    size_t n = 0;
    const char *previous = NULL;
    for (size_t i = 0; i < count; i++) {
        cdc_change_t *c = &candidates[n];
        if (!plan_event(p, events[i], c, &outcomes[i], arena)) continue;
        if (!c->key && p->pk_fields && key_from_pk_fields(p, c, arena) != 0) return -1;
        if (p->route_template) {
            if (!(c->target = route_of(p, c, previous, arena))) return -1;
            previous = c->target;
        }
        candidate_event[n++] = i;
    }
    return plan_collapse(p, candidates, candidate_event, n, outcomes, *changes,
                         *event_index, nchanges, arena);
}
