/* arena — bump allocation for data that lives exactly as long as a batch.
 *
 * Decoded events point into their batch's arena, so a batch of thousands of
 * events costs a handful of malloc calls and is freed in one go. */
#ifndef CDC_ARENA_H
#define CDC_ARENA_H

#include <stddef.h>

typedef struct cdc_arena_block cdc_arena_block_t;

typedef struct cdc_arena {
    cdc_arena_block_t *head;
    size_t block_size;
} cdc_arena_t;

void cdc_arena_init(cdc_arena_t *arena, size_t block_size);
/* Returns 8-byte aligned memory, or NULL when out of memory. */
void *cdc_arena_alloc(cdc_arena_t *arena, size_t size);
void *cdc_arena_memdup(cdc_arena_t *arena, const void *src, size_t size);
/* Copies len bytes and adds a NUL, so text fields are also C strings. */
char *cdc_arena_strndup(cdc_arena_t *arena, const char *src, size_t len);
/* Rewinds for the next batch, keeping one block as large as this round
 * needed (up to 16 MiB), so a steady load allocates nothing. */
void cdc_arena_reset(cdc_arena_t *arena);
void cdc_arena_destroy(cdc_arena_t *arena);

#endif
