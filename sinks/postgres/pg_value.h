/* pg_value — a decoded value as PostgreSQL text input.
 *
 * Every value travels to PostgreSQL as text inside a text[] parameter and
 * is cast to the target column's type in SQL, so one statement shape
 * serves every type and arrays of arrays never meet unnest(). Values are
 * never part of the SQL text. */
#ifndef CDC_PG_VALUE_H
#define CDC_PG_VALUE_H

#include "buf.h"
#include "event.h"

/* Appends the text form of a non-NULL value. -1 for a type PostgreSQL
 * cannot take (the record is then rejected). */
int cdc_pg_value_text(const cdc_value_t *value, cdc_buf_t *out);

/* Appends one element to an array literal being built in `array` ("{" and
 * "}" are the caller's): NULL unquoted, text double-quoted and escaped. */
void cdc_pg_value_array_element(cdc_buf_t *array, const char *text,
                                size_t len, bool is_null);

#endif
