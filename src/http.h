/* http — the smallest HTTP/1.1 server that serves /metrics and the probes.
 *
 * One pthread accepts and answers one connection at a time: GET only,
 * `Connection: close`, no keep-alive, no request bodies. The request head
 * must arrive within CDC_HTTP_HEAD_TIMEOUT_MS and fit CDC_HTTP_HEAD_MAX
 * bytes, so a slow or hostile client costs at most that long and that
 * much memory, then gets 408/431 and is closed. What a path serves is the
 * handler's business; the server only speaks the protocol:
 * 400 for a request it cannot parse, 405 for a method other than GET,
 * 500 when the handler fails. */
#ifndef CDC_HTTP_H
#define CDC_HTTP_H

#include <stddef.h>

#define CDC_HTTP_HEAD_MAX 8192
#define CDC_HTTP_HEAD_TIMEOUT_MS 2000

/* Called on the server thread for each GET. path is the request target
 * without its query string. Returns the status code (< 0: 500) and may set
 * *body to malloc'd bytes (the server frees them), *len, and
 * *content_type to a static string (default text/plain). */
typedef int(cdc_http_handler_t)(const char *path, char **body, size_t *len,
                                const char **content_type, void *opaque);

typedef struct cdc_http cdc_http_t;

/* The server's request parser, exposed so that the tests and tests/fuzz
 * can feed it any head. head is what was read, NUL-terminated, holding no
 * NUL and at most CDC_HTTP_HEAD_MAX bytes, up to and including the blank
 * line (and maybe more). Splits "METHOD SP TARGET SP HTTP/1.x" in place:
 * 0 with *method and *target pointing into head, or -1 for a request that
 * gets 400. */
int cdc_http_parse_head(char *head, char **method, char **target);

/* Binds listen ("HOST:PORT", "[v6addr]:PORT"; port 0 picks a free one)
 * and starts the thread. NULL with errstr on failure, e.g.
 * "http.listen 127.0.0.1:9400: Address already in use". */
cdc_http_t *cdc_http_start(const char *listen, cdc_http_handler_t *handler,
                           void *opaque, char *errstr, size_t errstr_size);

/* The port actually bound (the one chosen for port 0). */
int cdc_http_port(const cdc_http_t *srv);

/* Wakes the thread, joins it, closes the socket and frees srv. A request
 * in progress is abandoned. NULL is a no-op. */
void cdc_http_stop(cdc_http_t *srv);

#endif
