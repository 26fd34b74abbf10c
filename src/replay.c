#include "replay.h"

#include <librdkafka/rdkafka.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "buf.h"
#include "clock.h"
#include "consumer.h"
#include "decode.h"
#include "dlq.h"
#include "errstr.h"
#include "engine.h"
#include "render.h"
#include "log.h"
#include "registry.h"
#include "sink.h"

enum {
    REPLAY_BATCH_DEFAULT = 500,
    REPLAY_TIMEOUT_MS = 10000,
    /* Joining a fresh group takes the broker's initial rebalance delay
     * (3 s by default); a minute without partitions means something else
     * holds them (another replay) or the group cannot be joined. */
    REPLAY_ASSIGN_TIMEOUT_MS = 60000
};

typedef struct replay {
    const cdc_config_t *cfg;
    const cdc_replay_options_t *opts;
    FILE *out;
    cdc_engine_parts_t engine_parts; /* sink, planner, decoder, DLQ (none in a dry run) */
    cdc_consumer_t *consumer;
    cdc_engine_t *engine;
    const char *topic;
    cdc_dlqread_partition_t *parts; /* as of the start */
    bool *done;                     /* parallel to parts: read to its end */
    size_t nparts;
    cdc_replay_stats_t stats;
} replay_t;

/* ---------------------------------------------------------------------
 * Partitions: how far each must be read
 * ------------------------------------------------------------------- */

static int part_index(const replay_t *r, int32_t partition)
{
    for (size_t i = 0; i < r->nparts; i++)
        if (r->parts[i].id == partition) return (int)i;
    return -1;
}

/* A partition read to its end stops fetching: what the live pipeline adds
 * meanwhile belongs to the next replay. */
static void part_mark_done(replay_t *r, int32_t partition)
{
    int i = part_index(r, partition);
    if (i < 0 || r->done[i]) return;
    r->done[i] = true;
    cdc_consumer_pause_one(r->consumer, r->topic, partition, true);
}

static bool part_done(const replay_t *r, int32_t partition)
{
    int i = part_index(r, partition);
    /* A partition added after the start has nothing of this replay. */
    return i < 0 || r->done[i];
}

static void replay_on_eof(void *opaque, const char *topic, int32_t partition)
{
    (void)topic;
    part_mark_done(opaque, partition);
}

/* Finished: we hold partitions and every one of them is read to its end. */
static bool replay_finished(replay_t *r)
{
    rd_kafka_topic_partition_list_t *l = cdc_consumer_assignment(r->consumer);
    if (!l) return false;
    bool finished = l->cnt > 0;
    for (int i = 0; i < l->cnt && finished; i++)
        finished = part_done(r, l->elems[i].partition);
    rd_kafka_topic_partition_list_destroy(l);
    return finished;
}

/* ---------------------------------------------------------------------
 * The engine's hooks
 * ------------------------------------------------------------------- */

/* A polled record of this replay, or NULL when it lies past the end its
 * partition had at the start (then the partition is done). */
static rd_kafka_message_t *replay_take(void *opaque, rd_kafka_message_t *m)
{
    replay_t *r = opaque;
    int i = part_index(r, m->partition);
    if (i >= 0 && !r->done[i] && m->offset < r->parts[i].end) {
        if (m->offset + 1 >= r->parts[i].end) part_mark_done(r, m->partition);
        return m;
    }
    part_mark_done(r, m->partition);
    rd_kafka_message_destroy(m);
    return NULL;
}

/* The record's origin is in its headers: routing such as ${topic} sees
 * what the pipeline saw, and a failure goes back with attempts + 1. */
static bool replay_prepare(void *opaque, cdc_engine_batch_t *b,
                           cdc_engine_item_t *it)
{
    replay_t *r = opaque;
    const rd_kafka_message_t *m = it->msg;
    cdc_dlqread_record_t *rec = cdc_arena_alloc(&b->arena, sizeof *rec);
    if (!rec) return false; /* stays NEW: the retry decodes it again */
    cdc_dlqread_parse(m, rec);
    it->origin = rec;
    it->event.topic = cdc_arena_strndup(&b->arena, rec->topic, strlen(rec->topic));
    it->event.partition = rec->partition;
    it->event.offset = rec->offset;
    it->event.kafka_timestamp_ms = rd_kafka_message_timestamp(m, NULL);
    it->replay_attempts = rec->replay_attempts + 1;
    /* Ordered against the snapshot its partition had shown back then (or
     * none): never against the DLQ's own mix of partitions and times. */
    it->snapshot_lsn_given = true;
    it->has_snapshot_lsn = rec->has_snapshot_lsn;
    it->snapshot_lsn = rec->snapshot_lsn;
    if (!cdc_dlqread_match(&r->opts->filter, rec)) {
        it->state = CDC_ENGINE_FINAL;
        it->filtered = true;
        return false;
    }
    if (!rec->has_source) {
        cdc_engine_item_reject(r->engine, b, it, "data", "cdcsink.ReplayError",
                               "no __connect.errors.topic/partition/offset "
                               "headers: not a cdcsink DLQ record, cannot be "
                               "routed");
        return false;
    }
    return true;
}

static void dry_run_line(replay_t *r, const cdc_engine_item_t *it, cdc_buf_t *buf)
{
    const cdc_dlqread_record_t *rec = it->origin;
    const char *verb = it->filtered ? "skip"
                       : it->outcome == CDC_OUTCOME_REJECTED ? "fail" : "apply";
    cdc_buf_reset(buf);
    fprintf(r->out, "%-5s dlq [%d] @%lld  %s [%d] @%lld", verb,
            it->msg->partition, (long long)it->msg->offset,
            rec && rec->topic[0] ? rec->topic : "?", rec ? rec->partition : -1,
            rec ? (long long)rec->offset : -1LL);
    if (it->filtered) {
        fputs("  (not selected)", r->out);
    } else if (it->outcome == CDC_OUTCOME_REJECTED) {
        fprintf(r->out, "  %s: %s", it->dlq.exception_name, it->dlq.message);
    } else {
        cdc_render_row(it->event.key_schema, it->event.key, buf);
        fprintf(r->out, "  op=%s key=%s", cdc_op_name(it->event.op),
                buf->failed ? "?" : buf->data);
    }
    fputc('\n', r->out);
}

static void count_item(replay_t *r, const cdc_engine_item_t *it)
{
    if (it->filtered) r->stats.skipped_by_filter++;
    else if (it->outcome == CDC_OUTCOME_REJECTED) r->stats.failed_again++;
    else if (r->opts->dry_run) r->stats.would_apply++;
    else if (it->outcome == CDC_OUTCOME_APPLIED) r->stats.applied++;
    else r->stats.stale++; /* stale, or nothing to do: as harmless */
}

/* Every record of the batch is final: count, report, store the next
 * offset of each partition and commit, so a replay stopped after this
 * batch resumes after it. A dry run commits nothing. */
static void replay_final(void *opaque, cdc_engine_batch_t *b)
{
    replay_t *r = opaque;
    cdc_buf_t buf;
    cdc_buf_init(&buf);
    for (size_t i = 0; i < b->count; i++) {
        const cdc_engine_item_t *it = &b->items[i];
        if (it->abandoned) continue;
        count_item(r, it);
        if (r->opts->dry_run) dry_run_line(r, it, &buf);
    }
    cdc_buf_free(&buf);
    if (r->opts->dry_run) {
        fflush(r->out);
        return;
    }
    for (size_t i = b->count; i-- > 0;) { /* the highest offset first */
        const rd_kafka_message_t *m = b->items[i].msg;
        if (b->items[i].abandoned) continue;
        /* Storing a lower offset after a higher one would move back. */
        bool later = false;
        for (size_t j = i + 1; j < b->count && !later; j++)
            later = !b->items[j].abandoned && b->items[j].msg->partition == m->partition;
        if (!later && cdc_consumer_store(r->consumer, r->topic, m->partition,
                                         m->offset + 1, NULL) != 0)
            cdc_log_warn("storing DLQ offsets of [%d]: partition no longer ours "
                         "(its new owner replays it)", m->partition);
    }
    cdc_consumer_commit(r->consumer, true);
}

/* Pauses every assigned partition, or resumes those not read to the end. */
static void replay_pause(void *opaque, bool pause)
{
    replay_t *r = opaque;
    cdc_consumer_pause_all(r->consumer, pause);
    if (pause) return;
    for (size_t i = 0; i < r->nparts; i++)
        if (r->done[i]) cdc_consumer_pause_one(r->consumer, r->topic, r->parts[i].id, true);
}

static const cdc_engine_hooks_t replay_hooks = {
    .prepare = replay_prepare,
    .take = replay_take,
    .final = replay_final,
    .pause = replay_pause,
};

static void replay_on_rebalance(rd_kafka_t *rk, bool assigned,
                                const rd_kafka_topic_partition_list_t *parts,
                                void *opaque)
{
    (void)rk;
    replay_t *r = opaque;
    if (!assigned && r->engine) cdc_engine_revoke(r->engine, parts);
}

/* ---------------------------------------------------------------------
 * Setup and the loop
 * ------------------------------------------------------------------- */

static int replay_open_engine(replay_t *r, char *errstr, size_t errstr_size)
{
    cdc_engine_options_t opts;
    cdc_engine_options_read(r->cfg, &opts);
    opts.shutdown_timeout_ms = 0; /* a stop ends the retries at once */
    opts.dry_run = r->opts->dry_run;
    r->engine = cdc_engine_new(&opts, &replay_hooks, r, r->consumer, &r->engine_parts, NULL);
    return r->engine ? 0 : cdc_errstr_set(errstr, errstr_size, "out of memory");
}

/* Opens what the replay writes to (not in a dry run), the decoder and the
 * consumer; reads the DLQ's watermarks. */
static int replay_open(replay_t *r, char *errstr, size_t errstr_size)
{
    if (cdc_engine_parts_open(&r->engine_parts, r->cfg, r->opts->dry_run, errstr,
                              errstr_size) != 0)
        return -1;
    char group[512];
    snprintf(group, sizeof group, "%s.dlq-replay",
             cdc_config_settings(r->cfg)->group_id);
    cdc_consumer_options_t copts = {
        .group_id = group, .topic = r->topic, .on_eof = replay_on_eof};
    if (!(r->consumer = cdc_consumer_new(r->cfg, &copts, replay_on_rebalance, r,
                                         errstr, errstr_size)))
        return -1;
    if (cdc_dlqread_partitions(cdc_consumer_handle(r->consumer), r->topic,
                               REPLAY_TIMEOUT_MS, &r->parts, &r->nparts, errstr,
                               errstr_size) != 0)
        return -1;
    r->done = calloc(r->nparts + 1, sizeof *r->done);
    if (!r->done) return cdc_errstr_set(errstr, errstr_size, "out of memory");
    if (replay_open_engine(r, errstr, errstr_size) != 0) return -1;
    cdc_log_info("replaying DLQ %s as group %s%s", r->topic, group,
                 r->opts->dry_run ? " (dry run: nothing written or committed)" : "");
    return 0;
}

static bool replay_empty(const replay_t *r)
{
    for (size_t i = 0; i < r->nparts; i++)
        if (r->parts[i].end > r->parts[i].low) return false;
    return true;
}

/* Fills the batch up to batch_size; returns as soon as nothing more came
 * within a short wait, so the caller can check whether it is finished. */
static int batch_collect(replay_t *r, volatile sig_atomic_t *stop, bool *fatal)
{
    size_t max = r->opts->batch_size ? r->opts->batch_size : REPLAY_BATCH_DEFAULT;
    const cdc_engine_batch_t *b = cdc_engine_collecting(r->engine);
    if (cdc_engine_collect_held(r->engine, max) != 0) return -1;
    while (cdc_engine_batch_has_room(r->engine, max) && !*stop && !*fatal) {
        rd_kafka_message_t *m = cdc_consumer_poll(r->consumer, b->count ? 50 : 100, fatal);
        if (!m) break;
        if ((m = replay_take(r, m)) && cdc_engine_collect(r->engine, m) != 0) {
            rd_kafka_message_destroy(m);
            return -1;
        }
    }
    return 0;
}

static cdc_replay_result_t replay_loop(replay_t *r, volatile sig_atomic_t *stop,
                                       char *errstr, size_t errstr_size)
{
    int64_t assign_deadline = cdc_clock_mono_ms() + REPLAY_ASSIGN_TIMEOUT_MS;
    bool assigned = false, fatal = false;
    for (;;) {
        if (batch_collect(r, stop, &fatal) != 0)
            return cdc_errstr_set(errstr, errstr_size, "out of memory"), CDC_REPLAY_FAILED;
        if (fatal)
            return cdc_errstr_set(errstr, errstr_size, "kafka consumer failed"),
                   CDC_REPLAY_FAILED;
        if (cdc_engine_collecting(r->engine)->count > 0) {
            switch (cdc_engine_step(r->engine, false, stop, &fatal, errstr, errstr_size)) {
            case CDC_ENGINE_DONE: break;
            case CDC_ENGINE_STOPPED: return CDC_REPLAY_STOPPED; /* stays unstored */
            case CDC_ENGINE_FATAL: return CDC_REPLAY_FAILED;
            }
            continue; /* a stop still lets what was fetched be finished first */
        }
        if (cdc_engine_held_count(r->engine) == 0 && replay_finished(r))
            return CDC_REPLAY_DONE;
        if (*stop) return CDC_REPLAY_STOPPED;
        assigned = assigned || cdc_consumer_assigned_count(r->consumer) > 0;
        if (!assigned && cdc_clock_mono_ms() > assign_deadline)
            return cdc_errstr_set(errstr, errstr_size,
                                  "no partition of %s was assigned within %d s "
                                  "(is another replay of this pipeline running?)",
                                  r->topic, REPLAY_ASSIGN_TIMEOUT_MS / 1000),
                   CDC_REPLAY_FAILED;
    }
}

static void replay_close(replay_t *r)
{
    cdc_consumer_destroy(r->consumer); /* leaves the group */
    cdc_engine_destroy(r->engine); /* the DLQ producer first */
    cdc_engine_parts_close(&r->engine_parts);
    free(r->parts);
    free(r->done);
}

cdc_replay_result_t cdc_replay_run(const cdc_config_t *cfg,
                                   const cdc_replay_options_t *opts,
                                   FILE *out, volatile sig_atomic_t *stop,
                                   cdc_replay_stats_t *stats, char *errstr,
                                   size_t errstr_size)
{
    replay_t r = {.cfg = cfg, .opts = opts, .out = out};
    r.topic = cdc_config_settings(cfg)->errors_deadletterqueue_topic_name;
    cdc_replay_result_t res = CDC_REPLAY_FAILED;
    if (replay_open(&r, errstr, errstr_size) != 0) goto done;
    if (replay_empty(&r)) {
        cdc_log_info("DLQ %s is empty: nothing to replay", r.topic);
        res = CDC_REPLAY_DONE;
        goto done;
    }
    res = replay_loop(&r, stop, errstr, errstr_size);
done:
    replay_close(&r);
    *stats = r.stats;
    return res;
}

void cdc_replay_print_summary(const cdc_replay_stats_t *s, bool dry_run,
                              FILE *out)
{
    if (dry_run)
        fprintf(out, "replay --dry-run: would_apply=%llu failed_again=%llu "
                     "skipped_by_filter=%llu\n",
                (unsigned long long)s->would_apply,
                (unsigned long long)s->failed_again,
                (unsigned long long)s->skipped_by_filter);
    else
        fprintf(out, "replay: applied=%llu stale=%llu failed_again=%llu "
                     "skipped_by_filter=%llu\n",
                (unsigned long long)s->applied, (unsigned long long)s->stale,
                (unsigned long long)s->failed_again,
                (unsigned long long)s->skipped_by_filter);
}
