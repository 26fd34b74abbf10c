#include "applier.h"

#include <string.h>

#include "errstr.h"
#include "thread.h"

/* Plans, applies, and copies each change's outcome to its event. */
static cdc_sink_status_t plan_and_apply(cdc_applier_t *a)
{
    cdc_change_t *changes;
    size_t *event_index, n;
    if (cdc_plan_batch(a->planner, a->events, a->count, a->outcomes, &changes,
                       &event_index, &n, a->arena) != 0) {
        cdc_errstr_set(a->errstr, sizeof a->errstr, "out of memory");
        return CDC_SINK_RETRY;
    }
    if (n == 0) return CDC_SINK_OK;
    cdc_outcome_t *results = cdc_arena_alloc(a->arena, (n + 1) * sizeof *results);
    if (!results) {
        cdc_errstr_set(a->errstr, sizeof a->errstr, "out of memory");
        return CDC_SINK_RETRY;
    }
    memset(results, 0, n * sizeof *results);
    cdc_sink_status_t s = a->sink->apply(a->sink_state, changes, n, results,
                                         a->arena, a->errstr, sizeof a->errstr);
    if (s != CDC_SINK_OK) return s;
    for (size_t k = 0; k < n; k++) a->outcomes[event_index[k]] = results[k];
    return CDC_SINK_OK;
}

void cdc_applier_run(cdc_applier_t *a)
{
    a->errstr[0] = '\0';
    a->status = plan_and_apply(a);
    atomic_store(&a->done, true);
}

static void *applier_thread(void *arg)
{
    cdc_applier_run(arg);
    return NULL;
}

void cdc_applier_start(cdc_applier_t *a)
{
    atomic_store(&a->done, false);
    a->started = cdc_thread_start(&a->thread, applier_thread, a) == 0;
    if (!a->started) cdc_applier_run(a);
}

bool cdc_applier_done(cdc_applier_t *a)
{
    return atomic_load(&a->done);
}

void cdc_applier_wait(cdc_applier_t *a)
{
    if (!a->started) return;
    pthread_join(a->thread, NULL);
    a->started = false;
}
