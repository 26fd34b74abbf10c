#include "redis.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "config.h"
#include "errstr.h"
#include "log.h"
#include "rd_change.h"
#include "rd_conn.h"
#include "rd_keys.h"
#include "rd_reply.h"
#include "rd_verify.h"
#include "render.h"

enum {
    CALL_MAX_CHANGES = 128, /* changes per script call: bounds its run time */
    MAX_REDIRECTS = 5,      /* MOVED/ASK/NOSCRIPT rounds within one apply */
    PIPELINE_DEPTH = 8,     /* calls in flight per node */
    TIMEOUT_MS = 5000
};

typedef struct rd_sink {
    cdc_rd_conn_t *conn;
    bool hash;            /* redis.value.format=hash */
    int64_t ttl_ms;       /* redis.ttl.ms */
    int64_t retention_ms; /* delete.retention.ms: a hard delete's marker */
    cdc_buf_t scratch;
    unsigned long moved, asked; /* Cluster redirects followed */
    bool full;                  /* the last RETRY was an OOM */
} rd_sink_t;

/* One script call: items[first..first+count) of the sorted order. */
typedef struct rd_call {
    cdc_rd_node_t *node;
    const size_t *items;
    size_t count;
    bool asking;   /* send ASKING first (an ASK redirect) */
    bool pending;  /* to be sent (again) */
} rd_call_t;

/* ---------------------------------------------------------------------
 * Open, close, ping
 * ------------------------------------------------------------------- */

static void rd_close(void *state)
{
    rd_sink_t *s = state;
    if (!s) return;
    if (s->moved || s->asked)
        cdc_log_info("redis: followed %lu MOVED and %lu ASK redirects", s->moved, s->asked);
    cdc_rd_conn_destroy(s->conn);
    cdc_buf_free(&s->scratch);
    free(s);
}

static cdc_sink_status_t rd_open(const cdc_config_t *cfg, void **state,
                                 char *errstr, size_t errstr_size)
{
    rd_sink_t *s = calloc(1, sizeof *s);
    if (!s) {
        cdc_errstr_set(errstr, errstr_size, "out of memory");
        return CDC_SINK_FATAL;
    }
    cdc_buf_init(&s->scratch);
    s->hash = strcmp(cdc_config_get(cfg, "redis.value.format"), "hash") == 0;
    s->ttl_ms = cdc_config_get_int(cfg, "redis.ttl.ms");
    s->retention_ms = cdc_config_settings(cfg)->delete_retention_ms;
    s->conn = cdc_rd_conn_configured(cfg, TIMEOUT_MS, errstr, errstr_size);
    if (!s->conn) {
        rd_close(s);
        return CDC_SINK_FATAL;
    }
    cdc_sink_status_t st = cdc_rd_conn_ready(s->conn, errstr, errstr_size);
    if (st == CDC_SINK_FATAL) {
        rd_close(s);
        return CDC_SINK_FATAL;
    }
    if (st == CDC_SINK_RETRY) cdc_log_warn("%s; will retry", errstr);
    *state = s;
    return CDC_SINK_OK;
}

static const char *rd_retry_class(void *state)
{
    const rd_sink_t *s = state;
    return s->full ? "sink_full" : NULL;
}

static int rd_ping(void *state)
{
    rd_sink_t *s = state;
    return cdc_rd_conn_ping(s->conn) ? 0 : -1;
}

/* ---------------------------------------------------------------------
 * Calls
 * ------------------------------------------------------------------- */

typedef struct slot_index {
    int slot;
    size_t index;
} slot_index_t;

static int by_slot(const void *x, const void *y)
{
    const slot_index_t *a = x, *b = y;
    if (a->slot != b->slot) return a->slot < b->slot ? -1 : 1;
    return (a->index > b->index) - (a->index < b->index); /* stable */
}

/* The items' indexes ordered by slot, so that a call holds one slot. */
static int order_by_slot(const cdc_rd_item_t *items, size_t n, size_t *order,
                         cdc_arena_t *arena)
{
    slot_index_t *keys = cdc_arena_alloc(arena, (n + 1) * sizeof *keys);
    if (!keys) return -1;
    for (size_t i = 0; i < n; i++) keys[i] = (slot_index_t){items[i].slot, i};
    qsort(keys, n, sizeof *keys, by_slot);
    for (size_t i = 0; i < n; i++) order[i] = keys[i].index;
    return 0;
}

/* Groups the items into calls: one slot per call in a Cluster, at most
 * CALL_MAX_CHANGES changes each. */
static rd_call_t *calls_make(rd_sink_t *s, cdc_rd_item_t *items, size_t n,
                             size_t *ncalls, cdc_arena_t *arena)
{
    size_t *order = cdc_arena_alloc(arena, (n + 1) * sizeof *order);
    rd_call_t *calls = cdc_arena_alloc(arena, (n + 1) * sizeof *calls);
    if (!order || !calls) return NULL;
    for (size_t i = 0; i < n; i++) order[i] = i;
    bool cluster = cdc_rd_conn_is_cluster(s->conn);
    if (cluster && order_by_slot(items, n, order, arena) != 0) return NULL;
    *ncalls = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i + 1;
        while (j < n && j - i < CALL_MAX_CHANGES &&
               (!cluster || items[order[j]].slot == items[order[i]].slot))
            j++;
        calls[(*ncalls)++] = (rd_call_t){
            .node = cdc_rd_conn_node_for(s->conn, items[order[i]].slot),
            .items = &order[i], .count = j - i, .pending = true};
        i = j;
    }
    return calls;
}

/* EVALSHA sha numkeys K M ... layout ttl retention op pos n payload ... */
static int call_argv(rd_sink_t *s, const rd_call_t *call, const cdc_rd_item_t *items,
                     cdc_rd_args_t *a, cdc_arena_t *arena)
{
    char numkeys[24], ttl[24], retention[24];
    snprintf(numkeys, sizeof numkeys, "%zu", call->count * 2);
    snprintf(ttl, sizeof ttl, "%" PRId64, s->ttl_ms);
    snprintf(retention, sizeof retention, "%" PRId64,
             s->retention_ms > 0 ? s->retention_ms : 1);
    const char *sha = cdc_rd_conn_script_sha(s->conn);
    if (cdc_rd_args_push(a, "EVALSHA", 7, arena) || cdc_rd_args_copy(a, sha, strlen(sha), arena) ||
        cdc_rd_args_copy(a, numkeys, strlen(numkeys), arena))
        return -1;
    for (size_t k = 0; k < call->count; k++) {
        const cdc_rd_item_t *it = &items[call->items[k]];
        if (cdc_rd_args_push(a, it->key, it->key_len, arena) ||
            cdc_rd_args_push(a, it->marker, it->marker_len, arena))
            return -1;
    }
    if (cdc_rd_args_push(a, s->hash ? "h" : "j", 1, arena) || cdc_rd_args_copy(a, ttl, strlen(ttl), arena) ||
        cdc_rd_args_copy(a, retention, strlen(retention), arena))
        return -1;
    for (size_t k = 0; k < call->count; k++) {
        const cdc_rd_item_t *it = &items[call->items[k]];
        char n[24];
        snprintf(n, sizeof n, "%zu", it->npayload);
        if (cdc_rd_args_push(a, &it->wire_op, 1, arena) || cdc_rd_args_push(a, it->position, 20, arena) ||
            cdc_rd_args_copy(a, n, strlen(n), arena))
            return -1;
        for (size_t p = 0; p < it->npayload; p++)
            if (cdc_rd_args_push(a, it->payload[p], it->payload_len[p], arena)) return -1;
    }
    return 0;
}

/* Reads a script's reply into the outcomes of its changes. */
static void call_outcomes(rd_sink_t *s, const rd_call_t *call, const cdc_rd_item_t *items,
                          const redisReply *r, cdc_outcome_t *outcomes,
                          cdc_arena_t *arena)
{
    for (size_t k = 0; k < call->count; k++) {
        size_t i = call->items[k];
        const char *held;
        cdc_rd_result_t result = cdc_rd_reply_result(r, k, &held);
        if (result != CDC_RD_RESULT_WRONGTYPE) {
            outcomes[i].kind =
                result == CDC_RD_RESULT_APPLIED ? CDC_OUTCOME_APPLIED : CDC_OUTCOME_STALE;
            continue;
        }
        char why[512];
        cdc_errstr_set(why, sizeof why,
                       "key %s holds a %s; redis.value.format=%s writes a %s",
                       items[i].key, held ? held : "value of another type",
                       s->hash ? "hash" : "json", s->hash ? "hash" : "string");
        cdc_outcome_reject(&outcomes[i], "data", "WRONGTYPE", why, arena);
    }
}

/* Where a MOVED/ASK reply sends the call: "MOVED 3999 127.0.0.1:6381". */
static cdc_rd_node_t *redirect_target(rd_sink_t *s, const char *error)
{
    cdc_rd_redirect_t to;
    if (cdc_rd_reply_redirect(error, &to) != 0) return NULL;
    return cdc_rd_conn_node_at(s->conn, to.to.host, to.to.port);
}

typedef struct apply_state {
    rd_sink_t *s;
    cdc_rd_item_t *items;
    cdc_outcome_t *outcomes;
    cdc_arena_t *arena;
    char *errstr;
    size_t errstr_size;
    bool refresh; /* a MOVED was seen: read the slot map again */
} apply_state_t;

/* What one reply means; the call stays pending when it must be sent
 * again (NOSCRIPT, MOVED, ASK). */
static cdc_sink_status_t call_reply(apply_state_t *as, rd_call_t *call,
                                    const redisReply *r)
{
    if (r->type == REDIS_REPLY_ARRAY) {
        call_outcomes(as->s, call, as->items, r, as->outcomes, as->arena);
        call->pending = false;
        return CDC_SINK_OK;
    }
    const char *error = r->type == REDIS_REPLY_ERROR ? r->str : "unexpected reply";
    if (strncmp(error, "NOSCRIPT", 8) == 0)
        return cdc_rd_conn_load_script(as->s->conn, call->node, as->errstr, as->errstr_size);
    bool moved = strncmp(error, "MOVED ", 6) == 0, ask = strncmp(error, "ASK ", 4) == 0;
    if (moved || ask) {
        cdc_rd_node_t *to = redirect_target(as->s, error);
        if (!to) return cdc_errstr_set(as->errstr, as->errstr_size, "redis: %s", error),
                      CDC_SINK_RETRY;
        call->node = to;
        call->asking = ask;
        as->refresh |= moved;
        as->s->moved += moved;
        as->s->asked += ask;
        return CDC_SINK_OK;
    }
    cdc_errstr_set(as->errstr, as->errstr_size, "redis %s:%d: %s", call->node->at.host,
                   call->node->at.port, error);
    /* A replica promoted, a master gone: ask the Cluster again. */
    if (!strncmp(error, "READONLY", 8) || !strncmp(error, "CLUSTERDOWN", 11) ||
        !strncmp(error, "MASTERDOWN", 10))
        cdc_rd_conn_forget_map(as->s->conn);
    if (strncmp(error, "OOM", 3) == 0) {
        as->s->full = true;
        cdc_log_warn("redis %s:%d is out of memory (maxmemory): writes wait",
                     call->node->at.host, call->node->at.port);
    }
    return cdc_rd_conn_classify(error);
}

/* Reads the replies of calls[idx[from..to)] from the node; false when
 * the connection broke. */
static bool read_replies(apply_state_t *as, cdc_rd_node_t *node, rd_call_t *calls,
                         const size_t *idx, size_t from, size_t to,
                         cdc_sink_status_t *st)
{
    for (size_t k = from; k < to; k++) {
        rd_call_t *call = &calls[idx[k]];
        void *reply = NULL;
        if (call->asking) {
            if (redisGetReply(node->ctx, &reply) != REDIS_OK) return false;
            freeReplyObject(reply);
            call->asking = false;
        }
        if (redisGetReply(node->ctx, &reply) != REDIS_OK) return false;
        cdc_sink_status_t r = call_reply(as, call, reply);
        freeReplyObject(reply);
        if (r > *st) *st = r; /* read every reply: the pipeline stays in step */
    }
    return true;
}

/* Sends the pending calls of one node, pipelined PIPELINE_DEPTH at a time
 * (deep enough to keep the server busy, shallow enough that the command
 * buffer stays small), and reads the replies. */
static cdc_sink_status_t node_round(apply_state_t *as, cdc_rd_node_t *node,
                                    rd_call_t *calls, size_t ncalls)
{
    cdc_sink_status_t st =
        cdc_rd_conn_node_connect(as->s->conn, node, as->errstr, as->errstr_size);
    if (st != CDC_SINK_OK) {
        cdc_rd_conn_forget_map(as->s->conn); /* a failover moves masters */
        return st;
    }
    size_t *idx = cdc_arena_alloc(as->arena, (ncalls + 1) * sizeof *idx), n = 0;
    if (!idx) return cdc_errstr_set(as->errstr, as->errstr_size, "out of memory"), CDC_SINK_RETRY;
    for (size_t i = 0; i < ncalls; i++)
        if (calls[i].pending && calls[i].node == node) idx[n++] = i;
    for (size_t from = 0; from < n; from += PIPELINE_DEPTH) {
        size_t to = from + PIPELINE_DEPTH < n ? from + PIPELINE_DEPTH : n;
        for (size_t k = from; k < to; k++) {
            rd_call_t *call = &calls[idx[k]];
            cdc_rd_args_t a = {0};
            if (call_argv(as->s, call, as->items, &a, as->arena) != 0)
                return cdc_errstr_set(as->errstr, as->errstr_size, "out of memory"),
                       CDC_SINK_RETRY;
            if (call->asking) redisAppendCommand(node->ctx, "ASKING");
            redisAppendCommandArgv(node->ctx, (int)a.count, a.argv, a.len);
        }
        if (!read_replies(as, node, calls, idx, from, to, &st)) {
            /* the connection broke mid-pipeline */
            cdc_errstr_set(as->errstr, as->errstr_size, "redis %s:%d: %s",
                           node->at.host, node->at.port, node->ctx->errstr);
            cdc_rd_conn_node_forget(node);
            cdc_rd_conn_forget_map(as->s->conn);
            return CDC_SINK_RETRY;
        }
    }
    return st;
}

/* Every node with pending calls, once. */
static cdc_sink_status_t calls_round(apply_state_t *as, rd_call_t *calls, size_t ncalls)
{
    for (size_t i = 0; i < ncalls; i++) {
        if (!calls[i].pending) continue;
        if (!calls[i].node) { /* a slot nobody serves yet */
            as->refresh = true;
            continue;
        }
        bool earlier = false;
        for (size_t j = 0; j < i && !earlier; j++)
            earlier = calls[j].pending && calls[j].node == calls[i].node;
        if (earlier) continue; /* that node's round sent this one too */
        cdc_sink_status_t st = node_round(as, calls[i].node, calls, ncalls);
        if (st != CDC_SINK_OK) return st;
    }
    return CDC_SINK_OK;
}

static cdc_sink_status_t rd_apply(void *state, const cdc_change_t *changes,
                                  size_t count, cdc_outcome_t *outcomes,
                                  cdc_arena_t *arena, char *errstr,
                                  size_t errstr_size)
{
    rd_sink_t *s = state;
    s->full = false;
    apply_state_t as = {.s = s, .outcomes = outcomes, .arena = arena,
                        .errstr = errstr, .errstr_size = errstr_size};
    as.items = cdc_arena_alloc(arena, (count + 1) * sizeof *as.items);
    if (!as.items) return cdc_errstr_set(errstr, errstr_size, "out of memory"), CDC_SINK_RETRY;
    for (size_t i = 0; i < count; i++)
        if (cdc_rd_item_build(&changes[i], s->hash, &s->scratch, &as.items[i], arena) != 0)
            return cdc_errstr_set(errstr, errstr_size, "out of memory"), CDC_SINK_RETRY;
    cdc_sink_status_t st = cdc_rd_conn_ready(s->conn, errstr, errstr_size);
    if (st != CDC_SINK_OK) return st;
    size_t ncalls;
    rd_call_t *calls = calls_make(s, as.items, count, &ncalls, arena);
    if (!calls) return cdc_errstr_set(errstr, errstr_size, "out of memory"), CDC_SINK_RETRY;
    for (int round = 0; round <= MAX_REDIRECTS; round++) {
        if ((st = calls_round(&as, calls, ncalls)) != CDC_SINK_OK) return st;
        bool pending = false;
        for (size_t i = 0; i < ncalls; i++) pending |= calls[i].pending;
        if (!pending) return CDC_SINK_OK;
        if (as.refresh) {
            as.refresh = false;
            if ((st = cdc_rd_conn_refresh(s->conn, errstr, errstr_size)) != CDC_SINK_OK)
                return st;
            for (size_t i = 0; i < ncalls; i++)
                if (calls[i].pending && !calls[i].asking)
                    calls[i].node = cdc_rd_conn_node_for(s->conn, as.items[calls[i].items[0]].slot);
        }
    }
    cdc_errstr_set(errstr, errstr_size,
                   "redis: still redirected after %d rounds (slots moving?)",
                   MAX_REDIRECTS);
    return CDC_SINK_RETRY;
}

/* hiredis is linked statically (docs/decisions.md): the version built in. */
static void rd_library(char *out, size_t size)
{
    snprintf(out, size, "hiredis %d.%d.%d with TLS (static)", HIREDIS_MAJOR, HIREDIS_MINOR,
             HIREDIS_PATCH);
}

const cdc_sink_ops_t cdc_redis_sink = {
    .name = "redis",
    .plan_mode = CDC_PLAN_LATEST,
    .route_key = "key.format",
    .route_allows_key = true,
    .keys = cdc_rd_keys,
    .nkeys = CDC_RD_KEY_COUNT,
    .open = rd_open,
    .apply = rd_apply,
    .ping = rd_ping,
    .retry_class = rd_retry_class,
    .close = rd_close,
    .migrate = NULL,
    .library = rd_library,
    .verify = &cdc_rd_verify_ops,
};
