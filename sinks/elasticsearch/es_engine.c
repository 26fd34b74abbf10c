#include "es_engine.h"

#include <bson/bson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errstr.h"
#include "es_index.h"
#include "log.h"

static void utf8_at(const bson_t *doc, const char *dotted, char *out, size_t size)
{
    bson_iter_t it, found;
    out[0] = '\0';
    if (bson_iter_init(&it, doc) && bson_iter_find_descendant(&it, dotted, &found) &&
        BSON_ITER_HOLDS_UTF8(&found))
        snprintf(out, size, "%s", bson_iter_utf8(&found, NULL));
}

static bool supported(const cdc_es_engine_t *e)
{
    if (strcmp(e->flavour, "opensearch") == 0) return e->major == 2 || e->major == 3;
    return e->major == 8 || e->major == 9;
}

cdc_sink_status_t cdc_es_engine_detect(cdc_es_http_t *http, cdc_es_engine_t *engine,
                                       char *errstr, size_t errstr_size)
{
    memset(engine, 0, sizeof *engine);
    cdc_es_request_t req = {.method = "GET", .path = "/"};
    char what[512];
    snprintf(what, sizeof what, "GET / on %s", cdc_es_http_nodes(http));
    int rc = cdc_es_http_one(http, &req);
    if (rc == 0 && req.status == 403) {
        /* A least-privilege user (write and create_index on its indexes,
         * no `monitor` on the cluster) may not read GET /: its writes
         * still work, so the version goes unchecked rather than the
         * pipeline stopping. A credential that is wrong is a 401. */
        snprintf(engine->flavour, sizeof engine->flavour, "%s",
                 cdc_es_http_product(http)[0] ? "elasticsearch" : "unknown engine");
        snprintf(engine->version, sizeof engine->version, "(version not readable)");
        cdc_log_warn("%s: HTTP 403: the user may not read the engine's version (the "
                     "cluster's monitor privilege); writing without checking it", what);
        cdc_es_request_clear(&req);
        return CDC_SINK_OK;
    }
    if (rc != 0 || req.status != 200) {
        cdc_es_index_status_t st = cdc_es_answer_failed(&req, what, errstr, errstr_size);
        cdc_es_request_clear(&req);
        return st == CDC_ES_INDEX_FATAL ? CDC_SINK_FATAL : CDC_SINK_RETRY;
    }
    bson_error_t err;
    bson_t *doc = req.response.data
                      ? bson_new_from_json((const uint8_t *)req.response.data,
                                           (ssize_t)req.response.len, &err)
                      : NULL;
    if (doc) {
        char distribution[32];
        utf8_at(doc, "version.distribution", distribution, sizeof distribution);
        utf8_at(doc, "version.number", engine->version, sizeof engine->version);
        snprintf(engine->flavour, sizeof engine->flavour, "%s",
                 distribution[0] ? distribution : "elasticsearch");
        bson_destroy(doc);
    }
    cdc_es_request_clear(&req);
    engine->major = atoi(engine->version);
    if (!engine->version[0]) {
        cdc_errstr_set(errstr, errstr_size,
                       "%s: the answer names no version.number: not an "
                       "Elasticsearch or OpenSearch node?", what);
        return CDC_SINK_FATAL;
    }
    if (!supported(engine)) {
        cdc_errstr_set(errstr, errstr_size,
                       "%s %s is not supported: cdcsink writes to Elasticsearch 8 "
                       "and 9 and OpenSearch 2 and 3", engine->flavour, engine->version);
        return CDC_SINK_FATAL;
    }
    return CDC_SINK_OK;
}
