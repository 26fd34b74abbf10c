/* dlqread — reading dead-lettered records back (docs/dlq.md).
 *
 * What `dlq inspect` and `dlq replay` share: the error headers of a DLQ
 * record decoded into plain fields, the selection (--class, --since,
 * --until, --topic, --partition, --offsets), the DLQ topic's partitions and
 * watermarks, a consumer configured to read without auto commits, and a
 * decoder set up exactly like the pipeline's. */
#ifndef CDC_DLQREAD_H
#define CDC_DLQREAD_H

#include <librdkafka/rdkafka.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "decode.h"
#include "registry.h"

/* What a DLQ record says about itself, from its headers. */
typedef struct cdc_dlqread_record {
    bool has_source;       /* __connect.errors.topic/partition/offset parse */
    char topic[256];       /* source topic (Kafka allows at most 249 bytes) */
    int32_t partition;     /* source partition, -1 when unknown */
    int64_t offset;        /* source offset, -1 when unknown */
    char error_class[32];  /* cdcsink.error.class, "" when absent */
    bool has_failed_at;
    int64_t failed_at_s;   /* cdcsink.failed.at, seconds since the epoch */
    int replay_attempts;   /* cdcsink.replay.attempts, 0 when absent */
    bool has_snapshot_lsn; /* cdcsink.snapshot.lsn */
    int64_t snapshot_lsn;
} cdc_dlqread_record_t;

/* A selection; every criterion left open matches everything. Offsets and
 * topic/partition are the SOURCE coordinates from the headers. */
typedef struct cdc_dlqread_filter {
    const char *error_class;         /* NULL: any */
    int64_t since_s, until_s;        /* inclusive; INT64_MIN/INT64_MAX: open */
    const char *topic;               /* NULL: any */
    int32_t partition;               /* -1: any */
    int64_t offset_from, offset_to;  /* inclusive; 0..INT64_MAX: any */
} cdc_dlqread_filter_t;

/* One partition of the DLQ topic as of the call. */
typedef struct cdc_dlqread_partition {
    int32_t id;
    int64_t low, end; /* watermarks: first offset, next offset to be written */
} cdc_dlqread_partition_t;

void cdc_dlqread_filter_init(cdc_dlqread_filter_t *filter);

/* "2026-11-22T02:10:00Z" (also without seconds or zone, with a fraction,
 * or with a ±HH:MM offset; a bare date is its midnight UTC) or an age
 * before now_s: "30s", "15m", "2h", "1d". */
int cdc_dlqread_parse_time(const char *text, int64_t now_s, int64_t *out_s,
                           char *errstr, size_t errstr_size);
/* "A-B" (inclusive) or "A". */
int cdc_dlqread_parse_offsets(const char *text, int64_t *from, int64_t *to,
                              char *errstr, size_t errstr_size);
/* The classes records are dead-lettered with: "data", "schema". */
int cdc_dlqread_check_class(const char *error_class, char *errstr,
                            size_t errstr_size);

/* Looks a header up (the last one of that name); 0 when present. The value
 * points into the message: not NUL-terminated, NULL for a null header. */
int cdc_dlqread_header(const rd_kafka_message_t *msg, const char *name,
                       const void **value, size_t *len);
/* Fills *rec from the message's headers. */
void cdc_dlqread_parse(const rd_kafka_message_t *msg,
                       cdc_dlqread_record_t *rec);
/* Whether a record with these headers is selected. A time bound excludes
 * records without a readable cdcsink.failed.at; a topic/partition/offset
 * bound excludes records without source coordinates. */
bool cdc_dlqread_match(const cdc_dlqread_filter_t *filter,
                       const cdc_dlqread_record_t *rec);

/* A consumer for reading the DLQ back: no auto commit, no auto offset
 * store, partition EOF events on, earliest start, in group `group`. */
rd_kafka_t *cdc_dlqread_consumer_new(const cdc_config_t *cfg,
                                     const char *group, char *errstr,
                                     size_t errstr_size);

/* The DLQ topic's partitions with their watermarks, sorted by id. *count is
 * 0 when the topic does not exist (nothing was ever dead-lettered). -1 with
 * errstr when the broker cannot be reached. Free *parts with free(). */
int cdc_dlqread_partitions(rd_kafka_t *rk, const char *topic, int timeout_ms,
                           cdc_dlqread_partition_t **parts, size_t *count,
                           char *errstr, size_t errstr_size);


#endif
