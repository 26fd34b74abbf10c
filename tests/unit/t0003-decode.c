/* Decoding of real Debezium records captured by tests/data/capture.
 *
 * Every value is compared with the literal written in
 * tests/data/sql/types-changes.sql; change both together. The last part
 * breaks the captured bytes (truncation, flipped bytes, wrong framing) and
 * checks that bad input is a data error, never a crash. */
#include <math.h>
#include <stdlib.h>

#include "decode.h"
#include "envelope.h"
#include "schema.h"
#include "fixture.h"
#include "render.h"
#include "unit.h"

static cdc_registry_t *registry;
static cdc_decoder_t *decoder;
static cdc_arena_t arena;

static cdc_decode_status_t decode(const fixture_message_t *m, cdc_event_t *ev,
                                  char *err, size_t err_size)
{
    memset(ev, 0, sizeof *ev);
    return cdc_decoder_decode(decoder, m->key, m->key_len, m->value,
                              m->value_len, &arena, ev, err, err_size);
}

static const cdc_value_t *col(const cdc_event_t *ev, const cdc_value_t *row,
                              const char *name)
{
    int i = cdc_row_schema_find(ev->row_schema, name);
    if (i < 0 || !row) {
        fprintf(stderr, "no column %s\n", name);
        static const cdc_value_t missing = {.is_null = true};
        return &missing;
    }
    return &row[i];
}

#define CHECK_TEXT(v, want)                                                  \
    do {                                                                     \
        const cdc_value_t *v_ = (v);                                         \
        CHECK(!v_->is_null);                                                 \
        CHECK_STR(v_->is_null ? NULL : v_->u.str.ptr, want);                 \
    } while (0)

static void check_row_one(const cdc_event_t *ev)
{
    const cdc_value_t *a = ev->after;
    CHECK_INT(col(ev, a, "id")->u.i, 1);
    CHECK_INT(col(ev, a, "c_int2")->type, CDC_TYPE_INT16);
    CHECK_INT(col(ev, a, "c_int2")->u.i, -32768);
    CHECK_INT(col(ev, a, "c_int4")->type, CDC_TYPE_INT32);
    CHECK_INT(col(ev, a, "c_int4")->u.i, 2147483647);
    CHECK_INT(col(ev, a, "c_int8")->type, CDC_TYPE_INT64);
    CHECK(col(ev, a, "c_int8")->u.i == INT64_MIN);
    CHECK_INT(col(ev, a, "c_numeric")->type, CDC_TYPE_DECIMAL);
    CHECK_TEXT(col(ev, a, "c_numeric"), "-123456789.125");
    CHECK_INT(col(ev, a, "c_numeric_any")->type, CDC_TYPE_DECIMAL);
    CHECK_TEXT(col(ev, a, "c_numeric_any"), "12345678901234567890.123456789");
    CHECK_INT(col(ev, a, "c_real")->type, CDC_TYPE_FLOAT32);
    CHECK(col(ev, a, "c_real")->u.d == 3.5);
    CHECK_INT(col(ev, a, "c_double")->type, CDC_TYPE_FLOAT64);
    CHECK(col(ev, a, "c_double")->u.d == -2.25e-10);
    CHECK_INT(col(ev, a, "c_bool")->type, CDC_TYPE_BOOLEAN);
    CHECK(col(ev, a, "c_bool")->u.b == true);
    CHECK_TEXT(col(ev, a, "c_text"), "h\xc3\xa9llo \"quoted\" \\ line\ntwo");
    CHECK_TEXT(col(ev, a, "c_varchar"), "varchar");
    CHECK_TEXT(col(ev, a, "c_char"), "ab   ");
    const cdc_value_t *bytea = col(ev, a, "c_bytea");
    CHECK_INT(bytea->type, CDC_TYPE_BYTES);
    CHECK_INT(bytea->u.str.len, 3);
    CHECK(bytea->u.str.len == 3 && memcmp(bytea->u.str.ptr, "\x00\xff\x10", 3) == 0);
    CHECK_INT(col(ev, a, "c_date")->type, CDC_TYPE_DATE);
    CHECK_INT(col(ev, a, "c_date")->u.i, -165); /* 1969-07-20 */
    CHECK_INT(col(ev, a, "c_time")->type, CDC_TYPE_TIME_MICROS);
    CHECK_INT(col(ev, a, "c_time")->u.i, 86399999999LL);
    CHECK_INT(col(ev, a, "c_timestamp")->type, CDC_TYPE_TIMESTAMP_MICROS);
    CHECK_INT(col(ev, a, "c_timestamp")->u.i, 1709210096789012LL);
    CHECK_INT(col(ev, a, "c_timestamptz")->type, CDC_TYPE_ZONED_TIMESTAMP);
    CHECK_TEXT(col(ev, a, "c_timestamptz"), "2024-02-29T10:34:56.789012Z");
    CHECK_INT(col(ev, a, "c_interval")->type, CDC_TYPE_INTERVAL_MICROS);
    /* Debezium: 1 year 2 mons = 14 × 30.4375 days; + 3 days 04:05:06.789 */
    CHECK_INT(col(ev, a, "c_interval")->u.i, 37091106789000LL);
    CHECK_INT(col(ev, a, "c_uuid")->type, CDC_TYPE_UUID);
    CHECK_TEXT(col(ev, a, "c_uuid"), "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11");
    CHECK_INT(col(ev, a, "c_json")->type, CDC_TYPE_JSON);
    CHECK_TEXT(col(ev, a, "c_json"), "{\"a\": [1, 2, {\"b\": null}]}");
    CHECK_INT(col(ev, a, "c_jsonb")->type, CDC_TYPE_JSON);
    CHECK_TEXT(col(ev, a, "c_jsonb"), "{\"k\": \"v\", \"n\": 1.5}");
    CHECK_INT(col(ev, a, "c_enum")->type, CDC_TYPE_ENUM);
    CHECK_TEXT(col(ev, a, "c_enum"), "happy");

    const cdc_value_t *ints = col(ev, a, "c_int_array");
    CHECK_INT(ints->type, CDC_TYPE_ARRAY);
    CHECK_INT(ints->u.array.count, 3);
    if (ints->u.array.count == 3) {
        CHECK_INT(ints->u.array.items[0].u.i, 1);
        CHECK(ints->u.array.items[1].is_null);
        CHECK_INT(ints->u.array.items[2].u.i, 3);
    }
    const cdc_value_t *texts = col(ev, a, "c_text_array");
    CHECK_INT(texts->u.array.count, 3);
    if (texts->u.array.count == 3) {
        CHECK_STR(texts->u.array.items[0].u.str.ptr, "x");
        CHECK_STR(texts->u.array.items[1].u.str.ptr, "y z");
        CHECK(texts->u.array.items[2].is_null);
    }
    const cdc_value_t *big = col(ev, a, "c_big");
    CHECK_INT(big->u.str.len, 12800); /* 400 md5 hex digests */
    CHECK(big->u.str.len == 12800 &&
          memcmp(big->u.str.ptr, "c4ca4238a0b923820dcc509a6f75849b", 32) == 0);
    CHECK(!big->unavailable);
}

static void check_row_nulls(const cdc_event_t *ev)
{
    CHECK_INT(col(ev, ev->after, "id")->u.i, 2);
    int nulls = 0;
    for (size_t i = 0; i < ev->row_schema->ncolumns; i++)
        if (strcmp(ev->row_schema->columns[i].name, "id") != 0) {
            CHECK(ev->after[i].is_null);
            CHECK(ev->row_schema->columns[i].optional);
            nulls += ev->after[i].is_null;
        }
    CHECK_INT(nulls, 24);
    CHECK(!ev->row_schema->columns[cdc_row_schema_find(ev->row_schema, "id")].optional);
}

static void check_row_edges(const cdc_event_t *ev)
{
    const cdc_value_t *a = ev->after;
    CHECK_INT(col(ev, a, "id")->u.i, 3);
    CHECK_INT(col(ev, a, "c_int4")->u.i, -1);
    CHECK_TEXT(col(ev, a, "c_numeric"), "0.001");
    CHECK_TEXT(col(ev, a, "c_numeric_any"), "-0.5");
    /* '-0.0' goes through numeric, which has no negative zero. */
    CHECK(col(ev, a, "c_real")->u.d == 0.0 && !signbit(col(ev, a, "c_real")->u.d));
    CHECK(col(ev, a, "c_double")->u.d == 1e300);
    CHECK(col(ev, a, "c_bool")->u.b == false);
    CHECK_TEXT(col(ev, a, "c_text"), "");
    CHECK_INT(col(ev, a, "c_date")->u.i, -719162); /* 0001-01-01 */
    CHECK_INT(col(ev, a, "c_time")->u.i, 0);
    CHECK_INT(col(ev, a, "c_timestamp")->u.i, -2208988800000000LL);
    CHECK_TEXT(col(ev, a, "c_timestamptz"), "1970-01-01T00:00:00.000000Z");
    CHECK_INT(col(ev, a, "c_interval")->u.i, -86401000000LL);
    CHECK_INT(col(ev, a, "c_int_array")->u.array.count, 0);
    CHECK(!col(ev, a, "c_int_array")->is_null);
    CHECK_INT(col(ev, a, "c_text_array")->u.array.count, 0);
    CHECK_TEXT(col(ev, a, "c_big"), "short");
    CHECK(col(ev, a, "c_uuid")->is_null);
}

static void check_all_types(void)
{
    fixture_set_t set = fixture_load_set("all_types");
    CHECK_INT(set.count, 6);
    if (set.count != 6) return;
    cdc_event_t ev[6];
    char err[512];
    const char ops[] = {CDC_OP_CREATE, CDC_OP_CREATE, CDC_OP_CREATE,
                        CDC_OP_UPDATE, CDC_OP_DELETE, CDC_OP_TOMBSTONE};
    for (int i = 0; i < 6; i++) {
        CHECK_INT(decode(&set.messages[i], &ev[i], err, sizeof err), CDC_DECODE_OK);
        CHECK_INT(ev[i].op, ops[i]);
    }
    for (int i = 0; i < 5; i++) {
        CHECK(ev[i].has_position);
        CHECK(ev[i].position > 0);
        if (i > 0) CHECK(ev[i].position > ev[i - 1].position);
        CHECK_STR(ev[i].source_db, "source");
        CHECK_STR(ev[i].source_schema, "public");
        CHECK_STR(ev[i].source_table, "all_types");
        CHECK(ev[i].source_ts_ms > 1700000000000LL);
        CHECK_STR(ev[i].row_schema->columns[0].name, "id");
        CHECK_INT(ev[i].row_schema->ncolumns, 25);
    }
    check_row_one(&ev[0]);
    check_row_nulls(&ev[1]);
    check_row_edges(&ev[2]);

    /* 4: the update; c_big was TOASTed and left unchanged. */
    CHECK(ev[3].before == NULL); /* REPLICA IDENTITY DEFAULT */
    CHECK_INT(col(&ev[3], ev[3].after, "c_int4")->u.i, 42);
    CHECK_TEXT(col(&ev[3], ev[3].after, "c_text"), "updated");
    CHECK(col(&ev[3], ev[3].after, "c_big")->unavailable);
    CHECK(!col(&ev[3], ev[3].after, "c_text")->unavailable);

    /* 5: the delete, and 6: Debezium's tombstone for the same key. */
    CHECK(ev[4].after == NULL);
    CHECK(ev[4].before != NULL);
    CHECK_INT(col(&ev[4], ev[4].before, "id")->u.i, 2);
    for (int i = 0; i < 6; i++) {
        CHECK_INT(ev[i].key_schema ? ev[i].key_schema->ncolumns : 0, 1);
        CHECK_STR(ev[i].key_schema ? ev[i].key_schema->columns[0].name : NULL, "id");
    }
    CHECK_INT(ev[4].key[0].u.i, 2);
    CHECK_INT(ev[5].key[0].u.i, 2);
    CHECK(ev[5].after == NULL && ev[5].before == NULL && !ev[5].has_position);
    fixture_free_set(&set);
}

static void check_orders(void)
{
    fixture_set_t set = fixture_load_set("orders");
    CHECK_INT(set.count, 7);
    if (set.count != 7) return;
    cdc_event_t ev;
    char err[512];
    static const struct {
        char op;
        int id;
        const char *status, *amount;
    } want[] = {
        {CDC_OP_CREATE, 1, "new", "19.99"},   {CDC_OP_CREATE, 2, "new", "250.00"},
        {CDC_OP_CREATE, 3, "new", "0.01"},    {CDC_OP_UPDATE, 1, "paid", "19.99"},
        {CDC_OP_UPDATE, 2, "shipped", "245.50"}, {CDC_OP_DELETE, 3, NULL, NULL},
        {CDC_OP_TOMBSTONE, 3, NULL, NULL},
    };
    for (int i = 0; i < 7; i++) {
        CHECK_INT(decode(&set.messages[i], &ev, err, sizeof err), CDC_DECODE_OK);
        CHECK_INT(ev.op, want[i].op);
        CHECK_INT(ev.key[0].u.i, want[i].id);
        if (!want[i].status) continue;
        CHECK_TEXT(col(&ev, ev.after, "status"), want[i].status);
        CHECK_TEXT(col(&ev, ev.after, "amount"), want[i].amount);
        const cdc_column_t *amount = &ev.row_schema->columns[cdc_row_schema_find(ev.row_schema, "amount")];
        CHECK_INT(amount->precision, 12);
        CHECK_INT(amount->scale, 2);
        CHECK(!amount->optional);
        CHECK_TEXT(col(&ev, ev.after, "currency"), i == 1 || i == 4 ? "USD" : "EUR");
        if (i == 0) {
            CHECK_TEXT(col(&ev, ev.after, "note"), "first order");
            CHECK_TEXT(col(&ev, ev.after, "created_at"), "2024-05-01T10:00:00.000000Z");
        }
        if (i == 1) CHECK(col(&ev, ev.after, "note")->is_null);
        if (i == 3) CHECK_INT(col(&ev, ev.after, "updated_at")->u.i, 1714564800000000LL);
    }
    fixture_free_set(&set);
}

/* The same changes flattened by ExtractNewRecordState carry the same LSNs
 * as __lsn, and a rewritten delete has __deleted=true. */
static void check_flattened(void)
{
    fixture_set_t env = fixture_load_set("orders");
    fixture_set_t flat = fixture_load_set("flat_orders");
    CHECK_INT(flat.count, 6);
    if (flat.count != 6 || env.count != 7) return;
    char err[512];
    const char ops[] = {CDC_OP_CREATE, CDC_OP_CREATE, CDC_OP_CREATE,
                        CDC_OP_UPDATE, CDC_OP_UPDATE, CDC_OP_DELETE};
    for (int i = 0; i < 6; i++) {
        cdc_event_t e, f;
        CHECK_INT(decode(&env.messages[i], &e, err, sizeof err), CDC_DECODE_OK);
        CHECK_INT(decode(&flat.messages[i], &f, err, sizeof err), CDC_DECODE_OK);
        CHECK_INT(f.op, ops[i]);
        CHECK(f.has_position);
        CHECK(f.position == e.position);
        CHECK_STR(f.source_table, "orders");
        CHECK(f.source_ts_ms == e.source_ts_ms);
        /* The flattened row has the table's columns and no "__" fields. */
        CHECK_INT(f.row_schema->ncolumns, 8);
        const cdc_value_t *row = cdc_event_row(&f);
        CHECK(row != NULL);
        if (row) CHECK_INT(col(&f, row, "id")->u.i, f.key[0].u.i);
        if (i == 4 && row) CHECK_TEXT(col(&f, row, "amount"), "245.50");
    }
    fixture_free_set(&env);
    fixture_free_set(&flat);
}

/* Every flattened all_types record carries the same values as its
 * envelope twin (compared through the jsonl rendering of the rows). */
static void check_flattened_types(void)
{
    fixture_set_t env = fixture_load_set("all_types");
    fixture_set_t flat = fixture_load_set("flat_all_types");
    CHECK_INT(flat.count, 5);
    if (flat.count != 5 || env.count != 6) return;
    char err[512];
    for (int i = 0; i < 5; i++) {
        cdc_event_t e, f;
        CHECK_INT(decode(&env.messages[i], &e, err, sizeof err), CDC_DECODE_OK);
        CHECK_INT(decode(&flat.messages[i], &f, err, sizeof err), CDC_DECODE_OK);
        CHECK_INT(f.op, e.op);
        CHECK(f.position == e.position);
        CHECK_INT(f.row_schema->ncolumns, 25);
        cdc_buf_t a, b;
        cdc_buf_init(&a);
        cdc_buf_init(&b);
        cdc_render_row(e.row_schema, cdc_event_row(&e), &a);
        cdc_render_row(f.row_schema, cdc_event_row(&f), &b);
        CHECK_STR(b.data, a.data);
        cdc_buf_free(&a);
        cdc_buf_free(&b);
    }
    fixture_free_set(&env);
    fixture_free_set(&flat);
}

static cdc_decode_status_t decode_bytes(const fixture_message_t *m,
                                        const unsigned char *value, size_t len,
                                        char *err, size_t err_size)
{
    fixture_message_t copy = *m;
    copy.value = (unsigned char *)value;
    copy.value_len = len;
    cdc_event_t ev;
    return decode(&copy, &ev, err, err_size);
}

static void check_bad_input(void)
{
    fixture_set_t set = fixture_load_set("all_types");
    if (set.count < 1) return;
    const fixture_message_t *m = &set.messages[0];
    unsigned char *buf = malloc(m->value_len + 16);
    char err[512];

    memcpy(buf, m->value, m->value_len);
    buf[0] = 1;
    CHECK_INT(decode_bytes(m, buf, m->value_len, err, sizeof err), CDC_DECODE_DATA_ERROR);
    CHECK(strstr(err, "magic byte is not 0") != NULL);

    CHECK_INT(decode_bytes(m, buf, 3, err, sizeof err), CDC_DECODE_DATA_ERROR);
    CHECK(strstr(err, "shorter than 5 bytes") != NULL);

    memcpy(buf, m->value, m->value_len);
    buf[1] = 0x7f; /* a schema id the registry does not have */
    CHECK_INT(decode_bytes(m, buf, m->value_len, err, sizeof err), CDC_DECODE_DATA_ERROR);
    CHECK(strstr(err, "unknown") != NULL);

    memcpy(buf, m->value, m->value_len);
    memcpy(buf + m->value_len, "xyz", 3);
    CHECK_INT(decode_bytes(m, buf, m->value_len + 3, err, sizeof err), CDC_DECODE_DATA_ERROR);
    CHECK(strstr(err, "3 bytes left after the datum") != NULL);

    /* Every truncation is a data error with a reason, never a crash. */
    int truncated_ok = 0;
    for (size_t len = 5; len < m->value_len; len++)
        truncated_ok += decode_bytes(m, m->value, len, err, sizeof err) == CDC_DECODE_DATA_ERROR &&
                        strstr(err, "undecodable Avro") != NULL;
    CHECK_INT(truncated_ok, (long long)m->value_len - 5);

    /* Flipped bytes decode or fail cleanly (ASan/UBSan watch the rest). */
    srand(7);
    for (int round = 0; round < 20000; round++) {
        memcpy(buf, m->value, m->value_len);
        for (int k = 0; k < 3; k++)
            buf[5 + (size_t)rand() % (m->value_len - 5)] = (unsigned char)rand();
        cdc_decode_status_t s = decode_bytes(m, buf, m->value_len, err, sizeof err);
        CHECK(s == CDC_DECODE_OK || s == CDC_DECODE_DATA_ERROR);
        cdc_arena_reset(&arena);
    }
    free(buf);
    fixture_free_set(&set);
}

/* The envelope plan marks what it never reads (most of the source block,
 * transaction, ts_*) and decoding steps over it. A source block holding
 * every Avro kind before the fields the plan reads: those still decode
 * right (the steps took exactly the bytes of each kind), the whole value
 * is consumed, and the unread fields come out NULL. */
static void check_unread_fields_skipped(void)
{
    static const char schema_json[] =
        "{\"type\":\"record\",\"name\":\"Envelope\",\"fields\":["
        "{\"name\":\"before\",\"type\":[\"null\",{\"type\":\"record\",\"name\":\"Value\","
        "\"fields\":[{\"name\":\"id\",\"type\":\"int\"}]}]},"
        "{\"name\":\"after\",\"type\":[\"null\",\"Value\"]},"
        "{\"name\":\"source\",\"type\":{\"type\":\"record\",\"name\":\"Source\",\"fields\":["
        "{\"name\":\"b\",\"type\":\"boolean\"},{\"name\":\"f\",\"type\":\"float\"},"
        "{\"name\":\"d\",\"type\":\"double\"},"
        "{\"name\":\"e\",\"type\":{\"type\":\"enum\",\"name\":\"E\",\"symbols\":[\"x\",\"y\"]}},"
        "{\"name\":\"fx\",\"type\":{\"type\":\"fixed\",\"name\":\"F\",\"size\":3}},"
        "{\"name\":\"arr\",\"type\":{\"type\":\"array\",\"items\":\"string\"}},"
        "{\"name\":\"m\",\"type\":{\"type\":\"map\",\"values\":\"long\"}},"
        "{\"name\":\"by\",\"type\":\"bytes\"},{\"name\":\"u\",\"type\":[\"null\",\"string\"]},"
        "{\"name\":\"n\",\"type\":\"null\"},"
        "{\"name\":\"rec\",\"type\":{\"type\":\"record\",\"name\":\"R\",\"fields\":"
        "[{\"name\":\"a\",\"type\":\"int\"}]}},"
        "{\"name\":\"table\",\"type\":\"string\"},{\"name\":\"lsn\",\"type\":[\"null\",\"long\"]}]}},"
        "{\"name\":\"op\",\"type\":\"string\"},"
        "{\"name\":\"transaction\",\"type\":[\"null\",{\"type\":\"record\",\"name\":\"Tx\","
        "\"fields\":[{\"name\":\"id\",\"type\":\"string\"}]}]},"
        "{\"name\":\"ts_ms\",\"type\":[\"null\",\"long\"]}]}";
    static const uint8_t data[] = {
        0x00,                               /* before: null */
        0x02, 0x0e,                         /* after: {id: 7} */
        0x01,                               /* b: true */
        0x00, 0x00, 0x80, 0x3f,             /* f: 1.0 */
        0, 0, 0, 0, 0, 0, 0xf0, 0x3f,       /* d: 1.0 */
        0x02,                               /* e: y */
        'a', 'b', 'c',                      /* fx */
        0x04, 0x02, 'p', 0x02, 'q',         /* arr: a block of 2 */
        0x01, 0x04, 0x02, 'r', 0x00,        /* a block of -1 with its size; end */
        0x02, 0x02, 'k', 0x0a, 0x00,        /* m: {k: 5} */
        0x04, 0xff, 0x00,                   /* by */
        0x02, 0x02, 's',                    /* u: "s" */
        0x06,                               /* rec: {a: 3} */
        0x02, 't',                          /* table: "t" */
        0x02, 0xd0, 0x0f,                   /* lsn: 1000 */
        0x02, 'c',                          /* op: "c" */
        0x02, 0x04, 't', 'x',               /* transaction: {id: "tx"} */
        0x02, 0x02,                         /* ts_ms: 1 */
    };
    char err[256] = "";
    cdc_schema_t *schema = cdc_schema_compile(schema_json, sizeof schema_json - 1, err, sizeof err);
    CHECK(schema != NULL);
    if (!schema) return;
    cdc_envelope_plan_t *plan = cdc_envelope_plan_new(schema, "source.lsn", err, sizeof err);
    CHECK(plan != NULL);
    cdc_value_t value;
    memset(&value, 0, sizeof value);
    CHECK_INT(cdc_decode_avro(schema->root, data, sizeof data, &arena, &value, err, sizeof err), 0);
    cdc_event_t ev;
    memset(&ev, 0, sizeof ev);
    CHECK_INT(cdc_envelope_read(plan, &value, &arena, &ev, err, sizeof err), 0);
    CHECK_INT(ev.op, CDC_OP_CREATE);
    CHECK(ev.has_position);
    CHECK_INT(ev.position, 1000);
    CHECK_STR(ev.source_table, "t");
    CHECK_INT(ev.after[0].u.i, 7);
    const cdc_value_t *source = &value.u.array.items[2];
    for (size_t i = 0; i < 11; i++) CHECK(source->u.array.items[i].is_null);
    CHECK(value.u.array.items[4].is_null); /* transaction */
    CHECK(value.u.array.items[5].is_null); /* ts_ms */
    /* One byte short: the steps notice, as decoding would. */
    CHECK(cdc_decode_avro(schema->root, data, sizeof data - 1, &arena, &value, err, sizeof err) != 0);
    cdc_schema_destroy(schema);
}

int main(void)
{
    cdc_registry_options_t opts = {0};
    registry = cdc_registry_new(&opts, NULL, 0);
    CHECK(fixture_load_schemas(registry) >= 4);
    decoder = cdc_decoder_new(registry, "source.lsn");
    cdc_arena_init(&arena, 64 * 1024);
    check_all_types();
    check_orders();
    check_flattened();
    check_flattened_types();
    check_bad_input();
    check_unread_fields_skipped();
    cdc_arena_destroy(&arena);
    cdc_decoder_destroy(decoder);
    cdc_registry_destroy(registry);
    return unit_finish("t0003-decode");
}
