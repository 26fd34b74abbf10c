/* mask — secret values as they may be printed or logged.
 *
 * cdcsink never shows a secret: the printed configuration, log lines and
 * error messages show CDC_MASK instead. A URL keeps everything but its
 * passwords (in `user:password@` and in query parameters named like
 * *password*); a string that is not a URL (a libpq keyword/value string)
 * is masked whole. */
#ifndef CDC_MASK_H
#define CDC_MASK_H

#include <stddef.h>

/* What is shown in place of a secret. */
#define CDC_MASK "********"

/* `url` with its passwords masked (every `user:password@` of a comma list
 * of URLs, and query parameters whose name contains "password"), or
 * CDC_MASK for a string that is not a URL. Caller frees; NULL when out of
 * memory. */
char *cdc_mask_url(const char *url);

/* Replaces in text (a NUL-terminated string in a buffer of text_size
 * bytes) every password url holds, as written there and percent-decoded,
 * with CDC_MASK: for messages of libraries that quote parts of the URL
 * they were given (libpq: 'invalid percent-encoded token: "..."'). The
 * passwords are those cdc_mask_url masks; a string that is not a URL
 * changes nothing. Out of memory, text becomes CDC_MASK. */
void cdc_mask_in_text(char *text, size_t text_size, const char *url);

/* 1 when a librdkafka property of this name holds a secret: its name
 * contains password, secret, sasl.jaas or sasl.oauthbearer.config, or ends
 * in .pem or key. */
int cdc_mask_kafka_is_secret(const char *name);

#endif
