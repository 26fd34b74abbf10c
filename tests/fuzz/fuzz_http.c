/* fuzz_http — the request parser behind /metrics, /healthz and /readyz
 * (src/http.c, cdc_http_parse_head).
 *
 * The input is what a client sends. It is framed as the server's reader
 * frames it: at most CDC_HTTP_HEAD_MAX bytes, none of them NUL (else 400),
 * a blank line ("\r\n\r\n" or "\n\n") somewhere in them (else 408/431),
 * NUL-terminated in a buffer of exactly the bytes read (+1), so a parser
 * that runs past the end is caught by ASan. Seeds: the requests of the
 * unit test (tests/unit/t0006-http.c) and of Prometheus, kubelet probes
 * and curl. Whatever arrives, the parser answers a method and a target
 * of the shape the server promises (a token; a target starting with `/`,
 * without spaces or control characters), or -1. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int is_tchar(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           (c && strchr("!#$%&'*+-.^_`|~", c));
}

static void fail(const char *why, const char *method, const char *target)
{
    fprintf(stderr, "fuzz_http: %s (method '%s', target '%s')\n", why, method, target);
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t n = size < CDC_HTTP_HEAD_MAX ? size : CDC_HTTP_HEAD_MAX;
    if (memchr(data, '\0', n)) return 0; /* 400 before parsing */
    char *head = malloc(n + 1);
    if (!head) return 0;
    memcpy(head, data, n);
    head[n] = '\0';
    if (!strstr(head, "\r\n\r\n") && !strstr(head, "\n\n")) { /* 408 or 431 */
        free(head);
        return 0;
    }
    char *method = NULL, *target = NULL;
    if (cdc_http_parse_head(head, &method, &target) == 0) {
        if (!method || !target || method < head || method >= head + n || target < head ||
            target >= head + n || !*method)
            fail("pointers outside the head", "", "");
        for (const char *c = method; *c; c++)
            if (!is_tchar((unsigned char)*c)) fail("method is no token", method, target);
        if (target[0] != '/') fail("target does not start with /", method, target);
        for (const char *c = target; *c; c++)
            if ((unsigned char)*c <= 0x20 || *c == 0x7f)
                fail("target holds a space or control character", method, target);
        /* What dispatch() does before calling the handler. */
        target[strcspn(target, "?#")] = '\0';
    }
    free(head);
    return 0;
}
