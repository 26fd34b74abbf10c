#include "registry.h"

#include <bson/bson.h>
#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>

#include "errstr.h"
#include "grow.h"
#include "mask.h"

typedef struct registry_entry {
    int32_t id;
    char *schema_json;
} registry_entry_t;

struct cdc_registry {
    char *url;
    char *shown_url; /* url with its passwords masked: for messages */
    char *basic_auth;
    char *ca_location;
    long timeout_ms;
    CURL *curl; /* one handle keeps the connection alive between lookups */
    registry_entry_t *entries;
    size_t count, capacity;
};

typedef struct registry_body {
    char *data;
    size_t len;
} registry_body_t;

static char *registry_strdup_or_null(const char *s)
{
    return s && *s ? strdup(s) : NULL;
}

cdc_registry_t *cdc_registry_new(const cdc_registry_options_t *options,
                                 char *errstr, size_t errstr_size)
{
    static int curl_ready;
    if (!curl_ready) {
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0) {
            cdc_errstr_set(errstr, errstr_size, "curl_global_init failed");
            return NULL;
        }
        curl_ready = 1;
    }
    cdc_registry_t *r = calloc(1, sizeof *r);
    if (!r) {
        cdc_errstr_set(errstr, errstr_size, "out of memory");
        return NULL;
    }
    r->url = registry_strdup_or_null(options->url);
    if (r->url) {
        size_t n = strlen(r->url);
        while (n > 0 && r->url[n - 1] == '/') r->url[--n] = '\0';
        if (!(r->shown_url = cdc_mask_url(r->url))) {
            cdc_registry_destroy(r);
            cdc_errstr_set(errstr, errstr_size, "out of memory");
            return NULL;
        }
    }
    r->basic_auth = registry_strdup_or_null(options->basic_auth);
    r->ca_location = registry_strdup_or_null(options->ca_location);
    r->timeout_ms = options->timeout_ms > 0 ? options->timeout_ms : 10000;
    return r;
}

void cdc_registry_destroy(cdc_registry_t *r)
{
    if (!r) return;
    for (size_t i = 0; i < r->count; i++) free(r->entries[i].schema_json);
    free(r->entries);
    if (r->curl) curl_easy_cleanup(r->curl);
    free(r->url);
    free(r->shown_url);
    if (r->basic_auth) {
        memset(r->basic_auth, 0, strlen(r->basic_auth));
        free(r->basic_auth);
    }
    free(r->ca_location);
    free(r);
}

static registry_entry_t *registry_find(cdc_registry_t *r, int32_t id)
{
    /* Pipelines see a handful of schema ids; a linear scan beats hashing. */
    for (size_t i = 0; i < r->count; i++)
        if (r->entries[i].id == id) return &r->entries[i];
    return NULL;
}

int cdc_registry_put(cdc_registry_t *r, int32_t id, const char *schema_json)
{
    registry_entry_t *e = registry_find(r, id);
    char *copy = strdup(schema_json);
    if (!copy) return -1;
    if (e) {
        free(e->schema_json);
        e->schema_json = copy;
        return 0;
    }
    registry_entry_t *entries =
        cdc_grow(r->entries, r->count, &r->capacity, sizeof *entries, 16);
    if (!entries) {
        free(copy);
        return -1;
    }
    r->entries = entries;
    r->entries[r->count].id = id;
    r->entries[r->count].schema_json = copy;
    r->count++;
    return 0;
}

static size_t registry_write_body(char *ptr, size_t size, size_t nmemb,
                                  void *userdata)
{
    registry_body_t *body = userdata;
    size_t n = size * nmemb;
    if (body->len + n > 16 * 1024 * 1024) return 0; /* absurd schema */
    char *grown = realloc(body->data, body->len + n + 1);
    if (!grown) return 0;
    memcpy(grown + body->len, ptr, n);
    body->len += n;
    grown[body->len] = '\0';
    body->data = grown;
    return n;
}

/* Pulls the "schema" string out of {"schema": "...", ...}; NULL when the
 * body is no JSON object with one, or when that string holds a NUL (no
 * schema text does, and the copy would silently end there). */
static char *registry_extract_schema(const char *body, size_t len)
{
    if (!body || len == 0) return NULL; /* libbson asserts on NULL data */
    bson_error_t error;
    bson_t *doc = bson_new_from_json((const uint8_t *)body, (ssize_t)len,
                                     &error);
    if (!doc) return NULL;
    char *schema = NULL;
    bson_iter_t it;
    uint32_t slen = 0;
    if (bson_iter_init_find(&it, doc, "schema") && BSON_ITER_HOLDS_UTF8(&it)) {
        const char *s = bson_iter_utf8(&it, &slen);
        if (strlen(s) == slen) schema = strdup(s);
    }
    bson_destroy(doc);
    return schema;
}

cdc_registry_status_t cdc_registry_answer(int32_t id, const char *url, long http,
                                          const char *body, size_t len,
                                          char **schema, char *errstr,
                                          size_t errstr_size)
{
    *schema = NULL;
    if (http == 401 || http == 403) {
        cdc_errstr_set(errstr, errstr_size,
                       "schema registry %s: HTTP %ld (check "
                       "schema.registry.basic.auth.user.info)", url, http);
        return CDC_REGISTRY_FATAL;
    }
    if (http == 429 || http >= 500) {
        cdc_errstr_set(errstr, errstr_size, "schema registry %s: HTTP %ld",
                       url, http);
        return CDC_REGISTRY_TRANSIENT;
    }
    if (http != 200) {
        cdc_errstr_set(errstr, errstr_size,
                       "schema id %d not found in registry (HTTP %ld)", id,
                       http);
        return CDC_REGISTRY_NOT_FOUND;
    }
    if (!(*schema = registry_extract_schema(body, len))) {
        cdc_errstr_set(errstr, errstr_size,
                       "schema registry %s: answer has no \"schema\" string",
                       url);
        return CDC_REGISTRY_NOT_FOUND;
    }
    return CDC_REGISTRY_OK;
}

static void registry_configure(cdc_registry_t *r, const char *url,
                               registry_body_t *body, char *curl_error)
{
    CURL *c = r->curl;
    curl_easy_reset(c);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, registry_write_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, body);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, curl_error);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, r->timeout_ms);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, r->timeout_ms);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    if (r->basic_auth) {
        curl_easy_setopt(c, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
        curl_easy_setopt(c, CURLOPT_USERPWD, r->basic_auth);
    }
    if (r->ca_location) curl_easy_setopt(c, CURLOPT_CAINFO, r->ca_location);
}

static cdc_registry_status_t registry_fetch(cdc_registry_t *r, int32_t id,
                                            char **schema, char *errstr,
                                            size_t errstr_size)
{
    if (!r->url) {
        cdc_errstr_set(errstr, errstr_size,
                       "schema id %d is unknown (no registry URL)", id);
        return CDC_REGISTRY_NOT_FOUND;
    }
    if (!r->curl && !(r->curl = curl_easy_init())) {
        cdc_errstr_set(errstr, errstr_size, "curl_easy_init failed");
        return CDC_REGISTRY_TRANSIENT;
    }
    char url[2048], shown[2048];
    snprintf(url, sizeof url, "%s/schemas/ids/%d", r->url, id);
    snprintf(shown, sizeof shown, "%s/schemas/ids/%d", r->shown_url, id);
    registry_body_t body = {0};
    char curl_error[CURL_ERROR_SIZE] = "";
    registry_configure(r, url, &body, curl_error);
    CURLcode rc = curl_easy_perform(r->curl);
    long http = 0;
    curl_easy_getinfo(r->curl, CURLINFO_RESPONSE_CODE, &http);
    cdc_registry_status_t status;
    /* Messages name the URL with its passwords masked (a URL may carry
     * user:password@; basic.auth.user.info travels in a header). */
    if (rc != CURLE_OK) {
        cdc_errstr_set(errstr, errstr_size, "schema registry %s: %s", shown,
                       curl_error[0] ? curl_error : curl_easy_strerror(rc));
        /* A certificate that does not verify against
         * schema.registry.ssl.ca.location (or a CA file that cannot be
         * read) will not by waiting: fatal, as bad credentials are. */
        status = rc == CURLE_PEER_FAILED_VERIFICATION ||
                         rc == CURLE_SSL_CACERT_BADFILE
                     ? CDC_REGISTRY_FATAL
                     : CDC_REGISTRY_TRANSIENT;
    } else {
        status = cdc_registry_answer(id, shown, http, body.data, body.len,
                                     schema, errstr, errstr_size);
    }
    free(body.data);
    return status;
}

cdc_registry_status_t cdc_registry_get(cdc_registry_t *r, int32_t id,
                                       const char **schema_json, char *errstr,
                                       size_t errstr_size)
{
    registry_entry_t *e = registry_find(r, id);
    if (!e) {
        char *schema = NULL;
        cdc_registry_status_t status =
            registry_fetch(r, id, &schema, errstr, errstr_size);
        if (status != CDC_REGISTRY_OK) return status;
        int rc = cdc_registry_put(r, id, schema);
        free(schema);
        if (rc != 0) {
            cdc_errstr_set(errstr, errstr_size, "out of memory");
            return CDC_REGISTRY_TRANSIENT;
        }
        e = registry_find(r, id);
    }
    *schema_json = e->schema_json;
    return CDC_REGISTRY_OK;
}
