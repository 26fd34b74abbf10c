/* PostgreSQL sink pieces that need no server: value text, statement text,
 * routing, and collapsing real captured events by key and position. */
#include <math.h>

#include "collapse.h"
#include "decode.h"
#include "fixture.h"
#include "pg_sql.h"
#include "pg_table.h"
#include "pg_value.h"
#include "route.h"
#include "unit.h"

static cdc_buf_t text_buf;

static const char *text_of(cdc_value_t v)
{
    cdc_buf_reset(&text_buf);
    if (cdc_pg_value_text(&v, &text_buf) != 0) return "(unsupported)";
    return text_buf.data ? text_buf.data : "";
}

static cdc_value_t ival(cdc_type_t t, int64_t i) { return (cdc_value_t){.type = t, .u.i = i}; }
static cdc_value_t sval(cdc_type_t t, const char *s)
{
    return (cdc_value_t){.type = t, .u.str = {s, strlen(s)}};
}

static void check_values(void)
{
    CHECK_STR(text_of(ival(CDC_TYPE_INT64, INT64_MIN)), "-9223372036854775808");
    CHECK_STR(text_of((cdc_value_t){.type = CDC_TYPE_BOOLEAN, .u.b = true}), "t");
    CHECK_STR(text_of((cdc_value_t){.type = CDC_TYPE_FLOAT64, .u.d = 0.1}), "0.10000000000000001");
    CHECK_STR(text_of((cdc_value_t){.type = CDC_TYPE_FLOAT32, .u.d = NAN}), "NaN");
    CHECK_STR(text_of((cdc_value_t){.type = CDC_TYPE_FLOAT64, .u.d = -INFINITY}), "-Infinity");
    CHECK_STR(text_of(sval(CDC_TYPE_DECIMAL, "-12.50")), "-12.50");
    CHECK_STR(text_of(ival(CDC_TYPE_DATE, -165)), "1969-07-20");
    CHECK_STR(text_of(ival(CDC_TYPE_DATE, -719163)), "0001-12-31 BC");
    CHECK_STR(text_of(ival(CDC_TYPE_DATE, -719162)), "0001-01-01");
    CHECK_STR(text_of(ival(CDC_TYPE_DATE, 2932896)), "9999-12-31");
    CHECK_STR(text_of(ival(CDC_TYPE_DATE, 2932897)), "10000-01-01");
    CHECK_STR(text_of(ival(CDC_TYPE_INT32, 0)), "0");
    CHECK_STR(text_of(ival(CDC_TYPE_INT32, -7)), "-7");
    CHECK_STR(text_of(ival(CDC_TYPE_INT64, INT64_MAX)), "9223372036854775807");
    CHECK_STR(text_of(ival(CDC_TYPE_TIME_NANOS, 1)), "00:00:00.000000001");
    CHECK_STR(text_of(ival(CDC_TYPE_TIME_MICROS, 86399999999LL)), "23:59:59.999999");
    CHECK_STR(text_of(ival(CDC_TYPE_TIMESTAMP_MICROS, -1)), "1969-12-31 23:59:59.999999");
    CHECK_STR(text_of(ival(CDC_TYPE_TIMESTAMP_MILLIS, 1709210096789LL)), "2024-02-29 12:34:56.789");
    CHECK_STR(text_of(ival(CDC_TYPE_INTERVAL_MICROS, -86401000000LL)), "-86401000000 microseconds");
    CHECK_STR(text_of(sval(CDC_TYPE_ZONED_TIMESTAMP, "2024-02-29T10:34:56Z")), "2024-02-29T10:34:56Z");
    cdc_value_t bytes = {.type = CDC_TYPE_BYTES, .u.str = {"\x00\xff\x10", 3}};
    CHECK_STR(text_of(bytes), "\\x00ff10");
    cdc_value_t bits = {.type = CDC_TYPE_BITS, .u.str = {"\x05", 1}};
    CHECK_STR(text_of(bits), "00000101");
    /* Arrays: NULL unquoted, quotes and backslashes escaped. */
    cdc_value_t items[3] = {sval(CDC_TYPE_STRING, "a\"b"), {.type = CDC_TYPE_STRING, .is_null = true},
                            sval(CDC_TYPE_STRING, "c\\d,e")};
    cdc_value_t array = {.type = CDC_TYPE_ARRAY, .u.array = {items, 3}};
    CHECK_STR(text_of(array), "{\"a\\\"b\",NULL,\"c\\\\d,e\"}");
    cdc_value_t empty = {.type = CDC_TYPE_ARRAY, .u.array = {NULL, 0}};
    CHECK_STR(text_of(empty), "{}");
    cdc_value_t map = {.type = CDC_TYPE_MAP};
    CHECK_STR(text_of(map), "(unsupported)");
}

static cdc_pg_table_t *hostile_table(void)
{
    static cdc_pg_column_t cols[] = {
        {.name = "Id", .type = "integer"},
        {.name = "we\"ird; DROP", .type = "text"},
        {.name = "__cdc_lsn", .type = "bigint"},
        {.name = "__cdc_deleted", .type = "boolean"},
    };
    static int pk[] = {0};
    static cdc_pg_table_t t = {
        .schema = "s", .name = "t\"x", .qualified = "\"s\".\"t\"\"x\"",
        .columns = cols, .ncolumns = 4, .pk = pk, .npk = 1,
        .position_column = 2, .deleted_column = 3};
    return &t;
}

static void check_sql(void)
{
    cdc_buf_t sql;
    cdc_buf_init(&sql);
    cdc_pg_sql_quote_ident(&sql, "a\"b c");
    CHECK_STR(sql.data, "\"a\"\"b c\"");
    int cols[] = {0, 1};
    cdc_buf_reset(&sql);
    cdc_pg_sql_build(&sql, hostile_table(), CDC_PG_UPSERT, cols, 2, true, false);
    CHECK_STR(sql.data,
              "WITH t AS (SELECT * FROM unnest($1::integer[], $2::text[], $3::bigint[]) "
              "WITH ORDINALITY AS t(c0, c1, pos, ord)), "
              "ins AS (INSERT INTO \"s\".\"t\"\"x\" AS target (\"Id\", \"we\"\"ird; DROP\", "
              "\"__cdc_lsn\", \"__cdc_deleted\") SELECT t.c0, t.c1, t.pos, false FROM t "
              "WHERE NOT EXISTS (SELECT 1 FROM cdcsink.tombstones tb WHERE tb.target_table = $4 "
              "AND tb.key = ARRAY[t.c0::text] AND tb.position >= t.pos) ON CONFLICT (\"Id\") "
              "DO UPDATE SET \"__cdc_lsn\" = EXCLUDED.\"__cdc_lsn\", \"__cdc_deleted\" = false, "
              "\"Id\" = EXCLUDED.\"Id\", \"we\"\"ird; DROP\" = EXCLUDED.\"we\"\"ird; DROP\" "
              "WHERE target.\"__cdc_lsn\" < EXCLUDED.\"__cdc_lsn\" RETURNING target.\"Id\") "
              "SELECT t.ord FROM t JOIN ins ON t.c0 = ins.\"Id\"");
    /* The counted form: the same upsert straight from the unnest, no
     * ordinals, no RETURNING; its row count is the answer. */
    cdc_buf_reset(&sql);
    cdc_pg_sql_build(&sql, hostile_table(), CDC_PG_UPSERT, cols, 2, true, true);
    CHECK_STR(sql.data,
              "INSERT INTO \"s\".\"t\"\"x\" AS target (\"Id\", \"we\"\"ird; DROP\", "
              "\"__cdc_lsn\", \"__cdc_deleted\") SELECT t.c0, t.c1, t.pos, false FROM "
              "unnest($1::integer[], $2::text[], $3::bigint[]) AS t(c0, c1, pos) "
              "WHERE NOT EXISTS (SELECT 1 FROM cdcsink.tombstones tb WHERE tb.target_table = $4 "
              "AND tb.key = ARRAY[t.c0::text] AND tb.position >= t.pos) ON CONFLICT (\"Id\") "
              "DO UPDATE SET \"__cdc_lsn\" = EXCLUDED.\"__cdc_lsn\", \"__cdc_deleted\" = false, "
              "\"Id\" = EXCLUDED.\"Id\", \"we\"\"ird; DROP\" = EXCLUDED.\"we\"\"ird; DROP\" "
              "WHERE target.\"__cdc_lsn\" < EXCLUDED.\"__cdc_lsn\"");
    CHECK(cdc_pg_sql_countable(CDC_PG_UPSERT) && cdc_pg_sql_countable(CDC_PG_SOFT_DELETE));
    CHECK(!cdc_pg_sql_countable(CDC_PG_HARD_DELETE) && !cdc_pg_sql_countable(CDC_PG_KEY_DELETE));
    /* Deletes have no counted form: asking for it changes nothing. */
    cdc_buf_t precise;
    cdc_buf_init(&precise);
    cdc_buf_reset(&sql);
    cdc_pg_sql_build(&sql, hostile_table(), CDC_PG_HARD_DELETE, cols, 1, true, true);
    cdc_pg_sql_build(&precise, hostile_table(), CDC_PG_HARD_DELETE, cols, 1, true, false);
    CHECK_STR(sql.data, precise.data);
    cdc_buf_free(&precise);
    /* An array column travels as text[] and is cast row by row. */
    static cdc_pg_column_t arr_cols[] = {
        {.name = "id", .type = "bigint"}, {.name = "tags", .type = "integer[]"},
        {.name = "__cdc_lsn", .type = "bigint"}, {.name = "__cdc_deleted", .type = "boolean"}};
    static int arr_pk[] = {0};
    cdc_pg_table_t arr = {.schema = "s", .name = "a", .qualified = "\"s\".\"a\"",
                          .columns = arr_cols, .ncolumns = 4, .pk = arr_pk, .npk = 1,
                          .position_column = 2, .deleted_column = 3};
    cdc_buf_reset(&sql);
    cdc_pg_sql_build(&sql, &arr, CDC_PG_UPSERT, cols, 2, false, true);
    CHECK(strstr(sql.data, "unnest($1::bigint[], $2::text[], $3::bigint[])") != NULL);
    CHECK(strstr(sql.data, "SELECT t.c0, t.c1::integer[], t.pos, false") != NULL);
    cdc_buf_reset(&sql);
    cdc_pg_sql_build(&sql, hostile_table(), CDC_PG_SOFT_DELETE, cols, 2, false, false);
    CHECK(strstr(sql.data, "\"__cdc_deleted\" = true WHERE target.\"__cdc_lsn\" < EXCLUDED") != NULL);
    CHECK(strstr(sql.data, "tombstones") == NULL);
    cdc_buf_reset(&sql);
    cdc_pg_sql_build(&sql, hostile_table(), CDC_PG_HARD_DELETE, cols, 1, true, false);
    CHECK(strstr(sql.data, "DELETE FROM \"s\".\"t\"\"x\" AS target USING t WHERE "
                           "t.c0 = target.\"Id\" AND target.\"__cdc_lsn\" < t.pos") != NULL);
    CHECK(strstr(sql.data, "INSERT INTO cdcsink.tombstones") != NULL);
    CHECK(strstr(sql.data, "WHERE tb.position < EXCLUDED.position") != NULL);
    cdc_buf_reset(&sql);
    cdc_pg_sql_build(&sql, hostile_table(), CDC_PG_KEY_DELETE, cols, 1, false, false);
    CHECK(strstr(sql.data, "unnest($1::integer[]) WITH ORDINALITY") != NULL);
    CHECK(strstr(sql.data, "pos") == NULL); /* no guard: a tombstone has none */
    cdc_buf_free(&sql);
}

static void check_route(void)
{
    cdc_event_t ev = {.topic = "cdc.public.orders", .source_db = "shop",
                      .source_schema = "public", .source_table = "orders"};
    cdc_buf_t b;
    cdc_buf_init(&b);
    cdc_route_format("${source.db}_${source.schema}_${source.table}-${topic}", &ev, &b);
    CHECK_STR(b.data, "shop_public_orders-cdc.public.orders");
    cdc_buf_reset(&b);
    ev.source_table = ""; /* a tombstone: the table is the topic's last part */
    cdc_route_format("${source.table}", &ev, &b);
    CHECK_STR(b.data, "orders");
    cdc_buf_free(&b);
    char err[256];
    CHECK_INT(cdc_route_check("${source.table}", err, sizeof err), 0);
    CHECK_INT(cdc_route_check("${table}", err, sizeof err), -1);
    CHECK(strstr(err, "unknown placeholder ${table}") != NULL);
}

/* orders fixture: c1 c2 c3 u1 u2 d3 T3 (T = tombstone). */
static void check_collapse(void)
{
    cdc_registry_options_t opts = {0};
    cdc_registry_t *registry = cdc_registry_new(&opts, NULL, 0);
    fixture_load_schemas(registry);
    cdc_decoder_t *decoder = cdc_decoder_new(registry, "source.lsn");
    cdc_arena_t arena;
    cdc_arena_init(&arena, 64 * 1024);
    fixture_set_t set = fixture_load_set("orders");
    CHECK_INT(set.count, 7);
    cdc_event_t ev[7];
    const cdc_event_t *events[7];
    const char *groups[7];
    char err[256];
    for (size_t i = 0; i < set.count && i < 7; i++) {
        memset(&ev[i], 0, sizeof ev[i]);
        cdc_decoder_decode(decoder, set.messages[i].key, set.messages[i].key_len,
                           set.messages[i].value, set.messages[i].value_len, &arena,
                           &ev[i], err, sizeof err);
        events[i] = &ev[i];
        groups[i] = "orders";
    }
    size_t winner_of[7];
    CHECK_INT(cdc_collapse(events, groups, NULL, 7, winner_of, &arena), 3);
    size_t want[7] = {3, 4, 6, 3, 4, 6, 6};
    for (int i = 0; i < 7; i++) CHECK_INT(winner_of[i], want[i]);

    /* By position, never by arrival: u1 delivered before c1 still wins. */
    const cdc_event_t *reordered[2] = {&ev[3], &ev[0]};
    CHECK_INT(cdc_collapse(reordered, groups, NULL, 2, winner_of, &arena), 1);
    CHECK_INT(winner_of[0], 0);
    CHECK_INT(winner_of[1], 0);
    /* The same key in two tables is two keys. */
    const char *two_tables[2] = {"orders", "orders_copy"};
    CHECK_INT(cdc_collapse(reordered, two_tables, NULL, 2, winner_of, &arena), 2);
    CHECK_INT(cdc_collapse_last_upsert(events, 7, (size_t[]){3, 4, 6, 3, 4, 6, 6}, 6), 2);
    /* Given identities replace the record keys: changes without one (a
     * keyless record nobody gave a key) never collapse, equal ones do. */
    cdc_key_id_t keys[3] = {{"k1", 2}, {NULL, 0}, {"k1", 2}};
    const cdc_event_t *three[3] = {&ev[0], &ev[1], &ev[3]};
    CHECK_INT(cdc_collapse(three, groups, keys, 3, winner_of, &arena), 2);
    CHECK_INT(winner_of[0], 2);
    CHECK_INT(winner_of[1], 1);
    CHECK_INT(winner_of[2], 2);
    keys[1] = (cdc_key_id_t){NULL, 0};
    keys[0] = keys[1];
    CHECK_INT(cdc_collapse(three, groups, keys, 3, winner_of, &arena), 3);

    fixture_free_set(&set);
    cdc_arena_destroy(&arena);
    cdc_decoder_destroy(decoder);
    cdc_registry_destroy(registry);
}

/* What counts as a type change (records to the DLQ, class schema). */
static void check_type_accepts(void)
{
    cdc_column_t i32 = {.type = CDC_TYPE_INT32}, str = {.type = CDC_TYPE_STRING},
                 dec = {.type = CDC_TYPE_DECIMAL}, ts = {.type = CDC_TYPE_TIMESTAMP_MICROS},
                 date = {.type = CDC_TYPE_DATE}, js = {.type = CDC_TYPE_JSON},
                 arr = {.type = CDC_TYPE_ARRAY, .element_type = CDC_TYPE_INT32},
                 b = {.type = CDC_TYPE_BOOLEAN};
    CHECK(cdc_pg_table_type_accepts("integer", &i32));
    CHECK(cdc_pg_table_type_accepts("bigint", &i32));
    CHECK(cdc_pg_table_type_accepts("numeric(12,2)", &i32));
    CHECK(cdc_pg_table_type_accepts("text", &i32));
    CHECK(cdc_pg_table_type_accepts("\"MyEnum\"", &str));
    CHECK(cdc_pg_table_type_accepts("numeric", &str)); /* decimal.handling.mode=string */
    CHECK(cdc_pg_table_type_accepts("uuid", &str));
    CHECK(cdc_pg_table_type_accepts("character varying(20)", &str));
    CHECK(cdc_pg_table_type_accepts("double precision", &dec));
    CHECK(cdc_pg_table_type_accepts("timestamp(3) without time zone", &ts));
    CHECK(cdc_pg_table_type_accepts("timestamp with time zone", &date));
    CHECK(cdc_pg_table_type_accepts("jsonb", &js));
    CHECK(cdc_pg_table_type_accepts("integer[]", &arr));
    /* int -> text at the source: the target's integer column is wrong now */
    CHECK(!cdc_pg_table_type_accepts("integer", &str));
    CHECK(!cdc_pg_table_type_accepts("boolean", &str));
    CHECK(!cdc_pg_table_type_accepts("integer", &dec));
    CHECK(!cdc_pg_table_type_accepts("date", &ts));
    CHECK(!cdc_pg_table_type_accepts("time without time zone", &ts));
    CHECK(!cdc_pg_table_type_accepts("integer", &js));
    CHECK(!cdc_pg_table_type_accepts("integer", &arr));
    CHECK(!cdc_pg_table_type_accepts("integer", &b));
    CHECK(!cdc_pg_table_type_accepts("boolean", &i32));
}

int main(void)
{
    check_type_accepts();
    check_values();
    check_sql();
    check_route();
    check_collapse();
    cdc_buf_free(&text_buf);
    return unit_finish("t0007-postgres");
}
