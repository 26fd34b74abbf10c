#include "pipeline.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "applier.h"
#include "arena.h"
#include "clock.h"
#include "consumer.h"
#include "decode.h"
#include "dlq.h"
#include "errstr.h"
#include "grow.h"
#include "held.h"
#include "latency.h"
#include "log.h"
#include "observe.h"
#include "registry.h"
#include "sink.h"

typedef enum item_state {
    ITEM_NEW = 0,      /* not decoded yet (or the registry was down) */
    ITEM_DECODED = 1,  /* waiting for the sink */
    ITEM_FINAL = 2,    /* applied, stale or skipped */
    ITEM_TO_DLQ = 3    /* waiting for the DLQ's delivery report */
} item_state_t;

typedef struct batch_item {
    rd_kafka_message_t *msg;
    item_state_t state;
    bool abandoned; /* its partition was revoked: never stored */
    cdc_metric_t metric; /* what its final state counts as */
    const char *label;   /* op or DLQ class */
    cdc_event_t event;
    cdc_dlq_record_t dlq;
} batch_item_t;

typedef struct batch {
    batch_item_t *items;
    size_t count, capacity;
    cdc_arena_t arena;
    /* A decode while collecting needed a retry: batch_decode() does it. */
    bool decode_deferred;
    int64_t started_ms; /* when it went to the sink (batch duration) */
    /* What the sink was given, kept for reading its outcomes back. */
    const cdc_event_t **events;
    size_t *index; /* events[k] is items[index[k]] */
    cdc_outcome_t *outcomes;
    size_t nevents;
} batch_t;

typedef enum attempt_result {
    ATTEMPT_DONE = 0,
    ATTEMPT_RETRY = 1,
    ATTEMPT_FATAL = 2
} attempt_result_t;

struct cdc_pipeline {
    const cdc_config_t *cfg;
    const cdc_sink_ops_t *sink;
    void *sink_state;
    cdc_planner_t *planner;
    cdc_registry_t *registry;
    cdc_decoder_t *decoder;
    cdc_dlq_t *dlq;
    cdc_consumer_t *consumer;
    cdc_observe_t *observe;
    const char *retry_what; /* what failed in the last attempt */
    bool sink_ok;
    int64_t last_ping_ms;
    /* Two batches: one being collected and decoded while the other may be
     * in the sink's hands on the applier thread (apply.overlap). */
    batch_t batches[2];
    batch_t *batch;    /* collecting */
    batch_t *inflight; /* being applied by `applier`, or NULL */
    cdc_applier_t applier;
    bool overlap;
    /* Messages that arrived while a batch was being retried. */
    cdc_held_t pending;
    cdc_pipeline_stats_t stats;
    /* Append-to-commit latency histogram: 1 ms buckets up to 60 s. */
    cdc_latency_t latency;
    int64_t last_commit_ms;
    int64_t last_stats_ms;
};

/* ---------------------------------------------------------------------
 * Rebalance: abandon in-flight records of partitions we lose
 * ------------------------------------------------------------------- */

static int partition_in(const rd_kafka_message_t *m, const void *arg)
{
    const rd_kafka_topic_partition_list_t *parts = arg;
    const char *topic = rd_kafka_topic_name(m->rkt);
    for (int i = 0; i < parts->cnt; i++)
        if (parts->elems[i].partition == m->partition &&
            strcmp(parts->elems[i].topic, topic) == 0)
            return true;
    return false;
}

static void pipeline_on_rebalance(rd_kafka_t *rk, bool assigned,
                                  const rd_kafka_topic_partition_list_t *parts,
                                  void *opaque)
{
    cdc_pipeline_t *p = opaque;
    if (assigned) {
        cdc_observe_assigned(p->observe, rk, parts);
        return;
    }
    cdc_observe_revoked(p->observe, parts);
    /* The batch in the sink's hands finishes first; whatever it wrote for
     * the lost partitions is not stored, and the next owner finds those
     * rows already written (stale), as after any redelivery. */
    if (p->inflight) cdc_applier_wait(&p->applier);
    for (size_t k = 0; k < 2; k++) {
        batch_t *b = &p->batches[k];
        for (size_t i = 0; i < b->count; i++)
            if (partition_in(b->items[i].msg, parts)) b->items[i].abandoned = true;
    }
    cdc_held_drop_if(&p->pending, partition_in, parts);
}

/* ---------------------------------------------------------------------
 * Setup
 * ------------------------------------------------------------------- */

static int pipeline_open_registry(cdc_pipeline_t *p, char *errstr,
                                  size_t errstr_size)
{
    cdc_registry_options_t opts = {
        .url = cdc_config_get(p->cfg, "schema.registry.url"),
        .basic_auth = cdc_config_get(p->cfg, "schema.registry.basic.auth.user.info"),
        .ca_location = cdc_config_get(p->cfg, "schema.registry.ssl.ca.location"),
        .timeout_ms = (long)cdc_config_get_int(p->cfg, "schema.registry.timeout.ms"),
    };
    p->registry = cdc_registry_new(&opts, errstr, errstr_size);
    if (!p->registry) return -1;
    p->decoder = cdc_decoder_new(p->registry,
                                 cdc_config_get(p->cfg, "position.field"));
    return p->decoder ? 0 : cdc_errstr_set(errstr, errstr_size, "out of memory");
}

cdc_pipeline_t *cdc_pipeline_new(const cdc_config_t *cfg, char *errstr,
                                 size_t errstr_size)
{
    cdc_pipeline_t *p = calloc(1, sizeof *p);
    if (!p) return NULL;
    p->cfg = cfg;
    for (size_t k = 0; k < 2; k++) cdc_arena_init(&p->batches[k].arena, 256 * 1024);
    p->batch = &p->batches[0];
    p->overlap = cdc_config_get_bool(cfg, "apply.overlap");
    const char *sink_name = cdc_config_get(cfg, "sink");
    p->sink = cdc_sink_find(sink_name);
    if (!p->sink) {
        cdc_errstr_set(errstr, errstr_size, "sink '%s' is not built in",
                       sink_name);
        goto err;
    }
    char why[1024];
    if (!(p->planner = cdc_sink_planner_new(p->sink, cfg, why, sizeof why)) ||
        p->sink->open(cfg, &p->sink_state, why, sizeof why) != 0) {
        cdc_errstr_set(errstr, errstr_size, "sink %s: %s", sink_name, why);
        goto err;
    }
    if (pipeline_open_registry(p, errstr, errstr_size) != 0) goto err;
    if (!(p->dlq = cdc_dlq_new(cfg, errstr, errstr_size))) goto err;
    if (!(p->observe = cdc_observe_new(cfg, errstr, errstr_size))) goto err;
    p->sink_ok = true;
    cdc_observe_sink_ok(p->observe, true);
    if (!(p->consumer = cdc_consumer_new(cfg, pipeline_on_rebalance, p, errstr,
                                         errstr_size)))
        goto err;
    p->last_commit_ms = p->last_stats_ms = cdc_clock_mono_ms();
    return p;
err:
    cdc_pipeline_destroy(p);
    return NULL;
}

/* ---------------------------------------------------------------------
 * Collecting a batch
 * ------------------------------------------------------------------- */

static int batch_push(batch_t *b, rd_kafka_message_t *m)
{
    batch_item_t *items = cdc_grow(b->items, b->count, &b->capacity, sizeof *items, 256);
    if (!items) return -1;
    b->items = items;
    batch_item_t *it = &items[b->count++];
    memset(it, 0, sizeof *it);
    it->msg = m;
    return 0;
}

static void batch_clear(batch_t *b)
{
    for (size_t i = 0; i < b->count; i++) rd_kafka_message_destroy(b->items[i].msg);
    b->count = 0;
    b->decode_deferred = false;
    b->started_ms = 0;
    b->events = NULL;
    b->index = NULL;
    b->outcomes = NULL;
    b->nevents = 0;
    cdc_arena_reset(&b->arena);
}

static attempt_result_t decode_item(cdc_pipeline_t *p, batch_t *b, size_t i,
                                    char *errstr, size_t errstr_size);

/* Takes a fetched message into the batch and decodes it at once, so that
 * decoding overlaps the batch in flight; a decode that needs a retry is
 * left to batch_decode(), which owns the retry. */
static int collect_one(cdc_pipeline_t *p, batch_t *b, rd_kafka_message_t *m)
{
    if (batch_push(b, m) != 0) return -1;
    cdc_observe_consumed(p->observe, rd_kafka_topic_name(m->rkt), m->partition);
    char why[1024];
    if (!b->decode_deferred &&
        decode_item(p, b, b->count - 1, why, sizeof why) != ATTEMPT_DONE)
        b->decode_deferred = true;
    return 0;
}

/* Fills the batch: waits up to 100 ms for a first record (so a stop is
 * noticed), then up to batch.max.wait.ms more for a full batch. While a
 * batch is in flight it polls in short steps and returns as soon as that
 * batch is done, so finishing it never waits for this one to fill. */
static int batch_collect(cdc_pipeline_t *p, volatile sig_atomic_t *stop,
                         bool *fatal)
{
    size_t max = (size_t)cdc_config_get_int(p->cfg, "batch.size");
    int64_t wait = cdc_config_get_int(p->cfg, "batch.max.wait.ms");
    batch_t *b = p->batch;
    size_t taken = 0;
    for (; taken < p->pending.count && b->count < max; taken++)
        if (collect_one(p, b, p->pending.msgs[taken]) != 0) {
            cdc_held_taken(&p->pending, taken); /* the batch owns those */
            return -1;
        }
    cdc_held_taken(&p->pending, taken);

    int64_t deadline = b->count > 0 ? cdc_clock_mono_ms() + wait : 0;
    while (b->count < max && !*stop && !*fatal) {
        if (p->inflight && cdc_applier_done(&p->applier)) break;
        /* What the prefetch queue already holds is taken without reading
         * the clock (a cost per record in profiles): the deadline only
         * matters once the queue runs dry. */
        rd_kafka_message_t *m = cdc_consumer_poll(p->consumer, 0, fatal);
        if (!m && !*fatal) {
            int timeout = p->inflight ? 5 : 100;
            if (b->count > 0) {
                int64_t left = deadline - cdc_clock_mono_ms();
                if (left <= 0) break;
                if (left < timeout) timeout = (int)left;
            }
            m = cdc_consumer_poll(p->consumer, timeout, fatal);
        }
        if (m) {
            if (collect_one(p, b, m) != 0) return -1;
            if (!deadline) deadline = cdc_clock_mono_ms() + wait;
        } else if (b->count == 0 && !p->inflight) {
            break; /* nothing within 100 ms: let the caller tick */
        }
    }
    return 0;
}

/* ---------------------------------------------------------------------
 * Processing a batch
 * ------------------------------------------------------------------- */

static void item_to_dlq(batch_item_t *it, const char *error_class,
                        const char *exception_name, const char *message)
{
    rd_kafka_message_t *m = it->msg;
    it->state = ITEM_TO_DLQ;
    it->metric = CDC_METRIC_DLQ;
    it->label = error_class;
    it->dlq = (cdc_dlq_record_t){
        .topic = rd_kafka_topic_name(m->rkt),
        .partition = m->partition,
        .offset = m->offset,
        .key = m->key,
        .key_len = m->key_len,
        .value = m->payload,
        .value_len = m->payload ? m->len : 0,
        .error_class = error_class,
        .exception_name = exception_name,
        .message = message,
    };
}

static attempt_result_t decode_item(cdc_pipeline_t *p, batch_t *b, size_t i,
                                    char *errstr, size_t errstr_size)
{
    batch_item_t *it = &b->items[i];
    if (it->state != ITEM_NEW || it->abandoned) return ATTEMPT_DONE;
    rd_kafka_message_t *m = it->msg;
    it->event.topic = rd_kafka_topic_name(m->rkt);
    it->event.partition = m->partition;
    it->event.offset = m->offset;
    it->event.kafka_timestamp_ms = rd_kafka_message_timestamp(m, NULL);
    char why[1024];
    cdc_decode_status_t s = cdc_decoder_decode(
        p->decoder, m->key, m->key_len, m->payload, m->len, &b->arena,
        &it->event, why, sizeof why);
    switch (s) {
    case CDC_DECODE_OK:
        it->state = ITEM_DECODED;
        break;
    case CDC_DECODE_DATA_ERROR:
        cdc_log_warn("%s [%d] @%lld: %s → DLQ", it->event.topic,
                     m->partition, (long long)m->offset, why);
        item_to_dlq(it, "data", "cdcsink.DecodeError",
                    cdc_arena_strndup(&b->arena, why, strlen(why)));
        break;
    case CDC_DECODE_RETRY:
        p->retry_what = "registry";
        cdc_errstr_set(errstr, errstr_size, "%s [%d] @%lld: %s",
                       it->event.topic, m->partition, (long long)m->offset, why);
        return ATTEMPT_RETRY;
    case CDC_DECODE_FATAL:
        cdc_errstr_set(errstr, errstr_size, "%s", why);
        return ATTEMPT_FATAL;
    }
    return ATTEMPT_DONE;
}

static attempt_result_t batch_decode(cdc_pipeline_t *p, batch_t *b,
                                     char *errstr, size_t errstr_size)
{
    for (size_t i = 0; i < b->count; i++) {
        attempt_result_t r = decode_item(p, b, i, errstr, errstr_size);
        if (r != ATTEMPT_DONE) return r;
    }
    return ATTEMPT_DONE;
}

/* The decoded records of the batch, as the sink takes them, in b->events;
 * false when out of memory. */
static bool apply_prepare(batch_t *b)
{
    b->events = cdc_arena_alloc(&b->arena, (b->count + 1) * sizeof *b->events);
    b->index = cdc_arena_alloc(&b->arena, (b->count + 1) * sizeof *b->index);
    b->outcomes = cdc_arena_alloc(&b->arena, (b->count + 1) * sizeof *b->outcomes);
    if (!b->events || !b->index || !b->outcomes) return false;
    b->nevents = 0;
    for (size_t i = 0; i < b->count; i++) {
        if (b->items[i].state != ITEM_DECODED || b->items[i].abandoned) continue;
        b->events[b->nevents] = &b->items[i].event;
        b->index[b->nevents++] = i;
    }
    memset(b->outcomes, 0, b->nevents * sizeof *b->outcomes);
    return true;
}

static void applier_setup(cdc_pipeline_t *p, batch_t *b)
{
    cdc_applier_t *a = &p->applier;
    a->planner = p->planner;
    a->sink = p->sink;
    a->sink_state = p->sink_state;
    a->events = b->events;
    a->count = b->nevents;
    a->outcomes = b->outcomes;
    a->arena = &b->arena;
}

/* Reads the sink's answer back into the batch's items. */
static attempt_result_t apply_finish(cdc_pipeline_t *p, batch_t *b,
                                     cdc_sink_status_t s)
{
    p->sink_ok = s == CDC_SINK_OK;
    cdc_observe_sink_ok(p->observe, p->sink_ok);
    if (s == CDC_SINK_RETRY) {
        p->retry_what = "sink";
        return ATTEMPT_RETRY;
    }
    if (s == CDC_SINK_FATAL) return ATTEMPT_FATAL;
    for (size_t k = 0; k < b->nevents; k++) {
        batch_item_t *it = &b->items[b->index[k]];
        const cdc_outcome_t *o = &b->outcomes[k];
        switch (o->kind) {
        case CDC_OUTCOME_APPLIED:
            p->stats.applied++;
            it->state = ITEM_FINAL;
            it->metric = CDC_METRIC_APPLIED;
            break;
        case CDC_OUTCOME_STALE:
            p->stats.stale++;
            it->state = ITEM_FINAL;
            it->metric = CDC_METRIC_STALE;
            break;
        case CDC_OUTCOME_SKIPPED:
            p->stats.skipped++;
            it->state = ITEM_FINAL;
            it->metric = CDC_METRIC_SKIPPED;
            break;
        case CDC_OUTCOME_REJECTED:
            cdc_log_warn("%s [%d] @%lld: rejected by the sink: %s → DLQ",
                         it->event.topic, it->event.partition,
                         (long long)it->event.offset, o->message ? o->message : "");
            item_to_dlq(it, o->error_class ? o->error_class : "data",
                        o->exception_name ? o->exception_name : "cdcsink.SinkError",
                        o->message ? o->message : "");
            break;
        }
    }
    return ATTEMPT_DONE;
}

/* One apply, on this thread. */
static attempt_result_t batch_apply(cdc_pipeline_t *p, batch_t *b,
                                    char *errstr, size_t errstr_size)
{
    if (!apply_prepare(b))
        return cdc_errstr_set(errstr, errstr_size, "out of memory"), ATTEMPT_RETRY;
    if (b->nevents == 0) return ATTEMPT_DONE;
    applier_setup(p, b);
    cdc_applier_run(&p->applier);
    cdc_errstr_set(errstr, errstr_size, "%s", p->applier.errstr);
    return apply_finish(p, b, p->applier.status);
}

static attempt_result_t batch_deliver_dlq(cdc_pipeline_t *p, batch_t *b,
                                          char *errstr, size_t errstr_size)
{
    bool any = false;
    for (size_t i = 0; i < b->count; i++) {
        batch_item_t *it = &b->items[i];
        if (it->state != ITEM_TO_DLQ || it->abandoned) continue;
        any = true;
        if (it->dlq.state == CDC_DLQ_UNSENT || it->dlq.state == CDC_DLQ_FAILED)
            cdc_dlq_send(p->dlq, &it->dlq);
    }
    if (!any) return ATTEMPT_DONE;
    cdc_dlq_wait(p->dlq, 30000);
    for (size_t i = 0; i < b->count; i++) {
        batch_item_t *it = &b->items[i];
        if (it->state != ITEM_TO_DLQ || it->abandoned) continue;
        if (it->dlq.state != CDC_DLQ_DELIVERED) {
            p->retry_what = "dlq";
            cdc_errstr_set(errstr, errstr_size, "DLQ %s: %s", cdc_dlq_topic(p->dlq),
                           it->dlq.error[0] ? it->dlq.error : "delivery pending");
            return ATTEMPT_RETRY;
        }
    }
    for (size_t i = 0; i < b->count; i++) {
        batch_item_t *it = &b->items[i];
        if (it->state == ITEM_TO_DLQ && !it->abandoned) {
            it->state = ITEM_FINAL;
            p->stats.dlq++;
        }
    }
    return ATTEMPT_DONE;
}

/* Every record of the batch is final: store the next offset of each
 * partition. Walking backwards, the first record seen of a partition has
 * its highest offset; batches hold few partitions, so a list does. */
static void batch_store_offsets(cdc_pipeline_t *p, batch_t *b)
{
    const rd_kafka_message_t **seen =
        cdc_arena_alloc(&b->arena, (b->count + 1) * sizeof *seen);
    size_t nseen = 0;
    if (!seen) return; /* nothing stored: the batch is simply redone */
    for (size_t i = b->count; i-- > 0;) {
        const batch_item_t *it = &b->items[i];
        if (it->abandoned || it->state != ITEM_FINAL) continue;
        bool stored = false;
        for (size_t j = 0; j < nseen && !stored; j++)
            stored = seen[j]->rkt == it->msg->rkt &&
                     seen[j]->partition == it->msg->partition;
        if (stored) continue;
        seen[nseen++] = it->msg;
        cdc_observe_stored(p->observe, rd_kafka_topic_name(it->msg->rkt),
                           it->msg->partition, it->msg->offset + 1);
        if (cdc_consumer_store(p->consumer, rd_kafka_topic_name(it->msg->rkt),
                               it->msg->partition, it->msg->offset + 1) != 0)
            cdc_log_debug("store %s [%d] refused (partition no longer ours)",
                          rd_kafka_topic_name(it->msg->rkt), it->msg->partition);
    }
}

/* Kafka timestamps are wall-clock (CreateTime or LogAppendTime). */
static void batch_record_latency(cdc_pipeline_t *p, const batch_t *b)
{
    int64_t now = cdc_clock_wall_ms();
    for (size_t i = 0; i < b->count; i++) {
        int64_t ts = rd_kafka_message_timestamp(b->items[i].msg, NULL);
        if (ts > 0) cdc_latency_record(&p->latency, now - ts);
    }
}

static void batch_report_outcomes(cdc_pipeline_t *p, const batch_t *b)
{
    for (size_t i = 0; i < b->count; i++) {
        const batch_item_t *it = &b->items[i];
        if (it->abandoned || it->state != ITEM_FINAL) continue;
        if (it->metric == CDC_METRIC_APPLIED)
            cdc_observe_applied(p->observe, &it->event);
        else
            cdc_observe_outcome(p->observe, it->event.topic, it->event.partition,
                                it->metric, it->label);
    }
}

static attempt_result_t batch_attempt(cdc_pipeline_t *p, batch_t *b,
                                      char *errstr, size_t errstr_size)
{
    attempt_result_t r = batch_decode(p, b, errstr, errstr_size);
    if (r == ATTEMPT_DONE) r = batch_apply(p, b, errstr, errstr_size);
    if (r == ATTEMPT_DONE) r = batch_deliver_dlq(p, b, errstr, errstr_size);
    return r;
}

/* Sleeps for the backoff while serving the consumer: rebalances happen and
 * max.poll.interval.ms is respected; partitions are paused, and anything
 * already fetched is kept for later, never dropped. Returns early when
 * watch_stop and a stop is requested, or when `until` passes. */
static void backoff_wait(cdc_pipeline_t *p, int64_t until, bool watch_stop,
                         volatile sig_atomic_t *stop, bool *fatal)
{
    while (!(watch_stop && *stop) && !*fatal) {
        int64_t left = until - cdc_clock_mono_ms();
        if (left <= 0) break;
        cdc_observe_tick(p->observe, cdc_consumer_handle(p->consumer),
                         cdc_consumer_assigned_count(p->consumer));
        rd_kafka_message_t *m = cdc_consumer_poll(
            p->consumer, (int)(left < 100 ? left : 100), fatal);
        if (m && cdc_held_push(&p->pending, m) != 0) {
            /* Dropping it would lose it: stop instead, uncommitted. */
            cdc_log_error("out of memory holding a fetched message");
            rd_kafka_message_destroy(m);
            *fatal = true;
        }
    }
}

typedef struct retry_state {
    int64_t backoff, backoff_max;
    int64_t started;
    int64_t give_up_after;    /* errors.retry.timeout.ms, -1: never */
    int64_t shutdown_timeout; /* shutdown.timeout.ms */
    int64_t stop_deadline;    /* 0 until a stop is seen */
    bool paused;
} retry_state_t;

/* Decides after a failed attempt: wait and try again (true), or give up.
 * A stop request leaves the batch shutdown.timeout.ms to succeed. */
static bool retry_again(cdc_pipeline_t *p, retry_state_t *rs,
                        volatile sig_atomic_t *stop, bool *fatal,
                        const char *why, cdc_pipeline_exit_t *result,
                        char *errstr, size_t errstr_size)
{
    int64_t now = cdc_clock_mono_ms();
    if (rs->give_up_after >= 0 && now - rs->started > rs->give_up_after) {
        cdc_errstr_set(errstr, errstr_size,
                       "giving up after errors.retry.timeout.ms=%lld: %s",
                       (long long)rs->give_up_after, why);
        *result = CDC_PIPELINE_FATAL;
        return false;
    }
    if (*stop && !rs->stop_deadline) rs->stop_deadline = now + rs->shutdown_timeout;
    if (rs->stop_deadline && now >= rs->stop_deadline) {
        cdc_log_warn("stopping during retries: the batch is not committed");
        return false;
    }
    cdc_log_warn("transient failure, retrying the batch in %lld ms: %s",
                 (long long)rs->backoff, why);
    if (!rs->paused) {
        cdc_consumer_pause_all(p->consumer, true);
        rs->paused = true;
    }
    int64_t until = now + rs->backoff;
    if (rs->stop_deadline && until > rs->stop_deadline) until = rs->stop_deadline;
    backoff_wait(p, until, !rs->stop_deadline, stop, fatal);
    rs->backoff = rs->backoff * 2 > rs->backoff_max ? rs->backoff_max : rs->backoff * 2;
    return true;
}

/* Brings the batch to final: attempts, and retries with backoff. `first`
 * is the outcome of an attempt already made (the applier's), with its
 * error in first_why; NULL to start with an attempt. */
static cdc_pipeline_exit_t batch_process(cdc_pipeline_t *p, batch_t *b,
                                         const attempt_result_t *first,
                                         const char *first_why,
                                         volatile sig_atomic_t *stop,
                                         bool *fatal, char *errstr,
                                         size_t errstr_size)
{
    retry_state_t rs = {
        .backoff = cdc_config_get_int(p->cfg, "errors.retry.backoff.initial.ms"),
        .backoff_max = cdc_config_get_int(p->cfg, "errors.retry.backoff.max.ms"),
        .give_up_after = cdc_config_get_int(p->cfg, "errors.retry.timeout.ms"),
        .shutdown_timeout = cdc_config_get_int(p->cfg, "shutdown.timeout.ms"),
        .started = b->started_ms,
    };
    cdc_pipeline_exit_t result = CDC_PIPELINE_STOPPED;
    for (;;) {
        char why[1024] = "";
        attempt_result_t r;
        if (first) {
            r = *first;
            cdc_errstr_set(why, sizeof why, "%s", first_why);
            first = NULL;
        } else {
            r = batch_attempt(p, b, why, sizeof why);
        }
        if (r == ATTEMPT_DONE) {
            batch_store_offsets(p, b);
            batch_record_latency(p, b);
            batch_report_outcomes(p, b);
            break;
        }
        if (r == ATTEMPT_FATAL || *fatal) {
            cdc_errstr_set(errstr, errstr_size, "%s", why);
            result = CDC_PIPELINE_FATAL;
            break;
        }
        p->stats.retries++;
        cdc_observe_retry(p->observe, p->retry_what ? p->retry_what : "sink");
        if (!retry_again(p, &rs, stop, fatal, why, &result, errstr, errstr_size))
            break;
    }
    if (rs.paused) cdc_consumer_pause_all(p->consumer, false);
    p->stats.batches++;
    cdc_observe_batch(p->observe,
                      (double)(cdc_clock_mono_ms() - rs.started) / 1000.0);
    return result;
}

/* While idle, a sink that failed is pinged every 5 s so that /readyz
 * recovers (or notices) without waiting for the next record. */
static void pipeline_ping_sink(cdc_pipeline_t *p, int64_t now)
{
    if (!p->sink->ping || now - p->last_ping_ms < 5000) return;
    p->last_ping_ms = now;
    p->sink_ok = p->sink->ping(p->sink_state) == 0;
    cdc_observe_sink_ok(p->observe, p->sink_ok);
}

static void pipeline_tick(cdc_pipeline_t *p, bool idle)
{
    int64_t now = cdc_clock_mono_ms();
    cdc_observe_tick(p->observe, cdc_consumer_handle(p->consumer),
                     cdc_consumer_assigned_count(p->consumer));
    if (idle) pipeline_ping_sink(p, now);
    if (now - p->last_commit_ms >= cdc_config_get_int(p->cfg, "commit.interval.ms")) {
        cdc_consumer_commit(p->consumer, false);
        p->last_commit_ms = now;
    }
    if (now - p->last_stats_ms >= 30000) {
        const cdc_pipeline_stats_t *s = &p->stats;
        cdc_log_info("consumed=%llu applied=%llu stale=%llu skipped=%llu "
                     "dlq=%llu retries=%llu",
                     (unsigned long long)s->consumed, (unsigned long long)s->applied,
                     (unsigned long long)s->stale, (unsigned long long)s->skipped,
                     (unsigned long long)s->dlq, (unsigned long long)s->retries);
        p->last_stats_ms = now;
    }
}

/* Waits for the batch in flight and brings it to final (DLQ, retries,
 * offsets). */
static cdc_pipeline_exit_t inflight_finish(cdc_pipeline_t *p,
                                           volatile sig_atomic_t *stop,
                                           bool *fatal, char *errstr,
                                           size_t errstr_size)
{
    batch_t *b = p->inflight;
    cdc_applier_wait(&p->applier);
    p->inflight = NULL;
    attempt_result_t r = apply_finish(p, b, p->applier.status);
    char why[1024];
    cdc_errstr_set(why, sizeof why, "%s", p->applier.errstr);
    if (r == ATTEMPT_DONE) r = batch_deliver_dlq(p, b, why, sizeof why);
    cdc_pipeline_exit_t result =
        batch_process(p, b, &r, why, stop, fatal, errstr, errstr_size);
    batch_clear(b);
    return result;
}

/* Hands the decoded batch to the applier thread and collects into the
 * other one meanwhile. */
static void inflight_start(cdc_pipeline_t *p)
{
    batch_t *b = p->batch;
    applier_setup(p, b);
    p->inflight = b;
    p->batch = b == &p->batches[0] ? &p->batches[1] : &p->batches[0];
    cdc_applier_start(&p->applier);
}

/* The collected batch: decoded already (collect_one()), it goes to the
 * applier when overlapping, else through batch_process() here. The batch
 * in flight, if any, is finished first: batches complete in order. */
static cdc_pipeline_exit_t pipeline_step(cdc_pipeline_t *p,
                                         volatile sig_atomic_t *stop,
                                         bool *fatal, char *errstr,
                                         size_t errstr_size)
{
    batch_t *b = p->batch;
    cdc_pipeline_exit_t r = CDC_PIPELINE_STOPPED;
    if (p->inflight) {
        r = inflight_finish(p, stop, fatal, errstr, errstr_size);
        if (r == CDC_PIPELINE_FATAL) return r;
    }
    if (b->count == 0) return r;
    p->stats.consumed += b->count;
    b->started_ms = cdc_clock_mono_ms();
    /* A stop requested meanwhile still lets the batch finish; only a batch
     * stuck in retries is abandoned, uncommitted. */
    if (p->overlap && !b->decode_deferred && !*stop && apply_prepare(b) &&
        b->nevents > 0) {
        inflight_start(p);
        return r;
    }
    r = batch_process(p, b, NULL, NULL, stop, fatal, errstr, errstr_size);
    batch_clear(b);
    return r;
}

cdc_pipeline_exit_t cdc_pipeline_run(cdc_pipeline_t *p,
                                     volatile sig_atomic_t *stop,
                                     char *errstr, size_t errstr_size)
{
    bool fatal = false;
    cdc_log_info("consuming as group %s into sink %s",
                 cdc_config_get(p->cfg, "group.id"), p->sink->name);
    cdc_pipeline_exit_t r = CDC_PIPELINE_STOPPED;
    while (!*stop || p->inflight) {
        if (batch_collect(p, stop, &fatal) != 0) {
            cdc_errstr_set(errstr, errstr_size, "out of memory");
            r = CDC_PIPELINE_FATAL;
            break;
        }
        if (fatal) {
            cdc_errstr_set(errstr, errstr_size, "kafka consumer failed");
            r = CDC_PIPELINE_FATAL;
            break;
        }
        bool idle = p->batch->count == 0 && !p->inflight;
        r = pipeline_step(p, stop, &fatal, errstr, errstr_size);
        if (r == CDC_PIPELINE_FATAL) break;
        pipeline_tick(p, idle);
    }
    /* Never leave the sink to a thread nobody waits for. */
    if (p->inflight) cdc_applier_wait(&p->applier);
    return r;
}

const cdc_pipeline_stats_t *cdc_pipeline_stats(cdc_pipeline_t *p)
{
    p->stats.latency_p50_ms = cdc_latency_percentile(&p->latency, 0.50);
    p->stats.latency_p99_ms = cdc_latency_percentile(&p->latency, 0.99);
    p->stats.fetch_wakes = p->consumer ? cdc_consumer_fetch_wakes(p->consumer) : 0;
    return &p->stats;
}

void cdc_pipeline_destroy(cdc_pipeline_t *p)
{
    if (!p) return;
    if (p->consumer) {
        cdc_consumer_commit(p->consumer, true);
        cdc_consumer_destroy(p->consumer);
    }
    /* The DLQ goes before the batch: its pending reports point into it. */
    if (p->inflight) cdc_applier_wait(&p->applier);
    cdc_dlq_destroy(p->dlq);
    for (size_t k = 0; k < 2; k++) {
        batch_clear(&p->batches[k]);
        free(p->batches[k].items);
        cdc_arena_destroy(&p->batches[k].arena);
    }
    cdc_held_free(&p->pending);
    cdc_decoder_destroy(p->decoder);
    cdc_registry_destroy(p->registry);
    if (p->sink && p->sink_state) p->sink->close(p->sink_state);
    cdc_planner_destroy(p->planner);
    cdc_observe_destroy(p->observe);
    free(p);
}
