#include "grow.h"

#include <stdint.h>
#include <stdlib.h>

void *cdc_grow(void *items, size_t count, size_t *cap, size_t elem_size,
               size_t first)
{
    if (count < *cap) return items;
    size_t want = *cap ? *cap * 2 : first;
    if (want <= *cap || want > SIZE_MAX / elem_size) return NULL;
    void *grown = realloc(items, want * elem_size);
    if (!grown) return NULL;
    *cap = want;
    return grown;
}
