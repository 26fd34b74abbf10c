/* produce — sends records whose key and value bytes come from files.
 *
 * Usage: produce BROKERS TOPIC PARTITION KEYFILE VALUEFILE [KEYFILE VALUEFILE ...]
 * Each pair is one record, in order, to TOPIC [PARTITION]; `-` for a null
 * key or a null value (a tombstone). The integration tests use it for
 * records Debezium cannot make (tests/tools/hostile.py writes their
 * Confluent-framed Avro bytes): keys with NUL bytes and records of many
 * MiB, which kcat cannot send. Its own size limit is librdkafka's largest,
 * so only the broker's (the topic's max.message.bytes) applies. */
#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The whole file in *data (NULL for "-"); -1 when it cannot be read. */
static int read_all(const char *path, char **data, size_t *len)
{
    *data = NULL;
    *len = 0;
    if (strcmp(path, "-") == 0) return 0;
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        return -1;
    }
    size_t cap = 1 << 16;
    char *buf = malloc(cap);
    size_t n;
    while (buf && (n = fread(buf + *len, 1, cap - *len, f)) > 0) {
        *len += n;
        if (*len == cap) {
            char *grown = realloc(buf, cap * 2);
            if (!grown) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = grown;
            cap *= 2;
        }
    }
    fclose(f);
    if (!buf) {
        fprintf(stderr, "produce: %s: out of memory\n", path);
        return -1;
    }
    *data = buf;
    return 0;
}

static int delivery_failed;

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    (void)rk;
    (void)opaque;
    if (m->err) {
        fprintf(stderr, "produce: delivery of %zu bytes failed: %s\n", m->len,
                rd_kafka_err2str(m->err));
        delivery_failed = 1;
    }
}

int main(int argc, char **argv)
{
    if (argc < 6 || (argc - 4) % 2 != 0) {
        fprintf(stderr, "usage: produce BROKERS TOPIC PARTITION KEYFILE VALUEFILE "
                        "[KEYFILE VALUEFILE ...]\n");
        return 2;
    }
    char err[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    if (rd_kafka_conf_set(conf, "bootstrap.servers", argv[1], err, sizeof err) ||
        rd_kafka_conf_set(conf, "message.max.bytes", "1000000000", err, sizeof err) ||
        rd_kafka_conf_set(conf, "enable.idempotence", "true", err, sizeof err)) {
        fprintf(stderr, "produce: %s\n", err);
        return 1;
    }
    rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    if (!rk) {
        fprintf(stderr, "produce: %s\n", err);
        return 1;
    }
    int32_t partition = atoi(argv[3]);
    int rc = 0;
    for (int i = 4; i + 1 < argc && rc == 0; i += 2) {
        char *key, *value;
        size_t key_len, value_len;
        if (read_all(argv[i], &key, &key_len) != 0 ||
            read_all(argv[i + 1], &value, &value_len) != 0)
            return 1;
        rd_kafka_resp_err_t e = rd_kafka_producev(
            rk, RD_KAFKA_V_TOPIC(argv[2]), RD_KAFKA_V_PARTITION(partition),
            RD_KAFKA_V_KEY(key, key_len), RD_KAFKA_V_VALUE(value, value_len),
            RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
        if (e) {
            fprintf(stderr, "produce: %s: %s\n", argv[i + 1], rd_kafka_err2str(e));
            rc = 1;
        }
        free(key);
        free(value);
        /* In order: one record at a time is plenty for a test. */
        if (rd_kafka_flush(rk, 30000) != RD_KAFKA_RESP_ERR_NO_ERROR) {
            fprintf(stderr, "produce: %s: not delivered within 30 s\n", argv[i + 1]);
            rc = 1;
        }
        if (delivery_failed) rc = 1;
    }
    rd_kafka_destroy(rk);
    return rc;
}
