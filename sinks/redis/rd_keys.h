/* rd_keys — the configuration keys of the redis sink.
 *
 * The ops (redis.c) carry this table; the parser accepts these keys only
 * with `sink = redis`, and docs/configuration.md lists them under "Keys of
 * the redis sink". */
#ifndef CDC_RD_KEYS_H
#define CDC_RD_KEYS_H

#include <stddef.h>

#include "configkey.h"

/* Spelled out for the ops' static initialiser; a table of another length
 * does not compile. */
#define CDC_RD_KEY_COUNT 8
extern const cdc_configkey_t cdc_rd_keys[CDC_RD_KEY_COUNT];

#endif
