/* t0002-config — pipeline files: values, defaults, every error message,
 * substitutions, kafka.* passthrough, secret masking, and that
 * docs/configuration.md is what the key table generates.
 *
 * Runs with the repository root as working directory (ctest sets it).
 * `t0002-config --write-docs` regenerates docs/configuration.md. */
#include "config.h"

#include "unit.h"

#include <stdlib.h>
#include <unistd.h>

#define DOCS_PATH "docs/configuration.md"
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
    return cdc_config_parse(text, "etc/orders.properties", errstr,
                            sizeof errstr);
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
    CHECK_INT(cdc_config_get_int(cfg, "batch.max.wait.ms"), 100);
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
    CHECK_STR(cdc_config_get(cfg, "jsonl.path"), "-");
    CHECK_STR(cdc_config_get(cfg, "key.format"), "${topic}:${key}");
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
    EXPECT_ERROR(BASE "auto.create = yes\n",
                 "etc/orders.properties:5: key 'auto.create': 'yes' is not "
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
    EXPECT_ERROR("name = n\nsink = redis\ntopics = a\n"
                 "schema.registry.url = http://r\n",
                 "etc/orders.properties: missing required key "
                 "'connection.url' for sink 'redis'");
    EXPECT_ERROR("name = n\nsink = jsonl\nschema.registry.url = http://r\n",
                 "etc/orders.properties: missing required key 'topics' or "
                 "'topics.regex'");
    EXPECT_ERROR(BASE "topics.regex = ^x.*\n",
                 "etc/orders.properties: 'topics' (line 3) and "
                 "'topics.regex' (line 5) are both set; set exactly one");
    EXPECT_ERROR(BASE "pk.fields = id\n",
                 "etc/orders.properties:5: key 'pk.fields' does not apply to "
                 "sink 'jsonl' (only postgres)");
    EXPECT_ERROR(BASE "errors.retry.backoff.initial.ms = 60000\n",
                 "etc/orders.properties:5: key "
                 "'errors.retry.backoff.initial.ms' (60000) is greater than "
                 "'errors.retry.backoff.max.ms' (30000)");
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
    cdc_config_t *cfg = cdc_config_load(pipeline, errstr, sizeof errstr);
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
    CHECK(cdc_config_load(pipeline, errstr, sizeof errstr) == NULL);
    CHECK_STR(errstr, want);
    CHECK(cdc_config_load("/nonexistent/x.properties", errstr,
                          sizeof errstr) == NULL);
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
    CHECK(strstr(out, "# jsonl.path = - (jsonl only)\n"));
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
    EXPECT_ERROR(BASE "schema.registry.basic.auth.user.info = a:b\n"
                      "schema.registry.basic.auth.user.info = a:c\n",
                 "etc/orders.properties:6: key "
                 "'schema.registry.basic.auth.user.info' repeated (first set "
                 "on line 5)");
}

static char *generated_docs(void)
{
    char *buf = NULL;
    size_t size = 0;
    FILE *mem = open_memstream(&buf, &size);
    cdc_config_write_docs(mem);
    fclose(mem);
    return buf;
}

static void test_docs_match_table(void)
{
    char *want = generated_docs(), *got = read_all(DOCS_PATH);
    int same = got && strcmp(got, want) == 0;
    CHECK(same);
    if (!same)
        fprintf(stderr, "  %s differs from the key table in src/config.c; "
                        "regenerate it from the repository root with\n"
                        "    ./build/t0002-config --write-docs\n",
                DOCS_PATH);
    CHECK(strstr(want, "| `connection.url` *required* *password masked* |"));
    CHECK(strstr(want, "| `schema.registry.basic.auth.user.info` *secret* |"));
    CHECK(strstr(want, "| `group.id` | string | `cdcsink.<name>` |"));
    free(want);
    free(got);
}

/* The example must load, and name every key of the docs table. */
static void test_example_lists_every_key(void)
{
    cdc_config_t *cfg = cdc_config_load(EXAMPLE_PATH, errstr, sizeof errstr);
    CHECK(cfg != NULL);
    if (!cfg) fprintf(stderr, "  %s\n", errstr);
    cdc_config_destroy(cfg);
    char *docs = generated_docs(), *example = read_all(EXAMPLE_PATH);
    CHECK(example != NULL);
    for (char *row = docs; example && (row = strstr(row, "\n| `")); row++) {
        char key[128], line[160], commented[160];
        if (sscanf(row, "\n| `%127[^`]`", key) != 1) continue;
        snprintf(line, sizeof line, "\n%s = ", key);
        snprintf(commented, sizeof commented, "\n#%s = ", key);
        int listed = strstr(example, line) || strstr(example, commented);
        CHECK(listed);
        if (!listed) fprintf(stderr, "  %s lacks '%s'\n", EXAMPLE_PATH, key);
    }
    free(docs);
    free(example);
}

static int write_docs(void)
{
    FILE *f = fopen(DOCS_PATH, "w");
    if (!f) {
        perror(DOCS_PATH);
        return 1;
    }
    cdc_config_write_docs(f);
    if (fclose(f) != 0) {
        perror(DOCS_PATH);
        return 1;
    }
    printf("wrote %s\n", DOCS_PATH);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "--write-docs") == 0) return write_docs();
    test_full_example_values_and_defaults();
    test_derived_defaults();
    test_topics_regex_gets_anchor();
    test_line_errors();
    test_kafka_rejected_keys();
    test_whole_file_errors();
    test_env_substitution();
    test_file_substitution();
    test_print_masks_secrets();
    test_errors_never_show_secrets();
    test_docs_match_table();
    test_example_lists_every_key();
    return unit_finish("t0002-config");
}
