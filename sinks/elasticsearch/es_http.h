/* es_http — HTTP to the search engine's nodes, with libcurl.
 *
 * Nodes come from connection.url (comma-separated); each request goes to
 * the next node that is not resting (round robin). A node that fails at
 * the transport level (refused, reset, timeout, TLS) rests for 30 s and
 * the request is tried once more on another node, if there is one. Basic
 * auth (from the keys, or from a URL's userinfo) or an API key; TLS
 * verified against a CA file or the system store; request bodies gzipped
 * when asked. Several requests run at once over libcurl's multi interface.
 * No message this module makes carries a credential: node names are
 * printed without their userinfo. */
#ifndef CDC_ES_HTTP_H
#define CDC_ES_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

typedef struct cdc_es_http_options {
    const char *urls;     /* "http://h1:9200,https://u:p@h2:9200" */
    const char *username; /* NULL/"" for none (else from a URL) */
    const char *password;
    const char *api_key;  /* NULL/"": none */
    const char *ca_location;
    bool verify;
    bool compression;
    long timeout_ms;
} cdc_es_http_options_t;

typedef struct cdc_es_request {
    const char *method; /* GET, HEAD, PUT, POST, DELETE */
    const char *path;   /* "/_bulk?filter_path=…", starting with '/' */
    const char *body;   /* NULL: none */
    size_t body_len;
    bool ndjson;        /* application/x-ndjson, else application/json */
    long timeout_ms;    /* 0: connection.timeout.ms */
    /* Filled by cdc_es_http_run(). */
    long status;        /* the HTTP status; 0: no response (see error) */
    cdc_buf_t response;
    char error[256];    /* the transport error, with the node's name */
    bool fatal;         /* an error retrying cannot mend: a certificate the
                           CA does not vouch for, an unreadable CA file */
} cdc_es_request_t;

typedef struct cdc_es_http cdc_es_http_t;

/* NULL with errstr when the URLs are not http(s) URLs. */
cdc_es_http_t *cdc_es_http_new(const cdc_es_http_options_t *opts, char *errstr,
                               size_t errstr_size);
void cdc_es_http_free(cdc_es_http_t *h);

/* Runs reqs[0..n), at most max_in_flight at once. 0 when every request
 * got an HTTP answer (any status); -1 when at least one did not, its
 * `error` saying why (the others are still filled). */
int cdc_es_http_run(cdc_es_http_t *h, cdc_es_request_t *reqs, size_t n,
                    int max_in_flight);

/* One request, as cdc_es_http_run() with n = 1. */
int cdc_es_http_one(cdc_es_http_t *h, cdc_es_request_t *req);

/* Frees a request's response (the request can be used again). */
void cdc_es_request_clear(cdc_es_request_t *req);

/* The node list as it may be printed (no credentials), e.g. for logs. */
const char *cdc_es_http_nodes(const cdc_es_http_t *h);

/* The `X-Elastic-Product` header of the last answer of cdc_es_http_one
 * ("Elasticsearch"), "" when there was none. */
const char *cdc_es_http_product(const cdc_es_http_t *h);

#endif
