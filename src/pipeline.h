/* pipeline — poll → decode → sink → DLQ → store offsets → commit.
 *
 * One pipeline per process (docs/architecture.md). A batch is finished as a whole
 * before the next one is polled: every record in it is applied, found
 * stale, or delivered to the DLQ, and only then are its offsets stored. A
 * transient failure (sink, registry, DLQ) retries the same batch with
 * capped exponential backoff while the partitions are paused and the
 * consumer keeps polling, so the group membership stays alive. */
#ifndef CDC_PIPELINE_H
#define CDC_PIPELINE_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"

typedef struct cdc_pipeline cdc_pipeline_t;

typedef struct cdc_pipeline_stats {
    uint64_t consumed;
    uint64_t applied;
    uint64_t stale;
    uint64_t skipped;
    uint64_t dlq;
    uint64_t retries;
    uint64_t batches;
    uint64_t commit_failures; /* partition commits that failed */
    /* Time from the Kafka record's timestamp to the end of its batch (sink
     * committed, offsets stored), over every record so far; -1 before the
     * first. */
    int64_t latency_p50_ms;
    int64_t latency_p99_ms;
    int64_t latency_p999_ms;
    /* The same from the change's commit at the source (source.ts_ms):
     * what a reader of the sink waits for, Debezium's part included. */
    int64_t source_latency_p50_ms;
    int64_t source_latency_p99_ms;
    int64_t source_latency_p999_ms;
} cdc_pipeline_stats_t;

typedef enum cdc_pipeline_exit {
    CDC_PIPELINE_STOPPED = 0, /* asked to stop, committed, left the group */
    CDC_PIPELINE_FATAL = 1    /* errstr says why; nothing committed past it */
} cdc_pipeline_exit_t;

/* Opens the sink (its FATAL errors surface here), the registry client, the
 * DLQ producer and the consumer. NULL with errstr on failure. */
cdc_pipeline_t *cdc_pipeline_new(const cdc_config_t *cfg, char *errstr,
                                 size_t errstr_size);

/* Runs until *stop becomes non-zero or a fatal error. */
cdc_pipeline_exit_t cdc_pipeline_run(cdc_pipeline_t *pipeline,
                                     volatile sig_atomic_t *stop,
                                     char *errstr, size_t errstr_size);

/* Counters so far, with the latency percentiles computed now. */
const cdc_pipeline_stats_t *cdc_pipeline_stats(cdc_pipeline_t *pipeline);

/* Commits what is stored, leaves the group, closes the sink. */
void cdc_pipeline_destroy(cdc_pipeline_t *pipeline);

#endif
