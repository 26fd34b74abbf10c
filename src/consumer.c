#include "consumer.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "errstr.h"
#include "log.h"

struct cdc_consumer {
    rd_kafka_t *rk;
    cdc_consumer_rebalance_cb_t *on_rebalance;
    void (*on_eof)(void *opaque, const char *topic, int32_t partition);
    void *opaque;
    int assigned;
    bool paused_all; /* cdc_consumer_pause_all(true) in force (a retry) */
    cdc_consumer_commit_failed_cb_t *on_commit_failed;
    unsigned long commit_failures; /* partitions whose commit failed */
    /* The last commit error logged, when, and the failures since then that
     * were counted but not logged (commit_warn_due). */
    rd_kafka_resp_err_t commit_warned_err;
    int64_t commit_warned_at_ms;
    unsigned long commit_unlogged;
    char fatal_why[768]; /* set by the error callback: stop, this is why */
};

/* librdkafka 2.6.1 or newer; cmake/rdkafka.cmake links 2.8.0, built by
 * ./scripts/deps. Older ones put the client nonce twice into SCRAM's
 * client-final-message, which Kafka 4 brokers reject whatever the password
 * (librdkafka#4895), and abort in rd_kafka_destroy() when a
 * cooperative-sticky member leaves before its first assignment (#4312). */
/* How long a partition whose prefetch queue is full waits before its
 * fetcher looks again (librdkafka's fetch.queue.backoff.ms; consumer_configure). */
#define CDC_CONSUMER_FETCH_QUEUE_BACKOFF_MS "10"

#if RD_KAFKA_VERSION < 0x020601ff
#error "cdcsink needs librdkafka 2.6.1 or newer: ./scripts/deps builds 2.8.0"
#endif

static void consumer_log_cb(const rd_kafka_t *rk, int level, const char *fac,
                            const char *buf)
{
    (void)rk;
    /* kafka.* goes to the DLQ producer too; its consumer keys are noise. */
    if (strcmp(fac, "CONFWARN") == 0 && strstr(buf, "ignored by this producer")) {
        cdc_log_debug("librdkafka %s: %s", fac, buf);
        return;
    }
    cdc_log_level_t l = level <= 3 ? CDC_LOG_ERROR
                        : level <= 5 ? CDC_LOG_WARN
                        : level <= 6 ? CDC_LOG_INFO
                                     : CDC_LOG_DEBUG;
    cdc_log(l, "librdkafka %s: %s", fac, buf);
}

static int conf_set(rd_kafka_conf_t *conf, const char *name, const char *value,
                    char *errstr, size_t errstr_size)
{
    char why[512];
    if (rd_kafka_conf_set(conf, name, value, why, sizeof why) !=
        RD_KAFKA_CONF_OK)
        return cdc_errstr_set(errstr, errstr_size, "kafka.%s: %s", name, why);
    return 0;
}

rd_kafka_conf_t *cdc_consumer_kafka_conf(const cdc_config_t *cfg, char *errstr,
                                         size_t errstr_size)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set_log_cb(conf, consumer_log_cb);
    for (size_t i = 0; i < cdc_config_kafka_count(cfg); i++) {
        const char *name, *value;
        cdc_config_kafka_at(cfg, i, &name, &value);
        char why[512];
        /* librdkafka's message names the property, never its value. */
        if (rd_kafka_conf_set(conf, name, value, why, sizeof why) !=
            RD_KAFKA_CONF_OK) {
            cdc_errstr_set(errstr, errstr_size, "%s:%d: kafka.%s: %s",
                           cdc_config_origin(cfg),
                           cdc_config_kafka_line(cfg, i), name, why);
            rd_kafka_conf_destroy(conf);
            return NULL;
        }
    }
    return conf;
}

/* Credentials the broker refused or a CA that does not match never start
 * to work by themselves: those stop the consumer (docs/semantics.md: bad
 * credentials are fatal). Other authentication trouble (an OAUTHBEARER
 * token its issuer did not hand out yet) is retried; so is a disconnect
 * during the TLS handshake (__TRANSPORT, not __SSL) and everything else
 * (broker down, name not resolved), as librdkafka does by itself. */
static bool consumer_error_is_fatal(int err, const char *reason)
{
    return err == RD_KAFKA_RESP_ERR__FATAL ||
           (err == RD_KAFKA_RESP_ERR__AUTHENTICATION &&
            strstr(reason, "SASL authentication error")) ||
           (err == RD_KAFKA_RESP_ERR__SSL &&
            strstr(reason, "certificate verify failed"));
}

/* Client-level errors (connections, authentication): without this
 * callback librdkafka only logs them, and a consumer with a wrong password
 * would wait forever. Served from inside cdc_consumer_poll(). */
static void consumer_error_cb(rd_kafka_t *rk, int err, const char *reason,
                              void *opaque)
{
    (void)rk;
    cdc_consumer_t *c = opaque;
    if (!consumer_error_is_fatal(err, reason)) {
        cdc_log_warn("kafka: %s", reason);
        return;
    }
    if (!c->fatal_why[0]) snprintf(c->fatal_why, sizeof c->fatal_why, "%s", reason);
}

static bool is_cooperative(rd_kafka_t *rk)
{
    const char *proto = rd_kafka_rebalance_protocol(rk);
    return proto && strcmp(proto, "COOPERATIVE") == 0;
}

static void consumer_rebalance_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                                  rd_kafka_topic_partition_list_t *parts,
                                  void *opaque)
{
    cdc_consumer_t *c = opaque;
    bool cooperative = is_cooperative(rk);
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        cdc_log_info("assigned %d partition(s) (%s)", parts->cnt,
                     cooperative ? "cooperative" : "eager");
        rd_kafka_error_t *e = NULL;
        if (cooperative) e = rd_kafka_incremental_assign(rk, parts);
        else rd_kafka_assign(rk, parts);
        if (e) {
            cdc_log_error("assign failed: %s", rd_kafka_error_string(e));
            rd_kafka_error_destroy(e);
        }
        /* librdkafka keeps a partition's pause across its revocation: one
         * paused by a retry and revoked (or lost) before the retry ended
         * was left out of the resume, and would come back paused, never
         * fetched again (the chaos suite met it). A newly assigned
         * partition takes the pipeline's current state. */
        if (c->paused_all) rd_kafka_pause_partitions(rk, parts);
        else rd_kafka_resume_partitions(rk, parts);
        c->assigned = cooperative ? c->assigned + parts->cnt : parts->cnt;
        if (c->on_rebalance) c->on_rebalance(rk, true, parts, c->opaque);
        return;
    }
    cdc_log_info("revoking %d partition(s)%s", parts->cnt,
                 rd_kafka_assignment_lost(rk) ? " (lost)" : "");
    if (c->on_rebalance) c->on_rebalance(rk, false, parts, c->opaque);
    /* A lost assignment may already belong to someone else: committing
     * would fail anyway. Otherwise hand over what we finished. */
    if (!rd_kafka_assignment_lost(rk)) {
        rd_kafka_resp_err_t cerr = rd_kafka_commit(rk, NULL, 0);
        if (cerr && cerr != RD_KAFKA_RESP_ERR__NO_OFFSET)
            cdc_log_warn("commit on revoke failed: %s", rd_kafka_err2str(cerr));
    }
    if (cooperative) {
        rd_kafka_error_t *e = rd_kafka_incremental_unassign(rk, parts);
        if (e) rd_kafka_error_destroy(e);
        c->assigned -= parts->cnt;
    } else {
        rd_kafka_assign(rk, NULL);
        c->assigned = 0;
    }
}

/* The broker's answer to every commit, synchronous or not. A failed
 * partition keeps its stored offset, which goes out again with the next
 * commit; until then the group's committed offset lags (and a restart
 * re-reads, harmlessly: the sinks are guarded). Nobody would know without
 * this: librdkafka reports asynchronous commits only here. */
/* While the coordinator is away (a broker outage, a coordinator moving),
 * every commit, one each commit.interval.ms, fails the same way. Each
 * failure is counted; a line with the same error is repeated at most this
 * often, saying how many it stands for. */
#define COMMIT_WARN_EVERY_MS 10000

static bool commit_warn_due(cdc_consumer_t *c, rd_kafka_resp_err_t err)
{
    int64_t now = cdc_clock_mono_ms();
    if (err == c->commit_warned_err && now - c->commit_warned_at_ms < COMMIT_WARN_EVERY_MS)
        return false;
    c->commit_warned_err = err;
    c->commit_warned_at_ms = now;
    return true;
}

static void consumer_commit_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                               rd_kafka_topic_partition_list_t *offsets, void *opaque)
{
    (void)rk;
    cdc_consumer_t *c = opaque;
    if (err == RD_KAFKA_RESP_ERR__NO_OFFSET) return; /* nothing was stored */
    if (!offsets) { /* no partition to name or count: said, not counted */
        if (err) cdc_log_warn("offset commit failed: %s", rd_kafka_err2str(err));
        return;
    }
    const rd_kafka_topic_partition_t *first = NULL;
    rd_kafka_resp_err_t first_err = RD_KAFKA_RESP_ERR_NO_ERROR;
    unsigned long failed = 0;
    for (int i = 0; i < offsets->cnt; i++) {
        const rd_kafka_topic_partition_t *p = &offsets->elems[i];
        rd_kafka_resp_err_t perr = p->err ? p->err : err;
        /* A whole request that failed (ILLEGAL_GENERATION in a rebalance)
         * also lists the assigned partitions nothing was stored for, with
         * offset INVALID: no commit of theirs failed. */
        if (!perr || p->offset < 0) continue;
        c->commit_failures++;
        failed++;
        if (!first) {
            first = p;
            first_err = perr;
        }
        if (c->on_commit_failed)
            c->on_commit_failed(c->opaque, p->topic, p->partition, rd_kafka_err2str(perr));
    }
    if (!failed) return;
    if (!commit_warn_due(c, first_err)) {
        c->commit_unlogged += failed;
        return;
    }
    char others[64] = "", unlogged[96] = "";
    if (failed > 1) snprintf(others, sizeof others, " (and %lu more partitions)", failed - 1);
    if (c->commit_unlogged)
        snprintf(unlogged, sizeof unlogged, "; %lu more failed since the last line like it",
                 c->commit_unlogged);
    c->commit_unlogged = 0;
    cdc_log_warn("%s [%" PRId32 "]: commit of offset %" PRId64 " failed: %s%s%s", first->topic,
                 first->partition, first->offset, rd_kafka_err2str(first_err), others, unlogged);
}

static int consumer_configure(rd_kafka_conf_t *conf, const cdc_config_t *cfg,
                              const cdc_consumer_options_t *opts,
                              char *errstr, size_t errstr_size)
{
    const cdc_settings_t *set = cdc_config_settings(cfg);
    const char *group = opts->group_id ? opts->group_id : set->group_id;
    if (opts->on_eof && conf_set(conf, "enable.partition.eof", "true", errstr, errstr_size))
        return -1;
    /* cdcsink owns offsets: they are stored only after the sink or the DLQ
     * has the record, and committed by us. */
    if (conf_set(conf, "group.id", group, errstr, errstr_size) ||
        conf_set(conf, "enable.auto.commit", "false", errstr, errstr_size) ||
        conf_set(conf, "enable.auto.offset.store", "false", errstr,
                 errstr_size))
        return -1;
    if (!cdc_config_kafka_given(cfg, "partition.assignment.strategy") &&
        conf_set(conf, "partition.assignment.strategy", "cooperative-sticky",
                 errstr, errstr_size))
        return -1;
    /* librdkafka prefetches up to 64 MiB by default; a sink pipeline needs
     * a few batches ahead, not that (small RSS). A small queue is only fast
     * if the fetcher refills it as soon as it has room: once the queue is
     * full, librdkafka backs the partition's fetches off for
     * fetch.queue.backoff.ms, 1000 by default, and a consumer faster than
     * one queue a second then waits most of each second (jsonl over 110k
     * Debezium records: 10k events/s at 1000 ms, 273k at 10 ms; see
     * docs/decisions.md). Smaller fetch responses keep the refill even. */
    if (!cdc_config_kafka_given(cfg, "queued.max.messages.kbytes") &&
        conf_set(conf, "queued.max.messages.kbytes", "4096", errstr, errstr_size))
        return -1;
    if (!cdc_config_kafka_given(cfg, "fetch.queue.backoff.ms") &&
        conf_set(conf, "fetch.queue.backoff.ms", CDC_CONSUMER_FETCH_QUEUE_BACKOFF_MS,
                 errstr, errstr_size))
        return -1;
    /* Its queued.min.messages (100,000 a partition by default) fills the
     * queue up to the kbytes cap whatever the batch; two batches ahead is
     * what the engine can take (one decoded while one is applied). With
     * the Redis sink's benchmark (5,000-change batches) peak RSS went
     * from 58 to 53 MiB at the same rate (docs/decisions.md). */
    char min_messages[32];
    snprintf(min_messages, sizeof min_messages, "%lld",
             (long long)(set->batch_size * 2 > 1000 ? set->batch_size * 2 : 1000));
    if (!cdc_config_kafka_given(cfg, "queued.min.messages") &&
        conf_set(conf, "queued.min.messages", min_messages, errstr, errstr_size))
        return -1;
    if (!cdc_config_kafka_given(cfg, "max.partition.fetch.bytes") &&
        conf_set(conf, "max.partition.fetch.bytes", "262144", errstr, errstr_size))
        return -1;
    /* A pattern subscription finds topics that appear later (a table added
     * at the source) only at a metadata refresh, every 5 minutes by
     * librdkafka's default: a new table's first changes would wait that
     * long. 10 s costs one small metadata request per interval. */
    const char *regex = opts->topic ? NULL : set->topics_regex;
    if (regex && *regex && !cdc_config_kafka_given(cfg, "topic.metadata.refresh.interval.ms") &&
        conf_set(conf, "topic.metadata.refresh.interval.ms", "10000", errstr, errstr_size))
        return -1;
    /* A new pipeline reads its topics from the beginning, as Connect sinks
     * do; kafka.auto.offset.reset overrides. */
    if (!cdc_config_kafka_given(cfg, "auto.offset.reset") &&
        conf_set(conf, "auto.offset.reset", "earliest", errstr, errstr_size))
        return -1;
    return 0;
}

static rd_kafka_topic_partition_list_t *subscription(const cdc_config_t *cfg,
                                                    const char *topic)
{
    rd_kafka_topic_partition_list_t *topics =
        rd_kafka_topic_partition_list_new(4);
    if (topic) {
        rd_kafka_topic_partition_list_add(topics, topic, RD_KAFKA_PARTITION_UA);
        return topics;
    }
    const cdc_settings_t *set = cdc_config_settings(cfg);
    const char *regex = set->topics_regex;
    if (regex && *regex) {
        /* librdkafka treats a name starting with ^ as a pattern. */
        char pattern[1024];
        snprintf(pattern, sizeof pattern, "%s%s", regex[0] == '^' ? "" : "^",
                 regex);
        rd_kafka_topic_partition_list_add(topics, pattern,
                                          RD_KAFKA_PARTITION_UA);
        return topics;
    }
    int oom;
    char **names = cdc_config_split_list(set->topics, &oom);
    for (char **t = names; t && *t; t++)
        rd_kafka_topic_partition_list_add(topics, *t, RD_KAFKA_PARTITION_UA);
    cdc_config_free_list(names);
    return topics;
}

cdc_consumer_t *cdc_consumer_new(const cdc_config_t *cfg,
                                 const cdc_consumer_options_t *opts,
                                 cdc_consumer_rebalance_cb_t *on_rebalance,
                                 void *opaque, char *errstr,
                                 size_t errstr_size)
{
    static const cdc_consumer_options_t pipeline_options = {0};
    if (!opts) opts = &pipeline_options;
    rd_kafka_conf_t *conf = cdc_consumer_kafka_conf(cfg, errstr, errstr_size);
    if (!conf) return NULL;
    if (consumer_configure(conf, cfg, opts, errstr, errstr_size) != 0) {
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    cdc_consumer_t *c = calloc(1, sizeof *c);
    if (!c) {
        rd_kafka_conf_destroy(conf);
        cdc_errstr_set(errstr, errstr_size, "out of memory");
        return NULL;
    }
    c->on_rebalance = on_rebalance;
    c->on_eof = opts->on_eof;
    c->opaque = opaque;
    rd_kafka_conf_set_opaque(conf, c);
    rd_kafka_conf_set_rebalance_cb(conf, consumer_rebalance_cb);
    rd_kafka_conf_set_offset_commit_cb(conf, consumer_commit_cb);
    rd_kafka_conf_set_error_cb(conf, consumer_error_cb);
    char why[512];
    c->rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, why, sizeof why);
    if (!c->rk) { /* rd_kafka_new destroys conf only on success */
        rd_kafka_conf_destroy(conf);
        free(c);
        cdc_errstr_set(errstr, errstr_size, "kafka consumer: %s", why);
        return NULL;
    }
    conf = NULL; /* owned by rk now */
    rd_kafka_poll_set_consumer(c->rk);
    rd_kafka_topic_partition_list_t *topics = subscription(cfg, opts->topic);
    rd_kafka_resp_err_t err = rd_kafka_subscribe(c->rk, topics);
    rd_kafka_topic_partition_list_destroy(topics);
    if (err) {
        cdc_errstr_set(errstr, errstr_size, "subscribe: %s",
                       rd_kafka_err2str(err));
        rd_kafka_destroy(c->rk);
        free(c);
        return NULL;
    }
    return c;
}

void cdc_consumer_destroy(cdc_consumer_t *c)
{
    if (!c) return;
    rd_kafka_consumer_close(c->rk); /* leaves the group */
    rd_kafka_destroy(c->rk);
    free(c);
}

rd_kafka_message_t *cdc_consumer_poll(cdc_consumer_t *c, int timeout_ms,
                                      bool *fatal)
{
    rd_kafka_message_t *m = rd_kafka_consumer_poll(c->rk, timeout_ms);
    if (c->fatal_why[0]) {
        cdc_log_error("kafka: %s", c->fatal_why);
        *fatal = true;
        if (m) rd_kafka_message_destroy(m);
        return NULL;
    }
    if (!m || !m->err) return m;
    if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
        if (c->on_eof) c->on_eof(c->opaque, rd_kafka_topic_name(m->rkt), m->partition);
        rd_kafka_message_destroy(m);
        return NULL;
    }
    char fatal_why[512];
    if (m->err == RD_KAFKA_RESP_ERR__FATAL &&
        rd_kafka_fatal_error(c->rk, fatal_why, sizeof fatal_why)) {
        cdc_log_error("kafka fatal error: %s", fatal_why);
        *fatal = true;
    } else if (m->err == RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED ||
               m->err == RD_KAFKA_RESP_ERR_GROUP_AUTHORIZATION_FAILED) {
        cdc_log_error("kafka: %s", rd_kafka_message_errstr(m));
        *fatal = true;
    } else {
        /* Broker down, unknown topic...: librdkafka retries by itself. */
        cdc_log_warn("kafka: %s", rd_kafka_message_errstr(m));
    }
    rd_kafka_message_destroy(m);
    return NULL;
}

void cdc_consumer_pause_all(cdc_consumer_t *c, bool pause)
{
    c->paused_all = pause;
    rd_kafka_topic_partition_list_t *parts = NULL;
    if (rd_kafka_assignment(c->rk, &parts) || !parts) return;
    if (parts->cnt > 0) {
        if (pause) rd_kafka_pause_partitions(c->rk, parts);
        else rd_kafka_resume_partitions(c->rk, parts);
    }
    rd_kafka_topic_partition_list_destroy(parts);
}

void cdc_consumer_pause_one(cdc_consumer_t *c, const char *topic,
                            int32_t partition, bool pause)
{
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(l, topic, partition);
    if (pause) rd_kafka_pause_partitions(c->rk, l);
    else rd_kafka_resume_partitions(c->rk, l);
    rd_kafka_topic_partition_list_destroy(l);
}

rd_kafka_topic_partition_list_t *cdc_consumer_assignment(cdc_consumer_t *c)
{
    rd_kafka_topic_partition_list_t *l = NULL;
    if (rd_kafka_assignment(c->rk, &l)) return NULL;
    return l;
}

int cdc_consumer_store(cdc_consumer_t *c, const char *topic, int32_t partition,
                       int64_t next_offset, const char *metadata)
{
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_t *tp = rd_kafka_topic_partition_list_add(l, topic, partition);
    tp->offset = next_offset;
    /* The list frees it; librdkafka >= 2.2 commits what offsets_store kept. */
    if (metadata && (tp->metadata = strdup(metadata))) tp->metadata_size = strlen(metadata);
    rd_kafka_resp_err_t err = rd_kafka_offsets_store(c->rk, l);
    rd_kafka_topic_partition_list_destroy(l);
    return err ? -1 : 0;
}

int cdc_consumer_committed_metadata(cdc_consumer_t *c,
                                    const rd_kafka_topic_partition_list_t *parts,
                                    int timeout_ms,
                                    void (*found)(void *opaque, const char *topic,
                                                  int32_t partition, const char *metadata),
                                    void *opaque)
{
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_copy(parts);
    rd_kafka_resp_err_t err = rd_kafka_committed(c->rk, l, timeout_ms);
    for (int i = 0; !err && i < l->cnt; i++) {
        const rd_kafka_topic_partition_t *tp = &l->elems[i];
        if (tp->err || !tp->metadata || tp->metadata_size == 0 || tp->metadata_size > 256)
            continue;
        char text[257];
        memcpy(text, tp->metadata, tp->metadata_size);
        text[tp->metadata_size] = '\0';
        found(opaque, tp->topic, tp->partition, text);
    }
    rd_kafka_topic_partition_list_destroy(l);
    return err ? -1 : 0;
}

int cdc_consumer_commit(cdc_consumer_t *c, bool sync)
{
    rd_kafka_resp_err_t err = rd_kafka_commit(c->rk, NULL, sync ? 0 : 1);
    if (err && err != RD_KAFKA_RESP_ERR__NO_OFFSET) {
        cdc_log_warn("commit failed: %s", rd_kafka_err2str(err));
        return -1;
    }
    return 0;
}

void cdc_consumer_on_commit_failed(cdc_consumer_t *c, cdc_consumer_commit_failed_cb_t *cb)
{
    c->on_commit_failed = cb;
}

unsigned long cdc_consumer_commit_failures(const cdc_consumer_t *c)
{
    return c->commit_failures;
}

rd_kafka_t *cdc_consumer_handle(cdc_consumer_t *c) { return c->rk; }

int cdc_consumer_assigned_count(cdc_consumer_t *c) { return c->assigned; }

