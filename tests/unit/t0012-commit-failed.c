/* t0012 — a commit the broker refuses is reported, not lost in silence.
 *
 * A real broker refuses an offset commit only in states a test cannot
 * bring about on demand (a coordinator moving, a generation fenced in the
 * middle of a rebalance), so this uses librdkafka's mock cluster, which
 * answers the next OffsetCommit requests with the errors pushed to it.
 * The consumer under test is cdcsink's own (src/consumer.c), built from a
 * pipeline file that points at the mock cluster:
 * - an asynchronous commit answered OFFSET_METADATA_TOO_LARGE (an error
 *   librdkafka does not retry by itself, unlike NOT_COORDINATOR), then a
 *   synchronous one answered INVALID_COMMIT_OFFSET_SIZE (errors of the
 *   commit itself: a group error such as REBALANCE_IN_PROGRESS makes some
 *   librdkafka versions rejoin): each calls the hook once per partition,
 *   with the topic and partition, and is counted;
 * - the stored offset is not lost: the next commit, not refused, sends it,
 *   and the group's committed offset is the one stored;
 * - the same error again within 10 s is counted and reported to the hook,
 *   but not logged again (a broker outage fails every commit the same
 *   way); the next line says how many it stands for;
 * - the topic has a second partition, empty, so nothing is ever stored for
 *   it: a failed request lists it with offset INVALID, and it is neither
 *   logged nor counted (no commit of its failed). */
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "consumer.h"
#include "log.h"
#include "sink.h"
#include "unit.h"

/* The ApiKey of OffsetCommit in the Kafka protocol (librdkafka's own name
 * for it is in a header it does not install). */
#define KAFKA_API_OFFSET_COMMIT 8
#define TOPIC "orders"
#define RECORDS 10

typedef struct seen {
    int calls;
    char topic[64];
    int32_t partition;
    char reason[128];
} seen_t;

static void on_failed(void *opaque, const char *topic, int32_t partition, const char *reason)
{
    seen_t *s = opaque;
    s->calls++;
    snprintf(s->topic, sizeof s->topic, "%s", topic);
    s->partition = partition;
    snprintf(s->reason, sizeof s->reason, "%s", reason);
}

/* A producer whose mock cluster holds TOPIC (two partitions) with RECORDS
 * records in partition 0; the caller destroys the producer, which ends the
 * cluster. */
static rd_kafka_t *mock_cluster_with_records(rd_kafka_mock_cluster_t **mc)
{
    char err[256];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "log_level", "3", err, sizeof err);
    rd_kafka_t *producer = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    if (!producer) return NULL;
    *mc = rd_kafka_mock_cluster_new(producer, 1);
    if (!*mc) return producer;
    rd_kafka_mock_topic_create(*mc, TOPIC, 2, 1);
    rd_kafka_conf_t *pconf = rd_kafka_conf_new();
    rd_kafka_conf_set(pconf, "bootstrap.servers", rd_kafka_mock_cluster_bootstraps(*mc), err,
                      sizeof err);
    rd_kafka_t *writer = rd_kafka_new(RD_KAFKA_PRODUCER, pconf, err, sizeof err);
    for (int i = 0; writer && i < RECORDS; i++) {
        char v[16];
        snprintf(v, sizeof v, "v%d", i);
        rd_kafka_producev(writer, RD_KAFKA_V_TOPIC(TOPIC), RD_KAFKA_V_PARTITION(0),
                          RD_KAFKA_V_VALUE(v, strlen(v)), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                          RD_KAFKA_V_END);
    }
    if (writer) {
        rd_kafka_flush(writer, 10000);
        rd_kafka_destroy(writer);
    }
    return producer;
}

/* Polls until `n` records were read (their offsets stored) or 10 s. */
static int read_records(cdc_consumer_t *c, int n)
{
    int got = 0;
    bool fatal = false;
    for (int i = 0; i < 200 && got < n && !fatal; i++) {
        rd_kafka_message_t *m = cdc_consumer_poll(c, 50, &fatal);
        if (!m) continue;
        if (!m->err) {
            cdc_consumer_store(c, rd_kafka_topic_name(m->rkt), m->partition, m->offset + 1, NULL);
            got++;
        }
        rd_kafka_message_destroy(m);
    }
    return got;
}

/* Polls for a while, so that commit answers are served. */
static void serve(cdc_consumer_t *c, int ms)
{
    bool fatal = false;
    for (int waited = 0; waited < ms; waited += 50) {
        rd_kafka_message_t *m = cdc_consumer_poll(c, 50, &fatal);
        if (m) rd_kafka_message_destroy(m);
    }
}

/* A synchronous commit the mock refuses with `err`; what was logged
 * meanwhile is in `logged`. */
static void refused_commit_logged(cdc_consumer_t *c, rd_kafka_mock_cluster_t *mc,
                                  rd_kafka_resp_err_t err, char *logged, size_t size)
{
    fflush(stderr);
    int saved = dup(2);
    FILE *capture = tmpfile();
    if (saved < 0 || !capture) {
        logged[0] = '\0';
        return;
    }
    dup2(fileno(capture), 2);
    rd_kafka_mock_push_request_errors(mc, KAFKA_API_OFFSET_COMMIT, 1, err);
    CHECK(cdc_consumer_commit(c, true) != 0);
    serve(c, 200);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    rewind(capture);
    size_t n = fread(logged, 1, size - 1, capture);
    logged[n] = '\0';
    fclose(capture);
    fputs(logged, stderr);
}

static int64_t committed(cdc_consumer_t *c)
{
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(l, TOPIC, 0);
    int64_t off = -1;
    if (rd_kafka_committed(cdc_consumer_handle(c), l, 5000) == RD_KAFKA_RESP_ERR_NO_ERROR)
        off = l->elems[0].offset;
    rd_kafka_topic_partition_list_destroy(l);
    return off;
}

int main(void)
{
    cdc_log_setup(CDC_LOG_WARN, CDC_LOG_FORMAT_LOGFMT, "t0012"); /* shows the failures' lines */
    rd_kafka_mock_cluster_t *mc = NULL;
    rd_kafka_t *owner = mock_cluster_with_records(&mc);
    CHECK(owner && mc);
    if (!owner || !mc) {
        if (mc) rd_kafka_mock_cluster_destroy(mc);
        if (owner) rd_kafka_destroy(owner);
        return unit_finish("t0012-commit-failed");
    }

    char text[1024], err[512];
    snprintf(text, sizeof text,
             "name = orders\nsink = jsonl\ntopics = " TOPIC "\n"
             "schema.registry.url = http://127.0.0.1:9\n"
             "kafka.bootstrap.servers = %s\n",
             rd_kafka_mock_cluster_bootstraps(mc));
    cdc_config_t *cfg = cdc_config_parse(text, "t0012.properties", cdc_sink_catalog(), err,
                                         sizeof err);
    CHECK(cfg != NULL);
    seen_t seen = {0};
    cdc_consumer_t *c = cfg ? cdc_consumer_new(cfg, NULL, NULL, &seen, err, sizeof err) : NULL;
    CHECK(c != NULL);
    if (!c) {
        fprintf(stderr, "consumer: %s\n", err);
        cdc_config_destroy(cfg);
        rd_kafka_mock_cluster_destroy(mc);
        rd_kafka_destroy(owner);
        return unit_finish("t0012-commit-failed");
    }
    cdc_consumer_on_commit_failed(c, on_failed);
    CHECK_INT(read_records(c, RECORDS), RECORDS);

    /* Asynchronous: the answer arrives through poll. */
    rd_kafka_mock_push_request_errors(mc, KAFKA_API_OFFSET_COMMIT, 1,
                                      RD_KAFKA_RESP_ERR_OFFSET_METADATA_TOO_LARGE);
    CHECK_INT(cdc_consumer_commit(c, false), 0);
    serve(c, 1000);
    CHECK_INT(seen.calls, 1);
    CHECK_STR(seen.topic, TOPIC);
    CHECK_INT(seen.partition, 0);
    CHECK(strstr(seen.reason, "metadata") != NULL);
    CHECK_INT(cdc_consumer_commit_failures(c), 1);

    /* Synchronous: failed, and reported the same way. */
    rd_kafka_mock_push_request_errors(mc, KAFKA_API_OFFSET_COMMIT, 1,
                                      RD_KAFKA_RESP_ERR_INVALID_COMMIT_OFFSET_SIZE);
    CHECK(cdc_consumer_commit(c, true) != 0);
    serve(c, 200);
    CHECK_INT(seen.calls, 2);
    CHECK(strstr(seen.reason, "size is not valid") != NULL);
    CHECK_INT(cdc_consumer_commit_failures(c), 2);

    /* The same error at once again: counted, not logged. Another error is
     * logged, with the one left out. */
    char logged[2048];
    refused_commit_logged(c, mc, RD_KAFKA_RESP_ERR_INVALID_COMMIT_OFFSET_SIZE, logged,
                          sizeof logged);
    CHECK_INT(seen.calls, 3);
    CHECK_INT(cdc_consumer_commit_failures(c), 3);
    CHECK(strstr(logged, "commit of offset") == NULL);
    refused_commit_logged(c, mc, RD_KAFKA_RESP_ERR_OFFSET_METADATA_TOO_LARGE, logged,
                          sizeof logged);
    CHECK_INT(seen.calls, 4);
    CHECK(strstr(logged, "orders [0]: commit of offset 10 failed: Broker: Offset metadata") != NULL);
    CHECK(strstr(logged, "; 1 more failed since the last line like it") != NULL);

    /* Nothing lost: the stored offset goes out with the next commit. */
    CHECK(committed(c) < RECORDS);
    CHECK_INT(cdc_consumer_commit(c, true), 0);
    serve(c, 200);
    CHECK_INT(committed(c), RECORDS);
    CHECK_INT(seen.calls, 4);

    cdc_consumer_destroy(c);
    cdc_config_destroy(cfg);
    rd_kafka_mock_cluster_destroy(mc);
    rd_kafka_destroy(owner);
    return unit_finish("t0012-commit-failed");
}
