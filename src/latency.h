/* latency — a histogram of latencies in milliseconds, and its percentiles.
 *
 * The pipeline records, for every record of a finished batch, the time from
 * its Kafka timestamp to the end of its batch; `cdc_pipeline_stats()` reads
 * p50 and p99 from here. One bucket per millisecond up to
 * CDC_LATENCY_MAX_MS; a longer latency counts as CDC_LATENCY_MAX_MS. The
 * histogram is embedded in its owner, and all zeroes is empty. */
#ifndef CDC_LATENCY_H
#define CDC_LATENCY_H

#include <stdint.h>

#define CDC_LATENCY_MAX_MS 60000

typedef struct cdc_latency {
    uint64_t buckets[CDC_LATENCY_MAX_MS + 1]; /* buckets[ms]: samples of ms */
} cdc_latency_t;

/* Counts one sample; below 0 counts as 0, above CDC_LATENCY_MAX_MS as
 * CDC_LATENCY_MAX_MS. */
void cdc_latency_record(cdc_latency_t *l, int64_t ms);

/* The q-quantile (0 <= q <= 1) in ms: the smallest latency at or below
 * which more than q * (samples - 1) of the samples lie (nearest rank, no
 * interpolation). -1 when nothing was recorded. */
int64_t cdc_latency_percentile(const cdc_latency_t *l, double q);

#endif
