/* lag — how far the pipeline's consumer group is behind, from the broker.
 *
 * Reads the group's committed offsets and each partition's end offset
 * without joining the group, so it works with the pipeline stopped or
 * running. Also reports the group's state and member count, which tells
 * whether a stopped pipeline really left the group. */
#ifndef CDC_LAG_H
#define CDC_LAG_H

#include <stdint.h>
#include <stdio.h>

#include "config.h"

typedef struct cdc_lag_partition {
    char *topic;
    int32_t partition;
    int64_t committed; /* -1: nothing committed yet */
    int64_t low, end;  /* watermarks */
    int64_t lag;       /* end - committed (or end - low if none) */
} cdc_lag_partition_t;

typedef struct cdc_lag_report {
    cdc_lag_partition_t *partitions;
    size_t count;
    int64_t total;
    char group_state[32];
    int members; /* -1 when the broker did not say */
} cdc_lag_report_t;

/* 0 on success; -1 with errstr when the broker cannot be reached. */
int cdc_lag_collect(const cdc_config_t *cfg, int timeout_ms,
                    cdc_lag_report_t *report, char *errstr,
                    size_t errstr_size);
void cdc_lag_report_free(cdc_lag_report_t *report);

void cdc_lag_print_text(const cdc_lag_report_t *report, FILE *out);
void cdc_lag_print_json(const cdc_lag_report_t *report, const char *group,
                        FILE *out);

#endif
