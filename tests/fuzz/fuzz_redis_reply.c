/* fuzz_redis_reply — the Redis sink's readers of what Redis answers
 * (sinks/redis/rd_reply.c): the guard script's per-change results,
 * MOVED/ASK redirects, CLUSTER SLOTS entries, and the error classes of
 * rd_conn.c (cdc_rd_conn_classify).
 *
 * The input is bytes as a server sends them (RESP), read into reply
 * trees by hiredis's own reader (redisReaderCreate/redisReaderFeed, the
 * one every redisContext uses), so the protocol parsing is exercised with
 * them; a pipeline of several replies is read one after the other, as
 * read_replies() does. Each reply goes to every reader: as a script's
 * answer, as an error (classified, read as a redirect), as a CLUSTER
 * SLOTS answer applied to a slot map. Seeds: answers captured from the
 * stack's Redis and Redis Cluster (CLUSTER SLOTS, MOVED, NOSCRIPT,
 * WRONGPASS ...) and the script's replies as rd_script.c documents them.
 * Whatever arrives, each reader gives a result within its stated ranges
 * or says it is not what it expected. */
#include <hiredis/hiredis.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rd_conn.h"
#include "rd_reply.h"
#include "rd_slot.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fail(const char *why)
{
    fprintf(stderr, "fuzz_redis_reply: %s\n", why);
    abort();
}

static void check_endpoint(const cdc_rd_endpoint_t *e, bool host_may_be_empty)
{
    size_t hlen = strnlen(e->host, sizeof e->host);
    if (hlen == sizeof e->host) fail("host not NUL-terminated");
    if (!hlen && !host_may_be_empty) fail("empty host");
    if (e->port < 1 || e->port > 65535) fail("port out of range");
}

static void as_script_answer(const redisReply *r)
{
    size_t n = r->type == REDIS_REPLY_ARRAY ? r->elements + 2 : 2;
    for (size_t k = 0; k < n; k++) {
        const char *held = "";
        cdc_rd_result_t res = cdc_rd_reply_result(r, k, &held);
        if (res != CDC_RD_RESULT_APPLIED && res != CDC_RD_RESULT_STALE &&
            res != CDC_RD_RESULT_WRONGTYPE)
            fail("unknown result");
        if (res != CDC_RD_RESULT_WRONGTYPE && held) fail("a type held by a written key");
        if (held) (void)strlen(held); /* NUL-terminated, inside the reply */
    }
}

static void as_error(const char *text)
{
    cdc_sink_status_t st = cdc_rd_conn_classify(text);
    if (st != CDC_SINK_RETRY && st != CDC_SINK_FATAL) fail("unknown class");
    cdc_rd_redirect_t to;
    if (cdc_rd_reply_redirect(text, &to) == 0) {
        if (to.slot < 0 || to.slot >= CDC_RD_SLOTS) fail("redirect slot out of range");
        check_endpoint(&to.to, false);
        if (to.ask != (strncmp(text, "ASK ", 4) == 0)) fail("ASK read as MOVED");
    }
}

static void as_cluster_slots(const redisReply *r)
{
    if (r->type != REDIS_REPLY_ARRAY) return;
    static int16_t map[CDC_RD_SLOTS];
    for (size_t i = 0; i < r->elements; i++) {
        cdc_rd_slot_range_t range;
        if (cdc_rd_reply_slot_range(r->element[i], &range) != 0) continue;
        check_endpoint(&range.master, true);
        if (range.first < 0 || range.last >= CDC_RD_SLOTS) fail("slot range outside the map");
        for (int s = range.first; s <= range.last; s++) map[s] = (int16_t)i;
    }
}

static void read_all(const redisReply *r)
{
    as_script_answer(r);
    as_cluster_slots(r);
    if (r->str && (r->type == REDIS_REPLY_ERROR || r->type == REDIS_REPLY_STATUS ||
                   r->type == REDIS_REPLY_STRING))
        as_error(r->str);
    /* A nested reply can be anything too. */
    if (r->type == REDIS_REPLY_ARRAY || r->type == REDIS_REPLY_MAP ||
        r->type == REDIS_REPLY_SET || r->type == REDIS_REPLY_PUSH)
        for (size_t i = 0; i < r->elements && i < 64; i++)
            if (r->element[i]->type == REDIS_REPLY_ARRAY) as_cluster_slots(r->element[i]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    redisReader *reader = redisReaderCreate();
    if (!reader) return 0;
    reader->maxelements = CDC_RD_REPLY_MAX_ELEMENTS; /* as rd_conn.c sets it */
    /* Fed in two pieces: replies cut anywhere arrive like that too. */
    size_t cut = size ? data[0] % (size + 1) : 0;
    if (redisReaderFeed(reader, (const char *)data, cut) == REDIS_OK &&
        redisReaderFeed(reader, (const char *)data + cut, size - cut) == REDIS_OK) {
        for (int replies = 0; replies < 64; replies++) {
            void *reply = NULL;
            if (redisReaderGetReply(reader, &reply) != REDIS_OK || !reply) break;
            read_all(reply);
            freeReplyObject(reply);
        }
    }
    redisReaderFree(reader);
    return 0;
}
