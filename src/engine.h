/* engine — one batch's way to final, for the pipeline and `dlq replay`.
 *
 *   collect ─► decode ─► plan + apply ─► outcomes ─► DLQ ─► final
 *   (driver)   (here, as   (applier:      (per        (produce,  (driver's
 *              collected)  here or on a   record)     await)     hook)
 *                          thread)
 *
 * A batch is final when every record in it is applied, stale, skipped or
 * acknowledged by the DLQ; only then does the driver's `final` hook run
 * (the pipeline stores offsets, the replay counts and commits). A
 * transient failure (registry, sink, DLQ) retries the whole batch with
 * capped exponential backoff while consumption is paused and the consumer
 * keeps being polled (group membership stays alive; what arrives is held
 * for the next batch). A fatal one stops, nothing of the batch final.
 *
 * Two batches exist: one being collected and decoded while the other may
 * be in the sink's hands on the applier thread (the pipeline's
 * apply.overlap). Batches still complete in order.
 *
 * What differs between drivers comes through cdc_engine_hooks_t: where a
 * record's origin is (the message itself, or a DLQ record's headers),
 * which polled messages belong to this run, what "final" does. */
#ifndef CDC_ENGINE_H
#define CDC_ENGINE_H

#include <librdkafka/rdkafka.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "applier.h"
#include "arena.h"
#include "config.h"
#include "consumer.h"
#include "decode.h"
#include "registry.h"
#include "dlq.h"
#include "event.h"
#include "held.h"
#include "observe.h"
#include "plan.h"
#include "position.h"
#include "sink.h"

typedef enum cdc_engine_item_state {
    CDC_ENGINE_NEW = 0,     /* not decoded yet (or the registry was down) */
    CDC_ENGINE_DECODED = 1, /* waiting for the sink */
    CDC_ENGINE_FINAL = 2,   /* its outcome is known */
    CDC_ENGINE_TO_DLQ = 3   /* waiting for the DLQ's delivery report */
} cdc_engine_item_state_t;

typedef struct cdc_engine_item {
    rd_kafka_message_t *msg;
    cdc_engine_item_state_t state;
    bool abandoned;             /* its partition was revoked: never stored */
    bool filtered;              /* settled by the driver before decoding */
    cdc_outcome_kind_t outcome; /* once FINAL: REJECTED means in the DLQ */
    int replay_attempts;        /* cdcsink.replay.attempts if it goes to the DLQ */
    bool position_resolved;     /* its position is resolved (position.h) */
    /* Where the snapshot LSN that orders it comes from: this run's view of
     * its partition, or (a DLQ replay) only what the record's
     * cdcsink.snapshot.lsn header says. Once resolved, has_snapshot_lsn
     * and snapshot_lsn hold the one it was ordered with, for the DLQ. */
    bool snapshot_lsn_given;
    bool has_snapshot_lsn;
    int64_t snapshot_lsn;
    void *origin;               /* the driver's per-record data (arena) */
    cdc_event_t event;          /* topic/partition/offset: the record's origin */
    cdc_dlq_record_t dlq;
} cdc_engine_item_t;

typedef struct cdc_engine_batch {
    cdc_engine_item_t *items;
    size_t count, capacity;
    size_t bytes; /* keys and values of its messages */
    cdc_arena_t arena;
    bool decode_deferred; /* a decode while collecting needs a retry */
    int64_t started_ms;   /* when it went to the sink (batch duration) */
    /* What the sink was given, to read its outcomes back. */
    const cdc_event_t **events;
    size_t *index; /* events[k] is items[index[k]] */
    cdc_outcome_t *outcomes;
    size_t nevents;
} cdc_engine_batch_t;

typedef struct cdc_engine_hooks {
    /* Before decoding: sets it->event's origin (topic, partition, offset,
     * timestamp) and it->replay_attempts; returns false when the item is
     * settled already (it->state FINAL and it->filtered, or it->state
     * TO_DLQ through cdc_engine_item_reject()). */
    bool (*prepare)(void *opaque, cdc_engine_batch_t *b, cdc_engine_item_t *it);
    /* A message polled while backing off: the message to hold for the next
     * batch, or NULL when the hook consumed it. May be NULL (hold all). */
    rd_kafka_message_t *(*take)(void *opaque, rd_kafka_message_t *m);
    /* Every record of the batch is final (or abandoned). */
    void (*final)(void *opaque, cdc_engine_batch_t *b);
    /* Pause (true) or resume consumption around a backoff. */
    void (*pause)(void *opaque, bool pause);
} cdc_engine_hooks_t;

typedef struct cdc_engine_options {
    int64_t backoff_initial_ms, backoff_max_ms;
    int64_t give_up_after_ms;  /* errors.retry.timeout.ms, -1: never */
    int64_t shutdown_timeout_ms; /* after a stop, how long retries go on */
    bool dry_run;              /* decode only: nothing applied or produced */
    size_t batch_size;         /* batch.size: a batch's item array is sized once */
    size_t batch_max_bytes;    /* batch.max.bytes: keys and values of a batch */
} cdc_engine_options_t;

/* The retry keys of cfg (errors.retry.*, shutdown.timeout.ms),
 * batch.size and batch.max.bytes; dry_run false. */
void cdc_engine_options_read(const cdc_config_t *cfg, cdc_engine_options_t *opts);

typedef enum cdc_engine_result {
    CDC_ENGINE_DONE = 0,    /* the batch is final, the hook ran */
    CDC_ENGINE_STOPPED = 1, /* stop requested during retries: not final */
    CDC_ENGINE_FATAL = 2    /* errstr says why: not final */
} cdc_engine_result_t;

typedef struct cdc_engine_stats {
    uint64_t applied, stale, skipped, dlq, retries, batches;
} cdc_engine_stats_t;

typedef struct cdc_engine cdc_engine_t;

/* What an engine runs over, opened from a pipeline file: the sink, its
 * planner, the registry and decoder, the DLQ producer. */
typedef struct cdc_engine_parts {
    const cdc_sink_ops_t *sink;
    void *sink_state;
    cdc_planner_t *planner;
    cdc_registry_t *registry;
    cdc_decoder_t *decoder;
    cdc_dlq_t *dlq;
} cdc_engine_parts_t;

/* Opens the registry client and decoder and, unless decode_only (a dry
 * run), the sink with its planner and the DLQ producer. -1 with errstr;
 * what was opened is closed by cdc_engine_parts_close() all the same. */
int cdc_engine_parts_open(cdc_engine_parts_t *parts, const cdc_config_t *cfg,
                          bool decode_only, char *errstr, size_t errstr_size);

/* Closes what is open, the DLQ producer first. */
void cdc_engine_parts_close(cdc_engine_parts_t *parts);

/* The engine over parts (which stay the caller's, and must outlive it)
 * and a consumer; observe may be NULL. NULL when out of memory. */
cdc_engine_t *cdc_engine_new(const cdc_engine_options_t *opts,
                             const cdc_engine_hooks_t *hooks, void *opaque,
                             cdc_consumer_t *consumer, cdc_engine_parts_t *parts,
                             cdc_observe_t *observe);

/* Waits for the batch in flight, closes the parts' DLQ producer (its
 * delivery reports point into the batches) and frees the batches and held
 * messages. */
void cdc_engine_destroy(cdc_engine_t *e);

/* The batch being collected. */
cdc_engine_batch_t *cdc_engine_collecting(cdc_engine_t *e);

/* Adds a polled message to the batch being collected and decodes it at
 * once (a decode that needs a retry is left to the retry loop). -1 when
 * out of memory (the message is then still the caller's). */
int cdc_engine_collect(cdc_engine_t *e, rd_kafka_message_t *m);

/* Moves messages held during a backoff into the collecting batch while it
 * has room (cdc_engine_batch_has_room). -1 when out of memory. */
int cdc_engine_collect_held(cdc_engine_t *e, size_t max);

/* Whether the collecting batch takes another record: fewer than max
 * records, and fewer bytes (keys and values) than batch.max.bytes. A
 * record larger than that still makes a batch of one. */
bool cdc_engine_batch_has_room(const cdc_engine_t *e, size_t max);

/* Whether a batch is in the sink's hands, and whether it is done. */
bool cdc_engine_inflight(const cdc_engine_t *e);
bool cdc_engine_inflight_done(cdc_engine_t *e);

/* Brings the batch in flight (if any) to final, then the collected one:
 * with overlap, the collected batch goes to the applier thread and this
 * returns at once. *fatal is the consumer's fatal flag. */
cdc_engine_result_t cdc_engine_step(cdc_engine_t *e, bool overlap,
                                    volatile sig_atomic_t *stop, bool *fatal,
                                    char *errstr, size_t errstr_size);

/* Marks the records of these partitions abandoned (after waiting for the
 * batch in flight) and drops the held ones: a revoke. */
void cdc_engine_revoke(cdc_engine_t *e,
                       const rd_kafka_topic_partition_list_t *parts);

/* The snapshot LSN a partition has shown (position.h); false when none. */
bool cdc_engine_snapshot_lsn(const cdc_engine_t *e, const char *topic, int32_t partition,
                             int64_t *lsn);

/* Raises it to at least lsn (what a committed offset's metadata says). */
void cdc_engine_note_snapshot_lsn(cdc_engine_t *e, const char *topic, int32_t partition,
                                  int64_t lsn);

/* Waits for the batch in flight, if any (its result is read by the next
 * step). */
void cdc_engine_wait(cdc_engine_t *e);

/* Messages held during a backoff, not yet in a batch. */
size_t cdc_engine_held_count(const cdc_engine_t *e);

const cdc_engine_stats_t *cdc_engine_stats(const cdc_engine_t *e);

/* Sends the item to the DLQ (class, name, message copied into the batch
 * arena) or, in a dry run, settles it as REJECTED. For prepare hooks. */
void cdc_engine_item_reject(cdc_engine_t *e, cdc_engine_batch_t *b,
                            cdc_engine_item_t *it, const char *error_class,
                            const char *exception_name, const char *message);

#endif
