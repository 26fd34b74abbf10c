#include "applier.h"

#include "thread.h"

static void applier_call(cdc_applier_t *a)
{
    a->errstr[0] = '\0';
    a->status = a->sink->apply(a->sink_state, a->events, a->count, a->outcomes,
                               a->arena, a->errstr, sizeof a->errstr);
    atomic_store(&a->done, true);
}

static void *applier_thread(void *arg)
{
    applier_call(arg);
    return NULL;
}

void cdc_applier_start(cdc_applier_t *a)
{
    atomic_store(&a->done, false);
    a->started = cdc_thread_start(&a->thread, applier_thread, a) == 0;
    if (!a->started) applier_call(a);
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
