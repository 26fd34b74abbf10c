#include "rd_change.h"

#include <string.h>

#include "rd_slot.h"
#include "render.h"

static char op_of(cdc_action_t action)
{
    switch (action) {
    case CDC_ACTION_UPSERT: return 'u';
    case CDC_ACTION_SOFT_DELETE: return 's';
    case CDC_ACTION_DELETE: return 'd';
    case CDC_ACTION_KEY_DELETE: return 'k';
    }
    return 'u';
}

/* Positions as 20 digits, shifted so that string order is number order
 * for negative ones too. */
static void position_text(const cdc_event_t *ev, char out[24])
{
    uint64_t v = ev->has_position ? (uint64_t)ev->position ^ (UINT64_C(1) << 63) : 0;
    for (int i = 19; i >= 0; i--) { /* no snprintf per change: profiles */
        out[i] = (char)('0' + v % 10);
        v /= 10;
    }
    out[20] = '\0';
}

int cdc_rd_args_push(cdc_rd_args_t *a, const char *p, size_t len, cdc_arena_t *arena)
{
    if (a->count == a->cap) {
        size_t cap = a->cap ? a->cap * 2 : 16;
        const char **argv = cdc_arena_alloc(arena, cap * sizeof *argv);
        size_t *lens = cdc_arena_alloc(arena, cap * sizeof *lens);
        if (!argv || !lens) return -1;
        if (a->count) {
            memcpy(argv, a->argv, a->count * sizeof *argv);
            memcpy(lens, a->len, a->count * sizeof *lens);
        }
        a->argv = argv;
        a->len = lens;
        a->cap = cap;
    }
    a->argv[a->count] = p;
    a->len[a->count++] = len;
    return 0;
}

int cdc_rd_args_copy(cdc_rd_args_t *a, const char *p, size_t len, cdc_arena_t *arena)
{
    char *copy = cdc_arena_alloc(arena, len + 1);
    if (!copy) return -1;
    memcpy(copy, p, len);
    copy[len] = '\0';
    return cdc_rd_args_push(a, copy, len, arena);
}

/* The row as JSON, cut at its unavailable columns: seg0 name1 seg1 ...
 * (rd_script.c). A soft delete's row carries "__deleted":true. */
static int json_payload(const cdc_change_t *c, cdc_buf_t *b, cdc_rd_args_t *a,
                        cdc_arena_t *arena)
{
    cdc_buf_reset(b);
    cdc_buf_putc(b, '{');
    bool first = true;
    for (size_t i = 0; i < c->row_schema->ncolumns; i++) {
        const cdc_column_t *col = &c->row_schema->columns[i];
        if (!first) cdc_buf_putc(b, ',');
        first = false;
        cdc_render_string(col->name, strlen(col->name), b);
        cdc_buf_putc(b, ':');
        if (!c->row[i].unavailable) {
            cdc_render_value(&c->row[i], col, b);
            continue;
        }
        /* The segment ends here; the script puts the stored value in. */
        if (b->failed || cdc_rd_args_copy(a, b->data, b->len, arena) != 0) return -1;
        cdc_buf_reset(b);
        cdc_render_string(col->name, strlen(col->name), b);
        if (b->failed || cdc_rd_args_copy(a, b->data + 1, b->len - 2, arena) != 0) return -1;
        cdc_buf_reset(b);
    }
    if (c->action == CDC_ACTION_SOFT_DELETE)
        cdc_buf_puts(b, first ? "\"__deleted\":true" : ",\"__deleted\":true");
    cdc_buf_putc(b, '}');
    return b->failed ? -1 : cdc_rd_args_copy(a, b->data, b->len, arena);
}

/* Fields to set (count, field value ...), then fields to delete. */
static int hash_payload(const cdc_change_t *c, cdc_buf_t *scratch, cdc_rd_args_t *a,
                        cdc_arena_t *arena)
{
    size_t count_at = a->count;
    if (cdc_rd_args_push(a, "", 0, arena) != 0) return -1; /* the count, below */
    size_t nset = 0;
    for (size_t i = 0; i < c->row_schema->ncolumns; i++) {
        const cdc_value_t *v = &c->row[i];
        if (v->unavailable || v->is_null) continue;
        const cdc_column_t *col = &c->row_schema->columns[i];
        cdc_buf_reset(scratch);
        if (cdc_render_text(v, col, scratch) != 0 ||
            cdc_rd_args_push(a, col->name, strlen(col->name), arena) != 0 ||
            cdc_rd_args_copy(a, scratch->data ? scratch->data : "", scratch->len, arena) != 0)
            return -1;
        nset++;
    }
    if (c->action == CDC_ACTION_SOFT_DELETE) {
        if (cdc_rd_args_push(a, "__deleted", 9, arena) != 0 || cdc_rd_args_push(a, "true", 4, arena) != 0)
            return -1;
        nset++;
    }
    char count[24];
    int n = snprintf(count, sizeof count, "%zu", nset);
    char *copy = cdc_arena_strndup(arena, count, (size_t)n);
    if (!copy) return -1;
    a->argv[count_at] = copy;
    a->len[count_at] = (size_t)n;
    for (size_t i = 0; i < c->row_schema->ncolumns; i++) {
        const cdc_value_t *v = &c->row[i];
        if (!v->is_null || v->unavailable) continue;
        const char *name = c->row_schema->columns[i].name;
        if (cdc_rd_args_push(a, name, strlen(name), arena) != 0) return -1;
    }
    if (c->action == CDC_ACTION_UPSERT && cdc_rd_args_push(a, "__deleted", 9, arena) != 0)
        return -1;
    return 0;
}

char *cdc_rd_marker_name(const char *key, size_t key_len, cdc_arena_t *arena, size_t *len)
{
    /* The marker shares the key's slot whatever the key holds. */
    static const char head[] = "__cdc:pos:{";
    const char *tag = cdc_rd_slot_tag(cdc_rd_key_slot(key, key_len));
    size_t hlen = sizeof head - 1, tlen = strlen(tag);
    size_t mlen = hlen + tlen + 2 + key_len;
    char *marker = cdc_arena_alloc(arena, mlen + 1);
    if (!marker) return NULL;
    memcpy(marker, head, hlen);
    memcpy(marker + hlen, tag, tlen);
    memcpy(marker + hlen + tlen, "}:", 2);
    memcpy(marker + hlen + tlen + 2, key, key_len);
    marker[mlen] = '\0';
    *len = mlen;
    return marker;
}

int cdc_rd_item_build(const cdc_change_t *c, bool hash, cdc_buf_t *scratch,
                      cdc_rd_item_t *it, cdc_arena_t *arena)
{
    memset(it, 0, sizeof *it);
    it->key = c->target ? c->target : "";
    it->key_len = strlen(it->key);
    it->slot = cdc_rd_key_slot(it->key, it->key_len);
    it->op = op_of(c->action);
    /* An inclusive position applies over an equal marker ('k' has none). */
    it->wire_op = c->event->position_inclusive && it->op != 'k' ? (char)(it->op - 'a' + 'A') : it->op;
    position_text(c->event, it->position);
    if (!(it->marker = cdc_rd_marker_name(it->key, it->key_len, arena, &it->marker_len)))
        return -1;
    cdc_rd_args_t a = {0};
    int rc = 0;
    if ((it->op == 'u' || it->op == 's') && c->row && c->row_schema)
        rc = hash ? hash_payload(c, scratch, &a, arena) : json_payload(c, scratch, &a, arena);
    it->payload = a.argv;
    it->payload_len = a.len;
    it->npayload = a.count;
    return rc;
}

