#include "engine.h"

#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "errstr.h"
#include "grow.h"
#include "log.h"

enum { DLQ_WAIT_MS = 30000 };

typedef enum attempt_result {
    ATTEMPT_DONE = 0,
    ATTEMPT_RETRY = 1,
    ATTEMPT_FATAL = 2
} attempt_result_t;

struct cdc_engine {
    cdc_engine_options_t opts;
    const cdc_engine_hooks_t *hooks;
    void *opaque;
    cdc_consumer_t *consumer;
    cdc_engine_parts_t *parts;
    cdc_observe_t *observe;
    const char *retry_what; /* what failed in the last attempt */
    /* One batch being collected and decoded while the other may be in the
     * sink's hands on the applier thread. */
    cdc_engine_batch_t batches[2];
    cdc_engine_batch_t *batch;    /* collecting */
    cdc_engine_batch_t *inflight; /* being applied by `applier`, or NULL */
    cdc_applier_t applier;
    cdc_held_t held; /* messages that arrived while a batch was retried */
    cdc_position_tracker_t *positions; /* snapshot LSNs seen, per partition */
    cdc_engine_stats_t stats;
};

void cdc_engine_options_read(const cdc_config_t *cfg, cdc_engine_options_t *opts)
{
    const cdc_settings_t *set = cdc_config_settings(cfg);
    *opts = (cdc_engine_options_t){
        .backoff_initial_ms = set->errors_retry_backoff_initial_ms,
        .backoff_max_ms = set->errors_retry_backoff_max_ms,
        .give_up_after_ms = set->errors_retry_timeout_ms,
        .shutdown_timeout_ms = set->shutdown_timeout_ms,
        .batch_size = (size_t)set->batch_size,
        .batch_max_bytes = (size_t)set->batch_max_bytes,
    };
}

int cdc_engine_parts_open(cdc_engine_parts_t *parts, const cdc_config_t *cfg,
                          bool decode_only, char *errstr, size_t errstr_size)
{
    memset(parts, 0, sizeof *parts);
    if (!decode_only &&
        (cdc_sink_open(cfg, &parts->sink, &parts->planner, &parts->sink_state,
                       errstr, errstr_size) != 0 ||
         !(parts->dlq = cdc_dlq_new(cfg, errstr, errstr_size))))
        return -1;
    return cdc_decoder_from_config(cfg, &parts->registry, &parts->decoder,
                                   errstr, errstr_size);
}

void cdc_engine_parts_close(cdc_engine_parts_t *parts)
{
    cdc_dlq_destroy(parts->dlq);
    cdc_decoder_destroy(parts->decoder);
    cdc_registry_destroy(parts->registry);
    if (parts->sink && parts->sink_state) parts->sink->close(parts->sink_state);
    cdc_planner_destroy(parts->planner);
    memset(parts, 0, sizeof *parts);
}

cdc_engine_t *cdc_engine_new(const cdc_engine_options_t *opts,
                             const cdc_engine_hooks_t *hooks, void *opaque,
                             cdc_consumer_t *consumer, cdc_engine_parts_t *parts,
                             cdc_observe_t *observe)
{
    cdc_engine_t *e = calloc(1, sizeof *e);
    if (!e) return NULL;
    if (!(e->positions = cdc_position_tracker_new())) {
        free(e);
        return NULL;
    }
    e->opts = *opts;
    e->hooks = hooks;
    e->opaque = opaque;
    e->consumer = consumer;
    e->parts = parts;
    e->observe = observe;
    for (size_t k = 0; k < 2; k++) cdc_arena_init(&e->batches[k].arena, 256 * 1024);
    e->batch = &e->batches[0];
    return e;
}

static void batch_clear(cdc_engine_batch_t *b)
{
    for (size_t i = 0; i < b->count; i++) rd_kafka_message_destroy(b->items[i].msg);
    b->count = 0;
    b->bytes = 0;
    b->decode_deferred = false;
    b->started_ms = 0;
    b->events = NULL;
    b->index = NULL;
    b->outcomes = NULL;
    b->nevents = 0;
    cdc_arena_reset(&b->arena);
}

void cdc_engine_destroy(cdc_engine_t *e)
{
    if (!e) return;
    cdc_engine_wait(e);
    cdc_dlq_destroy(e->parts->dlq);
    e->parts->dlq = NULL;
    for (size_t k = 0; k < 2; k++) {
        batch_clear(&e->batches[k]);
        free(e->batches[k].items);
        cdc_arena_destroy(&e->batches[k].arena);
    }
    cdc_held_free(&e->held);
    cdc_position_tracker_destroy(e->positions);
    free(e);
}

cdc_engine_batch_t *cdc_engine_collecting(cdc_engine_t *e) { return e->batch; }
bool cdc_engine_inflight(const cdc_engine_t *e) { return e->inflight != NULL; }
size_t cdc_engine_held_count(const cdc_engine_t *e) { return e->held.count; }
const cdc_engine_stats_t *cdc_engine_stats(const cdc_engine_t *e) { return &e->stats; }

bool cdc_engine_snapshot_lsn(const cdc_engine_t *e, const char *topic, int32_t partition,
                             int64_t *lsn)
{
    return cdc_position_snapshot_lsn(e->positions, topic, partition, lsn);
}

void cdc_engine_note_snapshot_lsn(cdc_engine_t *e, const char *topic, int32_t partition,
                                  int64_t lsn)
{
    if (cdc_position_note_snapshot(e->positions, topic, partition, lsn) != 0)
        cdc_log_warn("%s [%d]: out of memory noting snapshot LSN %lld", topic, partition,
                     (long long)lsn);
}

bool cdc_engine_inflight_done(cdc_engine_t *e)
{
    return e->inflight && cdc_applier_done(&e->applier);
}

void cdc_engine_wait(cdc_engine_t *e)
{
    if (e->inflight) cdc_applier_wait(&e->applier);
}

/* ---------------------------------------------------------------------
 * Decoding
 * ------------------------------------------------------------------- */

void cdc_engine_item_reject(cdc_engine_t *e, cdc_engine_batch_t *b,
                            cdc_engine_item_t *it, const char *error_class,
                            const char *exception_name, const char *message)
{
    const rd_kafka_message_t *m = it->msg;
    it->outcome = CDC_OUTCOME_REJECTED;
    it->state = e->opts.dry_run ? CDC_ENGINE_FINAL : CDC_ENGINE_TO_DLQ;
    /* Original bytes and the record's origin; the headers are new. */
    it->dlq = (cdc_dlq_record_t){
        .topic = it->event.topic,
        .partition = it->event.partition,
        .offset = it->event.offset,
        .key = m->key,
        .key_len = m->key_len,
        .value = m->payload,
        .value_len = m->payload ? m->len : 0,
        .error_class = error_class,
        .exception_name = exception_name,
        .message = cdc_arena_strndup(&b->arena, message, strlen(message)),
        .replay_attempts = it->replay_attempts,
        /* The snapshot LSN it was ordered with; for a record rejected
         * before that (decoding), apply_prepare() fills it in order. */
        .has_snapshot_lsn = it->has_snapshot_lsn,
        .snapshot_lsn = it->snapshot_lsn,
    };
    cdc_log_warn("%s [%d] @%lld: %s: %s%s", it->event.topic ? it->event.topic : "?",
                 it->event.partition, (long long)it->event.offset,
                 exception_name, message, e->opts.dry_run ? "" : " → DLQ");
}

static attempt_result_t decode_item(cdc_engine_t *e, cdc_engine_batch_t *b,
                                    cdc_engine_item_t *it, char *errstr,
                                    size_t errstr_size)
{
    if (it->state != CDC_ENGINE_NEW || it->abandoned) return ATTEMPT_DONE;
    if (!e->hooks->prepare(e->opaque, b, it)) return ATTEMPT_DONE;
    const rd_kafka_message_t *m = it->msg;
    char why[1024];
    cdc_decode_status_t s = cdc_decoder_decode(
        e->parts->decoder, m->key, m->key_len, m->payload, m->len, &b->arena,
        &it->event, why, sizeof why);
    switch (s) {
    case CDC_DECODE_OK:
        it->state = e->opts.dry_run ? CDC_ENGINE_FINAL : CDC_ENGINE_DECODED;
        it->outcome = CDC_OUTCOME_APPLIED; /* a dry run: would be */
        return ATTEMPT_DONE;
    case CDC_DECODE_DATA_ERROR:
        cdc_engine_item_reject(e, b, it, "data", "cdcsink.DecodeError", why);
        return ATTEMPT_DONE;
    case CDC_DECODE_RETRY:
        e->retry_what = "registry";
        cdc_errstr_set(errstr, errstr_size, "%s [%d] @%lld: %s", it->event.topic,
                       it->event.partition, (long long)it->event.offset, why);
        return ATTEMPT_RETRY;
    case CDC_DECODE_FATAL:
        break;
    }
    cdc_errstr_set(errstr, errstr_size, "%s", why);
    return ATTEMPT_FATAL;
}

static attempt_result_t batch_decode(cdc_engine_t *e, cdc_engine_batch_t *b,
                                     char *errstr, size_t errstr_size)
{
    for (size_t i = 0; i < b->count; i++) {
        attempt_result_t r = decode_item(e, b, &b->items[i], errstr, errstr_size);
        if (r != ATTEMPT_DONE) return r;
    }
    return ATTEMPT_DONE;
}

/* ---------------------------------------------------------------------
 * Collecting
 * ------------------------------------------------------------------- */

/* The first push sizes the array for a whole batch: doubling past
 * batch.size would hold up to twice the memory in each of the two
 * batches alive at once. */
static int batch_push(cdc_engine_t *e, cdc_engine_batch_t *b, rd_kafka_message_t *m)
{
    size_t first = e->opts.batch_size ? e->opts.batch_size : 256;
    cdc_engine_item_t *items =
        cdc_grow(b->items, b->count, &b->capacity, sizeof *items, first);
    if (!items) return -1;
    b->items = items;
    cdc_engine_item_t *it = &items[b->count++];
    memset(it, 0, sizeof *it);
    it->msg = m;
    b->bytes += m->key_len + (m->payload ? m->len : 0);
    return 0;
}

bool cdc_engine_batch_has_room(const cdc_engine_t *e, size_t max)
{
    const cdc_engine_batch_t *b = e->batch;
    return b->count < max && (e->opts.batch_max_bytes == 0 || b->bytes < e->opts.batch_max_bytes);
}

/* Decoding at once overlaps it with the batch in flight; a decode that
 * needs a retry is left to the retry loop, which owns retries. */
int cdc_engine_collect(cdc_engine_t *e, rd_kafka_message_t *m)
{
    cdc_engine_batch_t *b = e->batch;
    if (batch_push(e, b, m) != 0) return -1;
    if (e->observe)
        cdc_observe_consumed(e->observe, rd_kafka_topic_name(m->rkt), m->partition);
    char why[1024];
    if (!b->decode_deferred &&
        decode_item(e, b, &b->items[b->count - 1], why, sizeof why) != ATTEMPT_DONE)
        b->decode_deferred = true;
    return 0;
}

int cdc_engine_collect_held(cdc_engine_t *e, size_t max)
{
    size_t taken = 0;
    int rc = 0;
    for (; taken < e->held.count && cdc_engine_batch_has_room(e, max); taken++)
        if (cdc_engine_collect(e, e->held.msgs[taken]) != 0) {
            rc = -1;
            break;
        }
    cdc_held_taken(&e->held, taken); /* the batch owns those */
    return rc;
}

/* ---------------------------------------------------------------------
 * Applying
 * ------------------------------------------------------------------- */

/* The decoded records, as the applier takes them; false when out of
 * memory. */
/* Positions are resolved once per record and in the partition's order:
 * a snapshot row raises what the records after it are ordered against.
 * The snapshot LSN used stays with the item, for its DLQ header. */
static bool resolve_position(cdc_engine_t *e, cdc_engine_item_t *it)
{
    if (it->position_resolved) return true;
    if (cdc_position_resolve(e->positions, &it->event, it->snapshot_lsn_given,
                             &it->has_snapshot_lsn, &it->snapshot_lsn) != 0)
        return false;
    it->position_resolved = true;
    return true;
}

/* A record rejected while decoding, before any position was resolved:
 * its DLQ header gets the snapshot LSN its partition shows at its place. */
static void note_rejected_position(cdc_engine_t *e, cdc_engine_item_t *it)
{
    if (it->position_resolved || it->snapshot_lsn_given) return;
    it->dlq.has_snapshot_lsn = cdc_position_snapshot_lsn(
        e->positions, it->event.topic, it->event.partition, &it->dlq.snapshot_lsn);
    it->position_resolved = true;
}

static bool apply_prepare(cdc_engine_t *e, cdc_engine_batch_t *b)
{
    b->events = cdc_arena_alloc(&b->arena, (b->count + 1) * sizeof *b->events);
    b->index = cdc_arena_alloc(&b->arena, (b->count + 1) * sizeof *b->index);
    b->outcomes = cdc_arena_alloc(&b->arena, (b->count + 1) * sizeof *b->outcomes);
    if (!b->events || !b->index || !b->outcomes) return false;
    b->nevents = 0;
    for (size_t i = 0; i < b->count; i++) {
        if (b->items[i].state == CDC_ENGINE_TO_DLQ && !b->items[i].abandoned)
            note_rejected_position(e, &b->items[i]);
        if (b->items[i].state != CDC_ENGINE_DECODED || b->items[i].abandoned) continue;
        if (!resolve_position(e, &b->items[i])) return false;
        b->events[b->nevents] = &b->items[i].event;
        b->index[b->nevents++] = i;
    }
    memset(b->outcomes, 0, b->nevents * sizeof *b->outcomes);
    return true;
}

static void applier_setup(cdc_engine_t *e, cdc_engine_batch_t *b)
{
    cdc_applier_t *a = &e->applier;
    a->planner = e->parts->planner;
    a->sink = e->parts->sink;
    a->sink_state = e->parts->sink_state;
    a->events = b->events;
    a->count = b->nevents;
    a->outcomes = b->outcomes;
    a->arena = &b->arena;
}

static void sink_status(cdc_engine_t *e, bool ok)
{
    if (e->observe) cdc_observe_sink_ok(e->observe, ok);
}

/* Reads the applier's answer back into the batch's items. */
static attempt_result_t apply_finish(cdc_engine_t *e, cdc_engine_batch_t *b,
                                     cdc_sink_status_t s)
{
    sink_status(e, s == CDC_SINK_OK);
    if (s == CDC_SINK_RETRY) {
        const cdc_sink_ops_t *sink = e->parts->sink;
        const char *cls = sink->retry_class ? sink->retry_class(e->parts->sink_state) : NULL;
        e->retry_what = cls ? cls : "sink";
        return ATTEMPT_RETRY;
    }
    if (s == CDC_SINK_FATAL) return ATTEMPT_FATAL;
    for (size_t k = 0; k < b->nevents; k++) {
        cdc_engine_item_t *it = &b->items[b->index[k]];
        const cdc_outcome_t *o = &b->outcomes[k];
        if (o->kind != CDC_OUTCOME_REJECTED) {
            it->state = CDC_ENGINE_FINAL;
            it->outcome = o->kind;
            continue;
        }
        cdc_engine_item_reject(e, b, it, o->error_class ? o->error_class : "data",
                               o->exception_name ? o->exception_name : "cdcsink.SinkError",
                               o->message ? o->message : "");
    }
    return ATTEMPT_DONE;
}

static attempt_result_t batch_apply(cdc_engine_t *e, cdc_engine_batch_t *b,
                                    char *errstr, size_t errstr_size)
{
    if (e->opts.dry_run) return ATTEMPT_DONE;
    if (!apply_prepare(e, b))
        return cdc_errstr_set(errstr, errstr_size, "out of memory"), ATTEMPT_RETRY;
    if (b->nevents == 0) return ATTEMPT_DONE;
    applier_setup(e, b);
    cdc_applier_run(&e->applier);
    cdc_errstr_set(errstr, errstr_size, "%s", e->applier.errstr);
    return apply_finish(e, b, e->applier.status);
}

/* Rejected records are final only once the DLQ acknowledged them. */
static attempt_result_t batch_deliver_dlq(cdc_engine_t *e, cdc_engine_batch_t *b,
                                          char *errstr, size_t errstr_size)
{
    bool any = false;
    for (size_t i = 0; i < b->count; i++) {
        cdc_engine_item_t *it = &b->items[i];
        if (it->state != CDC_ENGINE_TO_DLQ || it->abandoned) continue;
        any = true;
        if (it->dlq.state == CDC_DLQ_UNSENT || it->dlq.state == CDC_DLQ_FAILED)
            cdc_dlq_send(e->parts->dlq, &it->dlq);
    }
    if (!any) return ATTEMPT_DONE;
    cdc_dlq_wait(e->parts->dlq, DLQ_WAIT_MS);
    for (size_t i = 0; i < b->count; i++) {
        cdc_engine_item_t *it = &b->items[i];
        if (it->state != CDC_ENGINE_TO_DLQ || it->abandoned) continue;
        if (it->dlq.state != CDC_DLQ_DELIVERED) {
            e->retry_what = "dlq";
            cdc_errstr_set(errstr, errstr_size, "DLQ %s: %s [%d] @%lld (%zu bytes): %s",
                           cdc_dlq_topic(e->parts->dlq), it->dlq.topic ? it->dlq.topic : "?",
                           it->dlq.partition, (long long)it->dlq.offset,
                           it->dlq.key_len + it->dlq.value_len,
                           it->dlq.error ? it->dlq.error : "delivery pending");
            return ATTEMPT_RETRY;
        }
    }
    for (size_t i = 0; i < b->count; i++) {
        cdc_engine_item_t *it = &b->items[i];
        if (it->state == CDC_ENGINE_TO_DLQ && !it->abandoned) it->state = CDC_ENGINE_FINAL;
    }
    return ATTEMPT_DONE;
}

static attempt_result_t batch_attempt(cdc_engine_t *e, cdc_engine_batch_t *b,
                                      char *errstr, size_t errstr_size)
{
    attempt_result_t r = batch_decode(e, b, errstr, errstr_size);
    if (r == ATTEMPT_DONE) r = batch_apply(e, b, errstr, errstr_size);
    if (r == ATTEMPT_DONE) r = batch_deliver_dlq(e, b, errstr, errstr_size);
    return r;
}

/* ---------------------------------------------------------------------
 * Final, retries
 * ------------------------------------------------------------------- */

static void batch_count(cdc_engine_t *e, const cdc_engine_batch_t *b)
{
    for (size_t i = 0; i < b->count; i++) {
        const cdc_engine_item_t *it = &b->items[i];
        if (it->abandoned || it->state != CDC_ENGINE_FINAL || it->filtered) continue;
        switch (it->outcome) {
        case CDC_OUTCOME_APPLIED: e->stats.applied++; break;
        case CDC_OUTCOME_STALE: e->stats.stale++; break;
        case CDC_OUTCOME_SKIPPED: e->stats.skipped++; break;
        case CDC_OUTCOME_REJECTED: e->stats.dlq++; break;
        }
    }
}

/* Sleeps for the backoff while serving the consumer: rebalances happen and
 * max.poll.interval.ms is respected; partitions are paused, and anything
 * already fetched is kept for later, never dropped. Returns early when
 * watch_stop and a stop is requested, or when `until` passes. */
static void backoff_wait(cdc_engine_t *e, int64_t until, bool watch_stop,
                         volatile sig_atomic_t *stop, bool *fatal)
{
    while (!(watch_stop && *stop) && !*fatal) {
        int64_t left = until - cdc_clock_mono_ms();
        if (left <= 0) break;
        if (e->observe)
            cdc_observe_tick(e->observe, cdc_consumer_handle(e->consumer),
                             cdc_consumer_assigned_count(e->consumer));
        rd_kafka_message_t *m = cdc_consumer_poll(
            e->consumer, (int)(left < 100 ? left : 100), fatal);
        if (m && e->hooks->take) m = e->hooks->take(e->opaque, m);
        if (m && cdc_held_push(&e->held, m) != 0) {
            /* Dropping it would lose it: stop instead, uncommitted. */
            cdc_log_error("out of memory holding a fetched message");
            rd_kafka_message_destroy(m);
            *fatal = true;
        }
    }
}

typedef struct retry_state {
    int64_t backoff;
    int64_t started;
    int64_t stop_deadline; /* 0 until a stop is seen */
    bool paused;
} retry_state_t;

/* Decides after a failed attempt: wait and try again (true), or give up
 * (*result says how). A stop leaves the batch shutdown_timeout_ms. */
static bool retry_again(cdc_engine_t *e, retry_state_t *rs,
                        volatile sig_atomic_t *stop, bool *fatal,
                        const char *why, cdc_engine_result_t *result,
                        char *errstr, size_t errstr_size)
{
    int64_t now = cdc_clock_mono_ms();
    if (e->opts.give_up_after_ms >= 0 && now - rs->started > e->opts.give_up_after_ms) {
        cdc_errstr_set(errstr, errstr_size,
                       "giving up after errors.retry.timeout.ms=%lld: %s",
                       (long long)e->opts.give_up_after_ms, why);
        *result = CDC_ENGINE_FATAL;
        return false;
    }
    if (*stop && !rs->stop_deadline) rs->stop_deadline = now + e->opts.shutdown_timeout_ms;
    if (rs->stop_deadline && now >= rs->stop_deadline) {
        cdc_log_warn("stopping during retries: the batch is not committed");
        *result = CDC_ENGINE_STOPPED;
        return false;
    }
    cdc_log_warn("transient failure, retrying the batch in %lld ms: %s",
                 (long long)rs->backoff, why);
    if (!rs->paused) {
        e->hooks->pause(e->opaque, true);
        rs->paused = true;
    }
    int64_t until = now + rs->backoff;
    if (rs->stop_deadline && until > rs->stop_deadline) until = rs->stop_deadline;
    backoff_wait(e, until, !rs->stop_deadline, stop, fatal);
    rs->backoff = rs->backoff * 2 > e->opts.backoff_max_ms ? e->opts.backoff_max_ms
                                                           : rs->backoff * 2;
    return true;
}

/* Brings the batch to final: attempts, and retries with backoff. `first`
 * is the outcome of an attempt already made (the applier's), with its
 * error in first_why; NULL to start with an attempt. */
static cdc_engine_result_t batch_process(cdc_engine_t *e, cdc_engine_batch_t *b,
                                         const attempt_result_t *first,
                                         const char *first_why,
                                         volatile sig_atomic_t *stop,
                                         bool *fatal, char *errstr,
                                         size_t errstr_size)
{
    retry_state_t rs = {.backoff = e->opts.backoff_initial_ms, .started = b->started_ms};
    cdc_engine_result_t result = CDC_ENGINE_DONE;
    for (;;) {
        char why[1024] = "";
        attempt_result_t r;
        if (first) {
            r = *first;
            cdc_errstr_set(why, sizeof why, "%s", first_why);
            first = NULL;
        } else {
            r = batch_attempt(e, b, why, sizeof why);
        }
        if (r == ATTEMPT_DONE) {
            batch_count(e, b);
            e->hooks->final(e->opaque, b);
            break;
        }
        if (r == ATTEMPT_FATAL || *fatal) {
            cdc_errstr_set(errstr, errstr_size, "%s", why[0] ? why : "kafka consumer failed");
            result = CDC_ENGINE_FATAL;
            break;
        }
        e->stats.retries++;
        if (e->observe) cdc_observe_retry(e->observe, e->retry_what ? e->retry_what : "sink");
        if (!retry_again(e, &rs, stop, fatal, why, &result, errstr, errstr_size))
            break;
    }
    if (rs.paused) e->hooks->pause(e->opaque, false);
    e->stats.batches++;
    if (e->observe)
        cdc_observe_batch(e->observe, (double)(cdc_clock_mono_ms() - rs.started) / 1000.0);
    return result;
}

/* Waits for the batch in flight and brings it to final (DLQ, retries). */
static cdc_engine_result_t inflight_finish(cdc_engine_t *e,
                                           volatile sig_atomic_t *stop,
                                           bool *fatal, char *errstr,
                                           size_t errstr_size)
{
    cdc_engine_batch_t *b = e->inflight;
    cdc_applier_wait(&e->applier);
    e->inflight = NULL;
    attempt_result_t r = apply_finish(e, b, e->applier.status);
    char why[1024];
    cdc_errstr_set(why, sizeof why, "%s", e->applier.errstr);
    if (r == ATTEMPT_DONE) r = batch_deliver_dlq(e, b, why, sizeof why);
    cdc_engine_result_t result =
        batch_process(e, b, &r, why, stop, fatal, errstr, errstr_size);
    batch_clear(b);
    return result;
}

/* Hands the decoded batch to the applier thread and collects into the
 * other one meanwhile. */
static void inflight_start(cdc_engine_t *e)
{
    cdc_engine_batch_t *b = e->batch;
    applier_setup(e, b);
    e->inflight = b;
    e->batch = b == &e->batches[0] ? &e->batches[1] : &e->batches[0];
    cdc_applier_start(&e->applier);
}

cdc_engine_result_t cdc_engine_step(cdc_engine_t *e, bool overlap,
                                    volatile sig_atomic_t *stop, bool *fatal,
                                    char *errstr, size_t errstr_size)
{
    cdc_engine_batch_t *b = e->batch;
    cdc_engine_result_t r = CDC_ENGINE_DONE;
    if (e->inflight) {
        r = inflight_finish(e, stop, fatal, errstr, errstr_size);
        if (r != CDC_ENGINE_DONE) return r;
    }
    if (b->count == 0) return r;
    b->started_ms = cdc_clock_mono_ms();
    /* A stop requested meanwhile still lets the batch finish; only a batch
     * stuck in retries is abandoned, uncommitted. */
    if (overlap && !e->opts.dry_run && !b->decode_deferred && !*stop &&
        apply_prepare(e, b) && b->nevents > 0) {
        inflight_start(e);
        return r;
    }
    r = batch_process(e, b, NULL, NULL, stop, fatal, errstr, errstr_size);
    batch_clear(b);
    return r;
}

/* ---------------------------------------------------------------------
 * Rebalance
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

void cdc_engine_revoke(cdc_engine_t *e,
                       const rd_kafka_topic_partition_list_t *parts)
{
    /* The batch in the sink's hands finishes first; whatever it wrote for
     * the lost partitions is not stored, and the next owner finds those
     * rows already written (stale), as after any redelivery. */
    cdc_engine_wait(e);
    for (size_t k = 0; k < 2; k++) {
        cdc_engine_batch_t *b = &e->batches[k];
        for (size_t i = 0; i < b->count; i++)
            if (partition_in(b->items[i].msg, parts)) b->items[i].abandoned = true;
    }
    cdc_held_drop_if(&e->held, partition_in, parts);
    /* What these partitions showed of snapshots comes back with their
     * committed offsets if they return; what was read past the commit is
     * read again. */
    for (int i = 0; i < parts->cnt; i++)
        cdc_position_forget(e->positions, parts->elems[i].topic, parts->elems[i].partition);
}
