/* grow — room for one more element in a growable array.
 *
 * The arrays of the pipeline, the replay, the registry and decoder caches
 * all grow the same way: twice as large when full. */
#ifndef CDC_GROW_H
#define CDC_GROW_H

#include <stddef.h>

/* When count has reached *cap, reallocates items to twice *cap (`first`
 * when empty) and updates *cap. Returns the array to use from now on, or
 * NULL when out of memory; then items and *cap are unchanged and valid. */
void *cdc_grow(void *items, size_t count, size_t *cap, size_t elem_size,
               size_t first);

#endif
