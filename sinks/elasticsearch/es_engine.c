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

/* The answer's body as a document; NULL when there is none or it is no JSON. */
static bson_t *answer_json(const cdc_es_request_t *req)
{
    bson_error_t err;
    return req->response.data ? bson_new_from_json((const uint8_t *)req->response.data,
                                                   (ssize_t)req->response.len, &err)
                              : NULL;
}

/* The version from GET /'s answer: version.number, and the flavour from
 * version.distribution (OpenSearch) or nothing (Elasticsearch). */
static void read_root_answer(const cdc_es_request_t *req, cdc_es_engine_t *engine)
{
    bson_t *doc = answer_json(req);
    if (!doc) return;
    char distribution[32];
    utf8_at(doc, "version.distribution", distribution, sizeof distribution);
    utf8_at(doc, "version.number", engine->version, sizeof engine->version);
    snprintf(engine->flavour, sizeof engine->flavour, "%s",
             distribution[0] ? distribution : "elasticsearch");
    bson_destroy(doc);
}

/* The version from GET /_nodes/_local's answer, {"nodes":{"<id>":{"version":
 * "8.19.21"}}}: the node that answered. */
static void read_nodes_answer(const cdc_es_request_t *req, cdc_es_engine_t *engine)
{
    bson_t *doc = answer_json(req);
    if (!doc) return;
    bson_iter_t it, nodes, node;
    if (bson_iter_init_find(&it, doc, "nodes") && BSON_ITER_HOLDS_DOCUMENT(&it) &&
        bson_iter_recurse(&it, &nodes) && bson_iter_next(&nodes) &&
        BSON_ITER_HOLDS_DOCUMENT(&nodes) && bson_iter_recurse(&nodes, &node) &&
        bson_iter_find(&node, "version") && BSON_ITER_HOLDS_UTF8(&node)) {
        snprintf(engine->version, sizeof engine->version, "%s", bson_iter_utf8(&node, NULL));
        snprintf(engine->flavour, sizeof engine->flavour, "elasticsearch");
    }
    bson_destroy(doc);
}

/* An Elasticsearch without the root route (404/405 with X-Elastic-Product:
 * the integ-test distribution has no rest-root module, and a proxy that
 * routes only some paths while passing the engine's headers does the same)
 * still says its version in the nodes info API. */
static bool root_not_routed(const cdc_es_http_t *http, const cdc_es_request_t *req)
{
    return (req->status == 404 || req->status == 405) &&
           strcmp(cdc_es_http_product(http), "Elasticsearch") == 0;
}

static int ask_nodes_info(cdc_es_http_t *http, cdc_es_request_t *req)
{
    cdc_es_request_clear(req);
    *req = (cdc_es_request_t){.method = "GET",
                              .path = "/_nodes/_local?filter_path=nodes.*.version"};
    return cdc_es_http_one(http, req);
}

static cdc_sink_status_t version_unreadable(bool elasticsearch, long status,
                                            cdc_es_engine_t *engine, const char *what)
{
    /* A least-privilege user (write and create_index on its indexes, no
     * `monitor` on the cluster) may not read the version, and a proxy may
     * route neither GET / nor the nodes API: the writes still work, so the
     * version goes unchecked rather than the pipeline stopping (or retrying
     * a question that will never be answered). A wrong credential is a 401. */
    snprintf(engine->flavour, sizeof engine->flavour, "%s",
             elasticsearch ? "elasticsearch" : "unknown engine");
    snprintf(engine->version, sizeof engine->version, "(version not readable)");
    if (status == 403)
        cdc_log_warn("%s: HTTP 403: the user may not read the engine's version (the "
                     "cluster's monitor privilege); writing without checking it", what);
    else
        cdc_log_warn("%s: HTTP %ld: neither GET / nor the nodes API is routed; writing "
                     "without checking the engine's version", what, status);
    return CDC_SINK_OK;
}

cdc_sink_status_t cdc_es_engine_detect(cdc_es_http_t *http, cdc_es_engine_t *engine,
                                       char *errstr, size_t errstr_size)
{
    memset(engine, 0, sizeof *engine);
    cdc_es_request_t req = {.method = "GET", .path = "/"};
    char what[512];
    snprintf(what, sizeof what, "GET / on %s", cdc_es_http_nodes(http));
    int rc = cdc_es_http_one(http, &req);
    bool from_nodes = rc == 0 && root_not_routed(http, &req);
    if (from_nodes) {
        snprintf(what, sizeof what, "GET /_nodes/_local on %s", cdc_es_http_nodes(http));
        rc = ask_nodes_info(http, &req);
    }
    if (rc == 0 && (req.status == 403 || (from_nodes && root_not_routed(http, &req)))) {
        long status = req.status;
        cdc_es_request_clear(&req);
        /* Elasticsearch's security answers without X-Elastic-Product; an
         * answer to GET / already said which engine this is. */
        return version_unreadable(from_nodes || cdc_es_http_product(http)[0], status, engine,
                                  what);
    }
    if (rc != 0 || req.status != 200) {
        cdc_es_index_status_t st = cdc_es_answer_failed(&req, what, errstr, errstr_size);
        cdc_es_request_clear(&req);
        return st == CDC_ES_INDEX_FATAL ? CDC_SINK_FATAL : CDC_SINK_RETRY;
    }
    if (from_nodes)
        read_nodes_answer(&req, engine);
    else
        read_root_answer(&req, engine);
    cdc_es_request_clear(&req);
    engine->major = atoi(engine->version);
    if (!engine->version[0]) {
        cdc_errstr_set(errstr, errstr_size,
                       "%s: the answer names no version: not an "
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
