#include "es_bulk.h"

#include <bson/bson.h>
#include <stdio.h>
#include <string.h>

#include "render.h"

void cdc_es_bulk_action(cdc_buf_t *body, bool is_index, const char *index, const char *id,
                        int64_t version, bool inclusive)
{
    cdc_buf_puts(body, is_index ? "{\"index\":{\"_index\":" : "{\"delete\":{\"_index\":");
    cdc_render_string(index, strlen(index), body);
    cdc_buf_puts(body, ",\"_id\":");
    cdc_render_string(id, strlen(id), body);
    if (version >= 0) {
        cdc_buf_puts(body, ",\"version\":");
        cdc_buf_put_int(body, version);
        cdc_buf_puts(body, inclusive ? ",\"version_type\":\"external_gte\""
                                     : ",\"version_type\":\"external\"");
    }
    cdc_buf_puts(body, "}}\n");
}

void cdc_es_bulk_item(cdc_buf_t *body, const char *index, const char *id,
                      int64_t version, bool inclusive, const char *doc, size_t doc_len)
{
    cdc_es_bulk_action(body, doc != NULL, index, id, version, inclusive);
    if (doc) {
        cdc_buf_append(body, doc, doc_len);
        cdc_buf_putc(body, '\n');
    }
}

static void item_classify(cdc_es_item_answer_t *a, bool is_delete)
{
    long s = a->status;
    if (s >= 200 && s < 300) a->result = CDC_ES_ITEM_APPLIED;
    else if (s == 404 && is_delete) a->result = CDC_ES_ITEM_APPLIED;
    else if (s == 409) a->result = CDC_ES_ITEM_STALE;
    else if (s == 429 || s >= 500 || s == 0) a->result = CDC_ES_ITEM_RETRY;
    else a->result = CDC_ES_ITEM_REJECTED;
}

static void copy_utf8(bson_iter_t *parent, const char *key, char *out, size_t size)
{
    bson_iter_t it;
    if (bson_iter_recurse(parent, &it) && bson_iter_find(&it, key) && BSON_ITER_HOLDS_UTF8(&it))
        snprintf(out, size, "%s", bson_iter_utf8(&it, NULL));
}

int cdc_es_bulk_read(const char *json, size_t len, cdc_es_item_answer_t *answers, size_t n)
{
    if (!json || len == 0) return -1;
    /* The common answer: nothing failed, every item applied. The filter
     * puts `errors` first. */
    static const char all_ok[] = "{\"errors\":false";
    if (len >= sizeof all_ok - 1 && memcmp(json, all_ok, sizeof all_ok - 1) == 0) {
        for (size_t i = 0; i < n; i++)
            answers[i] = (cdc_es_item_answer_t){.result = CDC_ES_ITEM_APPLIED, .status = 200};
        return 0;
    }
    bson_error_t err;
    bson_t *doc = bson_new_from_json((const uint8_t *)json, (ssize_t)len, &err);
    if (!doc) return -1;
    bson_iter_t items, item, op, field;
    size_t i = 0;
    int rc = -1;
    if (bson_iter_init_find(&items, doc, "items") && BSON_ITER_HOLDS_ARRAY(&items) &&
        bson_iter_recurse(&items, &item)) {
        rc = 0;
        while (bson_iter_next(&item)) {
            if (i == n || !BSON_ITER_HOLDS_DOCUMENT(&item) || !bson_iter_recurse(&item, &op) ||
                !bson_iter_next(&op) || !BSON_ITER_HOLDS_DOCUMENT(&op)) {
                rc = -1;
                break;
            }
            cdc_es_item_answer_t *a = &answers[i++];
            memset(a, 0, sizeof *a);
            bool is_delete = strcmp(bson_iter_key(&op), "delete") == 0;
            if (bson_iter_recurse(&op, &field) && bson_iter_find(&field, "status") &&
                BSON_ITER_HOLDS_NUMBER(&field))
                a->status = (long)bson_iter_as_int64(&field);
            bson_iter_t e;
            if (bson_iter_recurse(&op, &e) && bson_iter_find(&e, "error") &&
                BSON_ITER_HOLDS_DOCUMENT(&e)) {
                copy_utf8(&e, "type", a->error_type, sizeof a->error_type);
                copy_utf8(&e, "reason", a->reason, sizeof a->reason);
            }
            item_classify(a, is_delete);
        }
    }
    bson_destroy(doc);
    return rc == 0 && i == n ? 0 : -1;
}
