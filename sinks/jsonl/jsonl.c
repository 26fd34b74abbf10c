#include "jsonl.h"

#include <errno.h>
#include <fcntl.h>
#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "errstr.h"

/* ------------------------------------------------------------------ */
/* Growable buffer                                                     */

void cdc_jsonl_buf_init(cdc_jsonl_buf_t *buf)
{
    buf->data = NULL;
    buf->len = 0;
    buf->cap = 0;
    buf->failed = false;
}

void cdc_jsonl_buf_reset(cdc_jsonl_buf_t *buf)
{
    buf->len = 0;
    buf->failed = false;
    if (buf->data) buf->data[0] = '\0';
}

void cdc_jsonl_buf_free(cdc_jsonl_buf_t *buf)
{
    free(buf->data);
    cdc_jsonl_buf_init(buf);
}

/* Room for n more bytes plus the NUL; false (and failed set) if not. */
static bool buf_reserve(cdc_jsonl_buf_t *buf, size_t n)
{
    if (buf->failed) return false;
    if (n > SIZE_MAX - buf->len - 1) goto fail;
    size_t need = buf->len + n + 1;
    if (need <= buf->cap) return true;
    size_t cap = buf->cap ? buf->cap : 256;
    while (cap < need) {
        if (cap > SIZE_MAX / 2) {
            cap = need;
            break;
        }
        cap *= 2;
    }
    char *p = realloc(buf->data, cap);
    if (!p) goto fail;
    buf->data = p;
    buf->cap = cap;
    return true;
fail:
    buf->failed = true;
    return false;
}

void cdc_jsonl_buf_append(cdc_jsonl_buf_t *buf, const void *data, size_t len)
{
    if (!buf_reserve(buf, len)) return;
    if (len) memcpy(buf->data + buf->len, data, len);
    buf->len += len;
    buf->data[buf->len] = '\0';
}

static void buf_putc(cdc_jsonl_buf_t *buf, char c)
{
    cdc_jsonl_buf_append(buf, &c, 1);
}

static void buf_puts(cdc_jsonl_buf_t *buf, const char *s)
{
    cdc_jsonl_buf_append(buf, s, strlen(s));
}

static void buf_put_int(cdc_jsonl_buf_t *buf, int64_t v)
{
    char tmp[32];
    int n = snprintf(tmp, sizeof tmp, "%" PRId64, v);
    cdc_jsonl_buf_append(buf, tmp, (size_t)n);
}

/* Drops everything after `len` (used to undo a partial rendering). */
static void buf_truncate(cdc_jsonl_buf_t *buf, size_t len)
{
    if (buf->failed || len > buf->len) return;
    buf->len = len;
    if (buf->data) buf->data[len] = '\0';
}

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

int cdc_jsonl_render_string(const char *text, size_t len,
                            cdc_jsonl_buf_t *buf)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *s = (const unsigned char *)text;
    size_t i = 0, run = 0; /* run: start of bytes copied as they are */

    buf_putc(buf, '"');
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
        cdc_jsonl_buf_append(buf, s + run, i - run);
        if (c >= 0x80) {
            buf_puts(buf, "\\ufffd");
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
            buf_puts(buf, esc);
            i++;
        }
        run = i;
    }
    cdc_jsonl_buf_append(buf, s + run, len - run);
    buf_putc(buf, '"');
    return buf->failed ? -1 : 0;
}

/* For fields that may be unknown: NULL or "" → null. */
static void put_cstr_or_null(cdc_jsonl_buf_t *buf, const char *s)
{
    if (s && *s) cdc_jsonl_render_string(s, strlen(s), buf);
    else buf_puts(buf, "null");
}

/* An object member name: always a string. */
static void put_key(cdc_jsonl_buf_t *buf, const char *name)
{
    cdc_jsonl_render_string(name ? name : "", name ? strlen(name) : 0, buf);
    buf_putc(buf, ':');
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
static bool json_value(json_in_t *in, cdc_jsonl_buf_t *buf)
{
    json_ws(in);
    if (in->i >= in->n) return false;
    size_t start = in->i;
    unsigned char c = in->s[in->i];
    if (c == '{' || c == '[') {
        unsigned char close = c == '{' ? '}' : ']';
        if (++in->depth > JSON_MAX_DEPTH) return false;
        in->i++;
        buf_putc(buf, (char)c);
        json_ws(in);
        if (in->i < in->n && in->s[in->i] == close) {
            in->i++;
        } else {
            for (;;) {
                if (c == '{') {
                    json_ws(in);
                    size_t ks = in->i;
                    if (!json_string(in)) return false;
                    cdc_jsonl_buf_append(buf, in->s + ks, in->i - ks);
                    json_ws(in);
                    if (in->i >= in->n || in->s[in->i] != ':') return false;
                    in->i++;
                    buf_putc(buf, ':');
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
                buf_putc(buf, ',');
            }
        }
        buf_putc(buf, (char)close);
        in->depth--;
        return true;
    }
    bool ok;
    if (c == '"') ok = json_string(in);
    else if (c == 't') ok = json_literal(in, "true");
    else if (c == 'f') ok = json_literal(in, "false");
    else if (c == 'n') ok = json_literal(in, "null");
    else ok = json_number(in);
    if (ok) cdc_jsonl_buf_append(buf, in->s + start, in->i - start);
    return ok;
}

/* Valid JSON text → embedded as a value; anything else → a JSON string, so
 * the line stays valid whatever the column held. */
static void put_json_text(cdc_jsonl_buf_t *buf, const char *text, size_t len)
{
    size_t mark = buf->len;
    json_in_t in = {(const unsigned char *)text, len, 0, 0};
    if (json_value(&in, buf)) {
        json_ws(&in);
        if (in.i == in.n) return;
    }
    buf_truncate(buf, mark);
    cdc_jsonl_render_string(text, len, buf);
}

/* ------------------------------------------------------------------ */
/* Numbers                                                             */

/* Lays out the significant digits of "%.*e" text the way JavaScript's
 * Number.prototype.toString does (ECMA-262 Number::toString): plain
 * notation for 1e-6 <= |x| < 1e21, else d.ddde±x. Always valid JSON. */
static void put_js_number(cdc_jsonl_buf_t *buf, const char *etext)
{
    char digits[40];
    size_t k = 0;
    const char *p = etext;
    if (*p == '-') buf_putc(buf, *p++);
    for (; *p && *p != 'e'; p++)
        if (*p >= '0' && *p <= '9' && k < sizeof digits - 1) digits[k++] = *p;
    while (k > 1 && digits[k - 1] == '0') k--;
    digits[k] = '\0';
    int n = (*p == 'e' ? atoi(p + 1) : 0) + 1; /* value = 0.digits × 10^n */
    if (digits[0] == '0') n = 1;                /* zero */
    if ((int)k <= n && n <= 21) {
        buf_puts(buf, digits);
        for (int i = (int)k; i < n; i++) buf_putc(buf, '0');
    } else if (0 < n && n <= 21) {
        cdc_jsonl_buf_append(buf, digits, (size_t)n);
        buf_putc(buf, '.');
        buf_puts(buf, digits + n);
    } else if (-6 < n && n <= 0) {
        buf_puts(buf, "0.");
        for (int i = n; i < 0; i++) buf_putc(buf, '0');
        buf_puts(buf, digits);
    } else {
        char tmp[16];
        buf_putc(buf, digits[0]);
        if (k > 1) {
            buf_putc(buf, '.');
            buf_puts(buf, digits + 1);
        }
        snprintf(tmp, sizeof tmp, "e%+d", n - 1);
        buf_puts(buf, tmp);
    }
}

/* Shortest text that reads back as the same float32/float64. */
static void put_float(cdc_jsonl_buf_t *buf, double d, bool is_float32)
{
    char tmp[40];
    if (isnan(d)) {
        buf_puts(buf, "\"NaN\"");
        return;
    }
    if (isinf(d)) {
        buf_puts(buf, d > 0 ? "\"Infinity\"" : "\"-Infinity\"");
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

static int64_t floor_div(int64_t a, int64_t b) /* b > 1 */
{
    int64_t q = a / b;
    return (a % b < 0) ? q - 1 : q;
}

static int64_t floor_mod(int64_t a, int64_t b) /* b > 1 */
{
    int64_t r = a % b;
    return r < 0 ? r + b : r;
}

/* Howard Hinnant's days_from_civil inverse ("civil_from_days"), proleptic
 * Gregorian, written so that no int64 input can overflow: the shift of the
 * epoch to 0000-03-01 is applied to the remainder, not to `days`. */
static void civil_from_days(int64_t days, int64_t *year, unsigned *month,
                            unsigned *day)
{
    int64_t era = floor_div(days, 146097);
    int64_t doe = floor_mod(days, 146097) + 719468; /* [719468, 865564] */
    era += doe / 146097;
    doe %= 146097;                                 /* [0, 146096] */
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t y = yoe + era * 400;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100); /* [0, 365] */
    int64_t mp = (5 * doy + 2) / 153;                      /* [0, 11] */
    *day = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
    *month = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
    *year = y + (*month <= 2);
}

/* YYYY-MM-DD; years outside 0000..9999 use ISO 8601's expanded form
 * (+10000, -0001) — year 0 is 1 BC, as in astronomical numbering. */
static void put_date_text(cdc_jsonl_buf_t *buf, int64_t days)
{
    int64_t y;
    unsigned m, d;
    char tmp[48];
    civil_from_days(days, &y, &m, &d);
    if (y >= 0 && y <= 9999)
        snprintf(tmp, sizeof tmp, "%04" PRId64 "-%02u-%02u", y, m, d);
    else if (y > 9999)
        snprintf(tmp, sizeof tmp, "+%" PRId64 "-%02u-%02u", y, m, d);
    else
        snprintf(tmp, sizeof tmp, "-%04" PRId64 "-%02u-%02u", -y, m, d);
    buf_puts(buf, tmp);
}

/* HH:MM:SS.fff… for `ticks` since midnight, `per_sec` ticks a second,
 * `digits` fraction digits. Never negative here (see put_time). */
static void put_clock_text(cdc_jsonl_buf_t *buf, uint64_t ticks,
                           uint64_t per_sec, int digits)
{
    char tmp[64];
    uint64_t secs = ticks / per_sec, frac = ticks % per_sec;
    snprintf(tmp, sizeof tmp, "%02" PRIu64 ":%02" PRIu64 ":%02" PRIu64
             ".%0*" PRIu64, secs / 3600, secs / 60 % 60, secs % 60, digits,
             frac);
    buf_puts(buf, tmp);
}

/* A time of day. PostgreSQL allows 24:00:00, which renders as such; a
 * negative value (never valid) keeps its sign rather than wrapping. */
static void put_time(cdc_jsonl_buf_t *buf, int64_t t, uint64_t per_sec,
                     int digits)
{
    uint64_t mag = t < 0 ? 0 - (uint64_t)t : (uint64_t)t;
    buf_putc(buf, '"');
    if (t < 0) buf_putc(buf, '-');
    put_clock_text(buf, mag, per_sec, digits);
    buf_putc(buf, '"');
}

/* YYYY-MM-DDTHH:MM:SS.fff… with no zone: the source column has none. */
static void put_timestamp(cdc_jsonl_buf_t *buf, int64_t t, int64_t per_sec,
                          int digits)
{
    int64_t per_day = per_sec * 86400;
    buf_putc(buf, '"');
    put_date_text(buf, floor_div(t, per_day));
    buf_putc(buf, 'T');
    put_clock_text(buf, (uint64_t)floor_mod(t, per_day), (uint64_t)per_sec,
                   digits);
    buf_putc(buf, '"');
}

/* ISO 8601 duration P{d}DT{h}H{m}M{s}.{ffffff}S from microseconds. A
 * negative interval signs every non-zero part (P-1DT-2H…), which both
 * PostgreSQL's interval input and java.time.Duration.parse accept. */
static void put_interval(cdc_jsonl_buf_t *buf, int64_t us)
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
    buf_puts(buf, tmp);
}

/* ------------------------------------------------------------------ */
/* Bytes                                                               */

static void put_base64(cdc_jsonl_buf_t *buf, const unsigned char *p,
                       size_t len)
{
    static const char abc[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    if (len > (SIZE_MAX - 3) / 4 * 3) {
        buf->failed = true;
        return;
    }
    size_t out_len = (len + 2) / 3 * 4;
    buf_putc(buf, '"');
    if (!buf_reserve(buf, out_len + 1)) return;
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

static void put_text_value(cdc_jsonl_buf_t *buf, const cdc_value_t *v)
{
    const char *p = v->u.str.ptr ? v->u.str.ptr : "";
    cdc_jsonl_render_string(p, v->u.str.ptr ? v->u.str.len : 0, buf);
}

static void put_array(cdc_jsonl_buf_t *buf, const cdc_value_t *v,
                      const cdc_column_t *column)
{
    /* The items' column: same nested fields, the declared element type. */
    cdc_column_t elem = {0};
    if (column) {
        elem.name = column->name;
        elem.type = column->element_type;
        elem.fields = column->fields;
    }
    buf_putc(buf, '[');
    for (size_t i = 0; i < v->u.array.count; i++) {
        if (i) buf_putc(buf, ',');
        cdc_jsonl_render_value(&v->u.array.items[i], column ? &elem : NULL,
                               buf);
    }
    buf_putc(buf, ']');
}

static void put_record(cdc_jsonl_buf_t *buf, const cdc_value_t *v,
                       const cdc_column_t *column)
{
    const cdc_row_schema_t *fields = column ? column->fields : NULL;
    if (!fields) { /* no names known: positional */
        buf_putc(buf, '[');
        for (size_t i = 0; i < v->u.array.count; i++) {
            if (i) buf_putc(buf, ',');
            cdc_jsonl_render_value(&v->u.array.items[i], NULL, buf);
        }
        buf_putc(buf, ']');
        return;
    }
    buf_putc(buf, '{');
    for (size_t i = 0; i < fields->ncolumns; i++) {
        const cdc_column_t *col = &fields->columns[i];
        if (i) buf_putc(buf, ',');
        put_key(buf, col->name);
        if (i < v->u.array.count)
            cdc_jsonl_render_value(&v->u.array.items[i], col, buf);
        else
            buf_puts(buf, "null");
    }
    buf_putc(buf, '}');
}

/* Items are key, value, key, value… An object when every key is text; else
 * an array of [key, value] pairs, since JSON object keys are strings. */
static void put_map(cdc_jsonl_buf_t *buf, const cdc_value_t *v)
{
    size_t pairs = v->u.array.count / 2;
    const cdc_value_t *items = v->u.array.items;
    bool text_keys = true;
    for (size_t i = 0; i < pairs; i++) {
        const cdc_value_t *k = &items[2 * i];
        if (k->is_null || k->unavailable || !is_text_type(k->type))
            text_keys = false;
    }
    buf_putc(buf, text_keys ? '{' : '[');
    for (size_t i = 0; i < pairs; i++) {
        if (i) buf_putc(buf, ',');
        if (text_keys) {
            put_text_value(buf, &items[2 * i]);
            buf_putc(buf, ':');
        } else {
            buf_putc(buf, '[');
            cdc_jsonl_render_value(&items[2 * i], NULL, buf);
            buf_putc(buf, ',');
        }
        cdc_jsonl_render_value(&items[2 * i + 1], NULL, buf);
        if (!text_keys) buf_putc(buf, ']');
    }
    buf_putc(buf, text_keys ? '}' : ']');
}

int cdc_jsonl_render_value(const cdc_value_t *v, const cdc_column_t *column,
                           cdc_jsonl_buf_t *buf)
{
    if (!v) {
        buf_puts(buf, "null");
        return buf->failed ? -1 : 0;
    }
    if (v->unavailable) {
        buf_puts(buf, "{\"$unavailable\":true}");
        return buf->failed ? -1 : 0;
    }
    if (v->is_null) {
        buf_puts(buf, "null");
        return buf->failed ? -1 : 0;
    }
    switch (v->type) {
    case CDC_TYPE_BOOLEAN: buf_puts(buf, v->u.b ? "true" : "false"); break;
    case CDC_TYPE_INT16:
    case CDC_TYPE_INT32:
    case CDC_TYPE_INT64: buf_put_int(buf, v->u.i); break;
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
            buf_puts(buf, "\"\"");
        break;
    case CDC_TYPE_BYTES:
    case CDC_TYPE_BITS:
        put_base64(buf, (const unsigned char *)v->u.str.ptr,
                   v->u.str.ptr ? v->u.str.len : 0);
        break;
    case CDC_TYPE_DATE:
        buf_putc(buf, '"');
        put_date_text(buf, v->u.i);
        buf_putc(buf, '"');
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
    default: buf_puts(buf, "null"); break; /* a type newer than this sink */
    }
    return buf->failed ? -1 : 0;
}

int cdc_jsonl_render_row(const cdc_row_schema_t *schema,
                         const cdc_value_t *row, cdc_jsonl_buf_t *buf)
{
    if (!row || !schema) {
        buf_puts(buf, "null");
        return buf->failed ? -1 : 0;
    }
    buf_putc(buf, '{');
    for (size_t i = 0; i < schema->ncolumns; i++) {
        const cdc_column_t *col = &schema->columns[i];
        if (i) buf_putc(buf, ',');
        put_key(buf, col->name);
        cdc_jsonl_render_value(&row[i], col, buf);
    }
    buf_putc(buf, '}');
    return buf->failed ? -1 : 0;
}

int cdc_jsonl_render_event(const cdc_event_t *ev, cdc_jsonl_buf_t *buf)
{
    bool tombstone = ev->op == CDC_OP_TOMBSTONE;
    buf_puts(buf, "{\"topic\":");
    put_cstr_or_null(buf, ev->topic);
    buf_puts(buf, ",\"partition\":");
    buf_put_int(buf, ev->partition);
    buf_puts(buf, ",\"offset\":");
    buf_put_int(buf, ev->offset);
    buf_puts(buf, ",\"op\":");
    put_cstr_or_null(buf, cdc_op_name(ev->op));
    buf_puts(buf, ",\"position\":");
    if (ev->has_position) buf_put_int(buf, ev->position);
    else buf_puts(buf, "null");
    buf_puts(buf, ",\"ts_ms\":");
    if (ev->source_ts_ms) buf_put_int(buf, ev->source_ts_ms);
    else buf_puts(buf, "null");
    buf_puts(buf, ",\"source\":{\"db\":");
    put_cstr_or_null(buf, ev->source_db);
    buf_puts(buf, ",\"schema\":");
    put_cstr_or_null(buf, ev->source_schema);
    buf_puts(buf, ",\"table\":");
    put_cstr_or_null(buf, ev->source_table);
    buf_puts(buf, "},\"key\":");
    cdc_jsonl_render_row(ev->key_schema, ev->key, buf);
    buf_puts(buf, ",\"before\":");
    cdc_jsonl_render_row(ev->row_schema, tombstone ? NULL : ev->before, buf);
    buf_puts(buf, ",\"after\":");
    cdc_jsonl_render_row(ev->row_schema, tombstone ? NULL : ev->after, buf);
    buf_putc(buf, '}');
    return buf->failed ? -1 : 0;
}

/* ------------------------------------------------------------------ */
/* The sink                                                            */

/* Bytes rendered before a write(2), so a huge batch is not held whole. */
enum { JSONL_WRITE_CHUNK = 256 * 1024 };

typedef struct jsonl_state {
    int fd;
    bool own_fd;       /* false for stdout: not closed, never truncated */
    bool regular;      /* a regular file: fsync it */
    bool need_newline; /* the file ended inside a line (earlier crash) */
    char *path;        /* for messages; "stdout" for "-" */
    cdc_jsonl_buf_t buf;
} jsonl_state_t;

static void jsonl_close(void *opaque)
{
    jsonl_state_t *st = opaque;
    if (!st) return;
    if (st->own_fd && st->fd >= 0) close(st->fd);
    cdc_jsonl_buf_free(&st->buf);
    free(st->path);
    free(st);
}

int cdc_jsonl_open_path(const char *path, void **state, char *errstr,
                        size_t errstr_size)
{
    *state = NULL;
    if (!path || !*path) {
        cdc_errstr_set(errstr, errstr_size, "jsonl: jsonl.path is empty");
        return CDC_SINK_FATAL;
    }
    bool is_stdout = strcmp(path, "-") == 0;
    jsonl_state_t *st = calloc(1, sizeof *st);
    if (!st) goto oom;
    st->fd = -1;
    cdc_jsonl_buf_init(&st->buf);
    size_t plen = strlen(is_stdout ? "stdout" : path);
    st->path = malloc(plen + 1);
    if (!st->path) goto oom;
    memcpy(st->path, is_stdout ? "stdout" : path, plen + 1);

    if (is_stdout) {
        st->fd = STDOUT_FILENO;
    } else {
        st->fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        if (st->fd < 0) {
            cdc_errstr_set(errstr, errstr_size, "jsonl: cannot open %s: %s",
                           path, strerror(errno));
            goto err;
        }
        st->own_fd = true;
    }
    struct stat sb;
    if (fstat(st->fd, &sb) != 0) {
        cdc_errstr_set(errstr, errstr_size, "jsonl: cannot stat %s: %s",
                       st->path, strerror(errno));
        goto err;
    }
    st->regular = S_ISREG(sb.st_mode);
    if (st->own_fd && st->regular && sb.st_size > 0) {
        /* Our descriptor is write-only: peek at the last byte through a
         * second one (best effort). */
        int rfd = open(path, O_RDONLY | O_CLOEXEC);
        char last;
        if (rfd >= 0) {
            if (pread(rfd, &last, 1, sb.st_size - 1) == 1 && last != '\n')
                st->need_newline = true;
            close(rfd);
        }
    }
    *state = st;
    return CDC_SINK_OK;
oom:
    cdc_errstr_set(errstr, errstr_size, "jsonl: out of memory");
err:
    jsonl_close(st);
    return CDC_SINK_FATAL;
}

static int jsonl_open(const cdc_config_t *cfg, void **state, char *errstr,
                      size_t errstr_size)
{
    const char *path = cdc_config_get(cfg, "jsonl.path");
    int rc = cdc_jsonl_open_path(path ? path : "-", state, errstr,
                                 errstr_size);
    int line = cdc_config_line(cfg, "jsonl.path");
    if (rc != CDC_SINK_OK && line > 0 && errstr && errstr_size) {
        char msg[512];
        snprintf(msg, sizeof msg, "%s", errstr);
        cdc_errstr_set(errstr, errstr_size, "%s:%d: %s",
                       cdc_config_origin(cfg), line, msg);
    }
    return rc;
}

/* Writes all of buf; 0, or -1 with errno set. */
static int write_all(int fd, const char *p, size_t len)
{
    while (len) {
        ssize_t n = write(fd, p, len);
        if (n < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        if (n == 0) {
            errno = EIO;
            return -1;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

static cdc_sink_status_t jsonl_apply(void *opaque,
                                     const cdc_event_t *const *events,
                                     size_t count, cdc_outcome_t *outcomes,
                                     cdc_arena_t *arena, char *errstr,
                                     size_t errstr_size)
{
    jsonl_state_t *st = opaque;
    cdc_jsonl_buf_t *buf = &st->buf;
    (void)arena;
    if (count == 0) return CDC_SINK_OK;

    /* Where this batch starts, so a failed batch can be cut off again:
     * RETRY promises nothing of it was written, and a half line would
     * corrupt the next one. */
    off_t start = -1;
    if (st->own_fd && st->regular) start = lseek(st->fd, 0, SEEK_END);

    const char *what = "write";
    int err = 0;
    cdc_jsonl_buf_reset(buf);
    if (st->need_newline) buf_putc(buf, '\n');
    for (size_t i = 0; i < count; i++) {
        if (cdc_jsonl_render_event(events[i], buf) != 0) break;
        buf_putc(buf, '\n');
        if (buf->len >= JSONL_WRITE_CHUNK || i + 1 == count) {
            if (buf->failed) break;
            if (write_all(st->fd, buf->data, buf->len) != 0) {
                err = errno;
                break;
            }
            cdc_jsonl_buf_reset(buf);
        }
    }
    if (buf->failed) {
        cdc_jsonl_buf_reset(buf);
        cdc_errstr_set(errstr, errstr_size,
                       "jsonl: out of memory rendering a batch for %s",
                       st->path);
        if (start >= 0 && ftruncate(st->fd, start) != 0) { /* best effort */
        }
        return CDC_SINK_RETRY;
    }
    if (!err && st->regular && fsync(st->fd) != 0) {
        err = errno;
        what = "fsync";
    }
    if (err) {
        bool rolled_back = start >= 0 && ftruncate(st->fd, start) == 0;
        cdc_errstr_set(errstr, errstr_size, "jsonl: %s %s: %s%s", what,
                       st->path, strerror(err),
                       rolled_back ? " (batch rolled back)" : "");
        /* Nobody reads a closed pipe again; a bad descriptor is a bug. */
        if (err == EPIPE || err == EBADF) return CDC_SINK_FATAL;
        return CDC_SINK_RETRY;
    }
    st->need_newline = false;
    for (size_t i = 0; i < count; i++) {
        outcomes[i].kind = CDC_OUTCOME_APPLIED;
        outcomes[i].error_class = NULL;
        outcomes[i].exception_name = NULL;
        outcomes[i].message = NULL;
    }
    return CDC_SINK_OK;
}

const cdc_sink_ops_t cdc_jsonl_sink = {
    .name = "jsonl",
    .open = jsonl_open,
    .apply = jsonl_apply,
    .ping = NULL,
    .close = jsonl_close,
};
