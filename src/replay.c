#include "replay.h"

#include <librdkafka/rdkafka.h>
#include <stdlib.h>
#include <string.h>

#include "applier.h"
#include "arena.h"
#include "buf.h"
#include "clock.h"
#include "decode.h"
#include "dlq.h"
#include "errstr.h"
#include "grow.h"
#include "held.h"
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
    REPLAY_ASSIGN_TIMEOUT_MS = 60000,
    REPLAY_DLQ_WAIT_MS = 30000
};

typedef enum item_state {
    ITEM_NEW = 0,     /* not classified or decoded yet */
    ITEM_DECODED = 1, /* waiting for the sink */
    ITEM_FINAL = 2,   /* its result is known */
    ITEM_TO_DLQ = 3   /* failed again: waiting for the DLQ's delivery report */
} item_state_t;

typedef enum item_result {
    RESULT_NONE = 0,
    RESULT_APPLIED,
    RESULT_STALE,
    RESULT_FAILED,
    RESULT_FILTERED,
    RESULT_WOULD_APPLY
} item_result_t;

typedef struct replay_item {
    rd_kafka_message_t *msg;
    item_state_t state;
    item_result_t result;
    cdc_dlqread_record_t rec;
    cdc_event_t event;
    cdc_dlq_record_t dlq; /* also says why it failed, in a dry run */
} replay_item_t;

typedef enum attempt_result {
    ATTEMPT_DONE = 0,
    ATTEMPT_RETRY = 1,
    ATTEMPT_FATAL = 2
} attempt_result_t;

typedef struct replay {
    const cdc_config_t *cfg;
    const cdc_replay_options_t *opts;
    FILE *out;
    const cdc_sink_ops_t *sink;
    void *sink_state;
    cdc_planner_t *planner;
    cdc_applier_t applier;
    cdc_registry_t *registry;
    cdc_decoder_t *decoder;
    cdc_dlq_t *dlq;
    rd_kafka_t *rk;
    const char *topic;
    cdc_dlqread_partition_t *parts; /* as of the start */
    bool *done;                     /* parallel to parts: read to its end */
    size_t nparts;
    replay_item_t *items;
    size_t count, cap;
    cdc_held_t pending; /* fetched during a backoff */
    cdc_arena_t arena;
    cdc_replay_stats_t stats;
    bool fatal; /* the consumer failed for good */
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
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(l, r->topic, partition);
    rd_kafka_pause_partitions(r->rk, l);
    rd_kafka_topic_partition_list_destroy(l);
}

static bool part_done(const replay_t *r, int32_t partition)
{
    int i = part_index(r, partition);
    /* A partition added after the start has nothing of this replay. */
    return i < 0 || r->done[i];
}

/* Finished: we hold partitions and every one of them is read to its end. */
static bool replay_finished(replay_t *r)
{
    rd_kafka_topic_partition_list_t *l = NULL;
    if (rd_kafka_assignment(r->rk, &l) || !l) return false;
    bool finished = l->cnt > 0;
    for (int i = 0; i < l->cnt && finished; i++)
        finished = part_done(r, l->elems[i].partition);
    rd_kafka_topic_partition_list_destroy(l);
    return finished;
}

static bool replay_assigned(replay_t *r)
{
    rd_kafka_topic_partition_list_t *l = NULL;
    if (rd_kafka_assignment(r->rk, &l) || !l) return false;
    bool any = l->cnt > 0;
    rd_kafka_topic_partition_list_destroy(l);
    return any;
}

/* Pauses every assigned partition (backoff) or resumes those not done. */
static void replay_pause(replay_t *r, bool pause)
{
    rd_kafka_topic_partition_list_t *l = NULL;
    if (rd_kafka_assignment(r->rk, &l) || !l) return;
    rd_kafka_topic_partition_list_t *sel = rd_kafka_topic_partition_list_new(l->cnt + 1);
    for (int i = 0; i < l->cnt; i++)
        if (pause || !part_done(r, l->elems[i].partition))
            rd_kafka_topic_partition_list_add(sel, l->elems[i].topic,
                                              l->elems[i].partition);
    if (sel->cnt && pause) rd_kafka_pause_partitions(r->rk, sel);
    else if (sel->cnt) rd_kafka_resume_partitions(r->rk, sel);
    rd_kafka_topic_partition_list_destroy(sel);
    rd_kafka_topic_partition_list_destroy(l);
}

/* ---------------------------------------------------------------------
 * Collecting a batch
 * ------------------------------------------------------------------- */

static int batch_push(replay_t *r, rd_kafka_message_t *m)
{
    replay_item_t *items = cdc_grow(r->items, r->count, &r->cap, sizeof *items, 256);
    if (!items) return -1;
    r->items = items;
    replay_item_t *it = &items[r->count++];
    memset(it, 0, sizeof *it);
    it->msg = m;
    return 0;
}

static void batch_clear(replay_t *r)
{
    for (size_t i = 0; i < r->count; i++) rd_kafka_message_destroy(r->items[i].msg);
    r->count = 0;
    cdc_arena_reset(&r->arena);
}

/* What one poll returned: a record of this replay (returned), an EOF or a
 * record past the end (the partition is done), or an error. */
static rd_kafka_message_t *replay_take(replay_t *r, rd_kafka_message_t *m)
{
    if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
        part_mark_done(r, m->partition);
    } else if (m->err == RD_KAFKA_RESP_ERR__FATAL ||
               m->err == RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED ||
               m->err == RD_KAFKA_RESP_ERR_GROUP_AUTHORIZATION_FAILED) {
        cdc_log_error("kafka: %s", rd_kafka_message_errstr(m));
        r->fatal = true;
    } else if (m->err) {
        cdc_log_warn("kafka: %s", rd_kafka_message_errstr(m)); /* retried */
    } else {
        int i = part_index(r, m->partition);
        if (i >= 0 && !r->done[i] && m->offset < r->parts[i].end) {
            if (m->offset + 1 >= r->parts[i].end) part_mark_done(r, m->partition);
            return m;
        }
        part_mark_done(r, m->partition);
    }
    rd_kafka_message_destroy(m);
    return NULL;
}

/* Fills the batch up to batch_size; returns as soon as nothing more came
 * within a short wait, so the caller can check whether it is finished. */
static int batch_collect(replay_t *r, volatile sig_atomic_t *stop)
{
    size_t max = r->opts->batch_size ? r->opts->batch_size : REPLAY_BATCH_DEFAULT;
    size_t taken = 0;
    for (; taken < r->pending.count && r->count < max; taken++)
        if (batch_push(r, r->pending.msgs[taken]) != 0) {
            cdc_held_taken(&r->pending, taken); /* the batch owns those */
            return -1;
        }
    cdc_held_taken(&r->pending, taken);
    while (r->count < max && !*stop && !r->fatal) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(r->rk, r->count ? 50 : 100);
        if (!m) break;
        if ((m = replay_take(r, m)) && batch_push(r, m) != 0) {
            rd_kafka_message_destroy(m);
            return -1;
        }
    }
    return 0;
}

/* ---------------------------------------------------------------------
 * Processing a batch: classify and decode, apply, dead-letter again
 * ------------------------------------------------------------------- */

static void item_fail(replay_t *r, replay_item_t *it, const char *error_class,
                      const char *exception_name, const char *message)
{
    const rd_kafka_message_t *m = it->msg;
    it->state = r->opts->dry_run ? ITEM_FINAL : ITEM_TO_DLQ;
    it->result = RESULT_FAILED;
    /* Original bytes and coordinates; the headers are written afresh. */
    it->dlq = (cdc_dlq_record_t){
        .topic = it->event.topic,
        .partition = it->rec.partition,
        .offset = it->rec.offset,
        .key = m->key,
        .key_len = m->key_len,
        .value = m->payload,
        .value_len = m->payload ? m->len : 0,
        .error_class = error_class,
        .exception_name = exception_name,
        .message = cdc_arena_strndup(&r->arena, message, strlen(message)),
        .replay_attempts = it->rec.replay_attempts + 1,
    };
    cdc_log_warn("%s [%d] @%lld (DLQ [%d] @%lld): failed again: %s: %s%s",
                 it->rec.topic, it->rec.partition, (long long)it->rec.offset,
                 m->partition, (long long)m->offset, exception_name, message,
                 r->opts->dry_run ? "" : " → DLQ");
}

static void item_prepare(replay_t *r, replay_item_t *it)
{
    const rd_kafka_message_t *m = it->msg;
    cdc_dlqread_parse(m, &it->rec);
    it->event.topic = cdc_arena_strndup(&r->arena, it->rec.topic, strlen(it->rec.topic));
    it->event.partition = it->rec.partition;
    it->event.offset = it->rec.offset;
    it->event.kafka_timestamp_ms = rd_kafka_message_timestamp(m, NULL);
}

/* Decides what a new record is: not selected, not replayable, or decoded. */
static attempt_result_t item_decode(replay_t *r, replay_item_t *it,
                                    char *errstr, size_t errstr_size)
{
    const rd_kafka_message_t *m = it->msg;
    item_prepare(r, it);
    if (!cdc_dlqread_match(&r->opts->filter, &it->rec)) {
        it->state = ITEM_FINAL;
        it->result = RESULT_FILTERED;
        return ATTEMPT_DONE;
    }
    if (!it->rec.has_source) {
        item_fail(r, it, "data", "cdcsink.ReplayError",
                  "no __connect.errors.topic/partition/offset headers: "
                  "not a cdcsink DLQ record, cannot be routed");
        return ATTEMPT_DONE;
    }
    char why[1024];
    cdc_decode_status_t s = cdc_decoder_decode(r->decoder, m->key, m->key_len,
                                               m->payload, m->len, &r->arena,
                                               &it->event, why, sizeof why);
    switch (s) {
    case CDC_DECODE_OK:
        it->state = r->opts->dry_run ? ITEM_FINAL : ITEM_DECODED;
        it->result = r->opts->dry_run ? RESULT_WOULD_APPLY : RESULT_NONE;
        return ATTEMPT_DONE;
    case CDC_DECODE_DATA_ERROR:
        item_fail(r, it, "data", "cdcsink.DecodeError", why);
        return ATTEMPT_DONE;
    case CDC_DECODE_RETRY:
        cdc_errstr_set(errstr, errstr_size, "%s [%d] @%lld: %s", it->rec.topic,
                       it->rec.partition, (long long)it->rec.offset, why);
        return ATTEMPT_RETRY;
    case CDC_DECODE_FATAL:
        break;
    }
    cdc_errstr_set(errstr, errstr_size, "%s", why);
    return ATTEMPT_FATAL;
}

static attempt_result_t batch_decode(replay_t *r, char *errstr,
                                     size_t errstr_size)
{
    for (size_t i = 0; i < r->count; i++) {
        if (r->items[i].state != ITEM_NEW) continue;
        attempt_result_t a = item_decode(r, &r->items[i], errstr, errstr_size);
        if (a != ATTEMPT_DONE) return a;
    }
    return ATTEMPT_DONE;
}

static void item_outcome(replay_t *r, replay_item_t *it, const cdc_outcome_t *o)
{
    switch (o->kind) {
    case CDC_OUTCOME_APPLIED:
        it->state = ITEM_FINAL;
        it->result = RESULT_APPLIED;
        break;
    case CDC_OUTCOME_STALE:
    case CDC_OUTCOME_SKIPPED: /* nothing to do is as harmless as stale */
        it->state = ITEM_FINAL;
        it->result = RESULT_STALE;
        break;
    case CDC_OUTCOME_REJECTED:
        item_fail(r, it, o->error_class ? o->error_class : "data",
                  o->exception_name ? o->exception_name : "cdcsink.SinkError",
                  o->message ? o->message : "");
        break;
    }
}

static attempt_result_t batch_apply(replay_t *r, char *errstr,
                                    size_t errstr_size)
{
    size_t n = 0, cap = r->count + 1;
    const cdc_event_t **events = cdc_arena_alloc(&r->arena, cap * sizeof *events);
    size_t *index = cdc_arena_alloc(&r->arena, cap * sizeof *index);
    cdc_outcome_t *outcomes = cdc_arena_alloc(&r->arena, cap * sizeof *outcomes);
    if (!events || !index || !outcomes)
        return cdc_errstr_set(errstr, errstr_size, "out of memory"), ATTEMPT_RETRY;
    for (size_t i = 0; i < r->count; i++) {
        if (r->items[i].state != ITEM_DECODED) continue;
        events[n] = &r->items[i].event;
        index[n++] = i;
    }
    if (n == 0) return ATTEMPT_DONE;
    cdc_applier_t *a = &r->applier;
    a->planner = r->planner;
    a->sink = r->sink;
    a->sink_state = r->sink_state;
    a->events = events;
    a->count = n;
    a->outcomes = outcomes;
    a->arena = &r->arena;
    cdc_applier_run(a);
    cdc_errstr_set(errstr, errstr_size, "%s", a->errstr);
    if (a->status == CDC_SINK_RETRY) return ATTEMPT_RETRY;
    if (a->status == CDC_SINK_FATAL) return ATTEMPT_FATAL;
    for (size_t k = 0; k < n; k++) item_outcome(r, &r->items[index[k]], &outcomes[k]);
    return ATTEMPT_DONE;
}

/* Failed-again records are final only once the DLQ acknowledged them. */
static attempt_result_t batch_deliver_dlq(replay_t *r, char *errstr,
                                          size_t errstr_size)
{
    bool any = false;
    for (size_t i = 0; i < r->count; i++) {
        replay_item_t *it = &r->items[i];
        if (it->state != ITEM_TO_DLQ) continue;
        any = true;
        if (it->dlq.state == CDC_DLQ_UNSENT || it->dlq.state == CDC_DLQ_FAILED)
            cdc_dlq_send(r->dlq, &it->dlq);
    }
    if (!any) return ATTEMPT_DONE;
    cdc_dlq_wait(r->dlq, REPLAY_DLQ_WAIT_MS);
    for (size_t i = 0; i < r->count; i++) {
        replay_item_t *it = &r->items[i];
        if (it->state == ITEM_TO_DLQ && it->dlq.state != CDC_DLQ_DELIVERED) {
            cdc_errstr_set(errstr, errstr_size, "DLQ %s: %s", cdc_dlq_topic(r->dlq),
                           it->dlq.error[0] ? it->dlq.error : "delivery pending");
            return ATTEMPT_RETRY;
        }
    }
    for (size_t i = 0; i < r->count; i++)
        if (r->items[i].state == ITEM_TO_DLQ) r->items[i].state = ITEM_FINAL;
    return ATTEMPT_DONE;
}

static attempt_result_t batch_attempt(replay_t *r, char *errstr,
                                      size_t errstr_size)
{
    attempt_result_t a = batch_decode(r, errstr, errstr_size);
    if (a == ATTEMPT_DONE && !r->opts->dry_run) a = batch_apply(r, errstr, errstr_size);
    if (a == ATTEMPT_DONE && !r->opts->dry_run)
        a = batch_deliver_dlq(r, errstr, errstr_size);
    return a;
}

/* ---------------------------------------------------------------------
 * Finishing a batch: report, count, store, commit
 * ------------------------------------------------------------------- */

static void dry_run_line(replay_t *r, const replay_item_t *it, cdc_buf_t *buf)
{
    static const char *const verbs[] = {
        [RESULT_FAILED] = "fail", [RESULT_FILTERED] = "skip",
        [RESULT_WOULD_APPLY] = "apply"};
    cdc_buf_reset(buf);
    fprintf(r->out, "%-5s dlq [%d] @%lld  %s [%d] @%lld", verbs[it->result],
            it->msg->partition, (long long)it->msg->offset,
            it->rec.topic[0] ? it->rec.topic : "?", it->rec.partition,
            (long long)it->rec.offset);
    if (it->result == RESULT_WOULD_APPLY) {
        cdc_render_row(it->event.key_schema, it->event.key, buf);
        fprintf(r->out, "  op=%s key=%s", cdc_op_name(it->event.op),
                buf->failed ? "?" : buf->data);
    } else if (it->result == RESULT_FAILED) {
        fprintf(r->out, "  %s: %s", it->dlq.exception_name, it->dlq.message);
    } else {
        fputs("  (not selected)", r->out);
    }
    fputc('\n', r->out);
}

static void batch_count(replay_t *r)
{
    cdc_buf_t buf;
    cdc_buf_init(&buf);
    for (size_t i = 0; i < r->count; i++) {
        const replay_item_t *it = &r->items[i];
        switch (it->result) {
        case RESULT_APPLIED: r->stats.applied++; break;
        case RESULT_STALE: r->stats.stale++; break;
        case RESULT_FAILED: r->stats.failed_again++; break;
        case RESULT_FILTERED: r->stats.skipped_by_filter++; break;
        case RESULT_WOULD_APPLY: r->stats.would_apply++; break;
        case RESULT_NONE: break;
        }
        if (r->opts->dry_run) dry_run_line(r, it, &buf);
    }
    cdc_buf_free(&buf);
    if (r->opts->dry_run) fflush(r->out);
}

/* Every record of the batch is final: store the next offset of each
 * partition (the highest record seen + 1) and commit, so a replay stopped
 * after this batch resumes after it. */
static void batch_commit(replay_t *r)
{
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(8);
    for (size_t i = 0; i < r->count; i++) {
        const rd_kafka_message_t *m = r->items[i].msg;
        rd_kafka_topic_partition_t *tp =
            rd_kafka_topic_partition_list_find(l, r->topic, m->partition);
        if (!tp) tp = rd_kafka_topic_partition_list_add(l, r->topic, m->partition);
        if (m->offset + 1 > tp->offset) tp->offset = m->offset + 1;
    }
    rd_kafka_resp_err_t err = rd_kafka_offsets_store(r->rk, l);
    if (err) /* partitions lost to a rebalance: their new owner replays them */
        cdc_log_warn("storing DLQ offsets: %s", rd_kafka_err2str(err));
    rd_kafka_topic_partition_list_destroy(l);
    err = rd_kafka_commit(r->rk, NULL, 0);
    if (err && err != RD_KAFKA_RESP_ERR__NO_OFFSET)
        cdc_log_warn("commit of the replay group failed: %s", rd_kafka_err2str(err));
}

/* Waits out a backoff while polling, so the group keeps us; partitions are
 * paused and anything already fetched is kept for later. */
static void backoff_wait(replay_t *r, int64_t ms, volatile sig_atomic_t *stop)
{
    int64_t until = cdc_clock_mono_ms() + ms;
    while (!*stop && !r->fatal) {
        int64_t left = until - cdc_clock_mono_ms();
        if (left <= 0) break;
        rd_kafka_message_t *m =
            rd_kafka_consumer_poll(r->rk, (int)(left < 100 ? left : 100));
        if (m && (m = replay_take(r, m)) && cdc_held_push(&r->pending, m) != 0) {
            cdc_log_error("out of memory holding a fetched DLQ record");
            rd_kafka_message_destroy(m);
            r->fatal = true;
        }
    }
}

/* Attempts the batch until every record is final, backing off on transient
 * errors exactly as the pipeline does. */
static cdc_replay_result_t batch_process(replay_t *r, volatile sig_atomic_t *stop,
                                         char *errstr, size_t errstr_size)
{
    int64_t backoff = cdc_config_get_int(r->cfg, "errors.retry.backoff.initial.ms");
    int64_t backoff_max = cdc_config_get_int(r->cfg, "errors.retry.backoff.max.ms");
    int64_t give_up_after = cdc_config_get_int(r->cfg, "errors.retry.timeout.ms");
    int64_t started = cdc_clock_mono_ms();
    bool paused = false;
    cdc_replay_result_t result = CDC_REPLAY_DONE;
    for (;;) {
        char why[1024] = "";
        attempt_result_t a = batch_attempt(r, why, sizeof why);
        if (a == ATTEMPT_DONE) break;
        if (a == ATTEMPT_FATAL || r->fatal) {
            cdc_errstr_set(errstr, errstr_size, "%s", why[0] ? why : "kafka consumer failed");
            result = CDC_REPLAY_FAILED;
            break;
        }
        if (give_up_after >= 0 && cdc_clock_mono_ms() - started > give_up_after) {
            cdc_errstr_set(errstr, errstr_size,
                           "giving up after errors.retry.timeout.ms=%lld: %s",
                           (long long)give_up_after, why);
            result = CDC_REPLAY_FAILED;
            break;
        }
        cdc_log_warn("transient failure, retrying the batch in %lld ms: %s",
                     (long long)backoff, why);
        if (!paused) {
            replay_pause(r, true);
            paused = true;
        }
        backoff_wait(r, backoff, stop);
        if (*stop) {
            result = CDC_REPLAY_STOPPED;
            break;
        }
        backoff = backoff * 2 > backoff_max ? backoff_max : backoff * 2;
    }
    if (paused) replay_pause(r, false);
    return result;
}

/* ---------------------------------------------------------------------
 * Setup and the loop
 * ------------------------------------------------------------------- */

static int replay_open_sink(replay_t *r, char *errstr, size_t errstr_size)
{
    const char *name = cdc_config_get(r->cfg, "sink");
    r->sink = cdc_sink_find(name);
    if (!r->sink)
        return cdc_errstr_set(errstr, errstr_size, "sink '%s' is not built in", name);
    char why[1024];
    if (!(r->planner = cdc_sink_planner_new(r->sink, r->cfg, why, sizeof why)) ||
        r->sink->open(r->cfg, &r->sink_state, why, sizeof why) != 0) {
        r->sink_state = NULL;
        return cdc_errstr_set(errstr, errstr_size, "sink %s: %s", name, why);
    }
    return 0;
}

/* Opens what the replay writes to (not in a dry run), the decoder and the
 * consumer; reads the DLQ's watermarks. */
static int replay_open(replay_t *r, char *errstr, size_t errstr_size)
{
    if (!r->opts->dry_run) {
        if (replay_open_sink(r, errstr, errstr_size) != 0) return -1;
        if (!(r->dlq = cdc_dlq_new(r->cfg, errstr, errstr_size))) return -1;
    }
    if (cdc_dlqread_decoder_new(r->cfg, &r->registry, &r->decoder, errstr,
                                errstr_size) != 0)
        return -1;
    char group[512];
    snprintf(group, sizeof group, "%s.dlq-replay", cdc_config_get(r->cfg, "group.id"));
    if (!(r->rk = cdc_dlqread_consumer_new(r->cfg, group, errstr, errstr_size)))
        return -1;
    if (cdc_dlqread_partitions(r->rk, r->topic, REPLAY_TIMEOUT_MS, &r->parts,
                               &r->nparts, errstr, errstr_size) != 0)
        return -1;
    r->done = calloc(r->nparts + 1, sizeof *r->done);
    if (!r->done) return cdc_errstr_set(errstr, errstr_size, "out of memory");
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

static int replay_subscribe(replay_t *r, char *errstr, size_t errstr_size)
{
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(l, r->topic, RD_KAFKA_PARTITION_UA);
    rd_kafka_resp_err_t err = rd_kafka_subscribe(r->rk, l);
    rd_kafka_topic_partition_list_destroy(l);
    if (err)
        return cdc_errstr_set(errstr, errstr_size, "subscribe %s: %s", r->topic,
                              rd_kafka_err2str(err));
    return 0;
}

static cdc_replay_result_t replay_loop(replay_t *r, volatile sig_atomic_t *stop,
                                       char *errstr, size_t errstr_size)
{
    int64_t assign_deadline = cdc_clock_mono_ms() + REPLAY_ASSIGN_TIMEOUT_MS;
    bool assigned = false;
    for (;;) {
        if (batch_collect(r, stop) != 0)
            return cdc_errstr_set(errstr, errstr_size, "out of memory"), CDC_REPLAY_FAILED;
        if (r->fatal)
            return cdc_errstr_set(errstr, errstr_size, "kafka consumer failed"),
                   CDC_REPLAY_FAILED;
        if (r->count > 0) {
            cdc_replay_result_t res = batch_process(r, stop, errstr, errstr_size);
            if (res != CDC_REPLAY_DONE) return res; /* the batch stays unstored */
            batch_count(r);
            if (!r->opts->dry_run) batch_commit(r);
            batch_clear(r);
            continue; /* a stop still lets what was fetched be finished first */
        }
        if (r->pending.count == 0 && replay_finished(r)) return CDC_REPLAY_DONE;
        if (*stop) return CDC_REPLAY_STOPPED;
        assigned = assigned || replay_assigned(r);
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
    if (r->rk) {
        rd_kafka_consumer_close(r->rk); /* leaves the group */
        rd_kafka_destroy(r->rk);
    }
    /* The DLQ producer goes before the batch: pending reports point in it. */
    cdc_dlq_destroy(r->dlq);
    batch_clear(r);
    free(r->items);
    cdc_held_free(&r->pending);
    free(r->parts);
    free(r->done);
    cdc_arena_destroy(&r->arena);
    cdc_decoder_destroy(r->decoder);
    cdc_registry_destroy(r->registry);
    if (r->sink && r->sink_state) r->sink->close(r->sink_state);
    cdc_planner_destroy(r->planner);
}

cdc_replay_result_t cdc_replay_run(const cdc_config_t *cfg,
                                   const cdc_replay_options_t *opts,
                                   FILE *out, volatile sig_atomic_t *stop,
                                   cdc_replay_stats_t *stats, char *errstr,
                                   size_t errstr_size)
{
    replay_t r = {.cfg = cfg, .opts = opts, .out = out};
    r.topic = cdc_config_get(cfg, "errors.deadletterqueue.topic.name");
    cdc_arena_init(&r.arena, 256 * 1024);
    cdc_replay_result_t res = CDC_REPLAY_FAILED;
    if (replay_open(&r, errstr, errstr_size) != 0) goto done;
    if (replay_empty(&r)) {
        /* Joining the group for nothing would only cost a rebalance. */
        cdc_log_info("DLQ %s is empty: nothing to replay", r.topic);
        res = CDC_REPLAY_DONE;
        goto done;
    }
    if (replay_subscribe(&r, errstr, errstr_size) != 0) goto done;
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
