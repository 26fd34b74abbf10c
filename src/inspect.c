#include "inspect.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "errstr.h"
#include "render.h"
#include "log.h"

/* A broker that stops answering mid-read must not hang an on-call shell. */
enum { INSPECT_TIMEOUT_MS = 10000, INSPECT_STALL_MS = 30000 };

/* ---------------------------------------------------------------------
 * Rendering one record
 * ------------------------------------------------------------------- */

static void put_text_or_null(cdc_buf_t *buf, const void *p, size_t len)
{
    if (p) cdc_render_string(p, len, buf);
    else cdc_buf_puts(buf, "null");
}

static void put_base64_or_null(cdc_buf_t *buf, const void *p, size_t len)
{
    if (!p) {
        cdc_buf_puts(buf, "null");
        return;
    }
    /* The jsonl renderer's bytes are standard base64 already. */
    cdc_value_t v = {.type = CDC_TYPE_BYTES};
    v.u.str.ptr = p;
    v.u.str.len = len;
    cdc_render_value(&v, NULL, buf);
}

static void render_coordinates(const rd_kafka_message_t *m,
                               const cdc_dlqread_record_t *rec, cdc_buf_t *buf)
{
    const char *dlq_topic = rd_kafka_topic_name(m->rkt);
    cdc_buf_puts(buf, "{\"dlq\":{\"topic\":");
    cdc_render_string(dlq_topic, strlen(dlq_topic), buf);
    cdc_buf_puts(buf, ",\"partition\":");
    cdc_buf_put_int(buf, m->partition);
    cdc_buf_puts(buf, ",\"offset\":");
    cdc_buf_put_int(buf, m->offset);
    cdc_buf_puts(buf, ",\"timestamp_ms\":");
    cdc_buf_put_int(buf, rd_kafka_message_timestamp(m, NULL));
    cdc_buf_puts(buf, "},\"source\":{\"topic\":");
    put_text_or_null(buf, rec->topic[0] ? rec->topic : NULL, strlen(rec->topic));
    cdc_buf_puts(buf, ",\"partition\":");
    if (rec->partition >= 0) cdc_buf_put_int(buf, rec->partition);
    else cdc_buf_puts(buf, "null");
    cdc_buf_puts(buf, ",\"offset\":");
    if (rec->offset >= 0) cdc_buf_put_int(buf, rec->offset);
    else cdc_buf_puts(buf, "null");
    cdc_buf_putc(buf, '}');
}

static void render_headers(const rd_kafka_message_t *m, cdc_buf_t *buf)
{
    cdc_buf_puts(buf, ",\"headers\":{");
    rd_kafka_headers_t *h = NULL;
    if (rd_kafka_message_headers(m, &h) == 0 && h) {
        const char *name;
        const void *value;
        size_t len;
        for (size_t i = 0; !rd_kafka_header_get_all(h, i, &name, &value, &len); i++) {
            if (i) cdc_buf_putc(buf, ',');
            cdc_render_string(name, strlen(name), buf);
            cdc_buf_putc(buf, ':');
            put_text_or_null(buf, value, len);
        }
    }
    cdc_buf_putc(buf, '}');
}

/* The change as far as it decodes; the raw bytes where it does not. */
static void render_change(const rd_kafka_message_t *m,
                          const cdc_dlqread_record_t *rec,
                          cdc_decoder_t *decoder, cdc_arena_t *arena,
                          cdc_buf_t *buf)
{
    cdc_event_t ev = {
        .topic = rec->topic[0] ? rec->topic : NULL,
        .partition = rec->partition,
        .offset = rec->offset,
        .kafka_timestamp_ms = rd_kafka_message_timestamp(m, NULL),
    };
    char why[1024];
    cdc_decode_status_t s = cdc_decoder_decode(decoder, m->key, m->key_len,
                                               m->payload, m->len, arena, &ev,
                                               why, sizeof why);
    cdc_buf_puts(buf, ",\"change\":");
    if (s == CDC_DECODE_OK) {
        cdc_render_event(&ev, buf);
        return;
    }
    cdc_buf_puts(buf, "null");
    if (ev.key_schema && ev.key) {
        cdc_buf_puts(buf, ",\"key\":");
        cdc_render_row(ev.key_schema, ev.key, buf);
    }
    cdc_buf_puts(buf, ",\"decode_error\":");
    cdc_render_string(why, strlen(why), buf);
    cdc_buf_puts(buf, ",\"raw\":{\"key\":");
    put_base64_or_null(buf, m->key, m->key_len);
    cdc_buf_puts(buf, ",\"value\":");
    put_base64_or_null(buf, m->payload, m->len);
    cdc_buf_putc(buf, '}');
}

int cdc_inspect_render(const rd_kafka_message_t *msg,
                       const cdc_dlqread_record_t *rec,
                       cdc_decoder_t *decoder, cdc_arena_t *arena,
                       cdc_buf_t *buf)
{
    render_coordinates(msg, rec, buf);
    render_headers(msg, buf);
    render_change(msg, rec, decoder, arena, buf);
    cdc_buf_putc(buf, '}');
    return buf->failed ? -1 : 0;
}

/* ---------------------------------------------------------------------
 * Reading the DLQ
 * ------------------------------------------------------------------- */

typedef struct inspect_reader {
    rd_kafka_t *rk;
    cdc_dlqread_partition_t *parts;
    bool *done;
    size_t nparts, remaining;
    cdc_registry_t *registry;
    cdc_decoder_t *decoder;
    cdc_arena_t arena;
    cdc_buf_t buf;
    bool out_closed; /* the reader of our output went away */
} inspect_reader_t;

static void reader_mark_done(inspect_reader_t *r, int32_t partition)
{
    for (size_t i = 0; i < r->nparts; i++) {
        if (r->parts[i].id != partition || r->done[i]) continue;
        r->done[i] = true;
        r->remaining--;
    }
}

static const cdc_dlqread_partition_t *reader_partition(inspect_reader_t *r,
                                                       int32_t partition)
{
    for (size_t i = 0; i < r->nparts; i++)
        if (r->parts[i].id == partition) return r->done[i] ? NULL : &r->parts[i];
    return NULL;
}

/* Assigns every non-empty partition from its first offset; empty ones
 * are done before they start. */
static int reader_start(inspect_reader_t *r, const char *topic, char *errstr,
                        size_t errstr_size)
{
    r->done = calloc(r->nparts + 1, sizeof *r->done);
    if (!r->done) return cdc_errstr_set(errstr, errstr_size, "out of memory");
    rd_kafka_topic_partition_list_t *l =
        rd_kafka_topic_partition_list_new((int)r->nparts + 1);
    for (size_t i = 0; i < r->nparts; i++) {
        r->done[i] = r->parts[i].end <= r->parts[i].low;
        if (r->done[i]) continue;
        r->remaining++;
        rd_kafka_topic_partition_list_add(l, topic, r->parts[i].id)->offset =
            r->parts[i].low;
    }
    rd_kafka_resp_err_t err = l->cnt ? rd_kafka_assign(r->rk, l) : 0;
    rd_kafka_topic_partition_list_destroy(l);
    if (err)
        return cdc_errstr_set(errstr, errstr_size, "assign %s: %s", topic,
                              rd_kafka_err2str(err));
    return 0;
}

/* Prints one record if it is selected; returns 1 when printed, -1 when
 * the output cannot be written (a closed pipe: `| head`). */
static int reader_print(inspect_reader_t *r, const rd_kafka_message_t *m,
                        const cdc_inspect_options_t *opts, FILE *out)
{
    cdc_dlqread_record_t rec;
    cdc_dlqread_parse(m, &rec);
    if (!cdc_dlqread_match(&opts->filter, &rec)) return 0;
    cdc_buf_reset(&r->buf);
    int rc = cdc_inspect_render(m, &rec, r->decoder, &r->arena, &r->buf);
    cdc_arena_reset(&r->arena);
    if (rc != 0) {
        cdc_log_error("%s [%d] @%lld: out of memory rendering the record",
                      rd_kafka_topic_name(m->rkt), m->partition,
                      (long long)m->offset);
        return 0;
    }
    cdc_buf_putc(&r->buf, '\n');
    return fwrite(r->buf.data, 1, r->buf.len, out) == r->buf.len ? 1 : -1;
}

/* Handles what one poll returned; 0 unless the consumer failed for good. */
static int reader_take(inspect_reader_t *r, rd_kafka_message_t *m,
                       const cdc_inspect_options_t *opts, FILE *out,
                       int64_t *printed, char *errstr, size_t errstr_size)
{
    int rc = 0;
    if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
        reader_mark_done(r, m->partition);
    } else if (m->err == RD_KAFKA_RESP_ERR__FATAL ||
               m->err == RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED) {
        rc = cdc_errstr_set(errstr, errstr_size, "kafka: %s",
                            rd_kafka_message_errstr(m));
    } else if (m->err) {
        cdc_log_warn("kafka: %s", rd_kafka_message_errstr(m));
    } else {
        const cdc_dlqread_partition_t *p = reader_partition(r, m->partition);
        /* Records written after the start are not this inspection's. */
        int n = p && m->offset < p->end ? reader_print(r, m, opts, out) : 0;
        if (n < 0 && errno == EPIPE) r->out_closed = true; /* `| head`: done */
        else if (n < 0)
            rc = cdc_errstr_set(errstr, errstr_size, "writing the output: %s",
                                strerror(errno));
        else *printed += n;
        if (p && m->offset + 1 >= p->end) reader_mark_done(r, m->partition);
    }
    rd_kafka_message_destroy(m);
    return rc;
}

static int reader_loop(inspect_reader_t *r, const cdc_inspect_options_t *opts,
                       FILE *out, volatile sig_atomic_t *stop,
                       int64_t *printed, char *errstr, size_t errstr_size)
{
    int64_t last_progress = cdc_clock_mono_ms();
    while (r->remaining > 0 && !*stop && !r->out_closed &&
           (opts->limit < 0 || *printed < opts->limit)) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(r->rk, 200);
        if (!m) {
            if (cdc_clock_mono_ms() - last_progress > INSPECT_STALL_MS)
                return cdc_errstr_set(errstr, errstr_size,
                                      "no record from the broker for %d s "
                                      "with %zu partition(s) left to read",
                                      INSPECT_STALL_MS / 1000, r->remaining);
            continue;
        }
        last_progress = cdc_clock_mono_ms();
        if (reader_take(r, m, opts, out, printed, errstr, errstr_size) != 0)
            return -1;
    }
    fflush(out);
    return 0;
}

static void reader_close(inspect_reader_t *r)
{
    if (r->rk) {
        rd_kafka_consumer_close(r->rk);
        rd_kafka_destroy(r->rk);
    }
    free(r->parts);
    free(r->done);
    cdc_decoder_destroy(r->decoder);
    cdc_registry_destroy(r->registry);
    cdc_arena_destroy(&r->arena);
    cdc_buf_free(&r->buf);
}

int cdc_inspect_run(const cdc_config_t *cfg, const cdc_inspect_options_t *opts,
                    FILE *out, volatile sig_atomic_t *stop, int64_t *printed,
                    char *errstr, size_t errstr_size)
{
    const cdc_settings_t *set = cdc_config_settings(cfg);
    const char *topic = set->errors_deadletterqueue_topic_name;
    inspect_reader_t r = {0};
    cdc_arena_init(&r.arena, 64 * 1024);
    cdc_buf_init(&r.buf);
    *printed = 0;
    int rc = -1;
    /* librdkafka wants a group.id even to assign(); with assign() and no
     * commits the group is never joined and never holds offsets. */
    char group[512];
    snprintf(group, sizeof group, "%s.dlq-inspect", set->group_id);
    if (!(r.rk = cdc_dlqread_consumer_new(cfg, group, errstr, errstr_size)))
        goto done;
    if (cdc_dlqread_partitions(r.rk, topic, INSPECT_TIMEOUT_MS, &r.parts,
                               &r.nparts, errstr, errstr_size) != 0)
        goto done;
    if (r.nparts == 0) {
        cdc_log_warn("DLQ topic %s does not exist: nothing was dead-lettered",
                     topic);
        rc = 0;
        goto done;
    }
    if (cdc_decoder_from_config(cfg, &r.registry, &r.decoder, errstr,
                                errstr_size) != 0 ||
        reader_start(&r, topic, errstr, errstr_size) != 0)
        goto done;
    rc = reader_loop(&r, opts, out, stop, printed, errstr, errstr_size);
done:
    reader_close(&r);
    return rc;
}
