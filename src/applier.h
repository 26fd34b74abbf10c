/* applier — one sink->apply() call, run on a thread of its own.
 *
 * The pipeline overlaps the sink's write of one batch with the collecting
 * and decoding of the next: it starts the applier, goes on polling and
 * decoding, and waits for the applier before it looks at the outcomes.
 * The applier touches only what the job names (the sink, the events, the
 * outcomes and the batch's arena); the pipeline leaves those alone, and
 * never calls into the sink, while the job runs. */
#ifndef CDC_APPLIER_H
#define CDC_APPLIER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "sink.h"

typedef struct cdc_applier {
    /* The call: set by the caller before cdc_applier_start(). */
    const cdc_sink_ops_t *sink;
    void *sink_state;
    const cdc_event_t **events;
    size_t count;
    cdc_outcome_t *outcomes;
    cdc_arena_t *arena;
    /* The answer: valid after cdc_applier_wait(). */
    cdc_sink_status_t status;
    char errstr[1024];
    /* Private. */
    pthread_t thread;
    bool started;     /* a thread runs or ran the call, not yet joined */
    atomic_bool done; /* the call returned */
} cdc_applier_t;

/* Runs the call on a new thread, or right here when no thread can be
 * started (then it is done on return). */
void cdc_applier_start(cdc_applier_t *a);

/* Whether the call has returned (cdc_applier_wait() will not block). */
bool cdc_applier_done(cdc_applier_t *a);

/* Waits for the call to return; does nothing the second time. */
void cdc_applier_wait(cdc_applier_t *a);

#endif
