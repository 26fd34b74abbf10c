/* redis_ceiling — what Redis itself does with the redis sink's writes,
 * without cdcsink: the ceiling the sink is compared with.
 *
 * Usage: redis_ceiling HOST PORT USER PASSWORD DB PREFIX ROWS BATCH MODE
 *   MODE guarded: ROWS inserts then ROWS updates of orders-like JSON rows,
 *        through the sink's own guard script (EVALSHA, 128 changes a call,
 *        the calls of a BATCH pipelined, as cdcsink sends them);
 *   MODE set: the same values as plain pipelined SETs (no guard).
 * Prints "<mode> <rows written> <seconds> <rows/s>". */
#include <hiredis/hiredis.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rd_script.h"
#include "rd_slot.h"

enum { CALL_CHANGES = 128 };

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void row_json(char *out, size_t size, long id, int version)
{
    snprintf(out, size,
             "{\"id\":%ld,\"customer_id\":%ld,\"status\":\"%s\",\"amount\":\"%ld.%02ld\","
             "\"currency\":\"EUR\",\"note\":%s,\"created_at\":\"2024-01-01T00:00:00Z\","
             "\"updated_at\":\"2024-01-01T00:00:00\"}",
             id, id % 1000, version ? "paid" : "new", (id % 100000) / 100, id % 100,
             id % 4 == 0 ? "\"note\"" : "null");
}

static int reply_ok(redisContext *c)
{
    void *r = NULL;
    if (redisGetReply(c, &r) != REDIS_OK) {
        fprintf(stderr, "redis_ceiling: %s\n", c->errstr);
        return -1;
    }
    int ok = ((redisReply *)r)->type != REDIS_REPLY_ERROR;
    if (!ok) fprintf(stderr, "redis_ceiling: %s\n", ((redisReply *)r)->str);
    freeReplyObject(r);
    return ok ? 0 : -1;
}

/* One guarded call of n changes starting at row `first`. */
static void append_guarded(redisContext *c, const char *sha, const char *prefix,
                           long first, long n, int version)
{
    size_t argc = 3 + 2 * (size_t)n + 3 + 4 * (size_t)n, k = 0;
    const char **argv = malloc(argc * sizeof *argv);
    size_t *lens = malloc(argc * sizeof *lens);
    char (*keys)[96] = malloc((size_t)n * sizeof *keys);
    char (*markers)[128] = malloc((size_t)n * sizeof *markers);
    char (*values)[320] = malloc((size_t)n * sizeof *values);
    char (*positions)[24] = malloc((size_t)n * sizeof *positions);
    char numkeys[16];
    snprintf(numkeys, sizeof numkeys, "%ld", 2 * n);
    argv[k++] = "EVALSHA";
    argv[k++] = sha;
    argv[k++] = numkeys;
    for (long i = 0; i < n; i++) {
        snprintf(keys[i], sizeof keys[i], "%s:orders:%ld", prefix, first + i);
        int slot = cdc_rd_key_slot(keys[i], strlen(keys[i]));
        snprintf(markers[i], sizeof markers[i], "__cdc:pos:{%s}:%s", cdc_rd_slot_tag(slot), keys[i]);
        argv[k++] = keys[i];
        argv[k++] = markers[i];
    }
    argv[k++] = "j";
    argv[k++] = "0";
    argv[k++] = "604800000";
    for (long i = 0; i < n; i++) {
        row_json(values[i], sizeof values[i], first + i, version);
        uint64_t pos = ((uint64_t)(version * 10000000L + first + i)) ^ (UINT64_C(1) << 63);
        snprintf(positions[i], sizeof positions[i], "%020" PRIu64, pos);
        argv[k++] = "u";
        argv[k++] = positions[i];
        argv[k++] = "1";
        argv[k++] = values[i];
    }
    for (size_t i = 0; i < k; i++) lens[i] = strlen(argv[i]);
    redisAppendCommandArgv(c, (int)k, argv, lens);
    free(argv);
    free(lens);
    free(keys);
    free(markers);
    free(values);
    free(positions);
}

int main(int argc, char **argv)
{
    if (argc != 10) {
        fprintf(stderr, "usage: redis_ceiling HOST PORT USER PASSWORD DB PREFIX ROWS BATCH guarded|set\n");
        return 2;
    }
    const char *prefix = argv[6], *mode = argv[9];
    long rows = atol(argv[7]), batch = atol(argv[8]);
    int guarded = strcmp(mode, "guarded") == 0;
    redisContext *c = redisConnect(argv[1], atoi(argv[2]));
    if (!c || c->err) {
        fprintf(stderr, "redis_ceiling: cannot connect\n");
        return 1;
    }
    redisReply *r = redisCommand(c, "AUTH %s %s", argv[3], argv[4]);
    if (!r || r->type == REDIS_REPLY_ERROR) return fprintf(stderr, "redis_ceiling: AUTH failed\n"), 1;
    freeReplyObject(r);
    r = redisCommand(c, "SELECT %s", argv[5]);
    if (!r || r->type == REDIS_REPLY_ERROR) return fprintf(stderr, "redis_ceiling: SELECT failed\n"), 1;
    freeReplyObject(r);
    r = redisCommand(c, "SCRIPT LOAD %s", cdc_rd_guard_script);
    if (!r || r->type != REDIS_REPLY_STRING) return fprintf(stderr, "redis_ceiling: SCRIPT LOAD failed\n"), 1;
    char sha[41];
    snprintf(sha, sizeof sha, "%s", r->str);
    freeReplyObject(r);
    double start = now_s();
    for (int version = 0; version < 2; version++) {
        for (long first = 1; first <= rows; first += batch) {
            long n = first + batch - 1 > rows ? rows - first + 1 : batch, calls = 0;
            for (long i = 0; i < n; i += CALL_CHANGES, calls++) {
                long m = n - i < CALL_CHANGES ? n - i : CALL_CHANGES;
                if (guarded) {
                    append_guarded(c, sha, prefix, first + i, m, version);
                } else {
                    for (long j = 0; j < m; j++) {
                        char key[96], value[320];
                        snprintf(key, sizeof key, "%s:orders:%ld", prefix, first + i + j);
                        row_json(value, sizeof value, first + i + j, version);
                        redisAppendCommand(c, "SET %s %s", key, value);
                    }
                    calls += m - 1;
                }
            }
            for (long i = 0; i < calls; i++)
                if (reply_ok(c) != 0) return 1;
        }
    }
    double seconds = now_s() - start;
    printf("%s %ld %.3f %.0f\n", mode, 2 * rows, seconds, 2.0 * (double)rows / seconds);
    redisFree(c);
    return 0;
}
