/* json_check.h — a strict JSON (RFC 8259) and UTF-8 checker for the fuzz
 * targets, written apart from src/render.c so that it can judge that
 * code's output: one value, optional insignificant whitespace around it,
 * nothing else; strings well-formed UTF-8 (no overlongs, no surrogates,
 * nothing past U+10FFFF) with no raw control characters.
 *
 *   json_check(text, len)        1 when text is one JSON value, else 0
 *   json_check_utf8(text, len)   1 when text is well-formed UTF-8
 *
 * Recursive; nesting deeper than JSON_CHECK_MAX_DEPTH counts as invalid
 * (nothing cdcsink renders comes close). */
#ifndef CDC_FUZZ_JSON_CHECK_H
#define CDC_FUZZ_JSON_CHECK_H

#include <stdbool.h>
#include <stddef.h>

enum { JSON_CHECK_MAX_DEPTH = 4096 };

typedef struct json_check_in {
    const unsigned char *s;
    size_t n, i;
} json_check_in_t;

/* Length of the UTF-8 sequence at s[0..n), or 0 when ill-formed. */
static inline size_t json_check_utf8_seq(const unsigned char *s, size_t n)
{
    unsigned c = s[0];
    size_t need;
    unsigned cp;
    if (c < 0x80) return 1;
    if (c >= 0xC0 && c < 0xE0) need = 1, cp = c & 0x1F;
    else if (c >= 0xE0 && c < 0xF0) need = 2, cp = c & 0x0F;
    else if (c >= 0xF0 && c < 0xF8) need = 3, cp = c & 0x07;
    else return 0;
    if (n < need + 1) return 0;
    for (size_t k = 1; k <= need; k++) {
        if ((s[k] & 0xC0) != 0x80) return 0;
        cp = cp << 6 | (s[k] & 0x3F);
    }
    static const unsigned min[4] = {0, 0x80, 0x800, 0x10000};
    if (cp < min[need] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
    return need + 1;
}

static inline int json_check_utf8(const char *text, size_t len)
{
    const unsigned char *s = (const unsigned char *)text;
    for (size_t i = 0; i < len;) {
        size_t k = json_check_utf8_seq(s + i, len - i);
        if (!k) return 0;
        i += k;
    }
    return 1;
}

static inline void json_check_ws(json_check_in_t *in)
{
    while (in->i < in->n && (in->s[in->i] == ' ' || in->s[in->i] == '\t' ||
                             in->s[in->i] == '\n' || in->s[in->i] == '\r'))
        in->i++;
}

static inline bool json_check_hex(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static inline bool json_check_string(json_check_in_t *in)
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
                    if (in->i >= in->n || !json_check_hex(in->s[in->i])) return false;
            } else if (c != '"' && c != '\\' && c != '/' && c != 'b' && c != 'f' &&
                       c != 'n' && c != 'r' && c != 't') {
                return false;
            }
            continue;
        }
        size_t k = json_check_utf8_seq(in->s + in->i, in->n - in->i);
        if (!k) return false;
        in->i += k;
    }
    return false;
}

static inline bool json_check_digit(const json_check_in_t *in)
{
    return in->i < in->n && in->s[in->i] >= '0' && in->s[in->i] <= '9';
}

static inline bool json_check_number(json_check_in_t *in)
{
    if (in->i < in->n && in->s[in->i] == '-') in->i++;
    if (!json_check_digit(in)) return false;
    if (in->s[in->i] == '0') in->i++;
    else
        while (json_check_digit(in)) in->i++;
    if (in->i < in->n && in->s[in->i] == '.') {
        in->i++;
        if (!json_check_digit(in)) return false;
        while (json_check_digit(in)) in->i++;
    }
    if (in->i < in->n && (in->s[in->i] == 'e' || in->s[in->i] == 'E')) {
        in->i++;
        if (in->i < in->n && (in->s[in->i] == '+' || in->s[in->i] == '-')) in->i++;
        if (!json_check_digit(in)) return false;
        while (json_check_digit(in)) in->i++;
    }
    return true;
}

static inline bool json_check_word(json_check_in_t *in, const char *w)
{
    for (; *w; w++, in->i++)
        if (in->i >= in->n || in->s[in->i] != (unsigned char)*w) return false;
    return true;
}

static inline bool json_check_value(json_check_in_t *in, int depth)
{
    json_check_ws(in);
    if (in->i >= in->n || depth > JSON_CHECK_MAX_DEPTH) return false;
    unsigned char c = in->s[in->i];
    if (c == '{' || c == '[') {
        unsigned char close = c == '{' ? '}' : ']';
        in->i++;
        json_check_ws(in);
        if (in->i < in->n && in->s[in->i] == close) {
            in->i++;
            return true;
        }
        for (;;) {
            if (c == '{') {
                json_check_ws(in);
                if (!json_check_string(in)) return false;
                json_check_ws(in);
                if (in->i >= in->n || in->s[in->i] != ':') return false;
                in->i++;
            }
            if (!json_check_value(in, depth + 1)) return false;
            json_check_ws(in);
            if (in->i >= in->n) return false;
            if (in->s[in->i] == close) {
                in->i++;
                return true;
            }
            if (in->s[in->i] != ',') return false;
            in->i++;
        }
    }
    if (c == '"') return json_check_string(in);
    if (c == 't') return json_check_word(in, "true");
    if (c == 'f') return json_check_word(in, "false");
    if (c == 'n') return json_check_word(in, "null");
    return json_check_number(in);
}

static inline int json_check(const char *text, size_t len)
{
    json_check_in_t in = {(const unsigned char *)text, len, 0};
    if (!json_check_value(&in, 0)) return 0;
    json_check_ws(&in);
    return in.i == in.n;
}

#endif
