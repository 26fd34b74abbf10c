/* plan — what a batch of decoded events asks of a sink (docs/semantics.md).
 *
 * Every sink shares the same semantics, so they are decided here, once,
 * before sink.apply():
 *
 *   action    from the op, delete.mode and delete.on.tombstone: upsert,
 *             delete, soft delete, delete by key (tombstone), or nothing
 *   guard     a change without a position cannot be applied guarded:
 *             rejected (DLQ, class data)
 *   key       the record key identifies the row; a record without one is
 *             identified by pk.fields from its row, or rejected (DLQ,
 *             class schema) when pk.fields is not set
 *   row       the values the sink writes: `after` for upserts, the key
 *             (else `before`) for deletes, `before` for soft deletes
 *   route     the target's name from the sink's template (table, index,
 *             key prefix)
 *   collapse  one change per (target, key): the highest position wins;
 *             the others are settled STALE. The winner's unchanged TOASTed
 *             columns are filled from the superseded upserts that had them;
 *             a soft delete keeps the values of the upsert it superseded.
 *
 * A sink that keeps a log rather than a state (jsonl) asks for CDC_PLAN_LOG:
 * every event becomes a change, in order, and nothing is decided for it. */
#ifndef CDC_PLAN_H
#define CDC_PLAN_H

#include <stdbool.h>
#include <stddef.h>

#include "arena.h"
#include "config.h"
#include "event.h"

typedef enum cdc_action {
    CDC_ACTION_UPSERT = 0,      /* insert or update if newer */
    CDC_ACTION_DELETE = 1,      /* delete if older; remember the delete */
    CDC_ACTION_SOFT_DELETE = 2, /* keep the row, flag it deleted */
    CDC_ACTION_KEY_DELETE = 3   /* a Kafka tombstone: delete by key, unguarded */
} cdc_action_t;

typedef enum cdc_plan_mode {
    CDC_PLAN_LATEST = 0, /* the sink keeps each key's latest state */
    CDC_PLAN_LOG = 1     /* the sink keeps every change (jsonl) */
} cdc_plan_mode_t;

/* One change for the sink to write. */
typedef struct cdc_change {
    const cdc_event_t *event;
    cdc_action_t action;
    /* The route: the sink's template filled from the event (in the batch
     * arena); NULL when the sink has no template. */
    const char *target;
    /* The values to write, parallel to row_schema: see the top of this
     * file. Unchanged TOASTed columns are marked `unavailable`. */
    const cdc_row_schema_t *row_schema;
    const cdc_value_t *row;
    /* The row's identity, what ${key} renders (a document _id): the
     * record key, or for a keyless record its pk.fields values taken from
     * the row; NULL when there is neither (a tombstone of a keyless
     * record). */
    const cdc_row_schema_t *key_schema;
    const cdc_value_t *key;
} cdc_change_t;

typedef enum cdc_outcome_kind {
    CDC_OUTCOME_APPLIED = 0,
    CDC_OUTCOME_STALE = 1,    /* position not newer than the stored one */
    CDC_OUTCOME_SKIPPED = 2,  /* nothing to do (tombstone no-op, delete.mode=none) */
    CDC_OUTCOME_REJECTED = 3  /* cannot ever be applied: DLQ */
} cdc_outcome_kind_t;

typedef struct cdc_outcome {
    cdc_outcome_kind_t kind;
    /* For REJECTED: error class for the DLQ headers ("data" or "schema"),
     * the error's name (e.g. "SQLSTATE 23514") and its message. Allocated
     * in the batch arena; never contain secrets. */
    const char *error_class;
    const char *exception_name;
    const char *message;
} cdc_outcome_t;

typedef struct cdc_planner cdc_planner_t;

/* The planner for a pipeline: delete.mode, delete.on.tombstone and
 * pk.fields from cfg; the sink's mode and its route template (NULL for
 * none; checked here, ${key} allowed when route_allows_key). NULL with
 * errstr on failure. */
cdc_planner_t *cdc_planner_new(const cdc_config_t *cfg, cdc_plan_mode_t mode,
                               const char *route_template, bool route_allows_key,
                               char *errstr, size_t errstr_size);

void cdc_planner_destroy(cdc_planner_t *planner);

/* Plans events[0..count): outcomes[i] is set for every event decided here
 * (skipped, rejected, or STALE for a superseded change, and STALE for the
 * winners until the sink says otherwise); the changes to write go to
 * *changes, with (*event_index)[k] the index of changes[k]'s event. All in
 * the arena. -1 when out of memory. */
int cdc_plan_batch(cdc_planner_t *planner, const cdc_event_t *const *events,
                   size_t count, cdc_outcome_t *outcomes,
                   cdc_change_t **changes, size_t **event_index,
                   size_t *nchanges, cdc_arena_t *arena);

/* Sets *o to REJECTED with the message copied into the arena. */
void cdc_outcome_reject(cdc_outcome_t *o, const char *error_class,
                        const char *exception_name, const char *message,
                        cdc_arena_t *arena);

const char *cdc_action_name(cdc_action_t action);

#endif
