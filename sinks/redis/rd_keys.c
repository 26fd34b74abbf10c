#include "rd_keys.h"

/* Order here is the order of the docs and of `cdcsink check`. */
const cdc_configkey_t cdc_rd_keys[CDC_RD_KEY_COUNT] = {
    {.name = "connection.url", .type = CDC_KEY_STRING,
     .flags = CDC_KEY_REQUIRED | CDC_KEY_URL,
     .desc = "The Redis server: `redis://[user:password@]host:port[/db]`, "
             "`rediss://` for TLS. With `redis.cluster=true`, seed nodes "
             "separated by commas (`redis://user:pw@h1:6379,h2:6379`). "
             "Printed with the password masked."},
    {.name = "key.format", .type = CDC_KEY_STRING,
     .def = "${source.table}:${key}",
     .desc = "Redis key of a record. `${key}` is the record key's column "
             "values in key order joined by `:` (inside a value `\\` and `:` "
             "are escaped with `\\`, NULL is `\\N`); other placeholders as for "
             "`table.name.format`."},
    {.name = "redis.value.format", .type = CDC_KEY_ENUM, .def = "json",
     .values = (const char *const[]){"json", "hash", NULL},
     .desc = "`json`: the key holds the row as one JSON object (`GET`), "
             "rendered as the jsonl sink renders `after`. `hash`: one field "
             "per column (`HGETALL`), a NULL column has no field."},
    {.name = "redis.ttl.ms", .type = CDC_KEY_DURATION, .def = "0", .min = 0,
     .max = INT64_C(315360000000),
     .desc = "Expiry of every key written (and of its position marker); 0: "
             "keys never expire. Once a key and its marker expire, the guard "
             "no longer knows the key (sinks/redis/README.md)."},
    {.name = "redis.cluster", .type = CDC_KEY_BOOL, .def = "false",
     .desc = "Redis Cluster: route each key to its slot's master (CLUSTER "
             "SLOTS), following MOVED and ASK."},
    {.name = "redis.ssl.ca.location", .type = CDC_KEY_STRING,
     .desc = "CA certificate file (PEM) that verifies the server's "
             "certificate with `rediss://`; unset: the system's CA store."},
    {.name = "redis.ssl.certificate.location", .type = CDC_KEY_STRING,
     .desc = "Client certificate (PEM) for TLS client authentication; needs "
             "`redis.ssl.key.location`."},
    {.name = "redis.ssl.key.location", .type = CDC_KEY_STRING,
     .desc = "Private key (PEM) of `redis.ssl.certificate.location`."},
};
