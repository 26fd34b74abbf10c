/* fuzz_registry — the Schema Registry's answers to GET /schemas/ids/{id}
 * (src/registry.c, cdc_registry_answer): the HTTP status and the body,
 * from which the "schema" string is pulled (libbson), then compiled as
 * the decoder does (src/schema.c).
 *
 * The input is 2 bytes of HTTP status (big-endian) and the body, handed
 * over without a terminating NUL, and as NULL when empty, as libcurl's
 * write callback leaves it. Seeds: the registry's answers for the captured
 * schemas (tests/data/debezium/schemas, wrapped as Confluent's and
 * Apicurio's registries serve them), its error answers, and bodies that
 * are no answer at all. A registry, a proxy or a captive portal may answer
 * anything: the answer ends in a schema or one error, never a crash. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "registry.h"
#include "schema.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2) return 0;
    long http = (long)data[0] << 8 | data[1];
    size_t len = size - 2;
    char *body = len ? malloc(len) : NULL;
    if (len && !body) return 0;
    if (len) memcpy(body, data + 2, len);
    char *schema = NULL, err[512] = "";
    cdc_registry_status_t st = cdc_registry_answer(
        7, "http://registry.invalid:8081/schemas/ids/7", http, body, len, &schema, err,
        sizeof err);
    free(body);
    if ((st == CDC_REGISTRY_OK) != (schema != NULL) || (st != CDC_REGISTRY_OK && !err[0])) {
        fprintf(stderr, "fuzz_registry: status %d with schema %p and error '%s'\n", (int)st,
                (void *)schema, err);
        abort();
    }
    if (schema) {
        /* As the decoder compiles what the cache holds: up to its NUL. */
        cdc_schema_t *compiled = cdc_schema_compile(schema, strlen(schema), err, sizeof err);
        cdc_schema_destroy(compiled);
        free(schema);
    }
    return 0;
}
