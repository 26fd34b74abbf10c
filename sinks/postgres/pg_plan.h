/* pg_plan — where each planned change goes in the PostgreSQL target.
 *
 * The core has decided the action, the row and the table name of every
 * change, one per key (src/plan.h). This finds the table (reading the
 * catalog once, creating it with auto.create, adding columns with
 * auto.evolve) and the columns each change writes. */
#ifndef CDC_PG_PLAN_H
#define CDC_PG_PLAN_H

#include "arena.h"
#include "pg_sink.h"
#include "sink.h"

/* Gives each planned change its table (reading the catalog once,
 * auto.create, auto.evolve) and the columns it writes; the indexes of the
 * changes to write go to `writable`, and their outcomes are STALE until
 * written. The others' outcomes are set (skipped, rejected). A status
 * other than OK stops the batch (errstr says why). */
cdc_sink_status_t cdc_pg_plan_batch(pg_sink_t *s, const cdc_change_t *changes,
                                    size_t count, pg_work_t *work,
                                    cdc_outcome_t *outcomes, size_t *writable,
                                    size_t *nwritable, cdc_arena_t *arena,
                                    char *errstr, size_t errstr_size);

/* Tables flagged as changed under us are read again before planning. */
void cdc_pg_plan_forget_stale(pg_sink_t *s);

#endif
