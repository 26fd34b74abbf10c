/* es_engine — which search engine answers, and whether cdcsink supports it.
 *
 * `GET /` names the flavour and version: OpenSearch says
 * version.distribution = "opensearch"; Elasticsearch says nothing there
 * (and sends `X-Elastic-Product: Elasticsearch`). Supported: OpenSearch 2
 * and 3, Elasticsearch 8 and 9 (what external versioning, gc_deletes and
 * filter_path behave the same on). Anything else is fatal with one line.
 * An Elasticsearch that does not route GET / (404/405 with the product
 * header: the integ-test distribution, API-only gateways) is asked
 * GET /_nodes/_local instead.
 * A user who may not read `GET /` (403: no `monitor` privilege, as
 * least-privilege writers are set up) gets a warning and goes on: the
 * version is then unchecked. */
#ifndef CDC_ES_ENGINE_H
#define CDC_ES_ENGINE_H

#include <stddef.h>

#include "es_http.h"
#include "sink.h"

typedef struct cdc_es_engine {
    char flavour[32]; /* "opensearch" or "elasticsearch" */
    char version[32]; /* "2.19.1" */
    int major;
} cdc_es_engine_t;

/* OK and *engine filled; RETRY (not reachable) or FATAL (credentials, an
 * unsupported engine) with errstr. */
cdc_sink_status_t cdc_es_engine_detect(cdc_es_http_t *http, cdc_es_engine_t *engine,
                                       char *errstr, size_t errstr_size);

#endif
