#include "observe.h"

#include <stdlib.h>
#include <string.h>

#include "grow.h"
#include "health.h"
#include "http.h"
#include "log.h"

/* Offsets we know per assigned partition, for the lag gauge. */
typedef struct observed_partition {
    char *topic;
    int32_t partition;
    int64_t next_offset; /* stored or committed; -1 unknown */
} observed_partition_t;

struct cdc_observe {
    cdc_metrics_t *metrics;
    cdc_health_t *health;
    cdc_health_endpoints_t endpoints;
    cdc_http_t *http;
    observed_partition_t *parts;
    size_t nparts, capacity;
};

cdc_observe_t *cdc_observe_new(const cdc_config_t *cfg, char *errstr,
                               size_t errstr_size)
{
    cdc_observe_t *o = calloc(1, sizeof *o);
    if (!o) return NULL;
    const cdc_settings_t *set = cdc_config_settings(cfg);
    o->metrics = cdc_metrics_new(set->name, set->sink);
    o->health = cdc_health_new(0);
    o->endpoints.metrics = o->metrics;
    o->endpoints.health = o->health;
    const char *listen = set->http_listen;
    if (listen && strcmp(listen, "off") != 0) {
        o->http = cdc_http_start(listen, cdc_health_http_handler, &o->endpoints,
                                 errstr, errstr_size);
        if (!o->http) {
            cdc_observe_destroy(o);
            return NULL;
        }
        cdc_log_info("serving /metrics, /healthz, /readyz on %s (port %d)",
                     listen, cdc_http_port(o->http));
    }
    return o;
}

void cdc_observe_destroy(cdc_observe_t *o)
{
    if (!o) return;
    cdc_http_stop(o->http);
    cdc_health_destroy(o->health);
    cdc_metrics_destroy(o->metrics);
    for (size_t i = 0; i < o->nparts; i++) free(o->parts[i].topic);
    free(o->parts);
    free(o);
}

cdc_metrics_t *cdc_observe_metrics(cdc_observe_t *o) { return o->metrics; }

int cdc_observe_http_port(const cdc_observe_t *o)
{
    return o->http ? cdc_http_port(o->http) : 0;
}

static observed_partition_t *find_part(cdc_observe_t *o, const char *topic,
                                       int32_t partition, bool create)
{
    for (size_t i = 0; i < o->nparts; i++)
        if (o->parts[i].partition == partition && strcmp(o->parts[i].topic, topic) == 0)
            return &o->parts[i];
    if (!create) return NULL;
    observed_partition_t *parts =
        cdc_grow(o->parts, o->nparts, &o->capacity, sizeof *parts, 16);
    if (!parts) return NULL;
    o->parts = parts;
    observed_partition_t *p = &o->parts[o->nparts++];
    p->topic = strdup(topic);
    p->partition = partition;
    p->next_offset = -1;
    return p;
}

void cdc_observe_consumed(cdc_observe_t *o, const char *topic, int32_t partition)
{
    cdc_metrics_add(o->metrics, CDC_METRIC_CONSUMED, topic, partition, NULL, 1);
}

void cdc_observe_commit_failed(cdc_observe_t *o, const char *topic, int32_t partition)
{
    cdc_metrics_add(o->metrics, CDC_METRIC_COMMIT_FAILED, topic, partition, NULL, 1);
}

void cdc_observe_applied(cdc_observe_t *o, const cdc_event_t *ev)
{
    cdc_metrics_add(o->metrics, CDC_METRIC_APPLIED, ev->topic, ev->partition,
                    cdc_op_name(ev->op), 1);
    if (ev->source_ts_ms > 0)
        cdc_metrics_applied_ts(o->metrics, ev->topic, ev->partition,
                               ev->source_ts_ms);
}

void cdc_observe_outcome(cdc_observe_t *o, const char *topic, int32_t partition,
                         cdc_metric_t metric, const char *label)
{
    cdc_metrics_add(o->metrics, metric, topic, partition, label, 1);
}

void cdc_observe_retry(cdc_observe_t *o, const char *what)
{
    cdc_metrics_retry(o->metrics, what);
}

void cdc_observe_batch(cdc_observe_t *o, double seconds)
{
    cdc_metrics_observe_batch(o->metrics, seconds);
}

void cdc_observe_sink_ok(cdc_observe_t *o, bool ok)
{
    cdc_health_set_sink_ok(o->health, ok);
}

void cdc_observe_stored(cdc_observe_t *o, const char *topic, int32_t partition,
                        int64_t next_offset)
{
    observed_partition_t *p = find_part(o, topic, partition, true);
    if (p) p->next_offset = next_offset;
}

void cdc_observe_assigned(cdc_observe_t *o, rd_kafka_t *rk,
                          const rd_kafka_topic_partition_list_t *parts)
{
    rd_kafka_topic_partition_list_t *copy = rd_kafka_topic_partition_list_copy(parts);
    /* One broker round trip per rebalance: where the group stands. */
    if (rd_kafka_committed(rk, copy, 5000) != RD_KAFKA_RESP_ERR_NO_ERROR)
        cdc_log_debug("committed offsets unknown after assignment");
    for (int i = 0; i < copy->cnt; i++) {
        observed_partition_t *p =
            find_part(o, copy->elems[i].topic, copy->elems[i].partition, true);
        if (p) p->next_offset = copy->elems[i].offset >= 0 ? copy->elems[i].offset : -1;
    }
    rd_kafka_topic_partition_list_destroy(copy);
}

void cdc_observe_revoked(cdc_observe_t *o,
                         const rd_kafka_topic_partition_list_t *parts)
{
    for (int i = 0; i < parts->cnt; i++) {
        const rd_kafka_topic_partition_t *tp = &parts->elems[i];
        cdc_metrics_forget_partition(o->metrics, tp->topic, tp->partition);
        observed_partition_t *p = find_part(o, tp->topic, tp->partition, false);
        if (!p) continue;
        free(p->topic);
        *p = o->parts[--o->nparts];
    }
}

void cdc_observe_tick(cdc_observe_t *o, rd_kafka_t *rk, int assigned)
{
    cdc_health_heartbeat(o->health);
    cdc_health_set_assigned(o->health, assigned);
    for (size_t i = 0; i < o->nparts; i++) {
        observed_partition_t *p = &o->parts[i];
        int64_t low = 0, high = 0;
        /* Cached by librdkafka from fetch responses: no broker call. */
        if (rd_kafka_get_watermark_offsets(rk, p->topic, p->partition, &low,
                                           &high) != RD_KAFKA_RESP_ERR_NO_ERROR ||
            high < 0)
            continue;
        int64_t from = p->next_offset >= 0 ? p->next_offset : low;
        cdc_metrics_set_lag(o->metrics, p->topic, p->partition,
                            high > from ? high - from : 0);
    }
}
