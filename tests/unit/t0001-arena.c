/* The batch arena and the buffer's integer writer: the two allocation and
 * formatting helpers every record goes through. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "buf.h"
#include "grow.h"
#include "unit.h"

/* A round that outgrew the first block leaves, after reset, one block
 * holding that whole round: the same round again is contiguous. */
static void test_arena_learns_round_size(void)
{
    cdc_arena_t a;
    cdc_arena_init(&a, 64 * 1024);
    for (int round = 0; round < 3; round++) {
        unsigned char *p[10];
        for (int i = 0; i < 10; i++) {
            p[i] = cdc_arena_alloc(&a, 100 * 1024);
            CHECK(p[i] != NULL);
            memset(p[i], i, 100 * 1024);
        }
        bool contiguous = true;
        for (int i = 1; i < 10; i++) contiguous &= p[i] == p[i - 1] + 100 * 1024;
        if (round == 0) CHECK(!contiguous); /* 64 KiB blocks: one per alloc */
        else CHECK(contiguous);
        CHECK_INT(p[9][100 * 1024 - 1], 9);
        cdc_arena_reset(&a);
    }
    /* Small again: the big block is reused, from its start. */
    unsigned char *first = cdc_arena_alloc(&a, 16);
    cdc_arena_reset(&a);
    CHECK(cdc_arena_alloc(&a, 16) == first);
    cdc_arena_destroy(&a);
}

static void test_arena_strings(void)
{
    cdc_arena_t a;
    cdc_arena_init(&a, 0);
    char *s = cdc_arena_strndup(&a, "abcdef", 3);
    CHECK_STR(s, "abc");
    CHECK(((uintptr_t)cdc_arena_alloc(&a, 1) & 7) == 0);
    cdc_arena_destroy(&a);
}

static void test_put_int(void)
{
    cdc_buf_t b;
    cdc_buf_init(&b);
    const int64_t values[] = {0, 7, -7, 10, 1234567890123LL, INT64_MAX, INT64_MIN};
    const char *want[] = {"0", "7", "-7", "10", "1234567890123",
                          "9223372036854775807", "-9223372036854775808"};
    for (size_t i = 0; i < sizeof values / sizeof *values; i++) {
        cdc_buf_reset(&b);
        cdc_buf_put_int(&b, values[i]);
        CHECK_STR(b.data, want[i]);
        CHECK_INT(b.len, strlen(want[i]));
    }
    cdc_buf_free(&b);
}

/* Doubling from `first`; a full array moves, a roomy one does not. */
static void test_grow(void)
{
    int *items = NULL;
    size_t cap = 0;
    for (size_t count = 0; count < 40; count++) {
        int *now = cdc_grow(items, count, &cap, sizeof *items, 4);
        CHECK(now != NULL);
        items = now;
        items[count] = (int)count;
    }
    CHECK_INT(cap, 64); /* 4, 8, 16, 32, 64 */
    CHECK_INT(items[39], 39);
    CHECK(cdc_grow(items, 40, &cap, sizeof *items, 4) == items);
    size_t huge = SIZE_MAX / 2 + 1;
    CHECK(cdc_grow(items, huge, &huge, sizeof *items, 4) == NULL);
    CHECK(huge == SIZE_MAX / 2 + 1); /* unchanged on failure */
    free(items);
}

int main(void)
{
    test_arena_learns_round_size();
    test_arena_strings();
    test_put_int();
    test_grow();
    return unit_finish("t0001-arena");
}
