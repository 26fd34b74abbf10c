#include "es_json.h"

#include <string.h>

enum { MAX_DEPTH = 512 };

static const char *skip_ws(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')) p++;
    return p;
}

static const char *skip_string(const char *p, const char *end)
{
    if (p >= end || *p != '"') return NULL;
    for (p++; p < end; p++) {
        if (*p == '\\') {
            if (++p >= end) return NULL;
        } else if (*p == '"') {
            return p + 1;
        }
    }
    return NULL;
}

static const char *skip_value(const char *p, const char *end, int depth);

static const char *skip_container(const char *p, const char *end, int depth)
{
    char close = *p == '{' ? '}' : ']';
    bool object = *p == '{';
    if (depth > MAX_DEPTH) return NULL;
    p = skip_ws(p + 1, end);
    if (p < end && *p == close) return p + 1;
    for (;;) {
        if (object) {
            if (!(p = skip_string(p, end))) return NULL;
            p = skip_ws(p, end);
            if (p >= end || *p != ':') return NULL;
            p = skip_ws(p + 1, end);
        }
        if (!(p = skip_value(p, end, depth + 1))) return NULL;
        p = skip_ws(p, end);
        if (p >= end) return NULL;
        if (*p == close) return p + 1;
        if (*p != ',') return NULL;
        p = skip_ws(p + 1, end);
    }
}

static const char *skip_value(const char *p, const char *end, int depth)
{
    if (p >= end) return NULL;
    if (*p == '"') return skip_string(p, end);
    if (*p == '{' || *p == '[') return skip_container(p, end, depth);
    const char *start = p;
    while (p < end && (strchr("+-.0123456789eE", *p) || (*p >= 'a' && *p <= 'z'))) p++;
    return p > start ? p : NULL; /* a number, true, false or null */
}

bool cdc_es_json_begin(cdc_es_span_t value, cdc_es_json_iter_t *it)
{
    const char *end = value.p + value.len;
    const char *p = value.p ? skip_ws(value.p, end) : NULL;
    if (!p || p >= end || (*p != '{' && *p != '[')) return false;
    it->object = *p == '{';
    it->p = skip_ws(p + 1, end);
    it->end = end;
    it->failed = false;
    return true;
}

bool cdc_es_json_next(cdc_es_json_iter_t *it, cdc_es_span_t *key, cdc_es_span_t *value)
{
    const char *p = it->p, *end = it->end;
    if (!p || it->failed) return false;
    if (p < end && (*p == '}' || *p == ']')) {
        it->p = NULL;
        return false;
    }
    if (it->object) {
        const char *k = p;
        if (!(p = skip_string(p, end))) goto bad;
        if (key) *key = (cdc_es_span_t){k, (size_t)(p - k)};
        p = skip_ws(p, end);
        if (p >= end || *p != ':') goto bad;
        p = skip_ws(p + 1, end);
    }
    const char *v = p;
    if (!(p = skip_value(p, end, 1))) goto bad;
    *value = (cdc_es_span_t){v, (size_t)(p - v)};
    p = skip_ws(p, end);
    if (p < end && *p == ',') p = skip_ws(p + 1, end);
    else if (p >= end || (*p != '}' && *p != ']')) goto bad;
    it->p = p;
    return true;
bad:
    it->failed = true;
    return false;
}

bool cdc_es_json_member(cdc_es_span_t object, const char *quoted_key, size_t quoted_len,
                        cdc_es_span_t *value)
{
    cdc_es_json_iter_t it;
    cdc_es_span_t k, v;
    if (!cdc_es_json_begin(object, &it) || !it.object) return false;
    while (cdc_es_json_next(&it, &k, &v))
        if (k.len == quoted_len && memcmp(k.p, quoted_key, quoted_len) == 0) {
            *value = v;
            return true;
        }
    return false;
}
