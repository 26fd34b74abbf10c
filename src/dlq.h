/* dlq — the dead-letter queue producer (docs/dlq.md).
 *
 * A record that can never be applied is produced, with its original key and
 * value bytes unchanged, to the pipeline's DLQ topic with Kafka Connect's
 * error headers. The producer is idempotent with acks=all, and the caller
 * stores the source offset only after cdc_dlq_wait() reports the delivery:
 * a DLQ that cannot be written is a transient failure, never a skip. */
#ifndef CDC_DLQ_H
#define CDC_DLQ_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"

typedef struct cdc_dlq cdc_dlq_t;

typedef enum cdc_dlq_state {
    CDC_DLQ_UNSENT = 0,
    CDC_DLQ_PENDING = 1,   /* produced, no delivery report yet */
    CDC_DLQ_DELIVERED = 2,
    CDC_DLQ_FAILED = 3     /* send again */
} cdc_dlq_state_t;

typedef struct cdc_dlq_record {
    /* Where the record came from. */
    const char *topic;
    int32_t partition;
    int64_t offset;
    const void *key;
    size_t key_len;
    const void *value; /* NULL for a tombstone */
    size_t value_len;
    /* Why it is here; none of these may contain secrets. */
    const char *error_class;    /* "data", "schema" */
    const char *exception_name; /* e.g. "cdcsink.DecodeError", "SQLSTATE 23514" */
    const char *message;
    int replay_attempts;        /* 0: header left out */
    /* The snapshot LSN the record was ordered with when it was consumed
     * (cdcsink.snapshot.lsn): a replay orders it as then. */
    bool has_snapshot_lsn;
    int64_t snapshot_lsn;
    /* Set by the delivery report. */
    cdc_dlq_state_t state;
    const char *error; /* librdkafka's static text, NULL until a failure */
} cdc_dlq_record_t;

/* topic: the DLQ topic; pipeline and sink name the headers. */
cdc_dlq_t *cdc_dlq_new(const cdc_config_t *cfg, char *errstr,
                       size_t errstr_size);
void cdc_dlq_destroy(cdc_dlq_t *dlq);

/* Produces asynchronously; record must stay alive until its state leaves
 * PENDING (cdc_dlq_wait() or cdc_dlq_destroy()).
 * -1 with record->error when the local queue refuses it. */
int cdc_dlq_send(cdc_dlq_t *dlq, cdc_dlq_record_t *record);

/* Waits for every outstanding delivery report. 0 when all were delivered
 * within timeout_ms; look at each record's state otherwise. */
int cdc_dlq_wait(cdc_dlq_t *dlq, int timeout_ms);

const char *cdc_dlq_topic(const cdc_dlq_t *dlq);

#endif
