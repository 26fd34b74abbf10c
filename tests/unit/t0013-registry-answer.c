/* The Schema Registry's answers to GET /schemas/ids/{id}, read without a
 * server (cdc_registry_answer): the HTTP status classes of docs/semantics.md, "Errors",
 * the "schema" string, and answers that are no answer. Found by
 * tests/fuzz/fuzz_registry: a 200 with an empty body reached libbson with
 * no data, and libbson aborts the process on that. */
#include <stdlib.h>

#include "registry.h"
#include "unit.h"

static const char *url = "http://registry:8081/schemas/ids/7";

static cdc_registry_status_t answer(long http, const char *body, char **schema,
                                    char *err, size_t err_size)
{
    return cdc_registry_answer(7, url, http, body, body ? strlen(body) : 0, schema, err,
                               err_size);
}

static void check_statuses(void)
{
    char *schema = (char *)"untouched", err[256];
    CHECK_INT(answer(200, "{\"schema\":\"\\\"string\\\"\"}", &schema, err, sizeof err),
              CDC_REGISTRY_OK);
    CHECK_STR(schema, "\"string\"");
    free(schema);
    CHECK_INT(answer(401, "{}", &schema, err, sizeof err), CDC_REGISTRY_FATAL);
    CHECK(schema == NULL);
    CHECK(strstr(err, "basic.auth.user.info") != NULL);
    CHECK_INT(answer(403, NULL, &schema, err, sizeof err), CDC_REGISTRY_FATAL);
    CHECK_INT(answer(429, NULL, &schema, err, sizeof err), CDC_REGISTRY_TRANSIENT);
    CHECK_INT(answer(503, "<html>busy</html>", &schema, err, sizeof err),
              CDC_REGISTRY_TRANSIENT);
    CHECK_INT(answer(404, "{\"error_code\":40403,\"message\":\"Schema 7 not found\"}", &schema,
                     err, sizeof err),
              CDC_REGISTRY_NOT_FOUND);
    CHECK_STR(err, "schema id 7 not found in registry (HTTP 404)");
}

static void check_bodies_that_are_no_answer(void)
{
    char *schema = NULL, err[256];
    /* Empty: libcurl leaves no buffer at all. */
    CHECK_INT(cdc_registry_answer(7, url, 200, NULL, 0, &schema, err, sizeof err),
              CDC_REGISTRY_NOT_FOUND);
    CHECK(schema == NULL);
    CHECK(strstr(err, "answer has no \"schema\" string") != NULL);
    CHECK_INT(answer(200, "", &schema, err, sizeof err), CDC_REGISTRY_NOT_FOUND);
    CHECK_INT(answer(200, "<!DOCTYPE html><html></html>", &schema, err, sizeof err),
              CDC_REGISTRY_NOT_FOUND);
    CHECK_INT(answer(200, "{\"schema\":{\"type\":\"string\"}}", &schema, err, sizeof err),
              CDC_REGISTRY_NOT_FOUND);
    /* A NUL inside the string would end the copy silently. */
    CHECK_INT(answer(200, "{\"schema\":\"\\\"str\\u0000ing\\\"\"}", &schema, err, sizeof err),
              CDC_REGISTRY_NOT_FOUND);
    CHECK(schema == NULL);
    /* Not NUL-terminated: only len bytes are read. */
    const char body[] = "{\"schema\":\"\\\"long\\\"\"}garbage";
    CHECK_INT(cdc_registry_answer(7, url, 200, body, strlen(body) - 7, &schema, err, sizeof err),
              CDC_REGISTRY_OK);
    CHECK_STR(schema, "\"long\"");
    free(schema);
}

int main(void)
{
    check_statuses();
    check_bodies_that_are_no_answer();
    return unit_finish("t0013-registry-answer");
}
