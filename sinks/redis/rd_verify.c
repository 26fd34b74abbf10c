#include "rd_verify.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "buf.h"
#include "config.h"
#include "errstr.h"
#include "rd_change.h"
#include "rd_conn.h"
#include "rd_slot.h"
#include "render.h"
#include "route.h"
#include "verify_doc.h"

enum {
    TIMEOUT_MS = 10000,
    SCAN_COUNT = 1000,  /* keys SCAN looks at per call */
    LIST_BATCH = 1000   /* keys handed to the verifier at once */
};

typedef struct rd_verifier {
    cdc_rd_conn_t *conn;
    bool hash;            /* redis.value.format=hash */
    int64_t ttl_ms;
    int64_t retention_ms;
    char *template;       /* key.format */
} rd_verifier_t;

/* ---------------------------------------------------------------------
 * Keys
 * ------------------------------------------------------------------- */

static cdc_event_t table_event(const cdc_verify_table_t *t)
{
    return (cdc_event_t){.topic = t->topic, .source_db = t->source_db,
                         .source_schema = t->source_schema, .source_table = t->source_table};
}

/* What key.format puts around ${key} for this table. */
static int key_affixes(const rd_verifier_t *v, const cdc_verify_table_t *t, cdc_buf_t *prefix,
                       cdc_buf_t *suffix, char *errstr, size_t errstr_size)
{
    cdc_event_t ev = table_event(t);
    if (cdc_route_key_affixes(v->template, &ev, prefix, suffix) == 0) return 0;
    return cdc_errstr_set(errstr, errstr_size, "key.format %s does not hold ${key} once: its "
                          "keys cannot be told apart", v->template), -1;
}

static void redis_key(const rd_verifier_t *v, const cdc_verify_table_t *t, const char *key_text,
                      cdc_buf_t *out)
{
    cdc_event_t ev = table_event(t);
    cdc_buf_reset(out);
    cdc_route_format_key_text(v->template, &ev, key_text, out);
}

/* Glob characters of SCAN MATCH escaped. */
static void glob_literal(cdc_buf_t *b, const char *text)
{
    for (const char *p = text; *p; p++) {
        if (strchr("*?[]\\", *p)) cdc_buf_putc(b, '\\');
        cdc_buf_putc(b, *p);
    }
}

static char *rd_shown(void *state, const cdc_verify_table_t *t)
{
    const rd_verifier_t *v = state;
    cdc_buf_t prefix, suffix, shown;
    cdc_buf_init(&prefix);
    cdc_buf_init(&suffix);
    cdc_buf_init(&shown);
    char why[256];
    if (key_affixes(v, t, &prefix, &suffix, why, sizeof why) == 0) {
        cdc_buf_puts(&shown, prefix.data ? prefix.data : "");
        cdc_buf_putc(&shown, '*');
        cdc_buf_puts(&shown, suffix.data ? suffix.data : "");
    }
    cdc_buf_free(&prefix);
    cdc_buf_free(&suffix);
    return shown.data;
}

/* The connected node of a key's slot. */
static cdc_rd_node_t *node_of(rd_verifier_t *v, const char *key, size_t len, char *errstr,
                              size_t errstr_size)
{
    cdc_rd_node_t *n = cdc_rd_conn_node_for(v->conn, cdc_rd_key_slot(key, len));
    if (!n) {
        cdc_errstr_set(errstr, errstr_size, "redis: no master serves the slot of %s", key);
        return NULL;
    }
    return cdc_rd_conn_node_connect(v->conn, n, errstr, errstr_size) == CDC_SINK_OK ? n : NULL;
}

static int broken(cdc_rd_node_t *n, char *errstr, size_t errstr_size)
{
    cdc_errstr_set(errstr, errstr_size, "redis %s:%d: %s", n->at.host, n->at.port,
                   n->ctx && n->ctx->errstr[0] ? n->ctx->errstr : "connection lost");
    cdc_rd_conn_node_forget(n);
    return -1;
}

/* ---------------------------------------------------------------------
 * Reading documents
 * ------------------------------------------------------------------- */

/* A hash's fields as a JSON object of strings; NULL for no key. */
static char *hash_document(const redisReply *r)
{
    if (r->elements == 0) return NULL;
    cdc_buf_t b;
    cdc_buf_init(&b);
    cdc_buf_putc(&b, '{');
    for (size_t i = 0; i + 1 < r->elements; i += 2) {
        const redisReply *f = r->element[i], *val = r->element[i + 1];
        if (i) cdc_buf_putc(&b, ',');
        cdc_render_string(f->str ? f->str : "", f->str ? f->len : 0, &b);
        cdc_buf_putc(&b, ':');
        cdc_render_string(val->str ? val->str : "", val->str ? val->len : 0, &b);
    }
    cdc_buf_putc(&b, '}');
    if (b.failed) cdc_buf_free(&b);
    return b.data ? b.data : strdup("{}");
}

/* The document of one reply into *doc. */
static int read_document(const rd_verifier_t *v, const redisReply *r, const char *key,
                         char **doc, char *errstr, size_t errstr_size)
{
    *doc = NULL;
    switch (r->type) {
    case REDIS_REPLY_NIL:
        return 0;
    case REDIS_REPLY_STRING:
        return (*doc = strndup(r->str, r->len)) ? 0 : -1;
    case REDIS_REPLY_ARRAY:
    case REDIS_REPLY_MAP:
        if (!v->hash) break;
        *doc = hash_document(r);
        return 0;
    case REDIS_REPLY_ERROR:
        if (strncmp(r->str, "WRONGTYPE", 9) == 0) /* differs from any row */
            return (*doc = strdup("\"a key of another type\"")) ? 0 : -1;
        return cdc_errstr_set(errstr, errstr_size, "redis: reading %s: %s", key, r->str), -1;
    default:
        break;
    }
    return cdc_errstr_set(errstr, errstr_size, "redis: unexpected reply reading %s", key), -1;
}

static int rd_fetch(void *state, const cdc_verify_table_t *t, const char *const *keys, size_t n,
                    char **docs, char *errstr, size_t errstr_size)
{
    rd_verifier_t *v = state;
    cdc_rd_node_t **nodes = calloc(n + 1, sizeof *nodes);
    char **names = calloc(n + 1, sizeof *names);
    cdc_buf_t key;
    cdc_buf_init(&key);
    int rc = 0, sent = 0;
    if (!nodes || !names) rc = (cdc_errstr_set(errstr, errstr_size, "out of memory"), -1);
    const char *cmd = v->hash ? "HGETALL" : "GET";
    for (size_t i = 0; rc == 0 && i < n; i++, sent++) {
        redis_key(v, t, keys[i], &key);
        if (key.failed || !(names[i] = strdup(key.data ? key.data : ""))) {
            rc = (cdc_errstr_set(errstr, errstr_size, "out of memory"), -1);
            break;
        }
        if (!(nodes[i] = node_of(v, names[i], strlen(names[i]), errstr, errstr_size))) {
            rc = -1;
            break;
        }
        const char *argv[] = {cmd, names[i]};
        size_t len[] = {strlen(cmd), strlen(names[i])};
        redisAppendCommandArgv(nodes[i]->ctx, 2, argv, len);
    }
    /* every reply sent for is read, so that the connections stay in step */
    for (size_t i = 0; i < (size_t)sent; i++) {
        void *reply = NULL;
        if (!nodes[i]->ctx || redisGetReply(nodes[i]->ctx, &reply) != REDIS_OK) {
            if (rc == 0) rc = broken(nodes[i], errstr, errstr_size);
            continue;
        }
        if (rc == 0 && read_document(v, reply, names[i], &docs[i], errstr, errstr_size) != 0)
            rc = -1;
        freeReplyObject(reply);
    }
    for (size_t i = 0; names && i < n; i++) free(names[i]);
    free(names);
    free(nodes);
    cdc_buf_free(&key);
    return rc;
}

/* ---------------------------------------------------------------------
 * Listing the table's keys
 * ------------------------------------------------------------------- */

typedef struct listing {
    const char *prefix, *suffix;
    size_t prefix_len, suffix_len;
    char **batch;
    size_t n;
    int64_t listed, limit;
    cdc_vdoc_each_fn each;
    void *arg;
} listing_t;

static int flush_batch(listing_t *l)
{
    int rc = l->n ? l->each(l->arg, l->batch, l->n) : 0;
    for (size_t i = 0; i < l->n; i++) free(l->batch[i]);
    l->n = 0;
    return rc;
}

/* One key SCAN returned: its ${key}, when it is one of the table's. */
static int take_key(listing_t *l, const redisReply *k)
{
    if (k->type != REDIS_REPLY_STRING || k->len < l->prefix_len + l->suffix_len) return 0;
    if (strncmp(k->str, CDC_RD_MARKER_PREFIX, sizeof CDC_RD_MARKER_PREFIX - 1) == 0) return 0;
    if (memcmp(k->str, l->prefix, l->prefix_len) != 0 ||
        memcmp(k->str + k->len - l->suffix_len, l->suffix, l->suffix_len) != 0)
        return 0;
    char *text = strndup(k->str + l->prefix_len, k->len - l->prefix_len - l->suffix_len);
    if (!text) return -1;
    l->batch[l->n++] = text;
    l->listed++;
    return l->n == LIST_BATCH ? flush_batch(l) : 0;
}

static bool listed_enough(const listing_t *l)
{
    return l->limit > 0 && l->listed >= l->limit;
}

static int scan_node(rd_verifier_t *v, cdc_rd_node_t *node, const char *pattern, listing_t *l,
                     char *errstr, size_t errstr_size)
{
    if (cdc_rd_conn_node_connect(v->conn, node, errstr, errstr_size) != CDC_SINK_OK) return -1;
    char cursor[32] = "0";
    char count[16];
    snprintf(count, sizeof count, "%d", SCAN_COUNT);
    do {
        redisReply *r = redisCommand(node->ctx, "SCAN %s MATCH %s COUNT %s", cursor, pattern, count);
        if (!r) return broken(node, errstr, errstr_size);
        if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
            r->element[0]->type != REDIS_REPLY_STRING || r->element[1]->type != REDIS_REPLY_ARRAY) {
            cdc_errstr_set(errstr, errstr_size, "redis %s:%d: SCAN: %s", node->at.host,
                           node->at.port, r->type == REDIS_REPLY_ERROR ? r->str : "unexpected reply");
            freeReplyObject(r);
            return -1;
        }
        snprintf(cursor, sizeof cursor, "%s", r->element[0]->str);
        int rc = 0;
        for (size_t i = 0; rc == 0 && i < r->element[1]->elements && !listed_enough(l); i++)
            rc = take_key(l, r->element[1]->element[i]);
        freeReplyObject(r);
        if (rc != 0) return cdc_errstr_set(errstr, errstr_size, "listing %s", pattern), -1;
    } while (strcmp(cursor, "0") != 0 && !listed_enough(l));
    return 0;
}

/* Every master once (one server outside a Cluster). */
static size_t masters(rd_verifier_t *v, cdc_rd_node_t **out, size_t max)
{
    size_t n = 0;
    int slots = cdc_rd_conn_is_cluster(v->conn) ? CDC_RD_SLOTS : 1;
    for (int s = 0; s < slots; s++) {
        cdc_rd_node_t *node = cdc_rd_conn_node_for(v->conn, s);
        bool seen = !node;
        for (size_t i = 0; i < n && !seen; i++) seen = out[i] == node;
        if (!seen && n < max) out[n++] = node;
    }
    return n;
}

static int rd_scan(void *state, const cdc_verify_table_t *t, int64_t limit, cdc_vdoc_each_fn each,
                   void *arg, char *errstr, size_t errstr_size)
{
    rd_verifier_t *v = state;
    cdc_buf_t prefix, suffix, pattern;
    cdc_buf_init(&prefix);
    cdc_buf_init(&suffix);
    cdc_buf_init(&pattern);
    listing_t l = {.limit = limit, .each = each, .arg = arg};
    int rc = key_affixes(v, t, &prefix, &suffix, errstr, errstr_size);
    if (rc == 0) {
        l.prefix = prefix.data ? prefix.data : "";
        l.suffix = suffix.data ? suffix.data : "";
        l.prefix_len = strlen(l.prefix);
        l.suffix_len = strlen(l.suffix);
        glob_literal(&pattern, l.prefix);
        cdc_buf_putc(&pattern, '*');
        glob_literal(&pattern, l.suffix);
        l.batch = calloc(LIST_BATCH, sizeof *l.batch);
        if (pattern.failed || !l.batch) rc = (cdc_errstr_set(errstr, errstr_size, "out of memory"), -1);
    }
    cdc_rd_node_t *nodes[256];
    size_t nnodes = rc == 0 ? masters(v, nodes, 256) : 0;
    for (size_t i = 0; rc == 0 && i < nnodes && !listed_enough(&l); i++)
        rc = scan_node(v, nodes[i], pattern.data, &l, errstr, errstr_size);
    if (l.batch && flush_batch(&l) != 0 && rc == 0) rc = -1;
    free(l.batch);
    cdc_buf_free(&prefix);
    cdc_buf_free(&suffix);
    cdc_buf_free(&pattern);
    return rc;
}

/* ---------------------------------------------------------------------
 * Repair: the sink's guard script
 * ------------------------------------------------------------------- */

/* Just above the position the key's marker holds (20 digits, as the
 * script compares them); the lowest one when there is no marker. */
static int next_position(cdc_rd_node_t *node, const char *marker, char out[24], char *errstr,
                         size_t errstr_size)
{
    redisReply *r = redisCommand(node->ctx, "GET %s", marker);
    if (!r) return broken(node, errstr, errstr_size);
    unsigned long long held = 0;
    if (r->type == REDIS_REPLY_STRING) held = strtoull(r->str, NULL, 10);
    freeReplyObject(r);
    snprintf(out, 24, "%020llu", held + 1);
    return 0;
}

/* The payload of the script for the row (rd_script.c). */
static int payload(const rd_verifier_t *v, const cdc_vdoc_row_t *row, char *op,
                   cdc_rd_args_t *a, cdc_arena_t *arena)
{
    if (!row->json && !row->soft) {
        *op = 'd';
        return 0;
    }
    *op = row->json ? 'u' : 's';
    if (!v->hash) {
        const char *doc = row->json ? row->json : "{\"__deleted\":true}";
        return cdc_rd_args_copy(a, doc, strlen(doc), arena);
    }
    if (!row->json) /* a soft delete of a key that is there only flags it */
        return cdc_rd_args_push(a, "1", 1, arena) || cdc_rd_args_push(a, "__deleted", 9, arena) ||
               cdc_rd_args_push(a, "true", 4, arena);
    size_t nset = 0;
    for (size_t i = 0; i < row->n; i++) nset += row->texts[i] != NULL;
    char count[24];
    snprintf(count, sizeof count, "%zu", nset);
    if (cdc_rd_args_copy(a, count, strlen(count), arena)) return -1;
    for (size_t i = 0; i < row->n; i++)
        if (row->texts[i] && (cdc_rd_args_push(a, row->names[i], strlen(row->names[i]), arena) ||
                              cdc_rd_args_push(a, row->texts[i], strlen(row->texts[i]), arena)))
            return -1;
    for (size_t i = 0; i < row->n; i++)
        if (!row->texts[i] && cdc_rd_args_push(a, row->names[i], strlen(row->names[i]), arena))
            return -1;
    return cdc_rd_args_push(a, "__deleted", 9, arena);
}

/* EVALSHA sha 2 key marker layout ttl retention op pos n payload... */
static int script_args(rd_verifier_t *v, const char *key, const char *marker, char op,
                       const char *position, const cdc_rd_args_t *p, cdc_rd_args_t *a,
                       cdc_arena_t *arena)
{
    char ttl[24], retention[24], n[24];
    snprintf(ttl, sizeof ttl, "%lld", (long long)v->ttl_ms);
    snprintf(retention, sizeof retention, "%lld",
             (long long)(v->retention_ms > 0 ? v->retention_ms : 1));
    snprintf(n, sizeof n, "%zu", p->count);
    const char *sha = cdc_rd_conn_script_sha(v->conn);
    const char *fixed[] = {"EVALSHA", sha, "2", key, marker, v->hash ? "h" : "j", ttl,
                           retention, &op, position, n};
    for (size_t i = 0; i < sizeof fixed / sizeof *fixed; i++)
        if (cdc_rd_args_copy(a, fixed[i], fixed[i] == &op ? 1 : strlen(fixed[i]), arena))
            return -1;
    for (size_t i = 0; i < p->count; i++)
        if (cdc_rd_args_push(a, p->argv[i], p->len[i], arena)) return -1;
    return 0;
}

/* One call of the script: 1 applied, 0 stale, 2 the key holds another
 * type, 3 the server lacks the script; -1 with errstr. */
static int call_script(cdc_rd_node_t *node, const cdc_rd_args_t *a, char *errstr,
                       size_t errstr_size)
{
    redisReply *r = redisCommandArgv(node->ctx, (int)a->count, a->argv, a->len);
    if (!r) return broken(node, errstr, errstr_size);
    int rc = -1;
    if (r->type == REDIS_REPLY_ARRAY && r->elements == 1) {
        const redisReply *e = r->element[0];
        rc = e->type == REDIS_REPLY_INTEGER ? (e->integer == 1 ? 1 : 0) : 2;
    } else if (r->type == REDIS_REPLY_ERROR && strncmp(r->str, "NOSCRIPT", 8) == 0) {
        rc = 3;
    } else {
        cdc_errstr_set(errstr, errstr_size, "redis %s:%d: repair: %s", node->at.host,
                       node->at.port, r->type == REDIS_REPLY_ERROR ? r->str : "unexpected reply");
    }
    freeReplyObject(r);
    return rc;
}

static int rd_write(void *state, const cdc_verify_table_t *t, const char *key_text,
                    const cdc_vdoc_row_t *row, char *errstr, size_t errstr_size)
{
    rd_verifier_t *v = state;
    cdc_arena_t arena;
    cdc_arena_init(&arena, 4096);
    cdc_buf_t key;
    cdc_buf_init(&key);
    redis_key(v, t, key_text, &key);
    size_t mlen;
    char position[24], op;
    cdc_rd_args_t p = {0}, a = {0};
    const char *k = key.data ? key.data : "";
    char *marker = cdc_rd_marker_name(k, strlen(k), &arena, &mlen);
    cdc_rd_node_t *node = marker ? node_of(v, k, strlen(k), errstr, errstr_size) : NULL;
    int rc = -1;
    if (!marker) cdc_errstr_set(errstr, errstr_size, "out of memory");
    if (node && next_position(node, marker, position, errstr, errstr_size) == 0) {
        if (payload(v, row, &op, &p, &arena) != 0 ||
            script_args(v, k, marker, op, position, &p, &a, &arena) != 0) {
            cdc_errstr_set(errstr, errstr_size, "out of memory");
        } else {
            rc = call_script(node, &a, errstr, errstr_size);
            if (rc == 3 && cdc_rd_conn_load_script(v->conn, node, errstr, errstr_size) == CDC_SINK_OK)
                rc = call_script(node, &a, errstr, errstr_size);
            if (rc == 2) { /* someone else's value of another type: replaced */
                redisReply *del = redisCommand(node->ctx, "DEL %s", k);
                freeReplyObject(del);
                rc = del ? call_script(node, &a, errstr, errstr_size) : broken(node, errstr, errstr_size);
            }
            if (rc > 1) rc = (cdc_errstr_set(errstr, errstr_size, "redis: repair of %s refused", k), -1);
        }
    }
    cdc_buf_free(&key);
    cdc_arena_destroy(&arena);
    return rc;
}

/* ---------------------------------------------------------------------
 * Open, close
 * ------------------------------------------------------------------- */

static void rd_store_close(void *state)
{
    rd_verifier_t *v = state;
    if (!v) return;
    cdc_rd_conn_destroy(v->conn);
    free(v->template);
    free(v);
}

static const cdc_vdoc_store_t rd_store = {
    .shown = rd_shown,
    .fetch = rd_fetch,
    .scan = rd_scan,
    .write = rd_write,
    .close = rd_store_close,
};

static void *rd_verify_open(const cdc_config_t *cfg, char *errstr, size_t errstr_size)
{
    rd_verifier_t *v = calloc(1, sizeof *v);
    if (!v || !(v->template = strdup(cdc_config_get(cfg, "key.format")))) {
        free(v);
        cdc_errstr_set(errstr, errstr_size, "out of memory");
        return NULL;
    }
    v->hash = strcmp(cdc_config_get(cfg, "redis.value.format"), "hash") == 0;
    v->ttl_ms = cdc_config_get_int(cfg, "redis.ttl.ms");
    v->retention_ms = cdc_config_settings(cfg)->delete_retention_ms;
    if (!(v->conn = cdc_rd_conn_configured(cfg, TIMEOUT_MS, errstr, errstr_size)) ||
        cdc_rd_conn_ready(v->conn, errstr, errstr_size) != CDC_SINK_OK) {
        rd_store_close(v);
        return NULL;
    }
    return cdc_vdoc_open(cfg, &rd_store, v, v->hash, errstr, errstr_size);
}

const cdc_verify_ops_t cdc_rd_verify_ops = {
    .open = rd_verify_open,
    .compare = cdc_vdoc_compare,
    .sample = cdc_vdoc_sample,
    .recheck = cdc_vdoc_recheck,
    .repair = cdc_vdoc_repair,
    .close = cdc_vdoc_close,
};
