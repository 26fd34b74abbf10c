/* reproduce — produces an existing Kafka record again, byte for byte.
 *
 * Usage: reproduce BROKERS TOPIC PARTITION OFFSET
 * Reads the record at TOPIC [PARTITION] @OFFSET and appends an identical
 * copy (key, value, null value for a tombstone) to the same partition. The
 * integration tests use it to deliver an old change again after newer ones:
 * out-of-order and resurrection attempts with the real Debezium bytes,
 * which kcat cannot do for keys that hold NUL bytes. */
#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>

static rd_kafka_t *client(rd_kafka_type_t type, const char *brokers)
{
    char err[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    if (rd_kafka_conf_set(conf, "bootstrap.servers", brokers, err, sizeof err) ||
        (type == RD_KAFKA_CONSUMER &&
         (rd_kafka_conf_set(conf, "group.id", "cdcsink-test-reproduce", err, sizeof err) ||
          rd_kafka_conf_set(conf, "enable.auto.commit", "false", err, sizeof err)))) {
        fprintf(stderr, "reproduce: %s\n", err);
        return NULL;
    }
    rd_kafka_t *rk = rd_kafka_new(type, conf, err, sizeof err);
    if (!rk) fprintf(stderr, "reproduce: %s\n", err);
    return rk;
}

int main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: reproduce BROKERS TOPIC PARTITION OFFSET\n");
        return 2;
    }
    int32_t partition = atoi(argv[3]);
    int64_t offset = atoll(argv[4]);
    rd_kafka_t *consumer = client(RD_KAFKA_CONSUMER, argv[1]);
    rd_kafka_t *producer = client(RD_KAFKA_PRODUCER, argv[1]);
    if (!consumer || !producer) return 1;
    rd_kafka_topic_partition_list_t *tp = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(tp, argv[2], partition)->offset = offset;
    rd_kafka_assign(consumer, tp);
    rd_kafka_topic_partition_list_destroy(tp);
    rd_kafka_message_t *m = NULL;
    for (int i = 0; i < 100 && !m; i++) {
        m = rd_kafka_consumer_poll(consumer, 100);
        if (m && m->err) {
            rd_kafka_message_destroy(m);
            m = NULL;
        }
    }
    if (!m || m->offset != offset) {
        fprintf(stderr, "reproduce: no record at %s [%d] @%lld\n", argv[2],
                partition, (long long)offset);
        return 1;
    }
    rd_kafka_resp_err_t err = rd_kafka_producev(
        producer, RD_KAFKA_V_TOPIC(argv[2]), RD_KAFKA_V_PARTITION(partition),
        RD_KAFKA_V_KEY(m->key, m->key_len), RD_KAFKA_V_VALUE(m->payload, m->len),
        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
    rd_kafka_message_destroy(m);
    if (err || rd_kafka_flush(producer, 10000)) {
        fprintf(stderr, "reproduce: produce failed: %s\n", rd_kafka_err2str(err));
        return 1;
    }
    rd_kafka_consumer_close(consumer);
    rd_kafka_destroy(consumer);
    rd_kafka_destroy(producer);
    return 0;
}
