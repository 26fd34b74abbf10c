/* unit.h — the smallest test harness that tells what failed and where.
 *
 * Each tests/unit/tNNNN-*.c file is one executable registered with ctest.
 * CHECK* record a failure and go on, so one run shows every broken value;
 * unit_finish() prints "N passed, N failed" and returns the exit code. */
#ifndef CDC_UNIT_H
#define CDC_UNIT_H

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static int unit_passed, unit_failed;

#define CHECK(cond)                                                          \
    do {                                                                     \
        if (cond) unit_passed++;                                             \
        else {                                                               \
            unit_failed++;                                                   \
            fprintf(stderr, "%s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, \
                    #cond);                                                  \
        }                                                                    \
    } while (0)

#define CHECK_INT(got, want)                                                 \
    do {                                                                     \
        long long g_ = (long long)(got), w_ = (long long)(want);             \
        if (g_ == w_) unit_passed++;                                         \
        else {                                                               \
            unit_failed++;                                                   \
            fprintf(stderr, "%s:%d: %s == %lld, want %lld\n", __FILE__,      \
                    __LINE__, #got, g_, w_);                                 \
        }                                                                    \
    } while (0)

#define CHECK_STR(got, want)                                                 \
    do {                                                                     \
        const char *g_ = (got), *w_ = (want);                                \
        if (g_ && w_ && strcmp(g_, w_) == 0) unit_passed++;                  \
        else {                                                               \
            unit_failed++;                                                   \
            fprintf(stderr, "%s:%d: %s == \"%s\", want \"%s\"\n", __FILE__,  \
                    __LINE__, #got, g_ ? g_ : "(null)", w_ ? w_ : "(null)"); \
        }                                                                    \
    } while (0)

static inline int unit_finish(const char *name)
{
    printf("%s: %d passed, %d failed\n", name, unit_passed, unit_failed);
    return unit_failed ? 1 : 0;
}

#endif
