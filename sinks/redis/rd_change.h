/* rd_change — a planned change as the guard script's arguments
 * (rd_script.c): its key and position marker, its slot, the op, the
 * 20-digit position, and the payload of its layout (json: the row's JSON
 * cut at unavailable columns; hash: fields to set and to delete). */
#ifndef CDC_RD_CHANGE_H
#define CDC_RD_CHANGE_H

#include <stdbool.h>
#include <stddef.h>

#include "arena.h"
#include "buf.h"
#include "plan.h"

/* A growing list of arguments in the batch arena. */
typedef struct cdc_rd_args {
    const char **argv;
    size_t *len;
    size_t count, cap;
} cdc_rd_args_t;

/* Appends an argument that outlives the batch's use (no copy); -1 when
 * out of memory. */
int cdc_rd_args_push(cdc_rd_args_t *a, const char *p, size_t len, cdc_arena_t *arena);

/* Appends a copy (in the arena); -1 when out of memory. */
int cdc_rd_args_copy(cdc_rd_args_t *a, const char *p, size_t len, cdc_arena_t *arena);

/* The position marker of a key, in the arena: __cdc:pos:{TAG}:<key>,
 * TAG putting it in the key's Cluster slot (sinks/redis/README.md). NULL
 * when out of memory. */
char *cdc_rd_marker_name(const char *key, size_t key_len, cdc_arena_t *arena, size_t *len);

/* The prefix of every marker: keys that are no row's. */
#define CDC_RD_MARKER_PREFIX "__cdc:pos:"

/* One change, as the script takes it. */
typedef struct cdc_rd_item {
    const char *key, *marker;
    size_t key_len, marker_len;
    int slot;
    char op;
    char wire_op; /* op as the script reads it: upper case when inclusive */
    char position[24];
    const char **payload; /* arguments after op, position, n */
    size_t *payload_len;
    size_t npayload;
} cdc_rd_item_t;

/* Builds the item of one change (hash: the hash layout); scratch is a
 * buffer to render in. -1 when out of memory. */
int cdc_rd_item_build(const cdc_change_t *c, bool hash, cdc_buf_t *scratch,
                      cdc_rd_item_t *it, cdc_arena_t *arena);

#endif
