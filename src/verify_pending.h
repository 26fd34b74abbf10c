/* verify_pending — the keys that have a change in Kafka which the pipeline
 * has not committed yet: between the group's committed offset (or the
 * partition's start, when nothing is committed) and the end of each of its
 * partitions, as `lag` reports them.
 *
 * `cdcsink verify` counts a differing key found here as in flight, not
 * divergent. The records are read with the pipeline's own decoder and
 * routed with its template, so a key is named exactly as the verifier
 * names the rows it read (target name and ${key} text). The group is never
 * joined and no offset moves. */
#ifndef CDC_VERIFY_PENDING_H
#define CDC_VERIFY_PENDING_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "lag.h"

typedef struct cdc_pending {
    char **entries; /* "target\x1fkey", sorted once collected */
    size_t count, cap;
    int64_t records; /* records read */
} cdc_pending_t;

/* Reads every uncommitted record of lag's partitions, at most max_records
 * (more is an error: the pipeline is too far behind to verify now).
 * route_template fills the target name (the sink's route key, e.g.
 * table.name.format). 0, or -1 with errstr. */
int cdc_pending_collect(const cdc_config_t *cfg, const cdc_lag_report_t *lag,
                        const char *route_template, int64_t max_records,
                        volatile sig_atomic_t *stop, cdc_pending_t *pending,
                        char *errstr, size_t errstr_size);

bool cdc_pending_has(const cdc_pending_t *pending, const char *target,
                     const char *key_text);

void cdc_pending_free(cdc_pending_t *pending);

#endif
