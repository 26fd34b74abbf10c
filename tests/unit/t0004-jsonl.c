/* t0004-jsonl — the jsonl sink: exact JSON for every column type, the event
 * line shape, and apply() appending one durable line per event. No servers.
 */
#include <errno.h>
#include <fcntl.h>
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../sinks/jsonl/jsonl.h"
#include "render.h"
#include "arena.h"
#include "config.h"
#include "unit.h"

static cdc_buf_t B;

/* Renders v (with an optional column) and returns the text. */
static const char *render(cdc_value_t v, const cdc_column_t *col)
{
    cdc_buf_reset(&B);
    CHECK_INT(cdc_render_value(&v, col, &B), 0);
    return B.data ? B.data : "";
}

static cdc_value_t vi(cdc_type_t t, int64_t i)
{
    cdc_value_t v = {.type = t};
    v.u.i = i;
    return v;
}

static cdc_value_t vd(cdc_type_t t, double d)
{
    cdc_value_t v = {.type = t};
    v.u.d = d;
    return v;
}

static cdc_value_t vb(cdc_type_t t, const char *p, size_t n)
{
    cdc_value_t v = {.type = t};
    v.u.str.ptr = p;
    v.u.str.len = n;
    return v;
}

static cdc_value_t vs(cdc_type_t t, const char *s)
{
    return vb(t, s, strlen(s));
}

static cdc_value_t varr(cdc_type_t t, const cdc_value_t *items, size_t n)
{
    cdc_value_t v = {.type = t};
    v.u.array.items = items;
    v.u.array.count = n;
    return v;
}

#define R(v) render((v), NULL)

static void test_scalars(void)
{
    cdc_value_t null = {.type = CDC_TYPE_INT32, .is_null = true};
    cdc_value_t unavailable = {.type = CDC_TYPE_STRING, .unavailable = true};
    CHECK_STR(R(null), "null");
    CHECK_STR(R(unavailable), "{\"$unavailable\":true}");

    cdc_value_t t = {.type = CDC_TYPE_BOOLEAN}, f = t;
    t.u.b = true;
    CHECK_STR(R(t), "true");
    CHECK_STR(R(f), "false");

    CHECK_STR(R(vi(CDC_TYPE_INT16, -32768)), "-32768");
    CHECK_STR(R(vi(CDC_TYPE_INT32, 2147483647)), "2147483647");
    CHECK_STR(R(vi(CDC_TYPE_INT64, INT64_MIN)), "-9223372036854775808");

    CHECK_STR(R(vs(CDC_TYPE_DECIMAL, "-12.50")), "\"-12.50\"");
    CHECK_STR(R(vs(CDC_TYPE_DECIMAL, "123456789012345678901234567890.000001")),
              "\"123456789012345678901234567890.000001\"");
}

static void test_floats(void)
{
    /* float64: shortest text that reads back as the same double */
    CHECK_STR(R(vd(CDC_TYPE_FLOAT64, 0.1)), "0.1");
    CHECK_STR(R(vd(CDC_TYPE_FLOAT64, 1.0 / 3)), "0.3333333333333333");
    CHECK_STR(R(vd(CDC_TYPE_FLOAT64, 100.0)), "100");
    CHECK_STR(R(vd(CDC_TYPE_FLOAT64, 1e21)), "1e+21");
    CHECK_STR(R(vd(CDC_TYPE_FLOAT64, 1.5e-7)), "1.5e-7");
    CHECK_STR(R(vd(CDC_TYPE_FLOAT64, 1e20)), "100000000000000000000");
    CHECK_STR(R(vd(CDC_TYPE_FLOAT64, 123.456)), "123.456");
    CHECK_STR(R(vd(CDC_TYPE_FLOAT64, -0.000001)), "-0.000001");
    CHECK_STR(R(vd(CDC_TYPE_FLOAT64, 0.0)), "0");
    CHECK_STR(R(vd(CDC_TYPE_FLOAT64, 2.5e-300)), "2.5e-300");
    CHECK_STR(R(vd(CDC_TYPE_FLOAT64, -0.0)), "-0");
    CHECK_STR(R(vd(CDC_TYPE_FLOAT64, 5e-324)), "5e-324");
    CHECK_STR(R(vd(CDC_TYPE_FLOAT64, DBL_MAX)), "1.7976931348623157e+308");
    /* float32: shortest for the float, not for its double widening */
    CHECK_STR(R(vd(CDC_TYPE_FLOAT32, (double)0.1f)), "0.1");
    CHECK_STR(R(vd(CDC_TYPE_FLOAT32, (double)(1.0f / 3))), "0.33333334");
    CHECK_STR(R(vd(CDC_TYPE_FLOAT32, (double)16777216.0f)), "16777216");
    CHECK_STR(R(vd(CDC_TYPE_FLOAT32, (double)FLT_MAX)), "3.4028235e+38");
    /* not numbers in JSON: strings, as Jackson and PostgreSQL spell them */
    CHECK_STR(R(vd(CDC_TYPE_FLOAT64, NAN)), "\"NaN\"");
    CHECK_STR(R(vd(CDC_TYPE_FLOAT64, INFINITY)), "\"Infinity\"");
    CHECK_STR(R(vd(CDC_TYPE_FLOAT64, -INFINITY)), "\"-Infinity\"");
    CHECK_STR(R(vd(CDC_TYPE_FLOAT32, NAN)), "\"NaN\"");
    CHECK_STR(R(vd(CDC_TYPE_FLOAT32, -INFINITY)), "\"-Infinity\"");
}

static void test_dates(void)
{
    CHECK_STR(R(vi(CDC_TYPE_DATE, 0)), "\"1970-01-01\"");
    CHECK_STR(R(vi(CDC_TYPE_DATE, -1)), "\"1969-12-31\"");
    CHECK_STR(R(vi(CDC_TYPE_DATE, 19782)), "\"2024-02-29\"");   /* leap day */
    CHECK_STR(R(vi(CDC_TYPE_DATE, 11016)), "\"2000-02-29\"");   /* 400-year */
    CHECK_STR(R(vi(CDC_TYPE_DATE, -25508)), "\"1900-03-01\"");  /* no 02-29 */
    CHECK_STR(R(vi(CDC_TYPE_DATE, -141438)), "\"1582-10-04\""); /* proleptic */
    CHECK_STR(R(vi(CDC_TYPE_DATE, -719162)), "\"0001-01-01\"");
    CHECK_STR(R(vi(CDC_TYPE_DATE, -719163)), "\"0000-12-31\"");
    CHECK_STR(R(vi(CDC_TYPE_DATE, -719528)), "\"0000-01-01\"");
    CHECK_STR(R(vi(CDC_TYPE_DATE, -719529)), "\"-0001-12-31\"");
    CHECK_STR(R(vi(CDC_TYPE_DATE, 2932896)), "\"9999-12-31\"");
    CHECK_STR(R(vi(CDC_TYPE_DATE, 2932897)), "\"+10000-01-01\"");
    /* garbage in: still a quoted string, no overflow (UBSan watches) */
    CHECK(R(vi(CDC_TYPE_DATE, INT64_MIN))[0] == '"');
    CHECK(R(vi(CDC_TYPE_DATE, INT64_MAX))[0] == '"');
}

static void test_times(void)
{
    CHECK_STR(R(vi(CDC_TYPE_TIME_MILLIS, 45296789)), "\"12:34:56.789\"");
    CHECK_STR(R(vi(CDC_TYPE_TIME_MILLIS, 0)), "\"00:00:00.000\"");
    CHECK_STR(R(vi(CDC_TYPE_TIME_MICROS, 45296789012)),
              "\"12:34:56.789012\"");
    CHECK_STR(R(vi(CDC_TYPE_TIME_MICROS, 0)), "\"00:00:00.000000\"");
    CHECK_STR(R(vi(CDC_TYPE_TIME_MICROS, 86400000000)), /* PostgreSQL 24:00 */
              "\"24:00:00.000000\"");
    CHECK_STR(R(vi(CDC_TYPE_TIME_NANOS, 45296789012345)),
              "\"12:34:56.789012345\"");
    CHECK_STR(R(vi(CDC_TYPE_TIME_NANOS, 1)), "\"00:00:00.000000001\"");

    CHECK_STR(R(vi(CDC_TYPE_TIMESTAMP_MICROS, 0)),
              "\"1970-01-01T00:00:00.000000\"");
    CHECK_STR(R(vi(CDC_TYPE_TIMESTAMP_MICROS, -1)),
              "\"1969-12-31T23:59:59.999999\"");
    CHECK_STR(R(vi(CDC_TYPE_TIMESTAMP_MICROS, 1700000000123456)),
              "\"2023-11-14T22:13:20.123456\"");
    CHECK_STR(R(vi(CDC_TYPE_TIMESTAMP_MICROS,
                   INT64_C(19782) * 86400000000 + INT64_C(43200000000))),
              "\"2024-02-29T12:00:00.000000\"");
    CHECK_STR(R(vi(CDC_TYPE_TIMESTAMP_MICROS, INT64_C(-62135596800000000))),
              "\"0001-01-01T00:00:00.000000\"");
    CHECK_STR(R(vi(CDC_TYPE_TIMESTAMP_MILLIS, -1)),
              "\"1969-12-31T23:59:59.999\"");
    CHECK_STR(R(vi(CDC_TYPE_TIMESTAMP_MILLIS, -86400001)),
              "\"1969-12-30T23:59:59.999\"");
    CHECK_STR(R(vi(CDC_TYPE_TIMESTAMP_MILLIS, 1700000000000)),
              "\"2023-11-14T22:13:20.000\"");
    CHECK_STR(R(vi(CDC_TYPE_TIMESTAMP_NANOS, INT64_C(1700000000123456789))),
              "\"2023-11-14T22:13:20.123456789\"");
    CHECK_STR(R(vi(CDC_TYPE_TIMESTAMP_NANOS, -1)),
              "\"1969-12-31T23:59:59.999999999\"");
    CHECK_STR(R(vi(CDC_TYPE_TIMESTAMP_NANOS, INT64_MIN)),
              "\"1677-09-21T00:12:43.145224192\"");
    CHECK(R(vi(CDC_TYPE_TIMESTAMP_MILLIS, INT64_MIN))[0] == '"');

    /* zoned: Debezium's ISO-8601 text, untouched */
    CHECK_STR(R(vs(CDC_TYPE_ZONED_TIMESTAMP, "2024-01-02T03:04:05.123456Z")),
              "\"2024-01-02T03:04:05.123456Z\"");
    CHECK_STR(R(vs(CDC_TYPE_ZONED_TIME, "03:04:05.123Z")),
              "\"03:04:05.123Z\"");
}

static void test_intervals(void)
{
    CHECK_STR(R(vi(CDC_TYPE_INTERVAL_MICROS, 93784000005)),
              "\"P1DT2H3M4.000005S\"");
    CHECK_STR(R(vi(CDC_TYPE_INTERVAL_MICROS, 0)), "\"P0DT0H0M0.000000S\"");
    CHECK_STR(R(vi(CDC_TYPE_INTERVAL_MICROS, 3600000000)),
              "\"P0DT1H0M0.000000S\"");
    CHECK_STR(R(vi(CDC_TYPE_INTERVAL_MICROS, -93784000005)),
              "\"P-1DT-2H-3M-4.000005S\"");
    CHECK_STR(R(vi(CDC_TYPE_INTERVAL_MICROS, -5)),
              "\"P0DT0H0M-0.000005S\"");
    /* a month is 30 days in MicroDuration */
    CHECK_STR(R(vi(CDC_TYPE_INTERVAL_MICROS, INT64_C(30) * 86400000000)),
              "\"P30DT0H0M0.000000S\"");
    CHECK_STR(R(vi(CDC_TYPE_INTERVAL_MICROS, INT64_MIN)),
              "\"P-106751991DT-4H0M-54.775808S\"");
    CHECK_STR(R(vs(CDC_TYPE_INTERVAL_STRING, "P1Y2M3DT4H5M6.78S")),
              "\"P1Y2M3DT4H5M6.78S\"");
}

static void test_strings(void)
{
    CHECK_STR(R(vs(CDC_TYPE_STRING, "")), "\"\"");
    CHECK_STR(R(vs(CDC_TYPE_STRING, "plain")), "\"plain\"");
    CHECK_STR(R(vs(CDC_TYPE_STRING, "say \"hi\" \\ bye")),
              "\"say \\\"hi\\\" \\\\ bye\"");
    CHECK_STR(R(vs(CDC_TYPE_STRING, "l1\nl2\r\tx")), "\"l1\\nl2\\r\\tx\"");
    CHECK_STR(R(vs(CDC_TYPE_STRING, "\x01\x08\x0c\x1f\x7f/")),
              "\"\\u0001\\u0008\\u000c\\u001f\x7f/\"");
    CHECK_STR(R(vb(CDC_TYPE_STRING, "a\0b", 3)), "\"a\\u0000b\"");
    /* UTF-8 passes through; ill-formed bytes become U+FFFD, one per
     * maximal subpart */
    CHECK_STR(R(vs(CDC_TYPE_STRING, "h\xc3\xa9llo \xe2\x82\xac \xf0\x9f\x98\x80")),
              "\"h\xc3\xa9llo \xe2\x82\xac \xf0\x9f\x98\x80\"");
    CHECK_STR(R(vs(CDC_TYPE_STRING, "a\xff" "b")), "\"a\\ufffdb\"");
    CHECK_STR(R(vs(CDC_TYPE_STRING, "end\xc3")), "\"end\\ufffd\"");
    CHECK_STR(R(vs(CDC_TYPE_STRING, "\xe2\x82" "x")), "\"\\ufffdx\"");
    CHECK_STR(R(vs(CDC_TYPE_STRING, "\xc0\xaf")), "\"\\ufffd\\ufffd\"");
    CHECK_STR(R(vs(CDC_TYPE_STRING, "\xed\xa0\x80")), /* a surrogate */
              "\"\\ufffd\\ufffd\\ufffd\"");
    CHECK_STR(R(vs(CDC_TYPE_STRING, "\xf4\x90\x80\x80")), /* > U+10FFFF */
              "\"\\ufffd\\ufffd\\ufffd\\ufffd\"");

    CHECK_STR(R(vs(CDC_TYPE_UUID, "0b0e6c8e-6d4c-4b8e-9a43-2f7f2e0c1d5a")),
              "\"0b0e6c8e-6d4c-4b8e-9a43-2f7f2e0c1d5a\"");
    CHECK_STR(R(vs(CDC_TYPE_ENUM, "shipped")), "\"shipped\"");
    CHECK_STR(R(vs(CDC_TYPE_XML, "<a href=\"x\">t</a>")),
              "\"<a href=\\\"x\\\">t</a>\"");
}

static void test_json(void)
{
    /* embedded as a value, insignificant whitespace (even newlines) gone */
    CHECK_STR(R(vs(CDC_TYPE_JSON,
                   "{\"a\": [1, -2.5e3, true, false, null],\n \"b\": "
                   "\"x\\ny \\u00e9\", \"c\": {}}")),
              "{\"a\":[1,-2.5e3,true,false,null],\"b\":\"x\\ny \\u00e9\","
              "\"c\":{}}");
    CHECK_STR(R(vs(CDC_TYPE_JSON, " 42 ")), "42");
    CHECK_STR(R(vs(CDC_TYPE_JSON, "\"s\"")), "\"s\"");
    CHECK_STR(R(vs(CDC_TYPE_JSON, "[ ]")), "[]");
    CHECK_STR(R(vs(CDC_TYPE_JSON, "")), "\"\"");
    /* not JSON after all: kept as a string so the line stays valid */
    CHECK_STR(R(vs(CDC_TYPE_JSON, "{not json")), "\"{not json\"");
    CHECK_STR(R(vs(CDC_TYPE_JSON, "[1,]")), "\"[1,]\"");
    CHECK_STR(R(vs(CDC_TYPE_JSON, "01")), "\"01\"");
    CHECK_STR(R(vs(CDC_TYPE_JSON, "{} {}")), "\"{} {}\"");
    char deep[602];
    memset(deep, '[', 300);
    memset(deep + 300, ']', 300);
    deep[600] = '\0';
    CHECK(R(vs(CDC_TYPE_JSON, deep))[0] == '"'); /* depth limit */
}

static void test_bytes(void)
{
    CHECK_STR(R(vb(CDC_TYPE_BYTES, "", 0)), "\"\"");
    CHECK_STR(R(vb(CDC_TYPE_BYTES, "\x00", 1)), "\"AA==\"");
    CHECK_STR(R(vb(CDC_TYPE_BYTES, "\x00\x01", 2)), "\"AAE=\"");
    CHECK_STR(R(vb(CDC_TYPE_BYTES, "\x00\x01\x02", 3)), "\"AAEC\"");
    CHECK_STR(R(vb(CDC_TYPE_BYTES, "\xff\xfe\xfd\xfc", 4)), "\"//79/A==\"");
    CHECK_STR(R(vs(CDC_TYPE_BYTES, "foobar")), "\"Zm9vYmFy\"");
    CHECK_STR(R(vb(CDC_TYPE_BITS, "\x05", 1)), "\"BQ==\"");
}

static const cdc_column_t point_cols[] = {
    {.name = "x", .type = CDC_TYPE_INT32},
    {.name = "label", .type = CDC_TYPE_STRING, .optional = true},
};
static const cdc_row_schema_t point_schema = {"cdc.Point", 2, point_cols};

static void test_nested(void)
{
    cdc_value_t ints[3] = {vi(CDC_TYPE_INT32, 1), vi(CDC_TYPE_INT32, 2),
                           {.type = CDC_TYPE_INT32, .is_null = true}};
    CHECK_STR(R(varr(CDC_TYPE_ARRAY, ints, 3)), "[1,2,null]");
    CHECK_STR(R(varr(CDC_TYPE_ARRAY, ints, 0)), "[]");

    cdc_value_t inner[2] = {varr(CDC_TYPE_ARRAY, ints, 2),
                            varr(CDC_TYPE_ARRAY, ints, 0)};
    CHECK_STR(R(varr(CDC_TYPE_ARRAY, inner, 2)), "[[1,2],[]]");

    cdc_value_t texts[2] = {vs(CDC_TYPE_STRING, "a\"b"),
                            vi(CDC_TYPE_DATE, -1)};
    CHECK_STR(R(varr(CDC_TYPE_ARRAY, texts, 2)), "[\"a\\\"b\",\"1969-12-31\"]");

    /* record: names from the column's nested schema */
    cdc_value_t pt[2] = {vi(CDC_TYPE_INT32, 7), vs(CDC_TYPE_STRING, "p")};
    cdc_column_t rec_col = {.name = "pt", .type = CDC_TYPE_RECORD,
                            .fields = &point_schema};
    CHECK_STR(render(varr(CDC_TYPE_RECORD, pt, 2), &rec_col),
              "{\"x\":7,\"label\":\"p\"}");
    /* no schema known: positional */
    CHECK_STR(R(varr(CDC_TYPE_RECORD, pt, 2)), "[7,\"p\"]");
    /* array of records: the array column carries the items' fields */
    cdc_value_t pts[2] = {varr(CDC_TYPE_RECORD, pt, 2),
                          varr(CDC_TYPE_RECORD, pt, 1)};
    cdc_column_t arr_col = {.name = "pts", .type = CDC_TYPE_ARRAY,
                            .element_type = CDC_TYPE_RECORD,
                            .fields = &point_schema};
    CHECK_STR(render(varr(CDC_TYPE_ARRAY, pts, 2), &arr_col),
              "[{\"x\":7,\"label\":\"p\"},{\"x\":7,\"label\":null}]");

    /* map: an object with text keys, else [key, value] pairs */
    cdc_value_t m1[4] = {vs(CDC_TYPE_STRING, "k1"), vi(CDC_TYPE_INT64, 1),
                         vs(CDC_TYPE_STRING, "k\n2"),
                         {.type = CDC_TYPE_INT64, .is_null = true}};
    CHECK_STR(R(varr(CDC_TYPE_MAP, m1, 4)), "{\"k1\":1,\"k\\n2\":null}");
    cdc_value_t m2[4] = {vi(CDC_TYPE_INT32, 1), vs(CDC_TYPE_STRING, "a"),
                         vi(CDC_TYPE_INT32, 2), vs(CDC_TYPE_STRING, "b")};
    CHECK_STR(R(varr(CDC_TYPE_MAP, m2, 4)), "[[1,\"a\"],[2,\"b\"]]");
    CHECK_STR(R(varr(CDC_TYPE_MAP, m2, 0)), "{}");
}

/* ------------------------------------------------------------------ */
/* Events                                                              */

static const cdc_column_t key_cols[] = {
    {.name = "id", .type = CDC_TYPE_INT64},
};
static const cdc_row_schema_t key_schema = {"cdc.public.orders.Key", 1,
                                            key_cols};

static const cdc_column_t row_cols[] = {
    {.name = "id", .type = CDC_TYPE_INT64},
    {.name = "status", .type = CDC_TYPE_ENUM},
    {.name = "total", .type = CDC_TYPE_DECIMAL, .precision = 10, .scale = 2},
    {.name = "note", .type = CDC_TYPE_STRING, .optional = true},
    {.name = "created", .type = CDC_TYPE_TIMESTAMP_MICROS},
};
static const cdc_row_schema_t row_schema = {"cdc.public.orders.Value", 5,
                                            row_cols};

static cdc_value_t *row_new(cdc_arena_t *arena, int64_t id, const char *status,
                            const char *total, const char *note,
                            bool note_unavailable)
{
    cdc_value_t *row = cdc_arena_alloc(arena, 5 * sizeof *row);
    memset(row, 0, 5 * sizeof *row);
    row[0] = vi(CDC_TYPE_INT64, id);
    row[1] = vs(CDC_TYPE_ENUM, cdc_arena_strndup(arena, status, strlen(status)));
    row[2] = vs(CDC_TYPE_DECIMAL, cdc_arena_strndup(arena, total, strlen(total)));
    row[3].type = CDC_TYPE_STRING;
    if (note_unavailable) row[3].unavailable = true;
    else if (!note) row[3].is_null = true;
    else row[3] = vs(CDC_TYPE_STRING, cdc_arena_strndup(arena, note, strlen(note)));
    row[4] = vi(CDC_TYPE_TIMESTAMP_MICROS, -1);
    return row;
}

static cdc_value_t *key_new(cdc_arena_t *arena, int64_t id)
{
    cdc_value_t *key = cdc_arena_alloc(arena, sizeof *key);
    *key = vi(CDC_TYPE_INT64, id);
    return key;
}

static cdc_event_t event_base(int64_t offset, cdc_op_t op)
{
    cdc_event_t ev = {0};
    ev.topic = "cdc.public.orders";
    ev.partition = 0;
    ev.offset = offset;
    ev.op = op;
    ev.key_schema = &key_schema;
    ev.row_schema = &row_schema;
    ev.has_position = true;
    ev.position = 23456789;
    ev.change_lsn = 23456700;
    ev.source_ts_ms = 1700000000000;
    ev.source_db = "source";
    ev.source_schema = "public";
    ev.source_table = "orders";
    return ev;
}

static const char *const UPDATE_LINE =
    "{\"topic\":\"cdc.public.orders\",\"partition\":0,\"offset\":42,"
    "\"op\":\"u\",\"position\":23456789,\"ts_ms\":1700000000000,"
    "\"source\":{\"db\":\"source\",\"schema\":\"public\",\"table\":\"orders\",\"lsn\":23456700},"
    "\"key\":{\"id\":1},"
    "\"before\":{\"id\":1,\"status\":\"new\",\"total\":\"-12.50\","
    "\"note\":\"line1\\nline2\",\"created\":\"1969-12-31T23:59:59.999999\"},"
    "\"after\":{\"id\":1,\"status\":\"paid\",\"total\":\"0.00\","
    "\"note\":{\"$unavailable\":true},"
    "\"created\":\"1969-12-31T23:59:59.999999\"}}";

static const char *const TOMBSTONE_LINE =
    "{\"topic\":\"cdc.public.orders\",\"partition\":3,\"offset\":44,"
    "\"op\":\"tombstone\",\"position\":null,\"ts_ms\":null,"
    "\"source\":{\"db\":null,\"schema\":null,\"table\":null,\"lsn\":null},"
    "\"key\":{\"id\":1},\"before\":null,\"after\":null}";

static const char *const DELETE_LINE =
    "{\"topic\":\"cdc.public.orders\",\"partition\":0,\"offset\":43,"
    "\"op\":\"d\",\"position\":23456790,\"ts_ms\":1700000000000,"
    "\"source\":{\"db\":\"source\",\"schema\":\"public\",\"table\":\"orders\",\"lsn\":23456701},"
    "\"key\":null,"
    "\"before\":{\"id\":1,\"status\":\"paid\",\"total\":\"0.00\","
    "\"note\":null,\"created\":\"1969-12-31T23:59:59.999999\"},"
    "\"after\":null}";

/* Three events: an update with an unavailable column, a delete without a
 * key, and a tombstone (no position, no source). */
static void events_build(cdc_arena_t *arena, cdc_event_t evs[3])
{
    evs[0] = event_base(42, CDC_OP_UPDATE);
    evs[0].key = key_new(arena, 1);
    evs[0].before = row_new(arena, 1, "new", "-12.50", "line1\nline2", false);
    evs[0].after = row_new(arena, 1, "paid", "0.00", NULL, true);

    evs[1] = event_base(43, CDC_OP_DELETE);
    evs[1].position = 23456790;
    evs[1].change_lsn = 23456701;
    evs[1].key_schema = NULL;
    evs[1].before = row_new(arena, 1, "paid", "0.00", NULL, false);

    evs[2] = event_base(44, CDC_OP_TOMBSTONE);
    evs[2].partition = 3;
    evs[2].key = key_new(arena, 1);
    evs[2].after = evs[0].after; /* ignored: a tombstone has no rows */
    evs[2].has_position = false;
    evs[2].source_ts_ms = 0;
    evs[2].source_db = "";
    evs[2].source_schema = "";
    evs[2].source_table = "";
}

static void test_event_lines(void)
{
    cdc_arena_t arena;
    cdc_arena_init(&arena, 0);
    cdc_event_t evs[3];
    events_build(&arena, evs);

    cdc_buf_reset(&B);
    CHECK_INT(cdc_render_event(&evs[0], &B), 0);
    CHECK_STR(B.data, UPDATE_LINE);
    cdc_buf_reset(&B);
    CHECK_INT(cdc_render_event(&evs[1], &B), 0);
    CHECK_STR(B.data, DELETE_LINE);
    cdc_buf_reset(&B);
    CHECK_INT(cdc_render_event(&evs[2], &B), 0);
    CHECK_STR(B.data, TOMBSTONE_LINE);

    cdc_arena_destroy(&arena);
}

/* ------------------------------------------------------------------ */
/* apply() on a real file                                              */

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    static char data[1 << 16];
    size_t n = fread(data, 1, sizeof data - 1, f);
    data[n] = '\0';
    fclose(f);
    return data;
}

static int count_lines(const char *text)
{
    int n = 0;
    for (; *text; text++)
        if (*text == '\n') n++;
    return n;
}

static void test_apply_file(void)
{
    char path[] = "/tmp/t0004-jsonl-XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    if (fd < 0) return;
    close(fd);

    cdc_arena_t arena;
    cdc_arena_init(&arena, 0);
    cdc_event_t evs[3];
    events_build(&arena, evs);
    const cdc_change_t batch[3] = {{.event = &evs[0]}, {.event = &evs[1]}, {.event = &evs[2]}};
    cdc_outcome_t out[3];
    char err[256] = "";

    void *st = NULL;
    CHECK_INT(cdc_jsonl_open_path(path, &st, err, sizeof err), CDC_SINK_OK);
    CHECK(st != NULL);
    if (!st) goto done;
    for (int i = 0; i < 3; i++) out[i].kind = CDC_OUTCOME_REJECTED;
    CHECK_INT(cdc_jsonl_sink.apply(st, batch, 3, out, &arena, err, sizeof err),
              CDC_SINK_OK);
    for (int i = 0; i < 3; i++) CHECK_INT(out[i].kind, CDC_OUTCOME_APPLIED);
    CHECK_INT(cdc_jsonl_sink.apply(st, batch, 0, out, &arena, err, sizeof err),
              CDC_SINK_OK);

    char *text = slurp(path);
    CHECK(text != NULL);
    if (text) {
        CHECK_INT(count_lines(text), 3);
        char *nl = strchr(text, '\n');
        if (nl) *nl = '\0';
        CHECK_STR(text, UPDATE_LINE);
    }

    /* a second batch appends */
    CHECK_INT(cdc_jsonl_sink.apply(st, batch + 2, 1, out, &arena, err,
                                   sizeof err),
              CDC_SINK_OK);
    cdc_jsonl_sink.close(st);
    text = slurp(path);
    CHECK(text && count_lines(text) == 4);

    /* reopening appends too, and a line cut short by a crash is ended
     * before the next one starts */
    FILE *f = fopen(path, "ab");
    CHECK(f != NULL);
    if (f) {
        fputs("{\"cut\":", f);
        fclose(f);
    }
    CHECK_INT(cdc_jsonl_open_path(path, &st, err, sizeof err), CDC_SINK_OK);
    if (st) {
        CHECK_INT(cdc_jsonl_sink.apply(st, batch + 2, 1, out, &arena, err,
                                       sizeof err),
                  CDC_SINK_OK);
        cdc_jsonl_sink.close(st);
    }
    text = slurp(path);
    CHECK(text && count_lines(text) == 6);
    if (text) {
        char want[1024];
        snprintf(want, sizeof want, "{\"cut\":\n%s\n", TOMBSTONE_LINE);
        size_t tl = strlen(text), wl = strlen(want);
        CHECK(tl >= wl && strcmp(text + tl - wl, want) == 0);
    }
done:
    unlink(path);
    cdc_arena_destroy(&arena);
}

static void test_open_errors(void)
{
    char err[256] = "";
    void *st = (void *)&err;
    CHECK_INT(cdc_jsonl_open_path("/nonexistent-dir/x.jsonl", &st, err,
                                  sizeof err),
              CDC_SINK_FATAL);
    CHECK(st == NULL);
    CHECK(strstr(err, "/nonexistent-dir/x.jsonl") != NULL);
    CHECK(strstr(err, strerror(ENOENT)) != NULL);

    CHECK_INT(cdc_jsonl_open_path("", &st, err, sizeof err), CDC_SINK_FATAL);

    /* "-" is stdout: opened, never closed by the sink */
    CHECK_INT(cdc_jsonl_open_path("-", &st, err, sizeof err), CDC_SINK_OK);
    cdc_jsonl_sink.close(st);
    CHECK(fcntl(STDOUT_FILENO, F_GETFD) != -1 || errno != EBADF);
}

/* The way the core opens it: through a pipeline file's jsonl.path. */
static void test_open_config(void)
{
    char path[] = "/tmp/t0004-jsonl-cfg-XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    if (fd < 0) return;
    close(fd);

    char text[512], err[512] = "";
    const char *head = "name = t0004\n"
                       "sink = jsonl\n"
                       "topics = cdc.public.orders\n"
                       "schema.registry.url = http://localhost:8081\n";
    snprintf(text, sizeof text, "%sjsonl.path = %s\n", head, path);
    cdc_config_t *cfg = cdc_config_parse(text, "t0004.properties",
                                         cdc_sink_catalog(), err, sizeof err);
    if (!cfg) fprintf(stderr, "t0004: config: %s\n", err);
    CHECK(cfg != NULL);
    if (cfg) {
        cdc_arena_t arena;
        cdc_arena_init(&arena, 0);
        cdc_event_t evs[3];
        events_build(&arena, evs);
        const cdc_change_t batch[3] = {{.event = &evs[0]}, {.event = &evs[1]}, {.event = &evs[2]}};
        cdc_outcome_t out[3];
        void *st = NULL;
        CHECK_INT(cdc_jsonl_sink.open(cfg, &st, err, sizeof err),
                  CDC_SINK_OK);
        if (st) {
            CHECK_INT(cdc_jsonl_sink.apply(st, batch, 3, out, &arena, err,
                                           sizeof err),
                      CDC_SINK_OK);
            cdc_jsonl_sink.close(st);
        }
        char *got = slurp(path);
        CHECK(got && count_lines(got) == 3);
        cdc_config_destroy(cfg);
        cdc_arena_destroy(&arena);
    }

    /* an unopenable path is fatal and points at the file and line */
    snprintf(text, sizeof text, "%sjsonl.path = /nonexistent-dir/x.jsonl\n",
             head);
    cfg = cdc_config_parse(text, "t0004.properties", cdc_sink_catalog(), err,
                           sizeof err);
    CHECK(cfg != NULL);
    if (cfg) {
        void *st = NULL;
        CHECK_INT(cdc_jsonl_sink.open(cfg, &st, err, sizeof err),
                  CDC_SINK_FATAL);
        CHECK(strncmp(err, "t0004.properties:5: ", 20) == 0);
        CHECK(strstr(err, "/nonexistent-dir/x.jsonl") != NULL);
        cdc_config_destroy(cfg);
    }
    unlink(path);
}

/* A full disk is transient: RETRY, with the path and the OS's words. */
static void test_write_error(void)
{
    if (access("/dev/full", W_OK) != 0) {
        fprintf(stderr, "t0004: /dev/full missing, write error not tested\n");
        return;
    }
    cdc_arena_t arena;
    cdc_arena_init(&arena, 0);
    cdc_event_t evs[3];
    events_build(&arena, evs);
    const cdc_change_t batch[3] = {{.event = &evs[0]}, {.event = &evs[1]}, {.event = &evs[2]}};
    cdc_outcome_t out[3];
    char err[256] = "";
    void *st = NULL;
    CHECK_INT(cdc_jsonl_open_path("/dev/full", &st, err, sizeof err),
              CDC_SINK_OK);
    if (st) {
        CHECK_INT(cdc_jsonl_sink.apply(st, batch, 3, out, &arena, err,
                                       sizeof err),
                  CDC_SINK_RETRY);
        CHECK(strstr(err, "/dev/full") != NULL);
        CHECK(strstr(err, strerror(ENOSPC)) != NULL);
        cdc_jsonl_sink.close(st);
    }
    cdc_arena_destroy(&arena);
}

int main(void)
{
    cdc_buf_init(&B);
    CHECK(cdc_sink_find("jsonl") == &cdc_jsonl_sink);
    CHECK_STR(cdc_jsonl_sink.name, "jsonl");
    test_scalars();
    test_floats();
    test_dates();
    test_times();
    test_intervals();
    test_strings();
    test_json();
    test_bytes();
    test_nested();
    test_event_lines();
    test_apply_file();
    test_open_errors();
    test_open_config();
    test_write_error();
    cdc_buf_free(&B);
    return unit_finish("t0004-jsonl");
}
