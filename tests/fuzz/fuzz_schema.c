/* fuzz_schema — the registry's schema JSON compiled into a decoding plan
 * (src/schema.c: avro-c's validation, then libbson's reading of the
 * Connect properties), the envelope plan and the key's columns built on
 * it (src/envelope.c), then a datum decoded with it and rendered.
 *
 * The input is the schema's JSON text, then optionally a NUL and an Avro
 * body (the bytes after a record's 5-byte framing). The JSON is handed
 * over without a terminating NUL, as cdc_schema_compile takes a length.
 * Seeds: every schema captured from the real registry
 * (tests/data/debezium/schemas), each with a captured record's body, and
 * the schemas of the unit tests. Whatever the schema says, compiling ends
 * in a plan or one error, decoding stays in the body's bytes, and what is
 * rendered is valid JSON. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "decode.h"
#include "envelope.h"
#include "json_check.h"
#include "render.h"
#include "schema.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static cdc_arena_t arena;
static int arena_ready;

static void check_json(const cdc_buf_t *b, const char *what)
{
    if (b->failed) return;
    if (!json_check(b->data, b->len)) {
        fprintf(stderr, "fuzz_schema: %s rendered invalid JSON: %.*s\n", what,
                (int)(b->len > 4000 ? 4000 : b->len), b->data);
        abort();
    }
}

static void decode_and_render(cdc_schema_t *schema, cdc_envelope_plan_t *plan,
                              const uint8_t *body, size_t len)
{
    cdc_value_t value;
    char err[512];
    if (cdc_decode_avro(schema->root, body, len, &arena, &value, err, sizeof err) != 0)
        return;
    cdc_buf_t b;
    cdc_buf_init(&b);
    cdc_event_t ev = {.topic = "fuzz", .source_db = "", .source_schema = "",
                      .source_table = ""};
    const cdc_row_schema_t *key_row = cdc_envelope_key_schema(schema);
    if (key_row) {
        ev.key_schema = key_row;
        ev.key = cdc_envelope_key_values(schema, &value, &arena);
        cdc_render_row(ev.key_schema, ev.key, &b);
        check_json(&b, "the key");
        cdc_buf_reset(&b);
    }
    if (plan && cdc_envelope_read(plan, &value, &arena, &ev, err, sizeof err) == 0) {
        cdc_render_event(&ev, &b);
        check_json(&b, "the event");
    }
    cdc_buf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!arena_ready) {
        cdc_arena_init(&arena, 64 * 1024);
        arena_ready = 1;
    }
    const uint8_t *nul = memchr(data, '\0', size);
    size_t json_len = nul ? (size_t)(nul - data) : size;
    /* Exactly json_len bytes: a reader past the end is caught by ASan. */
    char *json = malloc(json_len ? json_len : 1);
    if (!json) return 0;
    memcpy(json, data, json_len);
    char err[512];
    cdc_schema_t *schema = cdc_schema_compile(json, json_len, err, sizeof err);
    free(json);
    if (!schema) return 0;
    /* As the decoder does for a value schema: the plan first (it marks the
     * fields nobody reads), the key's columns when used as a key. */
    cdc_envelope_plan_t *plan = cdc_envelope_plan_new(schema, "source.lsn", err, sizeof err);
    if (nul) decode_and_render(schema, plan, nul + 1, size - json_len - 1);
    cdc_arena_reset(&arena);
    cdc_schema_destroy(schema);
    return 0;
}
