/* t0009-latency — the append-to-commit latency histogram behind
 * cdc_pipeline_stats()'s latency_p50/p99/p999_ms (and source_latency_*): nearest-rank percentiles
 * without interpolation, -1 when empty, samples below 0 counted as 0 and
 * above the top bucket as the top bucket. No servers. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "latency.h"
#include "unit.h"

/* 100 samples of 1..100 ms: rank floor(q * 99) of the sorted samples. */
static void test_uniform_1_to_100(cdc_latency_t *l)
{
    for (int ms = 100; ms >= 1; ms--) cdc_latency_record(l, ms);
    CHECK_INT(cdc_latency_percentile(l, 0.50), 50);
    CHECK_INT(cdc_latency_percentile(l, 0.99), 99);
    CHECK_INT(cdc_latency_percentile(l, 0.0), 1);
    CHECK_INT(cdc_latency_percentile(l, 1.0), 100);
    CHECK_INT(cdc_latency_percentile(l, 0.25), 25);
    CHECK_INT(cdc_latency_percentile(l, 0.999), 99); /* rank floor(98.9) */
}

/* p999 of 10,000 samples 1..10000 ms is rank 9989: 9990 ms. */
static void test_p999(cdc_latency_t *l)
{
    for (int ms = 1; ms <= 10000; ms++) cdc_latency_record(l, ms);
    CHECK_INT(cdc_latency_percentile(l, 0.999), 9990);
    CHECK_INT(cdc_latency_percentile(l, 0.99), 9900);
}

static void test_empty(cdc_latency_t *l)
{
    CHECK_INT(cdc_latency_percentile(l, 0.50), -1);
    CHECK_INT(cdc_latency_percentile(l, 0.99), -1);
}

static void test_single_sample(cdc_latency_t *l)
{
    cdc_latency_record(l, 7);
    CHECK_INT(cdc_latency_percentile(l, 0.0), 7);
    CHECK_INT(cdc_latency_percentile(l, 0.50), 7);
    CHECK_INT(cdc_latency_percentile(l, 0.99), 7);
    CHECK_INT(cdc_latency_percentile(l, 1.0), 7);
}

/* Repeated values weigh by count: one outlier in 100 is not p99. */
static void test_counts_weigh(cdc_latency_t *l)
{
    for (int i = 0; i < 99; i++) cdc_latency_record(l, 5);
    cdc_latency_record(l, 2000);
    CHECK_INT(cdc_latency_percentile(l, 0.50), 5);
    CHECK_INT(cdc_latency_percentile(l, 0.99), 5);
    CHECK_INT(cdc_latency_percentile(l, 1.0), 2000);
}

/* Beyond the top bucket counts as the top bucket; a record timestamped
 * after our clock (skew) counts as 0. */
static void test_clamping(cdc_latency_t *l)
{
    cdc_latency_record(l, CDC_LATENCY_MAX_MS + 1);
    cdc_latency_record(l, INT64_C(3600000));
    CHECK_INT(cdc_latency_percentile(l, 0.50), CDC_LATENCY_MAX_MS);
    CHECK_INT(cdc_latency_percentile(l, 1.0), 60000);
    memset(l, 0, sizeof *l);
    cdc_latency_record(l, -250);
    cdc_latency_record(l, 0);
    CHECK_INT(cdc_latency_percentile(l, 1.0), 0);
    CHECK_INT(cdc_latency_percentile(l, 0.0), 0);
    memset(l, 0, sizeof *l);
    cdc_latency_record(l, CDC_LATENCY_MAX_MS);
    CHECK_INT(cdc_latency_percentile(l, 0.50), CDC_LATENCY_MAX_MS);
}

int main(void)
{
    /* About 480 KB: kept off the stack, as the pipeline keeps it. */
    cdc_latency_t *l = calloc(1, sizeof *l);
    if (!l) return 1;
    void (*tests[])(cdc_latency_t *) = {test_uniform_1_to_100, test_empty,
                                        test_single_sample, test_counts_weigh,
                                        test_clamping, test_p999};
    for (size_t i = 0; i < sizeof tests / sizeof tests[0]; i++) {
        memset(l, 0, sizeof *l); /* all zeroes is empty */
        tests[i](l);
    }
    free(l);
    return unit_finish("t0009-latency");
}
