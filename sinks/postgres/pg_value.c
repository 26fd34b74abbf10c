#include "pg_value.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "timefmt.h"

void cdc_pg_value_array_element(cdc_buf_t *array, const char *text,
                                size_t len, bool is_null)
{
    if (array->len > 1 && array->data[array->len - 1] != '{')
        cdc_buf_putc(array, ',');
    if (is_null) {
        cdc_buf_puts(array, "NULL");
        return;
    }
    cdc_buf_putc(array, '"');
    const char *start = text;
    for (size_t i = 0; i < len; i++) {
        if (text[i] == '"' || text[i] == '\\') {
            cdc_buf_append(array, start, (size_t)(text + i - start));
            cdc_buf_putc(array, '\\');
            start = text + i;
        }
    }
    cdc_buf_append(array, start, (size_t)(text + len - start));
    cdc_buf_putc(array, '"');
}

static void put_float(cdc_buf_t *out, double d, int digits)
{
    if (isnan(d)) cdc_buf_puts(out, "NaN");
    else if (isinf(d)) cdc_buf_puts(out, d > 0 ? "Infinity" : "-Infinity");
    else {
        char tmp[40];
        snprintf(tmp, sizeof tmp, "%.*g", digits, d);
        cdc_buf_puts(out, tmp);
    }
}

/* PostgreSQL writes years before 1 AD as "0001-01-01 BC" (year 0 is
 * 1 BC), and takes them back that way. */
static void put_date(cdc_buf_t *out, int64_t days, bool *bc)
{
    int64_t y;
    unsigned m, d;
    cdc_timefmt_civil(days, &y, &m, &d);
    char tmp[48];
    *bc = y <= 0;
    if (y >= 1 && y <= 9999) { /* the common case, without snprintf */
        cdc_buf_append(out, tmp, cdc_timefmt_date(tmp, sizeof tmp, days));
        return;
    }
    snprintf(tmp, sizeof tmp, "%04" PRId64 "-%02u-%02u", *bc ? 1 - y : y, m, d);
    cdc_buf_puts(out, tmp);
}

static void put_timestamp(cdc_buf_t *out, int64_t t, int64_t per_sec,
                          int digits)
{
    int64_t per_day = per_sec * 86400;
    bool bc;
    put_date(out, cdc_timefmt_floor_div(t, per_day), &bc);
    char tmp[48];
    tmp[0] = ' ';
    cdc_timefmt_clock(tmp + 1, sizeof tmp - 1,
                      (uint64_t)cdc_timefmt_floor_mod(t, per_day),
                      (uint64_t)per_sec, digits);
    cdc_buf_puts(out, tmp);
    if (bc) cdc_buf_puts(out, " BC");
}

static void put_time(cdc_buf_t *out, int64_t t, uint64_t per_sec, int digits)
{
    char tmp[48];
    cdc_timefmt_clock(tmp, sizeof tmp, t < 0 ? 0 : (uint64_t)t, per_sec, digits);
    cdc_buf_puts(out, tmp);
}

static void put_hex(cdc_buf_t *out, const unsigned char *p, size_t len)
{
    static const char digits[] = "0123456789abcdef";
    cdc_buf_puts(out, "\\x");
    if (!cdc_buf_reserve(out, len * 2)) return;
    for (size_t i = 0; i < len; i++) {
        out->data[out->len++] = digits[p[i] >> 4];
        out->data[out->len++] = digits[p[i] & 15];
    }
    out->data[out->len] = '\0';
}

/* io.debezium.data.Bits: the bits little-endian in bytes; PostgreSQL wants
 * the most significant bit first. Without a length, every byte's 8 bits. */
static void put_bits(cdc_buf_t *out, const unsigned char *p, size_t len,
                     int nbits)
{
    size_t n = nbits > 0 ? (size_t)nbits : len * 8;
    for (size_t i = n; i-- > 0;) {
        size_t byte = i / 8;
        int bit = byte < len ? (p[byte] >> (i % 8)) & 1 : 0;
        cdc_buf_putc(out, bit ? '1' : '0');
    }
}

static int put_array(const cdc_value_t *v, cdc_buf_t *out)
{
    cdc_buf_t item;
    cdc_buf_init(&item);
    cdc_buf_putc(out, '{');
    int rc = 0;
    for (size_t i = 0; i < v->u.array.count && rc == 0; i++) {
        const cdc_value_t *e = &v->u.array.items[i];
        if (e->type == CDC_TYPE_ARRAY && !e->is_null) {
            /* A sub-array, as PostgreSQL writes more dimensions: quoted as
             * an element it would double its escapes at every level. */
            if (i) cdc_buf_putc(out, ',');
            rc = put_array(e, out);
            continue;
        }
        cdc_buf_reset(&item);
        if (!e->is_null) rc = cdc_pg_value_text(e, &item);
        cdc_pg_value_array_element(out, item.data ? item.data : "", item.len,
                                   e->is_null);
    }
    cdc_buf_putc(out, '}');
    cdc_buf_free(&item);
    return rc;
}

int cdc_pg_value_text(const cdc_value_t *v, cdc_buf_t *out)
{
    switch (v->type) {
    case CDC_TYPE_BOOLEAN: cdc_buf_putc(out, v->u.b ? 't' : 'f'); return 0;
    case CDC_TYPE_INT16:
    case CDC_TYPE_INT32:
    case CDC_TYPE_INT64: cdc_buf_put_int(out, v->u.i); return 0;
    case CDC_TYPE_FLOAT32: put_float(out, v->u.d, 9); return 0;
    case CDC_TYPE_FLOAT64: put_float(out, v->u.d, 17); return 0;
    case CDC_TYPE_BYTES:
        put_hex(out, (const unsigned char *)v->u.str.ptr, v->u.str.len);
        return 0;
    case CDC_TYPE_BITS:
        put_bits(out, (const unsigned char *)v->u.str.ptr, v->u.str.len, 0);
        return 0;
    case CDC_TYPE_DATE: {
        bool bc;
        put_date(out, v->u.i, &bc);
        if (bc) cdc_buf_puts(out, " BC");
        return 0;
    }
    case CDC_TYPE_TIME_MILLIS: put_time(out, v->u.i, 1000, 3); return 0;
    case CDC_TYPE_TIME_MICROS: put_time(out, v->u.i, 1000000, 6); return 0;
    case CDC_TYPE_TIME_NANOS: put_time(out, v->u.i, 1000000000, 9); return 0;
    case CDC_TYPE_TIMESTAMP_MILLIS: put_timestamp(out, v->u.i, 1000, 3); return 0;
    case CDC_TYPE_TIMESTAMP_MICROS: put_timestamp(out, v->u.i, 1000000, 6); return 0;
    case CDC_TYPE_TIMESTAMP_NANOS: put_timestamp(out, v->u.i, 1000000000, 9); return 0;
    case CDC_TYPE_INTERVAL_MICROS: {
        char tmp[48];
        snprintf(tmp, sizeof tmp, "%" PRId64 " microseconds", v->u.i);
        cdc_buf_puts(out, tmp);
        return 0;
    }
    case CDC_TYPE_ARRAY: return put_array(v, out);
    case CDC_TYPE_MAP:
    case CDC_TYPE_RECORD: return -1;
    default: /* text-like: string, decimal, zoned times, uuid, json, enum */
        cdc_buf_append(out, v->u.str.ptr ? v->u.str.ptr : "", v->u.str.len);
        return 0;
    }
}
