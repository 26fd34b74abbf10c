/* sink — the contract between the core and a sink (sinks/<name>/).
 *
 * The core hands a sink whole batches of decoded events and gets back one
 * outcome per event plus a status for the batch. A sink never commits
 * offsets, never talks to Kafka and never exits: it reports, the core
 * decides (DESIGN.md §3).
 *
 *   open   — connect and check what must be checked before consuming
 *            (credentials, tables); FATAL errors stop the pipeline.
 *   apply  — write the batch. RETRY means "nothing of this batch may be
 *            assumed written; call again with the same batch later"; the
 *            sink must make a repeated apply harmless (position guard).
 *            OK means every outcome is final: APPLIED, STALE or REJECTED
 *            (the core sends REJECTED events to the DLQ).
 *   ping   — is the sink reachable now (for /readyz); may be NULL.
 *   close  — flush and free. */
#ifndef CDC_SINK_H
#define CDC_SINK_H

#include <stddef.h>

#include "arena.h"
#include "config.h"
#include "event.h"

typedef enum cdc_sink_status {
    CDC_SINK_OK = 0,
    CDC_SINK_RETRY = 1, /* transient: back off and apply the batch again */
    CDC_SINK_FATAL = 2  /* configuration/permission problem: stop */
} cdc_sink_status_t;

typedef enum cdc_outcome_kind {
    CDC_OUTCOME_APPLIED = 0,
    CDC_OUTCOME_STALE = 1,    /* position not newer than the stored one */
    CDC_OUTCOME_SKIPPED = 2,  /* nothing to do (tombstone no-op, delete.mode=none) */
    CDC_OUTCOME_REJECTED = 3  /* the sink refused this value: DLQ */
} cdc_outcome_kind_t;

typedef struct cdc_outcome {
    cdc_outcome_kind_t kind;
    /* For REJECTED: error class for the DLQ headers ("data" or "schema"),
     * the sink's own error name (e.g. "SQLSTATE 23514") and its message.
     * Allocated in the batch arena; never contain secrets. */
    const char *error_class;
    const char *exception_name;
    const char *message;
} cdc_outcome_t;

typedef struct cdc_sink_ops {
    const char *name;
    int (*open)(const cdc_config_t *cfg, void **state, char *errstr,
                size_t errstr_size);
    /* outcomes[i] is filled for events[i]; arena lives as long as the
     * batch. On RETRY/FATAL errstr says why. */
    cdc_sink_status_t (*apply)(void *state, const cdc_event_t *const *events,
                               size_t count, cdc_outcome_t *outcomes,
                               cdc_arena_t *arena, char *errstr,
                               size_t errstr_size);
    int (*ping)(void *state);
    void (*close)(void *state);
} cdc_sink_ops_t;

/* The sink registered under this name (the `sink` config key), or NULL. */
const cdc_sink_ops_t *cdc_sink_find(const char *name);

#endif
