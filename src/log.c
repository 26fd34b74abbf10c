#include "log.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

static cdc_log_level_t log_level = CDC_LOG_INFO;
static cdc_log_format_t log_format = CDC_LOG_FORMAT_LOGFMT;
static const char *log_pipeline = "";

static const char *const level_names[] = {"error", "warn", "info", "debug"};

void cdc_log_setup(cdc_log_level_t level, cdc_log_format_t format,
                   const char *pipeline)
{
    log_level = level;
    log_format = format;
    log_pipeline = pipeline ? pipeline : "";
}

int cdc_log_level_parse(const char *name, cdc_log_level_t *out)
{
    for (int i = 0; i < 4; i++) {
        if (strcmp(name, level_names[i]) == 0) {
            *out = (cdc_log_level_t)i;
            return 0;
        }
    }
    return -1;
}

/* Writes s as the inside of a JSON or logfmt quoted string. */
static void log_put_quoted(FILE *out, const char *s)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') fprintf(out, "\\%c", c);
        else if (c == '\n') fputs("\\n", out);
        else if (c < 0x20) fprintf(out, "\\u%04x", c);
        else fputc(c, out);
    }
}

void cdc_log(cdc_log_level_t level, const char *fmt, ...)
{
    if (level > log_level) return;
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);

    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    struct tm tm;
    gmtime_r(&now.tv_sec, &tm);
    char ts[40];
    size_t n = strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(ts + n, sizeof ts - n, ".%03ldZ", now.tv_nsec / 1000000);

    /* One fprintf-sized write per line under stdio's own lock keeps lines
     * from different threads whole. */
    flockfile(stderr);
    if (log_format == CDC_LOG_FORMAT_JSON) {
        fprintf(stderr, "{\"ts\":\"%s\",\"level\":\"%s\",\"pipeline\":\"", ts,
                level_names[level]);
        log_put_quoted(stderr, log_pipeline);
        fputs("\",\"msg\":\"", stderr);
        log_put_quoted(stderr, msg);
        fputs("\"}\n", stderr);
    } else {
        fprintf(stderr, "ts=%s level=%s pipeline=\"", ts, level_names[level]);
        log_put_quoted(stderr, log_pipeline);
        fputs("\" msg=\"", stderr);
        log_put_quoted(stderr, msg);
        fputs("\"\n", stderr);
    }
    funlockfile(stderr);
}
