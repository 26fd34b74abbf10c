#include "jsonl.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "errstr.h"
#include "render.h"

/* ------------------------------------------------------------------ */
/* The sink                                                            */

/* Bytes rendered before a write(2), so a huge batch is not held whole. */
enum { JSONL_WRITE_CHUNK = 256 * 1024 };

typedef struct jsonl_state {
    int fd;
    bool own_fd;       /* false for stdout: not closed, never truncated */
    bool regular;      /* a regular file: fsync it */
    bool need_newline; /* the file ended inside a line (earlier crash) */
    char *path;        /* for messages; "stdout" for "-" */
    cdc_buf_t buf;
} jsonl_state_t;

static void jsonl_close(void *opaque)
{
    jsonl_state_t *st = opaque;
    if (!st) return;
    if (st->own_fd && st->fd >= 0) close(st->fd);
    cdc_buf_free(&st->buf);
    free(st->path);
    free(st);
}

cdc_sink_status_t cdc_jsonl_open_path(const char *path, void **state,
                                      char *errstr, size_t errstr_size)
{
    *state = NULL;
    if (!path || !*path) {
        cdc_errstr_set(errstr, errstr_size, "jsonl: jsonl.path is empty");
        return CDC_SINK_FATAL;
    }
    bool is_stdout = strcmp(path, "-") == 0;
    jsonl_state_t *st = calloc(1, sizeof *st);
    if (!st) goto oom;
    st->fd = -1;
    cdc_buf_init(&st->buf);
    size_t plen = strlen(is_stdout ? "stdout" : path);
    st->path = malloc(plen + 1);
    if (!st->path) goto oom;
    memcpy(st->path, is_stdout ? "stdout" : path, plen + 1);

    if (is_stdout) {
        st->fd = STDOUT_FILENO;
    } else {
        st->fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        if (st->fd < 0) {
            cdc_errstr_set(errstr, errstr_size, "jsonl: cannot open %s: %s",
                           path, strerror(errno));
            goto err;
        }
        st->own_fd = true;
    }
    struct stat sb;
    if (fstat(st->fd, &sb) != 0) {
        cdc_errstr_set(errstr, errstr_size, "jsonl: cannot stat %s: %s",
                       st->path, strerror(errno));
        goto err;
    }
    st->regular = S_ISREG(sb.st_mode);
    if (st->own_fd && st->regular && sb.st_size > 0) {
        /* Our descriptor is write-only: peek at the last byte through a
         * second one (best effort). */
        int rfd = open(path, O_RDONLY | O_CLOEXEC);
        char last;
        if (rfd >= 0) {
            if (pread(rfd, &last, 1, sb.st_size - 1) == 1 && last != '\n')
                st->need_newline = true;
            close(rfd);
        }
    }
    *state = st;
    return CDC_SINK_OK;
oom:
    cdc_errstr_set(errstr, errstr_size, "jsonl: out of memory");
err:
    jsonl_close(st);
    return CDC_SINK_FATAL;
}

static cdc_sink_status_t jsonl_open(const cdc_config_t *cfg, void **state,
                                    char *errstr, size_t errstr_size)
{
    const char *path = cdc_config_get(cfg, "jsonl.path");
    cdc_sink_status_t rc = cdc_jsonl_open_path(path ? path : "-", state, errstr,
                                               errstr_size);
    int line = cdc_config_line(cfg, "jsonl.path");
    if (rc != CDC_SINK_OK && line > 0 && errstr && errstr_size) {
        char msg[512];
        snprintf(msg, sizeof msg, "%s", errstr);
        cdc_errstr_set(errstr, errstr_size, "%s:%d: %s",
                       cdc_config_origin(cfg), line, msg);
    }
    return rc;
}

/* Writes all of buf; 0, or -1 with errno set. */
static int write_all(int fd, const char *p, size_t len)
{
    while (len) {
        ssize_t n = write(fd, p, len);
        if (n < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        if (n == 0) {
            errno = EIO;
            return -1;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

static cdc_sink_status_t jsonl_apply(void *opaque,
                                     const cdc_change_t *changes,
                                     size_t count, cdc_outcome_t *outcomes,
                                     cdc_arena_t *arena, char *errstr,
                                     size_t errstr_size)
{
    jsonl_state_t *st = opaque;
    cdc_buf_t *buf = &st->buf;
    (void)arena;
    if (count == 0) return CDC_SINK_OK;

    /* Where this batch starts, so a failed batch can be cut off again:
     * RETRY promises nothing of it was written, and a half line would
     * corrupt the next one. */
    off_t start = -1;
    if (st->own_fd && st->regular) start = lseek(st->fd, 0, SEEK_END);

    const char *what = "write";
    int err = 0;
    cdc_buf_reset(buf);
    if (st->need_newline) cdc_buf_putc(buf, '\n');
    for (size_t i = 0; i < count; i++) {
        if (cdc_render_event(changes[i].event, buf) != 0) break;
        cdc_buf_putc(buf, '\n');
        if (buf->len >= JSONL_WRITE_CHUNK || i + 1 == count) {
            if (buf->failed) break;
            if (write_all(st->fd, buf->data, buf->len) != 0) {
                err = errno;
                break;
            }
            cdc_buf_reset(buf);
        }
    }
    if (buf->failed) {
        cdc_buf_reset(buf);
        cdc_errstr_set(errstr, errstr_size,
                       "jsonl: out of memory rendering a batch for %s",
                       st->path);
        if (start >= 0 && ftruncate(st->fd, start) != 0) { /* best effort */
        }
        return CDC_SINK_RETRY;
    }
    if (!err && st->regular && fsync(st->fd) != 0) {
        err = errno;
        what = "fsync";
    }
    if (err) {
        bool rolled_back = start >= 0 && ftruncate(st->fd, start) == 0;
        cdc_errstr_set(errstr, errstr_size, "jsonl: %s %s: %s%s", what,
                       st->path, strerror(err),
                       rolled_back ? " (batch rolled back)" : "");
        /* Nobody reads a closed pipe again; a bad descriptor is a bug. */
        if (err == EPIPE || err == EBADF) return CDC_SINK_FATAL;
        return CDC_SINK_RETRY;
    }
    st->need_newline = false;
    for (size_t i = 0; i < count; i++) {
        outcomes[i].kind = CDC_OUTCOME_APPLIED;
        outcomes[i].error_class = NULL;
        outcomes[i].exception_name = NULL;
        outcomes[i].message = NULL;
    }
    return CDC_SINK_OK;
}

/* The sink's keys; order here is the order of the docs and of `cdcsink
 * check`. */
static const cdc_configkey_t jsonl_keys[] = {
    {.name = "jsonl.path", .type = CDC_KEY_STRING, .def = "-",
     .desc = "File the change events are appended to, one JSON object per "
             "line; `-` is standard output."},
};

const cdc_sink_ops_t cdc_jsonl_sink = {
    .name = "jsonl",
    .plan_mode = CDC_PLAN_LOG, /* every change, as it came */
    .route_key = NULL,
    .keys = jsonl_keys,
    .nkeys = sizeof jsonl_keys / sizeof jsonl_keys[0],
    .open = jsonl_open,
    .apply = jsonl_apply,
    .ping = NULL,
    .close = jsonl_close,
};
