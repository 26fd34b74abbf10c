#include "es_verify.h"

#include <bson/bson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "buf.h"
#include "errstr.h"
#include "es_http.h"
#include "es_index.h"
#include "es_keys.h"
#include "es_stored.h"
#include "verify_doc.h"

enum { SCROLL_SIZE = 1000, MGET_MAX = 1000 };

typedef struct es_verifier {
    cdc_es_http_t *http;
} es_verifier_t;

/* The index of t, as the sink names it (malloc'd). */
static char *index_of(const cdc_verify_table_t *t)
{
    cdc_arena_t arena;
    cdc_arena_init(&arena, 1024);
    char *name = strdup(cdc_es_index_name(t->target, &arena));
    cdc_arena_destroy(&arena);
    return name;
}

static char *es_shown(void *state, const cdc_verify_table_t *t)
{
    (void)state;
    return index_of(t);
}

/* An answer that is not what was asked for: its status and the start of
 * its body (never a credential: the engines do not echo them). */
static int answer_failed(const cdc_es_request_t *req, const char *what, char *errstr,
                         size_t errstr_size)
{
    if (req->status == 0)
        return cdc_errstr_set(errstr, errstr_size, "%s: %s", what, req->error), -1;
    int len = req->response.len < 300 ? (int)req->response.len : 300;
    return cdc_errstr_set(errstr, errstr_size, "%s: HTTP %ld: %.*s", what, req->status, len,
                          req->response.data ? req->response.data : ""), -1;
}

/* ---------------------------------------------------------------------
 * Reading and listing
 * ------------------------------------------------------------------- */

/* 1 when the index exists, 0 when not, -1 with errstr. */
static int index_exists(es_verifier_t *v, const char *index, char *errstr, size_t errstr_size)
{
    cdc_buf_t path;
    cdc_buf_init(&path);
    cdc_es_path_segment(&path, index);
    cdc_es_request_t req = {.method = "HEAD", .path = path.data};
    int rc;
    if (path.failed) rc = (cdc_errstr_set(errstr, errstr_size, "out of memory"), -1);
    else if (cdc_es_http_one(v->http, &req) != 0 || (req.status != 200 && req.status != 404))
        rc = answer_failed(&req, "looking for the index", errstr, errstr_size);
    else rc = req.status == 200;
    cdc_es_request_clear(&req);
    cdc_buf_free(&path);
    return rc;
}

static int es_fetch(void *state, const cdc_verify_table_t *t, const char *const *keys, size_t n,
                    char **docs, char *errstr, size_t errstr_size)
{
    es_verifier_t *v = state;
    char *index = index_of(t);
    const char **indexes = calloc(n + 1, sizeof *indexes);
    if (!index || !indexes) {
        free(index);
        free(indexes);
        return cdc_errstr_set(errstr, errstr_size, "out of memory"), -1;
    }
    for (size_t i = 0; i < n; i++) indexes[i] = index;
    /* _mget answers a missing index with an error per document: an index
     * not there (yet, or deleted by hand) holds no documents */
    int rc = index_exists(v, index, errstr, errstr_size);
    if (rc <= 0) {
        free(index);
        free(indexes);
        return rc;
    }
    rc = 0;
    for (size_t from = 0; rc == 0 && from < n; from += MGET_MAX) {
        size_t count = n - from < MGET_MAX ? n - from : MGET_MAX;
        cdc_es_stored_t stored;
        if (cdc_es_stored_fetch(v->http, indexes + from, keys + from, count, &stored, errstr,
                                errstr_size) != CDC_SINK_OK) {
            rc = -1;
            break;
        }
        for (size_t i = 0; i < count; i++) {
            const cdc_es_span_t *s = cdc_es_stored_get(&stored, i);
            if (s && !(docs[from + i] = strndup(s->p, s->len))) rc = -1;
        }
        cdc_es_stored_free(&stored);
        if (rc) cdc_errstr_set(errstr, errstr_size, "out of memory");
    }
    free(index);
    free(indexes);
    return rc;
}

/* The _ids of one scroll page into ids (malloc'd each); its scroll id. */
static int read_page(const cdc_buf_t *answer, char **ids, size_t *n, char *scroll_id,
                     size_t scroll_size)
{
    bson_error_t error;
    bson_t *doc = bson_new_from_json((const uint8_t *)answer->data, (ssize_t)answer->len, &error);
    if (!doc) return -1;
    bson_iter_t it, found, hits;
    *n = 0;
    if (bson_iter_init(&it, doc) && bson_iter_find_descendant(&it, "_scroll_id", &found) &&
        BSON_ITER_HOLDS_UTF8(&found))
        snprintf(scroll_id, scroll_size, "%s", bson_iter_utf8(&found, NULL));
    if (bson_iter_init(&it, doc) && bson_iter_find_descendant(&it, "hits.hits", &found) &&
        BSON_ITER_HOLDS_ARRAY(&found) && bson_iter_recurse(&found, &hits)) {
        while (bson_iter_next(&hits) && *n < SCROLL_SIZE) {
            bson_iter_t hit, id;
            if (BSON_ITER_HOLDS_DOCUMENT(&hits) && bson_iter_recurse(&hits, &hit) &&
                bson_iter_find(&hit, "_id") && BSON_ITER_HOLDS_UTF8(&hit)) {
                id = hit;
                if ((ids[*n] = strdup(bson_iter_utf8(&id, NULL)))) (*n)++;
            }
        }
    }
    bson_destroy(doc);
    return 0;
}

static void clear_scroll(es_verifier_t *v, const char *scroll_id)
{
    if (!scroll_id[0]) return;
    cdc_buf_t body;
    cdc_buf_init(&body);
    cdc_buf_puts(&body, "{\"scroll_id\":\"");
    cdc_buf_puts(&body, scroll_id); /* base64: nothing to escape */
    cdc_buf_puts(&body, "\"}");
    cdc_es_request_t req = {.method = "DELETE", .path = "/_search/scroll", .body = body.data,
                            .body_len = body.len};
    cdc_es_http_one(v->http, &req);
    cdc_es_request_clear(&req);
    cdc_buf_free(&body);
}

static int es_scan(void *state, const cdc_verify_table_t *t, int64_t limit, cdc_vdoc_each_fn each,
                   void *arg, char *errstr, size_t errstr_size)
{
    es_verifier_t *v = state;
    char *index = index_of(t);
    cdc_buf_t path, body;
    cdc_buf_init(&path);
    cdc_buf_init(&body);
    char **ids = calloc(SCROLL_SIZE, sizeof *ids);
    char scroll_id[4096] = "";
    int rc = index && ids ? 0 : (cdc_errstr_set(errstr, errstr_size, "out of memory"), -1);
    if (rc == 0) {
        cdc_es_path_segment(&path, index);
        cdc_buf_puts(&path, "/_search?scroll=1m&filter_path=_scroll_id,hits.hits._id");
        char first[96];
        snprintf(first, sizeof first, "{\"size\":%d,\"_source\":false,\"sort\":[\"_doc\"]}",
                 SCROLL_SIZE);
        cdc_buf_puts(&body, first);
    }
    int64_t listed = 0;
    for (bool start = true; rc == 0; start = false) {
        cdc_es_request_t req = {.method = "POST", .path = start ? path.data : "/_search/scroll",
                                .body = body.data, .body_len = body.len};
        size_t n = 0;
        if (cdc_es_http_one(v->http, &req) != 0 || (req.status != 200 && req.status != 404))
            rc = answer_failed(&req, "listing documents (scroll)", errstr, errstr_size);
        else if (req.status == 404) /* no index: no documents */
            n = 0;
        else if (read_page(&req.response, ids, &n, scroll_id, sizeof scroll_id) != 0)
            rc = (cdc_errstr_set(errstr, errstr_size, "listing documents: an answer that is not JSON"), -1);
        cdc_es_request_clear(&req);
        if (rc == 0 && n && each(arg, ids, n) != 0) rc = -1;
        for (size_t i = 0; i < n; i++) free(ids[i]);
        listed += (int64_t)n;
        if (n == 0 || (limit > 0 && listed >= limit)) break;
        cdc_buf_reset(&body);
        cdc_buf_puts(&body, "{\"scroll\":\"1m\",\"scroll_id\":\"");
        cdc_buf_puts(&body, scroll_id);
        cdc_buf_puts(&body, "\"}");
    }
    clear_scroll(v, scroll_id);
    free(ids);
    free(index);
    cdc_buf_free(&path);
    cdc_buf_free(&body);
    return rc;
}

/* ---------------------------------------------------------------------
 * Repair: versioned writes
 * ------------------------------------------------------------------- */

/* The document's version and _source (malloc'd, NULL when there is none);
 * *version 0 when the index holds no such document. */
static int stored_version(es_verifier_t *v, const char *doc_path, int64_t *version,
                          char **source, char *errstr, size_t errstr_size)
{
    *version = 0;
    *source = NULL;
    cdc_es_request_t req = {.method = "GET", .path = doc_path};
    int rc = 0;
    if (cdc_es_http_one(v->http, &req) != 0 || (req.status != 200 && req.status != 404)) {
        rc = answer_failed(&req, "reading a document", errstr, errstr_size);
    } else if (req.status == 200) {
        bson_error_t error;
        bson_t *doc = bson_new_from_json((const uint8_t *)req.response.data,
                                         (ssize_t)req.response.len, &error);
        bson_iter_t it;
        if (doc && bson_iter_init_find(&it, doc, "_version") && BSON_ITER_HOLDS_INT(&it))
            *version = bson_iter_as_int64(&it);
        if (doc && bson_iter_init_find(&it, doc, "_source") && BSON_ITER_HOLDS_DOCUMENT(&it)) {
            bson_t sub;
            uint32_t len;
            const uint8_t *data;
            bson_iter_document(&it, &len, &data);
            if (bson_init_static(&sub, data, len)) *source = bson_as_relaxed_extended_json(&sub, NULL);
        }
        if (doc) bson_destroy(doc);
    }
    cdc_es_request_clear(&req);
    return rc;
}

/* The version the engine says it holds in a conflict: "... current
 * version [501] is higher or equal to the one provided [1]". */
static int64_t conflict_version(const cdc_buf_t *answer)
{
    const char *at = answer->data ? strstr(answer->data, "current version [") : NULL;
    return at ? strtoll(at + 17, NULL, 10) : 0;
}

/* The stored document flagged deleted (delete.mode=soft). */
static char *soft_deleted(const char *source)
{
    const char *end = source ? strrchr(source, '}') : NULL;
    if (!end) return NULL;
    cdc_buf_t b;
    cdc_buf_init(&b);
    cdc_buf_append(&b, source, (size_t)(end - source));
    bool empty = !strchr(source, ':');
    cdc_buf_puts(&b, empty ? "\"__deleted\":true}" : ",\"__deleted\":true}");
    if (b.failed) cdc_buf_free(&b);
    return b.data;
}

/* One versioned write: 1 written, 0 conflict (*held: the engine's version),
 * -1 with errstr. */
static int versioned(es_verifier_t *v, const char *doc_path, const char *body, int64_t version,
                     int64_t *held, char *errstr, size_t errstr_size)
{
    char path[4096];
    snprintf(path, sizeof path, "%s?version=%lld&version_type=external", doc_path,
             (long long)version);
    cdc_es_request_t req = {.method = body ? "PUT" : "DELETE", .path = path, .body = body,
                            .body_len = body ? strlen(body) : 0};
    int rc;
    if (cdc_es_http_one(v->http, &req) != 0) rc = answer_failed(&req, "repair", errstr, errstr_size);
    else if (req.status == 200 || req.status == 201 || (!body && req.status == 404)) rc = 1;
    else if (req.status == 409) rc = 0, *held = conflict_version(&req.response);
    else rc = answer_failed(&req, "repair", errstr, errstr_size);
    cdc_es_request_clear(&req);
    return rc;
}

static int es_write(void *state, const cdc_verify_table_t *t, const char *key,
                    const cdc_vdoc_row_t *row, char *errstr, size_t errstr_size)
{
    es_verifier_t *v = state;
    char *index = index_of(t);
    cdc_buf_t path;
    cdc_buf_init(&path);
    if (index) cdc_es_path_segment(&path, index);
    cdc_buf_puts(&path, "/_doc");
    cdc_es_path_segment(&path, key);
    free(index);
    if (!index || path.failed || path.len > 3000) {
        cdc_buf_free(&path);
        return cdc_errstr_set(errstr, errstr_size, "repair of %s: out of memory", key), -1;
    }
    int64_t version, held = 0;
    char *source = NULL, *soft = NULL;
    int rc = stored_version(v, path.data, &version, &source, errstr, errstr_size);
    if (rc == 0 && !row->json && row->soft && !(soft = soft_deleted(source)))
        rc = 1; /* nothing stored to flag */
    else if (rc == 0) {
        const char *body = row->json ? row->json : soft;
        rc = versioned(v, path.data, body, version + 1, &held, errstr, errstr_size);
        /* a delete by hand left a higher version than any document's */
        if (rc == 0 && held > version)
            rc = versioned(v, path.data, body, held + 1, &held, errstr, errstr_size);
    }
    bson_free(source);
    free(soft);
    cdc_buf_free(&path);
    return rc;
}

/* ---------------------------------------------------------------------
 * Open, close
 * ------------------------------------------------------------------- */

static void es_store_close(void *state)
{
    es_verifier_t *v = state;
    if (!v) return;
    cdc_es_http_free(v->http);
    free(v);
}

static const cdc_vdoc_store_t es_store = {
    .shown = es_shown,
    .fetch = es_fetch,
    .scan = es_scan,
    .write = es_write,
    .close = es_store_close,
};

static void *es_verify_open(const cdc_config_t *cfg, char *errstr, size_t errstr_size)
{
    es_verifier_t *v = calloc(1, sizeof *v);
    if (!v) return cdc_errstr_set(errstr, errstr_size, "out of memory"), NULL;
    cdc_es_http_options_t opts = cdc_es_http_options_of(cfg);
    if (!(v->http = cdc_es_http_new(&opts, errstr, errstr_size))) {
        free(v);
        return NULL;
    }
    return cdc_vdoc_open(cfg, &es_store, v, false, errstr, errstr_size);
}

const cdc_verify_ops_t cdc_es_verify_ops = {
    .open = es_verify_open,
    .compare = cdc_vdoc_compare,
    .sample = cdc_vdoc_sample,
    .recheck = cdc_vdoc_recheck,
    .repair = cdc_vdoc_repair,
    .close = cdc_vdoc_close,
};
