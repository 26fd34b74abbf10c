#include "es_keys.h"

/* Order here is the order of the docs and of `cdcsink check`. */
const cdc_configkey_t cdc_es_keys[CDC_ES_KEY_COUNT] = {
    {.name = "connection.url", .type = CDC_KEY_STRING,
     .flags = CDC_KEY_REQUIRED | CDC_KEY_URL,
     .desc = "One or more nodes, `http(s)://host:port` separated by commas. "
             "Requests go round robin; a node that fails is left out for 30 s."},
    {.name = "connection.username", .type = CDC_KEY_STRING,
     .desc = "User for HTTP basic authentication (with `connection.password`)."},
    {.name = "connection.password", .type = CDC_KEY_STRING, .flags = CDC_KEY_SECRET,
     .desc = "Password for basic authentication; `${env:NAME}` or "
             "`${file:PATH}` keep it out of the file. Never printed."},
    {.name = "connection.api.key", .type = CDC_KEY_STRING, .flags = CDC_KEY_SECRET,
     .desc = "An API key (the base64 `id:api_key` Elasticsearch returns as "
             "`encoded`), sent as `Authorization: ApiKey …`. Never printed."},
    {.name = "connection.ssl.ca.location", .type = CDC_KEY_STRING,
     .desc = "CA certificate file (PEM) that verifies the nodes' certificates "
             "with `https://`; unset: the system's CA store."},
    {.name = "connection.ssl.verify", .type = CDC_KEY_BOOL, .def = "true",
     .desc = "Verify the nodes' certificates and host names. Turn off only "
             "to try things out."},
    {.name = "connection.compression", .type = CDC_KEY_BOOL, .def = "false",
     .desc = "gzip the `_bulk` request bodies (and accept gzip responses)."},
    {.name = "connection.timeout.ms", .type = CDC_KEY_DURATION, .def = "30000",
     .min = 100, .max = 600000,
     .desc = "How long one HTTP request may take before the batch is retried."},
    {.name = "index.name.format", .type = CDC_KEY_STRING, .def = "${source.table}",
     .desc = "Index of a record; placeholders as for `table.name.format`. The "
             "name is lower-cased and characters an index name cannot hold "
             "become `_` (sinks/elasticsearch/README.md)."},
    {.name = "auto.create", .type = CDC_KEY_BOOL, .def = "true",
     .desc = "Create a missing index with a mapping derived from the Avro "
             "schema, `index.gc_deletes` = `delete.retention.ms` and "
             "`index.number_of_replicas`. `false`: a missing index is fatal."},
    {.name = "auto.evolve", .type = CDC_KEY_BOOL, .def = "true",
     .desc = "Add the fields of new columns to an index's mapping."},
    {.name = "index.number_of_replicas", .type = CDC_KEY_INT, .def = "1",
     .min = 0, .max = 32,
     .desc = "Replicas of an index cdcsink creates (`auto.create`)."},
    {.name = "bulk.max.bytes", .type = CDC_KEY_INT, .def = "5242880",
     .min = 1024, .max = 104857600,
     .desc = "Largest `_bulk` request body (uncompressed); a batch larger "
             "than this is sent as several requests."},
    {.name = "bulk.max.in.flight", .type = CDC_KEY_INT, .def = "2",
     .min = 1, .max = 16,
     .desc = "`_bulk` requests of one batch sent at once. A batch holds one "
             "change per document, so their order does not matter."},
};

cdc_es_http_options_t cdc_es_http_options_of(const cdc_config_t *cfg)
{
    return (cdc_es_http_options_t){
        .urls = cdc_config_get(cfg, "connection.url"),
        .username = cdc_config_get(cfg, "connection.username"),
        .password = cdc_config_get(cfg, "connection.password"),
        .api_key = cdc_config_get(cfg, "connection.api.key"),
        .ca_location = cdc_config_get(cfg, "connection.ssl.ca.location"),
        .verify = cdc_config_get_bool(cfg, "connection.ssl.verify") == 1,
        .compression = cdc_config_get_bool(cfg, "connection.compression") == 1,
        .timeout_ms = (long)cdc_config_get_int(cfg, "connection.timeout.ms"),
    };
}
