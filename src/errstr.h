/* errstr — the librdkafka convention for reporting errors upward.
 *
 * A function that can fail takes (char *errstr, size_t errstr_size), writes
 * one human sentence with its context there and returns a status. This
 * helper formats that sentence and returns -1, so callers can write
 * `return cdc_errstr_set(errstr, errstr_size, "...", ...);`. */
#ifndef CDC_ERRSTR_H
#define CDC_ERRSTR_H

#include <stddef.h>

int cdc_errstr_set(char *errstr, size_t errstr_size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
