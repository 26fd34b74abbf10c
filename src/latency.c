#include "latency.h"

#include <stddef.h>

#define NBUCKETS (CDC_LATENCY_MAX_MS + 1)

void cdc_latency_record(cdc_latency_t *l, int64_t ms)
{
    if (ms < 0) ms = 0;
    if (ms >= NBUCKETS) ms = NBUCKETS - 1;
    l->buckets[ms]++;
}

int64_t cdc_latency_percentile(const cdc_latency_t *l, double q)
{
    uint64_t total = 0;
    for (size_t i = 0; i < NBUCKETS; i++) total += l->buckets[i];
    if (total == 0) return -1;
    uint64_t rank = (uint64_t)(q * (double)(total - 1)), seen = 0;
    for (size_t i = 0; i < NBUCKETS; i++) {
        seen += l->buckets[i];
        if (seen > rank) return (int64_t)i;
    }
    return NBUCKETS - 1;
}
