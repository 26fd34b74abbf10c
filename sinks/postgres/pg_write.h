/* pg_write — planned work into PostgreSQL, guarded, in parallel.
 *
 * The winners of a batch are split by key over the session pool; each part
 * is one transaction on its own thread, one statement per (table, action,
 * column set) group (pg_sql.h). A part that hits a data error (SQLSTATE
 * class 22/23) is replayed row by row in savepoints so that only the
 * refused records are rejected. */
#ifndef CDC_PG_WRITE_H
#define CDC_PG_WRITE_H

#include "arena.h"
#include "pg_sink.h"
#include "sink.h"

/* Writes work[winners[0..n)]; applied[i] tells which changed a row,
 * outcomes[i] is set REJECTED for refused ones. RETRY/FATAL: errstr. */
cdc_sink_status_t cdc_pg_write_batch(const pg_sink_t *s, pg_work_t *work,
                                     const size_t *winners, size_t n,
                                     bool *applied, cdc_outcome_t *outcomes,
                                     cdc_arena_t *arena, char *errstr,
                                     size_t errstr_size);

#endif
