/* t0002-config — pipeline files: values, defaults, every error message,
 * sink keys, substitutions, kafka.* passthrough, secret masking, the typed
 * core settings against the key table, and that docs/configuration.md is
 * what the template and the key tables generate.
 *
 * Runs with the repository root as working directory (ctest sets it).
 * `t0002-config --write-docs` regenerates docs/configuration.md. */
#include "config.h"
#include "configdoc.h"
#include "mask.h"
#include "sink.h"

#include "unit.h"

#include <stdalign.h>
#include <stdbool.h>
#include <stdlib.h>
#include <unistd.h>

#define DOCS_PATH "docs/configuration.md"
#define TEMPLATE_PATH "docs/configuration.template.md"
#define EXAMPLE_PATH "sinks/jsonl/example.properties"

/* The four keys every pipeline needs; the next line is line 5. */
#define BASE                                                                 \
    "name = orders\n"                                                        \
    "sink = jsonl\n"                                                         \
    "topics = dbserver1.inventory.orders\n"                                  \
    "schema.registry.url = http://registry:8081\n"

static char errstr[512];

static cdc_config_t *parse(const char *text)
{
    errstr[0] = '\0';
    return cdc_config_parse(text, "etc/orders.properties", cdc_sink_catalog(),
                            errstr, sizeof errstr);
}

/* Parsing must fail with exactly `want`. */
static void expect_error(const char *text, const char *want, int line)
{
    cdc_config_t *cfg = parse(text);
    if (cfg) {
        unit_failed++;
        fprintf(stderr, "%s:%d: parse succeeded, want error \"%s\"\n",
                __FILE__, line, want);
        cdc_config_destroy(cfg);
        return;
    }
    if (strcmp(errstr, want) == 0) {
        unit_passed++;
        return;
    }
    unit_failed++;
    fprintf(stderr, "%s:%d: error \"%s\", want \"%s\"\n", __FILE__, line,
            errstr, want);
}
#define EXPECT_ERROR(text, want) expect_error(text, want, __LINE__)

static char *read_all(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    char *buf = NULL;
    size_t size = 0;
    FILE *mem = open_memstream(&buf, &size);
    int c;
    while ((c = fgetc(f)) != EOF) fputc(c, mem);
    fclose(mem);
    fclose(f);
    return buf;
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL);
    if (!f) return;
    fputs(text, f);
    fclose(f);
}

static char *printed(const cdc_config_t *cfg)
{
    char *buf = NULL;
    size_t size = 0;
    FILE *mem = open_memstream(&buf, &size);
    cdc_config_print(cfg, mem);
    fclose(mem);
    return buf;
}

static void test_full_example_values_and_defaults(void)
{
    cdc_config_t *cfg = parse(
        "# orders into the analytics replica\n"
        "! a properties-style comment too\n"
        "\n"
        "  name   =   orders  \n"
        "sink = postgres\n"
        "topics = dbserver1.inventory.orders , dbserver1.inventory.customers\n"
        "schema.registry.url = https://registry:8081\n"
        "batch.size = 1000\n"
        "delete.mode = soft\n"
        "delete.on.tombstone = true\n"
        "errors.retry.timeout.ms = 600000\n"
        "http.listen = off\n"
        "connection.url = postgresql://app:pw@db:5432/analytics\n"
        "pk.fields = id, tenant_id\n"
        "table.name.format = ${source.schema}_${source.table}\n"
        "kafka.bootstrap.servers = broker:9092\r\n"
        "kafka.auto.offset.reset = earliest\n"
        "kafka.client.id = cdcsink#1\n");
    CHECK(cfg != NULL);
    if (!cfg) {
        fprintf(stderr, "  %s\n", errstr);
        return;
    }
    CHECK_STR(cdc_config_get(cfg, "name"), "orders");
    CHECK_STR(cdc_config_get(cfg, "sink"), "postgres");
    CHECK_STR(cdc_config_get(cfg, "topics"),
              "dbserver1.inventory.orders,dbserver1.inventory.customers");
    CHECK_INT(cdc_config_get_int(cfg, "batch.size"), 1000);
    CHECK_STR(cdc_config_get(cfg, "delete.mode"), "soft");
    CHECK_INT(cdc_config_get_bool(cfg, "delete.on.tombstone"), 1);
    CHECK_INT(cdc_config_get_int(cfg, "errors.retry.timeout.ms"), 600000);
    CHECK_STR(cdc_config_get(cfg, "http.listen"), "off");
    CHECK_STR(cdc_config_get(cfg, "pk.fields"), "id,tenant_id");
    CHECK_STR(cdc_config_get(cfg, "table.name.format"),
              "${source.schema}_${source.table}");
    /* defaults */
    CHECK_INT(cdc_config_get_int(cfg, "batch.max.wait.ms"), 0);
    CHECK_INT(cdc_config_get_int(cfg, "schema.registry.timeout.ms"), 10000);
    CHECK_STR(cdc_config_get(cfg, "position.field"), "source.lsn");
    CHECK_INT(cdc_config_get_int(cfg, "delete.retention.ms"), 604800000);
    CHECK_INT(cdc_config_get_int(cfg, "errors.retry.backoff.initial.ms"), 100);
    CHECK_INT(cdc_config_get_int(cfg, "errors.retry.backoff.max.ms"), 30000);
    CHECK_INT(cdc_config_get_int(cfg, "commit.interval.ms"), 5000);
    CHECK_INT(cdc_config_get_int(cfg, "shutdown.timeout.ms"), 30000);
    CHECK_STR(cdc_config_get(cfg, "log.level"), "info");
    CHECK_STR(cdc_config_get(cfg, "log.format"), "logfmt");
    CHECK_INT(cdc_config_get_bool(cfg, "auto.create"), 0);
    CHECK_INT(cdc_config_get_bool(cfg, "auto.migrate"), 1);
    /* keys of another sink, or of none built, have no value here */
    CHECK(cdc_config_get(cfg, "jsonl.path") == NULL);
    CHECK(cdc_config_get(cfg, "key.format") == NULL);
    CHECK(cdc_config_get(cfg, "schema.registry.ssl.ca.location") == NULL);
    CHECK(cdc_config_get(cfg, "no.such.key") == NULL);
    /* set vs default, and where */
    CHECK_INT(cdc_config_is_set(cfg, "batch.size"), 1);
    CHECK_INT(cdc_config_is_set(cfg, "batch.max.wait.ms"), 0);
    CHECK_INT(cdc_config_line(cfg, "batch.size"), 8);
    CHECK_INT(cdc_config_line(cfg, "kafka.client.id"), 18);
    CHECK_STR(cdc_config_origin(cfg), "etc/orders.properties");
    /* kafka.* in file order, prefix stripped, `#` inside a value kept */
    const char *name, *value;
    CHECK_INT(cdc_config_kafka_count(cfg), 3);
    cdc_config_kafka_at(cfg, 0, &name, &value);
    CHECK_STR(name, "bootstrap.servers");
    CHECK_STR(value, "broker:9092");
    cdc_config_kafka_at(cfg, 1, &name, &value);
    CHECK_STR(name, "auto.offset.reset");
    CHECK_STR(value, "earliest");
    cdc_config_kafka_at(cfg, 2, &name, &value);
    CHECK_STR(name, "client.id");
    CHECK_STR(value, "cdcsink#1");
    CHECK_INT(cdc_config_kafka_line(cfg, 2), 18);
    CHECK_STR(cdc_config_get(cfg, "kafka.auto.offset.reset"), "earliest");
    cdc_config_destroy(cfg);
}

static void test_derived_defaults(void)
{
    cdc_config_t *cfg = parse(BASE);
    CHECK(cfg != NULL);
    if (!cfg) return;
    CHECK_STR(cdc_config_get(cfg, "group.id"), "cdcsink.orders");
    CHECK_STR(cdc_config_get(cfg, "errors.deadletterqueue.topic.name"),
              "cdcsink.dlq.orders");
    CHECK_INT(cdc_config_is_set(cfg, "group.id"), 0);
    CHECK_INT(cdc_config_kafka_count(cfg), 0);
    cdc_config_destroy(cfg);

    cfg = parse(BASE "group.id = legacy-group\n"
                     "errors.deadletterqueue.topic.name = orders.dlq\n");
    CHECK(cfg != NULL);
    if (!cfg) return;
    CHECK_STR(cdc_config_get(cfg, "group.id"), "legacy-group");
    CHECK_STR(cdc_config_get(cfg, "errors.deadletterqueue.topic.name"),
              "orders.dlq");
    cdc_config_destroy(cfg);
}

static void test_topics_regex_gets_anchor(void)
{
    cdc_config_t *cfg = parse("name = n\nsink = jsonl\n"
                              "schema.registry.url = http://r\n"
                              "topics.regex = dbserver1\\.inventory\\..*\n");
    CHECK(cfg != NULL);
    if (!cfg) return;
    CHECK_STR(cdc_config_get(cfg, "topics.regex"),
              "^dbserver1\\.inventory\\..*");
    CHECK(cdc_config_get(cfg, "topics") == NULL);
    cdc_config_destroy(cfg);
}

/* ---- typed settings (cdc_config_settings) ------------------------------ */

/* Every core key set, each to a value no other key of its type has, so a
 * row reading another key's field shows. */
#define EVERY_CORE_KEY                                                       \
    "name = typed\n"                                                         \
    "sink = jsonl\n"                                                         \
    "topics = a.b , c.d\n"                                                   \
    "group.id = typed-group\n"                                               \
    "schema.registry.url = https://user:pw@registry:8081\n"                  \
    "schema.registry.basic.auth.user.info = user:secret\n"                   \
    "schema.registry.ssl.ca.location = /etc/ssl/ca.pem\n"                    \
    "schema.registry.timeout.ms = 1234\n"                                    \
    "batch.size = 777\n"                                                     \
    "batch.max.wait.ms = 55\n"                                               \
    "batch.max.bytes = 1048576\n"                                            \
    "position.field = __lsn\n"                                               \
    "pk.fields = id , tenant_id\n"                                           \
    "delete.mode = soft\n"                                                   \
    "delete.retention.ms = 86400001\n"                                       \
    "delete.on.tombstone = true\n"                                           \
    "errors.deadletterqueue.topic.name = typed.dlq\n"                        \
    "errors.retry.timeout.ms = 600000\n"                                     \
    "errors.retry.backoff.initial.ms = 250\n"                                \
    "errors.retry.backoff.max.ms = 9000\n"                                   \
    "commit.interval.ms = 4321\n"                                            \
    "apply.overlap = false\n"                                                \
    "shutdown.timeout.ms = 2500\n"                                           \
    "http.listen = 0.0.0.0:9500\n"                                           \
    "log.level = debug\n"                                                    \
    "log.format = json\n"                                                    \
    "source.connection.url = postgresql://reader:s3cret@source/app\n"       \
    "source.slot.name = debezium_app\n"                                      \
    "verify.rate.limit.rows = 5000\n"                                        \
    "verify.interval.ms = 600000\n"                                          \
    "verify.sample.rows = 250\n"

/* Size and alignment of the C type a row's field has (cdc_settings_t). */
static size_t field_size(cdc_configkey_type_t type, size_t *align)
{
    switch (type) {
    case CDC_KEY_INT:
    case CDC_KEY_DURATION:
        *align = alignof(int64_t);
        return sizeof(int64_t);
    case CDC_KEY_BOOL:
        *align = alignof(bool);
        return sizeof(bool);
    default:
        *align = alignof(const char *);
        return sizeof(const char *);
    }
}

/* Each core row has a field of its own, in table order, of its type's
 * C type, and cdc_settings_t has no field besides: laying the rows' types
 * out in order as C does gives every row's offset and the struct's size. */
static void test_settings_layout_is_the_table(void)
{
    const cdc_configkeys_t *core = cdc_configkey_core();
    size_t end = 0, max_align = 1;
    for (size_t i = 0; i < core->count; i++) {
        const cdc_configkey_t *k = &core->keys[i];
        size_t align, size = field_size(k->type, &align);
        size_t at = (end + align - 1) / align * align;
        if (k->field != at)
            fprintf(stderr, "  core key '%s': field at offset %zu, want %zu "
                            "(no field of its own, or out of table order)\n",
                    k->name, k->field, at);
        CHECK_INT(k->field, at);
        end = at + size;
        if (align > max_align) max_align = align;
    }
    CHECK_INT(sizeof(cdc_settings_t), (end + max_align - 1) / max_align * max_align);
}

/* What a cdc_settings_t field is in C, and what it should be for a key. */
enum c_type { C_INT64, C_BOOL, C_STRING };
#define C_TYPE_OF(f)                                                         \
    _Generic(((cdc_settings_t *)0)->f, int64_t: C_INT64, bool: C_BOOL,       \
             const char *: C_STRING)
#define NAMED(key, f) {key, offsetof(cdc_settings_t, f), C_TYPE_OF(f)}

static enum c_type c_type_for(cdc_configkey_type_t type)
{
    if (type == CDC_KEY_INT || type == CDC_KEY_DURATION) return C_INT64;
    return type == CDC_KEY_BOOL ? C_BOOL : C_STRING;
}

/* Each core key by name: its row points at the field of that name, whose
 * C type is the row's. A new core key needs a line here. */
static void test_settings_fields_by_name(void)
{
    static const struct {
        const char *key;
        size_t field;
        enum c_type type;
    } named[] = {
        NAMED("name", name),
        NAMED("sink", sink),
        NAMED("topics", topics),
        NAMED("topics.regex", topics_regex),
        NAMED("group.id", group_id),
        NAMED("schema.registry.url", schema_registry_url),
        NAMED("schema.registry.basic.auth.user.info",
              schema_registry_basic_auth_user_info),
        NAMED("schema.registry.ssl.ca.location",
              schema_registry_ssl_ca_location),
        NAMED("schema.registry.timeout.ms", schema_registry_timeout_ms),
        NAMED("batch.size", batch_size),
        NAMED("batch.max.wait.ms", batch_max_wait_ms),
        NAMED("batch.max.bytes", batch_max_bytes),
        NAMED("position.field", position_field),
        NAMED("pk.fields", pk_fields),
        NAMED("delete.mode", delete_mode),
        NAMED("delete.retention.ms", delete_retention_ms),
        NAMED("delete.on.tombstone", delete_on_tombstone),
        NAMED("errors.deadletterqueue.topic.name",
              errors_deadletterqueue_topic_name),
        NAMED("errors.retry.timeout.ms", errors_retry_timeout_ms),
        NAMED("errors.retry.backoff.initial.ms",
              errors_retry_backoff_initial_ms),
        NAMED("errors.retry.backoff.max.ms", errors_retry_backoff_max_ms),
        NAMED("commit.interval.ms", commit_interval_ms),
        NAMED("apply.overlap", apply_overlap),
        NAMED("shutdown.timeout.ms", shutdown_timeout_ms),
        NAMED("http.listen", http_listen),
        NAMED("log.level", log_level),
        NAMED("log.format", log_format),
        NAMED("source.connection.url", source_connection_url),
        NAMED("source.slot.name", source_slot_name),
        NAMED("verify.rate.limit.rows", verify_rate_limit_rows),
        NAMED("verify.interval.ms", verify_interval_ms),
        NAMED("verify.sample.rows", verify_sample_rows),
    };
    const cdc_configkeys_t *core = cdc_configkey_core();
    CHECK_INT(sizeof named / sizeof named[0], core->count);
    for (size_t i = 0; i < sizeof named / sizeof named[0]; i++) {
        const cdc_configkey_t *k = cdc_configkey_find(core, named[i].key);
        CHECK(k != NULL);
        if (!k) continue;
        bool same = k->field == named[i].field &&
                    c_type_for(k->type) == named[i].type;
        CHECK(same);
        if (!same)
            fprintf(stderr, "  core key '%s': row points at offset %zu, its "
                            "field is at %zu (C type %d, want %d)\n",
                    k->name, k->field, named[i].field, (int)named[i].type,
                    (int)c_type_for(k->type));
    }
}

/* The typed field of core row k, as text the way cdc_config_get has it. */
static const char *typed_text(const cdc_settings_t *set,
                              const cdc_configkey_t *k, char *buf, size_t size)
{
    const char *field = (const char *)set + k->field;
    switch (k->type) {
    case CDC_KEY_INT:
    case CDC_KEY_DURATION:
        snprintf(buf, size, "%" PRId64, *(const int64_t *)field);
        return buf;
    case CDC_KEY_BOOL:
        return *(const bool *)field ? "true" : "false";
    default:
        return *(const char *const *)field;
    }
}

/* For every core key, the typed field says what cdc_config_get says. */
static void check_settings_match_strings(const cdc_config_t *cfg,
                                         const char *what)
{
    const cdc_configkeys_t *core = cdc_configkey_core();
    const cdc_settings_t *set = cdc_config_settings(cfg);
    for (size_t i = 0; i < core->count; i++) {
        const cdc_configkey_t *k = &core->keys[i];
        char buf[32];
        const char *typed = typed_text(set, k, buf, sizeof buf);
        const char *text = cdc_config_get(cfg, k->name);
        bool same = typed && text ? strcmp(typed, text) == 0 : typed == text;
        CHECK(same);
        if (!same)
            fprintf(stderr, "  %s: core key '%s': typed \"%s\", string \"%s\"\n",
                    what, k->name, typed ? typed : "(null)",
                    text ? text : "(null)");
    }
}

static void test_settings_match_strings(void)
{
    const cdc_configkeys_t *core = cdc_configkey_core();
    cdc_config_t *every = parse(EVERY_CORE_KEY);
    cdc_config_t *regex = parse("name = n\nsink = jsonl\n"
                                "schema.registry.url = http://r\n"
                                "topics.regex = dbserver1\\.inventory\\..*\n");
    cdc_config_t *defaults = parse(BASE);
    CHECK(every && regex && defaults);
    if (!every || !regex || !defaults) {
        fprintf(stderr, "  %s\n", errstr);
        goto done;
    }
    /* the examples set every core key between them */
    for (size_t i = 0; i < core->count; i++) {
        const char *name = core->keys[i].name;
        bool set = cdc_config_is_set(every, name) || cdc_config_is_set(regex, name);
        CHECK(set);
        if (!set) fprintf(stderr, "  core key '%s' is set in no example\n", name);
    }
    check_settings_match_strings(every, "every key set");
    check_settings_match_strings(regex, "topics.regex");
    check_settings_match_strings(defaults, "defaults");

    /* a few by name, as the core reads them */
    const cdc_settings_t *s = cdc_config_settings(every);
    CHECK_STR(s->topics, "a.b,c.d");
    CHECK(s->topics_regex == NULL);
    CHECK_INT(s->batch_size, 777);
    CHECK_INT(s->errors_retry_backoff_initial_ms, 250);
    CHECK(s->delete_on_tombstone && !s->apply_overlap);
    CHECK_STR(s->pk_fields, "id,tenant_id");
    s = cdc_config_settings(regex);
    CHECK(s->topics == NULL);
    CHECK_STR(s->topics_regex, "^dbserver1\\.inventory\\..*");
    s = cdc_config_settings(defaults);
    CHECK_STR(s->group_id, "cdcsink.orders");
    CHECK_STR(s->errors_deadletterqueue_topic_name, "cdcsink.dlq.orders");
    CHECK_INT(s->errors_retry_timeout_ms, -1);
    CHECK(s->apply_overlap && !s->delete_on_tombstone);
    CHECK(s->pk_fields == NULL && s->schema_registry_ssl_ca_location == NULL);
    CHECK_STR(s->delete_mode, "hard");
done:
    cdc_config_destroy(every);
    cdc_config_destroy(regex);
    cdc_config_destroy(defaults);
}

static void test_line_errors(void)
{
    EXPECT_ERROR(BASE "batch.sise = 10\n",
                 "etc/orders.properties:5: unknown key 'batch.sise' "
                 "(did you mean 'batch.size'?)");
    EXPECT_ERROR(BASE "\n# c\nbootstrap.servers = b:9092\n",
                 "etc/orders.properties:7: unknown key 'bootstrap.servers' "
                 "(did you mean 'kafka.bootstrap.servers'?)");
    EXPECT_ERROR(BASE "kafak.acks = all\n",
                 "etc/orders.properties:5: unknown key 'kafak.acks' "
                 "(did you mean 'kafka.acks'?)");
    EXPECT_ERROR(BASE "xyzzy = 1\n",
                 "etc/orders.properties:5: unknown key 'xyzzy'");
    EXPECT_ERROR(BASE "batch.size = 0\n",
                 "etc/orders.properties:5: key 'batch.size': '0' is out of "
                 "range 1..100000");
    EXPECT_ERROR(BASE "batch.size = 12k\n",
                 "etc/orders.properties:5: key 'batch.size': '12k' is not an "
                 "integer");
    EXPECT_ERROR(BASE "errors.retry.timeout.ms = -2\n",
                 "etc/orders.properties:5: key 'errors.retry.timeout.ms': "
                 "'-2' is out of range -1..315360000000");
    EXPECT_ERROR(BASE "delete.on.tombstone = maybe\n",
                 "etc/orders.properties:5: key 'delete.on.tombstone': "
                 "'maybe' is not a boolean (true or false)");
    EXPECT_ERROR("name = orders\nsink = postgres\n"
                 "connection.url = postgresql://db/x\nauto.create = yes\n",
                 "etc/orders.properties:4: key 'auto.create': 'yes' is not "
                 "a boolean (true or false)");
    EXPECT_ERROR(BASE "delete.mode = x\n",
                 "etc/orders.properties:5: key 'delete.mode': 'x' is not one "
                 "of hard, soft, none");
    EXPECT_ERROR(BASE "log.level = verbose\n",
                 "etc/orders.properties:5: key 'log.level': 'verbose' is not "
                 "one of error, warn, info, debug");
    EXPECT_ERROR("name = orders\nsink = jsonl\nbatch.size = 5\n"
                 "name = other\n",
                 "etc/orders.properties:4: key 'name' repeated (first set on "
                 "line 1)");
    EXPECT_ERROR(BASE "kafka.acks = all\nkafka.acks = 1\n",
                 "etc/orders.properties:6: key 'kafka.acks' repeated (first "
                 "set on line 5)");
    EXPECT_ERROR(BASE "batch.size =\n",
                 "etc/orders.properties:5: key 'batch.size': empty value "
                 "(leave the key out to use the default)");
    EXPECT_ERROR(BASE "batch.size: 5\n",
                 "etc/orders.properties:5: expected 'key = value'");
    EXPECT_ERROR("name = my pipeline\n",
                 "etc/orders.properties:1: key 'name': 'my pipeline' may "
                 "contain only letters, digits, '.', '_' and '-' (at most "
                 "200)");
    EXPECT_ERROR(BASE "http.listen = 9400\n",
                 "etc/orders.properties:5: key 'http.listen': '9400' is not "
                 "HOST:PORT or off");
    EXPECT_ERROR("topics = a, ,b\n",
                 "etc/orders.properties:1: key 'topics': 'a, ,b' has an "
                 "empty list item");
    EXPECT_ERROR("topics = orders/eu\n",
                 "etc/orders.properties:1: key 'topics': 'orders/eu' is not a "
                 "valid topic name (letters, digits, '.', '_', '-'; at most "
                 "249)");
}

static void test_kafka_rejected_keys(void)
{
    EXPECT_ERROR(BASE "kafka.group.id = g\n",
                 "etc/orders.properties:5: key 'kafka.group.id' is not "
                 "allowed: use 'group.id'");
    EXPECT_ERROR(BASE "kafka.enable.auto.commit = true\n",
                 "etc/orders.properties:5: key 'kafka.enable.auto.commit' is "
                 "not allowed: cdcsink stores and commits offsets itself, "
                 "only after a record is applied or sent to the DLQ");
    EXPECT_ERROR(BASE "kafka.enable.auto.offset.store = true\n",
                 "etc/orders.properties:5: key "
                 "'kafka.enable.auto.offset.store' is not allowed: cdcsink "
                 "stores and commits offsets itself, only after a record is "
                 "applied or sent to the DLQ");
}

static void test_whole_file_errors(void)
{
    EXPECT_ERROR("sink = jsonl\ntopics = a\n",
                 "etc/orders.properties: missing required key 'name'");
    EXPECT_ERROR("name = n\ntopics = a\n",
                 "etc/orders.properties: missing required key 'sink'");
    EXPECT_ERROR("name = n\nsink = jsonl\ntopics = a\n",
                 "etc/orders.properties: missing required key "
                 "'schema.registry.url'");
    EXPECT_ERROR("name = n\nsink = postgres\ntopics = a\n"
                 "schema.registry.url = http://r\n",
                 "etc/orders.properties: missing required key "
                 "'connection.url' for sink 'postgres'");
    EXPECT_ERROR("name = n\nsink = jsonl\nschema.registry.url = http://r\n",
                 "etc/orders.properties: missing required key 'topics' or "
                 "'topics.regex'");
    EXPECT_ERROR(BASE "topics.regex = ^x.*\n",
                 "etc/orders.properties: 'topics' (line 3) and "
                 "'topics.regex' (line 5) are both set; set exactly one");
    EXPECT_ERROR(BASE "verify.interval.ms = 60000\n",
                 "etc/orders.properties:5: 'verify.interval.ms' needs "
                 "'source.connection.url': continuous verify reads the source "
                 "database");
    EXPECT_ERROR(BASE "errors.retry.backoff.initial.ms = 60000\n",
                 "etc/orders.properties:5: key "
                 "'errors.retry.backoff.initial.ms' (60000) is greater than "
                 "'errors.retry.backoff.max.ms' (30000)");
}

/* A sink's keys: only with that sink, before or after the `sink` line. */
static void test_sink_keys(void)
{
    cdc_config_t *cfg = parse("name = orders\n"
                              "connection.url = postgresql://db/x\n"
                              "table.schema = replica\n"
                              "sink = postgres\n"
                              "topics = a\n"
                              "schema.registry.url = http://r\n");
    CHECK(cfg != NULL);
    if (!cfg) fprintf(stderr, "  %s\n", errstr);
    if (cfg) {
        CHECK_STR(cdc_config_get(cfg, "connection.url"), "postgresql://db/x");
        CHECK_STR(cdc_config_get(cfg, "table.schema"), "replica");
        CHECK_INT(cdc_config_line(cfg, "table.schema"), 3);
        CHECK_INT(cdc_config_get_int(cfg, "connection.pool.size"), 2);
        CHECK_INT(cdc_config_get_bool(cfg, "auto.migrate"), 1);
    }
    cdc_config_destroy(cfg);

    /* pk.fields is a core key: the planner reads it for every sink */
    cfg = parse(BASE "pk.fields = id, tenant_id\n");
    CHECK(cfg != NULL);
    if (cfg) {
        CHECK_STR(cdc_config_get(cfg, "pk.fields"), "id,tenant_id");
        /* another sink's keys read as unset */
        CHECK(cdc_config_get(cfg, "table.schema") == NULL);
        CHECK_INT(cdc_config_get_int(cfg, "connection.pool.size"), 0);
        CHECK_INT(cdc_config_get_bool(cfg, "auto.migrate"), 0);
        CHECK_INT(cdc_config_line(cfg, "table.schema"), 0);
    }
    cdc_config_destroy(cfg);

    EXPECT_ERROR(BASE "table.schema = s\n",
                 "etc/orders.properties:5: key 'table.schema' does not apply "
                 "to sink 'jsonl' (only postgres)");
    EXPECT_ERROR("name = n\njsonl.path = out.jsonl\nsink = postgres\n"
                 "connection.url = postgresql://db/x\n",
                 "etc/orders.properties:2: key 'jsonl.path' does not apply "
                 "to sink 'postgres' (only jsonl)");
    /* only the sinks that are built */
    EXPECT_ERROR("name = n\nsink = mongodb\ntopics = a\n"
                 "schema.registry.url = http://r\n",
                 "etc/orders.properties:2: key 'sink': 'mongodb' is not one of "
                 "jsonl, postgres, redis, elasticsearch");
    EXPECT_ERROR(BASE "index.name.format = ${topic}\n",
                 "etc/orders.properties:5: key 'index.name.format' does not apply "
                 "to sink 'jsonl' (only elasticsearch)");
    EXPECT_ERROR(BASE "mongodb.collection = c\n",
                 "etc/orders.properties:5: unknown key 'mongodb.collection'");
    EXPECT_ERROR(BASE "sink = postgres\n",
                 "etc/orders.properties:5: key 'sink' repeated (first set on "
                 "line 2)");
    EXPECT_ERROR("name = n\nconnection.url = postgresql://db/x\ntopics = a\n"
                 "schema.registry.url = http://r\n",
                 "etc/orders.properties: missing required key 'sink'");
}

/* Every key has one meaning: no sink redefines a core key or takes a name
 * of the kafka.* passthrough, and no sink lists a key twice. */
static void test_catalog_keys_are_distinct(void)
{
    const cdc_config_catalog_t *catalog = cdc_sink_catalog();
    const cdc_configkeys_t *core = cdc_configkey_core();
    CHECK_INT(catalog->count, 4);
    for (size_t i = 0; i < catalog->count; i++) {
        const cdc_configkeys_t *set = catalog->sinks[i];
        CHECK(cdc_sink_find(set->sink) != NULL);
        for (size_t j = 0; j < set->count; j++) {
            const char *name = set->keys[j].name;
            int distinct = !cdc_configkey_find(core, name) &&
                           strncmp(name, "kafka.", 6) != 0 &&
                           cdc_configkey_find(set, name) == &set->keys[j];
            CHECK(distinct);
            if (!distinct)
                fprintf(stderr, "  sink %s: key '%s' is not distinct\n",
                        set->sink, name);
        }
    }
}

static void test_env_substitution(void)
{
    setenv("T0002_SR_HOST", "registry.internal", 1);
    setenv("T0002_EMPTY", "", 1);
    unsetenv("T0002_UNSET");
    cdc_config_t *cfg = parse("name = orders\nsink = jsonl\ntopics = a\n"
                              "schema.registry.url = "
                              "https://${env:T0002_SR_HOST}:8081\n"
                              "kafka.client.id = x${env:T0002_EMPTY}y\n"
                              "jsonl.path = /out/${topic}.jsonl\n");
    CHECK(cfg != NULL);
    if (!cfg) return;
    CHECK_STR(cdc_config_get(cfg, "schema.registry.url"),
              "https://registry.internal:8081");
    CHECK_STR(cdc_config_get(cfg, "kafka.client.id"), "xy");
    CHECK_STR(cdc_config_get(cfg, "jsonl.path"), "/out/${topic}.jsonl");
    cdc_config_destroy(cfg);
    EXPECT_ERROR(BASE "kafka.sasl.password = ${env:T0002_UNSET}\n",
                 "etc/orders.properties:5: key 'kafka.sasl.password': "
                 "environment variable 'T0002_UNSET' is not set");
    EXPECT_ERROR(BASE "kafka.sasl.password = ${env:T0002_UNSET\n",
                 "etc/orders.properties:5: key 'kafka.sasl.password': "
                 "unterminated '${'");
}

static void test_file_substitution(void)
{
    char dir[] = "/tmp/t0002-config-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char text[512], secret[256], crlf[256], pipeline[256], want[1024];
    snprintf(secret, sizeof secret, "%s/registry-password", dir);
    snprintf(crlf, sizeof crlf, "%s/crlf", dir);
    snprintf(pipeline, sizeof pipeline, "%s/orders.properties", dir);
    write_file(secret, "file-s3cret\n");
    write_file(crlf, "two\nlines\r\n");
    /* relative to the pipeline file's directory, not the cwd */
    write_file(pipeline,
               BASE "schema.registry.basic.auth.user.info = "
                    "svc:${file:registry-password}\n"
                    "kafka.ssl.key.password = ${file:crlf}\n");
    cdc_config_t *cfg = cdc_config_load(pipeline, cdc_sink_catalog(), errstr,
                                        sizeof errstr);
    CHECK(cfg != NULL);
    if (cfg) {
        CHECK_STR(cdc_config_get(cfg, "schema.registry.basic.auth.user.info"),
                  "svc:file-s3cret");
        CHECK_STR(cdc_config_get(cfg, "kafka.ssl.key.password"), "two\nlines");
        cdc_config_destroy(cfg);
    } else {
        fprintf(stderr, "  %s\n", errstr);
    }
    /* an absolute path works from anywhere */
    snprintf(text, sizeof text, BASE "kafka.sasl.password = ${file:%s}\n",
             secret);
    cfg = parse(text);
    CHECK(cfg != NULL);
    if (cfg)
        CHECK_STR(cdc_config_get(cfg, "kafka.sasl.password"), "file-s3cret");
    cdc_config_destroy(cfg);

    write_file(pipeline, BASE "kafka.sasl.password = ${file:missing}\n");
    snprintf(want, sizeof want,
             "%s:5: key 'kafka.sasl.password': cannot read file "
             "'%s/missing': No such file or directory",
             pipeline, dir);
    CHECK(cdc_config_load(pipeline, cdc_sink_catalog(), errstr,
                          sizeof errstr) == NULL);
    CHECK_STR(errstr, want);
    CHECK(cdc_config_load("/nonexistent/x.properties", cdc_sink_catalog(),
                          errstr, sizeof errstr) == NULL);
    CHECK_STR(errstr, "/nonexistent/x.properties: No such file or directory");
    unlink(secret);
    unlink(crlf);
    unlink(pipeline);
    rmdir(dir);
}

static void test_print_masks_secrets(void)
{
    cdc_config_t *cfg = parse(
        "name = orders\nsink = postgres\ntopics = a\n"
        "schema.registry.url = https://sr-user:sr-Pa55@registry:8081\n"
        "schema.registry.basic.auth.user.info = svc:ui-Pa55\n"
        "connection.url = postgresql://app:pg-Pa55@db.example:5432/"
        "analytics?sslmode=require&password=q-Pa55\n"
        "kafka.bootstrap.servers = broker:9092\n"
        "kafka.sasl.password = k-Pa55\n"
        "kafka.sasl.jaas.config = jaas-Pa55\n"
        "kafka.ssl.key.pem = pem-Pa55\n"
        "kafka.sasl.oauthbearer.client.secret = oauth-Pa55\n");
    CHECK(cfg != NULL);
    if (!cfg) {
        fprintf(stderr, "  %s\n", errstr);
        return;
    }
    char *out = printed(cfg);
    CHECK(strstr(out, "Pa55") == NULL);
    CHECK(strstr(out, "name = orders\n") != NULL);
    CHECK(strstr(out, "batch.size = 500\n") != NULL);
    CHECK(strstr(out, "group.id = cdcsink.orders\n") != NULL);
    CHECK(strstr(out, "schema.registry.url = "
                      "https://sr-user:********@registry:8081\n") != NULL);
    CHECK(strstr(out, "schema.registry.basic.auth.user.info = ********\n"));
    CHECK(strstr(out, "connection.url = postgresql://app:********@db.example:"
                      "5432/analytics?sslmode=require&password=********\n"));
    CHECK(strstr(out, "# schema.registry.ssl.ca.location is not set\n"));
    /* only the pipeline's own sink's keys, none of another sink's */
    CHECK(strstr(out, "table.schema = public\n"));
    CHECK(strstr(out, "jsonl.path") == NULL);
    CHECK(strstr(out, "only)") == NULL);
    CHECK(strstr(out, "kafka.bootstrap.servers = broker:9092\n"));
    CHECK(strstr(out, "kafka.sasl.password = ********\n"));
    CHECK(strstr(out, "kafka.sasl.jaas.config = ********\n"));
    CHECK(strstr(out, "kafka.ssl.key.pem = ********\n"));
    CHECK(strstr(out, "kafka.sasl.oauthbearer.client.secret = ********\n"));
    free(out);
    cdc_config_destroy(cfg);

    /* a libpq keyword/value string has no URL shape: masked whole; a
     * password-less URL is shown as is */
    cfg = parse("name = n\nsink = postgres\ntopics = a\n"
                "schema.registry.url = http://registry:8081\n"
                "connection.url = host=db user=app password=kv-Pa55\n");
    out = cfg ? printed(cfg) : NULL;
    CHECK(out && strstr(out, "connection.url = ********\n"));
    CHECK(out && strstr(out, "schema.registry.url = http://registry:8081\n"));
    CHECK(out && !strstr(out, "Pa55"));
    free(out);
    cdc_config_destroy(cfg);

    /* a jsonl pipeline prints its sink's key, and no postgres key */
    cfg = parse(BASE);
    out = cfg ? printed(cfg) : NULL;
    CHECK(out && strstr(out, "\njsonl.path = -\n"));
    CHECK(out && !strstr(out, "\nconnection.url"));
    CHECK(out && !strstr(out, "table.schema"));
    free(out);
    cdc_config_destroy(cfg);
}

static void test_errors_never_show_secrets(void)
{
    EXPECT_ERROR(BASE "schema.registry.basic.auth.user.info = no-colon-Pa55\n",
                 "etc/orders.properties:5: key "
                 "'schema.registry.basic.auth.user.info': value is not "
                 "USER:PASSWORD (not shown: secret)");
    EXPECT_ERROR("schema.registry.url = ftp://u:url-Pa55@registry\n",
                 "etc/orders.properties:1: key 'schema.registry.url': "
                 "'ftp://u:********@registry' is not an http:// or https:// "
                 "URL");
    /* a line whose '=' is in its value: what precedes it is no key */
    EXPECT_ERROR(BASE "connection.api.key: a2V5OmtleS1QYTU1==\n",
                 "etc/orders.properties:5: expected 'key = value' (the text "
                 "before '=' is no key name; not shown, it may hold a "
                 "secret)");
    EXPECT_ERROR(BASE "kafka.sasl.password kafka-Pa55=\n",
                 "etc/orders.properties:5: expected 'key = value' (the text "
                 "before '=' is no key name; not shown, it may hold a "
                 "secret)");
    EXPECT_ERROR(BASE "schema.registry.basic.auth.user.info = a:b\n"
                      "schema.registry.basic.auth.user.info = a:c\n",
                 "etc/orders.properties:6: key "
                 "'schema.registry.basic.auth.user.info' repeated (first set "
                 "on line 5)");
}

/* A library's message that quotes part of the URL it was given gets the
 * URL's passwords masked, as written and percent-decoded. */
static void test_mask_in_text(void)
{
    const char *url = "postgresql://app:pg%zz-Pa55@db/x?sslmode=require&"
                      "password=q%40-Pa55";
    char msg[128] = "invalid percent-encoded token: \"pg%zz-Pa55\"";
    cdc_mask_in_text(msg, sizeof msg, url);
    CHECK_STR(msg, "invalid percent-encoded token: \"********\"");
    snprintf(msg, sizeof msg, "query q%%40-Pa55, decoded q@-Pa55");
    cdc_mask_in_text(msg, sizeof msg, url);
    CHECK_STR(msg, "query ********, decoded ********");
    snprintf(msg, sizeof msg, "https://u:es%%2C-Pa55@h1 and es,-Pa55");
    cdc_mask_in_text(msg, sizeof msg, "https://u:es%2C-Pa55@h1,https://h2");
    CHECK_STR(msg, "https://u:********@h1 and ********");
    /* no URL, no password: unchanged; a full buffer stays terminated */
    snprintf(msg, sizeof msg, "password=kv-Pa55");
    cdc_mask_in_text(msg, sizeof msg, "host=db password=kv-Pa55");
    CHECK_STR(msg, "password=kv-Pa55");
    cdc_mask_in_text(msg, sizeof msg, "http://registry:8081/x");
    CHECK_STR(msg, "password=kv-Pa55");
    char small[8] = "ab-Pa55";
    cdc_mask_in_text(small, sizeof small, "redis://u:ab-Pa55@h");
    CHECK_STR(small, "*******");
}

/* What docs/configuration.md should hold; `*text` is the caller's. */
static void generated_docs(char **text)
{
    size_t size = 0;
    *text = NULL;
    FILE *mem = open_memstream(text, &size);
    int rc = cdc_configdoc_write(mem, TEMPLATE_PATH, cdc_sink_catalog(),
                                 errstr, sizeof errstr);
    fclose(mem);
    CHECK_INT(rc, 0);
    if (rc != 0) fprintf(stderr, "  %s\n", errstr);
}

/* Where `needle` starts in `s`, -1 when absent. */
static long offset_of(const char *s, const char *needle)
{
    const char *at = strstr(s, needle);
    return at ? (long)(at - s) : -1;
}

static void test_docs_match_table(void)
{
    char *want, *got = read_all(DOCS_PATH);
    generated_docs(&want);
    int same = got && strcmp(got, want) == 0;
    CHECK(same);
    if (!same)
        fprintf(stderr, "  %s differs from what %s and the key tables "
                        "generate; regenerate it from the repository root "
                        "with\n    ./build/t0002-config --write-docs\n",
                DOCS_PATH, TEMPLATE_PATH);
    CHECK(strncmp(want, "<!-- Generated from src/configkey.c", 35) == 0);
    CHECK(strstr(want, "| `connection.url` *required* *password masked* |"));
    CHECK(strstr(want, "| `schema.registry.basic.auth.user.info` *secret* |"));
    CHECK(strstr(want, "| `group.id` | string | `cdcsink.<name>` |"));
    /* only built sinks; the core table has no sinks column */
    CHECK(strstr(want, "| `sink` *required* | enum | — | `jsonl`, `postgres`, `redis`, `elasticsearch` |"));
    CHECK(strstr(want, "| key | type | default | range / values | description |"));
    CHECK(strstr(want, "| sinks |") == NULL);
    CHECK(strstr(want, "## Keys of the redis sink"));
    CHECK(strstr(want, "| `key.format` | string | `${source.table}:${key}` |"));
    CHECK(strstr(want, "## Keys of the elasticsearch sink"));
    CHECK(strstr(want, "| `index.name.format` | string | `${source.table}` |"));
    CHECK(strstr(want, "mongodb") == NULL);
    CHECK(strstr(want, "@CORE_KEYS@") == NULL);
    CHECK(strstr(want, "@SINK_KEYS@") == NULL);
    /* one section per sink, in sink-list order, each with its own keys */
    long jsonl = offset_of(want, "\n## Keys of the jsonl sink\n");
    long pg = offset_of(want, "\n## Keys of the postgres sink\n");
    long path = offset_of(want, "| `jsonl.path` |");
    long url = offset_of(want, "| `connection.url` ");
    CHECK(jsonl >= 0 && jsonl < pg);
    CHECK(path > jsonl && path < pg);
    CHECK(url > pg);
    free(want);
    free(got);
}

/* The template with a marker missing or unknown is refused. */
static void test_docs_template_markers(void)
{
    char dir[] = "/tmp/t0002-template-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char path[256];
    snprintf(path, sizeof path, "%s/t.md", dir);
    FILE *devnull = fopen("/dev/null", "w");
    write_file(path, "# C\n@CORE_KEYS@\n");
    CHECK_INT(cdc_configdoc_write(devnull, path, cdc_sink_catalog(), errstr,
                                  sizeof errstr), -1);
    CHECK(strstr(errstr, "needs the lines @CORE_KEYS@ and @SINK_KEYS@") != NULL);
    write_file(path, "@CORE_KEYS@\n@SINK_KEYS@\n@SINKS@\n");
    CHECK_INT(cdc_configdoc_write(devnull, path, cdc_sink_catalog(), errstr,
                                  sizeof errstr), -1);
    CHECK(strstr(errstr, "t.md:3: unknown marker '@SINKS@'") != NULL);
    fclose(devnull);
    unlink(path);
    rmdir(dir);
}

/* Whether `example` names `key`, set or commented out. */
static int example_lists(const char *example, const char *key)
{
    char line[160], commented[160];
    snprintf(line, sizeof line, "\n%s = ", key);
    snprintf(commented, sizeof commented, "\n#%s = ", key);
    return strstr(example, line) || strstr(example, commented);
}

static void check_example_lists(const char *path, const cdc_configkeys_t *set)
{
    char *example = read_all(path);
    CHECK(example != NULL);
    for (size_t i = 0; example && i < set->count; i++) {
        int listed = example_lists(example, set->keys[i].name);
        CHECK(listed);
        if (!listed) fprintf(stderr, "  %s lacks '%s'\n", path,
                             set->keys[i].name);
    }
    free(example);
}

/* The jsonl example loads and names every core key and its sink's; every
 * sink's example loads and names every key of its sink. */
static void test_examples_list_every_key(void)
{
    cdc_config_t *cfg = cdc_config_load(EXAMPLE_PATH, cdc_sink_catalog(),
                                        errstr, sizeof errstr);
    CHECK(cfg != NULL);
    if (!cfg) fprintf(stderr, "  %s\n", errstr);
    cdc_config_destroy(cfg);
    check_example_lists(EXAMPLE_PATH, cdc_configkey_core());
    setenv("PGPASSWORD", "t0002", 0); /* sinks/postgres/example.properties */
    setenv("REDIS_PASSWORD", "t0002", 0); /* sinks/redis/example.properties */
    setenv("ES_PASSWORD", "t0002", 0); /* sinks/elasticsearch/example.properties */
    const cdc_config_catalog_t *catalog = cdc_sink_catalog();
    for (size_t i = 0; i < catalog->count; i++) {
        char path[256];
        snprintf(path, sizeof path, "sinks/%s/example.properties",
                 catalog->sinks[i]->sink);
        cfg = cdc_config_load(path, catalog, errstr, sizeof errstr);
        CHECK(cfg != NULL);
        if (!cfg) fprintf(stderr, "  %s\n", errstr);
        CHECK(cfg && strcmp(cdc_config_get(cfg, "sink"),
                            catalog->sinks[i]->sink) == 0);
        cdc_config_destroy(cfg);
        check_example_lists(path, catalog->sinks[i]);
    }
}

/* Generated whole before the file is opened: a bad template leaves the
 * file as it was. */
static int write_docs(void)
{
    char *buf = NULL;
    size_t size = 0;
    FILE *mem = open_memstream(&buf, &size);
    if (!mem) return 1;
    int rc = cdc_configdoc_write(mem, TEMPLATE_PATH, cdc_sink_catalog(),
                                 errstr, sizeof errstr);
    fclose(mem);
    if (rc != 0) {
        fprintf(stderr, "%s\n", errstr);
        free(buf);
        return 1;
    }
    FILE *f = fopen(DOCS_PATH, "w");
    if (!f || fputs(buf, f) == EOF || fclose(f) != 0) {
        perror(DOCS_PATH);
        free(buf);
        return 1;
    }
    free(buf);
    printf("wrote %s\n", DOCS_PATH);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "--write-docs") == 0) return write_docs();
    test_full_example_values_and_defaults();
    test_derived_defaults();
    test_topics_regex_gets_anchor();
    test_settings_layout_is_the_table();
    test_settings_fields_by_name();
    test_settings_match_strings();
    test_line_errors();
    test_kafka_rejected_keys();
    test_whole_file_errors();
    test_sink_keys();
    test_catalog_keys_are_distinct();
    test_env_substitution();
    test_file_substitution();
    test_print_masks_secrets();
    test_errors_never_show_secrets();
    test_mask_in_text();
    test_docs_match_table();
    test_docs_template_markers();
    test_examples_list_every_key();
    return unit_finish("t0002-config");
}
