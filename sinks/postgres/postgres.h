/* postgres — the PostgreSQL sink: an analytics replica kept in step.
 *
 * Each batch is one transaction. Changes collapse to one per key (the
 * highest position), are grouped by table, action and column set, and each
 * group is one guarded statement (sinks/postgres/pg_sql.h): an upsert only
 * overwrites a row whose stored position is older, a hard delete leaves a
 * tombstone in cdcsink.tombstones so an older insert cannot resurrect it.
 * A value the database rejects (SQLSTATE class 22/23) is isolated by
 * replaying the batch row by row in savepoints; only that record is
 * rejected. sinks/postgres/README.md documents keys, type mapping and the
 * guard; the ops carry the key table of pg_keys.h. */
#ifndef CDC_POSTGRES_H
#define CDC_POSTGRES_H

#include "pg_keys.h"
#include "sink.h"

extern const cdc_sink_ops_t cdc_postgres_sink;

#endif
