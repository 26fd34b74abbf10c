/* buf — a growable byte buffer for text being built (JSON lines, SQL
 * parameters, HTTP bodies).
 *
 * Appends never fail loudly: when memory runs out, `failed` is set, later
 * appends are ignored, and the caller checks `failed` once at the end. */
#ifndef CDC_BUF_H
#define CDC_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A growable byte buffer. `data` is always NUL-terminated once anything was
 * appended (or after init, data is NULL and len 0). When an allocation
 * fails, `failed` is set, later appends are ignored and the render
 * functions return -1; reset clears it. */
typedef struct cdc_buf {
    char *data;
    size_t len;
    size_t cap;
    bool failed;
} cdc_buf_t;

void cdc_buf_init(cdc_buf_t *buf);
/* Empties the buffer, keeping its memory. */
void cdc_buf_reset(cdc_buf_t *buf);
void cdc_buf_free(cdc_buf_t *buf);
/* Appends len bytes as they are. */
void cdc_buf_append(cdc_buf_t *buf, const void *data, size_t len);

/* Room for n more bytes (plus the NUL); false and `failed` when not. */
bool cdc_buf_reserve(cdc_buf_t *buf, size_t n);
void cdc_buf_putc(cdc_buf_t *buf, char c);
void cdc_buf_puts(cdc_buf_t *buf, const char *s);
void cdc_buf_put_int(cdc_buf_t *buf, int64_t v);
/* Drops everything after `len` (undoes a partial rendering). */
void cdc_buf_truncate(cdc_buf_t *buf, size_t len);

#endif
