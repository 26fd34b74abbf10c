/* inspect — `cdcsink dlq inspect`: the pipeline's DLQ as JSON lines.
 *
 * Reads the DLQ topic (errors.deadletterqueue.topic.name) from the
 * beginning of every partition up to its end as of the start, by
 * assignment: no consumer group is joined and nothing is committed, so
 * inspecting never changes what a replay or anyone else will read.
 *
 * One line per selected record:
 *   {"dlq":{"topic":…,"partition":…,"offset":…,"timestamp_ms":…},
 *    "source":{"topic":…,"partition":…,"offset":…},
 *    "headers":{"__connect.errors.topic":…, …every header…},
 *    "change":{…the jsonl sink's line for the decoded change…}}
 * and when the record does not decode, "change" is null and the line adds
 * "decode_error" (the decoder's message), "key" (the decoded key, when the
 * key alone decodes) and "raw":{"key":base64|null,"value":base64|null}. */
#ifndef CDC_INSPECT_H
#define CDC_INSPECT_H

#include <librdkafka/rdkafka.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>

#include "arena.h"
#include "buf.h"
#include "config.h"
#include "decode.h"
#include "dlqread.h"

typedef struct cdc_inspect_options {
    cdc_dlqread_filter_t filter;
    int64_t limit; /* most lines printed; -1: all */
} cdc_inspect_options_t;

/* Prints the selected records to out. *printed counts the lines. 0 when
 * the DLQ was read to its end (or to the limit, or to a stop); -1 with
 * errstr when the broker cannot be reached or stops answering. */
int cdc_inspect_run(const cdc_config_t *cfg, const cdc_inspect_options_t *opts,
                    FILE *out, volatile sig_atomic_t *stop, int64_t *printed,
                    char *errstr, size_t errstr_size);

/* Appends the JSON line of one DLQ record (no newline) to buf, decoding
 * its original key and value with decoder in arena. 0, or -1 when out of
 * memory. */
int cdc_inspect_render(const rd_kafka_message_t *msg,
                       const cdc_dlqread_record_t *rec,
                       cdc_decoder_t *decoder, cdc_arena_t *arena,
                       cdc_buf_t *buf);

#endif
