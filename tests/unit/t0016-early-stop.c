/* t0016 — a consumer stopped before its first assignment leaves cleanly.
 *
 * librdkafka before 2.3.0 aborts when a cooperative-sticky member is
 * destroyed after its JoinGroup answer chose the assignor and before the
 * first assignment set the assignor's state ("rd_kafka_sticky_assignor_
 * state_destroy: Assertion `assignor_state' failed", librdkafka#4312). The
 * chaos suite met it: a replica SIGTERM'd while its group was still
 * rebalancing. A real broker holds a member in that window only by chance,
 * so this uses librdkafka's mock cluster: its SyncGroup answers are set to
 * REBALANCE_IN_PROGRESS a number of times, so the member joins (the
 * protocol is chosen) again and again without an assignment. Then it is
 * destroyed:
 * - it is in the window: no assignment yet, the protocol COOPERATIVE;
 * - cdc_consumer_destroy() returns (the consumer leaves its group) instead
 *   of aborting the process, and at once. cdcsink now links librdkafka 2.8,
 *   where #4312 is fixed; this keeps a librdkafka that regresses out. */
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "consumer.h"
#include "log.h"
#include "sink.h"
#include "unit.h"

/* The ApiKey of SyncGroup in the Kafka protocol. */
#define KAFKA_API_SYNC_GROUP 14
#define TOPIC "orders"

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int main(void)
{
    cdc_log_setup(CDC_LOG_INFO, CDC_LOG_FORMAT_LOGFMT, "t0016");
    char err[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "log_level", "3", err, sizeof err);
    rd_kafka_t *owner = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    CHECK(owner != NULL);
    rd_kafka_mock_cluster_t *mc = owner ? rd_kafka_mock_cluster_new(owner, 1) : NULL;
    CHECK(mc != NULL);
    if (!mc) {
        if (owner) rd_kafka_destroy(owner);
        return unit_finish("t0016-early-stop");
    }
    rd_kafka_mock_topic_create(mc, TOPIC, 3, 1);
    /* Every SyncGroup refused for a while: joined, never assigned. */
    rd_kafka_mock_push_request_errors(mc, KAFKA_API_SYNC_GROUP, 3,
                                      RD_KAFKA_RESP_ERR_REBALANCE_IN_PROGRESS);

    char text[1024];
    snprintf(text, sizeof text,
             "name = orders\nsink = jsonl\ntopics = " TOPIC "\n"
             "schema.registry.url = http://127.0.0.1:9\n"
             "kafka.bootstrap.servers = %s\n",
             rd_kafka_mock_cluster_bootstraps(mc));
    cdc_config_t *cfg = cdc_config_parse(text, "t0016.properties", cdc_sink_catalog(), err,
                                         sizeof err);
    CHECK(cfg != NULL);
    cdc_consumer_t *c = cfg ? cdc_consumer_new(cfg, NULL, NULL, NULL, err, sizeof err) : NULL;
    CHECK(c != NULL);
    if (!c) {
        fprintf(stderr, "consumer: %s\n", err);
        cdc_config_destroy(cfg);
        rd_kafka_mock_cluster_destroy(mc);
        rd_kafka_destroy(owner);
        return unit_finish("t0016-early-stop");
    }

    /* Poll until the JoinGroup answer chose the protocol (at most 10 s). */
    bool fatal = false;
    const char *proto = NULL;
    for (int i = 0; i < 200; i++) {
        rd_kafka_message_t *m = cdc_consumer_poll(c, 50, &fatal);
        if (m) rd_kafka_message_destroy(m);
        proto = rd_kafka_rebalance_protocol(cdc_consumer_handle(c));
        if (proto && strcmp(proto, "COOPERATIVE") == 0) break;
    }
    CHECK_STR(proto ? proto : "(none)", "COOPERATIVE");
    CHECK_INT(cdc_consumer_assigned_count(c), 0);

    double started = now_s();
    cdc_consumer_destroy(c); /* aborted here with librdkafka < 2.3.0 */
    double took = now_s() - started;
    fprintf(stderr, "t0016: destroyed in %.1f s\n", took);
    CHECK(took < 10.0);

    cdc_config_destroy(cfg);
    rd_kafka_mock_cluster_destroy(mc);
    rd_kafka_destroy(owner);
    return unit_finish("t0016-early-stop");
}
