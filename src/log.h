/* log — one line per event, to stderr.
 *
 * Every line carries a level and, where the caller has it, the context
 * the runbook asks for (pipeline, topic [partition] @offset). Secrets must never
 * be passed here: callers log names of keys, never their values. */
#ifndef CDC_LOG_H
#define CDC_LOG_H

#include <stdarg.h>

typedef enum cdc_log_level {
    CDC_LOG_ERROR = 0,
    CDC_LOG_WARN = 1,
    CDC_LOG_INFO = 2,
    CDC_LOG_DEBUG = 3
} cdc_log_level_t;

typedef enum cdc_log_format {
    CDC_LOG_FORMAT_LOGFMT = 0,
    CDC_LOG_FORMAT_JSON = 1
} cdc_log_format_t;

/* Process-wide settings; set once at start-up before any thread logs. */
void cdc_log_setup(cdc_log_level_t level, cdc_log_format_t format,
                   const char *pipeline);
/* Parses "error|warn|info|debug"; returns -1 on anything else. */
int cdc_log_level_parse(const char *name, cdc_log_level_t *out);

void cdc_log(cdc_log_level_t level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#define cdc_log_error(...) cdc_log(CDC_LOG_ERROR, __VA_ARGS__)
#define cdc_log_warn(...) cdc_log(CDC_LOG_WARN, __VA_ARGS__)
#define cdc_log_info(...) cdc_log(CDC_LOG_INFO, __VA_ARGS__)
#define cdc_log_debug(...) cdc_log(CDC_LOG_DEBUG, __VA_ARGS__)

#endif
