/* registry — a Confluent-compatible Schema Registry client (libcurl).
 *
 * Only what a consumer needs: GET {url}/schemas/ids/{id}. Ids are immutable,
 * so every schema fetched is cached for the life of the client. Apicurio's
 * ccompat API (/apis/ccompat/v7) and Confluent's registry both answer it. */
#ifndef CDC_REGISTRY_H
#define CDC_REGISTRY_H

#include <stddef.h>
#include <stdint.h>

typedef struct cdc_registry cdc_registry_t;

typedef enum cdc_registry_status {
    CDC_REGISTRY_OK = 0,
    CDC_REGISTRY_NOT_FOUND = 1, /* 404 or another 4xx: a data error */
    CDC_REGISTRY_TRANSIENT = 2, /* unreachable, timeout, 5xx, 429: retry */
    CDC_REGISTRY_FATAL = 3      /* 401/403: credentials; stop */
} cdc_registry_status_t;

typedef struct cdc_registry_options {
    const char *url;             /* base URL, no trailing /schemas */
    const char *basic_auth;      /* "user:password" or NULL; secret */
    const char *ca_location;     /* CA bundle file or NULL */
    long timeout_ms;
} cdc_registry_options_t;

/* url may be NULL for an offline client fed only by cdc_registry_put. */
cdc_registry_t *cdc_registry_new(const cdc_registry_options_t *options,
                                 char *errstr, size_t errstr_size);
void cdc_registry_destroy(cdc_registry_t *registry);

/* On OK *schema_json points at the cached schema text, valid until destroy. */
cdc_registry_status_t cdc_registry_get(cdc_registry_t *registry, int32_t id,
                                       const char **schema_json, char *errstr,
                                       size_t errstr_size);

/* What the registry's answer to GET {url}/schemas/ids/{id} means, from its
 * HTTP status and body (len bytes; body may be NULL when len is 0, and
 * need not end in a NUL). On OK *schema is the body's "schema" string,
 * malloc'd; otherwise errstr says why, naming url (the caller passes it
 * as it may be shown: passwords masked). The fetch's own reading, exposed
 * so that the tests and tests/fuzz can feed it any answer. */
cdc_registry_status_t cdc_registry_answer(int32_t id, const char *url, long http,
                                          const char *body, size_t len,
                                          char **schema, char *errstr,
                                          size_t errstr_size);

/* Adds a schema to the cache as if fetched (tests, captured fixtures). */
int cdc_registry_put(cdc_registry_t *registry, int32_t id,
                     const char *schema_json);

#endif
