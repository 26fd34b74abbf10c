/* es_json — spans of raw JSON text in the engine's answers.
 *
 * Stored documents are copied into the documents cdcsink writes byte for
 * byte: a value parsed and printed again would change (0.1 printed as
 * 0.10000000000000001, and libbson reads {"$date": …} and other MongoDB
 * extended-JSON forms inside a JSON column as something else). So the
 * `_mget` answer is only scanned: where each `_source` starts and ends,
 * and where each of its members' values does. The scanner checks
 * structure (strings, numbers, literals, nesting up to 512 levels), not
 * every detail of the grammar: the engine wrote the text. */
#ifndef CDC_ES_JSON_H
#define CDC_ES_JSON_H

#include <stdbool.h>
#include <stddef.h>

typedef struct cdc_es_span {
    const char *p;
    size_t len;
} cdc_es_span_t;

/* Walks the members of an object or the items of an array. */
typedef struct cdc_es_json_iter {
    const char *p, *end;
    bool object, failed;
} cdc_es_json_iter_t;

/* Starts on the object or array `value` (whitespace around allowed);
 * false when it is neither. */
bool cdc_es_json_begin(cdc_es_span_t value, cdc_es_json_iter_t *it);

/* The next member (key: the key's JSON text, quotes included) or item
 * (key NULL allowed); false at the end or on malformed text (it->failed). */
bool cdc_es_json_next(cdc_es_json_iter_t *it, cdc_es_span_t *key, cdc_es_span_t *value);

/* The value of the member whose key, as JSON text with its quotes, is
 * quoted_key; false when there is none. */
bool cdc_es_json_member(cdc_es_span_t object, const char *quoted_key, size_t quoted_len,
                        cdc_es_span_t *value);

#endif
