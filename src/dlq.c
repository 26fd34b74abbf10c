#include "dlq.h"

#include <librdkafka/rdkafka.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "consumer.h"
#include "errstr.h"
#include "log.h"

struct cdc_dlq {
    rd_kafka_t *rk;
    char *topic;
    char *pipeline;
    char *sink;
    int failed; /* delivery failures since the last wait */
};

/* librdkafka's text, or for a record the broker finds too large what to
 * change: the record is kept (retried), never cut or dropped. */
static const char *dlq_error_text(rd_kafka_resp_err_t err, bool local)
{
    if (err == RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE && local)
        return "Message size too large: the record is larger than the DLQ "
               "producer's kafka.message.max.bytes; raise it";
    if (err == RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE)
        return "Broker: Message size too large: the record is larger than the DLQ "
               "topic's max.message.bytes; raise it (kafka-configs.sh --alter "
               "--entity-type topics --add-config max.message.bytes=...)";
    return rd_kafka_err2str(err);
}

static void dlq_delivery_cb(rd_kafka_t *rk, const rd_kafka_message_t *m,
                            void *opaque)
{
    (void)rk;
    cdc_dlq_t *dlq = opaque;
    cdc_dlq_record_t *rec = m->_private;
    if (!rec) return;
    if (m->err) {
        rec->state = CDC_DLQ_FAILED;
        rec->error = dlq_error_text(m->err, false);
        dlq->failed++;
    } else {
        rec->state = CDC_DLQ_DELIVERED;
    }
}

cdc_dlq_t *cdc_dlq_new(const cdc_config_t *cfg, char *errstr,
                       size_t errstr_size)
{
    rd_kafka_conf_t *conf = cdc_consumer_kafka_conf(cfg, errstr, errstr_size);
    if (!conf) return NULL;
    cdc_dlq_t *dlq = calloc(1, sizeof *dlq);
    if (!dlq) {
        rd_kafka_conf_destroy(conf);
        cdc_errstr_set(errstr, errstr_size, "out of memory");
        return NULL;
    }
    const char *settings[][2] = {
        {"enable.idempotence", "true"},
        {"acks", "all"},
        {"linger.ms", "5"},
        /* A delivery that cannot finish turns into a FAILED state well
         * before the pipeline's own retry timeout, so it can send again. */
        {"message.timeout.ms", "30000"},
        /* Whatever the consumer could fetch must fit (librdkafka's own
         * limit is 1,000,000 bytes by default, below the broker's): the
         * DLQ topic's max.message.bytes is then the only limit, and the
         * broker's refusal names it. kafka.message.max.bytes overrides. */
        {"message.max.bytes", "1000000000"},
    };
    char why[512];
    for (size_t i = 0; i < sizeof settings / sizeof settings[0]; i++) {
        if (cdc_config_kafka_given(cfg, settings[i][0]) &&
            strcmp(settings[i][0], "message.max.bytes") == 0)
            continue;
        if (rd_kafka_conf_set(conf, settings[i][0], settings[i][1], why,
                              sizeof why) != RD_KAFKA_CONF_OK) {
            cdc_errstr_set(errstr, errstr_size, "DLQ producer: %s", why);
            rd_kafka_conf_destroy(conf);
            free(dlq);
            return NULL;
        }
    }
    rd_kafka_conf_set_opaque(conf, dlq);
    rd_kafka_conf_set_dr_msg_cb(conf, dlq_delivery_cb);
    dlq->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, why, sizeof why);
    if (!dlq->rk) {
        rd_kafka_conf_destroy(conf);
        free(dlq);
        cdc_errstr_set(errstr, errstr_size, "DLQ producer: %s", why);
        return NULL;
    }
    const cdc_settings_t *set = cdc_config_settings(cfg);
    dlq->topic = strdup(set->errors_deadletterqueue_topic_name);
    dlq->pipeline = strdup(set->name);
    dlq->sink = strdup(set->sink);
    if (!dlq->topic || !dlq->pipeline || !dlq->sink) {
        cdc_dlq_destroy(dlq); /* nothing produced yet: closes at once */
        cdc_errstr_set(errstr, errstr_size, "out of memory");
        return NULL;
    }
    return dlq;
}

void cdc_dlq_destroy(cdc_dlq_t *dlq)
{
    if (!dlq) return;
    /* Anything still queued is purged so its delivery report (FAILED) runs
     * now, while the records it points at still exist. */
    rd_kafka_flush(dlq->rk, 5000);
    rd_kafka_purge(dlq->rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
    rd_kafka_poll(dlq->rk, 0);
    rd_kafka_destroy(dlq->rk);
    free(dlq->topic);
    free(dlq->pipeline);
    free(dlq->sink);
    free(dlq);
}

static void header_add(rd_kafka_headers_t *h, const char *name,
                       const char *value)
{
    rd_kafka_header_add(h, name, -1, value ? value : "", -1);
}

static rd_kafka_headers_t *dlq_headers(const cdc_dlq_t *dlq,
                                       const cdc_dlq_record_t *rec)
{
    rd_kafka_headers_t *h = rd_kafka_headers_new(12);
    char num[32];
    header_add(h, "__connect.errors.topic", rec->topic);
    snprintf(num, sizeof num, "%d", rec->partition);
    header_add(h, "__connect.errors.partition", num);
    snprintf(num, sizeof num, "%lld", (long long)rec->offset);
    header_add(h, "__connect.errors.offset", num);
    header_add(h, "__connect.errors.exception.class.name", rec->exception_name);
    header_add(h, "__connect.errors.exception.message", rec->message);
    header_add(h, "cdcsink.error.class", rec->error_class);
    header_add(h, "cdcsink.pipeline", dlq->pipeline);
    header_add(h, "cdcsink.sink", dlq->sink);
    time_t now = time(NULL);
    struct tm tm;
    char when[32];
    gmtime_r(&now, &tm);
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
    header_add(h, "cdcsink.failed.at", when);
    if (rec->has_snapshot_lsn) {
        snprintf(num, sizeof num, "%lld", (long long)rec->snapshot_lsn);
        header_add(h, "cdcsink.snapshot.lsn", num);
    }
    if (rec->replay_attempts > 0) {
        snprintf(num, sizeof num, "%d", rec->replay_attempts);
        header_add(h, "cdcsink.replay.attempts", num);
    }
    return h;
}

int cdc_dlq_send(cdc_dlq_t *dlq, cdc_dlq_record_t *rec)
{
    rec->state = CDC_DLQ_PENDING;
    rec->error = NULL;
    rd_kafka_headers_t *h = dlq_headers(dlq, rec);
    /* Partitioned by the original key (librdkafka's partitioner): the
     * records of one key stay in order in one DLQ partition, whatever the
     * DLQ's partition count. The original partition is in the
     * __connect.errors.partition header, which a replay routes by. */
    rd_kafka_resp_err_t err = rd_kafka_producev(
        dlq->rk, RD_KAFKA_V_TOPIC(dlq->topic),
        RD_KAFKA_V_KEY((void *)rec->key, rec->key_len),
        RD_KAFKA_V_VALUE((void *)rec->value, rec->value_len),
        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_HEADERS(h),
        RD_KAFKA_V_OPAQUE(rec), RD_KAFKA_V_END);
    if (err) {
        rd_kafka_headers_destroy(h); /* ownership moves only on success */
        rec->state = CDC_DLQ_FAILED;
        rec->error = dlq_error_text(err, true);
        return -1;
    }
    return 0;
}

int cdc_dlq_wait(cdc_dlq_t *dlq, int timeout_ms)
{
    rd_kafka_resp_err_t err = rd_kafka_flush(dlq->rk, timeout_ms);
    int failed = dlq->failed;
    dlq->failed = 0;
    if (err) {
        cdc_log_warn("DLQ %s: deliveries still pending after %d ms",
                     dlq->topic, timeout_ms);
        return -1;
    }
    return failed ? -1 : 0;
}

const char *cdc_dlq_topic(const cdc_dlq_t *dlq) { return dlq->topic; }
