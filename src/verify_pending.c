#include "verify_pending.h"

#include <librdkafka/rdkafka.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "buf.h"
#include "clock.h"
#include "decode.h"
#include "dlqread.h"
#include "errstr.h"
#include "log.h"
#include "registry.h"
#include "route.h"

#define PENDING_STALL_MS 30000

static int pending_add(cdc_pending_t *p, const cdc_buf_t *entry)
{
    if (p->count == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 256;
        char **grown = realloc(p->entries, cap * sizeof *grown);
        if (!grown) return -1;
        p->entries = grown;
        p->cap = cap;
    }
    char *copy = strndup(entry->data, entry->len);
    if (!copy) return -1;
    p->entries[p->count++] = copy;
    return 0;
}

static void pending_entry(cdc_buf_t *b, const char *target, const char *key)
{
    cdc_buf_reset(b);
    cdc_buf_puts(b, target);
    cdc_buf_putc(b, '\x1f');
    cdc_buf_puts(b, key);
}

/* The key of one record, routed; a record that does not decode, a
 * tombstone and a keyless record name no key. */
static int pending_take(cdc_pending_t *p, const rd_kafka_message_t *m,
                        cdc_decoder_t *decoder, const char *route_template,
                        cdc_arena_t *arena, cdc_buf_t *target, cdc_buf_t *key,
                        cdc_buf_t *entry)
{
    cdc_event_t ev = {.topic = rd_kafka_topic_name(m->rkt),
                      .partition = m->partition, .offset = m->offset};
    char why[512];
    cdc_decode_status_t s = cdc_decoder_decode(decoder, m->key, m->key_len,
                                               m->payload, m->len, arena, &ev,
                                               why, sizeof why);
    p->records++;
    if (s != CDC_DECODE_OK || !ev.key_schema || !ev.key) return 0;
    cdc_buf_reset(target);
    cdc_buf_reset(key);
    /* The table's name without its key, as the verifier names tables
     * (a Redis key.format holds ${key}). */
    cdc_route_format_key_text(route_template, &ev, "", target);
    cdc_route_key_text(ev.key_schema, ev.key, key);
    if (target->failed || key->failed) return -1;
    pending_entry(entry, target->data ? target->data : "", key->data ? key->data : "");
    return entry->failed ? -1 : pending_add(p, entry);
}

static int assign_uncommitted(rd_kafka_t *rk, const cdc_lag_report_t *lag,
                              size_t *remaining, char *errstr,
                              size_t errstr_size)
{
    rd_kafka_topic_partition_list_t *l =
        rd_kafka_topic_partition_list_new((int)lag->count + 1);
    *remaining = 0;
    for (size_t i = 0; i < lag->count; i++) {
        const cdc_lag_partition_t *lp = &lag->partitions[i];
        int64_t from = lp->committed >= 0 ? lp->committed : lp->low;
        if (from < lp->low) from = lp->low; /* deleted by retention */
        if (from >= lp->end) continue;
        rd_kafka_topic_partition_list_add(l, lp->topic, lp->partition)->offset = from;
        (*remaining)++;
    }
    rd_kafka_resp_err_t err = l->cnt ? rd_kafka_assign(rk, l) : 0;
    rd_kafka_topic_partition_list_destroy(l);
    if (err)
        return cdc_errstr_set(errstr, errstr_size, "assign: %s",
                              rd_kafka_err2str(err));
    return 0;
}

static const cdc_lag_partition_t *lag_find(const cdc_lag_report_t *lag,
                                           const char *topic, int32_t partition)
{
    for (size_t i = 0; i < lag->count; i++)
        if (lag->partitions[i].partition == partition &&
            strcmp(lag->partitions[i].topic, topic) == 0)
            return &lag->partitions[i];
    return NULL;
}

static int entry_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Reads until every assigned partition reached the end lag saw. */
static int pending_read(rd_kafka_t *rk, const cdc_lag_report_t *lag,
                        size_t remaining, cdc_decoder_t *decoder,
                        const char *route_template, int64_t max_records,
                        volatile sig_atomic_t *stop, cdc_pending_t *p,
                        char *errstr, size_t errstr_size)
{
    cdc_arena_t arena;
    cdc_buf_t target, key, entry;
    cdc_arena_init(&arena, 64 * 1024);
    cdc_buf_init(&target);
    cdc_buf_init(&key);
    cdc_buf_init(&entry);
    bool *finished = calloc(lag->count + 1, sizeof *finished);
    int rc = finished ? 0 : cdc_errstr_set(errstr, errstr_size, "out of memory");
    int64_t last_progress = cdc_clock_mono_ms();
    while (remaining > 0 && rc == 0 && !*stop) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 200);
        if (!m) {
            if (cdc_clock_mono_ms() - last_progress > PENDING_STALL_MS)
                rc = cdc_errstr_set(errstr, errstr_size,
                                    "reading uncommitted records: nothing "
                                    "from the broker for %d s",
                                    PENDING_STALL_MS / 1000);
            continue;
        }
        last_progress = cdc_clock_mono_ms();
        const cdc_lag_partition_t *lp =
            m->rkt ? lag_find(lag, rd_kafka_topic_name(m->rkt), m->partition) : NULL;
        bool *done = lp ? &finished[lp - lag->partitions] : NULL;
        if (done && *done) {
            /* its end reached already: an EOF event, or a record written
             * after the check began */
        } else if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            if (done) {
                *done = true;
                remaining--;
            }
        } else if (m->err) {
            cdc_log_warn("kafka: %s", rd_kafka_message_errstr(m));
        } else if (lp && m->offset < lp->end) {
            if (p->records >= max_records)
                rc = cdc_errstr_set(errstr, errstr_size,
                                    "the pipeline is more than %lld records "
                                    "behind: verify once it has caught up",
                                    (long long)max_records);
            else if (pending_take(p, m, decoder, route_template, &arena,
                                  &target, &key, &entry) != 0)
                rc = cdc_errstr_set(errstr, errstr_size, "out of memory");
            cdc_arena_reset(&arena);
            if (m->offset + 1 >= lp->end) {
                *done = true;
                remaining--;
            }
        }
        rd_kafka_message_destroy(m);
    }
    free(finished);
    cdc_arena_destroy(&arena);
    cdc_buf_free(&target);
    cdc_buf_free(&key);
    cdc_buf_free(&entry);
    return rc;
}

int cdc_pending_collect(const cdc_config_t *cfg, const cdc_lag_report_t *lag,
                        const char *route_template, int64_t max_records,
                        volatile sig_atomic_t *stop, cdc_pending_t *p,
                        char *errstr, size_t errstr_size)
{
    memset(p, 0, sizeof *p);
    char group[512];
    snprintf(group, sizeof group, "%s.verify", cdc_config_settings(cfg)->group_id);
    rd_kafka_t *rk = cdc_dlqread_consumer_new(cfg, group, errstr, errstr_size);
    if (!rk) return -1;
    cdc_registry_t *registry = NULL;
    cdc_decoder_t *decoder = NULL;
    size_t remaining = 0;
    int rc = cdc_decoder_from_config(cfg, &registry, &decoder, errstr, errstr_size);
    if (rc == 0) rc = assign_uncommitted(rk, lag, &remaining, errstr, errstr_size);
    if (rc == 0)
        rc = pending_read(rk, lag, remaining, decoder, route_template,
                          max_records, stop, p, errstr, errstr_size);
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    cdc_decoder_destroy(decoder);
    cdc_registry_destroy(registry);
    if (rc == 0 && p->count) qsort(p->entries, p->count, sizeof *p->entries, entry_cmp);
    return rc;
}

bool cdc_pending_has(const cdc_pending_t *p, const char *target,
                     const char *key_text)
{
    if (!p->count) return false;
    cdc_buf_t b;
    cdc_buf_init(&b);
    pending_entry(&b, target, key_text);
    const char *probe = b.data ? b.data : "";
    bool found = bsearch(&probe, p->entries, p->count, sizeof *p->entries,
                         entry_cmp) != NULL;
    cdc_buf_free(&b);
    return found;
}

void cdc_pending_free(cdc_pending_t *p)
{
    for (size_t i = 0; i < p->count; i++) free(p->entries[i]);
    free(p->entries);
    memset(p, 0, sizeof *p);
}
