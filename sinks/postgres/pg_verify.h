/* pg_verify — the PostgreSQL sink's half of `cdcsink verify`
 * (src/verify.h): a source table against its replica, both PostgreSQL.
 *
 * Rows are compared on the columns both tables have (the position and
 * deleted columns aside), each cast to the source's type (json as jsonb,
 * numeric without its trailing zeros) and rendered by the server:
 * md5(ROW(c1::t1, ...)::text), in sessions that render values alike (UTC,
 * ISO dates, extra_float_digits 3). The source is walked in key
 * order in ranges of PG_VERIFY_RANGE_ROWS rows; for each range both sides
 * compute, in SQL, the count and the sum of the rows' 64-bit digests, so
 * only two numbers cross the wire. A range whose numbers differ is read
 * row by row on both sides (key and digest) to name the keys. Rows the
 * sink soft-deleted count as absent; with delete.mode=none, rows the
 * source deleted are kept on purpose and are not reported as extra.
 *
 * --repair is pg_repair.c; the pair of tables and its SQL, pg_pair.c. */
#ifndef CDC_PG_VERIFY_H
#define CDC_PG_VERIFY_H

#include "verify.h"

#define PG_VERIFY_RANGE_ROWS 10000

extern const cdc_verify_ops_t cdc_pg_verify_ops;

#endif
