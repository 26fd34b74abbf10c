#include "fetchwake.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <time.h>

#include "log.h"
#include "thread.h"

/* Partitions asked per round at most: one request per leader would do, but
 * the leader of each partition is not known locally; rotating through the
 * lagging ones reaches every broker within a few rounds. */
#define WAKE_MAX_PER_ROUND 16

struct cdc_fetchwake {
    rd_kafka_t *rk;
    int interval_ms;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool stopping;
    atomic_ulong sent;
    int next; /* rotation through the assignment */
};

/* True when the application has not consumed up to the high watermark the
 * fetcher last saw: more records wait on the broker or in the queue. */
static bool lagging(rd_kafka_t *rk, const rd_kafka_topic_partition_t *tp)
{
    int64_t low, high;
    if (tp->offset < 0) return false; /* nothing consumed yet: not fetching */
    if (rd_kafka_get_watermark_offsets(rk, tp->topic, tp->partition, &low,
                                       &high) != RD_KAFKA_RESP_ERR_NO_ERROR)
        return false;
    return high > tp->offset;
}

static void wake_round(cdc_fetchwake_t *w)
{
    rd_kafka_topic_partition_list_t *parts = NULL;
    if (rd_kafka_assignment(w->rk, &parts) != RD_KAFKA_RESP_ERR_NO_ERROR)
        return;
    if (parts->cnt > 0 && rd_kafka_position(w->rk, parts) == RD_KAFKA_RESP_ERR_NO_ERROR) {
        int asked = 0;
        for (int k = 0; k < parts->cnt && asked < WAKE_MAX_PER_ROUND; k++) {
            const rd_kafka_topic_partition_t *tp =
                &parts->elems[(w->next + k) % parts->cnt];
            if (!lagging(w->rk, tp)) continue;
            int64_t low, high;
            /* The answer does not matter; the request wakes the fetcher. */
            rd_kafka_query_watermark_offsets(w->rk, tp->topic, tp->partition,
                                             &low, &high, 1000);
            asked++;
            atomic_fetch_add(&w->sent, 1);
        }
        w->next = (w->next + 1) % parts->cnt;
    }
    rd_kafka_topic_partition_list_destroy(parts);
}

static void deadline_after(struct timespec *ts, int ms)
{
    clock_gettime(CLOCK_MONOTONIC, ts);
    ts->tv_sec += ms / 1000;
    ts->tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

static void *wake_thread(void *arg)
{
    cdc_fetchwake_t *w = arg;
    pthread_mutex_lock(&w->lock);
    while (!w->stopping) {
        struct timespec until;
        deadline_after(&until, w->interval_ms);
        while (!w->stopping &&
               pthread_cond_timedwait(&w->cond, &w->lock, &until) != ETIMEDOUT) {
        }
        if (w->stopping) break;
        pthread_mutex_unlock(&w->lock);
        wake_round(w);
        pthread_mutex_lock(&w->lock);
    }
    pthread_mutex_unlock(&w->lock);
    return NULL;
}

cdc_fetchwake_t *cdc_fetchwake_start(rd_kafka_t *rk, int interval_ms)
{
    cdc_fetchwake_t *w = calloc(1, sizeof *w);
    if (!w) return NULL;
    w->rk = rk;
    w->interval_ms = interval_ms;
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&w->cond, &attr);
    pthread_condattr_destroy(&attr);
    pthread_mutex_init(&w->lock, NULL);
    if (cdc_thread_start(&w->thread, wake_thread, w) != 0) {
        cdc_log_warn("fetch waker not started: %s", "pthread_create failed");
        pthread_cond_destroy(&w->cond);
        pthread_mutex_destroy(&w->lock);
        free(w);
        return NULL;
    }
    return w;
}

void cdc_fetchwake_stop(cdc_fetchwake_t *w)
{
    if (!w) return;
    pthread_mutex_lock(&w->lock);
    w->stopping = true;
    pthread_cond_signal(&w->cond);
    pthread_mutex_unlock(&w->lock);
    pthread_join(w->thread, NULL);
    pthread_cond_destroy(&w->cond);
    pthread_mutex_destroy(&w->lock);
    free(w);
}

unsigned long cdc_fetchwake_sent(const cdc_fetchwake_t *w)
{
    return w ? atomic_load(&w->sent) : 0;
}
