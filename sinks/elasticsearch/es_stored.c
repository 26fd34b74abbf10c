#include "es_stored.h"

#include <stdlib.h>
#include <string.h>

#include "errstr.h"
#include "es_index.h"
#include "render.h"

/* docs._id keeps an entry for every item: the filter drops an object left
 * empty, and a missing document has no _source. */

/* {"docs":[{"_id":…,"_source":{…}},{"_id":…},{"_id":…,"error":{…}},…]}:
 * one doc per item, in order; a doc without _source is not found. A doc
 * with an error was not read at all: its shard is not available (an
 * engine that restarts answers so while it recovers). Its document may
 * exist, so the batch is retried: written as if it did not, an unchanged
 * TOASTed column would lose its value. 0, -1 (not one doc per item) or -2
 * (a doc's error, in *error). */
static int read_answer(cdc_es_stored_t *out, size_t n, cdc_es_span_t *error)
{
    cdc_es_span_t all = {out->answer.data, out->answer.len}, docs, doc;
    cdc_es_json_iter_t it;
    if (!cdc_es_json_member(all, "\"docs\"", 6, &docs) || !cdc_es_json_begin(docs, &it))
        return -1;
    size_t i = 0;
    while (cdc_es_json_next(&it, NULL, &doc)) {
        if (i == n) return -1;
        if (cdc_es_json_member(doc, "\"error\"", 7, error)) return -2;
        cdc_es_span_t source;
        if (cdc_es_json_member(doc, "\"_source\"", 9, &source) && source.len && source.p[0] == '{')
            out->sources[i] = source;
        i++;
    }
    return !it.failed && i == n ? 0 : -1;
}

cdc_sink_status_t cdc_es_stored_take(cdc_es_stored_t *out, cdc_buf_t *answer, size_t n,
                                     char *errstr, size_t errstr_size)
{
    memset(out, 0, sizeof *out);
    out->answer = *answer; /* the spans point into it */
    cdc_buf_init(answer);
    out->sources = calloc(n ? n : 1, sizeof *out->sources);
    out->count = n;
    cdc_es_span_t error = {NULL, 0};
    int rc = out->sources ? read_answer(out, n, &error) : -3;
    if (rc == 0) return CDC_SINK_OK;
    if (rc == -2)
        cdc_errstr_set(errstr, errstr_size, "_mget: a document could not be read: %.*s",
                       (int)(error.len < 300 ? error.len : 300), error.p);
    else if (rc == -1)
        cdc_errstr_set(errstr, errstr_size, "_mget: an answer without one doc per item");
    else
        cdc_errstr_set(errstr, errstr_size, "out of memory");
    cdc_es_stored_free(out);
    return CDC_SINK_RETRY;
}

cdc_sink_status_t cdc_es_stored_fetch(cdc_es_http_t *http, const char *const *indexes,
                                      const char *const *ids, size_t n,
                                      cdc_es_stored_t *out, char *errstr,
                                      size_t errstr_size)
{
    memset(out, 0, sizeof *out);
    if (n == 0) return CDC_SINK_OK;
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
    if (body.failed) {
        cdc_buf_free(&body);
        cdc_errstr_set(errstr, errstr_size, "out of memory");
        return CDC_SINK_RETRY;
    }
    cdc_es_request_t req = {.method = "POST",
                            .path = "/_mget?filter_path=docs._id,docs._source,docs.error",
                            .body = body.data, .body_len = body.len};
    cdc_sink_status_t st;
    if (cdc_es_http_one(http, &req) != 0 || req.status != 200) {
        st = cdc_es_answer_failed(&req, "reading stored documents (_mget)", errstr, errstr_size) ==
                     CDC_ES_INDEX_FATAL
                 ? CDC_SINK_FATAL : CDC_SINK_RETRY;
    } else {
        st = cdc_es_stored_take(out, &req.response, n, errstr, errstr_size);
    }
    cdc_es_request_clear(&req);
    cdc_buf_free(&body);
    return st;
}

const cdc_es_span_t *cdc_es_stored_get(const cdc_es_stored_t *s, size_t i)
{
    return s->sources && i < s->count && s->sources[i].p ? &s->sources[i] : NULL;
}

void cdc_es_stored_free(cdc_es_stored_t *s)
{
    cdc_buf_free(&s->answer);
    free(s->sources);
    memset(s, 0, sizeof *s);
}
