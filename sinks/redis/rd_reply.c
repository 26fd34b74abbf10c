#include "rd_reply.h"

#include <stdlib.h>
#include <string.h>

#include "rd_slot.h"

cdc_rd_result_t cdc_rd_reply_result(const redisReply *r, size_t k,
                                    const char **held)
{
    const redisReply *e =
        r && r->type == REDIS_REPLY_ARRAY && k < r->elements ? r->element[k] : NULL;
    *held = NULL;
    if (e && e->type == REDIS_REPLY_INTEGER)
        return e->integer == 1 ? CDC_RD_RESULT_APPLIED : CDC_RD_RESULT_STALE;
    if (e && e->str && e->type != REDIS_REPLY_ARRAY) *held = e->str;
    return CDC_RD_RESULT_WRONGTYPE;
}

/* A decimal number of at most `max`, the whole of [p, end); -1 if not. */
static long number_in(const char *p, const char *end, long max)
{
    long v = 0;
    if (p == end) return -1;
    for (; p < end; p++) {
        if (*p < '0' || *p > '9') return -1;
        v = v * 10 + (*p - '0');
        if (v > max) return -1;
    }
    return v;
}

int cdc_rd_reply_redirect(const char *error, cdc_rd_redirect_t *out)
{
    memset(out, 0, sizeof *out);
    const char *p;
    if (strncmp(error, "MOVED ", 6) == 0) {
        p = error + 6;
    } else if (strncmp(error, "ASK ", 4) == 0) {
        out->ask = true;
        p = error + 4;
    } else {
        return -1;
    }
    const char *space = strchr(p, ' ');
    const char *colon = space ? strrchr(space, ':') : NULL;
    if (!colon) return -1;
    long slot = number_in(p, space, CDC_RD_SLOTS - 1);
    long port = number_in(colon + 1, colon + strlen(colon), 65535);
    size_t hlen = (size_t)(colon - space - 1);
    if (slot < 0 || port < 1 || hlen == 0 || hlen >= sizeof out->to.host) return -1;
    memcpy(out->to.host, space + 1, hlen);
    out->to.host[hlen] = '\0';
    out->slot = (int)slot;
    out->to.port = (int)port;
    return 0;
}

int cdc_rd_reply_slot_range(const redisReply *e, cdc_rd_slot_range_t *out)
{
    memset(out, 0, sizeof *out);
    if (!e || e->type != REDIS_REPLY_ARRAY || e->elements < 3) return -1;
    const redisReply *start = e->element[0], *end = e->element[1], *master = e->element[2];
    if (start->type != REDIS_REPLY_INTEGER || end->type != REDIS_REPLY_INTEGER ||
        master->type != REDIS_REPLY_ARRAY || master->elements < 2 ||
        master->element[1]->type != REDIS_REPLY_INTEGER ||
        master->element[1]->integer < 1 || master->element[1]->integer > 65535)
        return -1;
    const redisReply *host = master->element[0];
    if (host->type == REDIS_REPLY_STRING && host->len > 0) {
        if (host->len >= sizeof out->master.host || strlen(host->str) != host->len)
            return -1;
        memcpy(out->master.host, host->str, host->len + 1);
    }
    out->master.port = (int)master->element[1]->integer;
    long long first = start->integer < 0 ? 0 : start->integer;
    long long last = end->integer > CDC_RD_SLOTS - 1 ? CDC_RD_SLOTS - 1 : end->integer;
    /* Out of range on either side: no slot, not an overflow. */
    out->first = first > CDC_RD_SLOTS - 1 ? CDC_RD_SLOTS : (int)first;
    out->last = last < 0 ? -1 : (int)last;
    return 0;
}
