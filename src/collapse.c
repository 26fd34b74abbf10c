#include "collapse.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

cdc_key_id_t cdc_collapse_record_key(const cdc_event_t *ev)
{
    cdc_key_id_t id = {NULL, 0};
    if (!ev->raw_key) return id;
    id.ptr = ev->raw_key;
    id.len = ev->raw_key_len;
    if (ev->raw_key_len >= 5) {
        id.ptr = (const uint8_t *)ev->raw_key + 5;
        id.len = ev->raw_key_len - 5;
    }
    return id;
}

static uint64_t fnv1a(uint64_t h, const void *data, size_t len)
{
    const uint8_t *p = data;
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= UINT64_C(1099511628211);
    }
    return h;
}

static uint64_t key_hash(cdc_key_id_t key, const char *group)
{
    uint64_t h = fnv1a(UINT64_C(14695981039346656037), group, strlen(group) + 1);
    return fnv1a(h, key.ptr, key.len);
}

static bool same_key(cdc_key_id_t a, const char *ga, cdc_key_id_t b, const char *gb)
{
    return a.len == b.len && strcmp(ga, gb) == 0 &&
           (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}

/* Does `next` (arriving later) replace `current` for their key? */
static int supersedes(const cdc_event_t *next, const cdc_event_t *current)
{
    if (next->op == CDC_OP_TOMBSTONE || current->op == CDC_OP_TOMBSTONE)
        return 1; /* arrival order */
    if (!next->has_position || !current->has_position) return 1;
    return next->position >= current->position; /* ties: the redelivery */
}

long cdc_collapse(const cdc_event_t *const *events, const char *const *groups,
                  const cdc_key_id_t *keys, size_t count, size_t *winner_of,
                  cdc_arena_t *arena)
{
    size_t slots = 16;
    while (slots < count * 2) slots *= 2;
    size_t *table = cdc_arena_alloc(arena, slots * sizeof *table);
    cdc_key_id_t *ids = cdc_arena_alloc(arena, (count + 1) * sizeof *ids);
    if (!table || !ids) return -1;
    for (size_t i = 0; i < slots; i++) table[i] = SIZE_MAX;
    for (size_t i = 0; i < count; i++)
        ids[i] = keys ? keys[i] : cdc_collapse_record_key(events[i]);
    long winners = 0;
    for (size_t i = 0; i < count; i++) {
        winner_of[i] = i;
        if (!ids[i].ptr) { /* keyless changes cannot collapse */
            winners++;
            continue;
        }
        size_t s = (size_t)key_hash(ids[i], groups[i]) & (slots - 1);
        while (table[s] != SIZE_MAX &&
               !same_key(ids[table[s]], groups[table[s]], ids[i], groups[i]))
            s = (s + 1) & (slots - 1);
        if (table[s] == SIZE_MAX) {
            table[s] = i;
            winners++;
            continue;
        }
        size_t current = table[s];
        if (supersedes(events[i], events[current])) {
            winner_of[current] = i;
            table[s] = i;
        } else {
            winner_of[i] = current;
        }
    }
    /* Point every loser at its key's final winner. */
    for (size_t i = 0; i < count; i++) {
        size_t w = winner_of[i];
        while (winner_of[w] != w) w = winner_of[w];
        winner_of[i] = w;
    }
    return winners;
}

static bool is_upsert(const cdc_event_t *ev)
{
    return ev->op == CDC_OP_CREATE || ev->op == CDC_OP_UPDATE ||
           ev->op == CDC_OP_READ;
}

/* The newest superseded upsert of the winner's key with column `name`
 * available, or NULL. */
static const cdc_value_t *older_value(const cdc_event_t *const *events,
                                      size_t count, const size_t *winner_of,
                                      size_t winner, const char *name)
{
    const cdc_value_t *best = NULL;
    int64_t best_position = INT64_MIN;
    for (size_t i = 0; i < count; i++) {
        const cdc_event_t *ev = events[i];
        if (i == winner || winner_of[i] != winner || !is_upsert(ev) || !ev->after)
            continue;
        int c = cdc_row_schema_find(ev->row_schema, name);
        if (c < 0 || ev->after[c].unavailable) continue;
        /* Ties: the later arrival (changes of one transaction share an
         * inclusive position). */
        if (!best || ev->position >= best_position) {
            best = &ev->after[c];
            best_position = ev->position;
        }
    }
    return best;
}

const cdc_value_t *cdc_collapse_fill_unavailable(
    const cdc_event_t *const *events, size_t count, const size_t *winner_of,
    size_t winner, cdc_arena_t *arena)
{
    const cdc_event_t *w = events[winner];
    if (!w->after || !w->row_schema) return w->after;
    cdc_value_t *row = NULL;
    for (size_t c = 0; c < w->row_schema->ncolumns; c++) {
        if (!w->after[c].unavailable) continue;
        const cdc_value_t *older = older_value(events, count, winner_of, winner,
                                               w->row_schema->columns[c].name);
        if (!older) continue;
        if (!row) {
            row = cdc_arena_alloc(arena, (w->row_schema->ncolumns + 1) * sizeof *row);
            if (!row) return NULL;
            memcpy(row, w->after, w->row_schema->ncolumns * sizeof *row);
        }
        row[c] = *older;
    }
    return row ? row : w->after;
}

size_t cdc_collapse_last_upsert(const cdc_event_t *const *events, size_t count,
                                const size_t *winner_of, size_t winner)
{
    size_t best = SIZE_MAX;
    for (size_t i = 0; i < count; i++) {
        if (i == winner || winner_of[i] != winner || !is_upsert(events[i]) ||
            !events[i]->after)
            continue;
        if (best == SIZE_MAX || events[i]->position >= events[best]->position)
            best = i;
    }
    return best;
}
