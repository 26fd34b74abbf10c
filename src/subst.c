#include "subst.h"

#include "errstr.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Reads a ${file:} value: whole file, one trailing newline removed. */
static char *read_file(const char *path, char *errstr, size_t errstr_size)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        cdc_errstr_set(errstr, errstr_size, "cannot read file '%s': %s", path,
                       strerror(errno));
        return NULL;
    }
    char *buf = malloc(CDC_SUBST_FILE_MAX + 1);
    errno = 0;
    size_t n = buf ? fread(buf, 1, CDC_SUBST_FILE_MAX + 1, f) : 0;
    int bad = !buf ? ENOMEM : ferror(f) ? (errno ? errno : EIO) : 0;
    fclose(f);
    if (bad || n > CDC_SUBST_FILE_MAX || memchr(buf, '\0', n)) {
        cdc_errstr_set(errstr, errstr_size, "cannot read file '%s': %s", path,
                       bad ? strerror(bad) : "larger than 1 MiB or binary");
        free(buf);
        return NULL;
    }
    if (n > 0 && buf[n - 1] == '\n') n--;
    if (n > 0 && buf[n - 1] == '\r') n--;
    buf[n] = '\0';
    return buf;
}

/* Resolves one reference; `ref` is "env:NAME" or "file:PATH". */
static char *resolve(const char *ref, const char *dir, char *errstr,
                     size_t errstr_size)
{
    if (strncmp(ref, "env:", 4) == 0) {
        const char *v = ref[4] ? getenv(ref + 4) : NULL;
        if (!v) {
            cdc_errstr_set(errstr, errstr_size,
                           "environment variable '%s' is not set", ref + 4);
            return NULL;
        }
        char *copy = strdup(v);
        if (!copy) cdc_errstr_set(errstr, errstr_size, "out of memory");
        return copy;
    }
    const char *path = ref + 5;
    if (path[0] == '/' || !dir[0]) return read_file(path, errstr, errstr_size);
    size_t n = strlen(dir), m = strlen(path);
    char *full = malloc(n + 1 + m + 1);
    if (!full) {
        cdc_errstr_set(errstr, errstr_size, "out of memory");
        return NULL;
    }
    memcpy(full, dir, n);
    full[n] = '/';
    memcpy(full + n + 1, path, m + 1);
    char *v = read_file(full, errstr, errstr_size);
    free(full);
    return v;
}

static int is_ref_start(const char *s)
{
    return strncmp(s, "${env:", 6) == 0 || strncmp(s, "${file:", 7) == 0;
}

/* Writes `raw` with its references replaced. */
static int put_substituted(const char *raw, const char *dir, FILE *f,
                           char *errstr, size_t errstr_size)
{
    for (const char *s = raw; *s;) {
        if (!is_ref_start(s)) {
            fputc(*s++, f);
            continue;
        }
        const char *close = strchr(s, '}');
        if (!close)
            return cdc_errstr_set(errstr, errstr_size, "unterminated '${'");
        char *ref = strndup(s + 2, (size_t)(close - s - 2));
        if (!ref) return cdc_errstr_set(errstr, errstr_size, "out of memory");
        char *v = resolve(ref, dir, errstr, errstr_size);
        free(ref);
        if (!v) return -1;
        fputs(v, f);
        free(v);
        s = close + 1;
    }
    return 0;
}

char *cdc_subst_apply(const char *raw, const char *dir, char *errstr,
                      size_t errstr_size)
{
    char *out = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&out, &size);
    if (!f) {
        cdc_errstr_set(errstr, errstr_size, "out of memory");
        return NULL;
    }
    int rc = put_substituted(raw, dir, f, errstr, errstr_size);
    if (fclose(f) != 0 && rc == 0)
        rc = cdc_errstr_set(errstr, errstr_size, "out of memory");
    if (rc == 0) return out;
    free(out);
    return NULL;
}
