#include "config.h"

#include "errstr.h"
#include "grow.h"
#include "log.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <librdkafka/rdkafka.h>

#define SECRET_MASK "********"
#define KAFKA_PREFIX "kafka."
#define HOUR_MS INT64_C(3600000)
#define DAY_MS INT64_C(86400000)
/* Ten years: generous for any timeout yet keeps now + timeout far from
 * int64 overflow in the modules that add them up. */
#define TEN_YEARS_MS INT64_C(315360000000)
#define NAME_MAX_LEN 200   /* "cdcsink.dlq." + name stays under Kafka's 249 */
#define TOPIC_MAX_LEN 249
#define FILE_SUBST_MAX (1024 * 1024)

typedef enum key_type {
    TYPE_STRING,
    TYPE_INT,
    TYPE_BOOL,
    TYPE_ENUM,
    TYPE_DURATION, /* integer milliseconds */
    TYPE_LIST      /* comma-separated, stored as "a,b,c" */
} key_type_t;

enum key_flag {
    KEY_REQUIRED = 1 << 0, /* must be set, for the sinks the key applies to */
    KEY_SECRET = 1 << 1,   /* value is never shown */
    KEY_URL = 1 << 2       /* a URL whose password is never shown */
};

/* Bit i is sink_names[i]. */
enum sink_bit {
    SINK_POSTGRES = 1 << 0,
    SINK_REDIS = 1 << 1,
    SINK_ELASTICSEARCH = 1 << 2,
    SINK_JSONL = 1 << 3,
    SINK_ALL = (1 << 4) - 1
};
static const char *const sink_names[] = {"postgres", "redis", "elasticsearch",
                                         "jsonl", NULL};

struct key_def;
/* Extra validation of one value (of one list item for lists). Fills `why`
 * with the tail of the message; `shown` is the value as it may be printed. */
typedef int key_check_fn(const char *value, const char *shown, char *why,
                         size_t why_size);

struct key_def {
    const char *name;
    key_type_t type;
    const char *def;            /* default, NULL for none */
    const char *derive;         /* default is this prefix + `name` */
    int64_t min, max;           /* TYPE_INT, TYPE_DURATION */
    const char *const *values;  /* TYPE_ENUM, NULL-terminated */
    int flags;                  /* enum key_flag */
    int sinks;                  /* enum sink_bit */
    key_check_fn *check;
    const char *doc_range;      /* range/values column for checked strings */
    const char *desc;
};

static key_check_fn check_name, check_topic, check_http_listen,
    check_user_info, check_http_url;

/* The one table of keys. Order here is the order of docs and print. */
static const struct key_def keys[] = {
    {.name = "name", .type = TYPE_STRING, .flags = KEY_REQUIRED,
     .sinks = SINK_ALL, .check = check_name,
     .doc_range = "letters, digits, `.`, `_`, `-`; at most 200",
     .desc = "Pipeline name. Labels metrics and log lines and derives the "
             "default `group.id` and dead-letter topic."},
    {.name = "sink", .type = TYPE_ENUM, .flags = KEY_REQUIRED,
     .sinks = SINK_ALL,
     .values = (const char *const[]){"postgres", "redis", "elasticsearch",
                                     "jsonl", NULL},
     .desc = "Where changes are applied."},
    {.name = "topics", .type = TYPE_LIST, .sinks = SINK_ALL,
     .check = check_topic, .doc_range = "Kafka topic names",
     .desc = "Topics to consume, comma-separated. Set exactly one of "
             "`topics` and `topics.regex`."},
    {.name = "topics.regex", .type = TYPE_STRING, .sinks = SINK_ALL,
     .desc = "Regular expression (librdkafka syntax) selecting the topics to "
             "consume; a leading `^` is added when missing, because "
             "librdkafka treats only `^`-prefixed subscriptions as patterns. "
             "Set exactly one of `topics` and `topics.regex`."},
    {.name = "group.id", .type = TYPE_STRING, .derive = "cdcsink.",
     .sinks = SINK_ALL,
     .desc = "Kafka consumer group. Replicas of one pipeline share it; every "
             "pipeline needs its own."},
    {.name = "schema.registry.url", .type = TYPE_STRING,
     .flags = KEY_REQUIRED | KEY_URL, .sinks = SINK_ALL,
     .check = check_http_url, .doc_range = "`http://` or `https://` URL",
     .desc = "Confluent-compatible Schema Registry the Avro schemas are "
             "fetched from."},
    {.name = "schema.registry.basic.auth.user.info", .type = TYPE_STRING,
     .flags = KEY_SECRET, .sinks = SINK_ALL, .check = check_user_info,
     .doc_range = "`USER:PASSWORD`",
     .desc = "HTTP basic credentials for the registry."},
    {.name = "schema.registry.ssl.ca.location", .type = TYPE_STRING,
     .sinks = SINK_ALL,
     .desc = "CA certificate file (PEM) that verifies the registry's TLS "
             "certificate; unset: the system's CA store."},
    {.name = "schema.registry.timeout.ms", .type = TYPE_DURATION,
     .def = "10000", .min = 1, .max = HOUR_MS, .sinks = SINK_ALL,
     .desc = "Timeout of one registry request; a timeout is a transient "
             "error."},
    {.name = "batch.size", .type = TYPE_INT, .def = "500", .min = 1,
     .max = 100000, .sinks = SINK_ALL,
     .desc = "Most records applied to the sink in one batch."},
    {.name = "batch.max.wait.ms", .type = TYPE_DURATION, .def = "100",
     .min = 0, .max = HOUR_MS, .sinks = SINK_ALL,
     .desc = "Longest wait for a batch to fill before it is applied anyway."},
    {.name = "position.field", .type = TYPE_STRING, .def = "source.lsn",
     .sinks = SINK_ALL,
     .desc = "Field holding the source position that guards every write. "
             "`source.lsn` for Debezium envelopes; `__lsn` for events "
             "unwrapped by ExtractNewRecordState with `add.fields=lsn`."},
    {.name = "delete.mode", .type = TYPE_ENUM, .def = "hard",
     .sinks = SINK_ALL,
     .values = (const char *const[]){"hard", "soft", "none", NULL},
     .desc = "`hard` deletes and records (key, position) in a tombstone "
             "ledger so a stale insert cannot resurrect the key; `soft` keeps "
             "the row and sets its deleted flag and position; `none` ignores "
             "deletes."},
    {.name = "delete.retention.ms", .type = TYPE_DURATION,
     .def = "604800000", .min = 0, .max = TEN_YEARS_MS, .sinks = SINK_ALL,
     .desc = "How long the tombstone ledger keeps a hard-deleted key. A "
             "change older than this for a deleted key can resurrect it."},
    {.name = "delete.on.tombstone", .type = TYPE_BOOL, .def = "false",
     .sinks = SINK_ALL,
     .desc = "Delete by key on a Kafka tombstone (null value), for producers "
             "that drop the `op=d` event. Such deletes are unguarded: a "
             "tombstone carries no position."},
    {.name = "errors.deadletterqueue.topic.name", .type = TYPE_STRING,
     .derive = "cdcsink.dlq.", .sinks = SINK_ALL, .check = check_topic,
     .doc_range = "a Kafka topic name",
     .desc = "Topic that receives records failing with a data error: "
             "original key and value, `__connect.errors.*` headers."},
    {.name = "errors.retry.timeout.ms", .type = TYPE_DURATION, .def = "-1",
     .min = -1, .max = TEN_YEARS_MS, .sinks = SINK_ALL,
     .desc = "How long a batch failing with a transient error is retried "
             "before the pipeline stops; -1 retries forever."},
    {.name = "errors.retry.backoff.initial.ms", .type = TYPE_DURATION,
     .def = "100", .min = 1, .max = HOUR_MS, .sinks = SINK_ALL,
     .desc = "First retry delay; it doubles on every attempt. At most "
             "`errors.retry.backoff.max.ms`."},
    {.name = "errors.retry.backoff.max.ms", .type = TYPE_DURATION,
     .def = "30000", .min = 1, .max = HOUR_MS, .sinks = SINK_ALL,
     .desc = "Cap on the retry delay."},
    {.name = "commit.interval.ms", .type = TYPE_DURATION, .def = "5000",
     .min = 1, .max = DAY_MS, .sinks = SINK_ALL,
     .desc = "How often stored offsets are committed to Kafka; they are also "
             "committed on partition revoke and on shutdown."},
    {.name = "apply.overlap", .type = TYPE_BOOL, .def = "true",
     .sinks = SINK_ALL,
     .desc = "Collect and decode the next batch while the sink writes this "
             "one (on a thread of its own). Batches still complete, and "
             "offsets are still stored, in order; false writes and decodes "
             "by turns."},
    {.name = "fetch.wake.ms", .type = TYPE_DURATION, .def = "50",
     .min = 0, .max = 60000, .sinks = SINK_ALL,
     .desc = "While the pipeline lags, how often the partitions' leaders are "
             "asked for their watermarks so that librdkafka 2.0 resumes "
             "fetching as soon as its prefetch queue drains instead of up to "
             "a second later (docs/decisions.md); 0 turns this off."},
    {.name = "shutdown.timeout.ms", .type = TYPE_DURATION, .def = "30000",
     .min = 0, .max = HOUR_MS, .sinks = SINK_ALL,
     .desc = "On SIGTERM, how long the batch in flight may take to finish "
             "and commit before the process exits."},
    {.name = "http.listen", .type = TYPE_STRING, .def = "127.0.0.1:9400",
     .sinks = SINK_ALL, .check = check_http_listen,
     .doc_range = "`HOST:PORT` or `off`",
     .desc = "Address serving `/metrics`, `/healthz` and `/readyz`; `off` "
             "disables the listener; port 0 picks a free port (logged)."},
    {.name = "log.level", .type = TYPE_ENUM, .def = "info", .sinks = SINK_ALL,
     .values = (const char *const[]){"error", "warn", "info", "debug", NULL},
     .desc = "Least severe level that is logged."},
    {.name = "log.format", .type = TYPE_ENUM, .def = "logfmt",
     .sinks = SINK_ALL,
     .values = (const char *const[]){"logfmt", "json", NULL},
     .desc = "Log lines as logfmt or as one JSON object each."},
    {.name = "connection.url", .type = TYPE_STRING,
     .flags = KEY_REQUIRED | KEY_URL,
     .sinks = SINK_POSTGRES | SINK_REDIS | SINK_ELASTICSEARCH,
     .desc = "Sink address: a libpq URI or keyword/value string for "
             "postgres, `redis://` or `rediss://` for redis, `http(s)://` "
             "for elasticsearch. Printed with the password masked (a string "
             "that is not a URL is masked whole)."},
    {.name = "jsonl.path", .type = TYPE_STRING, .def = "-",
     .sinks = SINK_JSONL,
     .desc = "File the change events are appended to, one JSON object per "
             "line; `-` is standard output."},
    {.name = "table.name.format", .type = TYPE_STRING,
     .def = "${source.table}", .sinks = SINK_POSTGRES,
     .desc = "Target table of a record. Placeholders: `${topic}`, "
             "`${source.db}`, `${source.schema}`, `${source.table}`."},
    {.name = "connection.pool.size", .type = TYPE_INT, .def = "2", .min = 1,
     .max = 32, .sinks = SINK_POSTGRES,
     .desc = "Sessions writing in parallel: each batch is split by key over "
             "them, each part in its own transaction (safe: every write is "
             "guarded, so a part committed before another failed is stale "
             "on the retry)."},
    {.name = "table.schema", .type = TYPE_STRING, .def = "public",
     .sinks = SINK_POSTGRES,
     .desc = "PostgreSQL schema the target tables live in (created by "
             "`auto.create` if missing)."},
    {.name = "position.column", .type = TYPE_STRING, .def = "__cdc_lsn",
     .sinks = SINK_POSTGRES,
     .desc = "Target column holding each row's source position (bigint): "
             "the guard of every write. Added by `auto.create`; must exist "
             "otherwise."},
    {.name = "deleted.column", .type = TYPE_STRING, .def = "__cdc_deleted",
     .sinks = SINK_POSTGRES,
     .desc = "Target column (boolean) set by `delete.mode=soft` and cleared "
             "by a newer insert. Added by `auto.create`; must exist "
             "otherwise."},
    {.name = "pk.fields", .type = TYPE_LIST, .sinks = SINK_POSTGRES,
     .desc = "Primary-key columns, comma-separated; unset: the fields of the "
             "Kafka record key."},
    {.name = "auto.create", .type = TYPE_BOOL, .def = "false",
     .sinks = SINK_POSTGRES,
     .desc = "Create a missing target table from the record schema; when "
             "false a missing table is a fatal error."},
    {.name = "auto.evolve", .type = TYPE_BOOL, .def = "false",
     .sinks = SINK_POSTGRES,
     .desc = "Add columns that appear in the record schema to the target "
             "table."},
    {.name = "auto.migrate", .type = TYPE_BOOL, .def = "true",
     .sinks = SINK_POSTGRES,
     .desc = "Apply cdcsink's own migrations (position and tombstone tables) "
             "in the target database at start-up."},
    {.name = "index.name.format", .type = TYPE_STRING, .def = "${topic}",
     .sinks = SINK_ELASTICSEARCH,
     .desc = "Target index of a record; placeholders as for "
             "`table.name.format`."},
    {.name = "key.format", .type = TYPE_STRING, .def = "${topic}:${key}",
     .sinks = SINK_REDIS,
     .desc = "Redis key of a record; `${key}` is the record key, other "
             "placeholders as for `table.name.format`."},
};
#define KEY_COUNT (sizeof keys / sizeof keys[0])

struct kafka_entry {
    char *name; /* without the "kafka." prefix */
    char *value;
    int line;
};

struct cdc_config {
    char *origin;
    char *dir;              /* anchors relative ${file:PATH}; "" = cwd */
    int sink;               /* enum sink_bit of `sink`, 0 until known */
    char *values[KEY_COUNT];  /* as set in the file, NULL if not */
    int lines[KEY_COUNT];     /* 0 if not set */
    char *derived[KEY_COUNT]; /* computed defaults (group.id, DLQ topic) */
    struct kafka_entry *kafka;
    size_t kafka_count, kafka_cap;
};

/* Parse state, so helpers can say "path:line:" without long signatures. */
struct parse_ctx {
    cdc_config_t *cfg;
    int line;
    char *errstr;
    size_t errstr_size;
};

static int fail_at(struct parse_ctx *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int fail_at(struct parse_ctx *p, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (p->line > 0)
        return cdc_errstr_set(p->errstr, p->errstr_size, "%s:%d: %s",
                              p->cfg->origin, p->line, msg);
    return cdc_errstr_set(p->errstr, p->errstr_size, "%s: %s", p->cfg->origin,
                          msg);
}

/* ---- small helpers ---------------------------------------------------- */

static int key_find(const char *name)
{
    for (size_t i = 0; i < KEY_COUNT; i++)
        if (strcmp(keys[i].name, name) == 0) return (int)i;
    return -1;
}

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

static char *trim(char *s)
{
    while (isspace((unsigned char)*s)) s++;
    char *end = s + strlen(s);
    while (end > s && isspace((unsigned char)end[-1])) end--;
    *end = '\0';
    return s;
}

static char *concat(const char *a, const char *b)
{
    size_t n = strlen(a), m = strlen(b);
    char *s = malloc(n + m + 1);
    if (!s) return NULL;
    memcpy(s, a, n);
    memcpy(s + n, b, m + 1);
    return s;
}

/* Edit distance; keys are short, longer inputs just get no suggestion. */
static size_t levenshtein(const char *a, const char *b)
{
    size_t n = strlen(a), m = strlen(b);
    size_t prev[65], cur[65];
    if (n > 64 || m > 64) return SIZE_MAX;
    for (size_t j = 0; j <= m; j++) prev[j] = j;
    for (size_t i = 1; i <= n; i++) {
        cur[0] = i;
        for (size_t j = 1; j <= m; j++) {
            size_t sub = prev[j - 1] + (a[i - 1] != b[j - 1]);
            size_t del = prev[j] + 1, ins = cur[j - 1] + 1;
            size_t best = sub < del ? sub : del;
            cur[j] = best < ins ? best : ins;
        }
        memcpy(prev, cur, (m + 1) * sizeof cur[0]);
    }
    return prev[m];
}

/* ---- secrets ---------------------------------------------------------- */

static int kafka_name_is_secret(const char *name)
{
    static const char *const parts[] = {"password", "secret", "sasl.jaas",
                                        "sasl.oauthbearer.config", NULL};
    for (size_t i = 0; parts[i]; i++)
        if (strstr(name, parts[i])) return 1;
    return ends_with(name, ".pem") || ends_with(name, "key");
}

static int span_has_password(const char *s, size_t n)
{
    for (size_t i = 0; i + 8 <= n; i++)
        if (strncasecmp(s + i, "password", 8) == 0) return 1;
    return 0;
}

/* Masks the password of each user:password@ — one per "://", so comma
 * lists of node URLs are covered. The userinfo ends at the last '@' before
 * the next URL rather than at the first '/', '?' or '#': a password with
 * an unencoded delimiter gets over-masked, never shown. */
static void put_masked_userinfo(FILE *f, const char *url)
{
    const char *p = url, *sep = strstr(url, "://");
    while (sep) {
        const char *auth = sep + 3, *next = strstr(auth, "://");
        const char *end = next ? next : auth + strlen(auth), *at = NULL;
        for (const char *c = auth; c < end; c++)
            if (*c == '@') at = c;
        const char *colon = at ? memchr(auth, ':', (size_t)(at - auth)) : NULL;
        if (colon) {
            fwrite(p, 1, (size_t)(colon + 1 - p), f);
            fputs(SECRET_MASK, f);
            p = at;
        }
        sep = next;
    }
    fputs(p, f);
}

/* Query parameters named like *password* (libpq's ?password=, sslpassword)
 * get their value masked. */
static void put_masked_query(FILE *f, const char *s)
{
    while (*s) {
        fputc(*s, f);
        if (*s != '?' && *s != '&') {
            s++;
            continue;
        }
        s++;
        size_t name_len = strcspn(s, "=&#/?");
        if (s[name_len] != '=' || !span_has_password(s, name_len)) continue;
        fwrite(s, 1, name_len + 1, f);
        fputs(SECRET_MASK, f);
        s += name_len + 1;
        s += strcspn(s, "&#,");
    }
}

static char *mask_url(const char *url)
{
    /* A libpq keyword/value string may hold password=... anywhere. */
    if (!strstr(url, "://")) return strdup(SECRET_MASK);
    char *step = NULL, *out = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&step, &size);
    if (!f) return NULL;
    put_masked_userinfo(f, url);
    if (fclose(f) != 0) goto err;
    f = open_memstream(&out, &size);
    if (!f) goto err;
    put_masked_query(f, step);
    if (fclose(f) != 0) goto err;
    free(step);
    return out;
err:
    free(step);
    free(out);
    return NULL;
}

/* The value as it may appear in output and messages; caller frees. */
static char *shown_value(const struct key_def *k, const char *value)
{
    if (k->flags & KEY_SECRET) return strdup(SECRET_MASK);
    if (k->flags & KEY_URL) return mask_url(value);
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

static int check_int(const struct key_def *k, const char *v, char *why,
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

static int check_enum(const struct key_def *k, const char *v, char *why,
                      size_t why_size)
{
    char list[256] = "";
    for (size_t i = 0; k->values[i]; i++) {
        if (strcmp(v, k->values[i]) == 0) return 0;
        size_t n = strlen(list);
        snprintf(list + n, sizeof list - n, "%s%s", i ? ", " : "",
                 k->values[i]);
    }
    return cdc_errstr_set(why, why_size, "'%s' is not one of %s", v, list);
}

/* "a , b" -> "a,b"; each item must be non-empty and pass k->check. */
static char *normalize_list(const struct key_def *k, const char *v, char *why,
                            size_t why_size)
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

/* Checks `v` against k's type and check; returns the value to store
 * (normalised for lists and topics.regex) or NULL with `why` filled. */
static char *validate(const struct key_def *k, const char *v, char *why,
                      size_t why_size)
{
    int rc = 0;
    if (k->type == TYPE_LIST) return normalize_list(k, v, why, why_size);
    if (k->type == TYPE_INT || k->type == TYPE_DURATION)
        rc = check_int(k, v, why, why_size);
    else if (k->type == TYPE_BOOL && strcmp(v, "true") && strcmp(v, "false"))
        rc = cdc_errstr_set(why, why_size,
                            "'%s' is not a boolean (true or false)", v);
    else if (k->type == TYPE_ENUM)
        rc = check_enum(k, v, why, why_size);
    else if (k->check) {
        char *shown = shown_value(k, v);
        rc = shown ? k->check(v, shown, why, why_size)
                   : cdc_errstr_set(why, why_size, "out of memory");
        free(shown);
    }
    if (rc == -1) return NULL;
    if (strcmp(k->name, "topics.regex") == 0 && v[0] != '^')
        return concat("^", v);
    return strdup(v);
}

/* ---- substitution ------------------------------------------------------- */

/* Reads a ${file:} value: whole file, one trailing newline removed. */
static char *read_subst_file(struct parse_ctx *p, const char *key,
                             const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fail_at(p, "key '%s': cannot read file '%s': %s", key, path,
                strerror(errno));
        return NULL;
    }
    char *buf = malloc(FILE_SUBST_MAX + 1);
    errno = 0;
    size_t n = buf ? fread(buf, 1, FILE_SUBST_MAX + 1, f) : 0;
    int bad = !buf ? ENOMEM : ferror(f) ? (errno ? errno : EIO) : 0;
    fclose(f);
    if (bad || n > FILE_SUBST_MAX || memchr(buf, '\0', n)) {
        fail_at(p, "key '%s': cannot read file '%s': %s", key, path,
                bad ? strerror(bad) : "larger than 1 MiB or binary");
        free(buf);
        return NULL;
    }
    if (n > 0 && buf[n - 1] == '\n') n--;
    if (n > 0 && buf[n - 1] == '\r') n--;
    buf[n] = '\0';
    return buf;
}

/* Resolves one reference; `ref` is "env:NAME" or "file:PATH". */
static char *resolve_ref(struct parse_ctx *p, const char *key, const char *ref)
{
    if (strncmp(ref, "env:", 4) == 0) {
        const char *v = ref[4] ? getenv(ref + 4) : NULL;
        if (!v) {
            fail_at(p, "key '%s': environment variable '%s' is not set", key,
                    ref + 4);
            return NULL;
        }
        return strdup(v);
    }
    const char *path = ref + 5;
    if (path[0] == '/' || !p->cfg->dir[0]) return read_subst_file(p, key, path);
    char *dir_slash = concat(p->cfg->dir, "/");
    char *full = dir_slash ? concat(dir_slash, path) : NULL;
    char *v = full ? read_subst_file(p, key, full) : NULL;
    if (!full) fail_at(p, "out of memory");
    free(dir_slash);
    free(full);
    return v;
}

static int is_ref_start(const char *s)
{
    return strncmp(s, "${env:", 6) == 0 || strncmp(s, "${file:", 7) == 0;
}

/* Writes `raw` with its ${env:}/${file:} references replaced. Replaced
 * text is not scanned again; other ${...} (routing placeholders) stay. */
static int put_substituted(struct parse_ctx *p, const char *key,
                           const char *raw, FILE *f)
{
    for (const char *s = raw; *s;) {
        if (!is_ref_start(s)) {
            fputc(*s++, f);
            continue;
        }
        const char *close = strchr(s, '}');
        if (!close) return fail_at(p, "key '%s': unterminated '${'", key);
        char *ref = strndup(s + 2, (size_t)(close - s - 2));
        char *v = ref ? resolve_ref(p, key, ref) : NULL;
        if (!ref) fail_at(p, "out of memory");
        free(ref);
        if (!v) return -1;
        fputs(v, f);
        free(v);
        s = close + 1;
    }
    return 0;
}

static char *substitute(struct parse_ctx *p, const char *key, const char *raw)
{
    char *out = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&out, &size);
    if (!f) {
        fail_at(p, "out of memory");
        return NULL;
    }
    int rc = put_substituted(p, key, raw, f);
    if (fclose(f) != 0 && rc == 0) rc = fail_at(p, "out of memory");
    if (rc == 0) return out;
    free(out);
    return NULL;
}

/* ---- one line ----------------------------------------------------------- */

static int suggest_kafka(const char *key, char *out, size_t out_size)
{
    /* A bare librdkafka property ("bootstrap.servers") is a common slip;
     * librdkafka itself knows its names. */
    char err[256];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_res_t res = rd_kafka_conf_set(conf, key, "", err, sizeof err);
    rd_kafka_conf_destroy(conf);
    if (res != RD_KAFKA_CONF_UNKNOWN) {
        snprintf(out, out_size, KAFKA_PREFIX "%s", key);
        return 1;
    }
    const char *dot = strchr(key, '.');
    if (!dot || dot == key) return 0;
    char first[16];
    if ((size_t)(dot - key) >= sizeof first) return 0;
    memcpy(first, key, (size_t)(dot - key));
    first[dot - key] = '\0';
    if (levenshtein(first, "kafka") > 2) return 0;
    snprintf(out, out_size, KAFKA_PREFIX "%s", dot + 1);
    return 1;
}

static int fail_unknown_key(struct parse_ctx *p, const char *key)
{
    size_t best = SIZE_MAX, len = strlen(key);
    const char *near = NULL;
    for (size_t i = 0; i < KEY_COUNT; i++) {
        size_t d = levenshtein(key, keys[i].name);
        if (d < best) best = d, near = keys[i].name;
    }
    /* Short keys need a closer match, or "foo" would suggest "name". */
    size_t limit = len / 3 + 1 < 3 ? len / 3 + 1 : 3;
    char kafka_name[300];
    if (suggest_kafka(key, kafka_name, sizeof kafka_name))
        near = kafka_name, best = 0;
    if (near && best <= limit)
        return fail_at(p, "unknown key '%s' (did you mean '%s'?)", key, near);
    return fail_at(p, "unknown key '%s'", key);
}

static int kafka_add(struct parse_ctx *p, const char *key, char *value)
{
    cdc_config_t *cfg = p->cfg;
    const char *name = key + strlen(KAFKA_PREFIX);
    if (!name[0]) return fail_at(p, "unknown key '%s'", key);
    if (strcmp(name, "group.id") == 0)
        return fail_at(p, "key '%s' is not allowed: use 'group.id'", key);
    if (strcmp(name, "enable.auto.commit") == 0 ||
        strcmp(name, "enable.auto.offset.store") == 0)
        return fail_at(p, "key '%s' is not allowed: cdcsink stores and "
                          "commits offsets itself, only after a record is "
                          "applied or sent to the DLQ", key);
    for (size_t i = 0; i < cfg->kafka_count; i++)
        if (strcmp(cfg->kafka[i].name, name) == 0)
            return fail_at(p, "key '%s' repeated (first set on line %d)", key,
                           cfg->kafka[i].line);
    struct kafka_entry *entries =
        cdc_grow(cfg->kafka, cfg->kafka_count, &cfg->kafka_cap, sizeof *entries, 8);
    if (!entries) return fail_at(p, "out of memory");
    cfg->kafka = entries;
    char *name_copy = strdup(name);
    if (!name_copy) return fail_at(p, "out of memory");
    cfg->kafka[cfg->kafka_count++] =
        (struct kafka_entry){name_copy, value, p->line};
    return 0;
}

/* Takes ownership of `value`. */
static int table_set(struct parse_ctx *p, const char *key, char *value)
{
    int i = key_find(key);
    if (i < 0) {
        free(value);
        return fail_unknown_key(p, key);
    }
    char why[512];
    char *stored = NULL;
    if (p->cfg->lines[i])
        fail_at(p, "key '%s' repeated (first set on line %d)", key,
                p->cfg->lines[i]);
    else if (!value[0])
        fail_at(p, "key '%s': empty value%s", key,
                keys[i].def || keys[i].derive
                    ? " (leave the key out to use the default)"
                    : "");
    else if (!(stored = validate(&keys[i], value, why, sizeof why)))
        fail_at(p, "key '%s': %s", key, why);
    free(value);
    if (!stored) return -1;
    p->cfg->values[i] = stored;
    p->cfg->lines[i] = p->line;
    return 0;
}

static int parse_line(struct parse_ctx *p, char *line)
{
    line = trim(line);
    if (!line[0] || line[0] == '#' || line[0] == '!') return 0;
    char *eq = strchr(line, '=');
    if (!eq) return fail_at(p, "expected 'key = value'");
    *eq = '\0';
    char *key = trim(line), *raw = trim(eq + 1);
    if (!key[0]) return fail_at(p, "expected 'key = value' (empty key)");
    char *value = substitute(p, key, raw);
    if (!value) return -1;
    if (strncmp(key, KAFKA_PREFIX, strlen(KAFKA_PREFIX)) == 0) {
        int rc = kafka_add(p, key, value);
        if (rc == -1) free(value);
        return rc;
    }
    return table_set(p, key, value);
}

/* ---- whole-file checks -------------------------------------------------- */

static const char *sink_list(int sinks, char *buf, size_t size)
{
    buf[0] = '\0';
    for (size_t i = 0; sink_names[i]; i++) {
        if (!(sinks & (1 << i))) continue;
        size_t n = strlen(buf);
        snprintf(buf + n, size - n, "%s%s", n ? ", " : "", sink_names[i]);
    }
    return buf;
}

static int check_required(struct parse_ctx *p)
{
    cdc_config_t *cfg = p->cfg;
    for (size_t i = 0; i < KEY_COUNT; i++) {
        if (!(keys[i].flags & KEY_REQUIRED) || cfg->lines[i]) continue;
        if (keys[i].sinks == SINK_ALL)
            return fail_at(p, "missing required key '%s'", keys[i].name);
        if (keys[i].sinks & cfg->sink)
            return fail_at(p, "missing required key '%s' for sink '%s'",
                           keys[i].name, cdc_config_get(cfg, "sink"));
    }
    int topics = cfg->lines[key_find("topics")];
    int regex = cfg->lines[key_find("topics.regex")];
    if (!topics && !regex)
        return fail_at(p, "missing required key 'topics' or 'topics.regex'");
    if (topics && regex)
        return fail_at(p, "'topics' (line %d) and 'topics.regex' (line %d) "
                          "are both set; set exactly one", topics, regex);
    return 0;
}

static int check_sink_keys(struct parse_ctx *p)
{
    char list[128];
    for (size_t i = 0; i < KEY_COUNT; i++) {
        if (!p->cfg->lines[i] || (keys[i].sinks & p->cfg->sink)) continue;
        p->line = p->cfg->lines[i];
        return fail_at(p, "key '%s' does not apply to sink '%s' (only %s)",
                       keys[i].name, cdc_config_get(p->cfg, "sink"),
                       sink_list(keys[i].sinks, list, sizeof list));
    }
    return 0;
}

static int check_backoff(struct parse_ctx *p)
{
    const char *initial = "errors.retry.backoff.initial.ms";
    const char *max = "errors.retry.backoff.max.ms";
    int64_t a = cdc_config_get_int(p->cfg, initial);
    int64_t b = cdc_config_get_int(p->cfg, max);
    if (a <= b) return 0;
    p->line = cdc_config_line(p->cfg, initial);
    if (!p->line) p->line = cdc_config_line(p->cfg, max);
    return fail_at(p, "key '%s' (%" PRId64 ") is greater than '%s' (%" PRId64
                      ")", initial, a, max, b);
}

static int derive_defaults(struct parse_ctx *p)
{
    const char *name = cdc_config_get(p->cfg, "name");
    for (size_t i = 0; i < KEY_COUNT; i++) {
        if (!keys[i].derive || p->cfg->lines[i]) continue;
        if (!(p->cfg->derived[i] = concat(keys[i].derive, name)))
            return fail_at(p, "out of memory");
    }
    return 0;
}

static int check_whole(struct parse_ctx *p)
{
    p->line = 0;
    /* `sink` is validated, so it is one of sink_names. */
    const char *sink = p->cfg->values[key_find("sink")];
    for (size_t i = 0; sink && sink_names[i]; i++)
        if (strcmp(sink, sink_names[i]) == 0) p->cfg->sink = 1 << i;
    if (check_required(p) == -1 || check_sink_keys(p) == -1 ||
        check_backoff(p) == -1)
        return -1;
    p->line = 0;
    return derive_defaults(p);
}

/* ---- public API --------------------------------------------------------- */

static char *dir_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash) return strdup("");
    if (slash == path) return strdup("/");
    return strndup(path, (size_t)(slash - path));
}

static int parse_text(struct parse_ctx *p, const char *text)
{
    char *copy = strdup(text);
    if (!copy) return fail_at(p, "out of memory");
    int rc = 0;
    char *line = copy;
    for (p->line = 1; rc == 0 && line; p->line++) {
        char *nl = strchr(line, '\n');
        if (nl) *nl = '\0';
        rc = parse_line(p, line);
        line = nl ? nl + 1 : NULL;
    }
    free(copy);
    return rc == 0 ? check_whole(p) : -1;
}

cdc_config_t *cdc_config_parse(const char *text, const char *origin,
                               char *errstr, size_t errstr_size)
{
    cdc_config_t *cfg = calloc(1, sizeof *cfg);
    if (!cfg || !(cfg->origin = strdup(origin)) ||
        !(cfg->dir = dir_of(origin))) {
        cdc_errstr_set(errstr, errstr_size, "%s: out of memory", origin);
        cdc_config_destroy(cfg);
        return NULL;
    }
    struct parse_ctx p = {cfg, 0, errstr, errstr_size};
    if (parse_text(&p, text) == -1) {
        cdc_config_destroy(cfg);
        return NULL;
    }
    return cfg;
}

cdc_config_t *cdc_config_load(const char *path, char *errstr,
                              size_t errstr_size)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        cdc_errstr_set(errstr, errstr_size, "%s: %s", path, strerror(errno));
        return NULL;
    }
    char *text = NULL;
    size_t size = 0;
    FILE *mem = open_memstream(&text, &size);
    char buf[4096];
    size_t n;
    while (mem && (n = fread(buf, 1, sizeof buf, f)) > 0)
        fwrite(buf, 1, n, mem);
    int bad = ferror(f);
    fclose(f);
    if (!mem || fclose(mem) != 0 || bad) {
        free(text);
        cdc_errstr_set(errstr, errstr_size, "%s: cannot read file", path);
        return NULL;
    }
    cdc_config_t *cfg = NULL;
    if (!text)
        cdc_errstr_set(errstr, errstr_size, "%s: out of memory", path);
    else if (memchr(text, '\0', size))
        cdc_errstr_set(errstr, errstr_size, "%s: binary file (NUL byte)", path);
    else
        cfg = cdc_config_parse(text, path, errstr, errstr_size);
    free(text);
    return cfg;
}

void cdc_config_destroy(cdc_config_t *cfg)
{
    if (!cfg) return;
    for (size_t i = 0; i < KEY_COUNT; i++) {
        free(cfg->values[i]);
        free(cfg->derived[i]);
    }
    for (size_t i = 0; i < cfg->kafka_count; i++) {
        free(cfg->kafka[i].name);
        free(cfg->kafka[i].value);
    }
    free(cfg->kafka);
    free(cfg->origin);
    free(cfg->dir);
    free(cfg);
}

static const struct kafka_entry *kafka_find(const cdc_config_t *cfg,
                                            const char *key)
{
    if (strncmp(key, KAFKA_PREFIX, strlen(KAFKA_PREFIX)) != 0) return NULL;
    for (size_t i = 0; i < cfg->kafka_count; i++)
        if (strcmp(cfg->kafka[i].name, key + strlen(KAFKA_PREFIX)) == 0)
            return &cfg->kafka[i];
    return NULL;
}

static const char *effective(const cdc_config_t *cfg, size_t i)
{
    if (cfg->values[i]) return cfg->values[i];
    if (cfg->derived[i]) return cfg->derived[i];
    return keys[i].def;
}

char **cdc_config_split_list(const char *list, int *oom)
{
    *oom = 0;
    if (!list || !*list) return NULL;
    size_t n = 1;
    for (const char *p = list; *p; p++) n += *p == ',';
    char **out = calloc(n + 1, sizeof *out);
    if (!out) goto oom;
    size_t k = 0;
    for (const char *p = list; *p;) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len && !(out[k++] = strndup(p, len))) goto oom;
        p += len + (end != NULL);
    }
    return out;
oom:
    cdc_config_free_list(out);
    *oom = 1;
    return NULL;
}

void cdc_config_free_list(char **items)
{
    for (char **i = items; i && *i; i++) free(*i);
    free(items);
}

const char *cdc_config_get(const cdc_config_t *cfg, const char *key)
{
    int i = key_find(key);
    if (i >= 0) return effective(cfg, (size_t)i);
    const struct kafka_entry *e = kafka_find(cfg, key);
    return e ? e->value : NULL;
}

int64_t cdc_config_get_int(const cdc_config_t *cfg, const char *key)
{
    int i = key_find(key);
    if (i < 0 || (keys[i].type != TYPE_INT && keys[i].type != TYPE_DURATION)) {
        cdc_log_error("config: '%s' is not an integer key (bug)", key);
        return 0;
    }
    const char *v = effective(cfg, (size_t)i);
    return v ? strtoll(v, NULL, 10) : 0;
}

int cdc_config_get_bool(const cdc_config_t *cfg, const char *key)
{
    int i = key_find(key);
    if (i < 0 || keys[i].type != TYPE_BOOL) {
        cdc_log_error("config: '%s' is not a boolean key (bug)", key);
        return 0;
    }
    const char *v = effective(cfg, (size_t)i);
    return v && strcmp(v, "true") == 0;
}

int cdc_config_line(const cdc_config_t *cfg, const char *key)
{
    int i = key_find(key);
    if (i >= 0) return cfg->lines[i];
    const struct kafka_entry *e = kafka_find(cfg, key);
    return e ? e->line : 0;
}

int cdc_config_is_set(const cdc_config_t *cfg, const char *key)
{
    return cdc_config_line(cfg, key) > 0;
}

const char *cdc_config_origin(const cdc_config_t *cfg)
{
    return cfg->origin;
}

size_t cdc_config_kafka_count(const cdc_config_t *cfg)
{
    return cfg->kafka_count;
}

void cdc_config_kafka_at(const cdc_config_t *cfg, size_t i, const char **name,
                         const char **value)
{
    *name = i < cfg->kafka_count ? cfg->kafka[i].name : NULL;
    *value = i < cfg->kafka_count ? cfg->kafka[i].value : NULL;
}

int cdc_config_kafka_line(const cdc_config_t *cfg, size_t i)
{
    return i < cfg->kafka_count ? cfg->kafka[i].line : 0;
}

/* ---- print -------------------------------------------------------------- */

static void print_key(const cdc_config_t *cfg, size_t i, FILE *out)
{
    const struct key_def *k = &keys[i];
    const char *v = effective(cfg, i);
    char list[128];
    int applies = (k->sinks & cfg->sink) != 0;
    char *shown = v ? shown_value(k, v) : NULL;
    if (v && !shown) shown = strdup(SECRET_MASK); /* OOM: still hide it */
    if (applies && shown)
        fprintf(out, "%s = %s\n", k->name, shown);
    else if (applies)
        fprintf(out, "# %s is not set\n", k->name);
    else if (shown)
        fprintf(out, "# %s = %s (%s only)\n", k->name, shown,
                sink_list(k->sinks, list, sizeof list));
    else
        fprintf(out, "# %s is not set (%s only)\n", k->name,
                sink_list(k->sinks, list, sizeof list));
    free(shown);
}

void cdc_config_print(const cdc_config_t *cfg, FILE *out)
{
    for (size_t i = 0; i < KEY_COUNT; i++) print_key(cfg, i, out);
    for (size_t i = 0; i < cfg->kafka_count; i++) {
        const struct kafka_entry *e = &cfg->kafka[i];
        fprintf(out, KAFKA_PREFIX "%s = %s\n", e->name,
                kafka_name_is_secret(e->name) ? SECRET_MASK : e->value);
    }
}

/* ---- docs --------------------------------------------------------------- */

static const char docs_intro[] =
    "<!-- Generated from the key table in src/config.c: do not edit.\n"
    "     Regenerate from the repository root with\n"
    "         ./build/t0002-config --write-docs\n"
    "     The t0002-config unit test fails while this file and the table "
    "differ. -->\n"
    "# Configuration\n"
    "\n"
    "One cdcsink process runs one pipeline, and a pipeline is one file: the\n"
    "topics to consume, the sink to apply them to, and how.\n"
    "`sinks/jsonl/example.properties` lists every key, commented at its "
    "default.\n"
    "\n"
    "## File format\n"
    "\n"
    "The format follows Kafka's `.properties`, without its escapes:\n"
    "\n"
    "- One `key = value` per line. Whitespace around the key and the value "
    "is\n"
    "  trimmed; the value is the rest of the line after the first `=`, taken\n"
    "  literally (no quoting, escapes or line continuations).\n"
    "- A line whose first non-blank character is `#` or `!` is a comment; "
    "blank\n"
    "  lines are ignored. A `#` later in a line is part of the value.\n"
    "- A key may appear once: a repeated key is an error naming both lines.\n"
    "- An empty value is an error: leave the key out to get its default.\n"
    "- Integers are decimal, durations are integer milliseconds, booleans "
    "are\n"
    "  `true` or `false`, lists are comma-separated (blanks around commas "
    "are\n"
    "  ignored).\n"
    "- Unknown keys, bad values, keys of another sink and missing required "
    "keys\n"
    "  stop the start-up with the file, the line and the nearest valid key:\n"
    "  `orders.properties:7: unknown key 'batch.sise' (did you mean "
    "'batch.size'?)`.\n"
    "\n"
    "## Substitutions\n"
    "\n"
    "- `${env:NAME}` is replaced by the environment variable `NAME`; an "
    "unset\n"
    "  variable is an error.\n"
    "- `${file:PATH}` is replaced by the content of the file, with one "
    "trailing\n"
    "  newline (`\\n` or `\\r\\n`) removed. A relative `PATH` is relative to "
    "the\n"
    "  directory of the pipeline file. An unreadable file, one larger than "
    "1 MiB\n"
    "  or one holding a NUL byte is an error. This suits secrets mounted as\n"
    "  files (Kubernetes secrets, Docker secrets).\n"
    "- Substituted text is not scanned again, and any other `${...}` — the\n"
    "  routing placeholders such as `${source.table}` — is left as it is.\n"
    "- Error messages name the variable or the file, never its content.\n"
    "\n"
    "## Kafka client properties\n"
    "\n"
    "A key `kafka.<property>` is handed to librdkafka as `<property>`, in "
    "file\n"
    "order: `kafka.bootstrap.servers`, `kafka.security.protocol`, "
    "`kafka.sasl.*`,\n"
    "`kafka.ssl.*`, `kafka.auto.offset.reset` and so on. librdkafka checks "
    "their\n"
    "names and values. A librdkafka property written without the prefix is "
    "an\n"
    "unknown key, reported with the prefixed name as suggestion. cdcsink "
    "owns the\n"
    "consumer group and the offsets, so `kafka.group.id` (use `group.id`),\n"
    "`kafka.enable.auto.commit` and `kafka.enable.auto.offset.store` are\n"
    "rejected.\n"
    "\n"
    "Where the file does not set them, cdcsink gives librdkafka these\n"
    "defaults: `partition.assignment.strategy=cooperative-sticky`,\n"
    "`auto.offset.reset=earliest`, `queued.max.messages.kbytes=4096` and\n"
    "`max.partition.fetch.bytes=262144` (a few batches of prefetch, small\n"
    "RSS: docs/decisions.md), and, with `topics.regex`,\n"
    "`topic.metadata.refresh.interval.ms=10000`: a topic that appears later\n"
    "(a table added at the source) is found within about 10 s instead of\n"
    "librdkafka's 5 minutes. A fresh pipeline over existing topics finds\n"
    "them at once: its first record over 34 topics (102 partitions) was\n"
    "written 0.2 s after start (docs/decisions.md).\n"
    "\n"
    "## Secrets\n"
    "\n"
    "Secret values are never logged, printed or quoted in an error message; "
    "the\n"
    "printed configuration shows `" SECRET_MASK "` instead. This covers:\n"
    "\n"
    "- keys marked *secret* below;\n"
    "- the password in keys marked *password masked*: in `user:password@` "
    "and in\n"
    "  query parameters whose name contains `password`. A "
    "`connection.url` that\n"
    "  is not a URL (a libpq keyword/value string) is masked whole;\n"
    "- `kafka.*` keys whose name contains `password`, `secret`, "
    "`sasl.jaas` or\n"
    "  `sasl.oauthbearer.config`, or ends in `.pem` or `key`.\n"
    "\n"
    "## Keys\n"
    "\n"
    "*required* keys must be set (`connection.url` only for the sinks that "
    "use\n"
    "it), and exactly one of `topics` and `topics.regex` must be. A key set "
    "in a\n"
    "pipeline whose sink is not in its *sinks* column is an error.\n"
    "\n"
    "| key | type | default | range / values | sinks | description |\n"
    "|---|---|---|---|---|---|\n";

static const char *type_name(key_type_t t)
{
    switch (t) {
    case TYPE_STRING: return "string";
    case TYPE_INT: return "integer";
    case TYPE_BOOL: return "boolean";
    case TYPE_ENUM: return "enum";
    case TYPE_DURATION: return "duration (ms)";
    case TYPE_LIST: return "list";
    }
    return "?";
}

/* Table cells must not contain a bare `|`. */
static void put_cell(FILE *out, const char *s)
{
    for (; *s; s++) {
        if (*s == '|') fputc('\\', out);
        fputc(*s, out);
    }
}

static void put_default(FILE *out, const struct key_def *k)
{
    if (k->derive) fprintf(out, "`%s<name>`", k->derive);
    else if (k->def) fprintf(out, "`%s`", k->def);
    else fputs("—", out);
}

static void put_range(FILE *out, const struct key_def *k)
{
    if (k->type == TYPE_INT || k->type == TYPE_DURATION)
        fprintf(out, "%" PRId64 "..%" PRId64, k->min, k->max);
    else if (k->type == TYPE_ENUM)
        for (size_t i = 0; k->values[i]; i++)
            fprintf(out, "%s`%s`", i ? ", " : "", k->values[i]);
    else if (k->type == TYPE_BOOL)
        fputs("`true`, `false`", out);
    else if (k->doc_range)
        put_cell(out, k->doc_range);
}

static void put_doc_row(FILE *out, const struct key_def *k)
{
    char list[128];
    fprintf(out, "| `%s`", k->name);
    if (k->flags & KEY_REQUIRED) fputs(" *required*", out);
    if (k->flags & KEY_SECRET) fputs(" *secret*", out);
    if (k->flags & KEY_URL) fputs(" *password masked*", out);
    fprintf(out, " | %s | ", type_name(k->type));
    put_default(out, k);
    fputs(" | ", out);
    put_range(out, k);
    fprintf(out, " | %s | ",
            k->sinks == SINK_ALL ? "all"
                                 : sink_list(k->sinks, list, sizeof list));
    put_cell(out, k->desc);
    fputs(" |\n", out);
}

void cdc_config_write_docs(FILE *out)
{
    fputs(docs_intro, out);
    for (size_t i = 0; i < KEY_COUNT; i++) put_doc_row(out, &keys[i]);
}
