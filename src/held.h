/* held — fetched messages kept back, in order, for a later batch.
 *
 * While a batch is retried (or a replay backs off) the consumer keeps
 * being polled, so the group membership survives; what those polls return
 * must not be dropped. It is held here and taken first by the next batch.
 * The holder owns the messages until they are taken. */
#ifndef CDC_HELD_H
#define CDC_HELD_H

#include <librdkafka/rdkafka.h>
#include <stddef.h>

typedef struct cdc_held {
    rd_kafka_message_t **msgs; /* msgs[0] is the oldest */
    size_t count, cap;
} cdc_held_t;

/* Appends m (ownership passes to the holder); -1 when out of memory, and
 * then m is still the caller's. */
int cdc_held_push(cdc_held_t *h, rd_kafka_message_t *m);

/* Forgets the n oldest messages, which the caller has taken. */
void cdc_held_taken(cdc_held_t *h, size_t n);

/* Destroys the messages for which drop(m, arg) is true, keeping the order
 * of the rest (a revoked partition's messages belong to its next owner). */
void cdc_held_drop_if(cdc_held_t *h,
                      int (*drop)(const rd_kafka_message_t *m, const void *arg),
                      const void *arg);

/* Destroys every message held and frees the holder's memory. */
void cdc_held_free(cdc_held_t *h);

#endif
