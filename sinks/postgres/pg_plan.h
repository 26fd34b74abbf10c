/* pg_plan — what each change asks of the PostgreSQL target.
 *
 * Routes every event to its table (reading the catalog once, creating the
 * table with auto.create, adding columns with auto.evolve), decides the
 * action (upsert, soft or hard delete, tombstone delete, or nothing) and
 * the columns it writes, then collapses the batch to one change per key. */
#ifndef CDC_PG_PLAN_H
#define CDC_PG_PLAN_H

#include "arena.h"
#include "pg_sink.h"
#include "sink.h"

/* Plans every event; the indexes of those with work go to `actionable`.
 * Outcomes of the others (skipped, rejected) are set. A status other than
 * OK stops the batch (errstr says why). */
cdc_sink_status_t cdc_pg_plan_batch(pg_sink_t *s, const cdc_event_t *const *events,
                                    size_t count, pg_work_t *work,
                                    cdc_outcome_t *outcomes, size_t *actionable,
                                    size_t *nactionable, cdc_arena_t *arena,
                                    char *errstr, size_t errstr_size);

/* One change per key: winners' indexes go to `winners`, the others are
 * marked stale. Returns the number of winners, SIZE_MAX when out of memory. */
size_t cdc_pg_plan_collapse(pg_work_t *work, const size_t *actionable, size_t n,
                            size_t *winners, cdc_outcome_t *outcomes,
                            cdc_arena_t *arena);

/* Tables flagged as changed under us are read again before planning. */
void cdc_pg_plan_forget_stale(pg_sink_t *s);

#endif
