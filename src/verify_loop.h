/* verify_loop — continuous verify inside `cdcsink run`
 * (verify.interval.ms, off by default).
 *
 * A thread of its own runs a sampled `cdcsink verify` (verify.sample.rows
 * keys per side and table) every interval, with its own sessions and
 * consumers, never touching the pipeline's; each run sets
 * cdcsink_verify_divergent_rows and counts cdcsink_verify_runs_total
 * {result}, and logs one line (a warning when divergent or not checked).
 * The CdcsinkSinkDivergent alert watches the gauge. */
#ifndef CDC_VERIFY_LOOP_H
#define CDC_VERIFY_LOOP_H

#include <stddef.h>

#include "config.h"
#include "metrics.h"

typedef struct cdc_vloop cdc_vloop_t;

/* Starts the thread when verify.interval.ms > 0 (*loop NULL otherwise).
 * 0, or -1 with errstr (a sink that cannot be verified, no thread). */
int cdc_vloop_start(const cdc_config_t *cfg, cdc_metrics_t *metrics,
                    cdc_vloop_t **loop, char *errstr, size_t errstr_size);
/* Stops a run in progress at its next check and joins; NULL is fine. */
void cdc_vloop_stop(cdc_vloop_t *loop);

#endif
