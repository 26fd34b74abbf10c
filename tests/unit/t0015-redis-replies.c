/* What Redis answers, read without a server (sinks/redis/rd_reply.c): the
 * guard script's results, MOVED/ASK redirects, CLUSTER SLOTS entries, from
 * RESP bytes through hiredis's own reader as a connection reads them.
 * Found by tests/fuzz/fuzz_redis_reply: an array header declaring 2^32 - 1
 * elements made hiredis allocate 32 GiB before any element arrived; the
 * sink's connections now refuse more than CDC_RD_REPLY_MAX_ELEMENTS. */
#include <hiredis/hiredis.h>

#include "rd_reply.h"
#include "rd_slot.h"
#include "unit.h"

/* The first reply in bytes, or NULL (a protocol error, or incomplete). */
static redisReply *read_reply(const char *bytes, size_t len)
{
    redisReader *r = redisReaderCreate();
    r->maxelements = CDC_RD_REPLY_MAX_ELEMENTS;
    void *reply = NULL;
    if (redisReaderFeed(r, bytes, len) != REDIS_OK || redisReaderGetReply(r, &reply) != REDIS_OK)
        reply = NULL;
    redisReaderFree(r);
    return reply;
}

#define READ(lit) read_reply(lit, sizeof lit - 1)

static void check_script_results(void)
{
    redisReply *r = READ("*4\r\n:1\r\n:0\r\n$4\r\nhash\r\n*0\r\n");
    const char *held;
    CHECK(r != NULL);
    CHECK_INT(cdc_rd_reply_result(r, 0, &held), CDC_RD_RESULT_APPLIED);
    CHECK(held == NULL);
    CHECK_INT(cdc_rd_reply_result(r, 1, &held), CDC_RD_RESULT_STALE);
    CHECK_INT(cdc_rd_reply_result(r, 2, &held), CDC_RD_RESULT_WRONGTYPE);
    CHECK_STR(held, "hash");
    CHECK_INT(cdc_rd_reply_result(r, 3, &held), CDC_RD_RESULT_WRONGTYPE);
    CHECK(held == NULL);
    CHECK_INT(cdc_rd_reply_result(r, 4, &held), CDC_RD_RESULT_WRONGTYPE); /* short reply */
    CHECK(held == NULL);
    freeReplyObject(r);
}

static void check_redirects(void)
{
    cdc_rd_redirect_t to;
    CHECK_INT(cdc_rd_reply_redirect("MOVED 12182 127.0.0.1:17003", &to), 0);
    CHECK(!to.ask);
    CHECK_INT(to.slot, 12182);
    CHECK_STR(to.to.host, "127.0.0.1");
    CHECK_INT(to.to.port, 17003);
    CHECK_INT(cdc_rd_reply_redirect("ASK 0 ::1:6381", &to), 0);
    CHECK(to.ask);
    CHECK_STR(to.to.host, "::1");
    CHECK_INT(to.to.port, 6381);
    /* The port was read with atoi: out of range, negative or not a number
     * went to a node that cannot exist. */
    CHECK_INT(cdc_rd_reply_redirect("MOVED 1 h:99999999999999999999", &to), -1);
    CHECK_INT(cdc_rd_reply_redirect("MOVED 1 h:65536", &to), -1);
    CHECK_INT(cdc_rd_reply_redirect("MOVED 1 h:0", &to), -1);
    CHECK_INT(cdc_rd_reply_redirect("MOVED 1 h:-5", &to), -1);
    CHECK_INT(cdc_rd_reply_redirect("MOVED 1 h:63x", &to), -1);
    CHECK_INT(cdc_rd_reply_redirect("MOVED 16384 h:1", &to), -1);
    CHECK_INT(cdc_rd_reply_redirect("MOVED 1 :6380", &to), -1);
    CHECK_INT(cdc_rd_reply_redirect("MOVED 1", &to), -1);
    CHECK_INT(cdc_rd_reply_redirect("NOSCRIPT No matching script.", &to), -1);
}

static void check_cluster_slots(void)
{
    /* As the stack's Redis Cluster answered (tests/fuzz/corpus/redis_reply). */
    redisReply *r = READ("*2\r\n*3\r\n:0\r\n:6460\r\n*4\r\n$9\r\n127.0.0.1\r\n:17001\r\n$3\r\nabc\r\n"
                         "*0\r\n*3\r\n:6461\r\n:16383\r\n*3\r\n$0\r\n\r\n:17002\r\n$3\r\ndef\r\n");
    cdc_rd_slot_range_t range;
    CHECK(r != NULL && r->elements == 2);
    if (!r || r->elements != 2) return;
    CHECK_INT(cdc_rd_reply_slot_range(r->element[0], &range), 0);
    CHECK_INT(range.first, 0);
    CHECK_INT(range.last, 6460);
    CHECK_STR(range.master.host, "127.0.0.1");
    CHECK_INT(range.master.port, 17001);
    CHECK_INT(cdc_rd_reply_slot_range(r->element[1], &range), 0);
    CHECK_STR(range.master.host, ""); /* the node that was asked */
    CHECK_INT(range.last, CDC_RD_SLOTS - 1);
    CHECK_INT(cdc_rd_reply_slot_range(r, &range), -1);
    freeReplyObject(r);
    /* Out of range slots are clamped; a port that fits no int is refused. */
    r = READ("*2\r\n*3\r\n:-5\r\n:99999\r\n*2\r\n$1\r\nh\r\n:1\r\n"
             "*3\r\n:0\r\n:1\r\n*2\r\n$1\r\nh\r\n:4294967297\r\n");
    CHECK(r != NULL);
    if (!r) return;
    CHECK_INT(cdc_rd_reply_slot_range(r->element[0], &range), 0);
    CHECK_INT(range.first, 0);
    CHECK_INT(range.last, CDC_RD_SLOTS - 1);
    CHECK_INT(cdc_rd_reply_slot_range(r->element[1], &range), -1);
    freeReplyObject(r);
}

static void check_declared_size_bound(void)
{
    CHECK(READ("*4294967295\r\n:1\r\n") == NULL);
    char big[32];
    int n = snprintf(big, sizeof big, "*%d\r\n", CDC_RD_REPLY_MAX_ELEMENTS + 1);
    CHECK(read_reply(big, (size_t)n) == NULL);
}

int main(void)
{
    check_script_results();
    check_redirects();
    check_cluster_slots();
    check_declared_size_bound();
    return unit_finish("t0015-redis-replies");
}
