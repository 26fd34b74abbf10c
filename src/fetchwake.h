/* fetchwake — keeps librdkafka 2.0's prefetcher from idling for a second.
 *
 * librdkafka before 2.1 stops fetching a partition once its prefetch queue
 * reaches queued.max.messages.kbytes (or queued.min.messages) and looks at
 * it again only when its broker thread wakes: after up to 1000 ms
 * (librdkafka issue #2879; 2.1 added fetch.queue.backoff.ms). A consumer
 * faster than one queue per second then waits most of each second, and the
 * only cure inside the library is a larger queue, paid for in RSS.
 *
 * The waker is a thread that, every interval, finds the assigned partitions
 * with records the application has not consumed yet (position below the
 * cached high watermark; both local) and asks their leaders for the
 * watermarks. The request is harmless, and its arrival wakes the broker
 * thread, which then refetches any partition whose queue has drained.
 * Caught-up or paused pipelines send nothing. */
#ifndef CDC_FETCHWAKE_H
#define CDC_FETCHWAKE_H

#include <librdkafka/rdkafka.h>

typedef struct cdc_fetchwake cdc_fetchwake_t;

/* Starts waking rk's fetchers every interval_ms (> 0). NULL on failure
 * (then the consumer just runs without it). */
cdc_fetchwake_t *cdc_fetchwake_start(rd_kafka_t *rk, int interval_ms);

/* Stops the thread and waits for it; NULL is fine. */
void cdc_fetchwake_stop(cdc_fetchwake_t *w);

/* How many watermark requests were sent (for tests). */
unsigned long cdc_fetchwake_sent(const cdc_fetchwake_t *w);

#endif
