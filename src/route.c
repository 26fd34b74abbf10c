#include "route.h"

#include <stdlib.h>
#include <string.h>

#include "errstr.h"
#include "render.h"

typedef enum route_var {
    ROUTE_TOPIC,
    ROUTE_DB,
    ROUTE_SCHEMA,
    ROUTE_TABLE,
    ROUTE_KEY,
    ROUTE_UNKNOWN
} route_var_t;

static const char *const route_names[] = {"topic", "source.db",
                                          "source.schema", "source.table",
                                          "key"};

static route_var_t route_lookup(const char *name, size_t len)
{
    for (int i = 0; i < ROUTE_UNKNOWN; i++)
        if (strlen(route_names[i]) == len && memcmp(route_names[i], name, len) == 0)
            return (route_var_t)i;
    return ROUTE_UNKNOWN;
}

static const char *route_value(route_var_t var, const cdc_event_t *ev)
{
    switch (var) {
    case ROUTE_TOPIC: return ev->topic;
    case ROUTE_DB: return ev->source_db;
    case ROUTE_SCHEMA: return ev->source_schema;
    case ROUTE_TABLE:
        /* A record without source metadata (a tombstone) still routes:
         * fall back to the last part of the topic, Debezium's table. */
        if (ev->source_table && *ev->source_table) return ev->source_table;
        {
            const char *dot = ev->topic ? strrchr(ev->topic, '.') : NULL;
            return dot ? dot + 1 : ev->topic;
        }
    default: return "";
    }
}

int cdc_route_check(const char *t, bool allow_key, char *errstr,
                    size_t errstr_size)
{
    for (const char *p = t; (p = strstr(p, "${")); ) {
        const char *end = strchr(p, '}');
        if (!end)
            return cdc_errstr_set(errstr, errstr_size,
                                  "'%s': unterminated ${", t);
        route_var_t var = route_lookup(p + 2, (size_t)(end - p - 2));
        if (var == ROUTE_UNKNOWN || (var == ROUTE_KEY && !allow_key))
            return cdc_errstr_set(errstr, errstr_size,
                                  "'%s': unknown placeholder ${%.*s} (known: "
                                  "${topic}, ${source.db}, ${source.schema}, "
                                  "${source.table}%s)",
                                  t, (int)(end - p - 2), p + 2,
                                  allow_key ? ", ${key}" : "");
        p = end + 1;
    }
    return 0;
}

void cdc_route_key_part(cdc_buf_t *buf, size_t index, const char *text,
                        size_t len)
{
    if (index) cdc_buf_putc(buf, ':');
    if (!text) {
        cdc_buf_puts(buf, "\\N");
        return;
    }
    for (size_t k = 0; k < len; k++) {
        if (text[k] == ':' || text[k] == '\\') cdc_buf_putc(buf, '\\');
        cdc_buf_putc(buf, text[k]);
    }
}

/* The key's values as text, escaped so that the parts stay apart. */
void cdc_route_key_text(const cdc_row_schema_t *key_schema, const cdc_value_t *key,
                        cdc_buf_t *buf)
{
    if (!key || !key_schema) return;
    cdc_buf_t text;
    cdc_buf_init(&text);
    for (size_t i = 0; i < key_schema->ncolumns; i++) {
        const cdc_value_t *v = &key[i];
        if (v->is_null) {
            cdc_route_key_part(buf, i, NULL, 0);
            continue;
        }
        cdc_buf_reset(&text);
        cdc_render_text(v, &key_schema->columns[i], &text);
        cdc_route_key_part(buf, i, text.data ? text.data : "", text.len);
        if (text.failed) buf->failed = true;
    }
    cdc_buf_free(&text);
}

void cdc_route_format(const char *t, const cdc_event_t *ev, cdc_buf_t *buf)
{
    cdc_route_format_keyed(t, ev, ev->key_schema, ev->key, buf);
}

/* The template filled; ${key} from key_text when it is not NULL, else
 * from the key's values. */
static void format(const char *t, const cdc_event_t *ev, const cdc_row_schema_t *key_schema,
                   const cdc_value_t *key, const char *key_text, cdc_buf_t *buf)
{
    const char *p = t;
    for (const char *open; (open = strstr(p, "${"));) {
        const char *end = strchr(open, '}');
        if (!end) break;
        cdc_buf_append(buf, p, (size_t)(open - p));
        route_var_t var = route_lookup(open + 2, (size_t)(end - open - 2));
        if (var == ROUTE_KEY && key_text) {
            cdc_buf_puts(buf, key_text);
        } else if (var == ROUTE_KEY) {
            cdc_route_key_text(key_schema, key, buf);
        } else {
            const char *value = route_value(var, ev);
            cdc_buf_puts(buf, value ? value : "");
        }
        p = end + 1;
    }
    cdc_buf_puts(buf, p);
}

void cdc_route_format_keyed(const char *t, const cdc_event_t *ev,
                            const cdc_row_schema_t *key_schema,
                            const cdc_value_t *key, cdc_buf_t *buf)
{
    format(t, ev, key_schema, key, NULL, buf);
}

void cdc_route_format_key_text(const char *t, const cdc_event_t *ev,
                               const char *key_text, cdc_buf_t *buf)
{
    format(t, ev, NULL, NULL, key_text, buf);
}

int cdc_route_key_affixes(const char *t, const cdc_event_t *ev, cdc_buf_t *prefix,
                          cdc_buf_t *suffix)
{
    /* Filled with a marker no placeholder renders: split around it. */
    static const char mark[] = "\001cdc-key\001";
    cdc_buf_t all;
    cdc_buf_init(&all);
    format(t, ev, NULL, NULL, mark, &all);
    const char *at = all.data ? strstr(all.data, mark) : NULL;
    int rc = -1;
    if (at && !strstr(at + 1, mark)) {
        cdc_buf_append(prefix, all.data, (size_t)(at - all.data));
        cdc_buf_puts(suffix, at + sizeof mark - 1);
        rc = prefix->failed || suffix->failed ? -1 : 0;
    }
    cdc_buf_free(&all);
    return rc;
}

void cdc_route_key_parts_free(char **parts, size_t n)
{
    for (size_t i = 0; parts && i < n; i++) free(parts[i]);
    free(parts);
}

/* One raw part, text[from..to), unescaped; NULL for \N. */
static int split_part(const char *text, size_t from, size_t to, char **out)
{
    *out = NULL;
    if (to - from == 2 && text[from] == '\\' && text[from + 1] == 'N') return 0;
    char *part = malloc(to - from + 1);
    if (!part) return -1;
    size_t at = 0;
    for (size_t i = from; i < to; i++) {
        if (text[i] == '\\' && i + 1 < to) i++;
        part[at++] = text[i];
    }
    part[at] = '\0';
    *out = part;
    return 0;
}

int cdc_route_key_split(const char *text, char ***out)
{
    size_t n = 1, len = strlen(text);
    for (size_t i = 0; i < len; i++) {
        if (text[i] == '\\' && i + 1 < len) i++;
        else if (text[i] == ':') n++;
    }
    char **parts = calloc(n, sizeof *parts);
    if (!parts) return -1;
    size_t k = 0, from = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i + 1 < len && text[i] == '\\') {
            i++;
            continue;
        }
        if (i < len && text[i] != ':') continue;
        if (split_part(text, from, i, &parts[k++]) != 0) {
            cdc_route_key_parts_free(parts, n);
            return -1;
        }
        from = i + 1;
    }
    *out = parts;
    return (int)n;
}
