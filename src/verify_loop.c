#include "verify_loop.h"

#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "errstr.h"
#include "log.h"
#include "sink.h"
#include "thread.h"
#include "verify.h"

struct cdc_vloop {
    const cdc_config_t *cfg;
    cdc_metrics_t *metrics;
    int64_t interval_ms;
    int64_t sample;
    volatile sig_atomic_t stop;
    pthread_t thread;
};

/* Waits ms, noticing a stop within 200 ms; false when stopped. */
static bool vloop_wait(cdc_vloop_t *l, int64_t ms)
{
    int64_t until = cdc_clock_mono_ms() + ms;
    while (!l->stop && cdc_clock_mono_ms() < until) {
        struct timespec ts = {.tv_sec = 0, .tv_nsec = 200 * 1000000L};
        nanosleep(&ts, NULL);
    }
    return !l->stop;
}

static void vloop_log(const cdc_verify_report_t *r, int code, int64_t divergent)
{
    int64_t compared = 0, in_flight = 0;
    const char *first_table = NULL, *first_key = NULL, *not_checked = r->error;
    for (size_t i = 0; i < r->ntables; i++) {
        const cdc_verify_table_t *t = &r->tables[i];
        compared += t->compared;
        in_flight += t->in_flight;
        if (!not_checked && t->error) not_checked = t->error;
        if (!first_key && t->ncandidates) {
            first_table = t->target_shown ? t->target_shown : t->target;
            first_key = t->candidates[0].text;
        }
    }
    if (code == CDC_VERIFY_EQUAL)
        cdc_log_info("verify: equal: %lld sampled rows of %zu tables, %lld in flight",
                     (long long)compared, r->ntables, (long long)in_flight);
    else if (code == CDC_VERIFY_DIVERGENT)
        cdc_log_warn("verify: DIVERGENT: %lld rows (first: %s key %s); %lld sampled "
                     "rows of %zu tables; `cdcsink verify -c FILE` names them all",
                     (long long)divergent, first_table, first_key, (long long)compared,
                     r->ntables);
    else
        cdc_log_warn("verify: not checked: %s", not_checked ? not_checked : "no table");
}

static void *vloop_thread(void *arg)
{
    cdc_vloop_t *l = arg;
    while (vloop_wait(l, l->interval_ms)) {
        cdc_verify_options_t opt = {.settle_ms = 5000, .wait_ms = 60000,
                                    .keys_shown = 1, .sample = l->sample,
                                    .stop = &l->stop};
        cdc_verify_report_t r;
        int code = cdc_verify_run(l->cfg, &opt, &r);
        if (l->stop) { /* interrupted: says nothing */
            cdc_verify_report_free(&r);
            break;
        }
        int64_t divergent = 0;
        for (size_t i = 0; i < r.ntables; i++)
            divergent += r.tables[i].missing + r.tables[i].extra + r.tables[i].different;
        cdc_metrics_verified(l->metrics,
                             code == CDC_VERIFY_EQUAL ? 0 : code == CDC_VERIFY_DIVERGENT ? 1 : 2,
                             divergent);
        vloop_log(&r, code, divergent);
        cdc_verify_report_free(&r);
    }
    return NULL;
}

int cdc_vloop_start(const cdc_config_t *cfg, cdc_metrics_t *metrics,
                    cdc_vloop_t **loop, char *errstr, size_t errstr_size)
{
    *loop = NULL;
    int64_t interval = cdc_config_get_int(cfg, "verify.interval.ms");
    if (interval <= 0) return 0;
    const cdc_sink_ops_t *sink = cdc_sink_find(cdc_config_settings(cfg)->sink);
    if (!sink || !sink->verify)
        return cdc_errstr_set(errstr, errstr_size, "verify.interval.ms: the %s sink "
                              "keeps no state to compare", cdc_config_settings(cfg)->sink);
    cdc_vloop_t *l = calloc(1, sizeof *l);
    if (!l) return cdc_errstr_set(errstr, errstr_size, "out of memory");
    l->cfg = cfg;
    l->metrics = metrics;
    l->interval_ms = interval;
    l->sample = cdc_config_get_int(cfg, "verify.sample.rows");
    int rc = cdc_thread_start(&l->thread, vloop_thread, l);
    if (rc != 0) {
        free(l);
        return cdc_errstr_set(errstr, errstr_size, "verify thread: %s", strerror(rc));
    }
    cdc_log_info("verify every %lld ms, %lld sampled keys per side and table",
                 (long long)interval, (long long)l->sample);
    *loop = l;
    return 0;
}

void cdc_vloop_stop(cdc_vloop_t *l)
{
    if (!l) return;
    l->stop = 1;
    pthread_join(l->thread, NULL);
    free(l);
}
