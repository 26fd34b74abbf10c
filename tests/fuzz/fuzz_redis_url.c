/* fuzz_redis_url — `connection.url` of the Redis sink
 * (sinks/redis/rd_url.c): scheme, percent-encoded user and password,
 * Cluster seed nodes, database number.
 *
 * The input is the URL's text (NUL-terminated, as the config hands it
 * over). Seeds: the URLs of the unit test (tests/unit/t0010-redis.c), of
 * the example pipeline file, the docs and the integration tests. Whatever
 * it holds, parsing ends in a URL within the stated ranges (1..16 nodes,
 * non-empty hosts, ports 1..65535, database 0..100000) or one error that
 * does not repeat the password. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rd_url.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fail(const char *why, const char *text)
{
    fprintf(stderr, "fuzz_redis_url: %s: %s\n", why, text);
    abort();
}

static int terminated(const char *s, size_t size)
{
    return strnlen(s, size) < size;
}

/* Whether the error repeats a secret: it holds the secret, and the
 * secret holds a byte that neither the messages' own words nor the URL's
 * text after its last '@' (where every quoted part comes from) hold, so
 * that byte came from the secret. */
static int leaks(const char *err, const char *secret, const char *text)
{
    static const char words[] =
        "connection.url must start with redis:// or rediss:// | connection.url: the user "
        "or password is too long or badly percent-encoded | connection.url: more than 16 "
        "nodes | is not host:port | connection.url names no host | is not a database number";
    if (strlen(secret) < 4 || !strstr(err, secret)) return 0;
    const char *at = strrchr(text, '@');
    const char *after = at ? at + 1 : text;
    for (const char *c = secret; *c; c++)
        if (!strchr(words, *c) && !strchr(after, *c) && *c != '\'') return 1;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text) return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    cdc_rd_url_t url;
    char err[512] = "";
    if (cdc_rd_url_parse(text, &url, err, sizeof err) == 0) {
        if (url.nnodes < 1 || url.nnodes > CDC_RD_URL_MAX_NODES) fail("node count", text);
        for (size_t i = 0; i < url.nnodes; i++) {
            if (!url.nodes[i].host[0] || !terminated(url.nodes[i].host, sizeof url.nodes[i].host))
                fail("host", text);
            if (url.nodes[i].port < 1 || url.nodes[i].port > 65535) fail("port", text);
        }
        if (url.db < 0 || url.db > 100000) fail("database", text);
        if (!terminated(url.user, sizeof url.user) ||
            !terminated(url.password, sizeof url.password))
            fail("user or password not terminated", text);
        if (url.tls != (strncmp(text, "rediss://", 9) == 0)) fail("tls", text);
    } else {
        if (!err[0]) fail("an error without a message", text);
        /* The password as decoded, and as written between ':' and '@'. */
        if (leaks(err, url.password, text)) fail("the error repeats the password", text);
        const char *scheme_end = strstr(text, "://");
        const char *at = strrchr(text, '@');
        const char *colon = scheme_end ? strchr(scheme_end + 3, ':') : NULL;
        if (colon && at && colon < at) {
            char raw[600];
            size_t n = (size_t)(at - colon - 1);
            if (n < sizeof raw) {
                memcpy(raw, colon + 1, n);
                raw[n] = '\0';
                if (leaks(err, raw, text)) fail("the error repeats the written password", text);
            }
        }
    }
    free(text);
    return 0;
}
