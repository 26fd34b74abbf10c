/* subst — `${env:NAME}` and `${file:PATH}` references in a value.
 *
 * `${env:NAME}` becomes the environment variable NAME (unset: an error).
 * `${file:PATH}` becomes the content of the file, one trailing newline
 * (`\n` or `\r\n`) removed; a relative PATH is relative to `dir`, the
 * directory of the pipeline file. A file larger than CDC_SUBST_FILE_MAX or
 * holding a NUL byte is an error. Substituted text is not scanned again;
 * any other `${...}` (routing placeholders such as `${source.table}`)
 * stays as it is. Messages name the variable or the file, never its
 * content. */
#ifndef CDC_SUBST_H
#define CDC_SUBST_H

#include <stddef.h>

#define CDC_SUBST_FILE_MAX (1024 * 1024)

/* `raw` with its references replaced; caller frees. `dir` anchors relative
 * paths ("" for the working directory). NULL on error, with errstr saying
 * what failed ("environment variable 'X' is not set", "cannot read file
 * 'P': ...", "unterminated '${'", "out of memory"); the caller adds where
 * the value came from. */
char *cdc_subst_apply(const char *raw, const char *dir, char *errstr,
                      size_t errstr_size);

#endif
