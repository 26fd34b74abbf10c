/* applier — one batch through the planner and the sink, here or on a
 * thread of its own.
 *
 * A job is: plan the decoded events (src/plan.h), hand the changes to
 * sink->apply(), and spread the sink's outcomes back over the events.
 * The pipeline overlaps this with the collecting and decoding of the next
 * batch: it starts the applier, goes on polling and decoding, and waits for
 * the applier before it looks at the outcomes. The applier touches only
 * what the job names (the planner, the sink, the events, the outcomes and
 * the batch's arena); the caller leaves those alone, and never calls into
 * the sink, while the job runs. */
#ifndef CDC_APPLIER_H
#define CDC_APPLIER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "plan.h"
#include "sink.h"

typedef struct cdc_applier {
    /* The job: set by the caller before cdc_applier_run/start(). */
    cdc_planner_t *planner;
    const cdc_sink_ops_t *sink;
    void *sink_state;
    const cdc_event_t **events;
    size_t count;
    cdc_outcome_t *outcomes; /* parallel to events */
    cdc_arena_t *arena;
    /* The answer: valid after cdc_applier_wait() (or _run()). */
    cdc_sink_status_t status;
    char errstr[1024];
    /* Private. */
    pthread_t thread;
    bool started;     /* a thread runs or ran the job, not yet joined */
    atomic_bool done; /* the job returned */
} cdc_applier_t;

/* Runs the job on this thread. */
void cdc_applier_run(cdc_applier_t *a);

/* Runs the job on a new thread, or right here when no thread can be
 * started (then it is done on return). */
void cdc_applier_start(cdc_applier_t *a);

/* Whether the job has returned (cdc_applier_wait() will not block). */
bool cdc_applier_done(cdc_applier_t *a);

/* Waits for the job to return; does nothing the second time. */
void cdc_applier_wait(cdc_applier_t *a);

#endif
