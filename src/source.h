/* source — a read-only session on the source database (PostgreSQL, the
 * one Debezium reads), for `cdcsink verify`.
 *
 * `source.connection.url` is a libpq URI or key=value string; give it a
 * role that may only read (docs/operations.md). The session is made
 * read-only anyway, and uses the conventions the PostgreSQL sink writes
 * in (UTC, ISO dates, postgres intervals, extra_float_digits 3), so that
 * values render the same text on both sides. Error messages never hold
 * the URL's password. */
#ifndef CDC_SOURCE_H
#define CDC_SOURCE_H

#include <libpq-fe.h>
#include <stddef.h>

#include "config.h"

/* The session (connect_timeout 10 s); NULL with errstr. */
PGconn *cdc_source_connect(const cdc_config_t *cfg, char *errstr,
                           size_t errstr_size);

/* The server's error of a failed result, as one line: "what: SQLSTATE
 * XXXXX: message". Returns -1, for `return cdc_source_error(...)`. */
int cdc_source_error(char *errstr, size_t errstr_size, const char *what,
                     PGconn *conn, const PGresult *res);

/* Logical replication slots of the source database (only `slot` when it
 * is not NULL or "": source.slot.name) that no client reads now (Debezium
 * stopped): a NULL-terminated list of their names, or NULL for none (and
 * on error). Changes behind such a slot are not in Kafka yet, so verify
 * cannot tell them from divergence; it warns. Free with
 * cdc_config_free_list. */
char **cdc_source_idle_slots(PGconn *source, const char *slot);

/* The source's current WAL position (pg_current_wal_lsn) as a number, the
 * unit of source.lsn. 0, or -1 with errstr. */
int cdc_source_wal_position(PGconn *source, int64_t *lsn, char *errstr,
                            size_t errstr_size);

/* How far Debezium has received the WAL: over this database's logical
 * slots (only `slot` when set), the least of what an active slot's
 * walsender has sent (0 when this role cannot see it: grant
 * pg_read_all_stats) and an idle slot's confirmed position; -1 when there
 * is no such slot. */
int64_t cdc_source_sent_position(PGconn *source, const char *slot);

#endif
