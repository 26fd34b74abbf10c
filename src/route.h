/* route — where a change goes: table, index or key names from templates.
 *
 * Templates take the placeholders of docs/configuration.md: ${topic}, ${source.db},
 * ${source.schema}, ${source.table}, and, where the sink allows it (Redis
 * keys), ${key}: the record key's column values in key order, as plain
 * text, joined by `:`; inside a value `\` becomes `\\` and `:` becomes
 * `\:`, so the parts can always be told apart; an empty value stays empty
 * and a NULL one is `\N`. Anything else in ${...} is an error found when
 * the template is checked at start-up, never per record. */
#ifndef CDC_ROUTE_H
#define CDC_ROUTE_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"
#include "event.h"

/* 0 when every placeholder in the template is known (${key} only when
 * allow_key); -1 with errstr. */
int cdc_route_check(const char *template_text, bool allow_key, char *errstr,
                    size_t errstr_size);

/* Appends the template filled from the event to buf; ${key} from the
 * event's record key. */
void cdc_route_format(const char *template_text, const cdc_event_t *event,
                      cdc_buf_t *buf);

/* The same with ${key} from the given key columns and values (a keyless
 * record's pk.fields: src/plan.h, cdc_change_t.key). */
void cdc_route_format_keyed(const char *template_text, const cdc_event_t *event,
                            const cdc_row_schema_t *key_schema,
                            const cdc_value_t *key, cdc_buf_t *buf);

/* The same with ${key} replaced by key_text as it is. */
void cdc_route_format_key_text(const char *template_text, const cdc_event_t *event,
                               const char *key_text, cdc_buf_t *buf);

/* What the filled template puts before and after ${key} (a Redis key
 * pattern, or a key read back into its ${key}): 0, or -1 when the
 * template does not hold ${key} exactly once (or out of memory). */
int cdc_route_key_affixes(const char *template_text, const cdc_event_t *event,
                          cdc_buf_t *prefix, cdc_buf_t *suffix);

/* Splits a ${key} text into its parts, undoing the escapes of
 * cdc_route_key_part: (*parts)[i] malloc'd, NULL for a NULL part (\N).
 * Returns how many, or -1 when out of memory. */
int cdc_route_key_split(const char *key_text, char ***parts);
void cdc_route_key_parts_free(char **parts, size_t n);

/* Appends what ${key} renders for these key columns and values (nothing
 * when key_schema or key is NULL). */
void cdc_route_key_text(const cdc_row_schema_t *key_schema, const cdc_value_t *key,
                        cdc_buf_t *buf);

/* Appends one key column's text (NULL: a NULL value) as ${key} renders it,
 * with the `:` before every column but the first (index 0): lets a reader
 * of a store's own key columns (`cdcsink verify`) name keys the same way. */
void cdc_route_key_part(cdc_buf_t *buf, size_t index, const char *text,
                        size_t len);

#endif
