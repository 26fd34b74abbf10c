/* pg_keys — the configuration keys of the postgres sink.
 *
 * The ops (postgres.c) carry this table; the parser accepts these keys only
 * with `sink = postgres`, and docs/configuration.md lists them under "Keys
 * of the postgres sink". */
#ifndef CDC_PG_KEYS_H
#define CDC_PG_KEYS_H

#include <stddef.h>

#include "configkey.h"

/* The count is spelled out so the ops' static initialiser can use it; a
 * table of another length does not compile. */
#define CDC_PG_KEY_COUNT 9
extern const cdc_configkey_t cdc_pg_keys[CDC_PG_KEY_COUNT];

#endif
