/* topic_config — creates a topic with given configs, or sets them later.
 *
 * Usage: topic_config BROKERS create TOPIC PARTITIONS [KEY=VALUE ...]
 *        topic_config BROKERS alter TOPIC KEY=VALUE [...]
 * The integration tests use it to make the broker itself refuse writes
 * (min.insync.replicas above the replicas a one-node cluster has), a fault
 * a real broker produces on demand, then to lift it. */
#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int wait_result(rd_kafka_queue_t *q, const char *what)
{
    rd_kafka_event_t *ev = rd_kafka_queue_poll(q, 15000);
    if (!ev) {
        fprintf(stderr, "topic_config: %s timed out\n", what);
        return 1;
    }
    int rc = 0;
    if (rd_kafka_event_error(ev)) {
        fprintf(stderr, "topic_config: %s: %s\n", what, rd_kafka_event_error_string(ev));
        rc = 1;
    }
    const rd_kafka_CreateTopics_result_t *created = rd_kafka_event_CreateTopics_result(ev);
    if (created) {
        size_t n;
        const rd_kafka_topic_result_t **res = rd_kafka_CreateTopics_result_topics(created, &n);
        for (size_t i = 0; i < n; i++)
            if (rd_kafka_topic_result_error(res[i])) {
                fprintf(stderr, "topic_config: %s: %s\n", what,
                        rd_kafka_topic_result_error_string(res[i]));
                rc = 1;
            }
    }
    const rd_kafka_AlterConfigs_result_t *altered = rd_kafka_event_AlterConfigs_result(ev);
    if (altered) {
        size_t n;
        const rd_kafka_ConfigResource_t **res = rd_kafka_AlterConfigs_result_resources(altered, &n);
        for (size_t i = 0; i < n; i++)
            if (rd_kafka_ConfigResource_error(res[i])) {
                fprintf(stderr, "topic_config: %s: %s\n", what,
                        rd_kafka_ConfigResource_error_string(res[i]));
                rc = 1;
            }
    }
    rd_kafka_event_destroy(ev);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc < 5) {
        fprintf(stderr, "usage: topic_config BROKERS create TOPIC PARTITIONS [K=V ...]\n"
                        "       topic_config BROKERS alter TOPIC K=V [...]\n");
        return 2;
    }
    char err[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "bootstrap.servers", argv[1], err, sizeof err);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    if (!rk) {
        fprintf(stderr, "topic_config: %s\n", err);
        return 1;
    }
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    int rc;
    if (strcmp(argv[2], "create") == 0) {
        rd_kafka_NewTopic_t *t = rd_kafka_NewTopic_new(argv[3], atoi(argv[4]), 1, err, sizeof err);
        for (int i = 5; t && i < argc; i++) {
            char *kv = strdup(argv[i]), *eq = strchr(kv, '=');
            if (eq) {
                *eq = '\0';
                rd_kafka_NewTopic_set_config(t, kv, eq + 1);
            }
            free(kv);
        }
        rd_kafka_CreateTopics(rk, &t, 1, NULL, q);
        rc = wait_result(q, "create");
        rd_kafka_NewTopic_destroy(t);
    } else {
        /* AlterConfigs replaces the topic's whole dynamic config. */
        rd_kafka_ConfigResource_t *res = rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, argv[3]);
        for (int i = 4; i < argc; i++) {
            char *kv = strdup(argv[i]), *eq = strchr(kv, '=');
            if (eq) {
                *eq = '\0';
                rd_kafka_ConfigResource_set_config(res, kv, eq + 1);
            }
            free(kv);
        }
        rd_kafka_AlterConfigs(rk, &res, 1, NULL, q);
        rc = wait_result(q, "alter");
        rd_kafka_ConfigResource_destroy(res);
    }
    rd_kafka_queue_destroy(q);
    rd_kafka_destroy(rk);
    return rc;
}
