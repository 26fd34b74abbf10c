/* PostgreSQL sink pieces that need no server: value text, statement text
 * and the type rules. (Routing and collapse are the core's: t0008.) */
#include <math.h>

#include "pg_sql.h"
#include "pg_table.h"
#include "pg_value.h"
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
    /* Arrays of arrays are PostgreSQL's dimensions, not quoted elements
     * (quoting doubled the escapes at every level: 2^depth bytes). */
    cdc_value_t inner[2] = {ival(CDC_TYPE_INT32, 1), ival(CDC_TYPE_INT32, 2)};
    cdc_value_t rows[3] = {{.type = CDC_TYPE_ARRAY, .u.array = {inner, 2}},
                           {.type = CDC_TYPE_ARRAY, .is_null = true},
                           {.type = CDC_TYPE_ARRAY, .u.array = {inner, 2}}};
    cdc_value_t matrix = {.type = CDC_TYPE_ARRAY, .u.array = {rows, 3}};
    CHECK_STR(text_of(matrix), "{{\"1\",\"2\"},NULL,{\"1\",\"2\"}}");
    enum { DEEP = 60 };
    cdc_value_t levels[DEEP];
    levels[0] = ival(CDC_TYPE_INT32, 7);
    for (int i = 1; i < DEEP; i++)
        levels[i] = (cdc_value_t){.type = CDC_TYPE_ARRAY, .u.array = {&levels[i - 1], 1}};
    const char *deep = text_of(levels[DEEP - 1]);
    CHECK_INT(strlen(deep), 2 * (DEEP - 1) + 3);
    CHECK(strncmp(deep, "{{{{", 4) == 0 && strstr(deep, "{\"7\"}") != NULL);
    cdc_value_t records[1] = {{.type = CDC_TYPE_RECORD}};
    cdc_value_t of_records = {.type = CDC_TYPE_ARRAY, .u.array = {records, 1}};
    CHECK_STR(text_of(of_records), "(unsupported)");
    /* auto.create: an array of arrays' innermost type is not known */
    cdc_buf_t type;
    cdc_buf_init(&type);
    cdc_pg_table_type_for(&(cdc_column_t){.type = CDC_TYPE_ARRAY, .element_type = CDC_TYPE_ARRAY},
                          &type);
    CHECK_STR(type.data, "text[]");
    cdc_buf_reset(&type);
    cdc_pg_table_type_for(&(cdc_column_t){.type = CDC_TYPE_ARRAY, .element_type = CDC_TYPE_INT32},
                          &type);
    CHECK_STR(type.data, "integer[]");
    cdc_buf_free(&type);
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
    cdc_pg_sql_build(&sql, hostile_table(), CDC_ACTION_UPSERT, cols, 2, true, false, false);
    CHECK_STR(sql.data,
              "WITH t AS (SELECT * FROM unnest($1::integer[], $2::text[], $3::bigint[]) "
              "WITH ORDINALITY AS t(c0, c1, pos, ord)), "
              "ins AS (INSERT INTO \"s\".\"t\"\"x\" AS target (\"Id\", \"we\"\"ird; DROP\", "
              "\"__cdc_lsn\", \"__cdc_deleted\") SELECT t.c0, t.c1, t.pos, false FROM t "
              "WHERE NOT EXISTS (SELECT 1 FROM cdcsink.tombstones tb WHERE tb.target_table = $4 "
              "AND tb.key = ARRAY[t.c0::text] AND tb.position >= t.pos) ON CONFLICT (\"Id\") "
              "DO UPDATE SET \"__cdc_lsn\" = EXCLUDED.\"__cdc_lsn\", \"__cdc_deleted\" = false, "
              "\"Id\" = EXCLUDED.\"Id\", \"we\"\"ird; DROP\" = EXCLUDED.\"we\"\"ird; DROP\" "
              "WHERE (target.\"__cdc_lsn\" < EXCLUDED.\"__cdc_lsn\" OR target.\"__cdc_lsn\" IS NULL) "
              "RETURNING target.\"Id\") "
              "SELECT t.ord FROM t JOIN ins ON t.c0 = ins.\"Id\"");
    /* The counted form: the same upsert straight from the unnest, no
     * ordinals, no RETURNING; its row count is the answer. */
    cdc_buf_reset(&sql);
    cdc_pg_sql_build(&sql, hostile_table(), CDC_ACTION_UPSERT, cols, 2, true, true, false);
    CHECK_STR(sql.data,
              "INSERT INTO \"s\".\"t\"\"x\" AS target (\"Id\", \"we\"\"ird; DROP\", "
              "\"__cdc_lsn\", \"__cdc_deleted\") SELECT t.c0, t.c1, t.pos, false FROM "
              "unnest($1::integer[], $2::text[], $3::bigint[]) AS t(c0, c1, pos) "
              "WHERE NOT EXISTS (SELECT 1 FROM cdcsink.tombstones tb WHERE tb.target_table = $4 "
              "AND tb.key = ARRAY[t.c0::text] AND tb.position >= t.pos) ON CONFLICT (\"Id\") "
              "DO UPDATE SET \"__cdc_lsn\" = EXCLUDED.\"__cdc_lsn\", \"__cdc_deleted\" = false, "
              "\"Id\" = EXCLUDED.\"Id\", \"we\"\"ird; DROP\" = EXCLUDED.\"we\"\"ird; DROP\" "
              "WHERE (target.\"__cdc_lsn\" < EXCLUDED.\"__cdc_lsn\" OR target.\"__cdc_lsn\" IS NULL)");
    CHECK(cdc_pg_sql_countable(CDC_ACTION_UPSERT) && cdc_pg_sql_countable(CDC_ACTION_SOFT_DELETE));
    CHECK(!cdc_pg_sql_countable(CDC_ACTION_DELETE) && !cdc_pg_sql_countable(CDC_ACTION_KEY_DELETE));
    /* Deletes have no counted form: asking for it changes nothing. */
    cdc_buf_t precise;
    cdc_buf_init(&precise);
    cdc_buf_reset(&sql);
    cdc_pg_sql_build(&sql, hostile_table(), CDC_ACTION_DELETE, cols, 1, true, true, false);
    cdc_pg_sql_build(&precise, hostile_table(), CDC_ACTION_DELETE, cols, 1, true, false, false);
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
    cdc_pg_sql_build(&sql, &arr, CDC_ACTION_UPSERT, cols, 2, false, true, false);
    CHECK(strstr(sql.data, "unnest($1::bigint[], $2::text[], $3::bigint[])") != NULL);
    CHECK(strstr(sql.data, "SELECT t.c0, t.c1::integer[], t.pos, false") != NULL);
    cdc_buf_reset(&sql);
    cdc_pg_sql_build(&sql, hostile_table(), CDC_ACTION_SOFT_DELETE, cols, 2, false, false, false);
    CHECK(strstr(sql.data, "\"__cdc_deleted\" = true WHERE (target.\"__cdc_lsn\" < EXCLUDED") != NULL);
    CHECK(strstr(sql.data, "tombstones") == NULL);
    cdc_buf_reset(&sql);
    cdc_pg_sql_build(&sql, hostile_table(), CDC_ACTION_DELETE, cols, 1, true, false, false);
    CHECK(strstr(sql.data, "DELETE FROM \"s\".\"t\"\"x\" AS target USING t WHERE "
                           "t.c0 = target.\"Id\" AND (target.\"__cdc_lsn\" < t.pos OR "
                           "target.\"__cdc_lsn\" IS NULL) RETURNING") != NULL);
    CHECK(strstr(sql.data, "INSERT INTO cdcsink.tombstones") != NULL);
    CHECK(strstr(sql.data, "WHERE tb.position < EXCLUDED.position") != NULL);
    CHECK(strstr(sql.data, "AND target.\"__cdc_lsn\" >= t.pos)") != NULL);
    /* Inclusive positions (changes of one transaction written before the
     * commit it follows) apply over an equal stored position: every
     * comparison of the guard takes the equal case the other way. */
    cdc_buf_reset(&sql);
    cdc_pg_sql_build(&sql, hostile_table(), CDC_ACTION_DELETE, cols, 1, true, false, true);
    CHECK(strstr(sql.data, "AND (target.\"__cdc_lsn\" <= t.pos OR") != NULL);
    CHECK(strstr(sql.data, "WHERE tb.position <= EXCLUDED.position") != NULL);
    CHECK(strstr(sql.data, "AND target.\"__cdc_lsn\" > t.pos)") != NULL);
    cdc_buf_reset(&sql);
    cdc_pg_sql_build(&sql, hostile_table(), CDC_ACTION_UPSERT, cols, 2, true, true, true);
    CHECK(strstr(sql.data, "AND tb.position > t.pos)") != NULL);
    CHECK(strstr(sql.data, "WHERE (target.\"__cdc_lsn\" <= EXCLUDED.\"__cdc_lsn\" OR") != NULL);
    cdc_buf_reset(&sql);
    cdc_pg_sql_build(&sql, hostile_table(), CDC_ACTION_KEY_DELETE, cols, 1, false, false, false);
    CHECK(strstr(sql.data, "unnest($1::integer[]) WITH ORDINALITY") != NULL);
    CHECK(strstr(sql.data, "pos") == NULL); /* no guard: a tombstone has none */
    cdc_buf_free(&sql);
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

/* Replicas of one pipeline meet the same missing schema and table at once:
 * every DDL statement queues on one advisory lock before its IF NOT EXISTS
 * (without it the loser of the race stops on 23505: tests/bench/scale-out). */
static void check_ddl(void)
{
    const char *lock = "SELECT pg_advisory_xact_lock(6363647370); ";
    cdc_column_t cols[] = {{.name = "id", .type = CDC_TYPE_INT64},
                           {.name = "note", .type = CDC_TYPE_STRING, .optional = true}};
    cdc_row_schema_t row = {.name = "cdc.public.t.Value", .ncolumns = 2, .columns = cols};
    const char *pk[] = {"id", NULL};
    cdc_pg_table_options_t o = {.position_column = "__cdc_lsn",
                                .deleted_column = "__cdc_deleted", .pk_fields = pk};
    cdc_event_t ev = {.row_schema = &row};
    cdc_buf_t sql;
    cdc_buf_init(&sql);
    CHECK_INT(cdc_pg_table_create_sql(&sql, "\"s\"", "\"s\".\"t\"", &o, &ev), 1);
    CHECK(strncmp(sql.data, lock, strlen(lock)) == 0);
    CHECK(strstr(sql.data, "CREATE SCHEMA IF NOT EXISTS \"s\"; CREATE TABLE IF NOT EXISTS \"s\".\"t\" (") != NULL);
    CHECK(strstr(sql.data, "\"__cdc_lsn\" bigint NOT NULL, ") != NULL);
    CHECK(strstr(sql.data, "PRIMARY KEY (\"id\"))") != NULL);
    cdc_buf_reset(&sql);
    const cdc_column_t *added[] = {&cols[1]};
    cdc_pg_table_t t = {.schema = "s", .name = "t", .qualified = "\"s\".\"t\""};
    cdc_pg_table_add_columns_sql(&sql, &t, added, 1);
    CHECK(strncmp(sql.data, lock, strlen(lock)) == 0);
    CHECK_STR(sql.data + strlen(lock), "ALTER TABLE \"s\".\"t\" ADD COLUMN IF NOT EXISTS \"note\" text");
    cdc_buf_free(&sql);
}

int main(void)
{
    check_type_accepts();
    check_ddl();
    check_values();
    check_sql();
    cdc_buf_free(&text_buf);
    return unit_finish("t0007-postgres");
}
