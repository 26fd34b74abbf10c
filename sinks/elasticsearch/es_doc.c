#include "es_doc.h"

#include <string.h>

#include "es_mapping.h"
#include "render.h"

static bool row_has_unavailable(const cdc_change_t *c)
{
    for (size_t i = 0; c->row && c->row_schema && i < c->row_schema->ncolumns; i++)
        if (c->row[i].unavailable) return true;
    return false;
}

/* A soft delete whose row is the delete's own before image (no upsert of
 * the batch gave it newer values). */
static bool soft_from_before(const cdc_change_t *c)
{
    return c->action == CDC_ACTION_SOFT_DELETE && c->row == c->event->before;
}

bool cdc_es_doc_needs_stored(const cdc_change_t *c)
{
    if (c->action == CDC_ACTION_SOFT_DELETE) return true;
    return c->action == CDC_ACTION_UPSERT && row_has_unavailable(c);
}

/* The stored value of column `name`, found by its key as cdcsink wrote
 * it (the engine keeps _source as it was sent). */
static bool stored_field(const cdc_es_span_t *stored, const char *name, cdc_buf_t *key,
                         cdc_es_span_t *value)
{
    if (!stored) return false;
    cdc_buf_reset(key);
    cdc_render_string(name, strlen(name), key);
    return !key->failed && cdc_es_json_member(*stored, key->data, key->len, value);
}

/* The row's columns; unavailable ones (and, for a soft delete from the
 * before image, all but the key's) from the stored document. */
static void render_columns(const cdc_change_t *c, const cdc_es_span_t *stored,
                           bool prefer_stored, cdc_buf_t *buf, bool *first)
{
    const cdc_row_schema_t *schema = c->row_schema;
    cdc_buf_t key;
    cdc_buf_init(&key);
    for (size_t i = 0; c->row && schema && i < schema->ncolumns; i++) {
        const cdc_column_t *col = &schema->columns[i];
        const cdc_value_t *v = &c->row[i];
        if (!*first) cdc_buf_putc(buf, ',');
        *first = false;
        cdc_render_string(col->name, strlen(col->name), buf);
        cdc_buf_putc(buf, ':');
        cdc_es_span_t sv;
        bool from_stored = v->unavailable || (prefer_stored && v->is_null);
        if (from_stored && stored_field(stored, col->name, &key, &sv))
            cdc_buf_append(buf, sv.p, sv.len);
        else if (v->unavailable)
            cdc_buf_puts(buf, "null");
        else
            cdc_render_value(v, col, buf);
    }
    if (key.failed) buf->failed = true;
    cdc_buf_free(&key);
}

/* Whether the row has a column whose key, as JSON text, is `key`. */
static bool row_has_key(const cdc_change_t *c, cdc_es_span_t key, cdc_buf_t *scratch)
{
    for (size_t i = 0; c->row && c->row_schema && i < c->row_schema->ncolumns; i++) {
        const char *name = c->row_schema->columns[i].name;
        cdc_buf_reset(scratch);
        cdc_render_string(name, strlen(name), scratch);
        if (scratch->len == key.len && memcmp(scratch->data, key.p, key.len) == 0) return true;
    }
    return false;
}

/* Stored fields the row has no column for (dropped columns, or a before
 * image without a schema) stay in a soft-deleted document. */
static void render_stored_rest(const cdc_change_t *c, const cdc_es_span_t *stored,
                               cdc_buf_t *buf, bool *first)
{
    cdc_es_json_iter_t it;
    cdc_es_span_t key, value;
    if (!stored || !cdc_es_json_begin(*stored, &it)) return;
    cdc_buf_t scratch;
    cdc_buf_init(&scratch);
    static const char deleted[] = "\"" CDC_ES_DELETED_FIELD "\"";
    while (cdc_es_json_next(&it, &key, &value)) {
        if (key.len == sizeof deleted - 1 && memcmp(key.p, deleted, key.len) == 0) continue;
        if (row_has_key(c, key, &scratch)) continue;
        if (!*first) cdc_buf_putc(buf, ',');
        *first = false;
        cdc_buf_append(buf, key.p, key.len);
        cdc_buf_putc(buf, ':');
        cdc_buf_append(buf, value.p, value.len);
    }
    cdc_buf_free(&scratch);
}

int cdc_es_doc_render(const cdc_change_t *c, const cdc_es_span_t *stored, cdc_buf_t *buf)
{
    bool first = true;
    cdc_buf_putc(buf, '{');
    if (c->action == CDC_ACTION_SOFT_DELETE) {
        /* A before image holds the key for sure and the other columns
         * only with REPLICA IDENTITY FULL: its NULLs give way to what the
         * index holds. */
        render_columns(c, stored, soft_from_before(c), buf, &first);
        render_stored_rest(c, stored, buf, &first);
        if (!first) cdc_buf_putc(buf, ',');
        cdc_buf_puts(buf, "\"" CDC_ES_DELETED_FIELD "\":true");
    } else {
        render_columns(c, stored, false, buf, &first);
    }
    cdc_buf_putc(buf, '}');
    return buf->failed ? -1 : 0;
}
