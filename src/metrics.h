/* metrics — the pipeline's Prometheus metrics (monitoring/README.md).
 *
 * One registry per pipeline. Every sample carries the constant labels
 * `pipeline` and `sink`; per-partition families add `topic` and
 * `partition`. The pipeline thread updates it (once per batch, not per
 * record), the HTTP thread renders it; one mutex guards everything.
 *
 * Per-partition counters are created on the first call that names the
 * partition, with every op/class value at 0, so `increase()` in an alert
 * sees the first DLQ record instead of a series appearing out of nowhere.
 * Counters are never removed (a counter that disappears and comes back
 * looks like a reset); the gauges of a revoked partition are, see
 * cdc_metrics_forget_partition(). */
#ifndef CDC_METRICS_H
#define CDC_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct cdc_metrics cdc_metrics_t;

/* The per-partition counters of cdc_metrics_add(). */
typedef enum cdc_metric {
    CDC_METRIC_CONSUMED, /* records_consumed_total; label NULL */
    CDC_METRIC_APPLIED,  /* records_applied_total; label = op:
                            c u d r t tombstone */
    CDC_METRIC_STALE,    /* records_stale_total; label NULL */
    CDC_METRIC_SKIPPED,  /* records_skipped_total; label NULL */
    CDC_METRIC_DLQ,      /* dlq_records_total; label = class: data schema */
    CDC_METRIC_COMMIT_FAILED /* offset_commit_failures_total; label NULL */
} cdc_metric_t;

/* Wall clock in milliseconds since the epoch; swappable for tests. */
typedef int64_t(cdc_metrics_clock_t)(void);

/* Copies both strings. NULL only when out of memory. */
cdc_metrics_t *cdc_metrics_new(const char *pipeline, const char *sink);
void cdc_metrics_destroy(cdc_metrics_t *m);

/* Freshness is computed from this clock at render time (default: the
 * real-time clock). */
void cdc_metrics_set_clock(cdc_metrics_t *m, cdc_metrics_clock_t *clock);

/* Adds n to a per-partition counter. label is the op for APPLIED (as
 * cdc_op_name() spells it), the class for DLQ, ignored otherwise.
 * 0, or -1 (nothing counted) for an unknown label or out of memory. */
int cdc_metrics_add(cdc_metrics_t *m, cdc_metric_t metric, const char *topic,
                    int32_t partition, const char *label, uint64_t n);

/* retries_total{class}: what failed, one of sink registry dlq kafka.
 * 0, or -1 for an unknown class. */
int cdc_metrics_retry(cdc_metrics_t *m, const char *what);

/* consumer_lag: end offset - committed, as the consumer sees it. */
int cdc_metrics_set_lag(cdc_metrics_t *m, const char *topic,
                        int32_t partition, int64_t lag);

/* Records the source ts_ms of a change just applied on the partition;
 * freshness_seconds = now - the newest ts recorded. ts <= 0 (the source
 * did not say) is ignored. */
int cdc_metrics_applied_ts(cdc_metrics_t *m, const char *topic,
                           int32_t partition, int64_t source_ts_ms);

/* A revoked partition's lag and freshness are another replica's now: drop
 * them, or sum(consumer_lag) would count the partition twice. Its counters
 * stay. A partition never seen is not an error. */
void cdc_metrics_forget_partition(cdc_metrics_t *m, const char *topic,
                                  int32_t partition);

/* batch_duration_seconds histogram. */
void cdc_metrics_observe_batch(cdc_metrics_t *m, double seconds);

/* ready gauge. */
void cdc_metrics_set_ready(cdc_metrics_t *m, bool ready);

/* A continuous verify run finished: result 0 equal, 1 divergent, 2 could
 * not check (cdc_verify exit codes 0, 1, 3 mapped); divergent rows found.
 * verify_runs_total{result} counts it; verify_divergent_rows shows the
 * rows of the last run that could check. */
void cdc_metrics_verified(cdc_metrics_t *m, int result, int64_t divergent);

/* The text exposition format 0.0.4, families and partitions in a stable
 * order. *out is malloc'd and NUL-terminated; *len excludes the NUL.
 * 0, or -1 when out of memory. */
int cdc_metrics_render(cdc_metrics_t *m, char **out, size_t *len);

/* The Content-Type that goes with cdc_metrics_render()'s text. */
#define CDC_METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

#endif
