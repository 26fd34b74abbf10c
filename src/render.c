#include "render.h"

#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "timefmt.h"

/* ------------------------------------------------------------------ */
/* Strings                                                             */

/* Length of the well-formed UTF-8 sequence at s (1..4), or 0 when it is
 * ill-formed; then *skip is the length of its maximal subpart (the bytes
 * that one U+FFFD replaces, as the Unicode standard and WHATWG decoders
 * do). */
static size_t utf8_seq_len(const unsigned char *s, size_t n, size_t *skip)
{
    unsigned char c = s[0], lo = 0x80, hi = 0xBF;
    size_t need;
    if (c < 0x80) return 1;
    if (c >= 0xC2 && c <= 0xDF) {
        need = 1;
    } else if (c >= 0xE0 && c <= 0xEF) {
        need = 2;
        if (c == 0xE0) lo = 0xA0; /* overlong */
        if (c == 0xED) hi = 0x9F; /* surrogates */
    } else if (c >= 0xF0 && c <= 0xF4) {
        need = 3;
        if (c == 0xF0) lo = 0x90; /* overlong */
        if (c == 0xF4) hi = 0x8F; /* > U+10FFFF */
    } else {
        *skip = 1;
        return 0;
    }
    for (size_t i = 1; i <= need; i++) {
        if (i >= n || s[i] < lo || s[i] > hi) {
            *skip = i;
            return 0;
        }
        lo = 0x80;
        hi = 0xBF;
    }
    return need + 1;
}

int cdc_render_string(const char *text, size_t len,
                            cdc_buf_t *buf)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *s = (const unsigned char *)text;
    size_t i = 0, run = 0; /* run: start of bytes copied as they are */

    cdc_buf_putc(buf, '"');
    while (i < len) {
        unsigned char c = s[i];
        if (c >= 0x20 && c != '"' && c != '\\' && c < 0x80) {
            i++;
            continue;
        }
        size_t skip = 0, n = c < 0x80 ? 1 : utf8_seq_len(s + i, len - i, &skip);
        if (c >= 0x80 && n) {
            i += n;
            continue;
        }
        cdc_buf_append(buf, s + run, i - run);
        if (c >= 0x80) {
            cdc_buf_puts(buf, "\\ufffd");
            i += skip;
        } else {
            char esc[7] = {'\\', 0, 0, 0, 0, 0, 0};
            switch (c) {
            case '"': esc[1] = '"'; break;
            case '\\': esc[1] = '\\'; break;
            case '\n': esc[1] = 'n'; break;
            case '\r': esc[1] = 'r'; break;
            case '\t': esc[1] = 't'; break;
            default:
                esc[1] = 'u';
                esc[2] = '0';
                esc[3] = '0';
                esc[4] = hex[c >> 4];
                esc[5] = hex[c & 15];
            }
            cdc_buf_puts(buf, esc);
            i++;
        }
        run = i;
    }
    cdc_buf_append(buf, s + run, len - run);
    cdc_buf_putc(buf, '"');
    return buf->failed ? -1 : 0;
}

/* For fields that may be unknown: NULL or "" → null. */
static void put_cstr_or_null(cdc_buf_t *buf, const char *s)
{
    if (s && *s) cdc_render_string(s, strlen(s), buf);
    else cdc_buf_puts(buf, "null");
}

/* An object member name: always a string. */
static void put_key(cdc_buf_t *buf, const char *name)
{
    cdc_render_string(name ? name : "", name ? strlen(name) : 0, buf);
    cdc_buf_putc(buf, ':');
}

/* ------------------------------------------------------------------ */
/* Embedded JSON: checked and copied without insignificant whitespace, so
 * the event stays one line even when a `json` column kept the newlines it
 * was written with. */

typedef struct json_in {
    const unsigned char *s;
    size_t n, i;
    int depth;
} json_in_t;

enum { JSON_MAX_DEPTH = 256 };

static void json_ws(json_in_t *in)
{
    while (in->i < in->n && (in->s[in->i] == ' ' || in->s[in->i] == '\t' ||
                             in->s[in->i] == '\n' || in->s[in->i] == '\r'))
        in->i++;
}

static bool json_digits(json_in_t *in)
{
    size_t start = in->i;
    while (in->i < in->n && in->s[in->i] >= '0' && in->s[in->i] <= '9')
        in->i++;
    return in->i > start;
}

static bool json_string(json_in_t *in)
{
    if (in->i >= in->n || in->s[in->i] != '"') return false;
    in->i++;
    while (in->i < in->n) {
        unsigned char c = in->s[in->i];
        if (c == '"') {
            in->i++;
            return true;
        }
        if (c < 0x20) return false;
        if (c == '\\') {
            if (++in->i >= in->n) return false;
            c = in->s[in->i++];
            if (c == 'u') {
                for (int k = 0; k < 4; k++, in->i++)
                    if (in->i >= in->n ||
                        !strchr("0123456789abcdefABCDEF", in->s[in->i]) ||
                        !in->s[in->i])
                        return false;
            } else if (!strchr("\"\\/bfnrt", c) || !c) {
                return false;
            }
            continue;
        }
        size_t skip, len = utf8_seq_len(in->s + in->i, in->n - in->i, &skip);
        if (!len) return false;
        in->i += len;
    }
    return false;
}

static bool json_number(json_in_t *in)
{
    if (in->i < in->n && in->s[in->i] == '-') in->i++;
    if (in->i < in->n && in->s[in->i] == '0') in->i++;
    else if (!json_digits(in)) return false;
    if (in->i < in->n && in->s[in->i] == '.') {
        in->i++;
        if (!json_digits(in)) return false;
    }
    if (in->i < in->n && (in->s[in->i] == 'e' || in->s[in->i] == 'E')) {
        in->i++;
        if (in->i < in->n && (in->s[in->i] == '+' || in->s[in->i] == '-'))
            in->i++;
        if (!json_digits(in)) return false;
    }
    return true;
}

static bool json_literal(json_in_t *in, const char *word)
{
    size_t len = strlen(word);
    if (in->n - in->i < len || memcmp(in->s + in->i, word, len) != 0)
        return false;
    in->i += len;
    return true;
}

/* Checks one value at in->i and appends it compacted to buf. */
static bool json_value(json_in_t *in, cdc_buf_t *buf)
{
    json_ws(in);
    if (in->i >= in->n) return false;
    size_t start = in->i;
    unsigned char c = in->s[in->i];
    if (c == '{' || c == '[') {
        unsigned char close = c == '{' ? '}' : ']';
        if (++in->depth > JSON_MAX_DEPTH) return false;
        in->i++;
        cdc_buf_putc(buf, (char)c);
        json_ws(in);
        if (in->i < in->n && in->s[in->i] == close) {
            in->i++;
        } else {
            for (;;) {
                if (c == '{') {
                    json_ws(in);
                    size_t ks = in->i;
                    if (!json_string(in)) return false;
                    cdc_buf_append(buf, in->s + ks, in->i - ks);
                    json_ws(in);
                    if (in->i >= in->n || in->s[in->i] != ':') return false;
                    in->i++;
                    cdc_buf_putc(buf, ':');
                }
                if (!json_value(in, buf)) return false;
                json_ws(in);
                if (in->i >= in->n) return false;
                if (in->s[in->i] == close) {
                    in->i++;
                    break;
                }
                if (in->s[in->i] != ',') return false;
                in->i++;
                cdc_buf_putc(buf, ',');
            }
        }
        cdc_buf_putc(buf, (char)close);
        in->depth--;
        return true;
    }
    bool ok;
    if (c == '"') ok = json_string(in);
    else if (c == 't') ok = json_literal(in, "true");
    else if (c == 'f') ok = json_literal(in, "false");
    else if (c == 'n') ok = json_literal(in, "null");
    else ok = json_number(in);
    if (ok) cdc_buf_append(buf, in->s + start, in->i - start);
    return ok;
}

/* Valid JSON text → embedded as a value; anything else → a JSON string, so
 * the line stays valid whatever the column held. */
static void put_json_text(cdc_buf_t *buf, const char *text, size_t len)
{
    size_t mark = buf->len;
    json_in_t in = {(const unsigned char *)text, len, 0, 0};
    if (json_value(&in, buf)) {
        json_ws(&in);
        if (in.i == in.n) return;
    }
    cdc_buf_truncate(buf, mark);
    cdc_render_string(text, len, buf);
}

/* ------------------------------------------------------------------ */
/* Numbers                                                             */

/* Lays out the significant digits of "%.*e" text the way JavaScript's
 * Number.prototype.toString does (ECMA-262 Number::toString): plain
 * notation for 1e-6 <= |x| < 1e21, else d.ddde±x. Always valid JSON. */
static void put_js_number(cdc_buf_t *buf, const char *etext)
{
    char digits[40];
    size_t k = 0;
    const char *p = etext;
    if (*p == '-') cdc_buf_putc(buf, *p++);
    for (; *p && *p != 'e'; p++)
        if (*p >= '0' && *p <= '9' && k < sizeof digits - 1) digits[k++] = *p;
    while (k > 1 && digits[k - 1] == '0') k--;
    digits[k] = '\0';
    int n = (*p == 'e' ? atoi(p + 1) : 0) + 1; /* value = 0.digits × 10^n */
    if (digits[0] == '0') n = 1;                /* zero */
    if ((int)k <= n && n <= 21) {
        cdc_buf_puts(buf, digits);
        for (int i = (int)k; i < n; i++) cdc_buf_putc(buf, '0');
    } else if (0 < n && n <= 21) {
        cdc_buf_append(buf, digits, (size_t)n);
        cdc_buf_putc(buf, '.');
        cdc_buf_puts(buf, digits + n);
    } else if (-6 < n && n <= 0) {
        cdc_buf_puts(buf, "0.");
        for (int i = n; i < 0; i++) cdc_buf_putc(buf, '0');
        cdc_buf_puts(buf, digits);
    } else {
        char tmp[16];
        cdc_buf_putc(buf, digits[0]);
        if (k > 1) {
            cdc_buf_putc(buf, '.');
            cdc_buf_puts(buf, digits + 1);
        }
        snprintf(tmp, sizeof tmp, "e%+d", n - 1);
        cdc_buf_puts(buf, tmp);
    }
}

/* Shortest text that reads back as the same float32/float64. */
static void put_float(cdc_buf_t *buf, double d, bool is_float32)
{
    char tmp[40];
    if (isnan(d)) {
        cdc_buf_puts(buf, "\"NaN\"");
        return;
    }
    if (isinf(d)) {
        cdc_buf_puts(buf, d > 0 ? "\"Infinity\"" : "\"-Infinity\"");
        return;
    }
    if (is_float32 && fabs(d) <= FLT_MAX) {
        float f = (float)d;
        for (int p = 1; p <= 9; p++) {
            snprintf(tmp, sizeof tmp, "%.*e", p - 1, (double)f);
            if (strtof(tmp, NULL) == f) break;
        }
    } else {
        for (int p = 1; p <= 17; p++) {
            snprintf(tmp, sizeof tmp, "%.*e", p - 1, d);
            if (strtod(tmp, NULL) == d) break;
        }
    }
    put_js_number(buf, tmp);
}

/* ------------------------------------------------------------------ */
/* Dates and times                                                     */

/* A time of day. PostgreSQL allows 24:00:00, which renders as such; a
 * negative value (never valid) keeps its sign rather than wrapping. */
static void put_time(cdc_buf_t *buf, int64_t t, uint64_t per_sec,
                     int digits)
{
    uint64_t mag = t < 0 ? 0 - (uint64_t)t : (uint64_t)t;
    cdc_buf_putc(buf, '"');
    if (t < 0) cdc_buf_putc(buf, '-');
    char tmp[64];
    cdc_timefmt_clock(tmp, sizeof tmp, mag, per_sec, digits);
    cdc_buf_puts(buf, tmp);
    cdc_buf_putc(buf, '"');
}

/* YYYY-MM-DDTHH:MM:SS.fff… with no zone: the source column has none. */
static void put_timestamp(cdc_buf_t *buf, int64_t t, int64_t per_sec,
                          int digits)
{
    char tmp[96];
    cdc_timefmt_timestamp(tmp, sizeof tmp, t, per_sec, digits, 'T');
    cdc_buf_putc(buf, '"');
    cdc_buf_puts(buf, tmp);
    cdc_buf_putc(buf, '"');
}

/* ISO 8601 duration P{d}DT{h}H{m}M{s}.{ffffff}S from microseconds. A
 * negative interval signs every non-zero part (P-1DT-2H…), which both
 * PostgreSQL's interval input and java.time.Duration.parse accept. */
static void put_interval(cdc_buf_t *buf, int64_t us)
{
    const uint64_t per_day = UINT64_C(86400000000);
    uint64_t mag = us < 0 ? 0 - (uint64_t)us : (uint64_t)us;
    uint64_t days = mag / per_day, rest = mag % per_day;
    uint64_t h = rest / UINT64_C(3600000000);
    uint64_t m = rest / 60000000 % 60;
    uint64_t s = rest / 1000000 % 60;
    uint64_t f = rest % 1000000;
    const char *neg = us < 0 ? "-" : "";
    char tmp[96];
    snprintf(tmp, sizeof tmp,
             "\"P%s%" PRIu64 "DT%s%" PRIu64 "H%s%" PRIu64 "M%s%" PRIu64
             ".%06" PRIu64 "S\"",
             days ? neg : "", days, h ? neg : "", h, m ? neg : "", m,
             (s || f) ? neg : "", s, f);
    cdc_buf_puts(buf, tmp);
}

/* ------------------------------------------------------------------ */
/* Bytes                                                               */

static void put_base64(cdc_buf_t *buf, const unsigned char *p,
                       size_t len)
{
    static const char abc[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    if (len > (SIZE_MAX - 3) / 4 * 3) {
        buf->failed = true;
        return;
    }
    size_t out_len = (len + 2) / 3 * 4;
    cdc_buf_putc(buf, '"');
    if (!cdc_buf_reserve(buf, out_len + 1)) return;
    char *o = buf->data + buf->len;
    size_t i = 0;
    for (; i + 3 <= len; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
        *o++ = abc[v >> 18];
        *o++ = abc[v >> 12 & 63];
        *o++ = abc[v >> 6 & 63];
        *o++ = abc[v & 63];
    }
    if (i < len) {
        uint32_t v = (uint32_t)p[i] << 16;
        if (i + 1 < len) v |= (uint32_t)p[i + 1] << 8;
        *o++ = abc[v >> 18];
        *o++ = abc[v >> 12 & 63];
        *o++ = i + 1 < len ? abc[v >> 6 & 63] : '=';
        *o++ = '=';
    }
    *o++ = '"';
    *o = '\0';
    buf->len = (size_t)(o - buf->data);
}

/* ------------------------------------------------------------------ */
/* Values and rows                                                     */

static bool is_text_type(cdc_type_t t)
{
    return t == CDC_TYPE_STRING || t == CDC_TYPE_UUID || t == CDC_TYPE_ENUM ||
           t == CDC_TYPE_XML || t == CDC_TYPE_INTERVAL_STRING ||
           t == CDC_TYPE_DECIMAL || t == CDC_TYPE_ZONED_TIMESTAMP ||
           t == CDC_TYPE_ZONED_TIME;
}

static void put_text_value(cdc_buf_t *buf, const cdc_value_t *v)
{
    const char *p = v->u.str.ptr ? v->u.str.ptr : "";
    cdc_render_string(p, v->u.str.ptr ? v->u.str.len : 0, buf);
}

static void put_array(cdc_buf_t *buf, const cdc_value_t *v,
                      const cdc_column_t *column)
{
    /* The items' column: same nested fields, the declared element type. */
    cdc_column_t elem = {0};
    if (column) {
        elem.name = column->name;
        elem.type = column->element_type;
        elem.fields = column->fields;
    }
    cdc_buf_putc(buf, '[');
    for (size_t i = 0; i < v->u.array.count; i++) {
        if (i) cdc_buf_putc(buf, ',');
        cdc_render_value(&v->u.array.items[i], column ? &elem : NULL,
                               buf);
    }
    cdc_buf_putc(buf, ']');
}

static void put_record(cdc_buf_t *buf, const cdc_value_t *v,
                       const cdc_column_t *column)
{
    const cdc_row_schema_t *fields = column ? column->fields : NULL;
    if (!fields) { /* no names known: positional */
        cdc_buf_putc(buf, '[');
        for (size_t i = 0; i < v->u.array.count; i++) {
            if (i) cdc_buf_putc(buf, ',');
            cdc_render_value(&v->u.array.items[i], NULL, buf);
        }
        cdc_buf_putc(buf, ']');
        return;
    }
    cdc_buf_putc(buf, '{');
    for (size_t i = 0; i < fields->ncolumns; i++) {
        const cdc_column_t *col = &fields->columns[i];
        if (i) cdc_buf_putc(buf, ',');
        put_key(buf, col->name);
        if (i < v->u.array.count)
            cdc_render_value(&v->u.array.items[i], col, buf);
        else
            cdc_buf_puts(buf, "null");
    }
    cdc_buf_putc(buf, '}');
}

/* Items are key, value, key, value… An object when every key is text; else
 * an array of [key, value] pairs, since JSON object keys are strings. */
static void put_map(cdc_buf_t *buf, const cdc_value_t *v)
{
    size_t pairs = v->u.array.count / 2;
    const cdc_value_t *items = v->u.array.items;
    bool text_keys = true;
    for (size_t i = 0; i < pairs; i++) {
        const cdc_value_t *k = &items[2 * i];
        if (k->is_null || k->unavailable || !is_text_type(k->type))
            text_keys = false;
    }
    cdc_buf_putc(buf, text_keys ? '{' : '[');
    for (size_t i = 0; i < pairs; i++) {
        if (i) cdc_buf_putc(buf, ',');
        if (text_keys) {
            put_text_value(buf, &items[2 * i]);
            cdc_buf_putc(buf, ':');
        } else {
            cdc_buf_putc(buf, '[');
            cdc_render_value(&items[2 * i], NULL, buf);
            cdc_buf_putc(buf, ',');
        }
        cdc_render_value(&items[2 * i + 1], NULL, buf);
        if (!text_keys) cdc_buf_putc(buf, ']');
    }
    cdc_buf_putc(buf, text_keys ? '}' : ']');
}

int cdc_render_value(const cdc_value_t *v, const cdc_column_t *column,
                           cdc_buf_t *buf)
{
    if (!v) {
        cdc_buf_puts(buf, "null");
        return buf->failed ? -1 : 0;
    }
    if (v->unavailable) {
        cdc_buf_puts(buf, "{\"$unavailable\":true}");
        return buf->failed ? -1 : 0;
    }
    if (v->is_null) {
        cdc_buf_puts(buf, "null");
        return buf->failed ? -1 : 0;
    }
    switch (v->type) {
    case CDC_TYPE_BOOLEAN: cdc_buf_puts(buf, v->u.b ? "true" : "false"); break;
    case CDC_TYPE_INT16:
    case CDC_TYPE_INT32:
    case CDC_TYPE_INT64: cdc_buf_put_int(buf, v->u.i); break;
    case CDC_TYPE_FLOAT32: put_float(buf, v->u.d, true); break;
    case CDC_TYPE_FLOAT64: put_float(buf, v->u.d, false); break;
    case CDC_TYPE_STRING:
    case CDC_TYPE_DECIMAL:
    case CDC_TYPE_ZONED_TIMESTAMP:
    case CDC_TYPE_ZONED_TIME:
    case CDC_TYPE_INTERVAL_STRING:
    case CDC_TYPE_UUID:
    case CDC_TYPE_XML:
    case CDC_TYPE_ENUM: put_text_value(buf, v); break;
    case CDC_TYPE_JSON:
        if (v->u.str.ptr && v->u.str.len)
            put_json_text(buf, v->u.str.ptr, v->u.str.len);
        else
            cdc_buf_puts(buf, "\"\"");
        break;
    case CDC_TYPE_BYTES:
    case CDC_TYPE_BITS:
        put_base64(buf, (const unsigned char *)v->u.str.ptr,
                   v->u.str.ptr ? v->u.str.len : 0);
        break;
    case CDC_TYPE_DATE:
        {
            char date[48];
            cdc_timefmt_date(date, sizeof date, v->u.i);
            cdc_buf_putc(buf, '"');
            cdc_buf_puts(buf, date);
            cdc_buf_putc(buf, '"');
        }
        break;
    case CDC_TYPE_TIME_MILLIS: put_time(buf, v->u.i, 1000, 3); break;
    case CDC_TYPE_TIME_MICROS: put_time(buf, v->u.i, 1000000, 6); break;
    case CDC_TYPE_TIME_NANOS: put_time(buf, v->u.i, 1000000000, 9); break;
    case CDC_TYPE_TIMESTAMP_MILLIS: put_timestamp(buf, v->u.i, 1000, 3); break;
    case CDC_TYPE_TIMESTAMP_MICROS:
        put_timestamp(buf, v->u.i, 1000000, 6);
        break;
    case CDC_TYPE_TIMESTAMP_NANOS:
        put_timestamp(buf, v->u.i, 1000000000, 9);
        break;
    case CDC_TYPE_INTERVAL_MICROS: put_interval(buf, v->u.i); break;
    case CDC_TYPE_ARRAY: put_array(buf, v, column); break;
    case CDC_TYPE_RECORD: put_record(buf, v, column); break;
    case CDC_TYPE_MAP: put_map(buf, v); break;
    default: cdc_buf_puts(buf, "null"); break; /* a type newer than this sink */
    }
    return buf->failed ? -1 : 0;
}

int cdc_render_text(const cdc_value_t *v, const cdc_column_t *column,
                    cdc_buf_t *buf)
{
    if (v && !v->is_null && !v->unavailable && is_text_type(v->type)) {
        cdc_buf_append(buf, v->u.str.ptr ? v->u.str.ptr : "", v->u.str.ptr ? v->u.str.len : 0);
        return buf->failed ? -1 : 0;
    }
    if (v && !v->is_null && v->type == CDC_TYPE_JSON && v->u.str.ptr) {
        cdc_buf_append(buf, v->u.str.ptr, v->u.str.len);
        return buf->failed ? -1 : 0;
    }
    /* Dates, times and bytes render as JSON strings without escapes:
     * their text is what lies between the quotes. */
    size_t mark = buf->len;
    if (cdc_render_value(v, column, buf) != 0) return -1;
    if (buf->len - mark >= 2 && buf->data[mark] == '"' && buf->data[buf->len - 1] == '"') {
        memmove(buf->data + mark, buf->data + mark + 1, buf->len - mark - 2);
        cdc_buf_truncate(buf, buf->len - 2);
    }
    return 0;
}

int cdc_render_row(const cdc_row_schema_t *schema,
                         const cdc_value_t *row, cdc_buf_t *buf)
{
    if (!row || !schema) {
        cdc_buf_puts(buf, "null");
        return buf->failed ? -1 : 0;
    }
    cdc_buf_putc(buf, '{');
    for (size_t i = 0; i < schema->ncolumns; i++) {
        const cdc_column_t *col = &schema->columns[i];
        if (i) cdc_buf_putc(buf, ',');
        put_key(buf, col->name);
        cdc_render_value(&row[i], col, buf);
    }
    cdc_buf_putc(buf, '}');
    return buf->failed ? -1 : 0;
}

int cdc_render_event(const cdc_event_t *ev, cdc_buf_t *buf)
{
    bool tombstone = ev->op == CDC_OP_TOMBSTONE;
    cdc_buf_puts(buf, "{\"topic\":");
    put_cstr_or_null(buf, ev->topic);
    cdc_buf_puts(buf, ",\"partition\":");
    cdc_buf_put_int(buf, ev->partition);
    cdc_buf_puts(buf, ",\"offset\":");
    cdc_buf_put_int(buf, ev->offset);
    cdc_buf_puts(buf, ",\"op\":");
    put_cstr_or_null(buf, cdc_op_name(ev->op));
    cdc_buf_puts(buf, ",\"position\":");
    if (ev->has_position) cdc_buf_put_int(buf, ev->position);
    else cdc_buf_puts(buf, "null");
    cdc_buf_puts(buf, ",\"ts_ms\":");
    if (ev->source_ts_ms) cdc_buf_put_int(buf, ev->source_ts_ms);
    else cdc_buf_puts(buf, "null");
    cdc_buf_puts(buf, ",\"source\":{\"db\":");
    put_cstr_or_null(buf, ev->source_db);
    cdc_buf_puts(buf, ",\"schema\":");
    put_cstr_or_null(buf, ev->source_schema);
    cdc_buf_puts(buf, ",\"table\":");
    put_cstr_or_null(buf, ev->source_table);
    /* The position the record carried (position.field's value): the
     * guard's `position` above is ordered by commit (docs/semantics.md). */
    cdc_buf_puts(buf, ",\"lsn\":");
    if (ev->has_position) cdc_buf_put_int(buf, ev->change_lsn);
    else cdc_buf_puts(buf, "null");
    cdc_buf_puts(buf, "},\"key\":");
    cdc_render_row(ev->key_schema, ev->key, buf);
    cdc_buf_puts(buf, ",\"before\":");
    cdc_render_row(ev->row_schema, tombstone ? NULL : ev->before, buf);
    cdc_buf_puts(buf, ",\"after\":");
    cdc_render_row(ev->row_schema, tombstone ? NULL : ev->after, buf);
    cdc_buf_putc(buf, '}');
    return buf->failed ? -1 : 0;
}

