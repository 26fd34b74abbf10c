#include "buf.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void cdc_buf_init(cdc_buf_t *buf)
{
    buf->data = NULL;
    buf->len = 0;
    buf->cap = 0;
    buf->failed = false;
}

void cdc_buf_reset(cdc_buf_t *buf)
{
    buf->len = 0;
    buf->failed = false;
    if (buf->data) buf->data[0] = '\0';
}

void cdc_buf_free(cdc_buf_t *buf)
{
    free(buf->data);
    cdc_buf_init(buf);
}

/* Room for n more bytes plus the NUL; false (and failed set) if not. */
bool cdc_buf_reserve(cdc_buf_t *buf, size_t n)
{
    if (buf->failed) return false;
    if (n > SIZE_MAX - buf->len - 1) goto fail;
    size_t need = buf->len + n + 1;
    if (need <= buf->cap) return true;
    size_t cap = buf->cap ? buf->cap : 256;
    while (cap < need) {
        if (cap > SIZE_MAX / 2) {
            cap = need;
            break;
        }
        cap *= 2;
    }
    char *p = realloc(buf->data, cap);
    if (!p) goto fail;
    buf->data = p;
    buf->cap = cap;
    return true;
fail:
    buf->failed = true;
    return false;
}

void cdc_buf_append(cdc_buf_t *buf, const void *data, size_t len)
{
    if (!cdc_buf_reserve(buf, len)) return;
    if (len) memcpy(buf->data + buf->len, data, len);
    buf->len += len;
    buf->data[buf->len] = '\0';
}

void cdc_buf_putc(cdc_buf_t *buf, char c)
{
    cdc_buf_append(buf, &c, 1);
}

void cdc_buf_puts(cdc_buf_t *buf, const char *s)
{
    cdc_buf_append(buf, s, strlen(s));
}

/* Digits right to left: a hot path (every integer column and position of
 * every row), where snprintf's format parsing shows up in profiles. */
void cdc_buf_put_int(cdc_buf_t *buf, int64_t v)
{
    char tmp[24];
    char *end = tmp + sizeof tmp, *p = end;
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    do {
        *--p = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0) *--p = '-';
    cdc_buf_append(buf, p, (size_t)(end - p));
}

/* Drops everything after `len` (used to undo a partial rendering). */
void cdc_buf_truncate(cdc_buf_t *buf, size_t len)
{
    if (buf->failed || len > buf->len) return;
    buf->len = len;
    if (buf->data) buf->data[len] = '\0';
}
