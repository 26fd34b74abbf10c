#include "held.h"

#include <stdlib.h>
#include <string.h>

#include "grow.h"

int cdc_held_push(cdc_held_t *h, rd_kafka_message_t *m)
{
    rd_kafka_message_t **msgs = cdc_grow(h->msgs, h->count, &h->cap, sizeof *msgs, 64);
    if (!msgs) return -1;
    h->msgs = msgs;
    msgs[h->count++] = m;
    return 0;
}

void cdc_held_taken(cdc_held_t *h, size_t n)
{
    if (n == 0) return; /* h->msgs is NULL until something was held */
    if (n > h->count) n = h->count;
    memmove(h->msgs, h->msgs + n, (h->count - n) * sizeof *h->msgs);
    h->count -= n;
}

void cdc_held_drop_if(cdc_held_t *h,
                      int (*drop)(const rd_kafka_message_t *m, const void *arg),
                      const void *arg)
{
    size_t kept = 0;
    for (size_t i = 0; i < h->count; i++) {
        if (drop(h->msgs[i], arg)) rd_kafka_message_destroy(h->msgs[i]);
        else h->msgs[kept++] = h->msgs[i];
    }
    h->count = kept;
}

void cdc_held_free(cdc_held_t *h)
{
    for (size_t i = 0; i < h->count; i++) rd_kafka_message_destroy(h->msgs[i]);
    free(h->msgs);
    h->msgs = NULL;
    h->count = h->cap = 0;
}
