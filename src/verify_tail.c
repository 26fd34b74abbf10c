#include "verify_tail.h"

#include <librdkafka/rdkafka.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "clock.h"
#include "decode.h"
#include "dlqread.h"
#include "errstr.h"
#include "registry.h"

struct cdc_tail {
    rd_kafka_t *rk;
    cdc_registry_t *registry;
    cdc_decoder_t *decoder;
    cdc_arena_t arena;
    int64_t position;
    int64_t last_record_ms;
    bool polled; /* the records of the first poll are the old tail */
};

static int tail_assign(cdc_tail_t *t, const cdc_lag_report_t *lag,
                       char *errstr, size_t errstr_size)
{
    rd_kafka_topic_partition_list_t *l =
        rd_kafka_topic_partition_list_new((int)lag->count + 1);
    for (size_t i = 0; i < lag->count; i++) {
        const cdc_lag_partition_t *lp = &lag->partitions[i];
        int64_t from = lp->end > lp->low ? lp->end - 1 : lp->end;
        rd_kafka_topic_partition_list_add(l, lp->topic, lp->partition)->offset = from;
    }
    rd_kafka_resp_err_t err = l->cnt ? rd_kafka_assign(t->rk, l) : 0;
    rd_kafka_topic_partition_list_destroy(l);
    if (err)
        return cdc_errstr_set(errstr, errstr_size, "assign: %s",
                              rd_kafka_err2str(err));
    return 0;
}

cdc_tail_t *cdc_tail_open(const cdc_config_t *cfg, const cdc_lag_report_t *lag,
                          char *errstr, size_t errstr_size)
{
    cdc_tail_t *t = calloc(1, sizeof *t);
    if (!t) {
        cdc_errstr_set(errstr, errstr_size, "out of memory");
        return NULL;
    }
    t->position = -1;
    cdc_arena_init(&t->arena, 64 * 1024);
    char group[512];
    snprintf(group, sizeof group, "%s.verify", cdc_config_settings(cfg)->group_id);
    if (!(t->rk = cdc_dlqread_consumer_new(cfg, group, errstr, errstr_size)) ||
        cdc_decoder_from_config(cfg, &t->registry, &t->decoder, errstr,
                                errstr_size) != 0 ||
        tail_assign(t, lag, errstr, errstr_size) != 0) {
        cdc_tail_close(t);
        return NULL;
    }
    return t;
}

static void tail_take(cdc_tail_t *t, const rd_kafka_message_t *m)
{
    cdc_event_t ev = {.topic = rd_kafka_topic_name(m->rkt),
                      .partition = m->partition, .offset = m->offset};
    char why[256];
    if (cdc_decoder_decode(t->decoder, m->key, m->key_len, m->payload, m->len,
                           &t->arena, &ev, why, sizeof why) == CDC_DECODE_OK &&
        ev.has_position && ev.position > t->position)
        t->position = ev.position;
    cdc_arena_reset(&t->arena);
    if (t->polled) t->last_record_ms = cdc_clock_mono_ms();
}

void cdc_tail_poll(cdc_tail_t *t, int timeout_ms)
{
    rd_kafka_message_t *m;
    int wait = timeout_ms;
    while ((m = rd_kafka_consumer_poll(t->rk, wait))) {
        if (!m->err) tail_take(t, m);
        rd_kafka_message_destroy(m);
        wait = 0;
    }
    t->polled = true;
}

int64_t cdc_tail_position(const cdc_tail_t *t) { return t->position; }

int64_t cdc_tail_last_record_ms(const cdc_tail_t *t) { return t->last_record_ms; }

void cdc_tail_close(cdc_tail_t *t)
{
    if (!t) return;
    if (t->rk) {
        rd_kafka_consumer_close(t->rk);
        rd_kafka_destroy(t->rk);
    }
    cdc_decoder_destroy(t->decoder);
    cdc_registry_destroy(t->registry);
    cdc_arena_destroy(&t->arena);
    free(t);
}
