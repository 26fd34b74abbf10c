#include "es_stored.h"

#include <stdlib.h>
#include <string.h>

#include "errstr.h"
#include "es_index.h"
#include "render.h"

/* docs._id keeps an entry for every item: the filter drops an object left
 * empty, and a missing document has no _source. */

static int read_answer(cdc_es_stored_t *out, const cdc_buf_t *body, size_t n)
{
    bson_error_t err;
    if (!(out->answer = bson_new_from_json((const uint8_t *)body->data, (ssize_t)body->len, &err)))
        return -1;
    bson_iter_t docs, doc, field;
    size_t i = 0;
    if (!bson_iter_init_find(&docs, out->answer, "docs") || !BSON_ITER_HOLDS_ARRAY(&docs) ||
        !bson_iter_recurse(&docs, &doc))
        return -1;
    while (bson_iter_next(&doc) && i < n) {
        if (BSON_ITER_HOLDS_DOCUMENT(&doc) && bson_iter_recurse(&doc, &field) &&
            bson_iter_find(&field, "_source") && BSON_ITER_HOLDS_DOCUMENT(&field)) {
            uint32_t len;
            const uint8_t *data;
            bson_iter_document(&field, &len, &data);
            out->found[i] = bson_init_static(&out->views[i], data, len);
        }
        i++;
    }
    return i == n ? 0 : -1;
}

cdc_sink_status_t cdc_es_stored_fetch(cdc_es_http_t *http, const char *const *indexes,
                                      const char *const *ids, size_t n,
                                      cdc_es_stored_t *out, char *errstr,
                                      size_t errstr_size)
{
    memset(out, 0, sizeof *out);
    if (n == 0) return CDC_SINK_OK;
    out->views = calloc(n, sizeof *out->views);
    out->found = calloc(n, sizeof *out->found);
    out->count = n;
    cdc_buf_t body;
    cdc_buf_init(&body);
    cdc_buf_puts(&body, "{\"docs\":[");
    for (size_t i = 0; i < n; i++) {
        if (i) cdc_buf_putc(&body, ',');
        cdc_buf_puts(&body, "{\"_index\":");
        cdc_render_string(indexes[i], strlen(indexes[i]), &body);
        cdc_buf_puts(&body, ",\"_id\":");
        cdc_render_string(ids[i], strlen(ids[i]), &body);
        cdc_buf_putc(&body, '}');
    }
    cdc_buf_puts(&body, "]}");
    if (!out->views || !out->found || body.failed) {
        cdc_buf_free(&body);
        cdc_es_stored_free(out);
        cdc_errstr_set(errstr, errstr_size, "out of memory");
        return CDC_SINK_RETRY;
    }
    cdc_es_request_t req = {.method = "POST", .path = "/_mget?filter_path=docs._id,docs._source",
                            .body = body.data, .body_len = body.len};
    cdc_sink_status_t st = CDC_SINK_OK;
    if (cdc_es_http_one(http, &req) != 0 || req.status != 200) {
        st = cdc_es_answer_failed(&req, "reading stored documents (_mget)", errstr, errstr_size) ==
                     CDC_ES_INDEX_FATAL
                 ? CDC_SINK_FATAL : CDC_SINK_RETRY;
    } else if (read_answer(out, &req.response, n) != 0) {
        cdc_errstr_set(errstr, errstr_size, "_mget: an answer without one doc per item");
        st = CDC_SINK_RETRY;
    }
    cdc_es_request_clear(&req);
    cdc_buf_free(&body);
    if (st != CDC_SINK_OK) cdc_es_stored_free(out);
    return st;
}

const bson_t *cdc_es_stored_get(const cdc_es_stored_t *s, size_t i)
{
    return s->found && i < s->count && s->found[i] ? &s->views[i] : NULL;
}

void cdc_es_stored_free(cdc_es_stored_t *s)
{
    if (s->answer) bson_destroy(s->answer);
    free(s->views);
    free(s->found);
    memset(s, 0, sizeof *s);
}
