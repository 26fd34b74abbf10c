#include "configkey.h"

#include "errstr.h"
#include "mask.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HOUR_MS INT64_C(3600000)
#define DAY_MS INT64_C(86400000)
/* Ten years: generous for any timeout yet keeps now + timeout far from
 * int64 overflow in the modules that add them up. */
#define TEN_YEARS_MS INT64_C(315360000000)
#define NAME_MAX_LEN 200   /* "cdcsink.dlq." + name stays under Kafka's 249 */
#define TOPIC_MAX_LEN 249
/* A core row's field, as librdkafka's _RK(field). */
#define FIELD(f) offsetof(cdc_settings_t, f)

static cdc_configkey_check_fn check_name, check_topic, check_http_listen,
    check_user_info, check_http_url;

/* The keys of every pipeline. Order here is the order of docs and print. */
static const cdc_configkey_t core_keys[] = {
    {.name = "name", .field = FIELD(name), .type = CDC_KEY_STRING,
     .flags = CDC_KEY_REQUIRED, .check = check_name,
     .doc_range = "letters, digits, `.`, `_`, `-`; at most 200",
     .desc = "Pipeline name. Labels metrics and log lines and derives the "
             "default `group.id` and dead-letter topic."},
    /* values: the catalog's sinks (cdc_configkey_sink_key) */
    {.name = "sink", .field = FIELD(sink), .type = CDC_KEY_ENUM,
     .flags = CDC_KEY_REQUIRED,
     .desc = "Where changes are applied: one of the sinks built in. Each has "
             "keys of its own, below."},
    {.name = "topics", .field = FIELD(topics), .type = CDC_KEY_LIST,
     .check = check_topic, .doc_range = "Kafka topic names",
     .desc = "Topics to consume, comma-separated. Set exactly one of "
             "`topics` and `topics.regex`."},
    {.name = "topics.regex", .field = FIELD(topics_regex),
     .type = CDC_KEY_STRING,
     .desc = "Regular expression (librdkafka syntax) selecting the topics to "
             "consume; a leading `^` is added when missing, because "
             "librdkafka treats only `^`-prefixed subscriptions as patterns. "
             "Set exactly one of `topics` and `topics.regex`."},
    {.name = "group.id", .field = FIELD(group_id), .type = CDC_KEY_STRING,
     .derive = "cdcsink.",
     .desc = "Kafka consumer group. Replicas of one pipeline share it; every "
             "pipeline needs its own."},
    {.name = "schema.registry.url", .field = FIELD(schema_registry_url),
     .type = CDC_KEY_STRING, .flags = CDC_KEY_REQUIRED | CDC_KEY_URL,
     .check = check_http_url, .doc_range = "`http://` or `https://` URL",
     .desc = "Confluent-compatible Schema Registry the Avro schemas are "
             "fetched from."},
    {.name = "schema.registry.basic.auth.user.info",
     .field = FIELD(schema_registry_basic_auth_user_info),
     .type = CDC_KEY_STRING, .flags = CDC_KEY_SECRET, .check = check_user_info,
     .doc_range = "`USER:PASSWORD`",
     .desc = "HTTP basic credentials for the registry."},
    {.name = "schema.registry.ssl.ca.location",
     .field = FIELD(schema_registry_ssl_ca_location), .type = CDC_KEY_STRING,
     .desc = "CA certificate file (PEM) that verifies the registry's TLS "
             "certificate; unset: the system's CA store."},
    {.name = "schema.registry.timeout.ms",
     .field = FIELD(schema_registry_timeout_ms), .type = CDC_KEY_DURATION,
     .def = "10000", .min = 1, .max = HOUR_MS,
     .desc = "Timeout of one registry request; a timeout is a transient "
             "error."},
    {.name = "batch.size", .field = FIELD(batch_size), .type = CDC_KEY_INT,
     .def = "500", .min = 1, .max = 100000,
     .desc = "Most records applied to the sink in one batch."},
    {.name = "batch.max.wait.ms", .field = FIELD(batch_max_wait_ms),
     .type = CDC_KEY_DURATION, .def = "0", .min = 0, .max = HOUR_MS,
     .desc = "Longest wait for more records once the fetched ones are "
             "taken and the sink is idle. 0 (natural batching) applies what "
             "has arrived at once; while a batch is being written the next "
             "one fills anyway, so batches grow with the load. A wait trades "
             "latency for fewer, larger writes."},
    {.name = "batch.max.bytes", .field = FIELD(batch_max_bytes), .type = CDC_KEY_INT,
     .def = "16777216", .min = 1, .max = 1073741824,
     .desc = "Most bytes of record keys and values in one batch: a batch is "
             "applied once it holds this much, and a larger record is a batch "
             "of its own. Two batches are in memory at once (one applied, the "
             "next collected), so this bounds what large records cost "
             "(docs/semantics.md, \"Limits\")."},
    {.name = "position.field", .field = FIELD(position_field),
     .type = CDC_KEY_STRING, .def = "source.lsn",
     .desc = "Field holding the source position that guards every write. "
             "`source.lsn` for Debezium envelopes; `__lsn` for events "
             "unwrapped by ExtractNewRecordState with `add.fields=lsn`."},
    /* Core: the planner (src/plan.c) identifies keyless records by it. */
    {.name = "pk.fields", .field = FIELD(pk_fields), .type = CDC_KEY_LIST,
     .desc = "Columns identifying a row, comma-separated; unset: the Kafka "
             "record key. A record without a key is identified by these "
             "columns of its row (else it goes to the DLQ, class `schema`); "
             "the postgres sink also makes them the primary key with "
             "`auto.create`."},
    {.name = "delete.mode", .field = FIELD(delete_mode), .type = CDC_KEY_ENUM,
     .def = "hard",
     .values = (const char *const[]){"hard", "soft", "none", NULL},
     .desc = "`hard` deletes and records (key, position) in a tombstone "
             "ledger so a stale insert cannot resurrect the key; `soft` keeps "
             "the row and sets its deleted flag and position; `none` ignores "
             "deletes."},
    {.name = "delete.retention.ms", .field = FIELD(delete_retention_ms),
     .type = CDC_KEY_DURATION, .def = "604800000", .min = 0,
     .max = TEN_YEARS_MS,
     .desc = "How long the tombstone ledger keeps a hard-deleted key. A "
             "change older than this for a deleted key can resurrect it."},
    {.name = "delete.on.tombstone", .field = FIELD(delete_on_tombstone),
     .type = CDC_KEY_BOOL, .def = "false",
     .desc = "Delete by key on a Kafka tombstone (null value), for producers "
             "that drop the `op=d` event. Such deletes are unguarded: a "
             "tombstone carries no position."},
    {.name = "errors.deadletterqueue.topic.name",
     .field = FIELD(errors_deadletterqueue_topic_name), .type = CDC_KEY_STRING,
     .derive = "cdcsink.dlq.", .check = check_topic,
     .doc_range = "a Kafka topic name",
     .desc = "Topic that receives records failing with a data error: "
             "original key and value, `__connect.errors.*` headers."},
    {.name = "errors.retry.timeout.ms", .field = FIELD(errors_retry_timeout_ms),
     .type = CDC_KEY_DURATION, .def = "-1", .min = -1, .max = TEN_YEARS_MS,
     .desc = "How long a batch failing with a transient error is retried "
             "before the pipeline stops; -1 retries forever."},
    {.name = "errors.retry.backoff.initial.ms",
     .field = FIELD(errors_retry_backoff_initial_ms), .type = CDC_KEY_DURATION,
     .def = "100", .min = 1, .max = HOUR_MS,
     .desc = "First retry delay; it doubles on every attempt. At most "
             "`errors.retry.backoff.max.ms`."},
    {.name = "errors.retry.backoff.max.ms",
     .field = FIELD(errors_retry_backoff_max_ms), .type = CDC_KEY_DURATION,
     .def = "30000", .min = 1, .max = HOUR_MS,
     .desc = "Cap on the retry delay."},
    {.name = "commit.interval.ms", .field = FIELD(commit_interval_ms),
     .type = CDC_KEY_DURATION, .def = "5000", .min = 1, .max = DAY_MS,
     .desc = "How often stored offsets are committed to Kafka; they are also "
             "committed on partition revoke and on shutdown."},
    {.name = "apply.overlap", .field = FIELD(apply_overlap),
     .type = CDC_KEY_BOOL, .def = "true",
     .desc = "Collect and decode the next batch while the sink writes this "
             "one (on a thread of its own). Batches still complete, and "
             "offsets are still stored, in order; false writes and decodes "
             "by turns."},
    {.name = "shutdown.timeout.ms", .field = FIELD(shutdown_timeout_ms),
     .type = CDC_KEY_DURATION, .def = "30000", .min = 0, .max = HOUR_MS,
     .desc = "On SIGTERM, how long the batch in flight may take to finish "
             "and commit before the process exits."},
    {.name = "http.listen", .field = FIELD(http_listen), .type = CDC_KEY_STRING,
     .def = "127.0.0.1:9400", .check = check_http_listen,
     .doc_range = "`HOST:PORT` or `off`",
     .desc = "Address serving `/metrics`, `/healthz` and `/readyz`; `off` "
             "disables the listener; port 0 picks a free port (logged)."},
    {.name = "log.level", .field = FIELD(log_level), .type = CDC_KEY_ENUM,
     .def = "info",
     .values = (const char *const[]){"error", "warn", "info", "debug", NULL},
     .desc = "Least severe level that is logged."},
    {.name = "log.format", .field = FIELD(log_format), .type = CDC_KEY_ENUM,
     .def = "logfmt", .values = (const char *const[]){"logfmt", "json", NULL},
     .desc = "Log lines as logfmt or as one JSON object each."},
    {.name = "source.connection.url", .field = FIELD(source_connection_url),
     .type = CDC_KEY_STRING, .flags = CDC_KEY_URL,
     .doc_range = "libpq URI or `key=value` string",
     .desc = "The source database Debezium reads, for `cdcsink verify` "
             "(nothing else reads it). Give it a role that may only read: "
             "verify reads every compared row once (docs/operations.md, "
             "\"Verifying a sink\"); the password is never printed."},
    {.name = "source.slot.name", .field = FIELD(source_slot_name),
     .type = CDC_KEY_STRING,
     .desc = "The replication slot of Debezium's connector (its `slot.name`) "
             "on the source, for `cdcsink verify`: how far it has received "
             "the WAL tells a change still in Debezium from a divergent row. "
             "Unset, every logical slot of the source database counts, and "
             "the least advanced one decides."},
    {.name = "verify.rate.limit.rows", .field = FIELD(verify_rate_limit_rows),
     .type = CDC_KEY_INT, .def = "100000", .min = 0, .max = INT64_C(100000000),
     .desc = "Most source rows `cdcsink verify` reads a second, to bound "
             "its load on the source; 0 reads as fast as the servers go."},
    {.name = "verify.interval.ms", .field = FIELD(verify_interval_ms),
     .type = CDC_KEY_DURATION, .def = "0", .min = 0, .max = DAY_MS,
     .desc = "Continuous verify: `run` compares a sample of every table "
             "with the source this often (0: never), and sets "
             "`cdcsink_verify_divergent_rows`. Needs "
             "`source.connection.url`."},
    {.name = "verify.sample.rows", .field = FIELD(verify_sample_rows),
     .type = CDC_KEY_INT, .def = "1000", .min = 1, .max = INT64_C(10000000),
     .desc = "Keys continuous verify picks at random on each side of each "
             "table per run."},
};

static const cdc_configkeys_t core = {
    .sink = NULL,
    .keys = core_keys,
    .count = sizeof core_keys / sizeof core_keys[0],
};

const cdc_configkeys_t *cdc_configkey_core(void)
{
    return &core;
}

const cdc_configkey_t *cdc_configkey_find(const cdc_configkeys_t *set,
                                          const char *name)
{
    for (size_t i = 0; set && i < set->count; i++)
        if (strcmp(set->keys[i].name, name) == 0) return &set->keys[i];
    return NULL;
}

const cdc_configkeys_t *cdc_configkey_catalog_sink(
    const cdc_config_catalog_t *catalog, const char *sink)
{
    for (size_t i = 0; i < catalog->count; i++)
        if (strcmp(catalog->sinks[i]->sink, sink) == 0) return catalog->sinks[i];
    return NULL;
}

int cdc_configkey_sink_key(const cdc_config_catalog_t *catalog,
                           cdc_configkey_t *key, const char ***names)
{
    *names = calloc(catalog->count + 1, sizeof **names);
    if (!*names) return -1;
    for (size_t i = 0; i < catalog->count; i++)
        (*names)[i] = catalog->sinks[i]->sink;
    *key = *cdc_configkey_find(&core, "sink");
    key->values = *names;
    return 0;
}

char *cdc_configkey_shown(const cdc_configkey_t *k, const char *value)
{
    if (k->flags & CDC_KEY_SECRET) return strdup(CDC_MASK);
    if (k->flags & CDC_KEY_URL) return cdc_mask_url(value);
    return strdup(value);
}

/* ---- per-key checks ----------------------------------------------------- */

static int only_name_chars(const char *s)
{
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && !strchr("._-", *s)) return 0;
    return 1;
}

static int check_name(const char *value, const char *shown, char *why,
                      size_t why_size)
{
    if (!only_name_chars(value) || strlen(value) > NAME_MAX_LEN)
        return cdc_errstr_set(why, why_size,
                              "'%s' may contain only letters, digits, '.', "
                              "'_' and '-' (at most %d)",
                              shown, NAME_MAX_LEN);
    return 0;
}

static int check_topic(const char *value, const char *shown, char *why,
                       size_t why_size)
{
    if (!only_name_chars(value) || strlen(value) > TOPIC_MAX_LEN ||
        strcmp(value, ".") == 0 || strcmp(value, "..") == 0)
        return cdc_errstr_set(why, why_size,
                              "'%s' is not a valid topic name (letters, "
                              "digits, '.', '_', '-'; at most %d)",
                              shown, TOPIC_MAX_LEN);
    return 0;
}

static int check_http_listen(const char *value, const char *shown, char *why,
                             size_t why_size)
{
    if (strcmp(value, "off") == 0) return 0;
    const char *colon = strrchr(value, ':');
    char *end = NULL;
    long port = colon ? strtol(colon + 1, &end, 10) : 0;
    if (!colon || colon == value || !isdigit((unsigned char)colon[1]) ||
        *end || port < 0 || port > 65535)
        return cdc_errstr_set(why, why_size, "'%s' is not HOST:PORT or off",
                              shown);
    return 0;
}

static int check_user_info(const char *value, const char *shown, char *why,
                           size_t why_size)
{
    (void)shown; /* a secret: the message must not show it */
    const char *colon = strchr(value, ':');
    if (!colon || colon == value)
        return cdc_errstr_set(why, why_size,
                              "value is not USER:PASSWORD (not shown: "
                              "secret)");
    return 0;
}

static int check_http_url(const char *value, const char *shown, char *why,
                          size_t why_size)
{
    if (strncmp(value, "http://", 7) != 0 && strncmp(value, "https://", 8) != 0)
        return cdc_errstr_set(why, why_size,
                              "'%s' is not an http:// or https:// URL", shown);
    return 0;
}

/* ---- value types -------------------------------------------------------- */

static int check_int(const cdc_configkey_t *k, const char *v, char *why,
                     size_t why_size)
{
    char *end;
    errno = 0;
    long long x = strtoll(v, &end, 10);
    if ((*v != '-' && !isdigit((unsigned char)*v)) || *end || errno == ERANGE)
        return cdc_errstr_set(why, why_size, "'%s' is not an integer", v);
    if (x < k->min || x > k->max)
        return cdc_errstr_set(why, why_size,
                              "'%s' is out of range %" PRId64 "..%" PRId64, v,
                              k->min, k->max);
    return 0;
}

static int check_enum(const cdc_configkey_t *k, const char *v, char *why,
                      size_t why_size)
{
    char list[256] = "";
    for (size_t i = 0; k->values && k->values[i]; i++) {
        if (strcmp(v, k->values[i]) == 0) return 0;
        size_t n = strlen(list);
        snprintf(list + n, sizeof list - n, "%s%s", i ? ", " : "",
                 k->values[i]);
    }
    return cdc_errstr_set(why, why_size, "'%s' is not one of %s", v, list);
}

static char *trim(char *s)
{
    while (isspace((unsigned char)*s)) s++;
    char *end = s + strlen(s);
    while (end > s && isspace((unsigned char)end[-1])) end--;
    *end = '\0';
    return s;
}

/* "a , b" -> "a,b"; each item must be non-empty and pass k->check. */
static char *normalize_list(const cdc_configkey_t *k, const char *v,
                            char *why, size_t why_size)
{
    char *copy = strdup(v), *out = calloc(1, strlen(v) + 1);
    if (!copy || !out) {
        cdc_errstr_set(why, why_size, "out of memory");
        goto err;
    }
    for (char *item = copy, *next; item; item = next) {
        next = strchr(item, ',');
        if (next) *next++ = '\0';
        item = trim(item);
        if (!item[0]) {
            cdc_errstr_set(why, why_size, "'%s' has an empty list item", v);
            goto err;
        }
        if (k->check && k->check(item, item, why, why_size) == -1) goto err;
        if (out[0]) strcat(out, ",");
        strcat(out, item);
    }
    free(copy);
    return out;
err:
    free(copy);
    free(out);
    return NULL;
}

char *cdc_configkey_validate(const cdc_configkey_t *k, const char *v,
                             char *why, size_t why_size)
{
    int rc = 0;
    if (k->type == CDC_KEY_LIST) return normalize_list(k, v, why, why_size);
    if (k->type == CDC_KEY_INT || k->type == CDC_KEY_DURATION)
        rc = check_int(k, v, why, why_size);
    else if (k->type == CDC_KEY_BOOL && strcmp(v, "true") && strcmp(v, "false"))
        rc = cdc_errstr_set(why, why_size,
                            "'%s' is not a boolean (true or false)", v);
    else if (k->type == CDC_KEY_ENUM)
        rc = check_enum(k, v, why, why_size);
    else if (k->check) {
        char *shown = cdc_configkey_shown(k, v);
        rc = shown ? k->check(v, shown, why, why_size)
                   : cdc_errstr_set(why, why_size, "out of memory");
        free(shown);
    }
    if (rc == -1) return NULL;
    char *out = NULL;
    if (strcmp(k->name, "topics.regex") == 0 && v[0] != '^') {
        size_t n = strlen(v);
        if ((out = malloc(n + 2))) {
            out[0] = '^';
            memcpy(out + 1, v, n + 1);
        }
    } else {
        out = strdup(v);
    }
    if (!out) cdc_errstr_set(why, why_size, "out of memory");
    return out;
}
