/* readfile — a whole file into memory. */
#ifndef CDC_READFILE_H
#define CDC_READFILE_H

#include <stddef.h>

/* The file's bytes, NUL-terminated (caller frees), *len their count; NULL
 * with errstr ("PATH: reason") when it cannot be opened or read. */
char *cdc_readfile(const char *path, size_t *len, char *errstr, size_t errstr_size);

#endif
