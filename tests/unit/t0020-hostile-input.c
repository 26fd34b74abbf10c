/* Hostile input the decoder must refuse with a clear error, never a stack
 * overflow, and what it must still take (docs/semantics.md, "Limits"):
 * schemas nested 10,000 deep (records, arrays, the JSON text itself), a
 * recursive schema whose datum nests 10,000 deep, a row of 5,000 columns,
 * a 10 MiB string. tests/integration/t0620-hostile-input.sh sends the same
 * through the registry and every sink. */
#include <stdlib.h>

#include "decode.h"
#include "render.h"
#include "schema.h"
#include "unit.h"

static cdc_arena_t arena;

/* Grows a heap string; tests only. */
typedef struct text {
    char *p;
    size_t len, cap;
} text_t;

static void put(text_t *t, const char *s)
{
    size_t n = strlen(s);
    if (t->len + n + 1 > t->cap) {
        t->cap = (t->len + n + 1) * 2;
        t->p = realloc(t->p, t->cap);
    }
    memcpy(t->p + t->len, s, n + 1);
    t->len += n;
}

static char *nested_records(int n)
{
    text_t t = {0};
    char head[96];
    for (int i = 0; i < n; i++) {
        snprintf(head, sizeof head, "{\"type\":\"record\",\"name\":\"N%d\",\"fields\":[{\"name\":\"f\",\"type\":", i);
        put(&t, head);
    }
    put(&t, "\"int\"");
    for (int i = 0; i < n; i++) put(&t, "}]}");
    return t.p;
}

static char *nested_arrays(int n)
{
    text_t t = {0};
    for (int i = 0; i < n; i++) put(&t, "{\"type\":\"array\",\"items\":");
    put(&t, "\"int\"");
    for (int i = 0; i < n; i++) put(&t, "}");
    return t.p;
}

/* A valid schema whose JSON nests n levels in a property nobody reads. */
static char *nested_json(int n)
{
    text_t t = {0};
    put(&t, "{\"type\":\"string\",\"x\":");
    for (int i = 0; i < n; i++) put(&t, "[");
    for (int i = 0; i < n; i++) put(&t, "]");
    put(&t, "}");
    return t.p;
}

/* NULL when it compiles; else the error (static buffer). */
static const char *compile_error(char *json)
{
    static char err[512];
    err[0] = '\0';
    cdc_schema_t *s = cdc_schema_compile(json, strlen(json), err, sizeof err);
    free(json);
    if (!s) return err;
    cdc_schema_destroy(s);
    return NULL;
}

#define CHECK_REFUSED(json, part)                                            \
    do {                                                                     \
        const char *e_ = compile_error(json);                                \
        CHECK(e_ != NULL);                                                   \
        if (e_ && !strstr(e_, part)) {                                       \
            unit_failed++;                                                   \
            fprintf(stderr, "%s:%d: error \"%s\" lacks \"%s\"\n", __FILE__,  \
                    __LINE__, e_, part);                                     \
        }                                                                    \
    } while (0)

static void check_deep_schemas(void)
{
    const char *json_limit = "invalid schema: JSON nested deeper than 96 levels";
    CHECK_REFUSED(nested_records(10000), json_limit);
    CHECK_REFUSED(nested_arrays(10000), json_limit);
    CHECK_REFUSED(nested_json(10000), json_limit);
    CHECK_REFUSED(nested_json(97), json_limit);
    CHECK(compile_error(nested_json(95)) == NULL);
    /* A record level is three JSON levels: 32 fit in 96. */
    CHECK(compile_error(nested_records(32)) == NULL);
    CHECK_REFUSED(nested_records(33), json_limit);
    /* An array level is one: the 64 levels of types come first. */
    CHECK(compile_error(nested_arrays(63)) == NULL);
    CHECK_REFUSED(nested_arrays(64), "nested deeper than 64 levels");
    /* Brackets inside strings are not nesting. */
    text_t t = {0};
    put(&t, "{\"type\":\"string\",\"doc\":\"");
    for (int i = 0; i < 500; i++) put(&t, "[{");
    put(&t, "\"}");
    CHECK(compile_error(t.p) == NULL);
}

static size_t put_long(uint8_t *p, int64_t v)
{
    uint64_t z = ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
    size_t n = 0;
    while (z >= 0x80) {
        p[n++] = (uint8_t)(z | 0x80);
        z >>= 7;
    }
    p[n++] = (uint8_t)z;
    return n;
}

/* A recursive schema is small and valid; only its datum nests. */
static void check_deep_datum(void)
{
    const char *json = "{\"type\":\"record\",\"name\":\"Link\",\"fields\":["
                       "{\"name\":\"n\",\"type\":\"int\"},"
                       "{\"name\":\"next\",\"type\":[\"null\",\"Link\"]}]}";
    char err[512] = "";
    cdc_schema_t *s = cdc_schema_compile(json, strlen(json), err, sizeof err);
    CHECK(s != NULL);
    if (!s) return;
    enum { DEEP = 10000 };
    uint8_t *data = malloc(DEEP * 8);
    const int depths[] = {10, DEEP};
    for (size_t k = 0; k < sizeof depths / sizeof depths[0]; k++) {
        int depth = depths[k];
        size_t len = 0;
        for (int i = 0; i < depth; i++) {
            len += put_long(data + len, i);
            len += put_long(data + len, i + 1 < depth ? 1 : 0); /* next: Link or null */
        }
        cdc_value_t v;
        err[0] = '\0';
        int rc = cdc_decode_avro(s->root, data, len, &arena, &v, err, sizeof err);
        if (depth == 10) {
            CHECK_INT(rc, 0);
            /* jsonl renders what decodes, as deep as it is */
            cdc_buf_t buf;
            cdc_buf_init(&buf);
            CHECK_INT(cdc_render_value(&v, NULL, &buf), 0);
            CHECK(buf.data && strncmp(buf.data, "[0,[1,[2,", 9) == 0);
            cdc_buf_free(&buf);
        } else {
            CHECK(rc != 0);
            CHECK_STR(err, "undecodable Avro: nested deeper than 64 levels");
        }
    }
    free(data);
    cdc_schema_destroy(s);
}

/* 5,000 columns compile and decode; PostgreSQL's 1,600 are a sink's limit. */
static void check_wide_row(void)
{
    enum { WIDE = 5000 };
    text_t t = {0};
    put(&t, "{\"type\":\"record\",\"name\":\"Value\",\"fields\":[");
    char field[96];
    for (int i = 0; i < WIDE; i++) {
        snprintf(field, sizeof field, "%s{\"name\":\"c%d\",\"type\":[\"null\",\"string\"],\"default\":null}",
                 i ? "," : "", i);
        put(&t, field);
    }
    put(&t, "]}");
    char err[512] = "";
    cdc_schema_t *s = cdc_schema_compile(t.p, t.len, err, sizeof err);
    free(t.p);
    CHECK(s != NULL);
    if (!s) return;
    CHECK_INT(s->root->row->ncolumns, WIDE);
    uint8_t *data = malloc(WIDE * 8);
    size_t len = 0;
    for (int i = 0; i < WIDE; i++) {
        len += put_long(data + len, 1);
        len += put_long(data + len, 1);
        data[len++] = (uint8_t)('a' + i % 26);
    }
    cdc_value_t v;
    CHECK_INT(cdc_decode_avro(s->root, data, len, &arena, &v, err, sizeof err), 0);
    CHECK_INT(v.u.array.count, WIDE);
    CHECK_INT(v.u.array.items[WIDE - 1].u.str.ptr[0], 'a' + (WIDE - 1) % 26);
    free(data);
    cdc_schema_destroy(s);
}

static void check_big_string(void)
{
    const char *json = "\"string\"";
    char err[512] = "";
    cdc_schema_t *s = cdc_schema_compile(json, strlen(json), err, sizeof err);
    CHECK(s != NULL);
    if (!s) return;
    size_t n = 10u << 20;
    uint8_t *data = malloc(n + 10);
    size_t len = put_long(data, (int64_t)n);
    for (size_t i = 0; i < n; i++) data[len + i] = (uint8_t)('0' + i % 10);
    cdc_value_t v;
    CHECK_INT(cdc_decode_avro(s->root, data, len + n, &arena, &v, err, sizeof err), 0);
    CHECK(v.u.str.len == n && memcmp(v.u.str.ptr, data + len, n) == 0);
    /* A length beyond the data is refused before anything is copied. */
    len = put_long(data, (int64_t)n * 2);
    CHECK(cdc_decode_avro(s->root, data, len + n, &arena, &v, err, sizeof err) != 0);
    CHECK_STR(err, "undecodable Avro: truncated data");
    free(data);
    cdc_schema_destroy(s);
}

int main(void)
{
    cdc_arena_init(&arena, 64 * 1024);
    check_deep_schemas();
    check_deep_datum();
    check_wide_row();
    check_big_string();
    cdc_arena_destroy(&arena);
    return unit_finish("t0020-hostile-input");
}
