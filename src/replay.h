/* replay — `cdcsink dlq replay`: dead-lettered records back through the
 * pipeline's own decode → sink path.
 *
 * The DLQ topic is read by its own consumer group, `<group.id>.dlq-replay`,
 * up to the end each partition had when the replay started; offsets are
 * stored once a record's outcome is final and committed after every batch,
 * so an interrupted replay resumes where it stopped and a finished one is
 * not repeated by the next. Each selected record is decoded again from its
 * original bytes, with the ORIGINAL topic/partition/offset from its
 * headers (routing such as ${topic} sees what the pipeline saw), and
 * applied in batches through the configured sink:
 *
 *   applied / stale  — done; the position guard makes an old change a
 *                      harmless no-op (stale), so replaying is always safe
 *   failed again     — a decode data error or a sink rejection: produced
 *                      back to the DLQ with the original bytes, refreshed
 *                      headers and cdcsink.replay.attempts + 1, and only
 *                      then is its offset stored
 *   not selected     — skipped, and committed past (counted)
 *
 * Transient errors (sink, registry, DLQ unreachable) retry the batch with
 * the pipeline's backoff keys, never skip and never dead-letter; fatal ones
 * stop the replay. A dry run decodes and reports, writes nothing, produces
 * nothing and commits nothing. */
#ifndef CDC_REPLAY_H
#define CDC_REPLAY_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "config.h"
#include "dlqread.h"

typedef struct cdc_replay_options {
    cdc_dlqread_filter_t filter;
    bool dry_run;
    size_t batch_size; /* records per sink apply; 0: 500 */
} cdc_replay_options_t;

typedef struct cdc_replay_stats {
    uint64_t applied;           /* written by the sink */
    uint64_t stale;             /* the sink had this change or a newer one
                                 * (or had nothing to do, e.g. a tombstone) */
    uint64_t failed_again;      /* back in the DLQ (dry run: would be) */
    uint64_t skipped_by_filter; /* not selected */
    uint64_t would_apply;       /* dry run: decoded, would go to the sink */
} cdc_replay_stats_t;

typedef enum cdc_replay_result {
    CDC_REPLAY_DONE = 0,    /* every partition read to its end as of start */
    CDC_REPLAY_STOPPED = 1, /* stop requested: what finished is committed */
    CDC_REPLAY_FAILED = 2   /* broker unreachable or a fatal error: errstr */
} cdc_replay_result_t;

/* Runs a replay; out gets the dry run's line per record. *stats counts
 * what finished, whatever the result. */
cdc_replay_result_t cdc_replay_run(const cdc_config_t *cfg,
                                   const cdc_replay_options_t *opts,
                                   FILE *out, volatile sig_atomic_t *stop,
                                   cdc_replay_stats_t *stats, char *errstr,
                                   size_t errstr_size);

/* "replay: applied=N stale=N failed_again=N skipped_by_filter=N", or for a
 * dry run "replay --dry-run: would_apply=N failed_again=N
 * skipped_by_filter=N". */
void cdc_replay_print_summary(const cdc_replay_stats_t *stats, bool dry_run,
                              FILE *out);

#endif
