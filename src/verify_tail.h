/* verify_tail — how far Debezium has published, seen from Kafka.
 *
 * `cdcsink verify` must not call a row divergent while the change that
 * explains it is still in Debezium (committed at the source, not yet in
 * Kafka). Debezium streams transactions in commit order, so once any
 * record of the pipeline's topics carries a position (source.lsn) at or
 * past the source's WAL position L, every transaction committed before L
 * has been published. The tail follows the end of every partition from
 * its last record on and keeps the highest position seen, and when the
 * last new record arrived (quiet topics: see src/verify.c). */
#ifndef CDC_VERIFY_TAIL_H
#define CDC_VERIFY_TAIL_H

#include <stdint.h>

#include "config.h"
#include "lag.h"

typedef struct cdc_tail cdc_tail_t;

/* Assigned at the last record of each of lag's partitions. NULL with
 * errstr. */
cdc_tail_t *cdc_tail_open(const cdc_config_t *cfg, const cdc_lag_report_t *lag,
                          char *errstr, size_t errstr_size);
/* Takes what arrived, waiting up to timeout_ms for the first record. */
void cdc_tail_poll(cdc_tail_t *tail, int timeout_ms);
/* The highest position seen (-1: none). */
int64_t cdc_tail_position(const cdc_tail_t *tail);
/* cdc_clock_mono_ms() of the last record read after the first poll
 * (0: none yet). */
int64_t cdc_tail_last_record_ms(const cdc_tail_t *tail);
void cdc_tail_close(cdc_tail_t *tail);

#endif
