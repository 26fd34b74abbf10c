/* rd_reply — what Redis answers, read: the guard script's per-change
 * results, MOVED/ASK redirects and CLUSTER SLOTS entries.
 *
 * Functions of a hiredis reply (or an error's text) alone, without I/O:
 * redis.c and rd_conn.c act on what they say. A server, a proxy or a man
 * in the middle may answer anything; these read it or say it is not what
 * they expected (tests/fuzz/fuzz_redis_reply.c feeds them anything). */
#ifndef CDC_RD_REPLY_H
#define CDC_RD_REPLY_H

#include <hiredis/hiredis.h>
#include <stdbool.h>
#include <stddef.h>

#include "rd_url.h"

/* The most elements a reply may declare (hiredis's own bound is 2^32 - 1).
 * hiredis allocates room for what an array declares before its elements
 * arrive, so a broken server or a man in the middle could make it ask for
 * gigabytes with a few bytes; the answers read here hold far fewer (a
 * script's 128 results, CLUSTER SLOTS' 16384 ranges at most). A reply that
 * declares more breaks the connection: a protocol error, retried. */
enum { CDC_RD_REPLY_MAX_ELEMENTS = 1 << 20 };

typedef enum cdc_rd_result {
    CDC_RD_RESULT_APPLIED = 0,  /* the script answered 1 */
    CDC_RD_RESULT_STALE = 1,    /* another integer: position not newer */
    CDC_RD_RESULT_WRONGTYPE = 2 /* anything else: the type the key holds */
} cdc_rd_result_t;

/* The result of change k in the array the guard script answered (see
 * rd_script.c). For WRONGTYPE *held is the type's name as the reply gave
 * it, or NULL when it gave none (no element k, or one without text). */
cdc_rd_result_t cdc_rd_reply_result(const redisReply *r, size_t k,
                                    const char **held);

/* A Cluster redirect, "MOVED 3999 127.0.0.1:6381" or "ASK 3999 host:6381"
 * (an IPv6 host as the server writes it, without brackets). */
typedef struct cdc_rd_redirect {
    bool ask;     /* ASK: this once; MOVED: the slot map changed */
    int slot;
    cdc_rd_endpoint_t to;
} cdc_rd_redirect_t;

/* 0 with *out, or -1 when error is not a well-formed redirect (a slot in
 * 0..16383, a host that fits, a port in 1..65535). */
int cdc_rd_reply_redirect(const char *error, cdc_rd_redirect_t *out);

/* One entry of CLUSTER SLOTS: [start, end, [host, port, id...], replicas...]. */
typedef struct cdc_rd_slot_range {
    int first, last;  /* clamped to 0..16383; first > last: no slot */
    cdc_rd_endpoint_t master; /* host "": the node that was asked */
} cdc_rd_slot_range_t;

/* 0 with *out, or -1 when the entry is not of that shape (or its host does
 * not fit, or its port is not in 1..65535). */
int cdc_rd_reply_slot_range(const redisReply *entry, cdc_rd_slot_range_t *out);

#endif
