#include "rd_url.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "errstr.h"

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    c = (char)tolower((unsigned char)c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Copies [from, to) percent-decoded into out; -1 when it does not fit or
 * a %XX is malformed. */
static int decode_part(const char *from, const char *to, char *out, size_t size)
{
    size_t n = 0;
    for (const char *p = from; p < to; p++) {
        char c = *p;
        if (c == '%') {
            int hi = p + 2 < to ? hex_digit(p[1]) : -1;
            int lo = hi >= 0 ? hex_digit(p[2]) : -1;
            if (hi < 0 || lo < 0) return -1;
            c = (char)(hi * 16 + lo);
            p += 2;
        }
        if (n + 1 >= size) return -1;
        out[n++] = c;
    }
    out[n] = '\0';
    return 0;
}

static int parse_endpoint(const char *from, const char *to, cdc_rd_endpoint_t *e)
{
    const char *colon = NULL;
    for (const char *p = from; p < to; p++)
        if (*p == ':') colon = p;
    const char *host_end = colon ? colon : to;
    size_t hlen = (size_t)(host_end - from);
    if (hlen == 0 || hlen >= sizeof e->host) return -1;
    memcpy(e->host, from, hlen);
    e->host[hlen] = '\0';
    e->port = 6379;
    if (colon) {
        char *end;
        long port = strtol(colon + 1, &end, 10);
        if (end != to || colon + 1 == to || port < 1 || port > 65535) return -1;
        e->port = (int)port;
    }
    return 0;
}

int cdc_rd_url_parse(const char *text, cdc_rd_url_t *url, char *errstr,
                     size_t errstr_size)
{
    memset(url, 0, sizeof *url);
    const char *p = text;
    if (strncmp(p, "redis://", 8) == 0) {
        p += 8;
    } else if (strncmp(p, "rediss://", 9) == 0) {
        url->tls = true;
        p += 9;
    } else {
        return cdc_errstr_set(errstr, errstr_size,
                              "connection.url must start with redis:// or rediss://");
    }
    const char *at = strrchr(p, '@');
    if (at) {
        const char *colon = memchr(p, ':', (size_t)(at - p));
        const char *user_end = colon ? colon : at;
        if (decode_part(p, user_end, url->user, sizeof url->user) != 0 ||
            (colon && decode_part(colon + 1, at, url->password, sizeof url->password) != 0))
            return cdc_errstr_set(errstr, errstr_size,
                                  "connection.url: the user or password is too "
                                  "long or badly percent-encoded");
        if (!colon) { /* redis://password@host: the password alone */
            memcpy(url->password, url->user, sizeof url->user);
            url->user[0] = '\0';
        }
        p = at + 1;
    }
    const char *slash = strchr(p, '/');
    const char *hosts_end = slash ? slash : p + strlen(p);
    for (const char *h = p; h < hosts_end;) {
        const char *comma = memchr(h, ',', (size_t)(hosts_end - h));
        const char *end = comma ? comma : hosts_end;
        if (url->nnodes == CDC_RD_URL_MAX_NODES)
            return cdc_errstr_set(errstr, errstr_size,
                                  "connection.url: more than %d nodes",
                                  CDC_RD_URL_MAX_NODES);
        if (parse_endpoint(h, end, &url->nodes[url->nnodes]) != 0)
            return cdc_errstr_set(errstr, errstr_size,
                                  "connection.url: '%.*s' is not host:port",
                                  (int)(end - h), h);
        url->nnodes++;
        h = comma ? comma + 1 : end;
    }
    if (url->nnodes == 0)
        return cdc_errstr_set(errstr, errstr_size, "connection.url names no host");
    if (slash && slash[1]) {
        char *end;
        long db = strtol(slash + 1, &end, 10);
        if (*end || db < 0 || db > 100000)
            return cdc_errstr_set(errstr, errstr_size,
                                  "connection.url: '%s' is not a database number",
                                  slash + 1);
        url->db = (int)db;
    }
    return 0;
}
