/* sink — the contract between the core and a sink (sinks/<name>/).
 *
 * The core plans each batch (src/plan.h: actions, routing, collapse) and
 * hands the sink the changes to write; it gets back one outcome per change
 * plus a status for the batch. A sink never commits
 * offsets, never talks to Kafka and never exits: it reports, the core
 * decides (docs/semantics.md, "Errors").
 *
 *   open   — connect and check what must be checked before consuming
 *            (credentials, tables); FATAL errors stop the pipeline.
 *   apply  — write the changes. RETRY means "nothing of this batch may be
 *            assumed written; call again with the same batch later"; the
 *            sink must make a repeated apply harmless (position guard).
 *            OK means every outcome is final: APPLIED, STALE or REJECTED
 *            (the core sends REJECTED events to the DLQ).
 *   ping   — is the sink reachable now (for /readyz); may be NULL.
 *   close  — flush and free.
 *
 * A sink also brings its configuration keys (src/configkey.h): the parser
 * accepts them only in pipelines of that sink, and docs/configuration.md
 * lists them in a section of its own. Adding a sink is its folder plus one
 * line in src/sink.c. */
#ifndef CDC_SINK_H
#define CDC_SINK_H

#include <stdbool.h>
#include <stdio.h>
#include <stddef.h>

#include "arena.h"
#include "config.h"
#include "configkey.h"
#include "event.h"
#include "plan.h"
#include "verify.h"

typedef enum cdc_sink_status {
    CDC_SINK_OK = 0,
    CDC_SINK_RETRY = 1, /* transient: back off and apply the batch again */
    CDC_SINK_FATAL = 2  /* configuration/permission problem: stop */
} cdc_sink_status_t;

typedef struct cdc_sink_ops {
    const char *name;
    /* How the core plans for this sink (src/plan.h): LATEST for a store
     * of each key's state, LOG for a sink that records every change. */
    cdc_plan_mode_t plan_mode;
    /* The config key naming the target (e.g. "table.name.format"), whose
     * template the core fills for every change; NULL for none. */
    const char *route_key;
    bool route_allows_key; /* the template may use ${key} (see route.h) */
    /* The keys only this sink reads, in the order of the docs and of
     * `cdcsink check` (the core keys apply to every sink). */
    const cdc_configkey_t *keys;
    size_t nkeys;
    /* OK (also when the target is not reachable yet: apply retries) or
     * FATAL with errstr. */
    cdc_sink_status_t (*open)(const cdc_config_t *cfg, void **state,
                              char *errstr, size_t errstr_size);
    /* Writes the planned changes; outcomes[k] is filled for changes[k]
     * (APPLIED, STALE, SKIPPED or REJECTED). The arena lives as long as
     * the batch. On RETRY/FATAL errstr says why. */
    cdc_sink_status_t (*apply)(void *state, const cdc_change_t *changes,
                               size_t count, cdc_outcome_t *outcomes,
                               cdc_arena_t *arena, char *errstr,
                               size_t errstr_size);
    int (*ping)(void *state);
    /* The class of the last RETRY for cdcsink_retries_total{class}: NULL
     * (or a NULL op) means "sink"; "sink_full" when the sink refused the
     * write for want of room (Redis OOM), which the alert rules watch. */
    const char *(*retry_class)(void *state);
    void (*close)(void *state);
    /* `cdcsink migrate`: creates or upgrades the sink's own objects in the
     * target (e.g. the tombstone ledger); *applied says how many steps
     * ran. NULL for a sink that keeps nothing of its own. 0, or -1 with
     * errstr. */
    int (*migrate)(const cdc_config_t *cfg, int *applied, char *errstr,
                   size_t errstr_size);
    /* `cdcsink version`: the client library the sink writes with and its
     * version, e.g. "libpq 15.14"; NULL when it needs none of its own. */
    void (*library)(char *out, size_t size);
    /* `cdcsink verify`: the sink's half of comparing it with the source
     * (src/verify.h); NULL for a sink that keeps no state to compare (a log). */
    const cdc_verify_ops_t *verify;
} cdc_sink_ops_t;

/* One line per built sink for `cdcsink version`: its name and, where it
 * has one, its client library's version. */
void cdc_sink_print_versions(FILE *out);

/* The sink registered under this name (the `sink` config key), or NULL. */
const cdc_sink_ops_t *cdc_sink_find(const char *name);

/* The sinks that are built, with their keys, in the order of the sink list:
 * what a pipeline file may name (cdc_config_load) and what the docs cover
 * (src/configdoc.h). Static: it lives as long as the process. */
const cdc_config_catalog_t *cdc_sink_catalog(void);

/* The sink of cfg's pipeline: its ops, the planner made for it (its plan
 * mode and route template), and its open state. -1 with errstr when it is
 * not built in or cannot open (*planner may then need destroying). */
int cdc_sink_open(const cdc_config_t *cfg, const cdc_sink_ops_t **ops,
                  cdc_planner_t **planner, void **state, char *errstr,
                  size_t errstr_size);

#endif
