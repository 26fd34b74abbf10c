/* Elasticsearch sink pieces that need no engine: index names, field types
 * and their compatibility, versioned _bulk items, per-item answers
 * (including bad ones), documents with stored values filled in, and node
 * URLs (no credential in any message). */
#include "es_bulk.h"
#include "es_doc.h"
#include "es_http.h"
#include "es_index.h"
#include "es_json.h"
#include "es_mapping.h"
#include "es_stored.h"
#include "unit.h"

static void check_index_names(cdc_arena_t *arena)
{
    CHECK_STR(cdc_es_index_name("Sales.Orders", arena), "sales.orders");
    CHECK_STR(cdc_es_index_name("-_+My Table#1:x,y", arena), "my_table_1_x_y");
    CHECK_STR(cdc_es_index_name("a\\b/c*d?e\"f<g>h|i", arena), "a_b_c_d_e_f_g_h_i");
    CHECK_STR(cdc_es_index_name("", arena), "unnamed");
    CHECK_STR(cdc_es_index_name("..", arena), "unnamed");
    char long_name[400];
    memset(long_name, 'x', sizeof long_name - 1);
    long_name[sizeof long_name - 1] = '\0';
    CHECK_INT(strlen(cdc_es_index_name(long_name, arena)), 255);
    /* Characters mapped first, then the leading ones dropped. */
    CHECK_STR(cdc_es_index_name(" orders", arena), "orders");
    CHECK_STR(cdc_es_index_name("#x", arena), "x");
    /* The cut never splits a UTF-8 character. */
    memset(long_name, 'x', 254);
    strcpy(long_name + 254, "\xc3\xa9z");
    CHECK_INT(strlen(cdc_es_index_name(long_name, arena)), 254);
    CHECK_STR(cdc_es_index_name("Caf\xc3\xa9", arena), "caf\xc3\xa9");
}

static void check_mapping(void)
{
    cdc_column_t c = {.name = "n", .type = CDC_TYPE_DECIMAL};
    CHECK_STR(cdc_es_mapping_type(&c), "double");
    c.type = CDC_TYPE_ARRAY;
    c.element_type = CDC_TYPE_INT64;
    CHECK_STR(cdc_es_mapping_type(&c), "long");
    c.type = CDC_TYPE_JSON;
    cdc_buf_t b;
    cdc_buf_init(&b);
    cdc_es_mapping_field(&c, &b);
    CHECK_STR(b.data, "{\"type\":\"object\",\"enabled\":false}");
    static const cdc_column_t cols[] = {{.name = "id", .type = CDC_TYPE_INT32},
                                        {.name = "t", .type = CDC_TYPE_STRING},
                                        {.name = "at", .type = CDC_TYPE_TIMESTAMP_MICROS}};
    static const cdc_row_schema_t schema = {.name = "v", .ncolumns = 3, .columns = cols};
    cdc_buf_reset(&b);
    cdc_es_mapping_properties(&schema, true, &b);
    CHECK_STR(b.data, "{\"properties\":{\"id\":{\"type\":\"integer\"},\"t\":{\"type\":\"text\","
                      "\"fields\":{\"keyword\":{\"type\":\"keyword\",\"ignore_above\":256}}},"
                      "\"at\":{\"type\":\"date\",\"format\":\"strict_date_optional_time||epoch_millis\"},"
                      "\"__deleted\":{\"type\":\"boolean\"}}}");
    cdc_buf_free(&b);
    CHECK(cdc_es_mapping_compatible("long", "integer"));
    CHECK(!cdc_es_mapping_compatible("integer", "long"));
    CHECK(cdc_es_mapping_compatible("double", "long"));
    CHECK(!cdc_es_mapping_compatible("float", "double"));
    CHECK(cdc_es_mapping_compatible("keyword", "text"));
    CHECK(!cdc_es_mapping_compatible("integer", "text"));
    CHECK(!cdc_es_mapping_compatible("keyword", "date"));
    CHECK(cdc_es_mapping_compatible("date_nanos", "date"));
    CHECK(cdc_es_mapping_compatible("flattened", "object"));
    CHECK(!cdc_es_mapping_compatible("boolean", "keyword"));
}

static void check_bulk_items(void)
{
    cdc_buf_t b;
    cdc_buf_init(&b);
    cdc_es_bulk_item(&b, "orders", "7", 12345, false, "{\"id\":7}", 8);
    cdc_es_bulk_item(&b, "orders", "a\"b", 12346, false, NULL, 0);
    cdc_es_bulk_item(&b, "orders", "9", -1, false, NULL, 0);
    CHECK_STR(b.data,
              "{\"index\":{\"_index\":\"orders\",\"_id\":\"7\",\"version\":12345,"
              "\"version_type\":\"external\"}}\n{\"id\":7}\n"
              "{\"delete\":{\"_index\":\"orders\",\"_id\":\"a\\\"b\",\"version\":12346,"
              "\"version_type\":\"external\"}}\n"
              "{\"delete\":{\"_index\":\"orders\",\"_id\":\"9\"}}\n");
    cdc_buf_free(&b);
}

static void check_bulk_answers(void)
{
    cdc_es_item_answer_t a[6];
    static const char ok[] = "{\"errors\":false,\"items\":[{\"index\":{\"status\":201}}]}";
    CHECK_INT(cdc_es_bulk_read(ok, sizeof ok - 1, a, 1), 0);
    CHECK_INT(a[0].result, CDC_ES_ITEM_APPLIED);
    static const char mixed[] =
        "{\"errors\":true,\"items\":["
        "{\"index\":{\"status\":200}},"
        "{\"index\":{\"status\":409,\"error\":{\"type\":\"version_conflict_engine_exception\","
        "\"reason\":\"[1]: version conflict\"}}},"
        "{\"delete\":{\"status\":404}},"
        "{\"index\":{\"status\":400,\"error\":{\"type\":\"mapper_parsing_exception\","
        "\"reason\":\"failed to parse field [n]\"}}},"
        "{\"index\":{\"status\":429,\"error\":{\"type\":\"es_rejected_execution_exception\"}}},"
        "{\"index\":{\"status\":503}}]}";
    CHECK_INT(cdc_es_bulk_read(mixed, sizeof mixed - 1, a, 6), 0);
    CHECK_INT(a[0].result, CDC_ES_ITEM_APPLIED);
    CHECK_INT(a[1].result, CDC_ES_ITEM_STALE);
    CHECK_INT(a[2].result, CDC_ES_ITEM_APPLIED);
    CHECK_INT(a[3].result, CDC_ES_ITEM_REJECTED);
    CHECK_STR(a[3].error_type, "mapper_parsing_exception");
    CHECK_STR(a[3].reason, "failed to parse field [n]");
    CHECK_INT(a[4].result, CDC_ES_ITEM_RETRY);
    CHECK_INT(a[5].result, CDC_ES_ITEM_RETRY);
    /* An index answered 404 (no such index) is no delete: rejected. */
    static const char missing[] = "{\"errors\":true,\"items\":[{\"index\":{\"status\":404}}]}";
    CHECK_INT(cdc_es_bulk_read(missing, sizeof missing - 1, a, 1), 0);
    CHECK_INT(a[0].result, CDC_ES_ITEM_REJECTED);
    /* Bad answers are errors, never a crash or a made-up outcome. */
    CHECK_INT(cdc_es_bulk_read(mixed, sizeof mixed - 1, a, 5), -1);
    CHECK_INT(cdc_es_bulk_read(missing, sizeof missing - 1, a, 2), -1);
    static const char junk[] = "{\"errors\":true,\"items\":[1,2]}";
    CHECK_INT(cdc_es_bulk_read(junk, sizeof junk - 1, a, 2), -1);
    CHECK_INT(cdc_es_bulk_read("<html>", 6, a, 1), -1);
    CHECK_INT(cdc_es_bulk_read(mixed, 40, a, 6), -1);
}

static const cdc_column_t doc_cols[] = {{.name = "id", .type = CDC_TYPE_INT32},
                                        {.name = "v", .type = CDC_TYPE_STRING},
                                        {.name = "big", .type = CDC_TYPE_STRING}};
static const cdc_row_schema_t doc_schema = {.name = "v", .ncolumns = 3, .columns = doc_cols};

static void check_documents(void)
{
    cdc_value_t row[3] = {{.type = CDC_TYPE_INT32, .u.i = 5},
                          {.type = CDC_TYPE_STRING, .u.str = {"new", 3}},
                          {.type = CDC_TYPE_STRING, .unavailable = true,
                           .u.str = {"__debezium_unavailable_value", 28}}};
    cdc_event_t ev = {.op = CDC_OP_UPDATE, .row_schema = &doc_schema, .after = row};
    cdc_change_t c = {.event = &ev, .action = CDC_ACTION_UPSERT, .row_schema = &doc_schema, .row = row};
    CHECK(cdc_es_doc_needs_stored(&c));
    /* Stored values are copied byte for byte: 0.1 stays 0.1, a JSON
     * column's {"$date": ...} stays what it is. */
    static const char stored_json[] =
        " { \"id\" : 5, \"v\":\"old\",\"big\":\"kept \\\"text\\\"\",\"gone\":[1,0.1,{\"$date\":\"x\"}]}";
    const cdc_es_span_t stored_span = {stored_json, sizeof stored_json - 1};
    const cdc_es_span_t *stored = &stored_span;
    cdc_buf_t b;
    cdc_buf_init(&b);
    CHECK_INT(cdc_es_doc_render(&c, stored, &b), 0);
    CHECK_STR(b.data, "{\"id\":5,\"v\":\"new\",\"big\":\"kept \\\"text\\\"\"}");
    cdc_buf_reset(&b);
    CHECK_INT(cdc_es_doc_render(&c, NULL, &b), 0); /* nothing stored */
    CHECK_STR(b.data, "{\"id\":5,\"v\":\"new\",\"big\":null}");

    /* A soft delete from its before image (key only, REPLICA IDENTITY
     * DEFAULT): the stored values, the stored extra field, the flag. */
    cdc_value_t before[3] = {{.type = CDC_TYPE_INT32, .u.i = 5},
                             {.type = CDC_TYPE_STRING, .is_null = true},
                             {.type = CDC_TYPE_STRING, .is_null = true}};
    cdc_event_t del = {.op = CDC_OP_DELETE, .row_schema = &doc_schema, .before = before};
    cdc_change_t sd = {.event = &del, .action = CDC_ACTION_SOFT_DELETE, .row_schema = &doc_schema,
                       .row = before};
    CHECK(cdc_es_doc_needs_stored(&sd));
    cdc_buf_reset(&b);
    CHECK_INT(cdc_es_doc_render(&sd, stored, &b), 0);
    CHECK_STR(b.data, "{\"id\":5,\"v\":\"old\",\"big\":\"kept \\\"text\\\"\","
                      "\"gone\":[1,0.1,{\"$date\":\"x\"}],\"__deleted\":true}");
    /* ... and from an upsert superseded in the same batch: its values. */
    sd.row = row;
    cdc_buf_reset(&b);
    CHECK_INT(cdc_es_doc_render(&sd, stored, &b), 0);
    CHECK_STR(b.data, "{\"id\":5,\"v\":\"new\",\"big\":\"kept \\\"text\\\"\","
                      "\"gone\":[1,0.1,{\"$date\":\"x\"}],\"__deleted\":true}");
    /* No stored document: the before image as it is. */
    sd.row = before;
    cdc_buf_reset(&b);
    CHECK_INT(cdc_es_doc_render(&sd, NULL, &b), 0);
    CHECK_STR(b.data, "{\"id\":5,\"v\":null,\"big\":null,\"__deleted\":true}");
    /* A plain upsert needs nothing stored. */
    row[2] = (cdc_value_t){.type = CDC_TYPE_STRING, .u.str = {"b", 1}};
    CHECK(!cdc_es_doc_needs_stored(&c));
    cdc_buf_free(&b);
}

/* The scanner: members and items as raw spans, bad text as failure. */
static void check_json_spans(void)
{
    static const char doc[] = "{\"a\\\"b\":[1,{\"x\":\"}\"}],\"n\":-1.5e3 ,\"t\":true}";
    cdc_es_span_t all = {doc, sizeof doc - 1}, v;
    CHECK(cdc_es_json_member(all, "\"n\"", 3, &v));
    CHECK(v.len == 6 && memcmp(v.p, "-1.5e3", 6) == 0);
    CHECK(cdc_es_json_member(all, "\"a\\\"b\"", 6, &v));
    CHECK(v.len == 13 && memcmp(v.p, "[1,{\"x\":\"}\"}]", 13) == 0);
    CHECK(!cdc_es_json_member(all, "\"x\"", 3, &v)); /* not a top-level member */
    cdc_es_json_iter_t it;
    cdc_es_span_t item;
    CHECK(cdc_es_json_begin(v, &it));
    int items = 0;
    while (cdc_es_json_next(&it, NULL, &item)) items++;
    CHECK_INT(items, 2);
    CHECK(!it.failed);
    static const char *const bad[] = {"{\"a\":}", "{\"a\" 1}", "{\"a\":\"x}", "[1,,2]", "{\"a\":1", "nope"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        cdc_es_span_t s = {bad[i], strlen(bad[i])};
        int n = 0;
        bool began = cdc_es_json_begin(s, &it);
        while (began && cdc_es_json_next(&it, NULL, &item)) n++;
        CHECK(!began || it.failed);
    }
    char deep[2100];
    memset(deep, '[', 1050);
    memset(deep + 1050, ']', 1050);
    cdc_es_span_t d = {deep, sizeof deep};
    CHECK(cdc_es_json_begin(d, &it));
    CHECK(!cdc_es_json_next(&it, NULL, &item) && it.failed); /* too deep: refused, no crash */
}

static void check_nodes(void)
{
    char err[256];
    cdc_es_http_options_t o = {.urls = "http://u:topsecret@h1:9200/, https://h2:9243/prefix",
                               .verify = true};
    cdc_es_http_t *h = cdc_es_http_new(&o, err, sizeof err);
    CHECK(h != NULL);
    if (h) CHECK_STR(cdc_es_http_nodes(h), "http://h1:9200,https://h2:9243/prefix");
    cdc_es_http_free(h);
    o.urls = "http://h1:9200,ftp://u:topsecret@h2";
    CHECK(cdc_es_http_new(&o, err, sizeof err) == NULL);
    CHECK(strstr(err, "node 2") != NULL && strstr(err, "topsecret") == NULL);
    o.urls = "h1:9200";
    CHECK(cdc_es_http_new(&o, err, sizeof err) == NULL);
    /* A '/' in an unencoded password: still userinfo, never the host. */
    o.urls = "http://u:pa/ss@h1:9200";
    h = cdc_es_http_new(&o, err, sizeof err);
    CHECK(h != NULL);
    if (h) CHECK_STR(cdc_es_http_nodes(h), "http://h1:9200");
    cdc_es_http_free(h);
}

/* _mget answers as OpenSearch 2.19 gives them (filter_path
 * docs._id,docs._source,docs.error): a document found, one whose shard is
 * not available (an index that is red, as every index is for a moment
 * while a restarted engine recovers), one missing. The unavailable one
 * must not read as missing: the chaos suite found an unchanged TOASTed
 * column written as null after an OpenSearch restart. */
static void check_stored_answers(void)
{
    static const char red[] =
        "{\"docs\":[{\"_id\":\"1\",\"_source\":{\"v\":1}},{\"_id\":\"7\",\"error\":{\"root_cause\":"
        "[{\"type\":\"no_shard_available_action_exception\",\"reason\":\"No shard available for "
        "[org.opensearch.action.get.MultiGetShardRequest@292d7b75]\"}],\"type\":"
        "\"no_shard_available_action_exception\",\"reason\":\"No shard available for "
        "[org.opensearch.action.get.MultiGetShardRequest@292d7b75]\"}},{\"_id\":\"2\"}]}";
    static const char green[] = "{\"docs\":[{\"_id\":\"1\",\"_source\":{\"v\":1}},{\"_id\":\"2\"}]}";
    cdc_es_stored_t stored;
    cdc_buf_t answer;
    char err[512] = "";

    cdc_buf_init(&answer);
    cdc_buf_puts(&answer, green);
    CHECK_INT(cdc_es_stored_take(&stored, &answer, 2, err, sizeof err), CDC_SINK_OK);
    CHECK_INT(answer.len, 0); /* moved */
    const cdc_es_span_t *first = cdc_es_stored_get(&stored, 0);
    CHECK(first && first->len == 7 && memcmp(first->p, "{\"v\":1}", 7) == 0);
    CHECK(cdc_es_stored_get(&stored, 1) == NULL); /* not found */
    cdc_es_stored_free(&stored);

    cdc_buf_puts(&answer, red);
    CHECK_INT(cdc_es_stored_take(&stored, &answer, 3, err, sizeof err), CDC_SINK_RETRY);
    CHECK(strstr(err, "_mget: a document could not be read: {\"root_cause\"") != NULL);
    CHECK(strstr(err, "no_shard_available_action_exception") != NULL);
    CHECK(cdc_es_stored_get(&stored, 0) == NULL); /* nothing kept */

    cdc_buf_puts(&answer, green); /* 2 docs for 3 items */
    CHECK_INT(cdc_es_stored_take(&stored, &answer, 3, err, sizeof err), CDC_SINK_RETRY);
    CHECK(strstr(err, "one doc per item") != NULL);
    cdc_buf_free(&answer);
}

int main(void)
{
    cdc_arena_t arena;
    cdc_arena_init(&arena, 64 * 1024);
    check_index_names(&arena);
    check_mapping();
    check_bulk_items();
    check_bulk_answers();
    check_documents();
    check_json_spans();
    check_nodes();
    check_stored_answers();
    cdc_arena_destroy(&arena);
    return unit_finish("t0011-elasticsearch");
}
