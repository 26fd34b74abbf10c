#include "pipeline.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "consumer.h"
#include "decode.h"
#include "dlq.h"
#include "engine.h"
#include "errstr.h"
#include "latency.h"
#include "log.h"
#include "observe.h"
#include "verify_loop.h"
#include "plan.h"
#include "registry.h"
#include "sink.h"


/* The commit metadata that carries a partition's snapshot LSN. */
#define SNAPSHOT_METADATA "cdcsink:snapshot.lsn="

/* The keys the loop reads, read once. */
typedef struct pipeline_settings {
    size_t batch_size;
    int64_t batch_max_wait_ms;
    int64_t commit_interval_ms;
    bool overlap;
} pipeline_settings_t;

struct cdc_pipeline {
    const cdc_config_t *cfg;
    pipeline_settings_t set;
    cdc_engine_parts_t parts; /* sink, planner, decoder, DLQ */
    cdc_consumer_t *consumer;
    cdc_observe_t *observe;
    cdc_vloop_t *verify; /* continuous verify, NULL when off */
    cdc_engine_t *engine;
    int64_t last_ping_ms;
    cdc_pipeline_stats_t stats;
    /* Latency histograms, 1 ms buckets up to 60 s: Kafka append to commit,
     * and source commit (the event's source.ts_ms) to commit. */
    cdc_latency_t latency;
    cdc_latency_t source_latency;
    int64_t last_commit_ms;
    int64_t last_stats_ms;
};

/* ---------------------------------------------------------------------
 * The engine's hooks: where a record comes from, what final means
 * ------------------------------------------------------------------- */

static bool pipeline_prepare(void *opaque, cdc_engine_batch_t *b,
                             cdc_engine_item_t *it)
{
    (void)opaque;
    (void)b;
    const rd_kafka_message_t *m = it->msg;
    it->event.topic = rd_kafka_topic_name(m->rkt);
    it->event.partition = m->partition;
    it->event.offset = m->offset;
    it->event.kafka_timestamp_ms = rd_kafka_message_timestamp(m, NULL);
    return true;
}

/* Every record of the batch is final: store the next offset of each
 * partition. Walking backwards, the first record seen of a partition has
 * its highest offset; batches hold few partitions, so a list does. */
static void store_offsets(cdc_pipeline_t *p, cdc_engine_batch_t *b)
{
    const rd_kafka_message_t **seen =
        cdc_arena_alloc(&b->arena, (b->count + 1) * sizeof *seen);
    size_t nseen = 0;
    if (!seen) return; /* nothing stored: the batch is simply redone */
    for (size_t i = b->count; i-- > 0;) {
        const cdc_engine_item_t *it = &b->items[i];
        if (it->abandoned || it->state != CDC_ENGINE_FINAL) continue;
        bool stored = false;
        for (size_t j = 0; j < nseen && !stored; j++)
            stored = seen[j]->rkt == it->msg->rkt &&
                     seen[j]->partition == it->msg->partition;
        if (stored) continue;
        seen[nseen++] = it->msg;
        const char *topic = rd_kafka_topic_name(it->msg->rkt);
        cdc_observe_stored(p->observe, topic, it->msg->partition, it->msg->offset + 1);
        /* The partition's snapshot LSN goes with its offset: a restart, or
         * the partition's next owner, orders what follows as we did. */
        char metadata[64];
        int64_t lsn;
        bool has = cdc_engine_snapshot_lsn(p->engine, topic, it->msg->partition, &lsn);
        if (has) snprintf(metadata, sizeof metadata, SNAPSHOT_METADATA "%lld", (long long)lsn);
        if (cdc_consumer_store(p->consumer, topic, it->msg->partition, it->msg->offset + 1,
                               has ? metadata : NULL) != 0)
            cdc_log_debug("store %s [%d] refused (partition no longer ours)",
                          rd_kafka_topic_name(it->msg->rkt), it->msg->partition);
    }
}

/* Kafka timestamps are wall-clock (CreateTime or LogAppendTime), and so is
 * source.ts_ms (the source's commit time; absent from tombstones). Both
 * clocks are other machines' in production: a skew shows here as is. */
static void record_latency(cdc_pipeline_t *p, const cdc_engine_batch_t *b)
{
    int64_t now = cdc_clock_wall_ms();
    for (size_t i = 0; i < b->count; i++) {
        const cdc_engine_item_t *it = &b->items[i];
        int64_t ts = rd_kafka_message_timestamp(it->msg, NULL);
        if (ts > 0) cdc_latency_record(&p->latency, now - ts);
        if (!it->abandoned && it->state == CDC_ENGINE_FINAL && it->event.source_ts_ms > 0)
            cdc_latency_record(&p->source_latency, now - it->event.source_ts_ms);
    }
}

static cdc_metric_t metric_of(cdc_outcome_kind_t outcome)
{
    switch (outcome) {
    case CDC_OUTCOME_APPLIED: return CDC_METRIC_APPLIED;
    case CDC_OUTCOME_STALE: return CDC_METRIC_STALE;
    case CDC_OUTCOME_SKIPPED: return CDC_METRIC_SKIPPED;
    case CDC_OUTCOME_REJECTED: break;
    }
    return CDC_METRIC_DLQ;
}

static void report_outcomes(cdc_pipeline_t *p, const cdc_engine_batch_t *b)
{
    for (size_t i = 0; i < b->count; i++) {
        const cdc_engine_item_t *it = &b->items[i];
        if (it->abandoned || it->state != CDC_ENGINE_FINAL) continue;
        if (it->outcome == CDC_OUTCOME_APPLIED)
            cdc_observe_applied(p->observe, &it->event);
        else
            cdc_observe_outcome(p->observe, it->event.topic, it->event.partition,
                                metric_of(it->outcome),
                                it->outcome == CDC_OUTCOME_REJECTED
                                    ? it->dlq.error_class : NULL);
    }
}

static void pipeline_final(void *opaque, cdc_engine_batch_t *b)
{
    cdc_pipeline_t *p = opaque;
    store_offsets(p, b);
    record_latency(p, b);
    report_outcomes(p, b);
}

static void pipeline_pause(void *opaque, bool pause)
{
    cdc_pipeline_t *p = opaque;
    cdc_consumer_pause_all(p->consumer, pause);
}

static const cdc_engine_hooks_t pipeline_hooks = {
    .prepare = pipeline_prepare,
    .take = NULL, /* everything polled during a backoff is ours */
    .final = pipeline_final,
    .pause = pipeline_pause,
};

static void note_committed_snapshot(void *opaque, const char *topic, int32_t partition,
                                    const char *metadata)
{
    cdc_pipeline_t *p = opaque;
    size_t k = strlen(SNAPSHOT_METADATA);
    char *end;
    if (strncmp(metadata, SNAPSHOT_METADATA, k) != 0) return;
    errno = 0;
    long long lsn = strtoll(metadata + k, &end, 10);
    if (end == metadata + k || *end || lsn < 0 || errno == ERANGE) return;
    cdc_engine_note_snapshot_lsn(p->engine, topic, partition, lsn);
}

static void pipeline_on_rebalance(rd_kafka_t *rk, bool assigned,
                                  const rd_kafka_topic_partition_list_t *parts,
                                  void *opaque)
{
    cdc_pipeline_t *p = opaque;
    if (assigned) {
        cdc_observe_assigned(p->observe, rk, parts);
        /* What the partitions' previous owner (or our last run) had seen
         * of snapshots comes with its committed offsets. */
        /* Asked twice: a partition stored without it would lose it. */
        if (p->engine &&
            cdc_consumer_committed_metadata(p->consumer, parts, 5000,
                                            note_committed_snapshot, p) != 0 &&
            cdc_consumer_committed_metadata(p->consumer, parts, 10000,
                                            note_committed_snapshot, p) != 0)
            cdc_log_warn("could not read the committed offsets' metadata of %d partition(s): "
                         "the first transaction after a snapshot may be judged stale "
                         "(docs/semantics.md, \"Snapshots and the stream\")", parts->cnt);
        return;
    }
    cdc_observe_revoked(p->observe, parts);
    if (p->engine) cdc_engine_revoke(p->engine, parts);
}

static void pipeline_on_commit_failed(void *opaque, const char *topic, int32_t partition,
                                      const char *reason)
{
    (void)reason; /* the consumer logged it */
    cdc_pipeline_t *p = opaque;
    cdc_observe_commit_failed(p->observe, topic, partition);
}

/* ---------------------------------------------------------------------
 * Setup
 * ------------------------------------------------------------------- */

static int pipeline_open_engine(cdc_pipeline_t *p, char *errstr, size_t errstr_size)
{
    cdc_engine_options_t opts;
    cdc_engine_options_read(p->cfg, &opts);
    p->engine = cdc_engine_new(&opts, &pipeline_hooks, p, p->consumer, &p->parts,
                               p->observe);
    return p->engine ? 0 : cdc_errstr_set(errstr, errstr_size, "out of memory");
}

cdc_pipeline_t *cdc_pipeline_new(const cdc_config_t *cfg, char *errstr,
                                 size_t errstr_size)
{
    cdc_pipeline_t *p = calloc(1, sizeof *p);
    if (!p) {
        cdc_errstr_set(errstr, errstr_size, "out of memory");
        return NULL;
    }
    p->cfg = cfg;
    const cdc_settings_t *set = cdc_config_settings(cfg);
    p->set = (pipeline_settings_t){
        .batch_size = (size_t)set->batch_size,
        .batch_max_wait_ms = set->batch_max_wait_ms,
        .commit_interval_ms = set->commit_interval_ms,
        .overlap = set->apply_overlap,
    };
    if (cdc_engine_parts_open(&p->parts, cfg, false, errstr, errstr_size) != 0)
        goto err;
    cdc_decoder_require_position(p->parts.decoder, p->parts.sink->plan_mode == CDC_PLAN_LATEST);
    if (!(p->observe = cdc_observe_new(cfg, errstr, errstr_size))) goto err;
    cdc_observe_sink_ok(p->observe, true);
    if (cdc_vloop_start(cfg, cdc_observe_metrics(p->observe), &p->verify, errstr,
                        errstr_size) != 0)
        goto err;
    if (!(p->consumer = cdc_consumer_new(cfg, NULL, pipeline_on_rebalance, p,
                                         errstr, errstr_size)))
        goto err;
    cdc_consumer_on_commit_failed(p->consumer, pipeline_on_commit_failed);
    if (pipeline_open_engine(p, errstr, errstr_size) != 0) goto err;
    p->last_commit_ms = p->last_stats_ms = cdc_clock_mono_ms();
    return p;
err:
    cdc_pipeline_destroy(p);
    return NULL;
}

/* ---------------------------------------------------------------------
 * The loop
 * ------------------------------------------------------------------- */

/* Fills the batch: waits up to 100 ms for a first record (so a stop is
 * noticed), then up to batch.max.wait.ms more for a full batch. While a
 * batch is in flight it polls in short steps and returns as soon as that
 * batch is done, so finishing it never waits for this one to fill. */
static int batch_collect(cdc_pipeline_t *p, volatile sig_atomic_t *stop,
                         bool *fatal)
{
    cdc_engine_t *e = p->engine;
    const cdc_engine_batch_t *b = cdc_engine_collecting(e);
    size_t max = p->set.batch_size;
    if (cdc_engine_collect_held(e, max) != 0) return -1;
    int64_t deadline = b->count > 0 ? cdc_clock_mono_ms() + p->set.batch_max_wait_ms : 0;
    while (cdc_engine_batch_has_room(e, max) && !*stop && !*fatal) {
        bool inflight = cdc_engine_inflight(e);
        if (inflight && cdc_engine_inflight_done(e)) break;
        /* What the prefetch queue already holds is taken without reading
         * the clock (a cost per record in profiles): the deadline only
         * matters once the queue runs dry. */
        rd_kafka_message_t *m = cdc_consumer_poll(p->consumer, 0, fatal);
        if (!m && !*fatal) {
            int timeout = inflight ? 5 : 100;
            if (b->count > 0) {
                int64_t left = deadline - cdc_clock_mono_ms();
                if (left <= 0) break;
                if (left < timeout) timeout = (int)left;
            }
            m = cdc_consumer_poll(p->consumer, timeout, fatal);
        }
        if (m) {
            if (cdc_engine_collect(e, m) != 0) {
                rd_kafka_message_destroy(m);
                return -1;
            }
            if (!deadline) deadline = cdc_clock_mono_ms() + p->set.batch_max_wait_ms;
        } else if (b->count == 0 && !inflight) {
            break; /* nothing within 100 ms: let the caller tick */
        }
    }
    return 0;
}

/* While idle, a sink that failed is pinged every 5 s so that /readyz
 * recovers (or notices) without waiting for the next record. */
static void pipeline_ping_sink(cdc_pipeline_t *p, int64_t now)
{
    if (!p->parts.sink->ping || now - p->last_ping_ms < 5000) return;
    p->last_ping_ms = now;
    cdc_observe_sink_ok(p->observe, p->parts.sink->ping(p->parts.sink_state) == 0);
}

static void pipeline_tick(cdc_pipeline_t *p, bool idle)
{
    int64_t now = cdc_clock_mono_ms();
    cdc_observe_tick(p->observe, cdc_consumer_handle(p->consumer),
                     cdc_consumer_assigned_count(p->consumer));
    if (idle) pipeline_ping_sink(p, now);
    if (now - p->last_commit_ms >= p->set.commit_interval_ms) {
        cdc_consumer_commit(p->consumer, false);
        p->last_commit_ms = now;
    }
    if (now - p->last_stats_ms >= 30000) {
        const cdc_pipeline_stats_t *s = cdc_pipeline_stats(p);
        cdc_log_info("consumed=%llu applied=%llu stale=%llu skipped=%llu "
                     "dlq=%llu retries=%llu",
                     (unsigned long long)s->consumed, (unsigned long long)s->applied,
                     (unsigned long long)s->stale, (unsigned long long)s->skipped,
                     (unsigned long long)s->dlq, (unsigned long long)s->retries);
        p->last_stats_ms = now;
    }
}

cdc_pipeline_exit_t cdc_pipeline_run(cdc_pipeline_t *p,
                                     volatile sig_atomic_t *stop,
                                     char *errstr, size_t errstr_size)
{
    bool fatal = false;
    cdc_log_info("consuming as group %s into sink %s",
                 cdc_config_settings(p->cfg)->group_id, p->parts.sink->name);
    cdc_pipeline_exit_t r = CDC_PIPELINE_STOPPED;
    while (!*stop || cdc_engine_inflight(p->engine)) {
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
        size_t collected = cdc_engine_collecting(p->engine)->count;
        bool idle = collected == 0 && !cdc_engine_inflight(p->engine);
        p->stats.consumed += collected;
        /* A batch stopped in its retries is simply not final: stopping. */
        if (cdc_engine_step(p->engine, p->set.overlap, stop, &fatal, errstr,
                            errstr_size) == CDC_ENGINE_FATAL) {
            r = CDC_PIPELINE_FATAL;
            break;
        }
        pipeline_tick(p, idle);
    }
    /* Never leave the sink to a thread nobody waits for. */
    cdc_engine_wait(p->engine);
    return r;
}

const cdc_pipeline_stats_t *cdc_pipeline_stats(cdc_pipeline_t *p)
{
    if (p->engine) {
        const cdc_engine_stats_t *e = cdc_engine_stats(p->engine);
        p->stats.applied = e->applied;
        p->stats.stale = e->stale;
        p->stats.skipped = e->skipped;
        p->stats.dlq = e->dlq;
        p->stats.retries = e->retries;
        p->stats.batches = e->batches;
    }
    p->stats.latency_p50_ms = cdc_latency_percentile(&p->latency, 0.50);
    p->stats.latency_p99_ms = cdc_latency_percentile(&p->latency, 0.99);
    p->stats.latency_p999_ms = cdc_latency_percentile(&p->latency, 0.999);
    p->stats.source_latency_p50_ms = cdc_latency_percentile(&p->source_latency, 0.50);
    p->stats.source_latency_p99_ms = cdc_latency_percentile(&p->source_latency, 0.99);
    p->stats.source_latency_p999_ms = cdc_latency_percentile(&p->source_latency, 0.999);
    p->stats.commit_failures = p->consumer ? cdc_consumer_commit_failures(p->consumer) : 0;
    return &p->stats;
}

void cdc_pipeline_destroy(cdc_pipeline_t *p)
{
    if (!p) return;
    cdc_vloop_stop(p->verify);
    if (p->consumer) {
        cdc_consumer_commit(p->consumer, true);
        cdc_consumer_destroy(p->consumer);
    }
    cdc_engine_destroy(p->engine); /* the DLQ producer first */
    cdc_engine_parts_close(&p->parts);
    cdc_observe_destroy(p->observe);
    free(p);
}
