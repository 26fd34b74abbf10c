#include "arena.h"

#include <stdlib.h>
#include <string.h>

struct cdc_arena_block {
    cdc_arena_block_t *next;
    size_t used, size;
    _Alignas(16) unsigned char data[];
};

void cdc_arena_init(cdc_arena_t *arena, size_t block_size)
{
    arena->head = NULL;
    arena->block_size = block_size ? block_size : 64 * 1024;
}

static cdc_arena_block_t *arena_block_new(size_t size)
{
    cdc_arena_block_t *b = malloc(sizeof *b + size);
    if (!b) return NULL;
    b->next = NULL;
    b->used = 0;
    b->size = size;
    return b;
}

void *cdc_arena_alloc(cdc_arena_t *arena, size_t size)
{
    size = (size + 7) & ~(size_t)7;
    cdc_arena_block_t *b = arena->head;
    if (!b || b->size - b->used < size) {
        size_t want = size > arena->block_size ? size : arena->block_size;
        cdc_arena_block_t *nb = arena_block_new(want);
        if (!nb) return NULL;
        nb->next = b;
        arena->head = b = nb;
    }
    void *p = b->data + b->used;
    b->used += size;
    return p;
}

void *cdc_arena_memdup(cdc_arena_t *arena, const void *src, size_t size)
{
    void *p = cdc_arena_alloc(arena, size ? size : 1);
    if (p && size) memcpy(p, src, size);
    return p;
}

char *cdc_arena_strndup(cdc_arena_t *arena, const char *src, size_t len)
{
    char *p = cdc_arena_alloc(arena, len + 1);
    if (!p) return NULL;
    if (len) memcpy(p, src, len);
    p[len] = '\0';
    return p;
}

/* A round that needed more than one block (a big batch) leaves one block
 * of the whole size it used, so that steady state costs one malloc at
 * start-up instead of several per batch (each freed again, and faulted in
 * again, by the next round). Beyond this size the arena starts over. */
#define ARENA_KEEP_MAX (16u * 1024 * 1024)

void cdc_arena_reset(cdc_arena_t *arena)
{
    cdc_arena_block_t *b = arena->head;
    if (!b) return;
    if (!b->next) {
        b->used = 0;
        return;
    }
    size_t total = 0;
    while (b) {
        cdc_arena_block_t *next = b->next;
        total += b->size;
        free(b);
        b = next;
    }
    arena->head = total <= ARENA_KEEP_MAX ? arena_block_new(total) : NULL;
}

void cdc_arena_destroy(cdc_arena_t *arena)
{
    cdc_arena_block_t *b = arena->head;
    while (b) {
        cdc_arena_block_t *next = b->next;
        free(b);
        b = next;
    }
    arena->head = NULL;
}
