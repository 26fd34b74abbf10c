/* pg_repair — `cdcsink verify --repair` for the PostgreSQL sink.
 *
 * Writes the source's current row for a divergent key (its columns as
 * text, cast to the replica's types) with the sink's own guarded
 * statements (pg_sql.h), at a position just above what the replica holds
 * for the key (row or tombstone): the guard accepts it, and any real
 * change still to come has a higher source.lsn and takes over. A row the
 * source lacks is deleted the way delete.mode says (hard: with its
 * tombstone; soft: flagged; none: kept). Internal to sinks/postgres/. */
#ifndef CDC_PG_REPAIR_H
#define CDC_PG_REPAIR_H

#include <libpq-fe.h>
#include <stddef.h>

#include "pg_pair.h"

/* 1 when it wrote, 0 when the replica held something newer (or keeps the
 * row by delete.mode=none), -1 with errstr. */
int cdc_pg_repair_key(const pg_verifier_t *v, PGconn *source, const pg_pair_t *p,
                      const cdc_verify_key_t *key, char *errstr, size_t errstr_size);

#endif
