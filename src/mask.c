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

/* Replaces each of the n bytes at secret in text with CDC_MASK. */
static int mask_occurrences(char *text, size_t text_size, const char *secret,
                            size_t n)
{
    if (n == 0 || !strstr(text, secret)) return 0;
    char *out = malloc(text_size);
    if (!out) return -1;
    size_t o = 0;
    for (const char *p = text; *p && o + 1 < text_size;) {
        if (strncmp(p, secret, n) == 0) {
            for (const char *m = CDC_MASK; *m && o + 1 < text_size; m++) out[o++] = *m;
            p += n;
        } else {
            out[o++] = *p++;
        }
    }
    out[o] = '\0';
    memcpy(text, out, o + 1);
    free(out);
    return 0;
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Masks the n bytes at s in text, and their percent-decoded form. */
static int mask_span(char *text, size_t text_size, const char *s, size_t n)
{
    char *raw = strndup(s, n), *decoded = malloc(n + 1);
    if (!raw || !decoded) goto err;
    size_t d = 0;
    for (size_t i = 0; i < n; i++) {
        int hi, lo;
        if (s[i] == '%' && i + 2 < n && (hi = hex_value(s[i + 1])) >= 0 &&
            (lo = hex_value(s[i + 2])) >= 0) {
            decoded[d++] = (char)(hi * 16 + lo);
            i += 2;
        } else {
            decoded[d++] = s[i];
        }
    }
    decoded[d] = '\0';
    if (mask_occurrences(text, text_size, raw, n) != 0 ||
        mask_occurrences(text, text_size, decoded, strlen(decoded)) != 0)
        goto err;
    free(raw);
    free(decoded);
    return 0;
err:
    free(raw);
    free(decoded);
    return -1;
}

void cdc_mask_in_text(char *text, size_t text_size, const char *url)
{
    if (!text || text_size == 0 || !url || !strstr(url, "://")) return;
    int failed = 0;
    /* user:password@, read as put_masked_userinfo reads it */
    for (const char *sep = strstr(url, "://"); sep && !failed;) {
        const char *auth = sep + 3, *next = strstr(auth, "://");
        const char *end = next ? next : auth + strlen(auth), *at = NULL;
        for (const char *c = auth; c < end; c++)
            if (*c == '@') at = c;
        const char *colon = at ? memchr(auth, ':', (size_t)(at - auth)) : NULL;
        if (colon)
            failed = mask_span(text, text_size, colon + 1, (size_t)(at - colon - 1));
        sep = next;
    }
    /* ?password=..., read as put_masked_query reads it */
    for (const char *s = url; *s && !failed; s++) {
        if (*s != '?' && *s != '&') continue;
        const char *name = s + 1;
        size_t name_len = strcspn(name, "=&#/?");
        if (name[name_len] != '=' || !span_has_password(name, name_len)) continue;
        const char *value = name + name_len + 1;
        failed = mask_span(text, text_size, value, strcspn(value, "&#,"));
    }
    if (failed) snprintf(text, text_size, "%s", CDC_MASK);
}
