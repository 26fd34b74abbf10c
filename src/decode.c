#include "decode.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "errstr.h"
#include "grow.h"

/* ---------------------------------------------------------------------
 * Avro binary encoding
 * ------------------------------------------------------------------- */

typedef struct avro_reader {
    const uint8_t *p, *end;
    const char *error; /* first failure, a static string */
    int depth;
} avro_reader_t;

static int reader_fail(avro_reader_t *r, const char *why)
{
    if (!r->error) r->error = why;
    return -1;
}

static int read_long(avro_reader_t *r, int64_t *out)
{
    uint64_t v = 0;
    for (int shift = 0; shift < 70; shift += 7) {
        if (r->p >= r->end) return reader_fail(r, "truncated varint");
        uint8_t b = *r->p++;
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *out = (int64_t)(v >> 1) ^ -(int64_t)(v & 1); /* zigzag */
            return 0;
        }
    }
    return reader_fail(r, "varint longer than 10 bytes");
}

static int read_int(avro_reader_t *r, int64_t *out)
{
    if (read_long(r, out) != 0) return -1;
    if (*out < INT32_MIN || *out > INT32_MAX)
        return reader_fail(r, "int out of 32-bit range");
    return 0;
}

static int read_fixed(avro_reader_t *r, size_t n, const uint8_t **out)
{
    if ((size_t)(r->end - r->p) < n) return reader_fail(r, "truncated data");
    *out = r->p;
    r->p += n;
    return 0;
}

static int read_bytes(avro_reader_t *r, const uint8_t **out, size_t *len)
{
    int64_t n;
    if (read_long(r, &n) != 0) return -1;
    if (n < 0) return reader_fail(r, "negative length");
    *len = (size_t)n;
    return read_fixed(r, (size_t)n, out);
}

/* ---------------------------------------------------------------------
 * Decimals: big-endian two's complement unscaled value + scale → text
 * ------------------------------------------------------------------- */

/* Decimal digits of a big-endian magnitude, most significant first. */
static size_t magnitude_digits(uint8_t *mag, size_t len, char *digits,
                               size_t cap)
{
    size_t n = 0;
    size_t start = 0;
    while (start < len && mag[start] == 0) start++;
    while (start < len && n < cap) {
        /* Divide the whole magnitude by 10, keep the remainder. */
        unsigned rem = 0;
        for (size_t i = start; i < len; i++) {
            unsigned cur = (rem << 8) | mag[i];
            mag[i] = (uint8_t)(cur / 10);
            rem = cur % 10;
        }
        digits[n++] = (char)('0' + rem);
        while (start < len && mag[start] == 0) start++;
    }
    if (n == 0) digits[n++] = '0';
    for (size_t i = 0; i < n / 2; i++) { /* reverse */
        char t = digits[i];
        digits[i] = digits[n - 1 - i];
        digits[n - 1 - i] = t;
    }
    return n;
}

static const char *decimal_text(cdc_arena_t *arena, const uint8_t *bytes,
                                size_t len, int scale, size_t *text_len)
{
    uint8_t small[64];
    uint8_t *mag = len <= sizeof small ? small : malloc(len);
    if (!mag) return NULL;
    bool negative = len > 0 && (bytes[0] & 0x80);
    memcpy(mag, bytes, len);
    if (negative) { /* two's complement negate: invert, add one */
        for (size_t i = 0; i < len; i++) mag[i] = (uint8_t)~mag[i];
        for (size_t i = len; i-- > 0;)
            if (++mag[i] != 0) break;
    }
    size_t cap = len * 3 + 2; /* 256^n < 10^(2.41n) */
    char *digits = malloc(cap);
    if (!digits) {
        if (mag != small) free(mag);
        return NULL;
    }
    size_t nd = magnitude_digits(mag, len, digits, cap);
    if (mag != small) free(mag);

    size_t int_digits = scale > 0 ? (nd > (size_t)scale ? nd - (size_t)scale : 0)
                                  : nd + (size_t)(-scale);
    size_t frac_digits = scale > 0 ? (size_t)scale : 0;
    size_t out_len = (negative ? 1 : 0) + (int_digits ? int_digits : 1) +
                     (frac_digits ? frac_digits + 1 : 0);
    char *out = cdc_arena_alloc(arena, out_len + 1);
    if (out) {
        char *w = out;
        if (negative) *w++ = '-';
        if (scale <= 0) {
            memcpy(w, digits, nd);
            w += nd;
            for (int i = 0; i < -scale; i++) *w++ = '0';
        } else {
            if (int_digits) {
                memcpy(w, digits, int_digits);
                w += int_digits;
            } else {
                *w++ = '0';
            }
            *w++ = '.';
            for (size_t i = nd; i < frac_digits; i++) *w++ = '0';
            size_t from = nd > frac_digits ? nd - frac_digits : 0;
            memcpy(w, digits + from, nd - from);
            w += nd - from;
        }
        *w = '\0';
        *text_len = (size_t)(w - out);
    }
    free(digits);
    return out;
}

/* ---------------------------------------------------------------------
 * Datum → cdc_value_t
 * ------------------------------------------------------------------- */

static int decode_value(const cdc_schema_node_t *node, avro_reader_t *r,
                        cdc_arena_t *arena, cdc_value_t *out);

static bool is_placeholder(const uint8_t *p, size_t len)
{
    return len == sizeof CDC_UNAVAILABLE_PLACEHOLDER - 1 &&
           memcmp(p, CDC_UNAVAILABLE_PLACEHOLDER, len) == 0;
}

static int decode_text(avro_reader_t *r, cdc_arena_t *arena, cdc_value_t *out)
{
    const uint8_t *p;
    size_t len;
    if (read_bytes(r, &p, &len) != 0) return -1;
    if (is_placeholder(p, len)) out->unavailable = true;
    out->u.str.ptr = cdc_arena_strndup(arena, (const char *)p, len);
    out->u.str.len = len;
    return out->u.str.ptr ? 0 : reader_fail(r, "out of memory");
}

static int decode_bytes(const cdc_schema_node_t *node, avro_reader_t *r,
                        cdc_arena_t *arena, cdc_value_t *out)
{
    const uint8_t *p;
    size_t len;
    if (node->kind == CDC_AVRO_FIXED) {
        len = (size_t)node->length;
        if (read_fixed(r, len, &p) != 0) return -1;
    } else if (read_bytes(r, &p, &len) != 0) {
        return -1;
    }
    if (node->type == CDC_TYPE_DECIMAL) {
        out->u.str.ptr = decimal_text(arena, p, len, node->scale,
                                      &out->u.str.len);
        return out->u.str.ptr ? 0 : reader_fail(r, "out of memory");
    }
    if (is_placeholder(p, len)) out->unavailable = true;
    out->u.str.ptr = cdc_arena_memdup(arena, p, len);
    out->u.str.len = len;
    return out->u.str.ptr ? 0 : reader_fail(r, "out of memory");
}

/* io.debezium.data.VariableScaleDecimal: {scale: int, value: bytes}. */
static int decode_variable_decimal(const cdc_schema_node_t *node,
                                   avro_reader_t *r, cdc_arena_t *arena,
                                   cdc_value_t *out)
{
    int64_t scale = 0;
    const uint8_t *p = NULL;
    size_t len = 0;
    for (size_t i = 0; i < node->count; i++) {
        const cdc_schema_node_t *f = node->children[i];
        if (strcmp(node->names[i], "scale") == 0 && f->kind == CDC_AVRO_INT) {
            if (read_int(r, &scale) != 0) return -1;
        } else if (strcmp(node->names[i], "value") == 0 &&
                   f->kind == CDC_AVRO_BYTES) {
            if (read_bytes(r, &p, &len) != 0) return -1;
        } else {
            return reader_fail(r, "unexpected VariableScaleDecimal layout");
        }
    }
    if (scale < -1000 || scale > 1000)
        return reader_fail(r, "decimal scale out of range");
    out->u.str.ptr = decimal_text(arena, p, len, (int)scale, &out->u.str.len);
    return out->u.str.ptr ? 0 : reader_fail(r, "out of memory");
}

static int decode_items(const cdc_schema_node_t *node, avro_reader_t *r,
                        cdc_arena_t *arena, cdc_value_t *out)
{
    bool is_map = node->kind == CDC_AVRO_MAP;
    size_t per_entry = is_map ? 2 : 1;
    cdc_value_t *items = NULL;
    size_t count = 0;
    for (;;) {
        int64_t block;
        if (read_long(r, &block) != 0) return -1;
        if (block == 0) break;
        if (block < 0) { /* negative count: a byte size follows */
            int64_t ignored;
            if (block == INT64_MIN) return reader_fail(r, "array block count out of range");
            block = -block;
            if (read_long(r, &ignored) != 0) return -1;
        }
        /* Every item takes at least one byte, except null/empty records. */
        if ((uint64_t)block > (uint64_t)(r->end - r->p) + 1024)
            return reader_fail(r, "array block larger than the data");
        size_t total = (count + (size_t)block) * per_entry;
        cdc_value_t *grown = cdc_arena_alloc(arena, total * sizeof *grown);
        if (!grown) return reader_fail(r, "out of memory");
        if (count) memcpy(grown, items, count * per_entry * sizeof *grown);
        items = grown;
        for (int64_t i = 0; i < block; i++, count++) {
            cdc_value_t *slot = &items[count * per_entry];
            memset(slot, 0, per_entry * sizeof *slot);
            if (is_map) {
                slot->type = CDC_TYPE_STRING;
                if (decode_text(r, arena, slot) != 0) return -1;
                slot++;
            }
            if (decode_value(node->children[0], r, arena, slot) != 0)
                return -1;
        }
    }
    out->u.array.items = items;
    out->u.array.count = count * per_entry;
    return 0;
}

static int skip_value(const cdc_schema_node_t *node, avro_reader_t *r);

/* An array's or a map's blocks; a block with a byte size is jumped. */
static int skip_items(const cdc_schema_node_t *node, avro_reader_t *r)
{
    const uint8_t *p;
    size_t len;
    for (;;) {
        int64_t block, size;
        if (read_long(r, &block) != 0) return -1;
        if (block == 0) return 0;
        if (block < 0) {
            if (read_long(r, &size) != 0) return -1;
            if (size < 0) return reader_fail(r, "negative block size");
            if (read_fixed(r, (size_t)size, &p) != 0) return -1;
            continue;
        }
        if ((uint64_t)block > (uint64_t)(r->end - r->p) + 1024)
            return reader_fail(r, "array block larger than the data");
        for (int64_t i = 0; i < block; i++) {
            if (node->kind == CDC_AVRO_MAP && read_bytes(r, &p, &len) != 0) return -1;
            if (skip_value(node->children[0], r) != 0) return -1;
        }
    }
}

/* Steps over a value without decoding it (a field nobody reads). */
static int skip_value(const cdc_schema_node_t *node, avro_reader_t *r)
{
    if (++r->depth > 64) return reader_fail(r, "nested deeper than 64 levels");
    const uint8_t *p;
    size_t len;
    int64_t n;
    int rc = 0;
    switch (node->kind) {
    case CDC_AVRO_NULL:
        break;
    case CDC_AVRO_BOOLEAN:
        rc = read_fixed(r, 1, &p);
        break;
    case CDC_AVRO_INT:
    case CDC_AVRO_LONG:
    case CDC_AVRO_ENUM:
        rc = read_long(r, &n);
        break;
    case CDC_AVRO_FLOAT:
        rc = read_fixed(r, 4, &p);
        break;
    case CDC_AVRO_DOUBLE:
        rc = read_fixed(r, 8, &p);
        break;
    case CDC_AVRO_STRING:
    case CDC_AVRO_BYTES:
        rc = read_bytes(r, &p, &len);
        break;
    case CDC_AVRO_FIXED:
        rc = read_fixed(r, (size_t)node->length, &p);
        break;
    case CDC_AVRO_UNION:
        if (read_long(r, &n) != 0) rc = -1;
        else if (n < 0 || (uint64_t)n >= node->count)
            rc = reader_fail(r, "union branch out of range");
        else rc = skip_value(node->children[n], r);
        break;
    case CDC_AVRO_RECORD:
        for (size_t i = 0; i < node->count && rc == 0; i++)
            rc = skip_value(node->children[i], r);
        break;
    case CDC_AVRO_ARRAY:
    case CDC_AVRO_MAP:
        rc = skip_items(node, r);
        break;
    default:
        rc = reader_fail(r, "unknown Avro type");
    }
    r->depth--;
    return rc;
}

static int decode_record(const cdc_schema_node_t *node, avro_reader_t *r,
                         cdc_arena_t *arena, cdc_value_t *out)
{
    if (node->variable_decimal)
        return decode_variable_decimal(node, r, arena, out);
    cdc_value_t *items = cdc_arena_alloc(arena, (node->count + 1) * sizeof *items);
    if (!items) return reader_fail(r, "out of memory");
    memset(items, 0, (node->count + 1) * sizeof *items);
    for (size_t i = 0; i < node->count; i++) {
        if (node->unread && node->unread[i]) {
            items[i].type = node->children[i]->type;
            items[i].is_null = true;
            if (skip_value(node->children[i], r) != 0) return -1;
        } else if (decode_value(node->children[i], r, arena, &items[i]) != 0) {
            return -1;
        }
    }
    out->u.array.items = items;
    out->u.array.count = node->count;
    return 0;
}

static int decode_scalar(const cdc_schema_node_t *node, avro_reader_t *r,
                         cdc_value_t *out)
{
    const uint8_t *p;
    switch (node->kind) {
    case CDC_AVRO_BOOLEAN:
        if (read_fixed(r, 1, &p) != 0) return -1;
        if (*p > 1) return reader_fail(r, "boolean is neither 0 nor 1");
        out->u.b = *p == 1;
        return 0;
    case CDC_AVRO_INT:
        return read_int(r, &out->u.i);
    case CDC_AVRO_LONG:
        return read_long(r, &out->u.i);
    case CDC_AVRO_FLOAT: {
        if (read_fixed(r, 4, &p) != 0) return -1;
        uint32_t bits = (uint32_t)p[0] | (uint32_t)p[1] << 8 |
                        (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
        float f;
        memcpy(&f, &bits, sizeof f);
        out->u.d = f;
        return 0;
    }
    case CDC_AVRO_DOUBLE: {
        if (read_fixed(r, 8, &p) != 0) return -1;
        uint64_t bits = 0;
        for (int i = 7; i >= 0; i--) bits = bits << 8 | p[i];
        memcpy(&out->u.d, &bits, sizeof out->u.d);
        return 0;
    }
    default:
        return reader_fail(r, "not a scalar");
    }
}

static int decode_value(const cdc_schema_node_t *node, avro_reader_t *r,
                        cdc_arena_t *arena, cdc_value_t *out)
{
    if (++r->depth > 64) return reader_fail(r, "nested deeper than 64 levels");
    out->type = node->type;
    int rc = 0;
    switch (node->kind) {
    case CDC_AVRO_NULL:
        out->is_null = true;
        break;
    case CDC_AVRO_UNION: {
        int64_t branch;
        if (read_long(r, &branch) != 0) {
            rc = -1;
        } else if (branch < 0 || (uint64_t)branch >= node->count) {
            rc = reader_fail(r, "union branch out of range");
        } else {
            rc = decode_value(node->children[branch], r, arena, out);
            out->type = node->type;
        }
        break;
    }
    case CDC_AVRO_STRING:
        rc = decode_text(r, arena, out);
        break;
    case CDC_AVRO_BYTES:
    case CDC_AVRO_FIXED:
        rc = decode_bytes(node, r, arena, out);
        break;
    case CDC_AVRO_ENUM: {
        int64_t idx;
        if (read_int(r, &idx) != 0) {
            rc = -1;
        } else if (idx < 0 || (uint64_t)idx >= node->count) {
            rc = reader_fail(r, "enum index out of range");
        } else {
            out->u.str.ptr = node->names[idx];
            out->u.str.len = strlen(node->names[idx]);
        }
        break;
    }
    case CDC_AVRO_RECORD:
        rc = decode_record(node, r, arena, out);
        break;
    case CDC_AVRO_ARRAY:
    case CDC_AVRO_MAP:
        rc = decode_items(node, r, arena, out);
        break;
    default:
        rc = decode_scalar(node, r, out);
    }
    r->depth--;
    return rc;
}

int cdc_decode_avro(const cdc_schema_node_t *node, const uint8_t *data,
                    size_t len, cdc_arena_t *arena, cdc_value_t *out,
                    char *errstr, size_t errstr_size)
{
    avro_reader_t r = {data, data + len, NULL, 0};
    memset(out, 0, sizeof *out);
    if (decode_value(node, &r, arena, out) != 0)
        return cdc_errstr_set(errstr, errstr_size, "undecodable Avro: %s",
                              r.error ? r.error : "unknown error");
    if (r.p != r.end)
        return cdc_errstr_set(errstr, errstr_size,
                              "undecodable Avro: %zu bytes left after the "
                              "datum", (size_t)(r.end - r.p));
    return 0;
}

/* ---------------------------------------------------------------------
 * Framing, schema cache, events
 * ------------------------------------------------------------------- */

#include "envelope.h"

typedef struct decoder_entry {
    int32_t id;
    cdc_schema_t *schema;
    cdc_envelope_plan_t *plan;       /* when used as a value schema */
    const cdc_row_schema_t *key_row; /* when used as a key schema */
} decoder_entry_t;

struct cdc_decoder {
    cdc_registry_t *registry;
    char *position_field;
    bool require_position;
    decoder_entry_t *entries;
    size_t count, capacity;
    decoder_entry_t *last; /* most records share the previous schema */
};

cdc_decoder_t *cdc_decoder_new(cdc_registry_t *registry,
                               const char *position_field)
{
    cdc_decoder_t *d = calloc(1, sizeof *d);
    if (!d) return NULL;
    d->registry = registry;
    d->position_field = strdup(position_field ? position_field : "source.lsn");
    if (!d->position_field) {
        free(d);
        return NULL;
    }
    return d;
}

void cdc_decoder_require_position(cdc_decoder_t *d, bool require)
{
    d->require_position = require;
}

void cdc_decoder_destroy(cdc_decoder_t *d)
{
    if (!d) return;
    for (size_t i = 0; i < d->count; i++) cdc_schema_destroy(d->entries[i].schema);
    free(d->entries);
    free(d->position_field);
    free(d);
}

static cdc_decode_status_t registry_to_decode(cdc_registry_status_t s)
{
    switch (s) {
    case CDC_REGISTRY_OK: return CDC_DECODE_OK;
    case CDC_REGISTRY_NOT_FOUND: return CDC_DECODE_DATA_ERROR;
    case CDC_REGISTRY_TRANSIENT: return CDC_DECODE_RETRY;
    case CDC_REGISTRY_FATAL: return CDC_DECODE_FATAL;
    }
    return CDC_DECODE_DATA_ERROR;
}

static cdc_decode_status_t decoder_lookup(cdc_decoder_t *d, int32_t id,
                                          decoder_entry_t **out, char *errstr,
                                          size_t errstr_size)
{
    if (d->last && d->last->id == id) {
        *out = d->last;
        return CDC_DECODE_OK;
    }
    for (size_t i = 0; i < d->count; i++) {
        if (d->entries[i].id == id) {
            *out = d->last = &d->entries[i];
            return CDC_DECODE_OK;
        }
    }
    const char *json;
    cdc_registry_status_t rs =
        cdc_registry_get(d->registry, id, &json, errstr, errstr_size);
    if (rs != CDC_REGISTRY_OK) return registry_to_decode(rs);
    cdc_schema_t *schema = cdc_schema_compile(json, strlen(json), errstr,
                                              errstr_size);
    if (!schema) return CDC_DECODE_DATA_ERROR;
    decoder_entry_t *entries =
        cdc_grow(d->entries, d->count, &d->capacity, sizeof *entries, 8);
    if (!entries) {
        cdc_schema_destroy(schema);
        cdc_errstr_set(errstr, errstr_size, "out of memory");
        return CDC_DECODE_RETRY;
    }
    d->entries = entries;
    decoder_entry_t *e = &d->entries[d->count++];
    memset(e, 0, sizeof *e);
    e->id = id;
    e->schema = schema;
    *out = d->last = e;
    return CDC_DECODE_OK;
}

/* Confluent framing: magic byte 0, big-endian int32 schema id, Avro. */
static cdc_decode_status_t decode_framed(cdc_decoder_t *d, const char *what,
                                         const void *data, size_t len,
                                         cdc_arena_t *arena,
                                         decoder_entry_t **entry,
                                         cdc_value_t *out, char *errstr,
                                         size_t errstr_size)
{
    const uint8_t *p = data;
    if (len < 5 || p[0] != 0) {
        cdc_errstr_set(errstr, errstr_size,
                       "%s: bad framing: %s (want magic byte 0 and a 4-byte "
                       "schema id)", what,
                       len < 5 ? "shorter than 5 bytes" : "magic byte is not 0");
        return CDC_DECODE_DATA_ERROR;
    }
    int32_t id = (int32_t)((uint32_t)p[1] << 24 | (uint32_t)p[2] << 16 |
                           (uint32_t)p[3] << 8 | (uint32_t)p[4]);
    char why[512];
    cdc_decode_status_t s = decoder_lookup(d, id, entry, why, sizeof why);
    if (s != CDC_DECODE_OK) {
        cdc_errstr_set(errstr, errstr_size, "%s: %s", what, why);
        return s;
    }
    if (cdc_decode_avro((*entry)->schema->root, p + 5, len - 5, arena, out,
                        why, sizeof why) != 0) {
        cdc_errstr_set(errstr, errstr_size, "%s (schema id %d): %s", what, id,
                       why);
        return CDC_DECODE_DATA_ERROR;
    }
    return CDC_DECODE_OK;
}

static cdc_decode_status_t decode_key(cdc_decoder_t *d, const void *key,
                                      size_t key_len, cdc_arena_t *arena,
                                      cdc_event_t *event, char *errstr,
                                      size_t errstr_size)
{
    decoder_entry_t *entry;
    cdc_value_t value;
    cdc_decode_status_t s = decode_framed(d, "key", key, key_len, arena,
                                          &entry, &value, errstr, errstr_size);
    if (s != CDC_DECODE_OK) return s;
    if (!entry->key_row && !(entry->key_row = cdc_envelope_key_schema(entry->schema))) {
        cdc_errstr_set(errstr, errstr_size, "out of memory");
        return CDC_DECODE_RETRY;
    }
    event->key_schema = entry->key_row;
    event->key = cdc_envelope_key_values(entry->schema, &value, arena);
    return CDC_DECODE_OK;
}

static cdc_decode_status_t decode_change(cdc_decoder_t *d, const void *val,
                                         size_t val_len, cdc_arena_t *arena,
                                         cdc_event_t *event, char *errstr,
                                         size_t errstr_size)
{
    decoder_entry_t *entry;
    cdc_value_t value;
    cdc_decode_status_t s = decode_framed(d, "value", val, val_len, arena,
                                          &entry, &value, errstr, errstr_size);
    if (s != CDC_DECODE_OK) return s;
    char why[512];
    if (!entry->plan &&
        !(entry->plan = cdc_envelope_plan_new(entry->schema, d->position_field,
                                              why, sizeof why))) {
        cdc_errstr_set(errstr, errstr_size, "value: %s", why);
        return CDC_DECODE_DATA_ERROR;
    }
    if (d->require_position && !cdc_envelope_plan_has_position(entry->plan)) {
        /* Every record of the topic would go to the DLQ: stop instead. */
        const char *name = entry->schema->root->name;
        cdc_errstr_set(errstr, errstr_size,
                       "position.field '%s' names no field of the value schema %s "
                       "(schema id %d): set position.field to the field that holds "
                       "the source position (a flattened value needs "
                       "add.fields=lsn,... : __lsn)",
                       d->position_field, name ? name : "(anonymous)", entry->id);
        return CDC_DECODE_FATAL;
    }
    if (cdc_envelope_read(entry->plan, &value, arena, event, why,
                          sizeof why) != 0) {
        cdc_errstr_set(errstr, errstr_size, "value: %s", why);
        return CDC_DECODE_DATA_ERROR;
    }
    return CDC_DECODE_OK;
}

cdc_decode_status_t cdc_decoder_decode(cdc_decoder_t *d, const void *key,
                                       size_t key_len, const void *value,
                                       size_t value_len, cdc_arena_t *arena,
                                       cdc_event_t *event, char *errstr,
                                       size_t errstr_size)
{
    /* Keep what the caller set (topic, partition, offset). */
    event->raw_key = key;
    event->raw_key_len = key ? key_len : 0;
    event->raw_value = value;
    event->raw_value_len = value ? value_len : 0;
    event->key_schema = NULL;
    event->key = NULL;
    event->row_schema = NULL;
    event->before = event->after = NULL;
    event->has_position = false;
    event->position = 0;
    event->position_inclusive = false;
    event->change_lsn = 0;
    event->has_last_commit = false;
    event->last_commit_lsn = 0;
    event->snapshot_kind = CDC_SNAPSHOT_NONE;
    event->commit_ordered = false;
    event->control_kind = NULL;
    event->source_ts_ms = 0;
    event->source_db = event->source_schema = event->source_table = "";

    cdc_decode_status_t s = CDC_DECODE_OK;
    if (key && (s = decode_key(d, key, key_len, arena, event, errstr,
                               errstr_size)) != CDC_DECODE_OK)
        return s;
    if (!value) {
        event->op = CDC_OP_TOMBSTONE;
        return CDC_DECODE_OK;
    }
    return decode_change(d, value, value_len, arena, event, errstr,
                         errstr_size);
}

int cdc_decoder_from_config(const cdc_config_t *cfg, cdc_registry_t **registry,
                            cdc_decoder_t **decoder, char *errstr,
                            size_t errstr_size)
{
    const cdc_settings_t *set = cdc_config_settings(cfg);
    cdc_registry_options_t opts = {
        .url = set->schema_registry_url,
        .basic_auth = set->schema_registry_basic_auth_user_info,
        .ca_location = set->schema_registry_ssl_ca_location,
        .timeout_ms = (long)set->schema_registry_timeout_ms,
    };
    *decoder = NULL;
    *registry = cdc_registry_new(&opts, errstr, errstr_size);
    if (!*registry) return -1;
    *decoder = cdc_decoder_new(*registry, set->position_field);
    if (*decoder) return 0;
    cdc_registry_destroy(*registry);
    *registry = NULL;
    return cdc_errstr_set(errstr, errstr_size, "out of memory");
}
