/* fuzz_render — the JSON renderer (src/render.c) and the checker inside
 * it that decides whether a `json` column's text is embedded as JSON or
 * quoted as a string. Every output is judged by json_check.h, a strict
 * JSON and UTF-8 checker written apart from render.c.
 *
 * The first byte picks what the rest is:
 *   0  a json column's text: rendered, it must be valid JSON; and when
 *      the text is valid JSON (nested at most 256 deep), exactly that
 *      text without its insignificant whitespace (a differential check of
 *      render.c's checker against json_check.h)
 *   1  any bytes as a JSON string (cdc_render_string): one valid string
 *   2  a value tree built from the bytes (type, integer, double, text,
 *      items; see build()): cdc_render_value valid JSON, cdc_render_text
 *      without crash
 *   3  a Kafka record value (framing + Avro) decoded against the
 *      captured schemas (tests/data/debezium/schemas), then the event
 *      rendered as the jsonl sink and `dlq inspect` do: valid JSON
 * Strings are handed over without a terminating NUL. Seeds: the captured
 * records (3), the json column values of tests/data/sql/types-changes.sql
 * (0), and the unit tests' strings (1, 2). Run from the repository root. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../unit/fixture.h"
#include "buf.h"
#include "decode.h"
#include "json_check.h"
#include "render.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static cdc_registry_t *registry;
static cdc_decoder_t *decoder;
static cdc_arena_t arena;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    cdc_registry_options_t opts = {0};
    registry = cdc_registry_new(&opts, NULL, 0);
    if (!registry || fixture_load_schemas(registry) == 0) {
        fprintf(stderr, "fuzz_render: no schemas under " FIXTURE_ROOT
                        "/schemas (run from the repository root)\n");
        exit(2);
    }
    decoder = cdc_decoder_new(registry, "source.lsn");
    cdc_arena_init(&arena, 64 * 1024);
    return 0;
}

static void must_be_json(const cdc_buf_t *b, const char *what)
{
    if (b->failed || json_check(b->data, b->len)) return;
    fprintf(stderr, "fuzz_render: %s rendered invalid JSON (%zu bytes): %.*s\n", what,
            b->len, (int)(b->len > 4000 ? 4000 : b->len), b->data);
    abort();
}

/* The text of valid JSON without insignificant whitespace, and how deep
 * its arrays and objects nest. */
static size_t compact(const char *s, size_t n, char *out, int *depth)
{
    size_t k = 0;
    int d = 0;
    *depth = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '"') {
            out[k++] = s[i++];
            while (s[i] != '"') {
                if (s[i] == '\\') out[k++] = s[i++];
                out[k++] = s[i++];
            }
            out[k++] = s[i];
            continue;
        }
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r') continue;
        if (c == '[' || c == '{') {
            if (++d > *depth) *depth = d;
        } else if (c == ']' || c == '}') {
            d--;
        }
        out[k++] = c;
    }
    return k;
}

static void json_column(const char *text, size_t len)
{
    cdc_value_t v = {.type = CDC_TYPE_JSON, .u.str = {text, len}};
    cdc_buf_t b;
    cdc_buf_init(&b);
    cdc_render_value(&v, NULL, &b);
    must_be_json(&b, "a json column");
    if (len && json_check(text, len) && !b.failed) {
        char *want = malloc(len);
        int depth;
        size_t wlen = compact(text, len, want, &depth);
        bool embedded = b.len == wlen && memcmp(b.data, want, wlen) == 0;
        if (depth <= 256 && !embedded) {
            fprintf(stderr, "fuzz_render: valid JSON %.*s was not embedded as it is: %.*s\n",
                    (int)(len > 2000 ? 2000 : len), text, (int)(b.len > 2000 ? 2000 : b.len),
                    b.data);
            abort();
        }
        free(want);
    }
    cdc_buf_reset(&b);
    cdc_render_text(&v, NULL, &b);
    cdc_buf_free(&b);
}

static void json_string(const char *text, size_t len)
{
    cdc_buf_t b;
    cdc_buf_init(&b);
    cdc_render_string(text, len, &b);
    must_be_json(&b, "a string");
    if (!b.failed && (b.len < 2 || b.data[0] != '"' || !json_check_utf8(b.data, b.len))) {
        fprintf(stderr, "fuzz_render: a string rendered as no UTF-8 string\n");
        abort();
    }
    cdc_buf_free(&b);
}

/* A value tree from bytes: a type byte, then what that type holds (8
 * bytes of integer or double; a length byte and text; a count byte and
 * that many items, at most 8, at most 6 deep). */
typedef struct cursor {
    const uint8_t *p;
    size_t n;
} cursor_t;

static uint8_t take_byte(cursor_t *c)
{
    if (!c->n) return 0;
    c->n--;
    return *c->p++;
}

static cdc_value_t build(cursor_t *c, int depth)
{
    cdc_value_t v = {0};
    uint8_t t = take_byte(c);
    v.type = (cdc_type_t)(t % (CDC_TYPE_RECORD + 2)); /* and one unknown type */
    v.is_null = (t & 0x80) && (t & 0x40);
    v.unavailable = (t & 0x80) && !(t & 0x40) && (t & 0x20);
    switch (v.type) {
    case CDC_TYPE_BOOLEAN: v.u.b = take_byte(c) & 1; break;
    case CDC_TYPE_FLOAT32:
    case CDC_TYPE_FLOAT64: {
        uint8_t raw[8] = {0};
        for (int i = 0; i < 8; i++) raw[i] = take_byte(c);
        if (v.type == CDC_TYPE_FLOAT32) {
            float f;
            memcpy(&f, raw, sizeof f);
            v.u.d = f;
        } else {
            memcpy(&v.u.d, raw, sizeof v.u.d);
        }
        break;
    }
    case CDC_TYPE_ARRAY:
    case CDC_TYPE_MAP:
    case CDC_TYPE_RECORD: {
        size_t count = depth < 6 ? take_byte(c) % 9 : 0;
        if (v.type == CDC_TYPE_MAP) count *= 2;
        cdc_value_t *items = cdc_arena_alloc(&arena, (count + 1) * sizeof *items);
        if (!items) count = 0;
        for (size_t i = 0; i < count; i++) items[i] = build(c, depth + 1);
        v.u.array.items = items;
        v.u.array.count = count;
        break;
    }
    case CDC_TYPE_STRING:
    case CDC_TYPE_BYTES:
    case CDC_TYPE_DECIMAL:
    case CDC_TYPE_ZONED_TIMESTAMP:
    case CDC_TYPE_ZONED_TIME:
    case CDC_TYPE_INTERVAL_STRING:
    case CDC_TYPE_UUID:
    case CDC_TYPE_JSON:
    case CDC_TYPE_XML:
    case CDC_TYPE_ENUM:
    case CDC_TYPE_BITS: {
        size_t len = take_byte(c);
        if (len > c->n) len = c->n;
        /* In the arena and NUL-terminated, as the decoder leaves text. */
        v.u.str.ptr = cdc_arena_strndup(&arena, (const char *)c->p, len);
        v.u.str.len = v.u.str.ptr ? len : 0;
        c->p += len;
        c->n -= len;
        break;
    }
    default: {
        uint64_t u = 0;
        for (int i = 0; i < 8; i++) u = u << 8 | take_byte(c);
        v.u.i = (int64_t)u;
    }
    }
    return v;
}

static void value_tree(const uint8_t *data, size_t size)
{
    cursor_t c = {data, size};
    cdc_value_t v = build(&c, 0);
    /* An array's items typed by the column, nested records positional. */
    cdc_column_t col = {.name = "c", .type = v.type, .element_type = (cdc_type_t)(size % 28)};
    cdc_buf_t b;
    cdc_buf_init(&b);
    cdc_render_value(&v, NULL, &b);
    must_be_json(&b, "a value");
    cdc_buf_reset(&b);
    cdc_render_value(&v, &col, &b);
    must_be_json(&b, "a value with its column");
    cdc_buf_reset(&b);
    cdc_render_text(&v, &col, &b);
    cdc_buf_free(&b);
}

static void record(const uint8_t *data, size_t size)
{
    cdc_event_t ev = {.topic = "cdc.public.fuzz", .partition = 3, .offset = 42};
    char err[512];
    if (cdc_decoder_decode(decoder, data, size, data, size, &arena, &ev, err, sizeof err) !=
        CDC_DECODE_OK)
        return;
    cdc_buf_t b;
    cdc_buf_init(&b);
    cdc_render_event(&ev, &b);
    must_be_json(&b, "an event");
    cdc_buf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    size_t n = size - 1;
    /* Exactly n bytes: a reader past the end is caught by ASan. */
    char *rest = malloc(n ? n : 1);
    if (!rest) return 0;
    memcpy(rest, data + 1, n);
    switch (data[0] % 4) {
    case 0: json_column(rest, n); break;
    case 1: json_string(rest, n); break;
    case 2: value_tree((const uint8_t *)rest, n); break;
    case 3: record((const uint8_t *)rest, n); break;
    }
    free(rest);
    cdc_arena_reset(&arena);
    return 0;
}
