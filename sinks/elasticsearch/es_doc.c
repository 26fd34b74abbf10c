#include "es_doc.h"

#include <inttypes.h>
#include <stdio.h>
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

void cdc_es_doc_render_bson(const bson_iter_t *it, cdc_buf_t *buf)
{
    char num[64];
    switch (bson_iter_type(it)) {
    case BSON_TYPE_UTF8: {
        uint32_t len;
        const char *s = bson_iter_utf8(it, &len);
        cdc_render_string(s, len, buf);
        break;
    }
    case BSON_TYPE_INT32:
        cdc_buf_put_int(buf, bson_iter_int32(it));
        break;
    case BSON_TYPE_INT64:
        cdc_buf_put_int(buf, bson_iter_int64(it));
        break;
    case BSON_TYPE_DOUBLE:
        snprintf(num, sizeof num, "%.17g", bson_iter_double(it));
        cdc_buf_puts(buf, num);
        break;
    case BSON_TYPE_BOOL:
        cdc_buf_puts(buf, bson_iter_bool(it) ? "true" : "false");
        break;
    case BSON_TYPE_DOCUMENT:
    case BSON_TYPE_ARRAY: {
        bool array = BSON_ITER_HOLDS_ARRAY(it);
        bson_iter_t child;
        cdc_buf_putc(buf, array ? '[' : '{');
        if (bson_iter_recurse(it, &child)) {
            bool first = true;
            while (bson_iter_next(&child)) {
                if (!first) cdc_buf_putc(buf, ',');
                first = false;
                if (!array) {
                    const char *key = bson_iter_key(&child);
                    cdc_render_string(key, strlen(key), buf);
                    cdc_buf_putc(buf, ':');
                }
                cdc_es_doc_render_bson(&child, buf);
            }
        }
        cdc_buf_putc(buf, array ? ']' : '}');
        break;
    }
    default:
        cdc_buf_puts(buf, "null");
    }
}

static bool stored_field(const bson_t *stored, const char *name, bson_iter_t *it)
{
    return stored && bson_iter_init_find(it, stored, name);
}

/* The row's columns; unavailable ones (and, for a soft delete from the
 * before image, all but the key's) from the stored document. */
static void render_columns(const cdc_change_t *c, const bson_t *stored,
                           bool prefer_stored, cdc_buf_t *buf, bool *first)
{
    const cdc_row_schema_t *schema = c->row_schema;
    for (size_t i = 0; c->row && schema && i < schema->ncolumns; i++) {
        const cdc_column_t *col = &schema->columns[i];
        const cdc_value_t *v = &c->row[i];
        if (!*first) cdc_buf_putc(buf, ',');
        *first = false;
        cdc_render_string(col->name, strlen(col->name), buf);
        cdc_buf_putc(buf, ':');
        bson_iter_t it;
        bool from_stored = v->unavailable || (prefer_stored && v->is_null);
        if (from_stored && stored_field(stored, col->name, &it))
            cdc_es_doc_render_bson(&it, buf);
        else if (v->unavailable)
            cdc_buf_puts(buf, "null");
        else
            cdc_render_value(v, col, buf);
    }
}

/* Stored fields the row has no column for (dropped columns, or a before
 * image without a schema) stay in a soft-deleted document. */
static void render_stored_rest(const cdc_change_t *c, const bson_t *stored,
                               cdc_buf_t *buf, bool *first)
{
    bson_iter_t it;
    if (!stored || !bson_iter_init(&it, stored)) return;
    while (bson_iter_next(&it)) {
        const char *key = bson_iter_key(&it);
        if (strcmp(key, CDC_ES_DELETED_FIELD) == 0) continue;
        if (c->row_schema && cdc_row_schema_find(c->row_schema, key) >= 0 && c->row) continue;
        if (!*first) cdc_buf_putc(buf, ',');
        *first = false;
        cdc_render_string(key, strlen(key), buf);
        cdc_buf_putc(buf, ':');
        cdc_es_doc_render_bson(&it, buf);
    }
}

int cdc_es_doc_render(const cdc_change_t *c, const bson_t *stored, cdc_buf_t *buf)
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
