/* consumer — the Kafka consumer group member, commits owned by us.
 *
 * Wraps librdkafka with the settings cdcsink depends on: auto commit and
 * auto offset store off, cooperative-sticky assignment by default (eager
 * strategies work too), and a rebalance callback that commits what is
 * stored before partitions go away and tells the pipeline which partitions
 * it lost so it can abandon their in-flight records. */
#ifndef CDC_CONSUMER_H
#define CDC_CONSUMER_H

#include <librdkafka/rdkafka.h>
#include <stdbool.h>
#include <stddef.h>

#include "config.h"

typedef struct cdc_consumer cdc_consumer_t;

/* Called from inside cdc_consumer_poll(): after partitions are assigned
 * (assigned = true), and when they are revoked or lost, before they are
 * unassigned (assigned = false). */
typedef void(cdc_consumer_rebalance_cb_t)(
    rd_kafka_t *rk, bool assigned,
    const rd_kafka_topic_partition_list_t *partitions, void *opaque);

/* What a consumer other than the pipeline's reads (`dlq replay`). */
typedef struct cdc_consumer_options {
    const char *group_id; /* NULL: the config's group.id */
    const char *topic;    /* NULL: the config's topics or topics.regex */
    /* Called from inside cdc_consumer_poll() when a partition's end is
     * reached (NULL: ends are not reported). */
    void (*on_eof)(void *opaque, const char *topic, int32_t partition);
} cdc_consumer_options_t;

/* opts NULL: the pipeline's consumer of cfg's topics in cfg's group.
 * on_rebalance and on_eof get `opaque`. */
cdc_consumer_t *cdc_consumer_new(const cdc_config_t *cfg,
                                 const cdc_consumer_options_t *opts,
                                 cdc_consumer_rebalance_cb_t *on_rebalance,
                                 void *opaque, char *errstr,
                                 size_t errstr_size);
/* Leaves the group (after the caller committed) and frees. */
void cdc_consumer_destroy(cdc_consumer_t *consumer);

/* The next message or NULL after timeout_ms. Errors that are events, not
 * messages (broker down...), are logged and NULL is returned; a fatal
 * consumer error sets *fatal. The caller destroys the message. */
rd_kafka_message_t *cdc_consumer_poll(cdc_consumer_t *consumer, int timeout_ms,
                                      bool *fatal);

/* Pauses or resumes every partition currently assigned. */
void cdc_consumer_pause_all(cdc_consumer_t *consumer, bool pause);

/* Pauses or resumes one partition. */
void cdc_consumer_pause_one(cdc_consumer_t *consumer, const char *topic,
                            int32_t partition, bool pause);

/* The partitions assigned now (the caller destroys the list), or NULL. */
rd_kafka_topic_partition_list_t *cdc_consumer_assignment(cdc_consumer_t *consumer);

/* Marks offset (the next one to read) of a partition for the next commit,
 * with the commit's metadata text (NULL: none). */
int cdc_consumer_store(cdc_consumer_t *consumer, const char *topic,
                       int32_t partition, int64_t next_offset, const char *metadata);

/* The committed offsets' metadata of parts: calls found(topic, partition,
 * metadata) for each partition that has some. -1 when the coordinator does
 * not answer within timeout_ms. */
int cdc_consumer_committed_metadata(cdc_consumer_t *consumer,
                                    const rd_kafka_topic_partition_list_t *parts,
                                    int timeout_ms,
                                    void (*found)(void *opaque, const char *topic,
                                                  int32_t partition, const char *metadata),
                                    void *opaque);

/* Commits what is stored; sync waits for the broker's answer. */
int cdc_consumer_commit(cdc_consumer_t *consumer, bool sync);

/* Called (with the consumer's opaque) once for each partition whose commit
 * the broker refused or that failed, when librdkafka serves the answer:
 * from inside cdc_consumer_poll() or the consumer's close, also for a
 * synchronous commit (whose failure cdc_consumer_commit returns at once).
 * Every such failure is also logged with the topic, the partition and the
 * offset. The offset stays stored and goes out with the next commit. */
typedef void(cdc_consumer_commit_failed_cb_t)(void *opaque, const char *topic,
                                              int32_t partition, const char *reason);
void cdc_consumer_on_commit_failed(cdc_consumer_t *consumer,
                                   cdc_consumer_commit_failed_cb_t *cb);

/* Partition commits that failed so far (answers served so far). */
unsigned long cdc_consumer_commit_failures(const cdc_consumer_t *consumer);

rd_kafka_t *cdc_consumer_handle(cdc_consumer_t *consumer);


/* Number of partitions assigned to us now. */
int cdc_consumer_assigned_count(cdc_consumer_t *consumer);

/* Shared with the DLQ producer: a librdkafka conf from the kafka.* keys. */
rd_kafka_conf_t *cdc_consumer_kafka_conf(const cdc_config_t *cfg, char *errstr,
                                         size_t errstr_size);

#endif
