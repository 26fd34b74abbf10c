/* The elasticsearch sink: the planned changes as `_bulk` requests to
 * Elasticsearch or OpenSearch, every item versioned by the source position
 * (sinks/elasticsearch/README.md). This file holds the ops and the order
 * of one apply: indexes, stored documents, bodies, requests, answers. */
#include "elasticsearch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "config.h"
#include "errstr.h"
#include "es_bulk.h"
#include "es_doc.h"
#include "es_engine.h"
#include "es_http.h"
#include "es_index.h"
#include "es_keys.h"
#include "es_verify.h"
#include "es_stored.h"
#include "log.h"
#include "route.h"

enum {
    ITEM_RETRY_ROUNDS = 4,      /* 429/5xx items sent again within one apply */
    ITEM_RETRY_FIRST_MS = 50,   /* then doubled */
    PING_TIMEOUT_MS = 2000
};

typedef struct es_sink {
    cdc_es_http_t *http;
    cdc_es_indexes_t *indexes;
    cdc_es_engine_t engine;
    bool engine_known;
    size_t bulk_max_bytes;
    int in_flight;
    bool full; /* the last RETRY was a read-only (disk full) block */
    cdc_buf_t scratch; /* a document id being rendered */
} es_sink_t;

/* One change as the bulk request sees it. */
typedef struct es_item {
    const char *index; /* NULL: settled before the request */
    const char *id;
    const cdc_es_span_t *stored; /* the stored _source, when fetched */
    cdc_es_item_answer_t answer;
} es_item_t;

/* ---------------------------------------------------------------------
 * Open, close, ping
 * ------------------------------------------------------------------- */

static void es_close(void *state)
{
    es_sink_t *s = state;
    if (!s) return;
    cdc_es_indexes_free(s->indexes);
    cdc_es_http_free(s->http);
    cdc_buf_free(&s->scratch);
    free(s);
}

/* Learns the engine once; RETRY until it answers. */
static cdc_sink_status_t engine_check(es_sink_t *s, char *errstr, size_t errstr_size)
{
    if (s->engine_known) return CDC_SINK_OK;
    cdc_sink_status_t st = cdc_es_engine_detect(s->http, &s->engine, errstr, errstr_size);
    if (st == CDC_SINK_OK) {
        s->engine_known = true;
        cdc_log_info("elasticsearch: %s %s at %s", s->engine.flavour, s->engine.version,
                     cdc_es_http_nodes(s->http));
    }
    return st;
}

static cdc_sink_status_t es_open(const cdc_config_t *cfg, void **state, char *errstr,
                                 size_t errstr_size)
{
    es_sink_t *s = calloc(1, sizeof *s);
    if (!s) {
        cdc_errstr_set(errstr, errstr_size, "out of memory");
        return CDC_SINK_FATAL;
    }
    cdc_buf_init(&s->scratch);
    cdc_es_http_options_t http = cdc_es_http_options_of(cfg);
    cdc_es_index_options_t index = {
        .auto_create = cdc_config_get_bool(cfg, "auto.create") == 1,
        .auto_evolve = cdc_config_get_bool(cfg, "auto.evolve") == 1,
        .replicas = (int)cdc_config_get_int(cfg, "index.number_of_replicas"),
        .gc_deletes_ms = cdc_config_settings(cfg)->delete_retention_ms,
    };
    s->bulk_max_bytes = (size_t)cdc_config_get_int(cfg, "bulk.max.bytes");
    s->in_flight = (int)cdc_config_get_int(cfg, "bulk.max.in.flight");
    if (!(s->http = cdc_es_http_new(&http, errstr, errstr_size))) {
        es_close(s);
        return CDC_SINK_FATAL;
    }
    if (!(s->indexes = cdc_es_indexes_new(s->http, &index))) {
        es_close(s);
        cdc_errstr_set(errstr, errstr_size, "out of memory");
        return CDC_SINK_FATAL;
    }
    cdc_sink_status_t st = engine_check(s, errstr, errstr_size);
    if (st == CDC_SINK_FATAL) {
        es_close(s);
        return CDC_SINK_FATAL;
    }
    if (st == CDC_SINK_RETRY) cdc_log_warn("%s; will retry", errstr);
    *state = s;
    return CDC_SINK_OK;
}

static int es_ping(void *state)
{
    es_sink_t *s = state;
    cdc_es_request_t req = {.method = "GET", .path = "/", .timeout_ms = PING_TIMEOUT_MS};
    /* Any answer but a 5xx: the engine is there (a 403 on GET / is a user
     * without the monitor privilege, not an engine that is down). */
    int rc = cdc_es_http_one(s->http, &req) == 0 && req.status < 500 ? 0 : -1;
    cdc_es_request_clear(&req);
    return rc;
}

static const char *es_retry_class(void *state)
{
    const es_sink_t *s = state;
    return s->full ? "sink_full" : NULL;
}

/* ---------------------------------------------------------------------
 * Items: where each change goes
 * ------------------------------------------------------------------- */

static cdc_sink_status_t index_status(cdc_es_index_status_t st)
{
    return st == CDC_ES_INDEX_FATAL ? CDC_SINK_FATAL : CDC_SINK_RETRY;
}

/* The engines' limit of a document _id (UTF-8 bytes). */
enum { ES_ID_MAX_BYTES = 512 };

/* The document id: the change's key values (the record key, or a keyless
 * record's pk.fields) as ${key} renders them. */
static const char *document_id(es_sink_t *s, const cdc_change_t *c, cdc_arena_t *arena)
{
    cdc_buf_reset(&s->scratch);
    cdc_route_key_text(c->key_schema, c->key, &s->scratch);
    if (s->scratch.failed) return NULL;
    return cdc_arena_strndup(arena, s->scratch.data ? s->scratch.data : "", s->scratch.len);
}

/* Index, id and mapping of every change; a change whose schema the
 * mapping cannot take is rejected here. */
static cdc_sink_status_t items_prepare(es_sink_t *s, const cdc_change_t *changes,
                                       size_t count, es_item_t *items,
                                       cdc_outcome_t *outcomes, cdc_arena_t *arena,
                                       char *errstr, size_t errstr_size)
{
    for (size_t k = 0; k < count; k++) {
        const cdc_change_t *c = &changes[k];
        es_item_t *it = &items[k];
        const char *index = cdc_es_index_name(c->target ? c->target : "", arena);
        if (!index || !(it->id = document_id(s, c, arena))) {
            cdc_errstr_set(errstr, errstr_size, "out of memory");
            return CDC_SINK_RETRY;
        }
        if (!it->id[0]) {
            cdc_outcome_reject(&outcomes[k], "schema", "cdcsink.NoDocumentId",
                               "the record has no key values to make a document _id of",
                               arena);
            continue;
        }
        /* The engines refuse the whole _bulk request for one longer _id
         * (400 action_request_validation_exception): that one record is
         * rejected here, and the rest of the batch goes on. */
        size_t id_len = strlen(it->id);
        if (id_len > ES_ID_MAX_BYTES) {
            char msg[200];
            snprintf(msg, sizeof msg,
                     "the document _id (the record key, as ${key} renders it) is %zu "
                     "bytes; Elasticsearch and OpenSearch take at most %d",
                     id_len, ES_ID_MAX_BYTES);
            cdc_outcome_reject(&outcomes[k], "data", "cdcsink.DocumentIdTooLong", msg, arena);
            continue;
        }
        bool writes_row = c->action == CDC_ACTION_UPSERT || c->action == CDC_ACTION_SOFT_DELETE;
        const char *why = NULL;
        cdc_es_index_status_t st = cdc_es_indexes_ensure(
            s->indexes, index, writes_row ? c->row_schema : NULL, &why, errstr, errstr_size);
        if (st == CDC_ES_INDEX_CONFLICT) {
            cdc_outcome_reject(&outcomes[k], "schema", "cdcsink.MappingConflict", why, arena);
            continue;
        }
        if (st != CDC_ES_INDEX_OK) return index_status(st);
        it->index = index;
    }
    return CDC_SINK_OK;
}

/* The stored documents of the items that need them, in *stored. */
static cdc_sink_status_t items_fetch_stored(es_sink_t *s, const cdc_change_t *changes,
                                            size_t count, es_item_t *items,
                                            cdc_es_stored_t *stored, cdc_arena_t *arena,
                                            char *errstr, size_t errstr_size)
{
    size_t n = 0;
    for (size_t k = 0; k < count; k++)
        n += items[k].index && cdc_es_doc_needs_stored(&changes[k]);
    memset(stored, 0, sizeof *stored);
    if (n == 0) return CDC_SINK_OK;
    const char **indexes = cdc_arena_alloc(arena, n * sizeof *indexes);
    const char **ids = cdc_arena_alloc(arena, n * sizeof *ids);
    size_t *of = cdc_arena_alloc(arena, n * sizeof *of);
    if (!indexes || !ids || !of) {
        cdc_errstr_set(errstr, errstr_size, "out of memory");
        return CDC_SINK_RETRY;
    }
    size_t j = 0;
    for (size_t k = 0; k < count; k++) {
        if (!items[k].index || !cdc_es_doc_needs_stored(&changes[k])) continue;
        indexes[j] = items[k].index;
        ids[j] = items[k].id;
        of[j++] = k;
    }
    cdc_sink_status_t st = cdc_es_stored_fetch(s->http, indexes, ids, n, stored, errstr,
                                               errstr_size);
    if (st != CDC_SINK_OK) return st;
    for (j = 0; j < n; j++) items[of[j]].stored = cdc_es_stored_get(stored, j);
    return CDC_SINK_OK;
}

/* ---------------------------------------------------------------------
 * Requests
 * ------------------------------------------------------------------- */

/* A _bulk request over items order[first..first+count). */
typedef struct es_bulk {
    cdc_es_request_t req;
    cdc_buf_t body;
    size_t first, count;
} es_bulk_t;

static int item_append(const cdc_change_t *c, const es_item_t *it, cdc_buf_t *body)
{
    if (c->action == CDC_ACTION_DELETE || c->action == CDC_ACTION_KEY_DELETE) {
        /* A Kafka tombstone has no position: its delete is unversioned
         * (delete.on.tombstone, documented as unguarded). */
        cdc_es_bulk_item(body, it->index, it->id,
                         c->action == CDC_ACTION_DELETE ? c->event->position : -1,
                         c->event->position_inclusive, NULL, 0);
        return body->failed ? -1 : 0;
    }
    cdc_es_bulk_action(body, true, it->index, it->id, c->event->position,
                       c->event->position_inclusive);
    if (cdc_es_doc_render(c, it->stored, body) != 0) return -1;
    cdc_buf_putc(body, '\n');
    return body->failed ? -1 : 0;
}

/* A growing list of requests. */
typedef struct es_bulks {
    es_bulk_t *list;
    size_t count, cap;
} es_bulks_t;

/* A new, empty request starting at item `first`; NULL when out of memory. */
static es_bulk_t *bulks_next(es_bulks_t *bs, size_t first)
{
    if (bs->count == bs->cap) {
        size_t cap = bs->cap ? 2 * bs->cap : 4;
        es_bulk_t *grown = realloc(bs->list, cap * sizeof *grown);
        if (!grown) return NULL;
        memset(grown + bs->cap, 0, (cap - bs->cap) * sizeof *grown);
        bs->list = grown;
        bs->cap = cap;
    }
    es_bulk_t *b = &bs->list[bs->count++];
    b->first = first;
    return b;
}

/* Splits the items to send into bulk.max.in.flight requests of equal
 * counts, so that they all run at once, each of at most bulk.max.bytes
 * (then there are more; an item larger than that goes alone). */
static int bulks_build(es_sink_t *s, const cdc_change_t *changes, const es_item_t *items,
                       const size_t *order, size_t n, es_bulks_t *bs)
{
    int rc = 0;
    es_bulk_t *b = NULL;
    size_t per_request = (n + (size_t)s->in_flight - 1) / (size_t)s->in_flight;
    for (size_t i = 0; i < n && rc == 0; i++) {
        if (!b && !(b = bulks_next(bs, i))) {
            rc = -1;
            break;
        }
        size_t mark = b->body.len;
        rc = item_append(&changes[order[i]], &items[order[i]], &b->body);
        if (rc == 0 && b->count && b->body.len > s->bulk_max_bytes) {
            /* The item that overflows starts the next request. */
            cdc_buf_truncate(&b->body, mark);
            if (!(b = bulks_next(bs, i))) {
                rc = -1;
                break;
            }
            rc = item_append(&changes[order[i]], &items[order[i]], &b->body);
        }
        b->count++;
        if (b->body.len >= s->bulk_max_bytes || b->count >= per_request) b = NULL;
    }
    return rc;
}

static void bulks_free(es_bulk_t *bulks, size_t n)
{
    for (size_t i = 0; bulks && i < n; i++) {
        cdc_es_request_clear(&bulks[i].req);
        cdc_buf_free(&bulks[i].body);
    }
    free(bulks);
}

/* A request that failed as a whole. */
static cdc_sink_status_t bulk_failed(const cdc_es_request_t *req, char *errstr,
                                     size_t errstr_size)
{
    if (req->status == 413) {
        cdc_errstr_set(errstr, errstr_size,
                       "_bulk: HTTP 413, the request is larger than the engine takes "
                       "(http.max_content_length): lower bulk.max.bytes");
        return CDC_SINK_FATAL;
    }
    return index_status(cdc_es_answer_failed(req, "_bulk", errstr, errstr_size));
}

/* Sends the items order[0..n) and reads each one's answer. */
static cdc_sink_status_t items_send(es_sink_t *s, const cdc_change_t *changes,
                                    es_item_t *items, const size_t *order, size_t n,
                                    char *errstr, size_t errstr_size)
{
    es_bulks_t bs = {0};
    cdc_sink_status_t st = CDC_SINK_OK;
    cdc_es_request_t *reqs = NULL;
    int built = bulks_build(s, changes, items, order, n, &bs);
    es_bulk_t *bulks = bs.list;
    size_t nbulks = bs.count;
    if (built != 0 || !(reqs = calloc(nbulks ? nbulks : 1, sizeof *reqs))) {
        cdc_errstr_set(errstr, errstr_size, "out of memory");
        bulks_free(bulks, nbulks);
        return CDC_SINK_RETRY;
    }
    for (size_t b = 0; b < nbulks; b++)
        reqs[b] = (cdc_es_request_t){.method = "POST", .path = CDC_ES_BULK_PATH,
                                     .body = bulks[b].body.data,
                                     .body_len = bulks[b].body.len, .ndjson = true};
    cdc_es_http_run(s->http, reqs, nbulks, s->in_flight);
    cdc_es_item_answer_t *answers = NULL;
    for (size_t b = 0; b < nbulks && st == CDC_SINK_OK; b++) {
        const cdc_es_request_t *req = &reqs[b];
        if (req->status != 200) {
            st = bulk_failed(req, errstr, errstr_size);
            break;
        }
        cdc_es_item_answer_t *grown = realloc(answers, bulks[b].count * sizeof *grown);
        if (!grown) {
            cdc_errstr_set(errstr, errstr_size, "out of memory");
            st = CDC_SINK_RETRY;
            break;
        }
        answers = grown;
        if (cdc_es_bulk_read(req->response.data, req->response.len, answers,
                             bulks[b].count) != 0) {
            cdc_errstr_set(errstr, errstr_size, "_bulk: an answer without one result per item");
            st = CDC_SINK_RETRY;
            break;
        }
        for (size_t i = 0; i < bulks[b].count; i++)
            items[order[bulks[b].first + i]].answer = answers[i];
    }
    free(answers);
    for (size_t b = 0; b < nbulks; b++) cdc_es_request_clear(&reqs[b]);
    free(reqs);
    bulks_free(bulks, nbulks);
    return st;
}

/* A read-only index (a full disk's flood stage) or a cluster block: a
 * retry, counted as sink_full. */
static bool is_block(const cdc_es_item_answer_t *a)
{
    return a->status == 403 || a->status == 429
               ? strcmp(a->error_type, "cluster_block_exception") == 0
               : false;
}

/* An index deleted while the pipeline runs (with the engine's own
 * auto-creation off) answers index_not_found_exception: not the records'
 * fault. The index is forgotten and the batch retried, which creates it
 * again (auto.create) or stops the pipeline (without). */
static cdc_sink_status_t indexes_gone(es_sink_t *s, const es_item_t *items, const size_t *order,
                                      size_t n, char *errstr, size_t errstr_size)
{
    cdc_sink_status_t st = CDC_SINK_OK;
    for (size_t i = 0; i < n; i++) {
        const es_item_t *it = &items[order[i]];
        if (strcmp(it->answer.error_type, "index_not_found_exception") != 0) continue;
        if (st == CDC_SINK_OK)
            cdc_errstr_set(errstr, errstr_size, "index %s no longer exists", it->index);
        cdc_es_indexes_forget(s->indexes, it->index);
        st = CDC_SINK_RETRY;
    }
    return st;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* An item refused for want of privilege (not a block): no record of the
 * stream would fare better, so the pipeline stops rather than fill the
 * DLQ. */
static cdc_sink_status_t items_forbidden(const es_item_t *items, const size_t *order, size_t n,
                                         char *errstr, size_t errstr_size)
{
    for (size_t i = 0; i < n; i++) {
        const cdc_es_item_answer_t *a = &items[order[i]].answer;
        if ((a->status != 401 && a->status != 403) || is_block(a)) continue;
        cdc_errstr_set(errstr, errstr_size,
                       "_bulk: HTTP %ld on index %s (%s%s%s): the user lacks a privilege "
                       "on that index (write, create_index)",
                       a->status, items[order[i]].index, a->error_type,
                       a->reason[0] ? ": " : "", a->reason);
        return CDC_SINK_FATAL;
    }
    return CDC_SINK_OK;
}

/* Sends every prepared item; the items the engine answered 429/5xx (or
 * blocked) are sent again, alone, a few times with backoff before the
 * batch as a whole is retried by the core. */
static cdc_sink_status_t items_write(es_sink_t *s, const cdc_change_t *changes,
                                     es_item_t *items, size_t count, char *errstr,
                                     size_t errstr_size)
{
    size_t *order = malloc((count ? count : 1) * sizeof *order);
    if (!order) {
        cdc_errstr_set(errstr, errstr_size, "out of memory");
        return CDC_SINK_RETRY;
    }
    size_t n = 0;
    for (size_t k = 0; k < count; k++)
        if (items[k].index) order[n++] = k;
    long backoff = ITEM_RETRY_FIRST_MS;
    cdc_sink_status_t st = CDC_SINK_OK;
    for (int round = 0; n > 0; round++) {
        st = items_send(s, changes, items, order, n, errstr, errstr_size);
        if (st != CDC_SINK_OK) break;
        if ((st = items_forbidden(items, order, n, errstr, errstr_size)) != CDC_SINK_OK) break;
        if ((st = indexes_gone(s, items, order, n, errstr, errstr_size)) != CDC_SINK_OK) break;
        size_t again = 0, blocked = 0;
        const cdc_es_item_answer_t *example = NULL;
        for (size_t i = 0; i < n; i++) {
            es_item_t *it = &items[order[i]];
            if (is_block(&it->answer)) it->answer.result = CDC_ES_ITEM_RETRY, blocked++;
            if (it->answer.result != CDC_ES_ITEM_RETRY) continue;
            if (!example) example = &it->answer;
            order[again++] = order[i];
        }
        n = again;
        s->full = blocked > 0;
        if (n == 0) break;
        if (round + 1 == ITEM_RETRY_ROUNDS) {
            cdc_errstr_set(errstr, errstr_size, "_bulk: %zu item(s) answered HTTP %ld (%s%s%s)",
                           n, example->status, example->error_type,
                           example->reason[0] ? ": " : "", example->reason);
            st = CDC_SINK_RETRY;
            break;
        }
        sleep_ms(backoff);
        backoff *= 2;
    }
    free(order);
    return st;
}

/* ---------------------------------------------------------------------
 * Apply
 * ------------------------------------------------------------------- */

static void outcomes_set(const es_item_t *items, size_t count, cdc_outcome_t *outcomes,
                         cdc_arena_t *arena)
{
    for (size_t k = 0; k < count; k++) {
        const es_item_t *it = &items[k];
        if (!it->index) continue; /* settled while preparing */
        switch (it->answer.result) {
        case CDC_ES_ITEM_APPLIED: outcomes[k].kind = CDC_OUTCOME_APPLIED; break;
        case CDC_ES_ITEM_STALE: outcomes[k].kind = CDC_OUTCOME_STALE; break;
        default: {
            char msg[600];
            snprintf(msg, sizeof msg, "HTTP %ld: %s", it->answer.status,
                     it->answer.reason[0] ? it->answer.reason : "rejected by the engine");
            cdc_outcome_reject(&outcomes[k], "data",
                               it->answer.error_type[0] ? it->answer.error_type : "http_error",
                               msg, arena);
        }
        }
    }
}

static cdc_sink_status_t es_apply(void *state, const cdc_change_t *changes, size_t count,
                                  cdc_outcome_t *outcomes, cdc_arena_t *arena,
                                  char *errstr, size_t errstr_size)
{
    es_sink_t *s = state;
    cdc_sink_status_t st = engine_check(s, errstr, errstr_size);
    if (st != CDC_SINK_OK) return st;
    es_item_t *items = cdc_arena_alloc(arena, (count + 1) * sizeof *items);
    if (!items) {
        cdc_errstr_set(errstr, errstr_size, "out of memory");
        return CDC_SINK_RETRY;
    }
    memset(items, 0, (count + 1) * sizeof *items);
    cdc_es_stored_t stored = {0};
    st = items_prepare(s, changes, count, items, outcomes, arena, errstr, errstr_size);
    if (st == CDC_SINK_OK)
        st = items_fetch_stored(s, changes, count, items, &stored, arena, errstr, errstr_size);
    if (st == CDC_SINK_OK) st = items_write(s, changes, items, count, errstr, errstr_size);
    if (st == CDC_SINK_OK) outcomes_set(items, count, outcomes, arena);
    cdc_es_stored_free(&stored);
    return st;
}

const cdc_sink_ops_t cdc_elasticsearch_sink = {
    .name = "elasticsearch",
    .plan_mode = CDC_PLAN_LATEST,
    .route_key = "index.name.format",
    .route_allows_key = false,
    .keys = cdc_es_keys,
    .nkeys = CDC_ES_KEY_COUNT,
    .open = es_open,
    .apply = es_apply,
    .ping = es_ping,
    .retry_class = es_retry_class,
    .close = es_close,
    .migrate = NULL,
    .verify = &cdc_es_verify_ops,
};
