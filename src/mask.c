#include "mask.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

int cdc_mask_kafka_is_secret(const char *name)
{
    static const char *const parts[] = {"password", "secret", "sasl.jaas",
                                        "sasl.oauthbearer.config", NULL};
    for (size_t i = 0; parts[i]; i++)
        if (strstr(name, parts[i])) return 1;
    return ends_with(name, ".pem") || ends_with(name, "key");
}

static int span_has_password(const char *s, size_t n)
{
    for (size_t i = 0; i + 8 <= n; i++)
        if (strncasecmp(s + i, "password", 8) == 0) return 1;
    return 0;
}

/* Masks the password of each user:password@ — one per "://", so comma
 * lists of node URLs are covered. The userinfo ends at the last '@' before
 * the next URL rather than at the first '/', '?' or '#': a password with
 * an unencoded delimiter gets over-masked, never shown. */
static void put_masked_userinfo(FILE *f, const char *url)
{
    const char *p = url, *sep = strstr(url, "://");
    while (sep) {
        const char *auth = sep + 3, *next = strstr(auth, "://");
        const char *end = next ? next : auth + strlen(auth), *at = NULL;
        for (const char *c = auth; c < end; c++)
            if (*c == '@') at = c;
        const char *colon = at ? memchr(auth, ':', (size_t)(at - auth)) : NULL;
        if (colon) {
            fwrite(p, 1, (size_t)(colon + 1 - p), f);
            fputs(CDC_MASK, f);
            p = at;
        }
        sep = next;
    }
    fputs(p, f);
}

/* Query parameters named like *password* (libpq's ?password=, sslpassword)
 * get their value masked. */
static void put_masked_query(FILE *f, const char *s)
{
    while (*s) {
        fputc(*s, f);
        if (*s != '?' && *s != '&') {
            s++;
            continue;
        }
        s++;
        size_t name_len = strcspn(s, "=&#/?");
        if (s[name_len] != '=' || !span_has_password(s, name_len)) continue;
        fwrite(s, 1, name_len + 1, f);
        fputs(CDC_MASK, f);
        s += name_len + 1;
        s += strcspn(s, "&#,");
    }
}

char *cdc_mask_url(const char *url)
{
    /* A libpq keyword/value string may hold password=... anywhere. */
    if (!strstr(url, "://")) return strdup(CDC_MASK);
    char *step = NULL, *out = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&step, &size);
    if (!f) return NULL;
    put_masked_userinfo(f, url);
    if (fclose(f) != 0) goto err;
    f = open_memstream(&out, &size);
    if (!f) goto err;
    put_masked_query(f, step);
    if (fclose(f) != 0) goto err;
    free(step);
    return out;
err:
    free(step);
    free(out);
    return NULL;
}
